"""The firmware runtime runs whole exported models on the host exactly as the Numba mirror does.

Each graph goes through the real export (`write_firmware_sources`, arena plan included), is
compiled into the bindings library with `bindings/ehd_host_model.c`, and every output tensor
is compared with `edgehdc.kernels.interpreter` bit for bit (float32 outputs by their bits).
"""

import numpy as np
import pytest

import edgehdc_bindings as fw
from edgehdc.export.arena import plan_arena
from edgehdc.export.firmware import UnrunnableModelError, write_firmware_sources
from edgehdc.kernels.interpreter import Interpreter
from edgehdc.quant.ir import (
    Activation,
    AddOptions,
    Conv2DOptions,
    DepthwiseConv2DOptions,
    FullyConnectedOptions,
    Graph,
    MeanOptions,
    Op,
    OpKind,
    Padding,
    Pool2DOptions,
    QuantParams,
    SoftmaxOptions,
    Tensor,
)
from edgehdc.quant.tflite_io import from_tflite, to_tflite

MODEL_ID = bytes(range(8))


def q(rng, zp=None):
    return QuantParams.per_tensor(float(rng.uniform(0.01, 0.1)), int(rng.integers(-20, 20) if zp is None else zp))


def channel_q(scales, axis=0):
    scales = np.asarray(scales, np.float32)
    return QuantParams(scales, np.zeros(scales.size, np.int64), axis)


