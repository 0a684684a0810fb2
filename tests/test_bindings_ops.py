"""The firmware's ops beyond conv/pool (ADD, RELU/RELU6, MEAN, PAD, SOFTMAX, QUANTIZE,
DEQUANTIZE, per-channel FULLY_CONNECTED) on the host == the Numba mirror, exactly.

Random shapes (ranks 1..4, odd sizes, broadcasting), parameters both from the real
lowering (`edgehdc.quant.arith.lower` on a one-op graph) and drawn raw, edge values,
in-place calls, and the statuses the C returns for bad arguments.
"""

import ctypes as C
from dataclasses import replace

import numpy as np
import pytest

from edgehdc import kernels as nb
from edgehdc.export.layer_params import pad_fields, rescale_fields
from edgehdc.quant.arith import (
    AddParams,
    DequantizeParams,
    FullyConnectedParams,
    MeanParams,
    PadParams,
    QuantizeParams,
    ReluParams,
    RequantizeParams,
    SoftmaxParams,
    lower,
)
from edgehdc.quant.ir import (
    Activation,
    AddOptions,
    FullyConnectedOptions,
    Graph,
    MeanOptions,
    Op,
    OpKind,
    QuantParams,
    SoftmaxOptions,
    Tensor,
)
import edgehdc_bindings as fw
from edgehdc_bindings import structs as S

SEEDS = range(10)
P = C.POINTER


def int8(rng, shape):
    return rng.integers(-128, 128, shape).astype(np.int8)


def rand_q(rng, lo=-3.0, hi=0.0) -> QuantParams:
    return QuantParams.per_tensor(10 ** rng.uniform(lo, hi), int(rng.integers(-128, 128)))


def one_op(kind, inputs, output, options=None, constants=()) -> tuple[Graph, Op]:
    """A graph of one op: inputs/output (shape, dtype, quant); constants (data, dtype, quant)."""
    g = Graph()
    ins = [g.add_tensor(Tensor(f"x{i}", s, d, qq)) for i, (s, d, qq) in enumerate(inputs)]
    consts = [g.add_tensor(Tensor(f"c{i}", v.shape, d, qq, v)) for i, (v, d, qq) in enumerate(constants)]
    y = g.add_tensor(Tensor("y", *output))
    op = g.add_op(Op(kind, ins + consts, [y], options))
    g.inputs, g.outputs = ins[:1], [y]
    return g, op


def random_shape(rng, rank=None, high=9):
    rank = int(rng.integers(1, 5)) if rank is None else rank
    return tuple(int(v) for v in rng.integers(1, high, rank))


def status(fn_name, *args) -> int:
    return getattr(fw.default_library(), fn_name)(*args)


def dims(shape) -> S.Dims:
    return S.Dims.extended(shape)


def i8p(a):
    return S.ptr(a, C.c_int8)


# --- ADD --------------------------------------------------------------------------------


def add_case(rng):
    out = random_shape(rng)
    a, b = list(out), list(out)
    for shape in (a, b) if rng.integers(3) else ():  # a third of the cases do not broadcast
        for d in range(len(shape)):
            if rng.integers(3) == 0:
                shape[d] = 1
    b = b[int(rng.integers(0, len(b) + 1)):] if rng.integers(2) else b  # a shorter rank
    shape = np.broadcast_shapes(tuple(a), tuple(b))
    if rng.integers(2):  # the real lowering: scales, zero points, activation
        g, op = one_op(OpKind.ADD, [(tuple(a), "int8", rand_q(rng, -2, 0)),
                                    (tuple(b), "int8", rand_q(rng, -2, 0))],
                       (shape, "int8", rand_q(rng, -2, 0)),
                       AddOptions(Activation(["NONE", "RELU", "RELU6"][rng.integers(3)])))
        p = lower(g, op)
    else:  # raw parameters over their whole valid range
        zp = [int(v) for v in rng.integers(-128, 128, 3)]
        m = [int(v) for v in rng.integers(0, 1 << 31, 3)]
        s = [int(v) for v in rng.integers(-31, 1, 3)]
        lo = int(rng.integers(-128, 128))
        p = AddParams(-zp[0], -zp[1], zp[2], int(rng.integers(0, 21)), m[0], s[0], m[1], s[1],
                      m[2], s[2], lo, int(rng.integers(lo, 128)))
    return int8(rng, tuple(a)), int8(rng, tuple(b)), p


