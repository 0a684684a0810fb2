"""The `cmsis_nn` backend on the host: every adapter == the portable kernel == the Numba mirror.

The library built with backend="cmsis_nn" links Arm's CMSIS-NN v7.0.0 (its
generic C paths on the host; tests/test_cmsis_nn_device.py runs the DSP and
MVE paths on the emulated cores). Each adapter is called on its own (so
CMSIS-NN, not a fallback, computed the result) with exactly the scratch it
asks for plus guard bytes, on random shapes: odd channel counts, channels not
a multiple of 4, strides, dilation, padding, 1x1 / 1xN / 3x3 shapes, depth
multipliers, batches; then the backend's wrappers, including the shapes they
leave to the portable kernels, and the statuses for bad arguments.
"""

import numpy as np
import pytest
from test_bindings_ops import add_case, fc_case, int8, pad_case, random_shape, softmax_params
from test_dsp_kernels import _conv, random_conv, random_depthwise, random_pool

import edgehdc_bindings as fw
from edgehdc import kernels as nb
from edgehdc.quant.arith import lower
from edgehdc_bindings import cmsis_nn as cm

SEEDS = range(30)


@pytest.fixture(scope="module")
def lib():
    return cm.library()


def _same(got, x_portable, x_numba):
    np.testing.assert_array_equal(got, x_portable)
    np.testing.assert_array_equal(got, x_numba)


@pytest.mark.parametrize("seed", SEEDS)
def test_conv_matches_portable(lib, seed):
    x, w, b, p = random_conv(seed)
    _same(cm.conv2d_s8_cmsis_nn(x, w, b, p, lib=lib), fw.conv2d_s8(x, w, b, p), nb.conv2d_s8(x, w, b, p))


@pytest.mark.parametrize("shape", [
    dict(in_c=3, out_c=7, kh=3, kw=3, size=(9, 7), stride=(1, 2)),  # first layer, k tail
    dict(in_c=1, out_c=5, kh=10, kw=4, size=(13, 6), stride=(2, 2)),  # DS-CNN's first conv
    dict(in_c=13, out_c=9, kh=1, kw=1, size=(5, 7), pad=(0, 0)),  # 1x1 fast
    dict(in_c=6, out_c=5, kh=1, kw=1, size=(7, 7), stride=(2, 1), pad=(0, 0)),  # 1x1 strided
    dict(in_c=8, out_c=7, kh=1, kw=3, size=(1, 11), stride=(1, 1)),  # 1xN (c x stride % 4 == 0)
    dict(in_c=4, out_c=3, kh=1, kw=5, size=(1, 12), stride=(1, 1), pad=(0, 2)),  # 1xN with padding
    dict(in_c=5, out_c=6, kh=1, kw=3, size=(1, 9), stride=(1, 1)),  # 1xN shape, c % 4 != 0: generic
    dict(in_c=19, out_c=17, kh=3, kw=3, size=(6, 5), dilation=(2, 2)),
])
def test_conv_variants_match_portable(lib, shape):
    rng = np.random.default_rng(len(str(shape)))
    x, w, b, p = _conv(rng, **shape)
    _same(cm.conv2d_s8_cmsis_nn(x, w, b, p, lib=lib), fw.conv2d_s8(x, w, b, p), nb.conv2d_s8(x, w, b, p))
    np.testing.assert_array_equal(fw.conv2d_s8(x, w, b, p, lib=lib), fw.conv2d_s8(x, w, b, p))


@pytest.mark.parametrize("seed", SEEDS)
def test_depthwise_matches_portable(lib, seed):
    x, w, b, p = random_depthwise(1000 + seed) if seed % 2 else random_depthwise(
        2000 + seed, kernel=(3, 3), dilation=(1, 1))
    _same(cm.depthwise_conv2d_s8_cmsis_nn(x, w, b, p, lib=lib), fw.depthwise_conv2d_s8(x, w, b, p),
          nb.depthwise_conv2d_s8(x, w, b, p))


