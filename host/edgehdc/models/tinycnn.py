"""TinyCNN: an MCU-sized MobileNet-style feature extractor with a linear head."""

from __future__ import annotations

import torch
from torch import nn

from edgehdc.models.layers import ConvBNAct, GlobalAvgPool
from edgehdc.models.registry import register


class TinyCNN(nn.Module):
    """conv3x3 -> (dw3x3/2 -> pw1x1) x 2 -> global avg pool -> Linear embedding; Linear head.

    Input is float NCHW. The embedding has no activation: the HDC encoder
    needs signed features. `features` is the whole backbone (an
    nn.Sequential that PTQ walks) and `head` the classifier.
    """

    def __init__(self, num_classes: int, in_chans: int = 1, embedding_dim: int = 32,
                 widths: tuple[int, int, int] = (16, 32, 64)):
        super().__init__()
        c1, c2, c3 = widths
        self.embedding_dim = embedding_dim
        self.features = nn.Sequential(
            ConvBNAct(in_chans, c1, 3),
            ConvBNAct(c1, c1, 3, stride=2, groups=c1),
            ConvBNAct(c1, c2, 1),
            ConvBNAct(c2, c2, 3, stride=2, groups=c2),
            ConvBNAct(c2, c3, 1),
            GlobalAvgPool(),
            nn.Linear(c3, embedding_dim),
        )
        self.head = nn.Linear(embedding_dim, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """[N, C, H, W] float -> embedding [N, embedding_dim]."""
        return self.features(x)

    def forward_head(self, emb: torch.Tensor) -> torch.Tensor:
        """Embedding [N, embedding_dim] -> logits [N, num_classes]."""
        return self.head(emb)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register("tinycnn")
def tinycnn(num_classes: int, **kw) -> TinyCNN:
    return TinyCNN(num_classes, **kw)
