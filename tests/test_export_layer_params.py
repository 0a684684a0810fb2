"""The exporter's C params (`edgehdc.export.layer_params`) compile, read back field for field
as the lowered parameters, and drive the firmware kernels to the Numba mirror's outputs.

Every op's `<name>_params` goes into one C file with an accessor, compiled once through the
bindings builder; the test reads each struct back with ctypes and then runs the op's kernel
on that very struct.
"""

import ctypes as C

import numpy as np
import pytest

from edgehdc import kernels as nb
from edgehdc.export import firmware
from edgehdc.export.layer_params import c_float, layer_params
from edgehdc.quant.arith import lower
from edgehdc.quant.ir import (
    Activation,
    AddOptions,
    Conv2DOptions,
    DepthwiseConv2DOptions,
    FullyConnectedOptions,
    MeanOptions,
    OpKind,
    Padding,
    Pool2DOptions,
    QuantParams,
    SoftmaxOptions,
)
import edgehdc_bindings as fw
from edgehdc_bindings import structs as S
from test_bindings_ops import one_op


def q(scale, zp):
    return QuantParams.per_tensor(scale, zp)


def weights_q(scales, axis=0):
    """Symmetric weight (or bias) quantization along `axis`: per-tensor for one scale."""
    scales = np.asarray(scales, np.float32).reshape(-1)
    return QuantParams(scales, np.zeros(scales.size, np.int64), axis)


def _cases():
    rng = np.random.default_rng(0)
    w_conv = rng.integers(-127, 128, (5, 3, 3, 4)).astype(np.int8)
    w_dw = rng.integers(-127, 128, (1, 3, 3, 8)).astype(np.int8)
    w_fc = rng.integers(-127, 128, (7, 12)).astype(np.int8)
    bias = lambda n: rng.integers(-5000, 5000, n).astype(np.int32)  # noqa: E731
    qa, qb, qy = q(0.05, -3), q(0.02, 11), q(0.07, -128 + 5)
    ch5 = (0.002 + 0.001 * np.arange(5)).astype(np.float32)
    ch8 = (0.003 + 0.0005 * np.arange(8)).astype(np.float32)
    ch7 = (0.004 + 0.0007 * np.arange(7)).astype(np.float32)
    return {
        "conv": one_op(OpKind.CONV_2D, [((1, 6, 5, 4), "int8", qa)], ((1, 3, 3, 5), "int8", qy),
                      Conv2DOptions((2, 2), Padding.SAME, Activation.RELU),
                      [(w_conv, "int8", weights_q(ch5)), (bias(5), "int32", weights_q(0.05 * ch5))]),
        "depthwise": one_op(OpKind.DEPTHWISE_CONV_2D, [((1, 5, 5, 4), "int8", qa)], ((1, 5, 5, 8), "int8", qy),
                           DepthwiseConv2DOptions((1, 1), Padding.SAME, Activation.RELU6, (1, 1), 2),
                           [(w_dw, "int8", weights_q(ch8, axis=3))]),
        "fc_tensor": one_op(OpKind.FULLY_CONNECTED, [((3, 12), "int8", qa)], ((3, 7), "int8", qy),
                           FullyConnectedOptions(), [(w_fc, "int8", weights_q([0.004])),
                                                     (bias(7), "int32", q(0.05 * 0.004, 0))]),
        "fc_channel": one_op(OpKind.FULLY_CONNECTED, [((2, 12), "int8", qa)], ((2, 7), "int8", qy),
                            FullyConnectedOptions(Activation.RELU), [(w_fc, "int8", weights_q(ch7))]),
        "avgpool": one_op(OpKind.AVERAGE_POOL_2D, [((1, 6, 6, 3), "int8", qa)], ((1, 3, 3, 3), "int8", qa),
                         Pool2DOptions((3, 3), (2, 2), Padding.SAME)),
        "maxpool": one_op(OpKind.MAX_POOL_2D, [((1, 6, 6, 3), "int8", qa)], ((1, 3, 3, 3), "int8", qa),
                         Pool2DOptions((2, 2), (2, 2), Padding.VALID, Activation.RELU)),
        "add": one_op(OpKind.ADD, [((1, 4, 4, 3), "int8", qa), ((1, 1, 1, 3), "int8", qb)],
                     ((1, 4, 4, 3), "int8", qy), AddOptions(Activation.RELU6)),
        "relu": one_op(OpKind.RELU, [((1, 4, 4, 3), "int8", qa)], ((1, 4, 4, 3), "int8", qy)),
        "relu6": one_op(OpKind.RELU6, [((1, 4, 4, 3), "int8", qa)], ((1, 4, 4, 3), "int8", qb)),
        "requantize": one_op(OpKind.QUANTIZE, [((2, 9), "int8", qa)], ((2, 9), "int8", qb)),
        "quantize": one_op(OpKind.QUANTIZE, [((2, 9), "float32", None)], ((2, 9), "int8", q(0.0123, 7))),
        "dequantize": one_op(OpKind.DEQUANTIZE, [((2, 9), "int8", q(0.0123, 7))], ((2, 9), "float32", None)),
        "pad": one_op(OpKind.PAD, [((1, 3, 4), "int8", qa)], ((1, 5, 7), "int8", qa),
                     constants=[(np.array([[0, 0], [1, 1], [2, 1]], np.int32), "int32", None)]),
        "mean": one_op(OpKind.MEAN, [((2, 5, 3, 4), "int8", qa)], ((2, 4), "int8", qb), MeanOptions(False),
                      constants=[(np.array([1, 2], np.int32), "int32", None)]),
        "softmax": one_op(OpKind.SOFTMAX, [((3, 10), "int8", qa)], ((3, 10), "int8", q(1 / 256, -128)),
                         SoftmaxOptions(1.0)),
    }


