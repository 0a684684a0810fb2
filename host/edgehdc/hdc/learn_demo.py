"""`edgehdc hdc learn-demo`: teach the emulated board a digit its HDC classifier never saw.

The demo's CNN (trained on every digit) runs on the device unchanged; its HDC
stage is trained on nine digits and flashed with a `Learner` of ten slots.
For k = 1, 5, 10 the device is reset, gets a new class and k training images
of the held-out digit over serial (it runs its own CNN on them), then
classifies the whole test split. After every update the host reads every
prototype back and compares it with its `Learner` mirror, bit for bit.
Report: build/learn/report.json.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgehdc.export.firmware import write_firmware_sources
from edgehdc.export.manifest import model_id, model_sha256
from edgehdc.fileio import atomic_write_json
from edgehdc.hdc import Centroid, Learner, SignProjection
from edgehdc.pipeline import DemoConfig, demo_features
from edgehdc.quant.tflite_io import to_tflite


def _relabel(labels: np.ndarray, held_out: int) -> np.ndarray:
    """Old classes keep their order as 0..8; the held-out digit becomes 9 (the slot it is taught into)."""
    order = np.array([c for c in range(10) if c != held_out] + [held_out])
    return np.argsort(order)[labels]


def _per_class(pred: np.ndarray, y: np.ndarray, n: int) -> list[float]:
    return [round(float(np.mean(pred[y == c] == c)), 4) for c in range(n)]


def run_learn_demo(cfg: DemoConfig | None = None, out_dir: Path = Path("build/learn"), held_out: int = 9,
                   shots=(1, 5, 10), samples: int | None = None, log=print, progress=None) -> dict:
    from edgehdc.device import EmulatedBoard

    cfg = cfg or DemoConfig()
    progress = progress or (lambda it, description="": it)
    feats = demo_features(cfg, log)
    y_train, y_test = _relabel(feats.y_train, held_out), _relabel(feats.y_test, held_out)
    old = y_train < 9
    encoder = SignProjection(feats.features.shape[1], cfg.hdc_dim, seed=cfg.hdc_seed, zero_point=feats.zero_point)
    encoder.calibrate(feats.train_features[old])
    centroid = Centroid(9, cfg.hdc_dim).fit(encoder.encode(feats.train_features[old]), y_train[old],
                                            epochs=cfg.hdc_epochs, margin=cfg.hdc_margin)
    mirror = Learner(centroid, capacity=10)
    sha = model_sha256(to_tflite(feats.graph), encoder.projection, centroid.prototypes, {"learn": held_out})
    write_firmware_sources(feats.graph, encoder, Learner(centroid, capacity=10), out_dir / "model", model_id(sha))

    n = len(y_test) if samples is None else min(samples, len(y_test))
    x_test, y_eval = feats.x_test_q[:n], y_test[:n]
    shot_pool = np.flatnonzero(y_train == 9)
    train_images = _train_images(cfg, feats)
    board = EmulatedBoard(env="qemu_m4", model_dir=out_dir / "model")
    log("building the firmware with a learner and starting the emulated board")
    board.build()
    report = {"held_out_digit": held_out, "shots": list(shots), "samples": n, "new_class_accuracy": [],
              "old_classes_accuracy_after": [], "per_class_after": {}, "prototype_mismatches": 0,
              "label_mismatches": 0}
    with board.start() as link:
        link.expect_model(model_id(sha))
        state = link.learn_info()
        report.update(capacity=state.capacity, ram_bytes=state.ram_bytes)
        report["prototype_mismatches"] += _mismatches(link, mirror)
        pred = _evaluate(link, x_test, mirror, encoder, feats.features[:n], report, progress, "before")
        report["old_classes_accuracy_before"] = _accuracy(pred, y_eval, y_eval < 9)
        report["per_class_before"] = _per_class(pred, y_eval, 10)
        for k in shots:
            link.learn_reset()
            mirror.reset()
            label, _ = link.learn_new_class()
            assert label == mirror.new_class() == 9
            chosen = shot_pool[:k]
            link.learn_add(label, train_images[chosen], source=1)  # the device runs its CNN on the images
            mirror.add(encoder.encode(feats.train_features[chosen]), label)
            report["prototype_mismatches"] += _mismatches(link, mirror)
            pred = _evaluate(link, x_test, mirror, encoder, feats.features[:n], report, progress, f"{k} shots")
            report["new_class_accuracy"].append(_accuracy(pred, y_eval, y_eval == 9))
            report["old_classes_accuracy_after"].append(_accuracy(pred, y_eval, y_eval < 9))
            report["per_class_after"][str(k)] = _per_class(pred, y_eval, 10)
    report["class_order"] = [c for c in range(10) if c != held_out] + [held_out]
    atomic_write_json(out_dir / "report.json", report)
    return report


def _train_images(cfg: DemoConfig, feats) -> np.ndarray:
    """The int8 training images, quantized as the device's input."""
    from edgehdc.data import load_digits, quantize_input

    split = load_digits(size=cfg.image_size, seed=cfg.seed)
    q = feats.graph.tensors[feats.graph.inputs[0]].quant
    return quantize_input(split.x_train, float(q.scale[0]), int(q.zero_point[0]))


def _mismatches(link, mirror: Learner) -> int:
    """Prototype bits that differ between the device and the mirror, over every slot."""
    total = 0
    for k in range(mirror.capacity):
        active, bits = link.prototype(k)
        total += int(np.unpackbits((bits ^ mirror.prototypes[k]).view(np.uint8)).sum())
        total += int(active != (k < mirror.n_active))
    return total


def _evaluate(link, x_test, mirror, encoder, features, report, progress, what) -> np.ndarray:
    """The device's labels for the test images; counts those the mirror predicts differently."""
    host = mirror.classify(encoder.encode(features))[0]
    pred = np.array([link.infer(x).label for x in progress(x_test, description=f"device, {what}")])
    report["label_mismatches"] += int(np.sum(pred != host))
    return pred


def _accuracy(pred, y, mask) -> float:
    return round(float(np.mean(pred[mask] == y[mask])), 4)
