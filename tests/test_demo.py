"""The main job end to end on a short training run and a slice of the test split."""

import json

import pytest

from edgehdc.pipeline import DemoConfig, run_demo

pytestmark = [pytest.mark.slow, pytest.mark.emulator]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return run_demo(DemoConfig(out_dir=out, epochs=20, device_samples=40), log=lambda _: None), out


def test_every_rung_is_exact(report):
    rep, _ = report
    rungs = rep["parity"]["rungs"]
    assert set(rungs) == {"tflm_vs_numba", "bindings_vs_numba", "device_vs_numba"}
    for name, rung in rungs.items():
        assert rung["compared"] > 0, name
        assert rung["mismatches"] == 0, (name, rung["first_mismatch"])
    # 40 device samples x (32 features + 2048 hv bits + 10 distances + label + confidence)
    assert rungs["device_vs_numba"]["compared"] == 40 * (32 + 2048 + 10 + 2)


def test_accuracies_and_device_numbers(report):
    rep, _ = report
    acc = rep["accuracy"]
    assert acc["int8"] >= 0.95 and abs(acc["int8"] - acc["float"]) <= 0.02
    assert acc["hdc_host"] >= 0.93 and acc["hdc_device"] >= 0.9
    dev = rep["device"]
    assert dev["samples"] == 40 and dev["board"] == "mps2-an386"
    assert dev["instructions_per_inference"] == pytest.approx(dev["instructions_model"] + dev["instructions_hdc"], abs=1)
    assert dev["instructions_model"] > 10_000 and dev["instructions_hdc"] > 2048
    assert 0 < dev["flash_bytes"] and 0 < dev["ram_bytes"]


def test_artifacts_and_report_file(report):
    rep, out = report
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk["parity"] == rep["parity"]
    manifest = json.loads((out / "model" / "manifest.json").read_text())
    assert manifest["model_sha256"] == rep["model_sha256"]
    for name in ("model.tflite", "hdc.npz", "model/ehd_generated.c", "model/ehd_generated.h"):
        assert (out / name).stat().st_size > 0