CASES = _cases()

# kind -> (wrapper, params struct, takes ehd_offsets)
_CALLS = {
    OpKind.CONV_2D: ("ehd_convolve_wrapper_s8", S.ConvParams, True),
    OpKind.DEPTHWISE_CONV_2D: ("ehd_depthwise_conv_wrapper_s8", S.ConvParams, True),
    OpKind.FULLY_CONNECTED: ("ehd_fully_connected_wrapper_s8", S.FcParams, True),
    OpKind.AVERAGE_POOL_2D: ("ehd_avgpool_wrapper_s8", S.PoolParams, False),
    OpKind.MAX_POOL_2D: ("ehd_maxpool_wrapper_s8", S.PoolParams, False),
    OpKind.ADD: ("ehd_add_wrapper_s8", S.AddParams, False),
    OpKind.RELU: ("ehd_relu_wrapper_s8", S.RescaleParams, False),
    OpKind.RELU6: ("ehd_relu_wrapper_s8", S.RescaleParams, False),
    OpKind.MEAN: ("ehd_mean_wrapper_s8", S.MeanParams, False),
    OpKind.PAD: ("ehd_pad_wrapper_s8", S.PadParams, False),
    OpKind.SOFTMAX: ("ehd_softmax_wrapper_s8", S.SoftmaxParams, False),
    OpKind.DEQUANTIZE: ("ehd_dequantize_wrapper_s8_f32", S.QuantizeParams, False),
}
_CTYPES = {np.dtype(np.int8): C.c_int8, np.dtype(np.float32): C.c_float}


def _call(kind, graph_):
    if kind is OpKind.QUANTIZE:
        float_in = graph_.tensors[graph_.ops[0].inputs[0]].dtype == "float32"
        return ("ehd_quantize_wrapper_f32_s8" if float_in else "ehd_quantize_wrapper_s8_s8",
                S.QuantizeParams if float_in else S.RescaleParams, False)
    return _CALLS[kind]


