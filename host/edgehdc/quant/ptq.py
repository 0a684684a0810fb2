"""Post-training quantization of a PyTorch model into the int8 IR (TFLite int8 spec).

`quantize(model, calibration_x)` walks `model.features` then `model.head`:
BatchNorm is folded into the convolution before it, ReLU/ReLU6 is fused into
the op, global average pooling becomes AVERAGE_POOL_2D with the full HxW
filter. Weights are symmetric int8 (per output channel for convolutions,
per tensor for fully connected layers), biases int32 at input_scale *
weight_scale, activations asymmetric int8 per tensor from the min/max of the
folded float model over the calibration set. Scales are stored float32;
multipliers are derived later by `edgehdc.quant.arith`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from edgehdc.data.quantize import round_half_away
from edgehdc.models.layers import ConvBNAct, GlobalAvgPool, same_padding
from edgehdc.quant.ir import (Activation, Conv2DOptions, DepthwiseConv2DOptions,
                              FullyConnectedOptions, Graph, Op, OpKind, Padding,
                              Pool2DOptions, QuantParams, Tensor)

INPUT_SCALE = 1.0 / 255.0  # [0, 1] images: real = (q + 128) / 255
INPUT_ZERO_POINT = -128
QMIN, QMAX = -128, 127


@dataclass
class _Layer:
    """One op of the folded float model. Weights keep PyTorch's layout until export."""

    name: str
    kind: OpKind
    activation: Activation = Activation.NONE
    weight: np.ndarray | None = None  # float64 [O, I/groups, kh, kw] or [O, I]
    bias: np.ndarray | None = None  # float64 [O]
    stride: tuple[int, int] = (1, 1)


def _fold_conv(name: str, block: ConvBNAct) -> _Layer:
    conv, bn = block.conv, block.bn
    if conv.groups != 1 and not block.is_depthwise:
        raise ValueError(f"{name}: grouped convolution (groups={conv.groups}) has no int8 op")
    if conv.dilation != (1, 1):
        raise ValueError(f"{name}: dilated convolution is not supported")
    gamma = bn.weight.detach().double() if bn.affine else torch.ones_like(bn.running_var, dtype=torch.float64)
    beta = bn.bias.detach().double() if bn.affine else torch.zeros_like(gamma)
    factor = gamma / torch.sqrt(bn.running_var.double() + bn.eps)
    bias = conv.bias.detach().double() if conv.bias is not None else torch.zeros_like(factor)
    weight = conv.weight.detach().double() * factor[:, None, None, None]
    bias = beta + (bias - bn.running_mean.double()) * factor
    act = {nn.ReLU: Activation.RELU, nn.ReLU6: Activation.RELU6}.get(type(block.act), Activation.NONE)
    kind = OpKind.DEPTHWISE_CONV_2D if block.is_depthwise else OpKind.CONV_2D
    return _Layer(name, kind, act, weight.numpy(), bias.numpy(), tuple(conv.stride))


def _fold(model: nn.Module) -> tuple[list[_Layer], int]:
    """Folded layers of `model.features` + `model.head`, and the index of the embedding layer."""
    if not isinstance(getattr(model, "features", None), nn.Sequential) or not hasattr(model, "head"):
        raise ValueError("model must have an nn.Sequential `features` and a `head` module")
    heads = list(model.head) if isinstance(model.head, nn.Sequential) else [model.head]
    items = [(f"features.{i}", m) for i, m in enumerate(model.features)]
    items += [(f"head.{i}" if len(heads) > 1 else "head", m) for i, m in enumerate(heads)]
    layers: list[_Layer] = []
    embedding = -1
    for name, m in items:
        if isinstance(m, ConvBNAct):
            layers.append(_fold_conv(name, m))
        elif isinstance(m, GlobalAvgPool) or (isinstance(m, nn.AdaptiveAvgPool2d) and m.output_size in (1, (1, 1))):
            layers.append(_Layer(name, OpKind.AVERAGE_POOL_2D))
        elif isinstance(m, nn.Linear):
            bias = m.bias.detach().double().numpy() if m.bias is not None else np.zeros(m.out_features)
            layers.append(_Layer(name, OpKind.FULLY_CONNECTED, weight=m.weight.detach().double().numpy(), bias=bias))
        elif isinstance(m, (nn.ReLU, nn.ReLU6)) and layers and layers[-1].activation == Activation.NONE \
                and layers[-1].kind != OpKind.AVERAGE_POOL_2D:
            layers[-1].activation = Activation.RELU if isinstance(m, nn.ReLU) else Activation.RELU6
        elif isinstance(m, (nn.Flatten, nn.Identity, nn.Dropout)):
            pass  # no-ops at inference; FULLY_CONNECTED flattens its input itself
        else:
            raise ValueError(f"{name}: {type(m).__name__} has no int8 op in the IR")
        if name.startswith("features"):
            embedding = len(layers) - 1
    if embedding < 0 or embedding == len(layers) - 1:
        raise ValueError("model.features and model.head must each produce at least one op")
    return layers, embedding


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


