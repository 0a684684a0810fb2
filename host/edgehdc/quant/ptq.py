"""Post-training quantization of a PyTorch model into the int8 IR (TFLite int8 spec).

`quantize(model, calibration_x, method)` walks `model.features` then
`model.head`: BatchNorm is folded into the convolution before it (a
BatchNorm1d into the Linear before or after it), ReLU/ReLU6
is fused into the op, global average pooling becomes AVERAGE_POOL_2D with the
full HxW filter. Weights are symmetric int8 (per output channel for
convolutions unless `per_channel=False`, per tensor for fully connected
layers), biases int32 at input_scale * weight_scale, activations asymmetric
int8 per tensor over the range that the calibration `method`
(`edgehdc.quant.calibration`: minmax, percentile, mse) picks from the outputs
of the folded float model on the calibration set, or over given `ranges`
(what quantization-aware training exports). Scales are stored float32;
multipliers are derived later by `edgehdc.quant.arith`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from edgehdc.data.quantize import round_half_away
from edgehdc.quant import calibration
from edgehdc.quant.calibration import choose_quant_params  # noqa: F401  (public here too)
from edgehdc.models.layers import ConvBNAct, GlobalAvgPool, same_padding
from edgehdc.quant.ir import (Activation, Conv2DOptions, DepthwiseConv2DOptions,
                              FullyConnectedOptions, Graph, Op, OpKind, Padding,
                              Pool2DOptions, QuantParams, Tensor)

INPUT_SCALE = 1.0 / 255.0  # [0, 1] images: real = (q + 128) / 255
INPUT_ZERO_POINT = -128


@dataclass
class _Layer:
    """One op of the folded float model. Weights keep PyTorch's layout until export."""

    name: str
    kind: OpKind
    activation: Activation = Activation.NONE
    weight: np.ndarray | None = None  # float64 [O, I/groups, kh, kw] or [O, I]
    bias: np.ndarray | None = None  # float64 [O]
    stride: tuple[int, int] = (1, 1)
    module: nn.Module | None = None  # the ConvBNAct or Linear it came from (QAT re-folds it)