@pytest.mark.parametrize("mult", [2, 3, 4, 8])
def test_depthwise_multiplier_matches_portable(lib, mult):
    rng = np.random.default_rng(mult)
    x, w, b, p = _conv(rng, in_c=3, out_c=3 * mult, kh=3, kw=2, depthwise=True, size=(6, 7), stride=(1, 2))
    _same(cm.depthwise_conv2d_s8_cmsis_nn(x, w, b, p, lib=lib), fw.depthwise_conv2d_s8(x, w, b, p),
          nb.depthwise_conv2d_s8(x, w, b, p))


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("per_channel", [False, True])
def test_fully_connected_matches_portable(lib, seed, per_channel):
    g, op, x, w, bias = fc_case(np.random.default_rng(700 + seed), per_channel)
    p = lower(g, op)
    _same(cm.fully_connected_s8_cmsis_nn(x, w, bias, p, lib=lib), fw.fully_connected_s8(x, w, bias, p),
          nb.fully_connected_s8(x, w, bias, p))


@pytest.mark.parametrize("seed", SEEDS)
def test_pools_match_portable(lib, seed):
    x, p = random_pool(3000 + seed, max_filter=6)
    _same(cm.avg_pool2d_s8_cmsis_nn(x, p, lib=lib), fw.avg_pool2d_s8(x, p), nb.avg_pool2d_s8(x, p))
    _same(cm.max_pool2d_s8_cmsis_nn(x, p, lib=lib), fw.max_pool2d_s8(x, p), nb.max_pool2d_s8(x, p))


@pytest.mark.parametrize("seed", range(24))
def test_add_matches_portable(lib, seed):
    a, b, p = add_case(np.random.default_rng(seed))
    expected = fw.add_s8(a, b, p)
    np.testing.assert_array_equal(fw.add_s8(a, b, p, lib=lib), expected)  # broadcasting: portable
    if a.shape == b.shape:
        _same(cm.add_s8_cmsis_nn(a, b, p, lib=lib), expected, nb.add_s8(a, b, p))
    else:
        with pytest.raises(fw.FirmwareError, match="EHD_ERR_UNSUPPORTED"):
            cm.add_s8_cmsis_nn(a, b, p, lib=lib)


@pytest.mark.parametrize("seed", range(12))
def test_softmax_matches_portable(lib, seed):
    rng = np.random.default_rng(500 + seed)
    shape = random_shape(rng, high=40)
    x, p = int8(rng, shape), softmax_params(rng, shape)
    _same(cm.softmax_s8_cmsis_nn(x, p, lib=lib), fw.softmax_s8(x, p), nb.softmax_s8(x, p))


@pytest.mark.parametrize("seed", range(12))
def test_pad_matches_portable(lib, seed):
    x, p = pad_case(np.random.default_rng(400 + seed))
    _same(cm.pad_s8_cmsis_nn(x, p, lib=lib), fw.pad_s8(x, p), nb.pad_s8(x, p))


def test_wrappers_of_the_cmsis_nn_library_match_portable(lib):
    for seed in range(10):
        x, w, b, p = random_conv(seed)
        np.testing.assert_array_equal(fw.conv2d_s8(x, w, b, p, lib=lib), fw.conv2d_s8(x, w, b, p))
        x, w, b, p = random_depthwise(1000 + seed)
        np.testing.assert_array_equal(fw.depthwise_conv2d_s8(x, w, b, p, lib=lib),
                                      fw.depthwise_conv2d_s8(x, w, b, p))
        x, p = random_pool(3000 + seed)
        np.testing.assert_array_equal(fw.avg_pool2d_s8(x, p, lib=lib), fw.avg_pool2d_s8(x, p))
        np.testing.assert_array_equal(fw.max_pool2d_s8(x, p, lib=lib), fw.max_pool2d_s8(x, p))
        g, op, x, w, bias = fc_case(np.random.default_rng(seed), seed % 2 == 0)
        p = lower(g, op)
        np.testing.assert_array_equal(fw.fully_connected_s8(x, w, bias, p, lib=lib),
                                      fw.fully_connected_s8(x, w, bias, p))