@pytest.fixture(scope="module")
def emitted(tmp_path_factory):
    """The library with every case's params compiled in, and its `<name>_get` accessors."""
    src = ['#include <stddef.h>\n#include "ehd/ehd_model.h"\n']
    for name, (g, op) in CASES.items():
        src.append(layer_params(g, op, name))
        src.append(f"const void *{name}_get(void) {{ return &{name}_params; }}\n")
    path = tmp_path_factory.mktemp("params") / "params.c"
    path.write_text("".join(src))
    lib = fw.build_library([path])
    for name in CASES:
        getattr(lib, f"{name}_get").restype = C.c_void_p
    return lib


def _ints(pointer, n):
    return np.ctypeslib.as_array(pointer, (n,)).copy()


def _shared_scalars(struct, p):
    """(field, emitted value, lowered value) of each scalar field the struct and params share."""
    for field, ctype in struct._fields_:
        value = getattr(p, field, None)
        if value is None or np.ndim(value) or issubclass(ctype, (C._Pointer, C.Array, C.Structure)):
            continue
        yield field, getattr(struct, field), value


def _assert_fields(name, struct, p, g, op):
    """Every field of the emitted struct holds the lowered parameter (or constant) it stands for."""
    kind = op.kind
    if kind in (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.FULLY_CONNECTED):
        w, b = g.weights_and_bias(op)
        np.testing.assert_array_equal(_ints(struct.weights, w.size), w.reshape(-1))
        if b is None:
            assert not struct.bias
        else:
            np.testing.assert_array_equal(_ints(struct.bias, b.size), b)
        n = np.size(p.multiplier)
        assert kind is not OpKind.FULLY_CONNECTED or struct.per_channel == (n > 1)
        np.testing.assert_array_equal(_ints(struct.multiplier, n), np.reshape(p.multiplier, -1))
        np.testing.assert_array_equal(_ints(struct.shift, n), np.reshape(p.shift, -1))
        f = struct.filter
        assert (f.n, f.h, f.w, f.c) == (tuple(w.shape) if w.ndim == 4 else (w.shape[0], 1, 1, w.shape[1]))
    if kind is OpKind.PAD:
        lead = [0] * (4 - len(p.before))
        assert list(struct.before) == lead + list(p.before) and list(struct.after) == lead + list(p.after)
    if isinstance(struct, S.RescaleParams) and not hasattr(p, "act_min"):
        assert (struct.act_min, struct.act_max) == (-128, 127)  # int8 QUANTIZE only clamps to int8
    shared = list(_shared_scalars(struct, p))
    for field, got, value in shared:
        if isinstance(got, float):
            assert np.float32(got) == np.float32(value), (name, field)
        else:
            assert got == int(value), (name, field)
    assert shared or kind is OpKind.PAD


def _inputs(rng, g, op):
    arrays = []
    for i in op.inputs:
        t = g.tensors[i]
        if t.is_constant:
            continue
        if t.dtype == "float32":
            arrays.append(rng.uniform(-2, 2, t.shape).astype(np.float32))
        else:
            arrays.append(rng.integers(-128, 128, t.shape).astype(np.int8))
    return arrays


def _mirror(kind, p, g, op, xs):
    if kind in (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.FULLY_CONNECTED):
        w, b = g.weights_and_bias(op)
        fn = {OpKind.CONV_2D: nb.conv2d_s8, OpKind.DEPTHWISE_CONV_2D: nb.depthwise_conv2d_s8,
              OpKind.FULLY_CONNECTED: nb.fully_connected_s8}[kind]
        return fn(xs[0], w, b, p)
    fn = {OpKind.AVERAGE_POOL_2D: nb.avg_pool2d_s8, OpKind.MAX_POOL_2D: nb.max_pool2d_s8,
          OpKind.ADD: nb.add_s8, OpKind.RELU: nb.relu_s8, OpKind.RELU6: nb.relu_s8,
          OpKind.MEAN: nb.mean_hw_s8, OpKind.PAD: nb.pad_s8, OpKind.SOFTMAX: nb.softmax_s8,
          OpKind.DEQUANTIZE: nb.dequantize_s8_f32}.get(kind)
    if kind is OpKind.QUANTIZE:
        fn = nb.quantize_f32_s8 if xs[0].dtype == np.float32 else nb.requantize_s8_s8
    return fn(*xs, p)


