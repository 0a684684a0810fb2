"""Building blocks whose float semantics match the int8 TFLite ops they become."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """(before, after) padding of TFLite SAME on one axis: the odd pixel goes after.

    out = ceil(size / stride); total = max((out - 1) * stride + effective_kernel - size, 0).
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


class ConvBNAct(nn.Sequential):
    """Conv2d (TFLite SAME padding, no bias) -> BatchNorm2d -> optional ReLU.

    `groups == in_ch == out_ch` is a depthwise convolution. PTQ folds the
    BatchNorm into the convolution and fuses the ReLU into the op. `kernel`
    and `stride` are an int or (h, w): a 1-D convolution over [N, C, 1, T]
    is kernel (1, k), stride (1, s), a CONV_2D of height 1 in TFLite.
    """

    def __init__(self, in_ch: int, out_ch: int, kernel: int | tuple[int, int] = 3,
                 stride: int | tuple[int, int] = 1,
                 groups: int = 1, act: bool = True):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel, stride, padding=0, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out_ch)
        self.act = nn.ReLU() if act else nn.Identity()

    @property
    def is_depthwise(self) -> bool:
        c = self.conv
        return c.groups > 1 and c.groups == c.in_channels == c.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kh, kw = self.conv.kernel_size
        sh, sw = self.conv.stride
        top, bottom = same_padding(x.shape[2], kh, sh)
        left, right = same_padding(x.shape[3], kw, sw)
        x = F.pad(x, (left, right, top, bottom))
        return self.act(self.bn(self.conv(x)))


class GlobalAvgPool(nn.Module):
    """Mean over H and W: [N, C, H, W] -> [N, C] (AVERAGE_POOL_2D with an HxW filter)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))
