"""Quantization-aware training: fine-tune a model through the rounding of its int8 graph.

`QATModel(model, calibration_x)` wraps a trained registry model and runs the
op sequence `quantize()` would emit, in float64, with every tensor snapped
to the int8 grid it will have on the device:

- the input on the 1/255, zero point -128 grid;
- BatchNorm folded into each convolution in the forward pass (running
  statistics, never updated), weights fake-quantized symmetric int8 in
  [-127, 127] per output channel (per tensor for fully connected layers, or
  everywhere with `per_channel=False`), biases on the int32 grid
  input_scale * weight_scale, exactly as `quantize()` rounds them;
- each op's output (after its fused ReLU) on the asymmetric per-tensor grid
  `choose_quant_params(lo, hi)`; the ranges start from calibration
  (`method`, as in `quantize()`) and follow an exponential moving average of
  the batch min/max while training (`ema_decay`; None freezes them);
- the global average pool rounds the mean of its int8 input, as the kernel.

Every rounding is half away from zero (TFLite's Quantize) with a
straight-through gradient; clamping passes no gradient. The wrapped model's
own parameters are trained, so `to_graph()` is plain `quantize(model, ...,
ranges=...)`: a normal int8 Graph whose logits the fake-quantized forward
predicts up to the fixed-point multiplier's rounding.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from edgehdc.data.split import Split
from edgehdc.finetune import fit
from edgehdc.models.layers import same_padding
from edgehdc.quant.calibration import QMAX, QMIN, choose_quant_params
from edgehdc.quant.ir import Activation, Graph, OpKind
from edgehdc.quant.ptq import INPUT_SCALE, INPUT_ZERO_POINT, _fold, calibrate, fold_conv_bn, quantize

_F64 = torch.float64


def round_half_away_ste(x: torch.Tensor) -> torch.Tensor:
    """Nearest integer, halves away from zero (exact for any float); gradient 1 (straight through)."""
    a = x.detach().abs()
    whole = a.floor()
    r = torch.copysign(whole + (a - whole >= 0.5).to(x.dtype), x.detach())
    return x + (r - x).detach()


def fake_quantize(x: torch.Tensor, scale: float, zero_point: int) -> torch.Tensor:
    """(clamp(round(x / scale) + zero_point, -128, 127) - zero_point) * scale, straight-through."""
    q = torch.clamp(round_half_away_ste(x / scale) + zero_point, QMIN, QMAX)
    return (q - zero_point) * scale


def fake_quantize_weight(w: torch.Tensor, per_channel: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric int8 weights on dim 0 (or per tensor) as `quantize()` stores them: (w_dq, scales).

    scale = float32(max|w| / 127) (1.0 for an all-zero channel); q = clamp(round(w / scale), -127, 127).
    """
    m = w.detach().abs().flatten(1).amax(1) if per_channel else w.detach().abs().amax().reshape(1)
    scale = torch.where(m > 0, m / 127.0, torch.ones_like(m)).float().to(w.dtype)
    s = scale.reshape(-1, *[1] * (w.dim() - 1))
    return torch.clamp(round_half_away_ste(w / s), -127, 127) * s, scale


def fake_quantize_bias(b: torch.Tensor, input_scale: float, w_scale: torch.Tensor) -> torch.Tensor:
    """Bias on the int32 grid float32(input_scale * weight_scale), straight-through."""
    scale = (input_scale * w_scale).float().to(b.dtype)
    return round_half_away_ste(b / scale) * scale