@pytest.mark.parametrize("name", list(CASES))
def test_emitted_params_read_back_and_run_like_numba(emitted, name):
    g, op = CASES[name]
    kind, p = OpKind(op.kind), lower(g, op)
    fn_name, struct_type, with_offsets = _call(kind, g)
    address = getattr(emitted, f"{name}_get")()
    struct = struct_type.from_address(address)
    _assert_fields(name, struct, p, g, op)

    xs = _inputs(np.random.default_rng(len(name)), g, op)
    expected = _mirror(kind, p, g, op, xs)
    out = np.zeros_like(expected)
    # The portable library: wrappers that take a scratch context get none (they need none).
    args = [None] if fn_name in S.BUFFER_SIZES else []
    args.append(C.cast(address, C.POINTER(struct_type)))
    if with_offsets:
        args.append(C.byref(S.Offsets(p.input_offset, p.output_offset)))
    for a in [*xs, out]:
        args += [C.byref(S.Dims.extended(a.shape)), a.ctypes.data_as(C.POINTER(_CTYPES[a.dtype]))]
    fn = getattr(S.declare(emitted), fn_name)
    assert fn(*args) == S.Status.OK
    if out.dtype == np.float32:
        np.testing.assert_array_equal(out.view(np.uint32), expected.view(np.uint32))
    else:
        np.testing.assert_array_equal(out, expected)


def test_reshape_has_no_params_and_bad_ops_are_refused():
    qa = q(0.05, -3)
    g, op = one_op(OpKind.RESHAPE, [((1, 2, 3, 4), "int8", qa)], ((1, 24), "int8", qa))
    assert layer_params(g, op, "layer0") == ""
    g, op = one_op(OpKind.SOFTMAX, [((3, 10), "int8", qa)], ((3, 10), "int8", q(0.1, 0)), SoftmaxOptions(1.0))
    with pytest.raises(ValueError, match="scale 1/256"):
        layer_params(g, op, "layer0")


def test_float_literals_are_exact():
    for v in (0.0123, 1 / 256, 3.4028235e38, 1e-45, 1.0):
        literal = c_float(v)
        assert literal.endswith("f") and np.float32(float.fromhex(literal[:-1])) == np.float32(v)
    with pytest.raises(ValueError, match="non-finite"):
        c_float(float("inf"))


def test_exported_model_with_per_channel_fully_connected_runs_like_numba(tmp_path):
    # The exporter used to refuse per-channel FC; the generated model now runs it on the host.
    from edgehdc.export.firmware import write_firmware_sources
    from edgehdc.hdc import Centroid, SignProjection
    from edgehdc.kernels.interpreter import run

    rng = np.random.default_rng(12)
    scales = (0.004 + 0.0007 * np.arange(7)).astype(np.float32)
    g, _ = one_op(OpKind.FULLY_CONNECTED, [((1, 12), "int8", q(0.05, -3))], ((1, 7), "int8", q(0.07, -20)),
                  FullyConnectedOptions(), [(rng.integers(-127, 128, (7, 12)).astype(np.int8), "int8",
                                             weights_q(scales)),
                                            (rng.integers(-900, 900, 7).astype(np.int32), "int32",
                                             weights_q(0.05 * scales))])
    xs = rng.integers(-128, 128, (6, 12)).astype(np.int8)
    features = run(g, xs)[0]
    encoder = SignProjection(7, 64, zero_point=-20)
    classifier = Centroid(2, 64).fit(encoder.encode(features), np.arange(6) % 2)
    source = write_firmware_sources(g, encoder, classifier, tmp_path, bytes(range(8)))[1]
    device = fw.FirmwareModel(fw.build_library([source], [tmp_path]))
    assert len(np.unique(features)) > 3
    for x, expected in zip(xs, features):
        np.testing.assert_array_equal(device.invoke(x).features, expected)
