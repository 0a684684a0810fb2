"""`edgehdc hdc learn-demo`: teach the emulated board a digit its feature extractor never saw.

The CNN is trained on the nine other digits only (cross-entropy plus the
batch-hard triplet term of `edgehdc.finetune.losses`), quantized with those nine digits' images, and flashed with an HDC stage
trained on them and a `Learner` of ten slots: no image of the held-out
digit reaches the extractor, its quantization or the HDC calibration. The
HDC stage reads the CNN's last feature map before the global pool
(`tap_feature_map`), not the 32-value embedding: the pool and the embedding
layer, trained to separate nine digits, drop what tells a tenth apart
(docs/hdc.md). For k = 1, 5, 10 the device is reset, gets a new class and k
training images of the held-out digit over serial (it runs its own CNN on
them), then classifies the whole test split. After every update the host
reads every prototype back and compares it with its `Learner` mirror, bit
for bit.
Report: build/learn/report.json.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgehdc.export.firmware import write_firmware_sources
from edgehdc.export.manifest import model_id, model_sha256
from edgehdc.fileio import atomic_write_json
from edgehdc.hdc import Centroid, Learner, SignProjection
from edgehdc.hdc.learn_extractor import tap_feature_map
from edgehdc.pipeline import DemoConfig, DemoFeatures
from edgehdc.quant.tflite_io import to_tflite

TRIPLET_WEIGHT = 1.0  # cross-entropy 1, consistency 0 (no pretrained features to stay near), triplet 1
# After bundling the k shots, online (perceptron) passes over the same shots until a pass changes nothing:
# an update whenever another class comes within ONLINE_MARGIN bits. Chosen on validation images (docs/hdc.md).
ONLINE_MARGIN = 256
MAX_PASSES = 100


def holdout_features(cfg: DemoConfig, held_out: int, log=print) -> tuple[DemoFeatures, np.ndarray]:
    """The demo CNN trained and quantized without digit `held_out`, run on every image of both splits.

    Its embedding output (what `DemoFeatures.features` holds) is the feature map before the pool,
    4 x 4 x 64 int8 values for 16 x 16 digits (`tap_feature_map`).

    Labels are relabelled: the nine known digits 0..8 in their order, the
    held-out digit 9 (the slot it is taught into). Returns the features and
    the int8 training images (the device's input).
    """
    import torch

    from edgehdc import models
    from edgehdc.data import load_digits, quantize_input
    from edgehdc.data.augment import ImageAugment
    from edgehdc.data.tasks import subset
    from edgehdc.finetune.config import FinetuneConfig
    from edgehdc.finetune.train import evaluate
    from edgehdc.finetune.trainer import Trainer
    from edgehdc.kernels.interpreter import run as run_int8
    from edgehdc.quant.ptq import quantize

    full = load_digits(size=cfg.image_size, seed=cfg.seed)
    known = subset(full, [c for i, c in enumerate(full.class_names) if i != held_out])
    torch.manual_seed(cfg.seed)
    net = models.create(cfg.model, num_classes=known.num_classes, embedding_dim=cfg.embedding_dim)
    log(f"training {cfg.model} on the {known.num_classes} digits other than {held_out} for {cfg.epochs} epochs")
    torch.set_num_threads(1)  # a model this small trains no faster on two, and a busy machine spins them
    ft = FinetuneConfig(pretrained=False, epochs=cfg.epochs, seed=cfg.seed, strategy="training", loss="hdc",
                        loss_weights=(1.0, 0.0, TRIPLET_WEIGHT))
    Trainer(net, ft, progress=False, augment=ImageAugment(shift=1)).fit(known.x_train, known.y_train)
    graph = quantize(tap_feature_map(net), known.x_train)  # calibrated on the known digits only
    q = graph.tensors[graph.inputs[0]].quant
    x_train_q, x_test_q = (quantize_input(x, float(q.scale[0]), int(q.zero_point[0]))
                           for x in (full.x_train, full.x_test))
    train_features = run_int8(graph, x_train_q)[0].reshape(len(x_train_q), -1)
    test_features, logits = (a.reshape(len(x_test_q), -1) for a in run_int8(graph, x_test_q))
    feats = DemoFeatures(graph, evaluate(net, known.x_test, known.y_test), x_test_q,
                         relabel(full.y_train, held_out), relabel(full.y_test, held_out), train_features,
                         test_features, logits,
                         int(graph.tensors[graph.outputs[0]].quant.zero_point[0]), known.num_classes)
    return feats, x_train_q


def known_classes_hdc(cfg: DemoConfig, feats: DemoFeatures) -> tuple[SignProjection, Centroid]:
    """The HDC stage flashed with the extractor: encoder calibrated and prototypes trained on the known
    digits only (labels 0..8)."""
    known = feats.y_train < 9
    encoder = SignProjection(feats.features.shape[1], cfg.hdc_dim, seed=cfg.hdc_seed, zero_point=feats.zero_point)
    encoder.calibrate(feats.train_features[known])
    centroid = Centroid(9, cfg.hdc_dim).fit(encoder.encode(feats.train_features[known]), feats.y_train[known],
                                            epochs=cfg.hdc_epochs, margin=cfg.hdc_margin)
    return encoder, centroid


def host_learning(cfg: DemoConfig, held_out: int, shots=(1, 5, 10), log=print) -> dict:
    """The demo on the host mirror alone (no board): new-class and known-classes test accuracy per k."""
    feats, _ = holdout_features(cfg, held_out, log)
    encoder, centroid = known_classes_hdc(cfg, feats)
    mirror = Learner(centroid, capacity=10)
    hv_test, y = encoder.encode(feats.features), feats.y_test
    result = {"held_out_digit": held_out, "shots": list(shots), "new_class_accuracy": [],
              "old_classes_accuracy_after": [], "online_passes": [],
              "old_classes_accuracy_before": _accuracy(mirror.classify(hv_test)[0], y, y < 9)}
    for k in shots:
        mirror.reset()
        hv = encoder.encode(feats.train_features[np.flatnonzero(feats.y_train == 9)[:k]])
        label = mirror.new_class()
        mirror.add(hv, label)
        result["online_passes"].append(teach_online(lambda: mirror.add_online(hv, label, ONLINE_MARGIN)[0]))
        pred = mirror.classify(hv_test)[0]
        result["new_class_accuracy"].append(_accuracy(pred, y, y == 9))
        result["old_classes_accuracy_after"].append(_accuracy(pred, y, y < 9))
    return result


def teach_online(one_pass, max_passes: int = MAX_PASSES) -> int:
    """Runs `one_pass()` (returns the examples it updated on) until a pass updates nothing or
    `max_passes` have run; returns the passes that updated something."""
    for done in range(max_passes):
        if one_pass() == 0:
            return done
    return max_passes


def relabel(labels: np.ndarray, held_out: int) -> np.ndarray:
    """Old classes keep their order as 0..8; the held-out digit becomes 9 (the slot it is taught into)."""
    order = np.array([c for c in range(10) if c != held_out] + [held_out])
    return np.argsort(order)[labels]


def _per_class(pred: np.ndarray, y: np.ndarray, n: int) -> list[float]:
    return [round(float(np.mean(pred[y == c] == c)), 4) for c in range(n)]


def run_learn_demo(cfg: DemoConfig | None = None, out_dir: Path = Path("build/learn"), held_out: int = 9,
                   shots=(1, 5, 10), samples: int | None = None, log=print, progress=None) -> dict:
    from edgehdc.device import EmulatedBoard
    from edgehdc.device.protocol import LearnMode, LearnSource

    cfg = cfg or DemoConfig()
    progress = progress or (lambda it, description="": it)
    feats, train_images = holdout_features(cfg, held_out, log)
    y_train, y_test = feats.y_train, feats.y_test
    encoder, centroid = known_classes_hdc(cfg, feats)
    mirror = Learner(centroid, capacity=10)
    sha = model_sha256(to_tflite(feats.graph), encoder.projection, centroid.prototypes, {"learn": held_out})
    write_firmware_sources(feats.graph, encoder, Learner(centroid, capacity=10), out_dir / "model", model_id(sha))

    n = len(y_test) if samples is None else min(samples, len(y_test))
    x_test, y_eval = feats.x_test_q[:n], y_test[:n]
    shot_pool = np.flatnonzero(y_train == 9)
    board = EmulatedBoard(env="qemu_m4", model_dir=out_dir / "model")
    log("building the firmware with a learner and starting the emulated board")
    board.build()
    report = {"held_out_digit": held_out, "extractor_classes": feats.n_classes,
              "extractor_float_accuracy_known": round(feats.acc_float, 4), "shots": list(shots), "samples": n,
              "new_class_accuracy": [],
              "old_classes_accuracy_after": [], "per_class_after": {}, "prototype_mismatches": 0,
              "label_mismatches": 0, "online_margin": ONLINE_MARGIN, "online_passes": [],
              "update_count_mismatches": 0}
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
            link.learn_add(label, train_images[chosen], source=LearnSource.INPUT)  # the device runs its CNN
            hv = encoder.encode(feats.train_features[chosen])
            mirror.add(hv, label)
            report["prototype_mismatches"] += _mismatches(link, mirror)

            def online_pass() -> int:
                """One online pass on the device and the mirror; checks both, returns the updates."""
                reply = link.learn_add(label, train_images[chosen], LearnMode.ONLINE, LearnSource.INPUT,
                                       ONLINE_MARGIN)
                updated, _ = mirror.add_online(hv, label, ONLINE_MARGIN)
                report["update_count_mismatches"] += int(reply.updated != updated)
                report["prototype_mismatches"] += _mismatches(link, mirror)
                return updated

            report["online_passes"].append(teach_online(online_pass))
            pred = _evaluate(link, x_test, mirror, encoder, feats.features[:n], report, progress, f"{k} shots")
            report["new_class_accuracy"].append(_accuracy(pred, y_eval, y_eval == 9))
            report["old_classes_accuracy_after"].append(_accuracy(pred, y_eval, y_eval < 9))
            report["per_class_after"][str(k)] = _per_class(pred, y_eval, 10)
    report["class_order"] = [c for c in range(10) if c != held_out] + [held_out]
    atomic_write_json(out_dir / "report.json", report)
    return report


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