@pytest.mark.parametrize("seed", range(24))
def test_add_matches_numba(seed):
    a, b, p = add_case(np.random.default_rng(seed))
    np.testing.assert_array_equal(fw.add_s8(a, b, p), nb.add_s8(a, b, p))


def test_add_edge_values():
    a = np.array([-128, -128, 127, 127, 0, -1], np.int8)
    b = np.array([-128, 127, -128, 127, 0, 1], np.int8)
    for ratio in (1.0, 1e-3, 40.0):
        g, op = one_op(OpKind.ADD, [((6,), "int8", QuantParams.per_tensor(0.02, -128)),
                                    ((6,), "int8", QuantParams.per_tensor(0.02 * ratio, 127))],
                       ((6,), "int8", QuantParams.per_tensor(0.01, 0)))
        p = lower(g, op)
        np.testing.assert_array_equal(fw.add_s8(a, b, p), nb.add_s8(a, b, p))


def _add_in_place(a, b, p, out):
    """ehd_add_wrapper_s8 writing into `out` (which may be a or b); returns the status."""
    params = S.AddParams(*(int(getattr(p, n)) for n, _ in S.AddParams._fields_))
    return status("ehd_add_wrapper_s8", None, C.byref(params), C.byref(dims(a.shape)), i8p(a),
                  C.byref(dims(b.shape)), i8p(b), C.byref(dims(out.shape)), i8p(out))


@pytest.mark.parametrize("seed", range(6))
def test_add_in_place(seed):
    rng = np.random.default_rng(50 + seed)
    shape = random_shape(rng, rank=4)
    a, _, p = add_case(rng)
    a = int8(rng, shape)
    for b in (int8(rng, shape), int8(rng, (1, 1, 1, shape[3])), int8(rng, (shape[2], 1))):
        expected = nb.add_s8(a, b, p)
        out = a.copy()  # output over the first input
        assert _add_in_place(out, b, p, out) == S.Status.OK
        np.testing.assert_array_equal(out, expected)
        out = a.copy()  # output over the second input: b broadcast, a full shape
        assert _add_in_place(b, out, p, out) == S.Status.OK
        np.testing.assert_array_equal(out, nb.add_s8(b, a, p))
    out = a.copy()  # x + x into x
    assert _add_in_place(out, out, p, out) == S.Status.OK
    np.testing.assert_array_equal(out, nb.add_s8(a, a, p))


def test_add_refuses_bad_arguments():
    rng = np.random.default_rng(7)
    a, b, p = add_case(rng)
    x = int8(rng, (2, 3, 4, 5))
    y = np.empty_like(x)
    ok = S.AddParams(*(int(getattr(p, n)) for n, _ in S.AddParams._fields_))
    args = (C.byref(dims(x.shape)), i8p(x), C.byref(dims(x.shape)), i8p(x), C.byref(dims(y.shape)), i8p(y))
    assert status("ehd_add_wrapper_s8", None, C.byref(ok), *args) == S.Status.OK
    for change in [{"left_shift": 21}, {"left_shift": -1}, {"input1_shift": 1}, {"output_shift": 1},
                   {"input2_multiplier": -5}, {"input2_shift": -32}, {"act_min": -129},
                   {"act_max": 128}, {"act_min": 10, "act_max": 9}]:
        bad = S.AddParams.from_buffer_copy(ok)
        for field, value in change.items():
            setattr(bad, field, value)
        assert status("ehd_add_wrapper_s8", None, C.byref(bad), *args) == S.Status.ERR_ARG, change
    assert status("ehd_add_wrapper_s8", None, None, *args) == S.Status.ERR_ARG
    assert status("ehd_add_wrapper_s8", None, C.byref(ok), *args[:5], None) == S.Status.ERR_ARG
    assert status("ehd_add_wrapper_s8", None, C.byref(ok), C.byref(S.Dims(2, 3, 0, 5)), *args[1:]) == S.Status.ERR_ARG
    for shape_b in [(2, 3, 4, 4), (3, 3, 4, 5)]:  # neither equal nor 1
        assert status("ehd_add_wrapper_s8", None, C.byref(ok), *args[:2], C.byref(S.Dims(*shape_b)),
                      *args[3:]) == S.Status.ERR_SHAPE
    # Both inputs broadcast along w: the output's w (4) is neither input's.
    assert status("ehd_add_wrapper_s8", None, C.byref(ok), C.byref(S.Dims(2, 3, 1, 5)), i8p(x),
                  C.byref(S.Dims(2, 3, 1, 5)), i8p(x), C.byref(dims(y.shape)), i8p(y)) == S.Status.ERR_SHAPE
    # An output overlapping an input without being exactly it would read overwritten values.
    big = np.zeros(2 * x.size, np.int8)
    assert status("ehd_add_wrapper_s8", None, C.byref(ok), C.byref(dims(x.shape)), i8p(big), *args[2:4],
                  C.byref(dims(x.shape)), i8p(big[60:])) == S.Status.ERR_ARG
    # A broadcast input may not be the output's buffer: it is read again after being overwritten.
    assert status("ehd_add_wrapper_s8", None, C.byref(ok), C.byref(dims(x.shape)), i8p(x),
                  C.byref(dims(x[:1].shape)), i8p(x), C.byref(dims(x.shape)), i8p(x)) == S.Status.ERR_ARG
    with pytest.raises(ValueError, match="do not broadcast"):
        fw.add_s8(x, int8(rng, (3, 3)), p)


