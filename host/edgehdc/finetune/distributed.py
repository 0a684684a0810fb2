"""Several processes with no code change: the same `Trainer` under `torchrun` uses DistributedDataParallel.

`torchrun --nproc-per-node N script.py` sets RANK/WORLD_SIZE; `init()` then
joins the group (gloo on CPU, NCCL on GPUs). Every rank draws the same
global batch from the same generator and takes its contiguous share, so N
processes see exactly the samples one process would. BatchNorm statistics
are taken over the whole global batch (`global_batchnorm`): torch's
SyncBatchNorm refuses CPU tensors, so this does the same with a
differentiable all-reduce of the per-channel sums.
"""

from __future__ import annotations

import contextlib
import os
import warnings

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn


def init() -> tuple[int, int]:
    """(rank, world size): joins the process group when torchrun started this process, else (0, 1)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def shard(n: int, rank: int, world: int) -> slice:
    """This rank's contiguous part of a global batch of n samples (parts differ by at most one)."""
    base, extra = divmod(n, world)
    start = rank * base + min(rank, extra)
    return slice(start, start + base + (rank < extra))


def all_gather_grad(x: torch.Tensor) -> torch.Tensor:
    """Concatenation over ranks (in rank order) that gradients flow through; x itself when alone."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return x
    sizes = [torch.zeros(1, dtype=torch.long) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, torch.tensor([len(x)]))
    longest = int(max(s.item() for s in sizes))
    padded = F.pad(x, (0, 0) * (x.dim() - 1) + (0, longest - len(x)))
    parts = _autograd_collective("all_gather", padded)
    return torch.cat([p[:int(s.item())] for p, s in zip(parts, sizes)])


def all_sum(values: list[float]) -> list[float]:
    """Element-wise sum of `values` over ranks (for logging)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return values
    t = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(t)
    return t.tolist()


def _autograd_collective(name: str, x: torch.Tensor):
    """torch.distributed.nn.functional.<name>: the collectives gradients flow through (deprecated in
    favour of functional collectives that do not all have autograd yet, hence the silenced warning)."""
    import torch.distributed.nn.functional as fn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return getattr(fn, name)(x)


class _GlobalBatchNorm:
    """Mixin forward: batch statistics over every rank's share of the batch (training mode only)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        dims = [0, *range(2, x.dim())]
        c = x.shape[1]
        count = torch.tensor([x.numel() / c], dtype=x.dtype)
        stats = _autograd_collective("all_reduce", torch.cat([x.sum(dims), (x * x).sum(dims), count]))
        n = stats[-1]
        mean = stats[:c] / n
        var = (stats[c:2 * c] / n - mean * mean).clamp_min(0)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.mul_(1 - m).add_(mean.detach() * m)
                self.running_var.mul_(1 - m).add_(var.detach() * (n / (n - 1)).clamp_min(0) * m)
        shape = (1, c) + (1,) * (x.dim() - 2)
        y = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y


class GlobalBatchNorm1d(_GlobalBatchNorm, nn.BatchNorm1d):
    pass


class GlobalBatchNorm2d(_GlobalBatchNorm, nn.BatchNorm2d):
    pass


@contextlib.contextmanager
def global_batchnorm(model: nn.Module):
    """Inside the block, the model's BatchNorm1d/2d layers normalise over the global batch; restored after.

    Only the class changes (same parameters, buffers and state-dict keys), so
    PTQ and checkpoints see plain BatchNorm layers again afterwards.
    """
    swapped = []
    for m in model.modules():
        new = {nn.BatchNorm1d: GlobalBatchNorm1d, nn.BatchNorm2d: GlobalBatchNorm2d}.get(type(m))
        if new is not None:
            swapped.append((m, type(m)))
            m.__class__ = new
    try:
        yield model
    finally:
        for m, cls in swapped:
            m.__class__ = cls
