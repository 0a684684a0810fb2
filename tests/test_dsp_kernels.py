"""The `dsp` backend's kernels == the portable kernels, bit for bit, through the host bindings.

On the host the intrinsics are plain C (the same bits); tests/test_dsp_device.py
runs the same kernels with the real ACLE / MVE instructions on the emulated
cores. Cases stress what the fast paths special-case: channel counts that are
not a multiple of 4 (and 1, 3), window lengths k with a tail, odd pixel counts,
strides, dilation, padding, windows that leave the input, missing bias, extreme
requantization parameters.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

try:
    import edgehdc_bindings as fw
except ImportError:  # an editable install made before bindings/ existed does not map it
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bindings"))
    import edgehdc_bindings as fw

from test_bindings import _act, _int8, fc_case
from test_bindings import _out_size as _geometry
from test_bindings_ops import add_case

from edgehdc.kernels.requantize import multiply_by_quantized_multiplier
from edgehdc.quant.arith import ConvParams, FullyConnectedParams, PoolParams
from edgehdc_bindings import dsp


def _conv(rng, *, in_c, out_c, kh, kw, stride=(1, 1), dilation=(1, 1), pad=None, depthwise=False,
          size=None, bias=True):
    n = int(rng.integers(1, 3))
    h, w = size or (int(v) for v in rng.integers(1, 11, 2))
    pad_h, out_h = _geometry(rng, h, kh, stride[0], dilation[0])
    pad_w, out_w = _geometry(rng, w, kw, stride[1], dilation[1])
    if pad is not None:
        pad_h, pad_w = pad
        out_h = (h + 2 * pad_h - ((kh - 1) * dilation[0] + 1)) // stride[0] + 1
        out_w = (w + 2 * pad_w - ((kw - 1) * dilation[1] + 1)) // stride[1] + 1
    out_zp = int(rng.integers(-128, 128))
    act_min, act_max = _act(rng, out_zp)
    p = ConvParams(
        input_offset=-int(rng.integers(-128, 128)), output_offset=out_zp,
        multiplier=rng.integers(1 << 30, 1 << 31, out_c).astype(np.int32),
        shift=rng.integers(-12, 2, out_c).astype(np.int32),
        stride_h=stride[0], stride_w=stride[1], pad_h=pad_h, pad_w=pad_w,
        dilation_h=dilation[0], dilation_w=dilation[1], depth_multiplier=out_c // in_c if depthwise else 1,
        act_min=act_min, act_max=act_max, out_h=out_h, out_w=out_w)
    weights = _int8(rng, (1, kh, kw, out_c) if depthwise else (out_c, kh, kw, in_c))
    weights[weights == -128] = -127
    b = rng.integers(-30000, 30000, out_c).astype(np.int32) if bias else None
    return _int8(rng, (n, h, w, in_c)), weights, b, p


def random_conv(seed):
    rng = np.random.default_rng(seed)
    kh, kw = (int(v) for v in rng.integers(1, 6, 2))
    return _conv(rng, in_c=int(rng.integers(1, 14)), out_c=int(rng.integers(1, 14)), kh=kh, kw=kw,
                 stride=tuple(int(v) for v in rng.integers(1, 4, 2)),
                 dilation=tuple(int(v) for v in rng.integers(1, 3, 2)), bias=seed % 5 != 0)


def random_depthwise(seed, kernel=None, dilation=None):
    rng = np.random.default_rng(seed)
    kh, kw = kernel or (int(v) for v in rng.integers(1, 6, 2))
    dil = dilation or tuple(int(v) for v in rng.integers(1, 3, 2))
    c = int(rng.integers(1, 20))
    return _conv(rng, in_c=c, out_c=c, kh=kh, kw=kw, stride=tuple(int(v) for v in rng.integers(1, 3, 2)),
                 dilation=dil, depthwise=True, bias=seed % 5 != 0)


def random_pool(seed, max_filter=5):
    rng = np.random.default_rng(seed)
    n, h, w, c = (int(v) for v in rng.integers(1, [3, 12, 12, 20]))
    fh, fw_, sh, sw = (int(v) for v in rng.integers(1, [max_filter, max_filter, 4, 4]))
    pad_h, out_h = _geometry(rng, h, fh, sh, 1)
    pad_w, out_w = _geometry(rng, w, fw_, sw, 1)
    act_min, act_max = _act(rng, int(rng.integers(-128, 128)))
    p = PoolParams(filter_h=fh, filter_w=fw_, stride_h=sh, stride_w=sw, pad_h=pad_h, pad_w=pad_w,
                   act_min=act_min, act_max=act_max, out_h=out_h, out_w=out_w)
    return _int8(rng, (n, h, w, c)), p


SEEDS = range(40)


@pytest.mark.parametrize("seed", SEEDS)
def test_conv_general_matches_portable(seed):
    x, w, b, p = random_conv(seed)
    np.testing.assert_array_equal(dsp.conv2d_s8_dsp(x, w, b, p), fw.conv2d_s8(x, w, b, p))


@pytest.mark.parametrize("in_c", [1, 2, 3, 4, 5, 8, 13, 16, 33])
@pytest.mark.parametrize("kernel", [(3, 3), (1, 3), (5, 1)])
def test_conv_general_first_layer_shapes(in_c, kernel):
    # Few input channels (the first layer) make k = kh * kw * in_c end in a tail of 1..3.
    rng = np.random.default_rng(in_c * 10 + kernel[0])
    x, w, b, p = _conv(rng, in_c=in_c, out_c=int(rng.integers(1, 18)), kh=kernel[0], kw=kernel[1],
                       size=(9, 7), stride=(1, 2))
    np.testing.assert_array_equal(dsp.conv2d_s8_dsp(x, w, b, p), fw.conv2d_s8(x, w, b, p))


@pytest.mark.parametrize("in_c,dilation,stride", [(4, (1, 1), (1, 1)), (12, (2, 1), (2, 1)), (16, (1, 1), (1, 2)),
                                                   (20, (3, 1), (2, 2))])
def test_conv_general_widens_inside_windows_from_the_input(in_c, dilation, stride):
    # kw * in_c a multiple of 4: inside windows skip the staging row, border windows still gather.
    rng = np.random.default_rng(in_c)
    x, w, b, p = _conv(rng, in_c=in_c, out_c=int(rng.integers(1, 12)) * 2 + 1, kh=3, kw=3, size=(11, 9),
                       stride=stride, dilation=dilation, pad=(1, 1))
    np.testing.assert_array_equal(dsp.conv2d_s8_dsp(x, w, b, p), fw.conv2d_s8(x, w, b, p))


@pytest.mark.parametrize("seed", range(20))
def test_conv_1x1_matches_portable(seed):
    rng = np.random.default_rng(500 + seed)
    stride = tuple(int(v) for v in rng.integers(1, 3, 2))
    x, w, b, p = _conv(rng, in_c=int(rng.integers(1, 40)), out_c=int(rng.integers(1, 20)), kh=1, kw=1,
                       stride=stride, pad=(0, 0), bias=seed % 4 != 0)
    np.testing.assert_array_equal(dsp.conv2d_s8_dsp(x, w, b, p, variant="1x1"), fw.conv2d_s8(x, w, b, p))
    np.testing.assert_array_equal(dsp.conv2d_s8_dsp(x, w, b, p), fw.conv2d_s8(x, w, b, p))


def test_conv_1x1_refuses_what_it_does_not_cover():
    rng = np.random.default_rng(3)
    for kernel, pad in [((3, 3), (0, 0)), ((1, 1), (1, 0))]:
        x, w, b, p = _conv(rng, in_c=4, out_c=4, kh=kernel[0], kw=kernel[1], size=(6, 6), pad=pad)
        with pytest.raises(fw.FirmwareError, match="EHD_ERR_UNSUPPORTED"):
            dsp.conv2d_s8_dsp(x, w, b, p, variant="1x1")


@pytest.mark.parametrize("seed", SEEDS)
def test_depthwise_general_matches_portable(seed):
    x, w, b, p = random_depthwise(1000 + seed)
    np.testing.assert_array_equal(dsp.depthwise_conv2d_s8_dsp(x, w, b, p), fw.depthwise_conv2d_s8(x, w, b, p))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("scratch", [True, False])  # the padded plane, or border windows one by one
def test_depthwise_3x3_matches_portable(seed, scratch):
    x, w, b, p = random_depthwise(2000 + seed, kernel=(3, 3), dilation=(1, 1))
    np.testing.assert_array_equal(dsp.depthwise_conv2d_s8_dsp(x, w, b, p, variant="3x3", scratch=scratch),
                                  fw.depthwise_conv2d_s8(x, w, b, p))


def test_depthwise_variants_refuse_what_they_do_not_cover():
    rng = np.random.default_rng(4)
    x, w, b, p = _conv(rng, in_c=3, out_c=6, kh=3, kw=3, depthwise=True, size=(5, 5))  # multiplier 2
    for variant in dsp.DEPTHWISE_VARIANTS:
        with pytest.raises(fw.FirmwareError, match="EHD_ERR_UNSUPPORTED"):
            dsp.depthwise_conv2d_s8_dsp(x, w, b, p, variant=variant)
    x, w, b, p = random_depthwise(5, kernel=(3, 3), dilation=(2, 1))
    with pytest.raises(fw.FirmwareError, match="EHD_ERR_UNSUPPORTED"):
        dsp.depthwise_conv2d_s8_dsp(x, w, b, p, variant="3x3")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["avg", "max"])
def test_pooling_matches_portable(seed, kind):
    x, p = random_pool(3000 + seed)
    name = f"{kind}_pool2d_s8"
    np.testing.assert_array_equal(getattr(dsp, name + "_dsp")(x, p), getattr(fw, name)(x, p))


def test_avgpool_of_a_full_window_of_extremes():
    # 16x16 = 256 values of -128 (or 127) is the largest sum the int16 lanes must hold.
    for value in (-128, 127):
        x = np.full((1, 16, 16, 7), value, np.int8)
        p = PoolParams(16, 16, 1, 1, 0, 0, -128, 127, 1, 1)
        np.testing.assert_array_equal(dsp.avg_pool2d_s8_dsp(x, p), fw.avg_pool2d_s8(x, p))
        assert (dsp.avg_pool2d_s8_dsp(x, p) == value).all()
    p = PoolParams(17, 16, 1, 1, 0, 0, -128, 127, 1, 1)
    with pytest.raises(fw.FirmwareError, match="EHD_ERR_UNSUPPORTED"):
        dsp.avg_pool2d_s8_dsp(np.zeros((1, 17, 16, 4), np.int8), p)


def random_fc(seed, per_channel=None):
    """fc_case's shapes (odd row counts, inputs not a multiple of 4) with longer rows, per-tensor
    or per-channel requantization."""
    rng = np.random.default_rng(seed)
    x, w, b, p = fc_case(rng)
    n_in = int(rng.integers(1, 300)) if seed % 3 else x.shape[1]
    x, w = _int8(rng, (x.shape[0], n_in)), _int8(rng, (w.shape[0], n_in))
    if per_channel if per_channel is not None else seed % 2:
        out_n = w.shape[0]
        p = FullyConnectedParams(**{**p.__dict__, "multiplier": rng.integers(1 << 30, 1 << 31, out_n).astype(np.int32),
                                    "shift": rng.integers(-14, 2, out_n).astype(np.int32)})
    return x, w, b, p


def same_shape_add(seed):
    """add_case's parameters (lowered from scales, or raw over their whole range) on two inputs
    of the output's shape."""
    rng = np.random.default_rng(seed)
    a, b, p = add_case(rng)
    shape = np.broadcast_shapes(a.shape, b.shape)
    return _int8(rng, shape), _int8(rng, shape), p