# --- RELU / RELU6 / int8 QUANTIZE ---------------------------------------------------------


def relu_case(rng, kind):
    shape = random_shape(rng)
    qx, qy = rand_q(rng, -2, 0), rand_q(rng, -2, 0)
    if rng.integers(3) == 0:
        qy = qx  # same quantization: RELU's multiplier is exactly 1
    g, op = one_op(kind, [(shape, "int8", qx)], (shape, "int8", qy))
    return int8(rng, shape), lower(g, op)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", [OpKind.RELU, OpKind.RELU6])
def test_relu_matches_numba(seed, kind):
    x, p = relu_case(np.random.default_rng(100 + seed), kind)
    np.testing.assert_array_equal(fw.relu_s8(x, p), nb.relu_s8(x, p))


@pytest.mark.parametrize("seed", SEEDS)
def test_relu6_with_rescaling_matches_numba(seed):
    # TFLite's RELU6 (what the device computes): rescale to the output, clamp to [q(0), q(6)].
    rng = np.random.default_rng(150 + seed)
    x = int8(rng, random_shape(rng))
    in_zp, out_zp = (int(v) for v in rng.integers(-128, 128, 2))
    out_scale = 10 ** rng.uniform(-2, -1)
    mult, shift = (int(rng.integers(1 << 30, 1 << 31)), int(rng.integers(-3, 2)))
    six = int(min(127, out_zp + round(6.0 / out_scale)))
    p = ReluParams(input_zero_point=in_zp, output_zero_point=out_zp, multiplier=mult,
                    shift=shift, act_min=out_zp, act_max=six)
    np.testing.assert_array_equal(fw.relu_s8(x, p), nb.relu_s8(x, p))


def test_relu_identity_and_extreme_rescale():
    x = np.arange(-128, 128, dtype=np.int8).reshape(4, 8, 8)
    # Equal input and output quantization: the unit multiplier, so only the clamp acts (TFLM's RELU6 case).
    clamp = ReluParams(input_zero_point=-5, output_zero_point=-5, multiplier=1 << 30, shift=1,
                       act_min=-5, act_max=90)
    np.testing.assert_array_equal(fw.relu_s8(x, clamp), nb.relu_s8(x, clamp))
    np.testing.assert_array_equal(fw.relu_s8(x, clamp), np.clip(x, -5, 90))
    # A left shift of 30 wraps (x - zp) << 30 like TFLM's int32; the offset then must clamp.
    for shift, mult in [(30, (1 << 31) - 1), (-31, 1 << 30), (0, 0)]:
        p = ReluParams(input_zero_point=3, output_zero_point=127, multiplier=mult,
                        shift=shift, act_min=-128, act_max=127)
        np.testing.assert_array_equal(fw.relu_s8(x, p), nb.relu_s8(x, p))


