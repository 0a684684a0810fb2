import numpy as np
import pytest
import torch
from torch import nn

from edgehdc import models
from edgehdc.data import load_digits, quantize_input
from edgehdc.finetune import evaluate, fit, to_nchw
from edgehdc.quant import ptq
from edgehdc.quant.arith import lower
from edgehdc.quant.ir import Activation, OpKind, Padding
from edgehdc.quant.ptq import choose_quant_params, quantize


def _random_bn_model(seed=0, num_classes=10):
    """An untrained TinyCNN with non-trivial BatchNorm statistics, so folding matters."""
    torch.manual_seed(seed)
    net = models.create("tinycnn", num_classes=num_classes)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.2, 3.0)
            m.weight.data.uniform_(0.5, 2.0)
            m.bias.data.uniform_(-0.3, 0.3)
    return net.eval()


def _images(n=64, size=16, seed=0):
    return np.random.default_rng(seed).random((n, size, size, 1), dtype=np.float32)


@pytest.mark.parametrize("rmin,rmax,scale,zp", [
    (-32.0, 31.75, 0.25, 0),      # exact: zero point from either end is 0
    (-8.0, 55.75, 0.25, -96),     # -128 + 8 / 0.25
    (0.5, 63.75, 0.25, -128),     # widened to include 0
    (-63.75, -1.0, 0.25, 127),
    (0.0, 0.0, 1.0, 0),           # all zero: any scale
])
def test_choose_quant_params(rmin, rmax, scale, zp):
    q = choose_quant_params(rmin, rmax)
    assert q.scale.dtype == np.float32 and q.scale[0] == np.float32(scale)
    assert q.zero_point[0] == zp


def test_choose_quant_params_keeps_zero_exact_and_covers_range():
    rng = np.random.default_rng(1)
    for lo, hi in rng.normal(0, 3, (200, 2)):
        lo, hi = min(lo, hi), max(lo, hi)
        q = choose_quant_params(lo, hi)
        s, z = float(q.scale[0]), int(q.zero_point[0])
        assert -128 <= z <= 127
        # Nudging moves the grid by at most one step.
        assert s * (-128 - z) <= min(lo, 0) + s and s * (127 - z) >= max(hi, 0) - s
    with pytest.raises(ValueError):
        choose_quant_params(1.0, -1.0)
    with pytest.raises(ValueError):
        choose_quant_params(float("nan"), 1.0)


def test_folded_float_model_matches_pytorch():
    net = _random_bn_model()
    layers, emb_index = ptq._fold(net)
    x = torch.from_numpy(_images(8)).permute(0, 3, 1, 2)
    outs = ptq._forward(layers, x)
    with torch.no_grad():
        torch.testing.assert_close(outs[emb_index].float(), net.forward_features(x), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(outs[-1].float(), net(x), atol=1e-5, rtol=1e-5)


def test_graph_structure_layouts_and_quantization():
    net = _random_bn_model()
    g = quantize(net, _images())
    kinds = [op.kind for op in g.ops]
    assert kinds == [OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D,
                     OpKind.CONV_2D, OpKind.AVERAGE_POOL_2D, OpKind.FULLY_CONNECTED, OpKind.FULLY_CONNECTED]
    inp = g.tensors[g.inputs[0]]
    assert inp.shape == (1, 16, 16, 1) and inp.dtype == "int8"
    assert inp.quant.scale[0] == np.float32(1 / 255) and inp.quant.zero_point[0] == -128
    assert [g.tensors[i].shape for i in g.outputs] == [(1, 32), (1, 10)]
    assert g.ops[-1].inputs[0] == g.outputs[0], "the head reads the embedding tensor"
    shapes = [g.tensors[op.outputs[0]].shape for op in g.ops[:6]]
    assert shapes == [(1, 16, 16, 16), (1, 8, 8, 16), (1, 8, 8, 32), (1, 4, 4, 32), (1, 4, 4, 64), (1, 1, 1, 64)]
    w_shapes = [g.tensors[op.inputs[1]].shape for op in g.ops if len(op.inputs) == 3]
    assert w_shapes == [(16, 3, 3, 1), (1, 3, 3, 16), (32, 1, 1, 16), (1, 3, 3, 32), (64, 1, 1, 32), (32, 64), (10, 32)]
    for op in g.ops:
        out = g.tensors[op.outputs[0]]
        assert out.dtype == "int8" and out.quant.scale.dtype == np.float32
        lower(g, op)  # the integer parameters derive without complaint
        if op.kind == OpKind.AVERAGE_POOL_2D:
            assert op.options.filter == (4, 4) and op.options.padding == Padding.VALID
            assert out.quant is g.tensors[op.inputs[0]].quant
            continue
        w, b = g.tensors[op.inputs[1]], g.tensors[op.inputs[2]]
        assert w.data.dtype == np.int8 and np.abs(w.data.astype(int)).max() == 127
        assert w.data.min() >= -127 and np.all(w.quant.zero_point == 0)
        assert b.data.dtype == np.int32 and b.quant.scale.dtype == np.float32
        np.testing.assert_allclose(b.quant.scale, g.tensors[op.inputs[0]].quant.scale[0] * w.quant.scale, rtol=1e-6)
        if op.kind == OpKind.FULLY_CONNECTED:
            assert w.quant.scale.size == 1 and op.options.activation == Activation.NONE
        else:
            assert w.quant.scale.size == w.shape[w.quant.axis]
            assert w.quant.axis == (3 if op.kind == OpKind.DEPTHWISE_CONV_2D else 0)
            assert op.options.padding == Padding.SAME and op.options.activation == Activation.RELU
            assert out.quant.zero_point[0] == -128, "ReLU output range starts at 0"


def test_weights_and_biases_dequantize_to_the_folded_model():
    net = _random_bn_model()
    g = quantize(net, _images())
    layers, _ = ptq._fold(net)
    weighted = [op for op in g.ops if len(op.inputs) == 3]
    for layer, op in zip([l for l in layers if l.weight is not None], weighted):
        w, b = g.tensors[op.inputs[1]], g.tensors[op.inputs[2]]
        ref = layer.weight
        if op.kind == OpKind.CONV_2D:
            ref = ref.transpose(0, 2, 3, 1)
        elif op.kind == OpKind.DEPTHWISE_CONV_2D:
            ref = ref.transpose(1, 2, 3, 0)
        shape = [1] * ref.ndim
        shape[w.quant.axis] = -1
        scale = w.quant.scale.astype(np.float64).reshape(shape) if w.quant.per_channel else float(w.quant.scale[0])
        assert np.all(np.abs(w.data * scale - ref) <= scale / 2 + 1e-12)
        assert np.all(np.abs(b.data * b.quant.scale.astype(np.float64) - layer.bias) <= b.quant.scale / 2 + 1e-12)


def test_all_zero_channel_gets_a_safe_scale():
    net = _random_bn_model()
    net.features[0].bn.weight.data[3] = 0.0  # folds channel 3's weights to zero
    g = quantize(net, _images())
    w = g.tensors[g.ops[0].inputs[1]]
    assert w.quant.scale[3] == 1.0 and not w.data[3].any()
    lower(g, g.ops[0])


def test_quantize_leaves_the_model_unchanged():
    net = _random_bn_model().train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    quantize(net, _images())
    assert net.training
    for k, v in net.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)