def fold_conv_bn(block: ConvBNAct, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight [O, I/groups, kh, kw], bias [O]) of `block.conv` followed by `block.bn` in eval mode.

    weight = w * gamma / sqrt(var + eps), bias = beta + (b - mean) * gamma / sqrt(var + eps),
    with the running statistics. Differentiable in the parameters, so
    quantization-aware training can fold in its forward pass.
    """
    conv, bn = block.conv, block.bn
    var, mean = bn.running_var.to(dtype), bn.running_mean.to(dtype)
    gamma = bn.weight.to(dtype) if bn.affine else torch.ones_like(var)
    beta = bn.bias.to(dtype) if bn.affine else torch.zeros_like(var)
    factor = gamma / torch.sqrt(var + bn.eps)
    bias = conv.bias.to(dtype) if conv.bias is not None else torch.zeros_like(factor)
    return conv.weight.to(dtype) * factor[:, None, None, None], beta + (bias - mean) * factor


def _fold_conv(name: str, block: ConvBNAct) -> _Layer:
    conv = block.conv
    if conv.groups != 1 and not block.is_depthwise:
        raise ValueError(f"{name}: grouped convolution (groups={conv.groups}) has no int8 op")
    if conv.dilation != (1, 1):
        raise ValueError(f"{name}: dilated convolution is not supported")
    with torch.no_grad():
        weight, bias = fold_conv_bn(block, torch.float64)
    act = {nn.ReLU: Activation.RELU, nn.ReLU6: Activation.RELU6}.get(type(block.act), Activation.NONE)
    kind = OpKind.DEPTHWISE_CONV_2D if block.is_depthwise else OpKind.CONV_2D
    return _Layer(name, kind, act, weight.numpy(), bias.numpy(), tuple(conv.stride), block)


def _fold(model: nn.Module) -> tuple[list[_Layer], int]:
    """Folded layers of `model.features` + `model.head`, and the index of the embedding layer."""
    if not isinstance(getattr(model, "features", None), nn.Sequential) or not hasattr(model, "head"):
        raise ValueError("model must have an nn.Sequential `features` and a `head` module")
    heads = list(model.head) if isinstance(model.head, nn.Sequential) else [model.head]
    items = [(f"features.{i}", m) for i, m in enumerate(model.features)]
    items += [(f"head.{i}" if len(heads) > 1 else "head", m) for i, m in enumerate(heads)]
    layers: list[_Layer] = []
    embedding = -1
    pending_bn: tuple[str, nn.BatchNorm1d] | None = None  # a BatchNorm1d waiting for the Linear after it
    for name, m in items:
        if pending_bn is not None and not isinstance(m, nn.Linear):
            raise ValueError(f"{pending_bn[0]}: BatchNorm1d must follow or precede a Linear")
        if isinstance(m, ConvBNAct):
            layers.append(_fold_conv(name, m))
        elif isinstance(m, nn.BatchNorm1d):
            if layers and layers[-1].kind == OpKind.FULLY_CONNECTED and layers[-1].activation == Activation.NONE:
                _fold_bn_after(layers[-1], m)
            else:
                pending_bn = (name, m)
        elif isinstance(m, GlobalAvgPool) or (isinstance(m, nn.AdaptiveAvgPool2d) and m.output_size in (1, (1, 1))):
            layers.append(_Layer(name, OpKind.AVERAGE_POOL_2D))
        elif isinstance(m, nn.Linear):
            bias = m.bias.detach().double().numpy() if m.bias is not None else np.zeros(m.out_features)
            layers.append(_Layer(name, OpKind.FULLY_CONNECTED, weight=m.weight.detach().double().numpy(),
                                 bias=bias, module=m))
            if pending_bn is not None:
                _fold_bn_before(layers[-1], pending_bn[1])
                pending_bn = None
        elif isinstance(m, (nn.ReLU, nn.ReLU6)) and layers and layers[-1].activation == Activation.NONE \
                and layers[-1].kind != OpKind.AVERAGE_POOL_2D:
            layers[-1].activation = Activation.RELU if isinstance(m, nn.ReLU) else Activation.RELU6
        elif isinstance(m, (nn.Flatten, nn.Identity, nn.Dropout)):
            pass  # no-ops at inference; FULLY_CONNECTED flattens its input itself
        else:
            raise ValueError(f"{name}: {type(m).__name__} has no int8 op in the IR")
        if name.startswith("features"):
            embedding = len(layers) - 1
    if pending_bn is not None:
        raise ValueError(f"{pending_bn[0]}: BatchNorm1d must follow or precede a Linear")
    if embedding < 0 or embedding == len(layers) - 1:
        raise ValueError("model.features and model.head must each produce at least one op")
    return layers, embedding


def _bn_factor(bn: nn.BatchNorm1d) -> tuple[np.ndarray, np.ndarray]:
    """(scale, shift) of an eval-mode BatchNorm1d: y = x * scale + shift, from the running statistics."""
    var, mean = bn.running_var.double().numpy(), bn.running_mean.double().numpy()
    gamma = bn.weight.detach().double().numpy() if bn.affine else np.ones_like(var)
    beta = bn.bias.detach().double().numpy() if bn.affine else np.zeros_like(var)
    scale = gamma / np.sqrt(var + bn.eps)
    return scale, beta - mean * scale


def _fold_bn_after(layer: _Layer, bn: nn.BatchNorm1d) -> None:
    """Linear -> BatchNorm1d becomes one Linear (QAT cannot re-fold it: module is cleared)."""
    scale, shift = _bn_factor(bn)
    layer.weight, layer.bias, layer.module = layer.weight * scale[:, None], layer.bias * scale + shift, None


def _fold_bn_before(layer: _Layer, bn: nn.BatchNorm1d) -> None:
    """BatchNorm1d -> Linear becomes one Linear."""
    scale, shift = _bn_factor(bn)
    layer.weight, layer.bias, layer.module = layer.weight * scale[None, :], layer.bias + layer.weight @ shift, None


def _forward(layers: list[_Layer], x: torch.Tensor) -> list[torch.Tensor]:
    """Float64 outputs of every folded layer for NCHW input `x` (calibration and checks)."""
    outs = []
    x = x.double()
    for layer in layers:
        if layer.kind in (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D):
            w = torch.from_numpy(layer.weight)
            (sh, sw), (kh, kw) = layer.stride, w.shape[2:]
            top, bottom = same_padding(x.shape[2], kh, sh)
            left, right = same_padding(x.shape[3], kw, sw)
            groups = x.shape[1] if layer.kind == OpKind.DEPTHWISE_CONV_2D else 1
            x = F.conv2d(F.pad(x, (left, right, top, bottom)), w, torch.from_numpy(layer.bias),
                         stride=layer.stride, groups=groups)
        elif layer.kind == OpKind.AVERAGE_POOL_2D:
            x = x.mean(dim=(2, 3), keepdim=True)
        else:
            x = F.linear(x.flatten(1), torch.from_numpy(layer.weight), torch.from_numpy(layer.bias))
        if layer.activation == Activation.RELU:
            x = x.clamp_min(0)
        elif layer.activation == Activation.RELU6:
            x = x.clamp(0, 6)
        outs.append(x)
    return outs


def _symmetric_scale(w: np.ndarray, axis: int | None) -> np.ndarray:
    """max|w| / 127 per channel (`axis`) or per tensor (None); an all-zero channel gets 1.0."""
    if axis is None:
        m = np.abs(w).max(keepdims=True).reshape(1)
    else:
        m = np.moveaxis(np.abs(w), axis, 0).reshape(w.shape[axis], -1).max(axis=1)
    return np.where(m > 0, m / 127.0, 1.0).astype(np.float32)


def _quantize_weights(w: np.ndarray, axis: int | None) -> tuple[np.ndarray, QuantParams]:
    """Symmetric int8 in [-127, 127] with the float32 scales that are stored."""
    scale = _symmetric_scale(w, axis)
    shape = [1] * w.ndim
    if axis is not None:
        shape[axis] = -1
    q = np.clip(round_half_away(w / scale.astype(np.float64).reshape(shape)), -127, 127)
    return q.astype(np.int8), QuantParams(scale, np.zeros(scale.size, np.int64), axis or 0)


def _quantize_bias(b: np.ndarray, input_scale: np.float32, w_scale: np.ndarray) -> tuple[np.ndarray, QuantParams]:
    """int32 round(b / (input_scale * weight_scale)), zero point 0, one scale per output."""
    scale = (np.float64(input_scale) * w_scale.astype(np.float64)).astype(np.float32)
    q = round_half_away(b / scale.astype(np.float64))
    if np.abs(q).max(initial=0) > 2**31 - 1:
        raise ValueError("bias does not fit int32 at input_scale * weight_scale")
    return q.astype(np.int32), QuantParams(scale, np.zeros(scale.size, np.int64), 0)


def _batches(layers: list[_Layer], x: np.ndarray, batch_size: int = 256):
    """Yield the folded float outputs of every layer, one calibration batch at a time."""
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).permute(0, 3, 1, 2)
    with torch.no_grad():
        for i in range(0, len(xt), batch_size):
            yield [out.numpy() for out in _forward(layers, xt[i:i + batch_size])]


def _calibrate(layers: list[_Layer], x: np.ndarray, method: str = "minmax",
               bins: int = calibration.DEFAULT_BINS, **options) -> list[tuple[float, float]]:
    """Range of every layer's output over the calibration set, by `method`.

    A first pass finds each tensor's [min, max]; other methods take a second
    pass that histograms the outputs over it.
    """
    calibration.check_method(method, options)
    lo = [np.inf] * len(layers)
    hi = [-np.inf] * len(layers)
    for outs in _batches(layers, x):
        for k, out in enumerate(outs):
            lo[k], hi[k] = min(lo[k], float(out.min())), max(hi[k], float(out.max()))
    if method == "minmax":
        return list(zip(lo, hi))
    hists: list[calibration.Histogram | None] = [None] * len(layers)
    for outs in _batches(layers, x):
        for k, out in enumerate(outs):
            h = calibration.Histogram.of(out, bins, (lo[k], hi[k]))
            hists[k] = h if hists[k] is None else hists[k] + h
    return [calibration.choose_range(method, h, **options) for h in hists]


def _check_calibration_x(calibration_x: np.ndarray) -> np.ndarray:
    x = np.asarray(calibration_x)
    if x.ndim != 4 or len(x) == 0:
        raise ValueError(f"calibration_x must be NHWC samples [N, H, W, C] with N > 0, got {x.shape}")
    if not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1:
        raise ValueError("calibration_x values must lie in [0, 1]")
    return x


def calibrate(model: nn.Module, calibration_x: np.ndarray, method: str = "minmax",
              **options) -> list[tuple[float, float]]:
    """Real range (lo, hi) of each folded op's output of `model` on float NHWC samples in [0, 1].

    One range per op of the int8 graph, in order (the global pool's is
    unused: it keeps its input's quantization). `method` and `options` as in
    `edgehdc.quant.calibration` (e.g. `percentile=99.9`, `grid=64`, `bins=2048`).
    """
    x = _check_calibration_x(calibration_x)
    was_training = model.training
    model.eval()
    try:
        layers, _ = _fold(model)
        return _calibrate(layers, x, method, **options)
    finally:
        model.train(was_training)


def quantize(model: nn.Module, calibration_x: np.ndarray, method: str = "minmax", *,
             per_channel: bool = True, ranges: list[tuple[float, float]] | None = None,
             **options) -> Graph:
    """Int8 IR graph of `model` calibrated on float NHWC samples in [0, 1].

    inputs = [image int8 [1, H, W, C], scale 1/255, zero point -128];
    outputs = [embedding int8 [1, F], logits int8 [1, num_classes]].
    `method` picks the activation ranges ("minmax" | "percentile" | "mse",
    `options` go to it, see `calibrate`), unless `ranges` (one per op, as
    `calibrate` returns them) are given. `per_channel=False` quantizes
    convolution weights per tensor. The model is read in eval mode and left
    unchanged.
    """
    x = _check_calibration_x(calibration_x)
    was_training = model.training
    model.eval()
    try:
        layers, embedding = _fold(model)
        if ranges is None:
            ranges = _calibrate(layers, x, method, **options)
    finally:
        model.train(was_training)
    if len(ranges) != len(layers):
        raise ValueError(f"got {len(ranges)} ranges for {len(layers)} ops")
    return _build_graph(layers, ranges, x.shape[1:], embedding, per_channel)


def _build_graph(layers: list[_Layer], ranges: list[tuple[float, float]],
                 sample_shape: tuple[int, int, int], embedding: int, per_channel: bool = True) -> Graph:
    g = Graph()
    cur = g.add_tensor(Tensor("input", (1, *sample_shape), "int8",
                              QuantParams.per_tensor(INPUT_SCALE, INPUT_ZERO_POINT)))
    g.inputs = [cur]
    outputs = []
    for layer, (rmin, rmax) in zip(layers, ranges):
        if layer.kind == OpKind.AVERAGE_POOL_2D:
            cur = _add_global_pool(g, layer, cur)
        else:
            cur = _add_weighted(g, layer, cur, choose_quant_params(rmin, rmax), per_channel)
        outputs.append(cur)
    g.outputs = [outputs[embedding], outputs[-1]]
    return g


def _nhwc(shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    return tuple(shape) if len(shape) == 4 else (1, 1, 1, shape[-1])


def _add_global_pool(g: Graph, layer: _Layer, src: int) -> int:
    """AVERAGE_POOL_2D over the full HxW; TFLite requires output quant == input quant."""
    x = g.tensors[src]
    _, h, w, c = _nhwc(x.shape)
    out = g.add_tensor(Tensor(layer.name, (1, 1, 1, c), "int8", x.quant))
    g.add_op(Op(OpKind.AVERAGE_POOL_2D, [src], [out], Pool2DOptions((h, w), (h, w), Padding.VALID)))
    return out


def _add_weighted(g: Graph, layer: _Layer, src: int, out_quant: QuantParams, per_channel: bool = True) -> int:
    """CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED with its int8 weights and int32 bias."""
    x = g.tensors[src]
    _, h, w, c = _nhwc(x.shape)
    cout = layer.weight.shape[0]
    if layer.kind == OpKind.FULLY_CONNECTED:
        if h * w != 1:  # PyTorch flattens CHW, TFLite HWC: only a 1x1 map agrees
            raise ValueError(f"{layer.name}: Linear on a {h}x{w} feature map; pool it to 1x1 first")
        if layer.weight.shape[1] != c:
            raise ValueError(f"{layer.name}: expects {layer.weight.shape[1]} inputs, gets {c}")
        wq, wquant = _quantize_weights(layer.weight, None)
        out_shape = (1, cout)
        options = FullyConnectedOptions(layer.activation)
    else:
        (sh, sw) = layer.stride
        out_shape = (1, -(-h // sh), -(-w // sw), cout)  # SAME: ceil(size / stride)
        if layer.kind == OpKind.CONV_2D:
            wq, wquant = _quantize_weights(layer.weight.transpose(0, 2, 3, 1), 0 if per_channel else None)  # OHWI
            options = Conv2DOptions(layer.stride, Padding.SAME, layer.activation)
        else:
            wq, wquant = _quantize_weights(layer.weight.transpose(1, 2, 3, 0),
                                           3 if per_channel else None)  # (CM)1HW -> 1HW(CM)
            options = DepthwiseConv2DOptions(layer.stride, Padding.SAME, layer.activation,
                                             depth_multiplier=cout // c)
    bq, bquant = _quantize_bias(layer.bias, x.quant.scale[0], wquant.scale)
    wi = g.add_tensor(Tensor(f"{layer.name}/weight", wq.shape, "int8", wquant, wq))
    bi = g.add_tensor(Tensor(f"{layer.name}/bias", bq.shape, "int32", bquant, bq))
    out = g.add_tensor(Tensor(layer.name, out_shape, "int8", out_quant))
    g.add_op(Op(layer.kind, [src, wi, bi], [out], options))
    return out
