"""One frozen-backbone (linear probe) epoch on the digits target classes, with and without the feature cache.

Both cases train the same head on the same 5-class target training split
(digits at 16x16, the demo's size, and at 32x32; tinycnn at width 1, the
demo's, and at 16x16 also width 2, `compare`'s default for digits; batch 64)
from the same pretrained backbone; the
cached case builds its cache once before timing (it is reused every epoch),
the uncached case runs the frozen backbone on every batch. Run with
`python benchmarks/finetune_cache.py` (writes benchmarks/results/finetune_cache.*).
"""

from __future__ import annotations

import pytest
import torch

from edgehdc.data import base_target, load_digits
from edgehdc.finetune import FinetuneConfig, Trainer
from edgehdc.finetune.workflow import build_model, pretrain


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory):
    torch.set_num_threads(1)
    base, _ = base_target(load_digits(), list("01234"), list("56789"))
    folder = tmp_path_factory.mktemp("bench")
    return {w: pretrain(base, folder / f"base{w}.pt", "tinycnn", _kwargs(w), epochs=2, progress=False) for w in (1, 2)}


def _kwargs(width: int) -> dict:
    return {"width": width} if width > 1 else {}


@pytest.mark.parametrize(("size", "width"), [(16, 1), (16, 2), (32, 1)])
@pytest.mark.parametrize("cache", [True, False], ids=["cached", "uncached"])
def test_frozen_probe_epoch(benchmark, ckpts, cache, size, width):
    _, target = base_target(load_digits(size=size), list("01234"), list("56789"))
    benchmark.group = f"frozen-probe epoch, {size}x{size}, width {width}"
    cfg = FinetuneConfig.strategy("linear_probe", epochs=1000, cache_features=cache)
    trainer = Trainer(build_model(cfg, "tinycnn", _kwargs(width), target.num_classes, ckpts[width]), cfg,
                      progress=False)
    trainer.prepare(target.x_train, target.y_train)
    assert (trainer.cache is not None) == cache
    epochs = iter(range(10**6))
    benchmark(lambda: trainer.train_epoch(next(epochs) % cfg.epochs))