@pytest.mark.parametrize("seed", SEEDS)
def test_fully_connected_matches_portable(seed):
    x, w, b, p = random_fc(seed)
    np.testing.assert_array_equal(dsp.fully_connected_s8_dsp(x, w, b, p), fw.fully_connected_s8(x, w, b, p))


def test_fully_connected_offset_outside_int16_lanes_is_left_to_portable(dsp_lib):
    # Offsets in [-128, 128] (every int8 zero point) fit the widened lanes; others are refused
    # by the kernel and the dsp wrapper gives the portable result.
    x, w, b, p = random_fc(3)
    for offset in (-128, 128):
        q = FullyConnectedParams(**{**p.__dict__, "input_offset": offset})
        np.testing.assert_array_equal(dsp.fully_connected_s8_dsp(x, w, b, q), fw.fully_connected_s8(x, w, b, q))
    q = FullyConnectedParams(**{**p.__dict__, "input_offset": 129})
    with pytest.raises(fw.FirmwareError, match="EHD_ERR_UNSUPPORTED"):
        dsp.fully_connected_s8_dsp(x, w, b, q)
    np.testing.assert_array_equal(fw.fully_connected_s8(x, w, b, q, lib=dsp_lib), fw.fully_connected_s8(x, w, b, q))


@pytest.mark.parametrize("seed", SEEDS)
def test_add_matches_portable(seed):
    a, b, p = same_shape_add(seed)
    np.testing.assert_array_equal(dsp.add_s8_dsp(a, b, p), fw.add_s8(a, b, p))