class Builder:
    """A graph written op by op: `act` adds an activation tensor, `op` an op reading tensors."""

    def __init__(self, rng, shape, dtype="int8"):
        self.rng, self.g = rng, Graph()
        self.x = self.act(shape, dtype)
        self.g.inputs = [self.x]

    def act(self, shape, dtype="int8", quant=None):
        quant = None if dtype == "float32" else (quant or q(self.rng))
        return self.g.add_tensor(Tensor(f"t{len(self.g.tensors)}", tuple(shape), dtype, quant))

    def const(self, data, dtype, quant=None):
        return self.g.add_tensor(Tensor(f"c{len(self.g.tensors)}", data.shape, dtype, quant, data))

    def op(self, kind, inputs, shape, options=None, dtype="int8", quant=None):
        y = self.act(shape, dtype, quant)
        self.g.add_op(Op(kind, list(inputs), [y], options))
        return y

    def conv(self, x, cout, k, stride, padding, act=Activation.NONE, depthwise=False):
        n, h, w, cin = self.g.tensors[x].shape
        s_in = float(self.g.tensors[x].quant.scale[0])
        oh, ow = _out(h, k, stride, padding), _out(w, k, stride, padding)
        scales = self.rng.uniform(0.002, 0.01, cout)
        if depthwise:
            weights = self.rng.integers(-127, 128, (1, k, k, cout)).astype(np.int8)
            wq, options = channel_q(scales, 3), DepthwiseConv2DOptions((stride, stride), padding, act, (1, 1), cout // cin)
            kind = OpKind.DEPTHWISE_CONV_2D
        else:
            weights = self.rng.integers(-127, 128, (cout, k, k, cin)).astype(np.int8)
            wq, options, kind = channel_q(scales), Conv2DOptions((stride, stride), padding, act), OpKind.CONV_2D
        bias = self.const(self.rng.integers(-3000, 3000, cout).astype(np.int32), "int32", channel_q(s_in * scales))
        return self.op(kind, [x, self.const(weights, "int8", wq), bias], (n, oh, ow, cout), options)

    def fc(self, x, out, per_channel=True, act=Activation.NONE):
        shape = self.g.tensors[x].shape
        n_in = int(np.prod(shape[1:]))
        scales = self.rng.uniform(0.002, 0.01, out if per_channel else 1)
        weights = self.const(self.rng.integers(-127, 128, (out, n_in)).astype(np.int8), "int8", channel_q(scales))
        s_in = float(self.g.tensors[x].quant.scale[0])
        bias = self.const(self.rng.integers(-3000, 3000, out).astype(np.int32), "int32", channel_q(s_in * scales))
        return self.op(OpKind.FULLY_CONNECTED, [x, weights, bias], (shape[0], out), FullyConnectedOptions(act))


def _out(size, k, stride, padding):
    return -(-size // stride) if padding is Padding.SAME else (size - k) // stride + 1


def random_shape(rng, rank, high=7):
    return tuple(int(v) for v in rng.integers(1, high, rank))


def graph_of(kind, rng) -> Graph:
    """A small random graph around one op kind."""
    b = Builder(rng, (1, *random_shape(rng, 3, 9)) if kind in _SPATIAL else random_shape(rng, int(rng.integers(2, 5))),
                "float32" if kind is OpKind.QUANTIZE and rng.random() < 0.5 else "int8")
    x, shape, act = b.x, b.g.tensors[b.x].shape, list(Activation)[int(rng.integers(3))]
    if kind in (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D):
        k, stride, pad = int(rng.integers(1, 4)), int(rng.integers(1, 3)), list(Padding)[int(rng.integers(2))]
        k = min(k, shape[1], shape[2]) if pad is Padding.VALID else k
        cout = shape[3] * int(rng.integers(1, 3)) if kind is OpKind.DEPTHWISE_CONV_2D else int(rng.integers(1, 9))
        y = b.conv(x, cout, k, stride, pad, act, depthwise=kind is OpKind.DEPTHWISE_CONV_2D)
    elif kind is OpKind.FULLY_CONNECTED:
        y = b.fc(x, int(rng.integers(1, 12)), per_channel=bool(rng.random() < 0.7), act=act)
    elif kind in (OpKind.AVERAGE_POOL_2D, OpKind.MAX_POOL_2D):
        f, stride, pad = int(rng.integers(1, 4)), int(rng.integers(1, 3)), list(Padding)[int(rng.integers(2))]
        f = min(f, shape[1], shape[2])
        quant = b.g.tensors[x].quant
        y = b.op(kind, [x], (1, _out(shape[1], f, stride, pad), _out(shape[2], f, stride, pad), shape[3]),
                 Pool2DOptions((f, f), (stride, stride), pad, act), quant=quant)
    elif kind is OpKind.ADD:
        other = tuple(d if rng.random() < 0.6 else 1 for d in shape)
        if rng.random() < 0.5:
            c = b.const(rng.integers(-128, 128, other).astype(np.int8), "int8", q(rng))
        else:  # a second activation of the broadcast shape, from the input through MEAN or itself
            c = b.op(OpKind.RELU, [x], shape) if other == shape else x
        y = b.op(OpKind.ADD, [x, c] if rng.random() < 0.5 else [c, x], shape, AddOptions(act))
    elif kind is OpKind.MEAN:
        keep = bool(rng.random() < 0.5)
        axis = b.const(np.array([1, 2], np.int32), "int32")
        y = b.op(OpKind.MEAN, [x, axis], (1, 1, 1, shape[3]) if keep else (1, shape[3]), MeanOptions(keep))
    elif kind is OpKind.PAD:
        pads = rng.integers(0, 3, (len(shape), 2)).astype(np.int32)
        pads[0] = 0  # the batch
        quant = b.g.tensors[x].quant
        y = b.op(OpKind.PAD, [x, b.const(pads, "int32")], tuple(np.add(shape, pads.sum(1))), quant=quant)
    elif kind is OpKind.SOFTMAX:
        y = b.op(OpKind.SOFTMAX, [x], shape, SoftmaxOptions(float(rng.uniform(0.5, 2))),
                 quant=QuantParams.per_tensor(1 / 256, -128))
    elif kind in (OpKind.RELU, OpKind.RELU6, OpKind.QUANTIZE):
        y = b.op(kind, [x], shape)
    elif kind is OpKind.DEQUANTIZE:
        y = b.op(kind, [x], shape, dtype="float32")
    b.g.outputs = [y]
    return b.g


_SPATIAL = {OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.AVERAGE_POOL_2D, OpKind.MAX_POOL_2D, OpKind.MEAN}
_OPS = [k for k in OpKind if k is not OpKind.RESHAPE]


def compile_model(g: Graph, folder, encoder=None, classifier=None) -> fw.FirmwareModel:
    source = write_firmware_sources(g, encoder, classifier, folder, MODEL_ID)[1]
    return fw.FirmwareModel(fw.build_library([source], [folder]))


def sample(rng, g: Graph) -> np.ndarray:
    t = g.tensors[g.inputs[0]]
    if t.dtype == "float32":
        return rng.uniform(-3, 3, t.shape).astype(np.float32)
    return rng.integers(-128, 128, t.shape).astype(np.int8)


def assert_runs_like_mirror(g: Graph, folder, n=4, seed=0):
    device, mirror, rng = compile_model(g, folder), Interpreter(g), np.random.default_rng(seed)
    for _ in range(n):
        x = sample(rng, g)
        got, expected = device.run(x), mirror.run(x)
        assert len(got) == len(expected) == len(g.outputs)
        for a, e in zip(got, expected):
            assert a.dtype == e.dtype and a.size == e.size
            np.testing.assert_array_equal(a.reshape(-1).view(np.uint8), np.ascontiguousarray(e).reshape(-1).view(np.uint8))
    return device


@pytest.mark.parametrize("kind", _OPS, ids=lambda k: k.value)
def test_every_op_runs_like_the_mirror(kind, tmp_path):
    for seed in range(2):
        g = graph_of(kind, np.random.default_rng([seed, _OPS.index(kind)]))
        assert_runs_like_mirror(g, tmp_path / str(seed), seed=seed)


def resnet_block(rng) -> Graph:
    """conv -> (conv, RESHAPE round trip) -> ADD with the skip -> MEAN -> FC -> SOFTMAX, two outputs."""
    b = Builder(rng, (1, 8, 8, 3))
    a = b.conv(b.x, 6, 3, 1, Padding.SAME, Activation.RELU)
    c = b.conv(a, 6, 3, 1, Padding.SAME)
    flat = b.op(OpKind.RESHAPE, [c, b.const(np.array([1, 384], np.int32), "int32")], (1, 384),
                quant=b.g.tensors[c].quant)
    back = b.op(OpKind.RESHAPE, [flat, b.const(np.array([1, 8, 8, 6], np.int32), "int32")], (1, 8, 8, 6),
                quant=b.g.tensors[c].quant)
    s = b.op(OpKind.ADD, [back, a], (1, 8, 8, 6), AddOptions(Activation.RELU))
    m = b.op(OpKind.MEAN, [s, b.const(np.array([1, 2], np.int32), "int32")], (1, 6), MeanOptions(False))
    logits = b.fc(m, 5)
    probs = b.op(OpKind.SOFTMAX, [logits], (1, 5), SoftmaxOptions(1.0), quant=QuantParams.per_tensor(1 / 256, -128))
    b.g.outputs = [m, probs]
    return b.g


def test_multi_output_model_with_reshape_aliases_and_in_place_add(tmp_path):
    g = resnet_block(np.random.default_rng(3))
    plan = plan_arena(g)
    add = next(op for op in g.ops if op.kind is OpKind.ADD)
    reshapes = [op for op in g.ops if op.kind is OpKind.RESHAPE]
    # RESHAPE outputs are their input's bytes; ADD writes over the dead reshaped conv output.
    for op in reshapes:
        assert plan.offsets[op.outputs[0]] == plan.offsets[op.inputs[0]]
    assert plan.offsets[add.outputs[0]] == plan.offsets[add.inputs[0]]
    device = assert_runs_like_mirror(g, tmp_path, n=5)
    assert [shape for shape, _ in device.outputs] == [(1, 1, 1, 6), (1, 1, 1, 5)]
    assert device.model.n_layers == len(g.ops) - len(reshapes)


def float_io_model(rng) -> Graph:
    """float32 in -> QUANTIZE -> conv -> FC -> DEQUANTIZE -> float32 out, through a .tflite file."""
    b = Builder(rng, (1, 6, 6, 2), "float32")
    x8 = b.op(OpKind.QUANTIZE, [b.x], (1, 6, 6, 2), quant=QuantParams.per_tensor(0.03, 4))
    h = b.conv(x8, 4, 3, 2, Padding.SAME, Activation.RELU6)
    logits = b.fc(h, 3)
    out = b.op(OpKind.DEQUANTIZE, [logits], (1, 3), dtype="float32")
    b.g.outputs = [out, logits]
    return from_tflite(to_tflite(b.g))


def test_float_io_model_from_a_tflite_file(tmp_path):
    g = float_io_model(np.random.default_rng(4))
    device = assert_runs_like_mirror(g, tmp_path, n=5)
    assert device.input_dtype is np.float32 and device.outputs[0][1] is np.float32
    with pytest.raises(ValueError, match="float32"):
        device.run(np.zeros((1, 6, 6, 2), np.int8))


def test_a_plain_model_has_no_hdc_head(tmp_path):
    device = compile_model(graph_of(OpKind.RELU, np.random.default_rng(0)), tmp_path)
    assert not device.has_hdc and device.n_classes == 0
    with pytest.raises(ValueError, match="no HDC head"):
        device.invoke(np.zeros(device.input_shape, np.int8))


def test_unrunnable_configurations_are_refused_at_export_naming_the_op(tmp_path):
    rng = np.random.default_rng(0)
    b = Builder(rng, (1, 4, 4, 3))
    r = b.op(OpKind.RELU, [b.x], (1, 4, 4, 3))
    c = b.const(rng.integers(-128, 128, (1, 4, 4, 3)).astype(np.int8), "int8", q(rng))
    y = b.op(OpKind.RELU, [c], (1, 4, 4, 3))  # a constant data operand outside ADD
    b.g.outputs = [r, y]
    with pytest.raises(UnrunnableModelError, match=r"op 1 \(RELU\).*constant"):
        write_firmware_sources(b.g, None, None, tmp_path, MODEL_ID)

    b = Builder(rng, (1, 4, 4, 3))
    f = b.op(OpKind.DEQUANTIZE, [b.x], (1, 4, 4, 3), dtype="float32")
    b.g.outputs = [b.op(OpKind.RELU, [f], (1, 4, 4, 3))]  # float32 into an int8 op
    with pytest.raises(UnrunnableModelError, match=r"op 1 \(RELU\).*float32"):
        write_firmware_sources(b.g, None, None, tmp_path, MODEL_ID)

    b = Builder(rng, (2, 1, 1, 1, 3))
    b.g.outputs = [b.op(OpKind.RELU, [b.x], (2, 1, 1, 1, 3))]
    with pytest.raises(UnrunnableModelError, match="rank 5"):
        write_firmware_sources(b.g, None, None, tmp_path, MODEL_ID)
    assert not (tmp_path / "ehd_generated.c").exists()  # nothing half-written


# --- the runtime's own checks on a layer table built by hand (ctypes) ------------------------


def relu_table(in_offset=0, out_offset=0, n=16):
    """One RELU layer over tensors 0 -> 1 of n int8 values; returns (model, keepalive)."""
    import ctypes as C

    from edgehdc_bindings import structs as S

    params = S.RescaleParams(3, -5, 1 << 30, 1, -128, 127)
    tensors = (S.Tensor * 2)(S.Tensor(in_offset, S.Dims(1, 1, 1, n), 3), S.Tensor(out_offset, S.Dims(1, 1, 1, n), -5))
    layers = (S.Layer * 1)(S.Layer(int(S.Op.RELU), (C.c_uint16 * 2)(0, S.NO_TENSOR), (C.c_uint16 * 1)(1),
                                   C.addressof(params)))
    outputs = (C.c_uint16 * 1)(1)
    model = S.Model(layers, 1, tensors, 2, 0, S.NO_TENSOR, 64, (C.c_uint8 * 8)(), outputs, 1)
    return model, [params, tensors, layers, outputs]


def invoke_table(model, arena):
    import ctypes as C

    from edgehdc_bindings import structs as S

    return fw.default_library().ehd_model_invoke(C.byref(model), S.ptr(arena, C.c_int8))


def test_runtime_runs_in_place_and_refuses_what_it_cannot_run():
    import ctypes as C

    from edgehdc_bindings import structs as S

    x = np.arange(-8, 8, dtype=np.int8) * 9
    model, _keep = relu_table(out_offset=32)
    arena = np.zeros(64, np.int8)
    arena[:16] = x
    assert invoke_table(model, arena) == S.Status.OK
    expected = arena[32:48].copy()
    model, _keep = relu_table(0, 0)  # in place: the output is the input's bytes
    arena[:16] = x
    assert invoke_table(model, arena) == S.Status.OK
    np.testing.assert_array_equal(arena[:16], expected)

    model, _keep = relu_table(0, 4)  # overlapping, not the same bytes
    assert invoke_table(model, arena) == S.Status.ERR_ARENA
    model, _keep = relu_table(0, 32)
    const = np.zeros(16, np.int8)
    model.tensors[1].data = const.ctypes.data  # a layer cannot write a constant
    assert invoke_table(model, arena) == S.Status.ERR_ARG
    model, _keep = relu_table(0, 64)
    model.arena_size = 128
    model.tensors[0].dtype = S.Dtype.FLOAT32  # RELU reads int8 only
    assert invoke_table(model, np.zeros(128, np.int8)) == S.Status.ERR_UNSUPPORTED
    model, _keep = relu_table(0, 32)
    model.layers[0].scratch_offset, model.layers[0].scratch_bytes = 60, 8  # scratch leaves the arena
    assert invoke_table(model, arena) == S.Status.ERR_ARG
    model, _keep = relu_table(0, 32)
    model.layers[0].op = int(S.Op.ADD)  # ADD without its second input
    assert invoke_table(model, arena) == S.Status.ERR_ARG
    model, _keep = relu_table(0, 0)
    lib = fw.default_library()
    lib.ehd_model_tensor_bytes.restype = C.c_uint32
    lib.ehd_model_tensor_bytes.argtypes = [C.POINTER(S.Model), C.c_uint16]
    model.tensors[1].dtype = S.Dtype.FLOAT32
    assert lib.ehd_model_tensor_bytes(C.byref(model), 1) == 64  # 16 float32 values
    assert lib.ehd_model_tensor_bytes(C.byref(model), 2) == 0  # no such tensor
    model.tensors[1].offset = 4
    assert lib.ehd_model_tensor_bytes(C.byref(model), 1) == 0  # leaves the arena


def test_a_float32_activation_off_its_word_is_refused():
    """QUANTIZE reads float32 with VLDR, which faults on a Cortex-M at an address not a multiple of 4:
    the runtime refuses such a table (the host's x86 would silently run it)."""
    import ctypes as C

    from edgehdc_bindings import structs as S

    params = S.QuantizeParams(0.05, 3)
    for in_offset, expected in [(4, S.Status.OK), (2, S.Status.ERR_ARENA)]:
        tensors = (S.Tensor * 2)(S.Tensor(in_offset, S.Dims(1, 1, 1, 4), 0, S.Dtype.FLOAT32),
                                 S.Tensor(32, S.Dims(1, 1, 1, 4), 3))
        layers = (S.Layer * 1)(S.Layer(int(S.Op.QUANTIZE), (C.c_uint16 * 2)(0, S.NO_TENSOR), (C.c_uint16 * 1)(1),
                                       C.addressof(params)))
        model = S.Model(layers, 1, tensors, 2, 0, S.NO_TENSOR, 64, (C.c_uint8 * 8)(), (C.c_uint16 * 1)(1), 1)
        assert invoke_table(model, np.zeros(64, np.int8)) == expected, in_offset
