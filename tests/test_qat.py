import copy

import numpy as np
import pytest
import torch
from torch import nn

from edgehdc import models
from edgehdc.data import load_digits, quantize_input
from edgehdc.finetune import evaluate, fit, to_nchw
from edgehdc.kernels.interpreter import run
from edgehdc.quant.accuracy import int8_accuracy, int8_logits
from edgehdc.quant.ir import OpKind
from edgehdc.quant.ptq import calibrate, fold_conv_bn, quantize
from edgehdc.quant.qat import QATModel, fake_quantize, fake_quantize_weight, qat_finetune, round_half_away_ste


def _random_bn_model(seed=0):
    """An untrained TinyCNN with non-trivial BatchNorm statistics, so folding matters."""
    torch.manual_seed(seed)
    net = models.create("tinycnn", num_classes=10)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.2, 3.0)
            m.weight.data.uniform_(0.5, 2.0)
    return net.eval()


def _images(n=64, seed=0):
    return np.random.default_rng(seed).random((n, 16, 16, 1), dtype=np.float32)


def _nhwc(t: torch.Tensor) -> np.ndarray:
    return (t.permute(0, 2, 3, 1) if t.dim() == 4 else t).numpy()


def test_round_half_away_with_straight_through_gradient():
    x = torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, np.nextafter(0.5, 0), -0.49], requires_grad=True)
    y = round_half_away_ste(x)
    assert y.tolist() == [-3, -2, -1, 1, 2, 3, 0, 0]
    y.sum().backward()
    assert x.grad.tolist() == [1.0] * 8


@pytest.mark.parametrize("per_channel", [True, False])
def test_fake_quantized_weights_are_the_exported_weights(per_channel):
    net = _random_bn_model()
    g = quantize(net, _images(), per_channel=per_channel)
    qat = QATModel(net, _images(), per_channel=per_channel)
    convs = [l for l in qat.layers if l.kind in (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D)]
    ops = [op for op in g.ops if op.kind in (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D)]
    for layer, op in zip(convs, ops):
        wq, scale = fake_quantize_weight(fold_conv_bn(layer.module, torch.float64)[0], per_channel)
        w = g.tensors[op.inputs[1]]
        ref = w.data.astype(np.float64) * w.quant.scale.astype(np.float64).reshape(
            [-1 if d == w.quant.axis and per_channel else 1 for d in range(4)])
        got = wq.detach().numpy()
        got = got.transpose(0, 2, 3, 1) if op.kind == OpKind.CONV_2D else got.transpose(1, 2, 3, 0)
        np.testing.assert_array_equal(got, ref)
        np.testing.assert_array_equal(scale.numpy(), w.quant.scale)


def test_fake_quant_ops_predict_the_int8_kernels():
    net = _random_bn_model()
    x = load_digits().x_test[:100]
    qat = QATModel(net, _images(200)).eval()
    g = qat.to_graph()
    values = run(g, quantize_input(x, 1 / 255, -128), keep_all=True)
    for layer, op in zip(qat.layers, g.ops):
        if op.kind == OpKind.AVERAGE_POOL_2D:
            continue
        src, dst = g.tensors[op.inputs[0]].quant, g.tensors[op.outputs[0]].quant
        xin = (values[op.inputs[0]].astype(np.float64) - src.zero_point[0]) * float(src.scale[0])
        xin = torch.from_numpy(xin).permute(0, 3, 1, 2) if xin.ndim == 4 else torch.from_numpy(xin)
        with torch.no_grad():
            y = fake_quantize(qat._weighted(layer, xin, float(src.scale[0])), float(dst.scale[0]),
                              int(dst.zero_point[0]))
        q = np.round(_nhwc(y) / dst.scale[0]) + dst.zero_point[0]
        diff = q.reshape(values[op.outputs[0]].shape) - values[op.outputs[0]]
        # Same int8 input: only the fixed-point multiplier's rounding may differ, by one step, rarely.
        assert np.abs(diff).max() <= 1 and (diff != 0).mean() <= 0.005, (op.kind, (diff != 0).mean())


def test_fake_quant_forward_tracks_the_int8_graph():
    net = _random_bn_model()
    x = load_digits().x_test[:100]
    qat = QATModel(net, _images(200)).eval()
    g = qat.to_graph()
    emb, logits = run(g, quantize_input(x, 1 / 255, -128))
    with torch.no_grad():
        fq = qat(to_nchw(x)).numpy()
    lq = g.tensors[g.outputs[1]].quant
    assert np.abs(np.round(fq / lq.scale[0]) + lq.zero_point[0] - logits).max() <= 2
    assert (fq.argmax(1) == logits.argmax(1)).mean() >= 0.99


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="ema_decay"):
        QATModel(_random_bn_model(), _images(), ema_decay=1.0)
    with pytest.raises(ValueError, match="unknown calibration method"):
        QATModel(_random_bn_model(), _images(), "entropy")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        QATModel(_random_bn_model(), _images() * 3)


@pytest.fixture(scope="module")
def finetuned():
    split = load_digits()
    torch.manual_seed(0)
    net = models.create("tinycnn", num_classes=split.num_classes)
    fit(net, split, epochs=12, seed=0, progress=False)
    before = copy.deepcopy(net)
    ranges = calibrate(net, split.x_train, "mse")
    qat = qat_finetune(net, split, "mse", epochs=3, lr=1e-3)
    return split, before, ranges, qat


@pytest.mark.slow
def test_qat_trains_the_model_and_its_ranges(finetuned):
    split, before, ranges, qat = finetuned
    assert not qat.training, "returned ready for evaluation"
    changed = [not torch.equal(a, b) for a, b in zip(before.parameters(), qat.model.parameters())]
    assert all(changed)
    assert not np.allclose(qat.ranges.numpy(), np.array(ranges)), "EMA moved the calibrated ranges"
    frozen = qat.ranges.clone()
    with torch.no_grad():
        qat(to_nchw(split.x_test[:32]))
    assert torch.equal(qat.ranges, frozen), "evaluation does not move the ranges"


@pytest.mark.slow
def test_qat_graph_agrees_with_fake_quant_forward(finetuned):
    split, before, _, qat = finetuned
    g = qat.to_graph()
    logits = int8_logits(g, split.x_test)
    with torch.no_grad():
        fq = qat(to_nchw(split.x_test)).numpy()
    assert (logits.argmax(1) == fq.argmax(1)).mean() >= 0.99
    lq = g.tensors[g.outputs[1]].quant
    steps = np.abs(np.round(fq / lq.scale[0]) + lq.zero_point[0] - logits)
    assert (steps <= 1).mean() >= 0.99, "one-step differences from the multiplier's rounding, propagated"
    acc_float = evaluate(before, split.x_test, split.y_test)
    assert int8_accuracy(g, split.x_test, split.y_test) >= acc_float - 0.015


@pytest.mark.slow
def test_per_tensor_qat_exports_per_tensor_weights(finetuned):
    split, _, _, qat = finetuned
    pt = QATModel(qat.model, split.x_train[:64], per_channel=False, ema_decay=None)
    g = pt.to_graph()
    for op in g.ops:
        if op.kind in (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D):
            assert g.tensors[op.inputs[1]].quant.scale.size == 1
    pt.train()
    pt(to_nchw(split.x_train[:8]))
    assert torch.equal(pt.ranges, torch.tensor(calibrate(qat.model, split.x_train[:64]), dtype=torch.float64))