@pytest.mark.parametrize("seed", SEEDS)
def test_requantize_matches_numba(seed):
    rng = np.random.default_rng(200 + seed)
    shape = random_shape(rng)
    g, op = one_op(OpKind.QUANTIZE, [(shape, "int8", rand_q(rng, -2, 0))], (shape, "int8", rand_q(rng, -2, 0)))
    x, p = int8(rng, shape), lower(g, op)
    assert isinstance(p, RequantizeParams)
    np.testing.assert_array_equal(fw.requantize_s8_s8(x, p), nb.requantize_s8_s8(x, p))


def test_rescale_in_place_and_bad_arguments():
    rng = np.random.default_rng(3)
    x, p = relu_case(rng, OpKind.RELU)
    params = S.RescaleParams(*(int(v) for v in rescale_fields(p)))
    buf = x.copy()
    for fn in ("ehd_relu_wrapper_s8", "ehd_quantize_wrapper_s8_s8"):
        buf[:] = x
        assert status(fn, C.byref(params), C.byref(dims(x.shape)), i8p(buf), C.byref(dims(x.shape)),
                      i8p(buf)) == S.Status.OK
        np.testing.assert_array_equal(buf, nb.relu_s8(x, p))
        args = (C.byref(dims(x.shape)), i8p(x), C.byref(dims(x.shape)), i8p(buf))
        for field, value in [("shift", 31), ("shift", -32), ("multiplier", -1), ("act_max", 128)]:
            bad = S.RescaleParams.from_buffer_copy(params)
            setattr(bad, field, value)
            assert status(fn, C.byref(bad), *args) == S.Status.ERR_ARG, field
        assert status(fn, C.byref(params), *args[:3], None) == S.Status.ERR_ARG
        assert status(fn, C.byref(params), *args[:2], C.byref(S.Dims(1, 1, 1, x.size + 1)),
                      args[3]) == S.Status.ERR_SHAPE


# --- MEAN ---------------------------------------------------------------------------------


def mean_case(rng):
    shape = random_shape(rng, rank=4, high=12)
    if rng.integers(2):
        qx = rand_q(rng, -2, -1)
        qy = QuantParams.per_tensor(float(qx.scale[0]) * rng.uniform(0.05, 3.0), int(rng.integers(-128, 128)))
        g, op = one_op(OpKind.MEAN, [(shape, "int8", qx)], ((shape[0], 1, 1, shape[3]), "int8", qy),
                       MeanOptions(True), constants=[(np.array([1, 2], np.int32), "int32", None)])
        p = lower(g, op)
    else:
        p = MeanParams(int(rng.integers(-128, 128)), int(rng.integers(-128, 128)), shape[1] * shape[2],
                       int(rng.integers(0, 1 << 31)), int(rng.integers(-31, 8)))
    return int8(rng, shape), p


@pytest.mark.parametrize("seed", SEEDS)
def test_mean_matches_numba(seed):
    x, p = mean_case(np.random.default_rng(300 + seed))
    np.testing.assert_array_equal(fw.mean_hw_s8(x, p), nb.mean_hw_s8(x, p))


def test_mean_edge_values_and_bad_arguments():
    rng = np.random.default_rng(4)
    x, p = mean_case(rng)
    for fill in (-128, 127):
        for zp in (-128, 127):
            q = replace(p, input_zero_point=zp)
            full = np.full(x.shape, fill, np.int8)
            np.testing.assert_array_equal(fw.mean_hw_s8(full, q), nb.mean_hw_s8(full, q))
    params = S.MeanParams(*(int(getattr(p, n)) for n, _ in S.MeanParams._fields_))
    y = np.empty((x.shape[0], 1, 1, x.shape[3]), np.int8)
    args = [C.byref(dims(x.shape)), i8p(x), C.byref(dims(y.shape)), i8p(y)]
    assert status("ehd_mean_wrapper_s8", C.byref(params), *args) == S.Status.OK
    for field, value in [("shift", 31), ("multiplier", -1)]:
        bad = S.MeanParams.from_buffer_copy(params)
        setattr(bad, field, value)
        assert status("ehd_mean_wrapper_s8", C.byref(bad), *args) == S.Status.ERR_ARG
    for out in [(x.shape[0], 1, 2, x.shape[3]), (x.shape[0], 1, 1, x.shape[3] + 1)]:
        assert status("ehd_mean_wrapper_s8", C.byref(params), *args[:2], C.byref(S.Dims(*out)),
                      args[3]) == S.Status.ERR_SHAPE
    assert status("ehd_mean_wrapper_s8", C.byref(params), *args[:3], i8p(x)) == S.Status.ERR_ARG


