"""`edgehdc hdc sweep` and `edgehdc hdc learn-demo` end to end, on a short training run."""

import json
import shutil

import numpy as np
import pytest

from edgehdc.cli import main
from edgehdc.hdc.learn_demo import run_learn_demo
from edgehdc.hdc.sweep import run_sweep
from edgehdc.pipeline import DemoConfig

needs_emulator = pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
                                    reason="needs arm-none-eabi-gcc and qemu-system-arm (scripts/setup.sh)")


@pytest.mark.slow
@pytest.mark.emulator
@needs_emulator
def test_sweep_measures_every_dimension_on_the_device(tmp_path):
    result = run_sweep(DemoConfig(epochs=10), dims=(512, 1024), out_dir=tmp_path, samples=3, log=lambda _: None)
    rows = {r["dim"]: r for r in result["rows"]}
    assert set(rows) == {512, 1024}
    for dim, r in rows.items():
        assert r["prototype_bytes"] == 10 * dim // 8 and r["encoder_bytes"] == 4 * dim
        assert r["device_mismatches"] == 0 and 0.5 < r["accuracy"] <= 1
    # The rows cost the same per bit on top of a fixed table build (about 3.6 k): doubling D costs
    # about 1.66x; the search grows with D too.
    assert 1.4 < rows[1024]["encode_instructions"] / rows[512]["encode_instructions"] < 2.0
    assert rows[1024]["search_instructions"] > rows[512]["search_instructions"]
    assert json.loads((tmp_path / "sweep.json").read_text())["rows"] == result["rows"]
    assert (tmp_path / "sweep.png").stat().st_size > 1000 and "| 1024 |" in (tmp_path / "sweep.md").read_text()


@pytest.mark.slow
@pytest.mark.emulator
@needs_emulator
def test_learn_demo_teaches_a_new_digit(tmp_path):
    report = run_learn_demo(DemoConfig(epochs=20), tmp_path, held_out=9, shots=(1, 10), samples=90,
                            log=lambda _: None)
    on_disk = json.loads((tmp_path / "report.json").read_text())
    for key in ("shots", "new_class_accuracy", "old_classes_accuracy_before", "old_classes_accuracy_after",
                "prototype_mismatches"):
        assert on_disk[key] == report[key]
    assert report["shots"] == [1, 10] and report["samples"] == 90
    assert report["prototype_mismatches"] == 0 and report["label_mismatches"] == 0
    assert report["new_class_accuracy"][-1] >= 0.5  # untaught it is 0; short training, few test 9s: a loose floor
    assert np.all(np.array(report["old_classes_accuracy_after"]) >= report["old_classes_accuracy_before"] - 0.05)
    assert report["ram_bytes"] == 10 * 2048 * 2 + 10 * 2048 // 8


def test_cli_refuses_bad_arguments():
    assert main(["hdc", "sweep", "--dims", "512", "100"]) == 2
    assert main(["hdc", "learn-demo", "--held-out", "10"]) == 2
    assert main(["hdc", "learn-demo", "--shots", "0"]) == 2