def test_quantize_rejects_bad_input():
    net = _random_bn_model()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        quantize(net, _images() * 2)
    with pytest.raises(ValueError, match="NHWC"):
        quantize(net, _images()[..., 0])
    with pytest.raises(ValueError, match="method"):
        quantize(net, _images(), method="entropy")
    flat = _random_bn_model()
    flat.features = nn.Sequential(*list(flat.features)[:5], nn.Flatten(), nn.Linear(64 * 16, 32))
    with pytest.raises(ValueError, match="4x4 feature map"):
        quantize(flat, _images())
    net.features[2] = nn.Conv2d(16, 32, 1)
    with pytest.raises(ValueError, match="features.2: Conv2d"):
        quantize(net, _images())
    with pytest.raises(ValueError, match="features"):
        quantize(nn.Linear(3, 3), _images())


@pytest.fixture(scope="module")
def trained():
    split = load_digits()
    torch.manual_seed(0)
    net = models.create("tinycnn", num_classes=split.num_classes)
    fit(net, split, epochs=20, seed=0, progress=False)
    return split, net


@pytest.mark.slow
def test_int8_model_keeps_float_accuracy(trained):
    from edgehdc.kernels.interpreter import run

    split, net = trained
    acc_float = evaluate(net, split.x_test, split.y_test)
    assert acc_float >= 0.97
    g = quantize(net, split.x_train)
    inq = g.tensors[g.inputs[0]].quant
    xq = quantize_input(split.x_test, float(inq.scale[0]), int(inq.zero_point[0]))
    emb_q, logits_q = (o.reshape(len(xq), -1) for o in run(g, xq))
    acc_int8 = float((logits_q.argmax(1) == split.y_test).mean())
    assert acc_int8 >= acc_float - 0.015, (acc_float, acc_int8)

    with torch.no_grad():
        x = to_nchw(split.x_test)
        emb_f, logits_f = net.forward_features(x).numpy(), net(x).numpy()
    assert (logits_q.argmax(1) == logits_f.argmax(1)).mean() >= 0.97
    eq = g.tensors[g.outputs[0]].quant
    emb_deq = (emb_q.astype(np.float64) - eq.zero_point[0]) * eq.scale[0]
    err_lsb = np.abs(emb_deq - emb_f) / eq.scale[0]
    assert err_lsb.mean() <= 1.5, err_lsb.mean()
    assert (np.sign(emb_deq) == np.sign(emb_f)).mean() >= 0.95


@pytest.mark.slow
def test_trained_graph_is_bit_exact_with_tflm(trained):
    from edgehdc.kernels.interpreter import run
    from edgehdc.quant.tflite_io import to_tflite
    from edgehdc.quant.tflm import TflmOracle

    split, net = trained
    g = quantize(net, split.x_train)
    xq = quantize_input(split.x_test[:40], 1 / 255, -128)
    oracle = TflmOracle(to_tflite(g))
    expected = [np.concatenate(o) for o in zip(*(oracle.run(xq[i:i + 1]) for i in range(len(xq))))]
    for e, a in zip(expected, run(g, xq)):
        np.testing.assert_array_equal(a, e.reshape(a.shape))
