"""Run an IR graph on the host with the Numba kernels (the firmware's mirror).

`run(graph, x)` executes the ops in order. `x` is one sample shaped like the
graph input (batch dimension 1, or without it) or a batch [N, *input.shape[1:]],
int8 or float32 as the graph input is; every tensor keeps its per-sample shape
with the batch dimension set to N. Each op kind has one runner in `_RUNNERS`.
"""

from __future__ import annotations

import numpy as np

from edgehdc.kernels.conv import depthwise_conv2d_s8, prepare_conv2d_s8
from edgehdc.kernels.elementwise import prepare_add_s8, relu_s8
from edgehdc.kernels.fully_connected import prepare_fully_connected_s8
from edgehdc.kernels.pooling import prepare_pool2d_s8
from edgehdc.kernels.quantize import dequantize_s8_f32, quantize_f32_s8, requantize_s8_s8
from edgehdc.kernels.reduce import mean_hw_s8
from edgehdc.kernels.shape import pad_s8, prepare_reshape
from edgehdc.kernels.softmax import softmax_s8
from edgehdc.quant.arith import QuantizeParams, lower
from edgehdc.quant.ir import Graph, Op, OpKind

_NP_DTYPES = {"int8": np.int8, "float32": np.float32}


class Interpreter:
    """A graph prepared once (every op lowered to its integer parameters), then run many times.

    Like TFLM's Prepare/Invoke split: `lower()` is Python and costs about as
    much as the kernels on small models, so repeated inference should keep one
    Interpreter. The graph must not change after it is prepared.
    """

    def __init__(self, graph: Graph, runners: dict | None = None):
        """`runners` maps op kinds to (graph, op, params, *operands) -> output; default: the Numba kernels."""
        if len(graph.inputs) != 1:
            raise ValueError(f"the interpreter supports graphs with one input, this one has {len(graph.inputs)}")
        self.graph = graph
        self._runners = _RUNNERS if runners is None else runners
        self._constants, self._steps = _schedule(graph)
        self._calls = [self._prepare(op, OpKind(op.kind), lower(graph, op)) for op in graph.ops]

    def _prepare(self, op: Op, kind: OpKind, params):
        """data operands -> output for one op; a runner with `prepare` does its constant work here, once."""
        runner, graph = self._runners[kind], self.graph
        if hasattr(runner, "prepare"):
            return runner.prepare(graph, op, params)
        return lambda *args: runner(graph, op, params, *args)

    def run(self, x: np.ndarray, keep_all: bool = False) -> list[np.ndarray] | dict[int, np.ndarray]:
        """Outputs of the graph for input `x` (int8, or float32 for a float-input graph).

        Returns the graph outputs in order, or with `keep_all` a dict
        {tensor_index: array} of every activation tensor (input included).
        A sample given without its batch dimension gets results without it too.
        """
        graph = self.graph
        x, batched = _as_batch(graph, np.asarray(x))
        values = dict(self._constants)
        values[graph.inputs[0]] = x
        for (operands, output), call in zip(self._steps, self._calls):
            values[output] = call(*[values[t] for t in operands])
        for t in self._constants:
            del values[t]
        if not batched:
            values = {k: v[0] for k, v in values.items()}
        if keep_all:
            return values
        missing = [o for o in graph.outputs if o not in values]
        if missing:
            raise ValueError(f"graph outputs {missing} are not produced by any op")
        return [values[o] for o in graph.outputs]


    def run_op(self, index: int, values: dict[int, np.ndarray]) -> np.ndarray:
        """The output of op `index` alone on a batch of its data operands taken from `values`
        (tensor index -> array, batch first): checks one op on another interpreter's inputs."""
        operands, _ = self._steps[index]
        missing = [t for t in operands if t not in self._constants and t not in values]
        if missing:
            raise ValueError(f"op {index} ({OpKind(self.graph.ops[index].kind).value}): no value for tensors {missing}")
        return self._calls[index](*[self._constants[t] if t in self._constants else values[t] for t in operands])


def litert_runners() -> dict:
    """The runners with LiteRT's reference arithmetic where it departs from TFLM's:
    FULLY_CONNECTED rounds once. For comparing with that oracle only (`edgehdc.verify`)."""
    return {**_RUNNERS, OpKind.FULLY_CONNECTED: _fully_connected_single_rounding}


