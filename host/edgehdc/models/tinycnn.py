"""TinyCNN: an MCU-sized MobileNet-style feature extractor with a linear head, for images or series."""

from __future__ import annotations

import torch
from torch import nn

from edgehdc.models.layers import ConvBNAct, GlobalAvgPool
from edgehdc.models.registry import register


class TinyCNN(nn.Module):
    """conv -> (dw/2 -> pw1x1) x 2 -> global avg pool -> Linear embedding; Linear head.

    Input is float NCHW. The embedding has no activation: the HDC encoder
    needs signed features. `features` is the whole backbone (an
    nn.Sequential that PTQ walks) and `head` the classifier. `kernel` and
    `stride` are 3 and 2 (3x3 and /2 on both axes) for images; (1, k) and
    (1, 2) make the 1-D variant over [N, C, 1, T] series (`tinycnn1d`).
    A head with `takes_map = True` (attention pooling) reads the map before
    the global pool instead of the embedding.
    """

    def __init__(self, num_classes: int, in_chans: int = 1, embedding_dim: int = 32,
                 widths: tuple[int, int, int] = (16, 32, 64), kernel: int | tuple[int, int] = 3,
                 stride: int | tuple[int, int] = 2):
        super().__init__()
        c1, c2, c3 = widths
        self.embedding_dim = embedding_dim
        self.map_channels = c3
        self.features = nn.Sequential(
            ConvBNAct(in_chans, c1, kernel),
            ConvBNAct(c1, c1, kernel, stride=stride, groups=c1),
            ConvBNAct(c1, c2, 1),
            ConvBNAct(c2, c2, kernel, stride=stride, groups=c2),
            ConvBNAct(c2, c3, 1),
            GlobalAvgPool(),
            nn.Linear(c3, embedding_dim),
        )
        self.head = nn.Linear(embedding_dim, num_classes)

    def forward_map(self, x: torch.Tensor) -> torch.Tensor:
        """[N, C, H, W] float -> the last feature map [N, map_channels, H', W'] (before the global pool)."""
        for m in self.features:
            if isinstance(m, GlobalAvgPool):
                return x
            x = m(x)
        raise RuntimeError("features has no GlobalAvgPool")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """[N, C, H, W] float -> embedding [N, embedding_dim]."""
        return self.features(x)

    def forward_head(self, emb: torch.Tensor) -> torch.Tensor:
        """Embedding [N, embedding_dim] (or the map, for a head that takes it) -> logits [N, num_classes]."""
        return self.head(emb)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if getattr(self.head, "takes_map", False):
            return self.forward_head(self.forward_map(x))
        return self.forward_head(self.forward_features(x))


WIDTHS = (16, 32, 64)


def scaled_widths(width: int) -> tuple[int, int, int]:
    """The three stage widths times `width` (1 = the demo's default network)."""
    if not isinstance(width, int) or isinstance(width, bool) or width < 1:
        raise ValueError(f"width must be an integer >= 1, got {width!r}")
    return tuple(c * width for c in WIDTHS)


@register("tinycnn")
def tinycnn(num_classes: int, width: int = 1, **kw) -> TinyCNN:
    """TinyCNN; `width` multiplies every stage's channels (an explicit `widths` wins)."""
    kw.setdefault("widths", scaled_widths(width))
    return TinyCNN(num_classes, **kw)


@register("tinycnn1d")
def tinycnn1d(num_classes: int, in_chans: int = 1, kernel: int = 5, width: int = 1, **kw) -> TinyCNN:
    """TinyCNN over [N, C, 1, T] series: (1, kernel) convolutions, stride (1, 2)."""
    kw.setdefault("widths", scaled_widths(width))
    return TinyCNN(num_classes, in_chans=in_chans, kernel=(1, kernel), stride=(1, 2), **kw)
