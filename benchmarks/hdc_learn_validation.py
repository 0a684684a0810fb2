"""How the learn demo's choices were made, on validation images only -> benchmarks/results/hdc_learn_validation.{json,md}.

    .venv/bin/python benchmarks/hdc_learn_validation.py            # seeds 0, 1 and 2, every digit held out

The test split is never read. A fifth of each digit's training images is held
back (stratified, fixed seed); for each held-out digit the learn demo's
extractor (same recipe as `edgehdc.hdc.learn_demo.holdout_features`) is
trained and calibrated on the other four fifths of the nine known digits,
the HDC stage (the 4 x 4 x 64 map before the pool, D = 2048) is fitted on
them, the new digit is taught with the first 10 of its training images
(bundled, then online passes with each margin until a pass updates nothing)
and scored on its other training images; the known digits on their held-back
fifth. The kept margin is the one with the highest mean new-digit accuracy
for which no held-out digit costs the known digits more than 2 points, on
any seed.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

import numpy as np
from provenance import git_commit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MARGINS = (0, 256, 320, 384, 512)  # 0: bundling only (no online pass)
SHOTS = 10


def validation_mask(y: np.ndarray, fraction: float = 0.2, seed: int = 1) -> np.ndarray:
    """True for the held-back fifth of each class's training images."""
    rng = np.random.default_rng(seed)
    val = np.zeros(len(y), bool)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        val[rng.choice(idx, int(len(idx) * fraction), replace=False)] = True
    return val


def features(x: np.ndarray, y: np.ndarray, train: np.ndarray, seed: int) -> tuple[np.ndarray, int]:
    """The learn demo's extractor trained on x[train] (labels 0..8): int8 map features of every image."""
    import torch

    from edgehdc import models
    from edgehdc.data import quantize_input
    from edgehdc.data.augment import ImageAugment
    from edgehdc.finetune.config import FinetuneConfig
    from edgehdc.finetune.trainer import Trainer
    from edgehdc.hdc.learn_demo import TRIPLET_WEIGHT
    from edgehdc.hdc.learn_extractor import tap_feature_map
    from edgehdc.kernels.interpreter import run as run_int8
    from edgehdc.quant.ptq import quantize

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    net = models.create("tinycnn", num_classes=9, embedding_dim=32)
    ft = FinetuneConfig(pretrained=False, epochs=60, seed=seed, strategy="training", loss="hdc",
                        loss_weights=(1.0, 0.0, TRIPLET_WEIGHT))
    Trainer(net, ft, progress=False, augment=ImageAugment(shift=1)).fit(x[train], y[train])
    graph = quantize(tap_feature_map(net), x[train])
    q = graph.tensors[graph.inputs[0]].quant
    feats = run_int8(graph, quantize_input(x, float(q.scale[0]), int(q.zero_point[0])))[0]
    return feats.reshape(len(x), -1), int(graph.tensors[graph.outputs[0]].quant.zero_point[0])


def one_digit(held_out: int, seed: int) -> dict:
    from edgehdc.data import load_digits
    from edgehdc.hdc import Centroid, Learner, SignProjection
    from edgehdc.hdc.learn_demo import MAX_PASSES, relabel, teach_online
    from edgehdc.pipeline import DemoConfig

    cfg = DemoConfig()
    full = load_digits(size=cfg.image_size, seed=0)
    x, y = full.x_train, relabel(full.y_train, held_out)
    val = validation_mask(full.y_train)
    train = ~val & (y < 9)
    feats, zp = features(x, y, train, seed)
    encoder = SignProjection(feats.shape[1], cfg.hdc_dim, seed=cfg.hdc_seed, zero_point=zp).calibrate(feats[train])
    centroid = Centroid(9, cfg.hdc_dim).fit(encoder.encode(feats[train]), y[train], epochs=cfg.hdc_epochs,
                                            margin=cfg.hdc_margin)
    learner = Learner(centroid, capacity=10)
    new = np.flatnonzero(y == 9)
    shots, hv_new = encoder.encode(feats[new[:SHOTS]]), encoder.encode(feats[new[SHOTS:]])
    known = val & (y < 9)
    hv_known = encoder.encode(feats[known])
    row = {"held_out_digit": held_out, "seed": seed,
           "known_before": float(np.mean(learner.classify(hv_known)[0] == y[known])), "margins": {}}
    for margin in MARGINS:
        learner.reset()
        label = learner.new_class()
        learner.add(shots, label)
        passes = teach_online(lambda: learner.add_online(shots, label, margin)[0], MAX_PASSES) if margin else 0
        row["margins"][str(margin)] = {"new": float(np.mean(learner.classify(hv_new)[0] == 9)),
                                       "known_after": float(np.mean(learner.classify(hv_known)[0] == y[known])),
                                       "passes": passes}
    return row


def summary(rows: list[dict]) -> dict:
    """Per seed and margin: mean new-digit accuracy, digit 9's, mean known after, worst known loss (points)."""
    out = {}
    for seed in sorted({r["seed"] for r in rows}):
        for m in MARGINS:
            rs = [r for r in rows if r["seed"] == seed]
            cells = [r["margins"][str(m)] for r in rs]
            out[f"{seed}/{m}"] = {
                "new_mean": float(np.mean([c["new"] for c in cells])),
                "digit_9": next(r["margins"][str(m)]["new"] for r in rs if r["held_out_digit"] == 9),
                "known_after_mean": float(np.mean([c["known_after"] for c in cells])),
                "worst_known_loss": float(max(100 * (r["known_before"] - c["known_after"]) for r, c in zip(rs, cells)))}
    return out


def markdown(result: dict) -> str:
    lines = ["# Learn demo: choices on validation images (`benchmarks/hdc_learn_validation.py`)", "",
             f"{result['date']}, commit {result['git_commit']}. " + __doc__.split("\n\n")[2].replace("\n", " "), "",
             "| seed | online margin | new digit @10, mean of 10 | digit 9 | known after, mean | worst known loss |",
             "|---|---|---|---|---|---|"]
    for key, s in result["summary"].items():
        seed, m = key.split("/")
        lines.append(f"| {seed} | {m if m != '0' else 'none (bundling only)'} | {100 * s['new_mean']:.1f}% | "
                     f"{100 * s['digit_9']:.0f}% | {100 * s['known_after_mean']:.2f}% | {s['worst_known_loss']:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    from edgehdc.fileio import atomic_write_json, atomic_write_text

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    args = ap.parse_args(argv)
    rows = []
    for seed in args.seeds:
        for d in args.digits:
            rows.append(one_digit(d, seed))
            print(rows[-1], flush=True)
    result = {"command": "python benchmarks/hdc_learn_validation.py " + " ".join(argv or sys.argv[1:]),
              "date": datetime.date.today().isoformat(), "git_commit": git_commit(), "rows": rows,
              "summary": summary(rows)}
    atomic_write_json(RESULTS / "hdc_learn_validation.json", result)
    atomic_write_text(RESULTS / "hdc_learn_validation.md", markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