# --- PAD ----------------------------------------------------------------------------------


def pad_case(rng):
    x = int8(rng, random_shape(rng, high=7))
    before = tuple(int(v) for v in rng.integers(0, 4, x.ndim))
    after = tuple(int(v) for v in rng.integers(0, 4, x.ndim))
    return x, PadParams(before, after, int(rng.integers(-128, 128)))


@pytest.mark.parametrize("seed", SEEDS)
def test_pad_matches_numba(seed):
    x, p = pad_case(np.random.default_rng(400 + seed))
    np.testing.assert_array_equal(fw.pad_s8(x, p), nb.pad_s8(x, p))


def test_pad_lowered_and_bad_arguments():
    rng = np.random.default_rng(5)
    qx = rand_q(rng)
    g, op = one_op(OpKind.PAD, [((1, 5, 3, 2), "int8", qx)], ((1, 6, 7, 2), "int8", qx),
                   constants=[(np.array([[0, 0], [1, 0], [2, 2], [0, 0]], np.int32), "int32", None)])
    x, p = int8(rng, (1, 5, 3, 2)), lower(g, op)
    np.testing.assert_array_equal(fw.pad_s8(x, p), nb.pad_s8(x, p))
    before, after, value = pad_fields(p)
    params = S.PadParams((C.c_int32 * 4)(*before), (C.c_int32 * 4)(*after), value)
    y = np.empty((1, 6, 7, 2), np.int8)
    args = [C.byref(dims(x.shape)), i8p(x), C.byref(dims(y.shape)), i8p(y)]
    assert status("ehd_pad_wrapper_s8", C.byref(params), *args) == S.Status.OK
    for field, index, value in [("before", 1, -1), ("after", 3, -2), ("pad_value", None, 128)]:
        bad = S.PadParams.from_buffer_copy(params)
        if index is None:
            setattr(bad, field, value)
        else:
            getattr(bad, field)[index] = value
        assert status("ehd_pad_wrapper_s8", C.byref(bad), *args) == S.Status.ERR_ARG, field
    bad = S.PadParams.from_buffer_copy(params)
    bad.after[2] = 3  # output width would be 8
    assert status("ehd_pad_wrapper_s8", C.byref(bad), *args) == S.Status.ERR_SHAPE
    assert status("ehd_pad_wrapper_s8", C.byref(params), *args[:3], i8p(x)) == S.Status.ERR_ARG


# --- SOFTMAX ------------------------------------------------------------------------------


def softmax_params(rng, shape, in_scale=None, beta=None) -> SoftmaxParams:
    in_scale = 10 ** rng.uniform(-3, 0) if in_scale is None else in_scale
    beta = float(rng.choice([1.0, 0.5, 2.0])) if beta is None else beta
    qx = QuantParams.per_tensor(in_scale, int(rng.integers(-128, 128)))
    g, op = one_op(OpKind.SOFTMAX, [(shape, "int8", qx)],
                   (shape, "int8", QuantParams.per_tensor(1.0 / 256, -128)), SoftmaxOptions(beta))
    return lower(g, op)


@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_matches_numba(seed):
    rng = np.random.default_rng(500 + seed)
    shape = random_shape(rng, high=40)
    x, p = int8(rng, shape), softmax_params(rng, shape)
    np.testing.assert_array_equal(fw.softmax_s8(x, p), nb.softmax_s8(x, p))


