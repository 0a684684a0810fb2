"""Supervised training of any model on a `Split` (the demo's loop): AdamW + one-cycle schedule.

`fit` is the `Trainer` with every parameter training from the start and a
random-shift augmentation; `evaluate` is top-1 accuracy.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from edgehdc.data.split import Split


def to_nchw(x: np.ndarray) -> torch.Tensor:
    """float NHWC numpy -> float32 NCHW tensor (the layout PyTorch models take)."""
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"expected NHWC samples [N, H, W, C], got shape {x.shape}")
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).permute(0, 3, 1, 2)


@torch.no_grad()
def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 512) -> float:
    """Top-1 accuracy of `model` on float NHWC samples `x` with labels `y`."""
    if len(x) != len(y) or len(y) == 0:
        raise ValueError(f"need as many labels as samples (> 0), got {len(x)} and {len(y)}")
    was_training = model.training
    model.eval()
    xt = to_nchw(x)
    pred = torch.cat([model(xt[i:i + batch_size]).argmax(1) for i in range(0, len(xt), batch_size)])
    model.train(was_training)
    return float((pred.numpy() == np.asarray(y)).mean())


def fit(model: nn.Module, split: Split, epochs: int = 60, lr: float = 1e-2,
        batch_size: int = 64, weight_decay: float = 1e-3, max_shift: int = 1,
        seed: int = 0, progress: bool = True) -> dict[str, list[float]]:
    """Train `model` in place on `split`; returns per-epoch "loss", "train_acc", "test_acc".

    Deterministic for a given seed (single process, 2 threads). Augmentation
    is a random shift of up to `max_shift` pixels (0 turns it off).
    """
    from edgehdc.data.augment import ImageAugment
    from edgehdc.finetune.config import FinetuneConfig
    from edgehdc.finetune.trainer import Trainer

    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise ValueError(f"need epochs >= 1, batch_size >= 1, lr > 0; got {epochs}, {batch_size}, {lr}")
    torch.set_num_threads(2)
    cfg = FinetuneConfig(pretrained=False, epochs=epochs, lr=lr, batch_size=batch_size, weight_decay=weight_decay,
                         augment=max_shift > 0, seed=seed, strategy="training")
    test_acc = []
    trainer = Trainer(model, cfg, progress=progress, augment=ImageAugment(shift=max_shift),
                      callbacks=(lambda t, e, r: test_acc.append(evaluate(t.model, split.x_test, split.y_test)),))
    result = trainer.fit(split.x_train, split.y_train)
    return {"loss": result.history["loss"], "train_acc": result.history["train_acc"], "test_acc": test_acc}
