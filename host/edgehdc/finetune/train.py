"""Supervised training of a registry model on a `Split`: AdamW + one-cycle schedule."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from rich.progress import Progress
from torch import nn

from edgehdc.data.split import Split


def to_nchw(x: np.ndarray) -> torch.Tensor:
    """float NHWC numpy -> float32 NCHW tensor (the layout PyTorch models take)."""
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"expected NHWC samples [N, H, W, C], got shape {x.shape}")
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).permute(0, 3, 1, 2)


def _shift(x: torch.Tensor, max_shift: int, g: torch.Generator) -> torch.Tensor:
    """Random translation of each sample by up to `max_shift` pixels, zero filled."""
    n, _, h, w = x.shape
    p = max_shift
    padded = F.pad(x, (p, p, p, p))
    dy = torch.randint(0, 2 * p + 1, (n,), generator=g)
    dx = torch.randint(0, 2 * p + 1, (n,), generator=g)
    return torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])


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
    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise ValueError(f"need epochs >= 1, batch_size >= 1, lr > 0; got {epochs}, {batch_size}, {lr}")
    torch.manual_seed(seed)
    torch.set_num_threads(2)
    g = torch.Generator().manual_seed(seed)
    x, y = to_nchw(split.x_train), torch.from_numpy(split.y_train)
    steps = -(-len(x) // batch_size)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, epochs=epochs, steps_per_epoch=steps)
    history: dict[str, list[float]] = {"loss": [], "train_acc": [], "test_acc": []}
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("training", total=epochs)
        for _ in range(epochs):
            model.train()
            order = torch.randperm(len(x), generator=g)
            total_loss, correct = 0.0, 0
            for i in range(steps):
                idx = order[i * batch_size:(i + 1) * batch_size]
                xb, yb = x[idx], y[idx]
                if max_shift > 0:
                    xb = _shift(xb, max_shift, g)
                logits = model(xb)
                loss = F.cross_entropy(logits, yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                total_loss += loss.item() * len(idx)
                correct += int((logits.argmax(1) == yb).sum())
            history["loss"].append(total_loss / len(x))
            history["train_acc"].append(correct / len(x))
            history["test_acc"].append(evaluate(model, split.x_test, split.y_test))
            bar.update(task, advance=1, description=f"loss {history['loss'][-1]:.3f} "
                                                    f"test {history['test_acc'][-1]:.3f}")
    model.eval()
    return history