def test_add_in_place_and_extremes():
    # Every int8 value against every other (both tables read at both ends), output shift 0
    # (the reference path), the full and a narrow activation range, written over either input.
    a = np.repeat(np.arange(-128, 128, dtype=np.int8), 256).reshape(1, 256, 16, 16)
    b = np.tile(np.arange(-128, 128, dtype=np.int8), 256).reshape(1, 256, 16, 16)
    _, _, p = same_shape_add(5)
    for out_shift, act in ((p.output_shift, (-128, 127)), (0, (-128, 127)), (-3, (-20, 90))):
        q = type(p)(**{**p.__dict__, "output_shift": out_shift, "act_min": act[0], "act_max": act[1]})
        expected = fw.add_s8(a, b, q)
        np.testing.assert_array_equal(dsp.add_s8_dsp(a, b, q), expected)
        for which in (0, 1):
            inputs = [a.copy(), b.copy()]
            dsp.add_s8_dsp(*inputs, q, out=inputs[which])
            np.testing.assert_array_equal(inputs[which], expected)


def test_add_with_scaled_values_past_the_doubling_range():
    # Offsets far outside int8 make (x + offset) << left_shift wrap and the scaled values reach
    # the whole int32 range: the tables cannot be doubled and the 64-bit high product is used.
    a, b, p = same_shape_add(11)
    for offsets in ((3_000_000, -7), (-5, -2_000_000_000), (1 << 11, 1 << 11)):
        for shifts in ((0, 0), (-1, -31), (-17, -5)):
            q = type(p)(**{**p.__dict__, "input1_offset": offsets[0], "input2_offset": offsets[1],
                           "left_shift": 20, "input1_shift": shifts[0], "input2_shift": shifts[1],
                           "output_shift": -1})
            np.testing.assert_array_equal(dsp.add_s8_dsp(a, b, q), fw.add_s8(a, b, q))


