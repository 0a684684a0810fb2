"""Training objectives: cross-entropy, and the HDC feature-refinement loss.

The HDC encoder is a sign random projection of the embedding: it keeps
angles, so the refinement terms work on cosine geometry. Per-sample terms
are returned as sums (the trainer divides by the global batch size, which
keeps a DistributedDataParallel run equal to a single-process one).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def cross_entropy_sum(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits, y, reduction="sum")


def consistency_sum(emb: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """Sum over samples of the mean squared drift from the original backbone's features."""
    return F.mse_loss(emb, original.detach(), reduction="none").mean(dim=1).sum()


def triplet_mean(emb: torch.Tensor, y: torch.Tensor, margin: float) -> torch.Tensor:
    """Batch-hard triplet loss on cosine distance, averaged over anchors that have a positive and a negative.

    For each anchor: relu(margin + d(anchor, farthest same-class) - d(anchor, nearest other-class)).
    """
    z = F.normalize(emb, dim=1)
    d = 1 - z @ z.T
    same = y[:, None] == y[None, :]
    eye = torch.eye(len(y), dtype=torch.bool, device=y.device)
    pos = same & ~eye
    valid = pos.any(1) & (~same).any(1)
    if not valid.any():
        return emb.sum() * 0
    hardest_pos = d.masked_fill(~pos, float("-inf")).max(1).values
    hardest_neg = d.masked_fill(same, float("inf")).min(1).values
    return F.relu(margin + hardest_pos - hardest_neg)[valid].mean()
