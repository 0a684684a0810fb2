"""The demo's whole path with a 1-D conv model on a time-series set: TFLM, firmware C and the emulated
Cortex-M4 all equal the Numba mirror, bit for bit (`edgehdc demo --dataset JapaneseVowels`)."""

import pytest

from edgehdc.pipeline import DemoConfig, run_demo

pytestmark = [pytest.mark.slow, pytest.mark.emulator]


def test_series_model_runs_bit_exact_on_the_emulated_board(tmp_path):
    rep = run_demo(DemoConfig(out_dir=tmp_path, dataset="JapaneseVowels", epochs=15, device_samples=12),
                   log=lambda _: None)
    for name, rung in rep["parity"]["rungs"].items():
        assert rung["compared"] > 0 and rung["mismatches"] == 0, (name, rung["first_mismatch"])
    # 12 series x (32 features + 2048 hv bits + 9 distances + label + confidence)
    assert rep["parity"]["rungs"]["device_vs_numba"]["compared"] == 12 * (32 + 2048 + 9 + 2)
    assert rep["config"]["dataset"] == "JapaneseVowels" and rep["accuracy"]["hdc_host"] > 0.5