@pytest.mark.parametrize("seed", range(6))
def test_add_tables_exactly(seed):
    # Inputs scaled to within +-64 and an output stage of (almost) 1.0: each output is the sum of
    # two table entries itself (output shift 0) or its half (-1, the doubled path), so a table value
    # rounded the wrong way shows. Every int8 pair; input shifts around -21 with random multipliers,
    # or (odd seeds) no left shift and a multiplier of 0.5, where the roundings meet exact ties.
    rng = np.random.default_rng(seed)
    a = np.repeat(np.arange(-128, 128, dtype=np.int8), 256).reshape(1, 256, 16, 16)
    b = np.tile(np.arange(-128, 128, dtype=np.int8), 256).reshape(1, 256, 16, 16)
    _, _, p = same_shape_add(seed)
    if seed % 2:
        inputs = {"left_shift": 0, "input1_multiplier": 1 << 30, "input1_shift": -1,
                  "input2_multiplier": 1 << 30, "input2_shift": -2}
    else:
        inputs = {"left_shift": 20, "input1_multiplier": int(rng.integers(1 << 29, 1 << 31)), "input1_shift": -21,
                  "input2_multiplier": int(rng.integers(1 << 29, 1 << 31)), "input2_shift": -22}
    for out_shift in (0, -1):
        q = type(p)(**{**p.__dict__, **inputs, "input1_offset": int(rng.integers(-127, 129)),
                       "input2_offset": int(rng.integers(-127, 129)), "output_multiplier": (1 << 31) - 1,
                       "output_shift": out_shift, "output_offset": 0, "act_min": -128, "act_max": 127})
        np.testing.assert_array_equal(dsp.add_s8_dsp(a, b, q), fw.add_s8(a, b, q))