class QATModel(nn.Module):
    """Fake-quantized forward of `model` (see the module docstring); trains `model` in place.

    `forward(x)` takes float NCHW images in [0, 1] and returns the
    dequantized int8 logits; `forward_features(x)` the dequantized embedding.
    """

    def __init__(self, model: nn.Module, calibration_x: np.ndarray, method: str = "minmax", *,
                 per_channel: bool = True, ema_decay: float | None = 0.99, **options):
        super().__init__()
        if ema_decay is not None and not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"ema_decay must lie in [0, 1) or be None, got {ema_decay}")
        self.model = model
        self.layers, self.embedding = _fold(model)
        if any(layer.kind == OpKind.FULLY_CONNECTED and layer.module is None for layer in self.layers):
            raise ValueError("QAT cannot re-fold a BatchNorm1d into its Linear yet; use PTQ for this head")
        for layer in self.layers:  # keep the structure only: weights are re-folded every step
            layer.weight = layer.bias = None
        ranges = calibrate(model, calibration_x, method, **options)
        self.register_buffer("ranges", torch.tensor(ranges, dtype=_F64))
        self.per_channel = per_channel
        self.ema_decay = ema_decay
        self.sample_shape = tuple(np.asarray(calibration_x).shape[1:])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._run(x)[-1].float()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self._run(x)[self.embedding].float()

    def to_graph(self) -> Graph:
        """The int8 graph of the fine-tuned model over the QAT ranges (via `quantize()`)."""
        x = np.zeros((1, *self.sample_shape), np.float32)  # only its shape is read
        return quantize(self.model, x, ranges=[tuple(r) for r in self.ranges.tolist()],
                        per_channel=self.per_channel)

    def _run(self, x: torch.Tensor) -> list[torch.Tensor]:
        scale, zp = float(np.float32(INPUT_SCALE)), INPUT_ZERO_POINT
        x = fake_quantize(x.float(), scale, zp).to(_F64)  # in float32, as quantize_input
        outs = []
        for k, layer in enumerate(self.layers):
            if layer.kind == OpKind.AVERAGE_POOL_2D:  # the kernel rounds the mean of the int8 values
                q = round_half_away_ste(x / scale) + zp
                x = (round_half_away_ste(q.mean(dim=(2, 3), keepdim=True)) - zp) * scale
            else:
                y = self._weighted(layer, x, scale)
                if self.training and self.ema_decay is not None:
                    self._update_range(k, y.detach())
                q = choose_quant_params(*self.ranges[k].tolist())
                scale, zp = float(q.scale[0]), int(q.zero_point[0])
                x = fake_quantize(y, scale, zp)
            outs.append(x)
        return outs

    def _weighted(self, layer, x: torch.Tensor, input_scale: float) -> torch.Tensor:
        """Conv / depthwise conv / linear with fake-quantized folded weights, then its activation."""
        if layer.kind == OpKind.FULLY_CONNECTED:
            w, b = layer.module.weight.to(_F64), layer.module.bias
            b = b.to(_F64) if b is not None else torch.zeros(w.shape[0], dtype=_F64)
            wq, ws = fake_quantize_weight(w, per_channel=False)
            y = F.linear(x.flatten(1), wq, fake_quantize_bias(b, input_scale, ws))
        else:
            w, b = fold_conv_bn(layer.module, _F64)
            wq, ws = fake_quantize_weight(w, self.per_channel)
            (kh, kw), (sh, sw) = w.shape[2:], layer.stride
            top, bottom = same_padding(x.shape[2], kh, sh)
            left, right = same_padding(x.shape[3], kw, sw)
            groups = x.shape[1] if layer.kind == OpKind.DEPTHWISE_CONV_2D else 1
            y = F.conv2d(F.pad(x, (left, right, top, bottom)), wq,
                         fake_quantize_bias(b, input_scale, ws.expand(w.shape[0])),
                         stride=layer.stride, groups=groups)
        if layer.activation == Activation.RELU:
            y = F.relu(y)
        elif layer.activation == Activation.RELU6:
            y = y.clamp(0.0, 6.0)
        return y

    @torch.no_grad()
    def _update_range(self, k: int, y: torch.Tensor) -> None:
        batch = torch.stack([y.min(), y.max()])
        self.ranges[k] = self.ema_decay * self.ranges[k] + (1.0 - self.ema_decay) * batch


def qat_finetune(model: nn.Module, split: Split, method: str = "minmax", *, epochs: int = 10,
                 lr: float = 1e-3, per_channel: bool = True, ema_decay: float | None = 0.99,
                 seed: int = 0, progress: bool = False, **options) -> QATModel:
    """Fine-tune `model` (trained, modified in place) with fake quantization; returns the QATModel.

    Ranges are calibrated on `split.x_train` by `method`; training is
    `edgehdc.finetune.fit` (AdamW, one-cycle) at a small learning rate.
    Export with `.to_graph()`.
    """
    qat = QATModel(model, split.x_train, method, per_channel=per_channel, ema_decay=ema_decay, **options)
    fit(qat, split, epochs=epochs, lr=lr, seed=seed, progress=progress)
    return qat
