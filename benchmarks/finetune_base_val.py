"""Choose the image base task on validation: pretrain on one base, fine-tune digits 5-9 at K=5, read val accuracy.

    .venv/bin/python benchmarks/finetune_base_val.py own|glyphs|glyphs+own DRAW [WIDTH]

own = digits 0-4 (the default base), glyphs = the synthetic letters (`edgehdc.data.glyphs`), glyphs+own =
both. DRAW is the pretraining seed, WIDTH the backbone's multiplier (default 2). Each strategy (full,
progressive, lp_ft, linear_probe) fine-tunes on the K-shot splits of seeds 0-2 that `compare` draws; the
validation accuracy (the split that chose) and the test accuracy (printed beside, never choosing) are
averaged over the seeds. Writes benchmarks/results/finetune_base_val/BASE-dDRAW-wWIDTH.json.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from edgehdc.data import few_shot, task_pair
from edgehdc.fileio import atomic_write_json
from edgehdc.finetune.config import FinetuneConfig
from edgehdc.finetune.metrics import predict
from edgehdc.finetune.workflow import default_model, finetune, pretrain

RESULTS = Path(__file__).resolve().parent / "results" / "finetune_base_val"
BASES = {"own": (None, False), "glyphs": ("glyphs", False), "glyphs+own": ("glyphs", True)}
STRATEGIES = ("full", "progressive", "lp_ft", "linear_probe")
CHOOSING = ("full", "progressive", "lp_ft")  # the rule's mean (docs/finetune.md)


def measure(base_name: str, draw: int, width: int) -> dict:
    base, target = task_pair("digits", base_dataset=BASES[base_name][0], keep_own_base=BASES[base_name][1])
    name, kwargs = default_model(target.sample_shape, width)
    row = {"base": base_name, "draw": draw, "width": width, "base_samples": len(base.x_train)}
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = pretrain(base, Path(tmp) / "base.pt", name, kwargs, seed=draw, progress=False)
        for strategy in STRATEGIES:
            val, test = [], []
            for seed in (0, 1, 2):
                task = few_shot(target, 5, seed=seed, val_per_class=10)
                run = finetune(FinetuneConfig.strategy(strategy, seed=seed, epochs=60), task, ckpt,
                               model_name=name, model_kwargs=kwargs, progress=False, int8=False)
                val.append(float(np.mean(predict(run.model, task.x_val)[0] == task.y_val)))
                test.append(float(run.metrics["accuracy"]))
            row[strategy] = {"val": float(np.mean(val)), "test": float(np.mean(test))}
            print(base_name, draw, width, strategy, "val %.3f test %.3f" % (row[strategy]["val"], row[strategy]["test"]),
                  flush=True)
    row["choosing_val_mean"] = float(np.mean([row[s]["val"] for s in CHOOSING]))
    return row


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or argv[0] not in BASES:
        print(__doc__)
        return 2
    torch.set_num_threads(1)
    row = measure(argv[0], int(argv[1]), int(argv[2]) if len(argv) == 3 else 2)
    row["command"] = "benchmarks/finetune_base_val.py " + " ".join(argv)
    atomic_write_json(RESULTS / f"{row['base']}-d{row['draw']}-w{row['width']}.json", row)
    print(f"mean val of {', '.join(CHOOSING)}: {row['choosing_val_mean']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
