"""Fold real converter patterns into the IR op set (used by `tflite_io.from_tflite`).

The TFLite converter writes a few things outside our op set that are
exactly equivalent to ops in it:

- static shape arithmetic (a Keras Flatten): SHAPE -> STRIDED_SLICE -> PACK
  feeding RESHAPE's shape. Evaluated here; the results become constants.
- a dilated convolution: SPACE_TO_BATCH_ND -> CONV_2D / DEPTHWISE_CONV_2D
  (VALID) -> BATCH_TO_SPACE_ND becomes one convolution with dilation, SAME
  or VALID. SPACE_TO_BATCH_ND pads with the zero point (TFLite's semantics),
  so padded taps add nothing, exactly as our kernels skip them. (The pip
  TFLM leaves that pad value uninitialised: on a SAME pattern its output
  depends on stale memory, so `edgehdc.verify` checks such an op against
  LiteRT's reference kernels: `tflm.known_defects`.)
- a separate RELU / RELU6 after an op with no fused activation, when the
  RELU keeps the quantization (then it is exactly the fused clamp).

Folding never renumbers tensors: a folded-away intermediate stays in
`graph.tensors`, produced by no op, so tensor i of the graph is tensor i of
the file. Anything left that cannot be folded raises UnsupportedOpError.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from edgehdc.quant.arith import compute_padding
from edgehdc.quant.ir import Activation, Graph, Op, OpKind, Padding


class UnsupportedOpError(ValueError):
    """The model uses an operator (or option) outside the IR op set."""


@dataclass
class RawOp:
    """An operator outside the IR op set, as read from the file."""

    name: str  # builtin operator name, e.g. "SHAPE"
    inputs: list[int]
    outputs: list[int]
    options: object = None  # the schema's options object (fb.*OptionsT) or None


FOLDABLE = ("SHAPE", "STRIDED_SLICE", "PACK", "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND")
_FUSABLE = (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.FULLY_CONNECTED, OpKind.ADD,
            OpKind.AVERAGE_POOL_2D, OpKind.MAX_POOL_2D)


def fold(graph: Graph, ops: list[tuple[int, Op | RawOp]]) -> list[tuple[int, Op]]:
    """IR ops for `ops` (pairs of file operator index and op), patterns folded.

    Sets the data of constant-folded tensors in `graph.tensors` in place.
    """
    ops = _fold_constants(graph, ops)
    ops = _fold_dilated_convolutions(graph, ops)
    for index, op in ops:
        if isinstance(op, RawOp):
            raise UnsupportedOpError(f"operator {index}: {op.name} is not supported here "
                                     "(only as part of a pattern the importer folds)")
    return _fold_relus(graph, ops)


# -- static shape arithmetic ----------------------------------------------------


def _fold_constants(graph: Graph, ops):
    kept = []
    for index, op in ops:
        if isinstance(op, RawOp) and op.name in ("SHAPE", "STRIDED_SLICE", "PACK"):
            value = _evaluate(graph, index, op)
            out = graph.tensors[op.outputs[0]]
            if out.dtype != "int32" or value.size != int(np.prod(out.shape, dtype=np.int64)):
                raise ValueError(f"corrupt .tflite model: operator {index} ({op.name}) computes "
                                 f"{value.size} values for {out.dtype} tensor {out.name!r} of shape {out.shape}")
            out.data = value.astype(np.int32).reshape(out.shape)
        else:
            kept.append((index, op))
    return kept


def _evaluate(graph: Graph, index: int, op: RawOp) -> np.ndarray:
    where = f"operator {index} ({op.name})"
    if len(op.outputs) != 1 or not op.inputs:
        raise ValueError(f"corrupt .tflite model: {where} has {len(op.inputs)} inputs, {len(op.outputs)} outputs")
    if op.name == "SHAPE":
        return np.array(graph.tensors[op.inputs[0]].shape, np.int64)
    values = []
    for i in op.inputs:
        t = graph.tensors[i]
        if t.data is None:
            raise UnsupportedOpError(f"{where}: input {t.name!r} is not a constant; "
                                     "only static shape arithmetic is folded")
        values.append(np.asarray(t.data, np.int64))
    if op.name == "PACK":
        axis = int(getattr(op.options, "axis", 0))
        if len({v.shape for v in values}) != 1 or not -values[0].ndim - 1 <= axis <= values[0].ndim:
            raise UnsupportedOpError(f"{where}: cannot stack {[v.shape for v in values]} on axis {axis}")
        return np.stack(values, axis=axis)
    return _strided_slice(where, values, op.options)


def _strided_slice(where: str, values, o) -> np.ndarray:
    if len(values) != 4:
        raise ValueError(f"corrupt .tflite model: {where} needs 4 inputs, got {len(values)}")
    x, begin, end, strides = values
    masks = [int(getattr(o, f, 0) or 0) for f in ("beginMask", "endMask", "ellipsisMask",
                                                  "newAxisMask", "shrinkAxisMask")]
    if masks[2] or masks[3] or getattr(o, "offset", False):
        raise UnsupportedOpError(f"{where}: ellipsis, new-axis or offset slicing is not supported")
    n = begin.size
    if not (end.size == strides.size == n <= x.ndim) or np.any(strides == 0):
        raise UnsupportedOpError(f"{where}: begin/end/strides {begin}, {end}, {strides} do not fit {x.shape}")
    index = []
    for d in range(n):
        b = None if masks[0] >> d & 1 else int(begin[d])
        e = None if masks[1] >> d & 1 else int(end[d])
        if masks[4] >> d & 1:
            if not -x.shape[d] <= int(begin[d]) < x.shape[d]:
                raise UnsupportedOpError(f"{where}: index {int(begin[d])} outside dimension {x.shape[d]}")
            index.append(int(begin[d]))
        else:
            index.append(slice(b, e, int(strides[d])))
    return np.asarray(x[tuple(index)])


# -- SPACE_TO_BATCH_ND + convolution + BATCH_TO_SPACE_ND ---------------------------


def _fold_dilated_convolutions(graph: Graph, ops):
    out = []
    i = 0
    while i < len(ops):
        index, op = ops[i]
        if isinstance(op, RawOp) and op.name == "SPACE_TO_BATCH_ND":
            if i + 2 >= len(ops):
                raise UnsupportedOpError(f"operator {index}: SPACE_TO_BATCH_ND is not followed by a "
                                         "convolution and BATCH_TO_SPACE_ND")
            out.append((ops[i + 1][0], _dilated(graph, index, op, ops[i + 1][1], ops[i + 2][1])))
            i += 3
        else:
            out.append((index, op))
            i += 1
    return out


def _dilated(graph: Graph, index: int, s2b: RawOp, conv, b2s) -> Op:
    where = f"operator {index} (SPACE_TO_BATCH_ND)"
    if (not isinstance(conv, Op) or conv.kind not in (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D)
            or not isinstance(b2s, RawOp) or b2s.name != "BATCH_TO_SPACE_ND"
            or conv.inputs[0] != s2b.outputs[0] or b2s.inputs[0] != conv.outputs[0]):
        raise UnsupportedOpError(f"{where}: only SPACE_TO_BATCH_ND -> CONV_2D/DEPTHWISE_CONV_2D -> "
                                 "BATCH_TO_SPACE_ND (a dilated convolution) is supported")
    if len(s2b.inputs) != 3 or len(b2s.inputs) != 3:
        raise ValueError(f"corrupt .tflite model: {where}: SPACE_TO_BATCH_ND/BATCH_TO_SPACE_ND need 3 inputs")
    block = _const(graph, s2b.inputs[1], where).reshape(-1)
    pads = _const(graph, s2b.inputs[2], where).reshape(-1, 2)
    crops = _const(graph, b2s.inputs[2], where).reshape(-1, 2)
    x, y = graph.tensors[s2b.inputs[0]], graph.tensors[b2s.outputs[0]]
    opts = conv.options
    if (block.shape != (2,) or pads.shape != (2, 2) or crops.shape != (2, 2)
            or not np.array_equal(_const(graph, b2s.inputs[1], where).reshape(-1), block)
            or np.any(block < 1) or opts.stride != (1, 1) or opts.dilation != (1, 1)
            or opts.padding is not Padding.VALID or len(x.shape) != 4 or len(y.shape) != 4):
        raise UnsupportedOpError(f"{where}: unsupported space-to-batch convolution "
                                 f"(block {block.tolist()}, stride {opts.stride}, padding {opts.padding.value})")
    for a, b in ((x, graph.tensors[s2b.outputs[0]]), (graph.tensors[conv.outputs[0]], y)):
        if not same_quant(a, b):
            raise UnsupportedOpError(f"{where}: {a.name!r} and {b.name!r} differ in quantization")
    kh, kw = graph.tensors[conv.inputs[1]].shape[1:3]
    padding = set()
    for axis, k in ((0, kh), (1, kw)):
        d = int(block[axis])
        pad_before = int(pads[axis, 0] - crops[axis, 0])
        out = int(x.shape[1 + axis] + pads[axis].sum() - (k - 1) * d - crops[axis].sum())
        padding.add(_padding_for(int(x.shape[1 + axis]), k, d, pad_before, out))
    if len(padding) != 1 or None in padding:
        raise UnsupportedOpError(f"{where}: paddings {pads.tolist()} and crops {crops.tolist()} are "
                                 "neither SAME nor VALID")
    dilated = dataclasses.replace(opts, padding=padding.pop(), dilation=(int(block[0]), int(block[1])))
    return Op(conv.kind, [s2b.inputs[0], *conv.inputs[1:]], [b2s.outputs[0]], dilated)


def _padding_for(size: int, k: int, d: int, pad_before: int, out: int) -> Padding | None:
    for padding in (Padding.SAME, Padding.VALID):
        try:
            if compute_padding(size, k, 1, d, padding) == (pad_before, out):
                return padding
        except ValueError:
            pass
    return None


def _const(graph: Graph, index: int, where: str) -> np.ndarray:
    t = graph.tensors[index]
    if t.data is None or t.dtype != "int32":
        raise UnsupportedOpError(f"{where}: {t.name!r} must be a constant int32 tensor")
    return np.asarray(t.data, np.int64)


def same_quant(a, b) -> bool:
    """Same dtype and the same quantization (scales and zero points), or both unquantized."""
    qa, qb = a.quant, b.quant
    if a.dtype != b.dtype or (qa is None) != (qb is None):
        return False
    return qa is None or (np.array_equal(qa.scale, qb.scale) and np.array_equal(qa.zero_point, qb.zero_point))


# -- separate RELU / RELU6 ----------------------------------------------------------


def _fold_relus(graph: Graph, ops):
    readers: dict[int, int] = {}
    for _, op in ops:
        for t in op.inputs:
            readers[t] = readers.get(t, 0) + 1
    producer = {op.outputs[0]: pos for pos, (_, op) in enumerate(ops)}
    out = list(ops)
    for pos, (index, op) in enumerate(ops):
        if op.kind not in (OpKind.RELU, OpKind.RELU6) or len(op.inputs) != 1:
            continue
        src = op.inputs[0]
        p = producer.get(src)
        if p is None or readers.get(src) != 1 or src in graph.outputs:
            continue
        prev_index, prev = out[p]
        act = getattr(prev.options, "activation", None)
        if (prev.kind not in _FUSABLE or act is not Activation.NONE
                or not same_quant(graph.tensors[src], graph.tensors[op.outputs[0]])):
            continue
        fused = dataclasses.replace(prev.options, activation=Activation(op.kind.value))
        out[p] = (prev_index, Op(prev.kind, list(prev.inputs), list(op.outputs), fused))
        out[pos] = None
        producer[op.outputs[0]] = p
    return [entry for entry in out if entry is not None]
