"""The firmware's HDC compiled for the host (bindings) == the Numba mirror, bit for bit."""

import ctypes as C
import sys
from pathlib import Path

import numpy as np
import pytest

try:
    import edgehdc_bindings as fw
except ImportError:  # an editable install made before bindings/ existed does not map it
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bindings"))
    import edgehdc_bindings as fw

from edgehdc.hdc import Centroid, IdLevel, SignProjection
from edgehdc_bindings.kernels import hdc_model
from edgehdc_bindings.structs import HdcModel, Status, ptr


def _calibration(rng, n_features):
    spread = rng.uniform(5, 40, n_features)
    return (rng.normal(0, 1, (100, n_features)) * spread + rng.uniform(-20, 20, n_features)).clip(-128, 127).astype(np.int8)


@pytest.mark.parametrize("n_features,dim", [(1, 32), (32, 2048), (50, 256), (64, 96)])
@pytest.mark.parametrize("calibrated", [False, True])
@pytest.mark.parametrize("stored", [True, False])
def test_sign_projection_both_paths_match_numba(n_features, dim, calibrated, stored):
    rng = np.random.default_rng(n_features + dim)
    enc = SignProjection(n_features, dim=dim, seed=0xBEEF, zero_point=-7, stored=stored)
    if calibrated:
        enc.calibrate(_calibration(rng, n_features))
    x = rng.integers(-128, 128, (6, n_features)).astype(np.int8)
    x[0] = -7  # every feature on the zero point: all sums 0, no bit set without calibration
    expected = enc.encode(x)
    np.testing.assert_array_equal(fw.hdc_encode(enc, x, scratch=True), expected)
    np.testing.assert_array_equal(fw.hdc_encode(enc, x, scratch=False), expected)


@pytest.mark.parametrize("n_features,n_levels", [(8, 16), (9, 4), (32, 32)])
def test_id_level_matches_numba(n_features, n_levels):
    rng = np.random.default_rng(n_features)
    enc = IdLevel(n_features, dim=256, n_levels=n_levels, seed=77, zero_point=3)
    x = rng.integers(-128, 128, (6, n_features)).astype(np.int8)
    np.testing.assert_array_equal(fw.hdc_encode(enc, x), enc.encode(x))
    enc.calibrate(_calibration(rng, n_features))
    np.testing.assert_array_equal(fw.hdc_encode(enc, x), enc.encode(x))


def test_classify_matches_retrained_centroid():
    rng = np.random.default_rng(2)
    enc = SignProjection(24, dim=512).calibrate(_calibration(rng, 24))
    x = _calibration(rng, 24)
    labels = np.arange(len(x)) % 5
    model = Centroid(5, 512).fit(enc.encode(x), labels, epochs=3, margin=20)
    fw_labels, fw_conf, fw_d = fw.hdc_classify(fw.hdc_encode(enc, x), model.prototypes)
    host_labels, host_conf, host_d = model.classify(enc.encode(x))
    np.testing.assert_array_equal(fw_d, host_d)
    np.testing.assert_array_equal(fw_labels, host_labels)
    np.testing.assert_array_equal(fw_conf, host_conf)


def _encode_status(model: HdcModel, n_features: int) -> int:
    x = np.zeros(n_features, np.int8)
    hv = np.zeros(max(model.dim // 32, 1), np.uint32)
    return fw.default_library().ehd_hdc_encode(C.byref(model), ptr(x, C.c_int8), ptr(hv, C.c_uint32))


def test_encode_refuses_bad_models():
    enc = SignProjection(8, dim=64).calibrate(np.arange(-40, 40, dtype=np.int8).reshape(10, 8))
    model, keep = hdc_model(enc)
    assert _encode_status(model, 8) == Status.OK
    keep[1][3] = 16  # a scale above EHD_HDC_MAX_SCALE could overflow the int16 tables
    assert _encode_status(model, 8) == Status.ERR_ARG
    keep[1][3] = 15
    for field, value in [("dim", 48), ("dim", 0), ("n_features", 0), ("feature_zero_point", 128), ("encoder", 9)]:
        bad, _ = hdc_model(enc)
        setattr(bad, field, value)
        want = Status.ERR_UNSUPPORTED if field == "encoder" else Status.ERR_ARG
        assert _encode_status(bad, 8) == want, field
    regen, _ = hdc_model(SignProjection(8, dim=64, stored=False))
    regen.seed = 0  # xorshift32 is stuck at 0
    assert _encode_status(regen, 8) == Status.ERR_ARG
    id_level, _ = hdc_model(IdLevel(8, dim=64), scratch=False)
    id_level.scratch = C.POINTER(C.c_int16)()
    assert _encode_status(id_level, 8) == Status.ERR_ARG