def test_softmax_equal_rows_wide_rows_and_diff_min_edge():
    rng = np.random.default_rng(6)
    rows = np.stack([np.full(64, v, np.int8) for v in (-128, 0, 127)]
                    + [np.where(np.arange(64) % 2, 127, -128).astype(np.int8)])  # many equal maxima
    p = softmax_params(rng, rows.shape, in_scale=0.1)
    np.testing.assert_array_equal(fw.softmax_s8(rows, p), nb.softmax_s8(rows, p))
    # 5000 equal values: the Q12.19 sum of exps passes 2**31 and wraps, as in TFLM.
    wide = np.zeros((1, 5000), np.int8)
    np.testing.assert_array_equal(fw.softmax_s8(wide, p), nb.softmax_s8(wide, p))
    # A large input scale gives a small radius: diff_min > -255 cuts the row inside int8.
    p = softmax_params(rng, (2, 8), in_scale=0.5, beta=1.0)
    assert p.diff_min == -31
    edge = np.array([[127, 127 + p.diff_min, 127 + p.diff_min - 1, 127 + p.diff_min + 1, 0, -128, 126, 127],
                     [0, p.diff_min, p.diff_min - 1, p.diff_min + 1, -1, -2, 0, 0]])
    edge = np.clip(edge, -128, 127).astype(np.int8)
    y = fw.softmax_s8(edge, p)
    np.testing.assert_array_equal(y, nb.softmax_s8(edge, p))
    assert y[0, 2] == -128 and y[1, 2] == -128  # below diff_min: exactly zero probability


def test_softmax_in_place_and_bad_arguments():
    rng = np.random.default_rng(8)
    x = int8(rng, (3, 17))
    p = softmax_params(rng, x.shape)
    params = S.SoftmaxParams(p.input_multiplier, p.input_left_shift, p.diff_min)
    buf = x.copy()
    assert status("ehd_softmax_wrapper_s8", C.byref(params), C.byref(dims(x.shape)), i8p(buf),
                  C.byref(dims(x.shape)), i8p(buf)) == S.Status.OK
    np.testing.assert_array_equal(buf, nb.softmax_s8(x, p))
    args = [C.byref(dims(x.shape)), i8p(x), C.byref(dims(x.shape)), i8p(buf)]
    for field, value in [("input_left_shift", 32), ("input_left_shift", -1), ("diff_min", 1),
                         ("input_multiplier", -1)]:
        bad = S.SoftmaxParams.from_buffer_copy(params)
        setattr(bad, field, value)
        assert status("ehd_softmax_wrapper_s8", C.byref(bad), *args) == S.Status.ERR_ARG, field
    assert status("ehd_softmax_wrapper_s8", C.byref(params), *args[:2], C.byref(S.Dims(1, 1, 17, 3)),
                  args[3]) == S.Status.ERR_SHAPE


# --- QUANTIZE float32 -> int8, DEQUANTIZE int8 -> float32 --------------------------------


def float_inputs(rng, scale, n=600) -> np.ndarray:
    """Values across and beyond the int8 range, exact half steps, and IEEE specials."""
    with np.errstate(over="ignore"):  # a huge scale puts some of them past float32: inf
        x = rng.uniform(-300 * scale, 300 * scale, n).astype(np.float32)
        halves = rng.integers(-140, 140, x[::4].size) + np.float32(0.5)
        x[::4] = (np.float32(scale) * halves).astype(np.float32)
        half_below = np.nextafter(np.float32(0.5), np.float32(0))
        specials = [0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 3.4e38, -3.4e38, 1e-45, -1e-45,
                    half_below * scale, -half_below * scale, 127.5 * scale, -128.5 * scale, 1e30, -1e30]
        return np.concatenate([x, np.array(specials, np.float32)]).reshape(-1, 8)


@pytest.mark.parametrize("scale", [2.0**-7, 0.0123456, 1.0, 3.7e-5, 1e-39, 2.5e37])
def test_quantize_float_matches_numba(scale):
    rng = np.random.default_rng(int(-np.log2(scale)) + 600)
    for zp in (-128, 0, int(rng.integers(-128, 128)), 127):
        x, p = float_inputs(rng, scale), QuantizeParams(float(np.float32(scale)), zp)
        with np.errstate(over="ignore", invalid="ignore"):
            np.testing.assert_array_equal(fw.quantize_f32_s8(x, p), nb.quantize_f32_s8(x, p))


def test_quantize_float_lowered():
    rng = np.random.default_rng(9)
    qy = rand_q(rng)
    g, op = one_op(OpKind.QUANTIZE, [((2, 3, 5), "float32", None)], ((2, 3, 5), "int8", qy))
    p = lower(g, op)
    x = float_inputs(rng, p.scale, n=24).reshape(-1)[:30].reshape(2, 3, 5)
    np.testing.assert_array_equal(fw.quantize_f32_s8(x, p), nb.quantize_f32_s8(x, p))


