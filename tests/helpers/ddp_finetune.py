"""One fine-tuning run, written to OUT; run alone or under torchrun (tests/test_finetune_ddp.py).

usage: python ddp_finetune.py CHECKPOINT STRATEGY OUT [KEY=NUMBER,...]   (config changes, e.g. decorrelate=3)
"""

import sys

import torch

from edgehdc.data import base_target, few_shot, load_digits
from edgehdc.finetune import FinetuneConfig, Trainer
from edgehdc.finetune.workflow import build_model


def main(checkpoint: str, strategy: str, out: str, changes: str = "") -> None:
    torch.set_num_threads(1)
    _, target = base_target(load_digits(size=8), list("01234"), list("56789"))
    task = few_shot(target, 5, seed=0, val_per_class=4)
    # batch 7 over 25 samples: shards of 4 and 3, and a last batch of 4 (2 + 2). A linear head: in the MLP
    # head a Linear bias feeds a BatchNorm, its true gradient is 0 and AdamW turns float noise into steps.
    extra = {k: float(v) for k, v in (kv.split("=") for kv in changes.split(",") if kv)}
    cfg = FinetuneConfig.strategy(strategy, epochs=3, batch_size=7, **extra)
    model = build_model(cfg, "tinycnn", {}, 5, checkpoint)
    result = Trainer(model, cfg, progress=False).fit(task.train.x_train, task.train.y_train, task.x_val, task.y_val)
    if not torch.distributed.is_initialized() or torch.distributed.get_rank() == 0:
        torch.save({"state_dict": model.state_dict(), "loss": result.history["loss"]}, out)
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(*sys.argv[1:])
