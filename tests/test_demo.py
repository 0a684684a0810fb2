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



def test_report_has_the_device_integrity_and_per_layer_profile(report):
    rep, _ = report
    dev = rep["device"]
    assert dev["integrity"]["intact"] and dev["integrity"]["table_format"] == 1
    prof = dev["profile"]
    ops = [row["op"] for row in prof["layers"]]
    assert ops[0] == "CONV_2D" and "DEPTHWISE_CONV_2D" in ops and len(ops) >= 4
    assert sum(row["ticks"] for row in prof["layers"]) + prof["tail_ticks"] == prof["ticks_model"]
    assert all(row["instructions"] > 0 for row in prof["layers"])
    # One image profiled; the report's instructions are the mean over 40: the kernels barely depend on data.
    assert prof["instructions_model"] == pytest.approx(dev["instructions_model"], rel=0.01)
    assert prof["instructions_hdc"] == pytest.approx(dev["instructions_hdc"], rel=0.01)