@pytest.mark.parametrize("scale", [2.0**-7, 0.0123456, 1.0, 3.7e-5, 1e-44, 1.5e36, 3.3e38])
def test_dequantize_matches_numba_bit_for_bit(scale):
    x = np.arange(-128, 128, dtype=np.int8).reshape(2, 8, 16)
    for zp in (-128, -3, 0, 127):
        p = DequantizeParams(float(np.float32(scale)), zp)
        with np.errstate(over="ignore"):
            expected = nb.dequantize_s8_f32(x, p)
        got = fw.dequantize_s8_f32(x, p)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got.view(np.uint32), expected.view(np.uint32))


def test_float_ops_refuse_bad_arguments():
    x = np.zeros((2, 5), np.float32)
    q = np.zeros((2, 5), np.int8)
    for fn, a, ta, b, tb in [("ehd_quantize_wrapper_f32_s8", x, C.c_float, q, C.c_int8),
                             ("ehd_dequantize_wrapper_s8_f32", q, C.c_int8, x, C.c_float)]:
        def call(params, out_dims=dims(b.shape), out=b):
            return status(fn, C.byref(params), C.byref(dims(a.shape)), S.ptr(a, ta), C.byref(out_dims),
                          S.ptr(out, tb))
        assert call(S.QuantizeParams(0.5, 3)) == S.Status.OK
        for scale, zp in [(0.0, 0), (-1.0, 0), (float("nan"), 0), (float("inf"), 0), (0.5, 128), (0.5, -129)]:
            assert call(S.QuantizeParams(scale, zp)) == S.Status.ERR_ARG, (scale, zp)
        assert call(S.QuantizeParams(0.5, 3), out_dims=S.Dims(1, 1, 1, 11)) == S.Status.ERR_SHAPE
        assert call(S.QuantizeParams(0.5, 3), out=a) == S.Status.ERR_ARG  # output over the input
    with pytest.raises(ValueError, match="float32"):
        fw.quantize_f32_s8(q, QuantizeParams(0.5, 0))


# --- FULLY_CONNECTED: per-channel, batches, extreme accumulators ----------------------------


def fc_case(rng, per_channel):
    n, n_in, n_out = (int(v) for v in rng.integers(1, [6, 90, 24]))
    qx, qy = rand_q(rng, -2, 0), rand_q(rng, -2, 0)
    w_scales = (10 ** rng.uniform(-3, -1, n_out if per_channel else 1)).astype(np.float32)
    wq = QuantParams(w_scales, np.zeros(w_scales.size, np.int64), 0)
    w = rng.integers(-127, 128, (n_out, n_in)).astype(np.int8)
    bias = rng.integers(-20000, 20000, n_out).astype(np.int32)
    bq = QuantParams((float(qx.scale[0]) * w_scales).astype(np.float32), np.zeros(w_scales.size, np.int64))
    act = Activation(["NONE", "RELU", "RELU6"][rng.integers(3)])
    g, op = one_op(OpKind.FULLY_CONNECTED, [((n, n_in), "int8", qx)], ((n, n_out), "int8", qy),
                   FullyConnectedOptions(act), constants=[(w, "int8", wq), (bias, "int32", bq)])
    return g, op, int8(rng, (n, n_in)), w, bias if rng.integers(4) else None


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("per_channel", [False, True])
def test_fully_connected_matches_numba(seed, per_channel):
    g, op, x, w, bias = fc_case(np.random.default_rng(700 + seed), per_channel)
    p = lower(g, op)
    assert (np.ndim(p.multiplier) > 0) == per_channel
    np.testing.assert_array_equal(fw.fully_connected_s8(x, w, bias, p), nb.fully_connected_s8(x, w, bias, p))