def _schedule(graph: Graph) -> tuple[dict[int, np.ndarray], list[tuple[tuple[int, ...], int]]]:
    """The constant data operands, and per op (data operand tensors, output tensor); checks that
    every operand exists before the op that reads it, so `run` needs no checks."""
    constants, steps = {}, []
    ready = {graph.inputs[0]}
    for i, op in enumerate(graph.ops):
        operands = tuple(op.inputs[:_DATA_INPUTS.get(OpKind(op.kind), 1)])
        for t in operands:
            if t in ready:
                continue
            if 0 <= t < len(graph.tensors) and graph.tensors[t].data is not None:
                constants[t] = graph.tensors[t].data  # a constant operand (e.g. ADD of a constant)
                continue
            raise ValueError(f"op {i} ({OpKind(op.kind).value}) reads tensor {t} before it exists")
        ready.add(op.outputs[0])
        steps.append((operands, op.outputs[0]))
    return constants, steps


def run(graph: Graph, x: np.ndarray, keep_all: bool = False) -> list[np.ndarray] | dict[int, np.ndarray]:
    """One-shot `Interpreter(graph).run(x, keep_all)`: prepares the graph on every call."""
    return Interpreter(graph).run(x, keep_all)


def _as_batch(graph: Graph, x: np.ndarray) -> tuple[np.ndarray, bool]:
    t = graph.tensors[graph.inputs[0]]
    dtype = _NP_DTYPES.get(t.dtype)
    if x.dtype != dtype:
        raise ValueError(f"input must be {t.dtype}, got {x.dtype}")
    if x.ndim == len(t.shape) and tuple(x.shape[1:]) == tuple(t.shape[1:]):
        return np.ascontiguousarray(x), True
    if tuple(x.shape) == tuple(t.shape[1:]):
        return np.ascontiguousarray(x[None]), False
    raise ValueError(f"input shape {x.shape} does not match graph input {t.shape} (batch dim first)")


# -- one runner per op kind: (graph, op, lowered params, data operands) -> output


def _prepared(prepare):
    """A runner from `prepare(graph, op, params) -> (*operands) -> output`, which the
    Interpreter calls once per op: checks and constant work happen there, not per inference."""

    def runner(graph, op, p, *operands):
        return prepare(graph, op, p)(*operands)

    runner.prepare = prepare
    return runner


@_prepared
def _conv(graph, op, p):
    weights, bias = graph.weights_and_bias(op)
    if OpKind(op.kind) is OpKind.CONV_2D:
        return prepare_conv2d_s8(weights, bias, p)  # weights re-laid out once per graph
    return lambda x: depthwise_conv2d_s8(x, weights, bias, p)


@_prepared
def _fully_connected(graph, op, p, single_rounding=False):
    weights, bias = graph.weights_and_bias(op)
    fc, rows = prepare_fully_connected_s8(weights, bias, p, single_rounding), (-1, weights.shape[1])
    # TFLM flattens the input to rows of weights.shape[1] values.
    return lambda x: fc(x.reshape(rows)).reshape(_batch_shape(graph, op, x))


_fully_connected_single_rounding = _prepared(lambda graph, op, p: _fully_connected.prepare(graph, op, p, True))


@_prepared
def _pool(graph, op, p):
    return prepare_pool2d_s8(p, is_max=OpKind(op.kind) is OpKind.MAX_POOL_2D)


def _batch_shape(graph, op, x) -> tuple[int, ...]:
    return (x.shape[0], *graph.tensors[op.outputs[0]].shape[1:])


def _quantize(graph, op, p, x):
    return quantize_f32_s8(x, p) if isinstance(p, QuantizeParams) else requantize_s8_s8(x, p)


_RUNNERS = {
    OpKind.CONV_2D: _conv,
    OpKind.DEPTHWISE_CONV_2D: _conv,
    OpKind.FULLY_CONNECTED: _fully_connected,
    OpKind.AVERAGE_POOL_2D: _pool,
    OpKind.MAX_POOL_2D: _pool,
    OpKind.ADD: _prepared(lambda graph, op, p: prepare_add_s8(p)),
    OpKind.RESHAPE: _prepared(lambda graph, op, p: prepare_reshape(p)),
    OpKind.SOFTMAX: lambda graph, op, p, x: softmax_s8(x, p),
    OpKind.QUANTIZE: _quantize,
    OpKind.DEQUANTIZE: lambda graph, op, p, x: dequantize_s8_f32(x, p),
    OpKind.PAD: lambda graph, op, p, x: pad_s8(x, p),
    OpKind.MEAN: lambda graph, op, p, x: mean_hw_s8(x, p).reshape(_batch_shape(graph, op, x)),
    OpKind.RELU: lambda graph, op, p, x: relu_s8(x, p),
    OpKind.RELU6: lambda graph, op, p, x: relu_s8(x, p),
}
# Activation operands per op; the rest (weights, shapes, paddings, axes) are constants.
_DATA_INPUTS = {OpKind.ADD: 2}
