"""Training objectives: cross-entropy, the HDC feature-refinement loss, the embedding decorrelation term,
supervised contrast, and the input reconstruction of an auxiliary decoder.

The HDC encoder is a sign random projection of the embedding: it keeps
angles, so the refinement terms work on cosine geometry. Per-sample terms
are returned as sums (the trainer divides by the global batch size, which
keeps a DistributedDataParallel run equal to a single-process one).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


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


def decorrelation(emb: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """VICReg's variance + covariance terms (Bardes et al., 2022) on a batch of embeddings [N, F].

    variance: mean over dimensions of relu(1 - std); covariance: sum of the squared off-diagonal
    covariances / F. Cross-entropy on K classes alone lets a linear embedding collapse onto K - 1
    directions (all a K-way head reads); this term keeps every dimension in use and decorrelated, so
    the embedding still describes samples of classes the base task never saw.
    """
    if emb.dim() != 2 or len(emb) < 2:
        raise ValueError(f"decorrelation needs a batch of >= 2 embeddings [N, F], got shape {tuple(emb.shape)}")
    z = emb - emb.mean(dim=0)
    variance = F.relu(1 - torch.sqrt(z.var(dim=0) + eps)).mean()
    cov = (z.T @ z) / (len(z) - 1)
    off_diagonal = cov - torch.diag(torch.diagonal(cov))
    return variance + off_diagonal.pow(2).sum() / emb.shape[1]


def supcon_mean(emb: torch.Tensor, y: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Supervised contrastive loss (Khosla et al., 2020) over one batch of embeddings, one view per sample.

    For each anchor with a same-class partner: minus the mean log-probability, under a softmax over
    every other sample's cosine similarity / temperature, of its same-class partners. It pulls a class
    together and pushes all others away, which spreads the classes over more directions than
    cross-entropy's K - 1.
    """
    z = F.normalize(emb, dim=1)
    sim = z @ z.T / temperature
    eye = torch.eye(len(y), dtype=torch.bool, device=y.device)
    log_prob = sim - torch.logsumexp(sim.masked_fill(eye, float("-inf")), dim=1, keepdim=True)
    pos = (y[:, None] == y[None, :]) & ~eye
    has_pos = pos.any(1)
    if not has_pos.any():
        return emb.sum() * 0
    mean_pos = (log_prob * pos).sum(1)[has_pos] / pos.sum(1)[has_pos]
    return -mean_pos.mean()


class Decoder(nn.Module):
    """Embedding [N, F] -> a reconstruction of the input [N, C, H, W]: Linear-ReLU-Linear.

    Lives only in training (the Trainer owns it, never the model), so the exported model, its
    checkpoint and its int8 graph are the backbone and head alone.
    """

    def __init__(self, features: int, input_shape: tuple[int, int, int], hidden: int = 128):
        super().__init__()
        self.input_shape = tuple(input_shape)
        self.net = nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, math.prod(input_shape)))

    def forward(self, emb: torch.Tensor) -> torch.Tensor:
        return self.net(emb).view(len(emb), *self.input_shape)


def reconstruction_sum(decoded: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Sum over samples of the mean squared error of each sample's reconstruction.

    Why in pretraining: cross-entropy keeps only what tells the base classes apart; asking the
    embedding to also rebuild its input keeps the other directions a new class may need.
    """
    return F.mse_loss(decoded, x, reduction="none").flatten(1).mean(dim=1).sum()
