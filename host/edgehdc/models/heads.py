"""Classifier heads for a backbone's embedding (or its last feature map), built by name.

    head = create_head("mlp", in_features=32, num_classes=5)

linear: Linear. mlp: Linear-BN-ReLU-Dropout-Linear. bn: BatchNorm1d-Linear.
attention: attention pooling over the positions of the feature map, then
Linear (`takes_map = True`). linear, mlp and bn quantize to int8 ops (PTQ
folds their BatchNorm); attention pooling is float only.
"""

from __future__ import annotations

import torch
from torch import nn

HEADS = ("linear", "mlp", "bn", "attention")


class AttentionPoolHead(nn.Module):
    """softmax over positions of a learned 1x1 score, weighted sum of the map, then Linear."""

    takes_map = True

    def __init__(self, channels: int, num_classes: int):
        super().__init__()
        self.score = nn.Conv2d(channels, 1, 1)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, fmap: torch.Tensor) -> torch.Tensor:
        weights = torch.softmax(self.score(fmap).flatten(2), dim=-1)  # [N, 1, H*W]
        pooled = (fmap.flatten(2) * weights).sum(-1)  # [N, C]
        return self.fc(pooled)


def create_head(kind: str, in_features: int, num_classes: int, *, hidden: int = 64, dropout: float = 0.1,
                map_channels: int | None = None) -> nn.Module:
    """Head `kind` (one of HEADS) over `in_features` inputs (`map_channels` for attention)."""
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    if kind == "linear":
        return nn.Linear(in_features, num_classes)
    if kind == "mlp":
        return nn.Sequential(nn.Linear(in_features, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                             nn.Dropout(dropout), nn.Linear(hidden, num_classes))
    if kind == "bn":
        return nn.Sequential(nn.BatchNorm1d(in_features), nn.Linear(in_features, num_classes))
    if kind == "attention":
        if map_channels is None:
            raise ValueError("the attention head needs the backbone's map_channels")
        return AttentionPoolHead(map_channels, num_classes)
    raise ValueError(f"unknown head {kind!r}; available: {', '.join(HEADS)}")


def replace_head(model: nn.Module, kind: str, num_classes: int, **kw) -> nn.Module:
    """Give `model` a new head of `kind` (fresh weights) for `num_classes`; returns the model."""
    model.head = create_head(kind, model.embedding_dim, num_classes,
                             map_channels=getattr(model, "map_channels", None), **kw)
    return model


def num_outputs(head: nn.Module) -> int:
    """Classes a head predicts: out_features of its last Linear."""
    linears = [m for m in head.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(head).__name__} has no Linear layer")
    return linears[-1].out_features