def _status(call):
    try:
        call()
    except fw.FirmwareError as e:
        return e.status
    return 0


def test_bad_arguments_give_the_portable_status(lib):
    from dataclasses import replace

    rng = np.random.default_rng(9)
    x, w, b, p = _conv(rng, in_c=4, out_c=5, kh=3, kw=3, size=(6, 6))
    xd, wd, bd, pd = _conv(rng, in_c=4, out_c=4, kh=3, kw=3, depthwise=True, size=(6, 6))
    xp, pp = random_pool(3)
    g, op, xf, wf, bf = fc_case(rng, True)
    pf = lower(g, op)
    a, bb, pa = add_case(np.random.default_rng(1))
    cases = [
        ("conv2d_s8", (x, w, b, replace(p, act_min=5, act_max=4))),
        ("conv2d_s8", (x, w, b, replace(p, stride_h=0))),
        ("conv2d_s8", (x, w, b, replace(p, shift=np.full(5, 31, np.int32)))),
        ("depthwise_conv2d_s8", (xd, wd, bd, replace(pd, depth_multiplier=2))),
        ("depthwise_conv2d_s8", (xd, wd, bd, replace(pd, multiplier=np.full(4, -1, np.int32)))),
        ("avg_pool2d_s8", (xp, replace(pp, pad_h=pp.filter_h, out_h=pp.out_h + 1))),  # a window in the padding
        ("max_pool2d_s8", (xp, replace(pp, pad_w=pp.filter_w, out_w=pp.out_w + 1))),
        ("avg_pool2d_s8", (xp, replace(pp, act_min=100, act_max=-100))),
        ("fully_connected_s8", (xf, wf, bf, replace(pf, act_min=200))),
        ("add_s8", (a, bb, replace(pa, left_shift=21))),
        ("softmax_s8", (int8(rng, (3, 5)), replace(softmax_params(rng, (3, 5)), diff_min=1))),
    ]
    for fn, args in cases:
        expected = _status(lambda: getattr(fw, fn)(*args))
        assert expected != 0, fn
        assert _status(lambda: getattr(fw, fn)(*args, lib=lib)) == expected, fn
        adapter = getattr(cm, fn + "_cmsis_nn") if fn != "add_s8" or a.shape == bb.shape else None
        if adapter is not None:
            assert _status(lambda: adapter(*args, lib=lib)) == expected, fn


def test_a_1x1_conv_with_a_smaller_output_writes_only_that_output(lib):
    """arm_convolve_1x1_s8_fast writes one row per input pixel: a table whose 1x1 stride-1 conv has a
    smaller output than its input (TFLite never makes one) goes to the portable kernel, which writes
    exactly the output, instead of past it."""
    import ctypes as C
    import dataclasses

    from edgehdc_bindings.kernels import conv_call_args, with_scratch, wrapper_buffer_size
    from edgehdc_bindings.structs import ptr

    rng = np.random.default_rng(7)
    x, w, b, p = _conv(rng, in_c=4, out_c=8, kh=1, kw=1, size=(6, 6), pad=(0, 0))
    small = dataclasses.replace(p, out_h=2, out_w=2)
    out, args, _alive = conv_call_args(x, w, b, small, 8)
    guarded = np.full(x.shape[0] * 36 * 8, 0x55, np.int8)  # room for what the fast kernel would write
    args = (*args[:5], ptr(guarded, C.c_int8))
    name = "ehd_convolve_wrapper_s8"
    with_scratch(lib, name, wrapper_buffer_size(lib, name, args), args)  # raises unless EHD_OK
    n = out.size
    assert np.all(guarded[n:] == 0x55), "wrote past the output tensor"
    expected = fw.conv2d_s8(x, w, b, small)  # portable: the 2x2 corner of the full output
    np.testing.assert_array_equal(guarded[:n].reshape(expected.shape), expected)
