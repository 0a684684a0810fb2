"""`edgehdc hdc sweep` and `edgehdc hdc learn-demo` end to end, on a short training run."""

import json
import shutil

import numpy as np
import pytest

from edgehdc.cli import main
from edgehdc.hdc.learn_demo import holdout_features, run_learn_demo, teach_online
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


def test_learn_demo_extractor_never_sees_the_held_out_digit(monkeypatch):
    """Neither the CNN's training nor its int8 calibration gets an image of the held-out digit."""
    from edgehdc.data import load_digits
    from edgehdc.finetune import trainer
    from edgehdc.quant import ptq

    seen = []  # every image array the training and the calibration get
    fit, quantize = trainer.Trainer.fit, ptq.quantize

    def spy_fit(self, x, *args, **kw):
        seen.append(x)
        return fit(self, x, *args, **kw)

    def spy_quantize(net, x, *args, **kw):
        seen.append(x)
        return quantize(net, x, *args, **kw)

    monkeypatch.setattr(trainer.Trainer, "fit", spy_fit)
    monkeypatch.setattr(ptq, "quantize", spy_quantize)
    feats, images = holdout_features(DemoConfig(epochs=1), held_out=3, log=lambda _: None)
    full = load_digits(size=16, seed=0)
    held = full.x_train[full.y_train == 3].reshape(-1, 256)
    assert len(seen) == 2
    for x in seen:
        rows = x.reshape(len(x), -1)
        assert len(rows) == np.sum(full.y_train != 3)
        assert not (rows[:, None, :] == held[None]).all(axis=2).any()
    assert feats.n_classes == 9 and feats.logits.shape[1] == 9  # the flashed CNN knows nine digits
    assert (feats.y_train == 9).sum() == len(held) and (feats.y_test == 9).sum() == np.sum(full.y_test == 3)
    assert images.shape[0] == len(full.x_train) == len(feats.train_features)


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
    assert report["shots"] == [1, 10] and report["samples"] == 90 and report["extractor_classes"] == 9
    assert report["prototype_mismatches"] == 0 and report["label_mismatches"] == 0
    # the online passes after bundling: the device counted the same updates as the mirror in every pass
    assert report["update_count_mismatches"] == 0 and len(report["online_passes"]) == 2
    # Untaught the digit is never predicted; taught it is, from an extractor that never saw it (a
    # short training and a few test 9s: a loose floor, docs/hdc.md gives the measured figures).
    assert report["per_class_before"][9] == 0 and report["new_class_accuracy"][-1] > 0.1
    assert np.all(np.array(report["old_classes_accuracy_after"]) >= report["old_classes_accuracy_before"] - 0.05)
    assert report["ram_bytes"] == 10 * 2048 * 2 + 10 * 2048 // 8


def test_cli_refuses_bad_arguments():
    assert main(["hdc", "sweep", "--dims", "512", "100"]) == 2
    assert main(["hdc", "learn-demo", "--held-out", "10"]) == 2
    assert main(["hdc", "learn-demo", "--shots", "0"]) == 2


def test_online_passes_stop_when_a_pass_changes_nothing():
    updates = iter([3, 1, 0, 5])
    assert teach_online(lambda: next(updates)) == 2  # two passes updated, the third changed nothing
    calls = []
    assert teach_online(lambda: calls.append(1) or 1, max_passes=4) == 4 and len(calls) == 4