def test_fully_connected_extreme_accumulators():
    # Bias near INT32_MAX / INT32_MIN: the requantized value plus the output offset must clamp
    # (as the mirror does in 64 bits), and sums past int32 wrap like TFLM's accumulator.
    x = np.array([[127, 127], [-128, -128], [0, 0]], np.int8)
    w = np.array([[127, 127], [-127, -127]], np.int8)
    for b0, b1 in [((1 << 31) - 1, -(1 << 31)), ((1 << 31) - 70000, -(1 << 31) + 70000)]:
        bias = np.array([b0, b1], np.int32)
        for offsets in [(-128, 127), (128, -128), (0, 0)]:
            p = FullyConnectedParams(*offsets, np.array([(1 << 31) - 1, (1 << 31) - 1], np.int32),
                                     np.array([0, 0], np.int32), -128, 127)
            np.testing.assert_array_equal(fw.fully_connected_s8(x, w, bias, p),
                                          nb.fully_connected_s8(x, w, bias, p))


def test_fully_connected_refuses_bad_tables():
    rng = np.random.default_rng(11)
    x, w = int8(rng, (3, 10)), int8(rng, (4, 10))
    mult, shift = np.full(4, 1 << 30, np.int32), np.zeros(4, np.int32)
    y = np.empty((3, 4), np.int8)

    def call(filter_dims=S.Dims(4, 1, 1, 10), per_channel=1, weights=w, x_dims=dims(x.shape), out_dims=dims(y.shape)):
        params = S.FcParams(S.ptr(weights, C.c_int8), None, S.ptr(mult, C.c_int32), S.ptr(shift, C.c_int32),
                            per_channel, filter_dims, -128, 127)
        return status("ehd_fully_connected_wrapper_s8", None, C.byref(params), C.byref(S.Offsets(0, 0)),
                      C.byref(x_dims), i8p(x), C.byref(out_dims), i8p(y))

    assert call() == S.Status.OK and call(per_channel=0) == S.Status.OK
    assert call(filter_dims=S.Dims(4, 1, 1, 9)) == S.Status.ERR_SHAPE  # weights read past the input rows
    assert call(filter_dims=S.Dims(5, 1, 1, 10)) == S.Status.ERR_SHAPE  # more outputs than the output has
    assert call(filter_dims=S.Dims(4, 2, 1, 5)) == S.Status.ERR_SHAPE
    assert call(x_dims=S.Dims(1, 1, 1, 29)) == S.Status.ERR_SHAPE  # 29 inputs are not 3 rows of 10
    assert call(out_dims=S.Dims(1, 1, 2, 4)) == S.Status.ERR_SHAPE  # 2 rows of output, 3 of input
    assert call(weights=None) == S.Status.ERR_ARG
    assert call(filter_dims=S.Dims(4, 1, 1, 0)) == S.Status.ERR_ARG
    shift[3] = 31  # one bad channel: found per-channel, unused per-tensor
    assert call() == S.Status.ERR_ARG and call(per_channel=0) == S.Status.OK
    shift[0] = -32
    assert call(per_channel=0) == S.Status.ERR_ARG
    with pytest.raises(ValueError, match="multiplier"):
        fw.fully_connected_s8(x, w, None, FullyConnectedParams(0, 0, mult[:3], shift[:3], -128, 127))


@pytest.mark.parametrize("depthwise", [False, True])
def test_convolutions_wrap_extreme_biases_like_numba(depthwise):
    # A bias near INT32_MAX / INT32_MIN plus the window sum passes int32: it wraps (TFLM's
    # accumulator on every target) in the C as in the mirror, never a signed overflow.
    from edgehdc.quant.arith import ConvParams

    rng = np.random.default_rng(21)
    x = np.full((1, 3, 3, 2), 127, np.int8)
    x[0, 1] = -128
    weights = np.full((1, 2, 2, 2) if depthwise else (2, 2, 2, 2), 127, np.int8)
    weights[..., 1] = -127
    bias = np.array([(1 << 31) - 1000, -(1 << 31) + 1000], np.int32)
    p = ConvParams(128, int(rng.integers(-128, 128)), np.full(2, (1 << 31) - 1, np.int32), np.zeros(2, np.int32),
                   1, 1, 0, 0, 1, 1, 1, -128, 127, 2, 2)
    run = (fw.depthwise_conv2d_s8, nb.depthwise_conv2d_s8) if depthwise else (fw.conv2d_s8, nb.conv2d_s8)
    np.testing.assert_array_equal(run[0](x, weights, bias, p), run[1](x, weights, bias, p))