def test_add_broadcast_is_left_to_portable(dsp_lib):
    rng = np.random.default_rng(9)
    _, _, p = same_shape_add(9)
    a, b = _int8(rng, (1, 4, 5, 6)), _int8(rng, (1, 1, 5, 6))
    with pytest.raises(fw.FirmwareError, match="EHD_ERR_UNSUPPORTED"):
        dsp.add_s8_dsp(a, b, p)
    np.testing.assert_array_equal(fw.add_s8(a, b, p, lib=dsp_lib), fw.add_s8(a, b, p))


def _expected_requantize(acc, p):
    """TFLite's epilogue on exact integers: wrapped int32 accumulator, scaled, + offset, clamped."""
    out = [int(multiply_by_quantized_multiplier(a, int(m), int(s))) + p.output_offset
           for a, m, s in zip(acc, p.multiplier, p.shift)]
    return np.clip(out, p.act_min, p.act_max).astype(np.int8)


@pytest.mark.parametrize("seed", range(8))
def test_requantization_extremes(seed):
    # One tap of weight 1 per channel: acc = bias + x + input_offset, over the whole int32 range
    # (wrapping like TFLM's int32 accumulator), with every shift from -31 to +30 and both ends of
    # the multiplier range, through every fused requantization (GEMM pairs, its odd channel,
    # depthwise groups of four and single channels).
    rng = np.random.default_rng(seed)
    c = 13
    bias = rng.integers(-(1 << 31), 1 << 31, c, dtype=np.int64)
    bias[:4] = [(1 << 31) - 1, -(1 << 31), (1 << 31) - 300, -(1 << 31) + 300]
    shift = rng.integers(-31, 31, c)
    shift[:3] = [-31, 0, 30]
    mult = rng.integers(0, 1 << 31, c)
    mult[:3] = [0, (1 << 31) - 1, 1 << 30]
    out_zp = int(rng.integers(-128, 128))
    p = ConvParams(input_offset=int(rng.integers(-127, 129)), output_offset=out_zp,
                   multiplier=mult.astype(np.int32), shift=shift.astype(np.int32), stride_h=1, stride_w=1,
                   pad_h=0, pad_w=0, dilation_h=1, dilation_w=1, depth_multiplier=1,
                   act_min=-128, act_max=127, out_h=1, out_w=3)
    x = _int8(rng, (1, 1, 3, c))
    bias32 = bias.astype(np.int32)
    acc = (bias[None, :] + x[0, 0].astype(np.int64) + p.input_offset).astype(np.int64)
    acc = ((acc + (1 << 31)) % (1 << 32)) - (1 << 31)
    expected = np.stack([_expected_requantize(a, p) for a in acc])[None, None]
    dw_weights = np.ones((1, 1, 1, c), np.int8)
    np.testing.assert_array_equal(dsp.depthwise_conv2d_s8_dsp(x, dw_weights, bias32, p), expected)
    # CONV_2D 1x1 with an identity weight matrix sees the same accumulators.
    conv_weights = np.eye(c, dtype=np.int8).reshape(c, 1, 1, c)
    acc_conv = bias[None, :] + (x[0, 0].astype(np.int64) + p.input_offset)
    acc_conv = ((acc_conv + (1 << 31)) % (1 << 32)) - (1 << 31)
    expected = np.stack([_expected_requantize(a, p) for a in acc_conv])[None, None]
    for variant in dsp.CONV_VARIANTS:
        np.testing.assert_array_equal(dsp.conv2d_s8_dsp(x, conv_weights, bias32, p, variant=variant), expected)
    # FULLY_CONNECTED per channel: the same identity matrix, the three pixels as a batch.
    fc = FullyConnectedParams(p.input_offset, p.output_offset, p.multiplier, p.shift, p.act_min, p.act_max)
    np.testing.assert_array_equal(dsp.fully_connected_s8_dsp(x[0, 0], np.eye(c, dtype=np.int8), bias32, fc),
                                  expected[0, 0])


