"""Float vs int8 accuracy on digits: PTQ (minmax, percentile, mse) and QAT, two settings.

    .venv/bin/python benchmarks/quantization_accuracy.py

writes benchmarks/results/quantization_accuracy.{json,md}. Settings:

- `default`: the demo's TinyCNN (widths 16/32/64, embedding 32), 60 epochs,
  per-channel convolution weights. Acceptance: every PTQ method within 0.5
  points of float.
- `no_wd_per_tensor`: the same network trained without weight decay
  (lr 3e-2), quantized with per-tensor convolution weights. Training leaves
  a dead depthwise channel (its input is always 0, so BatchNorm's running
  variance is ~0 and folding multiplies its weights by gamma / sqrt(eps));
  one scale for the whole tensor then rounds every other channel to a few
  levels, the failure Nagel et al. (2019) report for MobileNetV2. No
  calibration method helps (the weights are the problem); QAT must close at
  least half of the gap.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from edgehdc import models
from edgehdc.data import load_digits
from edgehdc.finetune import fit
from edgehdc.quant.accuracy import quantization_accuracy
from edgehdc.quant.ptq import _fold

RESULTS = Path(__file__).resolve().parent / "results"
COMMAND = ".venv/bin/python benchmarks/quantization_accuracy.py"

SETTINGS = {
    "default": dict(train=dict(epochs=60), per_channel=True, qat=dict(qat_epochs=10, qat_lr=1e-3)),
    "no_wd_per_tensor": dict(train=dict(epochs=60, weight_decay=0.0, lr=3e-2), per_channel=False,
                             qat=dict(qat_epochs=20, qat_lr=1e-2)),
}


def weight_spread(model) -> dict[str, float]:
    """Per conv layer: largest / median per-channel max|w| of the BN-folded weights."""
    model.eval()
    layers, _ = _fold(model)
    spread = {}
    for layer in layers:
        if layer.weight is not None and layer.weight.ndim == 4:
            m = np.abs(layer.weight).reshape(layer.weight.shape[0], -1).max(1)
            spread[layer.name] = round(float(m.max() / np.median(m)), 1)
    return spread


def run_setting(name: str, cfg: dict, seed: int = 0) -> dict:
    split = load_digits(seed=seed)
    torch.manual_seed(seed)
    net = models.create("tinycnn", num_classes=split.num_classes)
    start = time.time()
    fit(net, split, seed=seed, progress=False, **cfg["train"])
    acc = quantization_accuracy(net, split, per_channel=cfg["per_channel"], seed=seed, **cfg["qat"])
    gap = acc["float"] - min(acc[k] for k in acc if k.startswith("ptq_"))
    return {"setting": name, "train": cfg["train"], "per_channel": cfg["per_channel"], **cfg["qat"],
            "test_samples": len(split.y_test), "weight_spread": weight_spread(net),
            "accuracy": acc, "worst_ptq_gap_points": round(100 * gap, 2),
            "qat_gap_points": round(100 * (acc["float"] - acc["qat"]), 2),
            "seconds": round(time.time() - start, 1)}


def markdown(rows: list[dict]) -> str:
    cols = ["float", "ptq_minmax", "ptq_percentile", "ptq_mse", "qat"]
    lines = [f"`{COMMAND}`", "", "Top-1 accuracy (%) on the digits test split; int8 run by the Numba "
             "mirror of the firmware.", "",
             "| setting | conv weights | " + " | ".join(cols) + " | QAT fake-quant / int8 agreement |",
             "|---|---|" + "---|" * (len(cols) + 1)]
    for r in rows:
        a = r["accuracy"]
        cells = " | ".join(f"{100 * a[c]:.2f}" for c in cols)
        weights = "per-channel" if r["per_channel"] else "per-tensor"
        lines.append(f"| {r['setting']} | {weights} | {cells} | {100 * a['qat_agreement']:.2f} |")
    lines += ["", "Largest / median per-channel weight range of each BN-folded convolution:", ""]
    lines += [f"- {r['setting']}: " + ", ".join(f"{k} {v}x" for k, v in r["weight_spread"].items()) for r in rows]
    return "\n".join(lines) + "\n"


def main() -> int:
    rows = [run_setting(name, cfg) for name, cfg in SETTINGS.items()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "quantization_accuracy.json").write_text(json.dumps({"command": COMMAND, "results": rows}, indent=2))
    (RESULTS / "quantization_accuracy.md").write_text(markdown(rows))
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
