"""Light, seeded augmentation of training batches (float NCHW tensors in [0, 1]).

Images: random shift (zero filled), brightness/contrast, Gaussian noise.
Series ([N, C, 1, T]): jitter (Gaussian noise), per-channel scaling, time
warp. Every random draw comes from the `torch.Generator` passed in, so a run
is reproducible from its seed, and a transform whose strength is 0 draws
nothing. Outputs are clipped to [0, 1], the range the int8 input covers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class ImageAugment:
    """shift: max pixels; brightness: max additive offset; contrast: max relative change; noise: std."""

    shift: int = 1
    brightness: float = 0.0
    contrast: float = 0.0
    noise: float = 0.0

    def __call__(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        if self.shift > 0:
            x = random_shift(x, self.shift, g)
        if self.brightness > 0 or self.contrast > 0:
            n = x.shape[0]
            c = 1 + self.contrast * (2 * torch.rand(n, 1, 1, 1, generator=g) - 1)
            b = self.brightness * (2 * torch.rand(n, 1, 1, 1, generator=g) - 1)
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            x = ((x - mean) * c + mean + b).clamp(0, 1)
        if self.noise > 0:
            x = (x + self.noise * torch.randn(x.shape, generator=g)).clamp(0, 1)
        return x


@dataclass(frozen=True)
class SeriesAugment:
    """jitter: noise std; scaling: std of the per-channel gain around 1; warp: strength of the time warp."""

    jitter: float = 0.02
    scaling: float = 0.1
    warp: float = 0.2

    def __call__(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        n, c = x.shape[:2]
        if self.warp > 0:
            x = time_warp(x, self.warp, g)
        if self.scaling > 0:
            mean = x.mean(dim=3, keepdim=True)
            gain = 1 + self.scaling * torch.randn(n, c, 1, 1, generator=g)
            x = (x - mean) * gain + mean
        if self.jitter > 0:
            x = x + self.jitter * torch.randn(x.shape, generator=g)
        return x.clamp(0, 1)


def random_shift(x: torch.Tensor, max_shift: int, g: torch.Generator) -> torch.Tensor:
    """Translate each sample of NCHW `x` by up to `max_shift` pixels on both axes, zero filled."""
    n, _, h, w = x.shape
    p = max_shift
    padded = F.pad(x, (p, p, p, p))
    dy = torch.randint(0, 2 * p + 1, (n,), generator=g)
    dx = torch.randint(0, 2 * p + 1, (n,), generator=g)
    return torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])


def time_warp(x: torch.Tensor, strength: float, g: torch.Generator, knots: int = 4) -> torch.Tensor:
    """Resample each series [N, C, 1, T] along a smooth random monotone time map.

    Local speeds 1 + strength * u (u uniform in [-1, 1]) at `knots` points are
    interpolated over T, integrated and normalised so the map runs from the
    first to the last sample.
    """
    n, c, h, t = x.shape
    speed = 1 + strength * (2 * torch.rand(n, 1, knots, generator=g) - 1)
    speed = F.interpolate(speed, size=t, mode="linear", align_corners=True)[:, 0]  # [N, T]
    pos = torch.cumsum(speed, dim=1) - speed[:, :1]
    pos = pos / pos[:, -1:] * (t - 1)  # [N, T] in [0, T-1]
    grid_x = pos / (t - 1) * 2 - 1
    grid = torch.stack([grid_x, torch.zeros_like(grid_x)], dim=-1)[:, None]  # [N, 1, T, 2]
    return F.grid_sample(x, grid.expand(n, h, t, 2), mode="bilinear", align_corners=True)


def default_augment(sample_shape: tuple[int, int, int]):
    """SeriesAugment() for [1, T, C] samples, ImageAugment() otherwise."""
    return SeriesAugment() if sample_shape[0] == 1 else ImageAugment()
