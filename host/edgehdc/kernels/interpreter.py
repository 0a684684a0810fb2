"""Run an int8 IR graph on the host with the Numba kernels (the firmware's mirror).

`run(graph, x)` executes the ops in order. `x` is one sample shaped like the
graph input (batch dimension 1, or without it) or a batch [N, *input.shape[1:]];
every tensor keeps its per-sample shape with the batch dimension set to N.
"""

from __future__ import annotations

import numpy as np

from edgehdc.kernels.conv import conv2d_s8, depthwise_conv2d_s8
from edgehdc.kernels.fully_connected import fully_connected_s8
from edgehdc.kernels.pooling import avg_pool2d_s8, max_pool2d_s8
from edgehdc.quant.arith import lower
from edgehdc.quant.ir import Graph, Op, OpKind


def run(graph: Graph, x: np.ndarray, keep_all: bool = False) -> list[np.ndarray] | dict[int, np.ndarray]:
    """Outputs of `graph` for input `x` (int8).

    Returns the graph outputs in order, or with `keep_all` a dict
    {tensor_index: array} of every activation tensor (input included).
    A sample given without its batch dimension gets results without it too.
    """
    if len(graph.inputs) != 1:
        raise ValueError(f"run() supports graphs with one input, this one has {len(graph.inputs)}")
    x, batched = _as_batch(graph, np.asarray(x))
    values: dict[int, np.ndarray] = {graph.inputs[0]: x}
    for i, op in enumerate(graph.ops):
        try:
            src = values[op.inputs[0]]
        except KeyError:
            raise ValueError(f"op {i} ({op.kind}) reads tensor {op.inputs[0]} before it exists") from None
        values[op.outputs[0]] = _run_op(graph, op, src)
    if not batched:
        values = {k: v[0] for k, v in values.items()}
    if keep_all:
        return values
    missing = [o for o in graph.outputs if o not in values]
    if missing:
        raise ValueError(f"graph outputs {missing} are not produced by any op")
    return [values[o] for o in graph.outputs]


def _as_batch(graph: Graph, x: np.ndarray) -> tuple[np.ndarray, bool]:
    t = graph.tensors[graph.inputs[0]]
    if x.dtype != np.int8:
        raise ValueError(f"input must be int8, got {x.dtype}")
    if x.ndim == len(t.shape) and tuple(x.shape[1:]) == tuple(t.shape[1:]):
        return np.ascontiguousarray(x), True
    if tuple(x.shape) == tuple(t.shape[1:]):
        return np.ascontiguousarray(x[None]), False
    raise ValueError(f"input shape {x.shape} does not match graph input {t.shape} (batch dim first)")


def _run_op(graph: Graph, op: Op, src: np.ndarray) -> np.ndarray:
    p = lower(graph, op)  # validates dtypes, shapes and options
    kind = OpKind(op.kind)
    n = src.shape[0]
    out_shape = (n, *graph.tensors[op.outputs[0]].shape[1:])
    if kind in (OpKind.AVERAGE_POOL_2D, OpKind.MAX_POOL_2D):
        pool = avg_pool2d_s8 if kind is OpKind.AVERAGE_POOL_2D else max_pool2d_s8
        return pool(src, p)
    weights = graph.tensors[op.inputs[1]].data
    bias = graph.tensors[op.inputs[2]].data if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
    if kind is OpKind.FULLY_CONNECTED:
        # TFLM flattens the input to rows of weights.shape[1] values.
        y = fully_connected_s8(src.reshape(-1, weights.shape[1]), weights, bias, p)
        return y.reshape(out_shape)
    conv = conv2d_s8 if kind is OpKind.CONV_2D else depthwise_conv2d_s8
    return conv(src, weights, bias, p)