def test_scratch_too_small_or_misaligned_is_refused():
    import ctypes as C

    x, w, b, p = random_conv(1)
    lib = dsp._declared(None)
    out, args, _alive = fw.kernels.conv_call_args(x, w, b, p, w.shape[0])
    size = lib.ehd_convolve_s8_dsp_get_buffer_size(args[0], args[2])
    buf = np.zeros(size // 4 + 2, np.uint32)
    for ctx in (dsp.Context(buf.ctypes.data, size - 1), dsp.Context(buf.ctypes.data + 2, size),
                dsp.Context(None, size)):
        assert lib.ehd_convolve_s8_dsp(C.byref(ctx), *args) == fw.Status.ERR_ARG
    assert lib.ehd_convolve_s8_dsp(None, *args) == fw.Status.ERR_ARG


def test_bad_arguments_get_the_portable_status():
    x, w, b, p = random_conv(2)
    bad_shape = np.zeros((*w.shape[:3], w.shape[3] + 1), np.int8)
    with pytest.raises(fw.FirmwareError, match="EHD_ERR_SHAPE"):
        dsp.conv2d_s8_dsp(x, bad_shape, b, p)
    bad_shift = ConvParams(**{**p.__dict__, "shift": np.full(w.shape[0], 31, np.int32)})
    with pytest.raises(fw.FirmwareError, match="EHD_ERR_ARG"):
        dsp.conv2d_s8_dsp(x, w, b, bad_shift)
    x, w, b, p = random_depthwise(3)
    with pytest.raises(fw.FirmwareError, match="EHD_ERR_ARG"):
        dsp.depthwise_conv2d_s8_dsp(x, w, b, ConvParams(**{**p.__dict__, "stride_h": 0}))


# --- the wrappers of a library built with backend="dsp" -------------------------------------


@pytest.fixture(scope="module")
def dsp_lib():
    return fw.build_library(backend="dsp")


@pytest.mark.parametrize("seed", range(12))
def test_dsp_wrappers_match_portable(dsp_lib, seed):
    # Shapes the dsp kernels take and shapes the wrappers leave to portable (depth multiplier 2,
    # an average pool over more than 256 values) alike.
    x, w, b, p = random_conv(4000 + seed)
    np.testing.assert_array_equal(fw.conv2d_s8(x, w, b, p, lib=dsp_lib), fw.conv2d_s8(x, w, b, p))
    rng = np.random.default_rng(seed)
    c = int(rng.integers(1, 9))
    x, w, b, p = _conv(rng, in_c=c, out_c=c * int(rng.integers(1, 3)), kh=3, kw=3, depthwise=True)
    np.testing.assert_array_equal(fw.depthwise_conv2d_s8(x, w, b, p, lib=dsp_lib),
                                  fw.depthwise_conv2d_s8(x, w, b, p))
    x, p = random_pool(4000 + seed, max_filter=20)
    for name in ("avg_pool2d_s8", "max_pool2d_s8"):
        np.testing.assert_array_equal(getattr(fw, name)(x, p, lib=dsp_lib), getattr(fw, name)(x, p))
    x, w, b, p = random_fc(4000 + seed)
    np.testing.assert_array_equal(fw.fully_connected_s8(x, w, b, p, lib=dsp_lib), fw.fully_connected_s8(x, w, b, p))
    a, b, p = add_case(rng)  # broadcasting ones too
    np.testing.assert_array_equal(fw.add_s8(a, b, p, lib=dsp_lib), fw.add_s8(a, b, p))


def test_wrapper_scratch_size_by_backend(dsp_lib):
    x, w, b, p = random_conv(7)
    k = w.shape[1] * w.shape[2] * w.shape[3]
    assert dsp.conv2d_buffer_size(x.shape, w, p) == 0  # portable needs none
    groups = (k + 3) // 4  # four int16 columns (8 words per group of 4 k) + an int8 staging row
    assert dsp.conv2d_buffer_size(x.shape, w, p, lib=dsp_lib) == 4 * (8 * groups + groups)


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="cmsis"):
        fw.build_library(backend="cmsis")