def choose_quant_params(rmin: float, rmax: float) -> QuantParams:
    """Asymmetric int8 params for [rmin, rmax], widened to include 0; zero point nudged.

    As TensorFlow's ChooseQuantizationParams: scale = (rmax - rmin) / 255, the
    zero point is taken from whichever end gives the smaller error, rounded
    half away from zero and clamped, so real 0 is exactly representable.
    """
    if not (np.isfinite(rmin) and np.isfinite(rmax)) or rmin > rmax:
        raise ValueError(f"invalid calibration range [{rmin}, {rmax}]")
    rmin, rmax = min(rmin, 0.0), max(rmax, 0.0)
    if rmin == rmax:  # an all-zero tensor: any scale represents it
        return QuantParams.per_tensor(1.0, 0)
    scale = float(np.float32((rmax - rmin) / (QMAX - QMIN)))
    zp_from_min, zp_from_max = QMIN - rmin / scale, QMAX - rmax / scale
    err_min, err_max = abs(QMIN) + abs(rmin / scale), abs(QMAX) + abs(rmax / scale)
    zp = zp_from_min if err_min < err_max else zp_from_max
    return QuantParams.per_tensor(scale, int(np.clip(round_half_away(zp), QMIN, QMAX)))


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


def _calibrate(layers: list[_Layer], x: np.ndarray, batch_size: int = 256) -> list[tuple[float, float]]:
    """(min, max) of every layer's output over the calibration set."""
    lo = [np.inf] * len(layers)
    hi = [-np.inf] * len(layers)
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).permute(0, 3, 1, 2)
    with torch.no_grad():
        for i in range(0, len(xt), batch_size):
            for k, out in enumerate(_forward(layers, xt[i:i + batch_size])):
                lo[k] = min(lo[k], float(out.min()))
                hi[k] = max(hi[k], float(out.max()))
    return list(zip(lo, hi))


def quantize(model: nn.Module, calibration_x: np.ndarray, method: str = "minmax") -> Graph:
    """Int8 IR graph of `model` calibrated on float NHWC samples in [0, 1].

    inputs = [image int8 [1, H, W, C], scale 1/255, zero point -128];
    outputs = [embedding int8 [1, F], logits int8 [1, num_classes]].
    The model is read in eval mode and left unchanged.
    """
    if method != "minmax":
        raise ValueError(f"unknown calibration method {method!r}; supported: 'minmax'")
    x = np.asarray(calibration_x)
    if x.ndim != 4 or len(x) == 0:
        raise ValueError(f"calibration_x must be NHWC samples [N, H, W, C] with N > 0, got {x.shape}")
    if not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1:
        raise ValueError("calibration_x values must lie in [0, 1]")
    was_training = model.training
    model.eval()
    try:
        layers, embedding = _fold(model)
        ranges = _calibrate(layers, x)
    finally:
        model.train(was_training)
    return _build_graph(layers, ranges, x.shape[1:], embedding)


def _build_graph(layers: list[_Layer], ranges: list[tuple[float, float]],
                 sample_shape: tuple[int, int, int], embedding: int) -> Graph:
    g = Graph()
    cur = g.add_tensor(Tensor("input", (1, *sample_shape), "int8",
                              QuantParams.per_tensor(INPUT_SCALE, INPUT_ZERO_POINT)))
    g.inputs = [cur]
    outputs = []
    for layer, (rmin, rmax) in zip(layers, ranges):
        if layer.kind == OpKind.AVERAGE_POOL_2D:
            cur = _add_global_pool(g, layer, cur)
        else:
            cur = _add_weighted(g, layer, cur, choose_quant_params(rmin, rmax))
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


def _add_weighted(g: Graph, layer: _Layer, src: int, out_quant: QuantParams) -> int:
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
            wq, wquant = _quantize_weights(layer.weight.transpose(0, 2, 3, 1), 0)  # OIHW -> OHWI
            options = Conv2DOptions(layer.stride, Padding.SAME, layer.activation)
        else:
            wq, wquant = _quantize_weights(layer.weight.transpose(1, 2, 3, 0), 3)  # (CM)1HW -> 1HW(CM)
            options = DepthwiseConv2DOptions(layer.stride, Padding.SAME, layer.activation,
                                             depth_multiplier=cout // c)
    bq, bquant = _quantize_bias(layer.bias, x.quant.scale[0], wquant.scale)
    wi = g.add_tensor(Tensor(f"{layer.name}/weight", wq.shape, "int8", wquant, wq))
    bi = g.add_tensor(Tensor(f"{layer.name}/bias", bq.shape, "int32", bquant, bq))
    out = g.add_tensor(Tensor(layer.name, out_shape, "int8", out_quant))
    g.add_op(Op(layer.kind, [src, wi, bi], [out], options))
    return out
