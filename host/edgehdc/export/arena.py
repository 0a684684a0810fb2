"""Static arena planning for the activation tensors of an int8 graph.

Tensors that may share bytes are first grouped into buffers:
- a RESHAPE's output is its input's bytes (an alias: the firmware runs no layer);
- an elementwise op (ADD, RELU, RELU6, int8 QUANTIZE, SOFTMAX) writes its
  output over an input of the same shape and dtype whose last reader it is
  (in place; the kernels read element i before writing it).
Each buffer lives from the step that first writes it to the step that last
reads it; the graph input lives from before the first op and the graph
outputs to after the last, so the host can read them after an invoke. A
layer's scratch (`scratch_bytes`) is a buffer living during that layer only.
Buffers are then placed greedy by size, like TFLM's GreedyMemoryPlanner: the
largest first, at the lowest offset where it overlaps no buffer whose
lifetime intersects its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgehdc.export import scratch as _scratch
from edgehdc.quant.ir import Graph, Op, OpKind

ALIGNMENT = 4
DTYPE_BYTES = {"int8": 1, "float32": 4}
IN_PLACE_OPS = {OpKind.ADD, OpKind.RELU, OpKind.RELU6, OpKind.QUANTIZE, OpKind.SOFTMAX}


@dataclass(frozen=True)
class Layer:
    """Op `index` of `graph`, as the scratch request sees it."""

    graph: Graph
    index: int

    @property
    def op(self) -> Op:
        return self.graph.ops[self.index]


@dataclass(frozen=True)
class ArenaPlan:
    offsets: dict[int, int]  # graph tensor index -> byte offset (aliases share their buffer's)
    size: int
    scratch: dict[int, tuple[int, int]]  # op index -> (offset, bytes) of its scratch, when it has one
    alias: dict[int, int]  # tensor -> the tensor whose bytes it reuses (RESHAPE output, in-place output)


def scratch_bytes(layer: Layer, backend: str = "portable", core: str = "cortex-m4") -> int:
    """Scratch bytes the `backend`'s wrapper for `layer` needs on `core` (0: none): exactly its C
    `ehd_<op>_wrapper_s8_get_buffer_size` (edgehdc.export.scratch). The runtime hands the layer an
    `ehd_context` over that many arena bytes; a kernel finding fewer returns a status."""
    return _scratch.scratch_bytes(layer.graph, layer.op, backend, core)


def data_inputs(op: Op) -> list[int]:
    """The operands an op reads as data (ADD: two; the rest: one); shapes, weights etc. follow."""
    return [i for i in op.inputs[: 2 if OpKind(op.kind) is OpKind.ADD else 1] if i >= 0]


def tensor_bytes(graph: Graph, index: int) -> int:
    t = graph.tensors[index]
    return int(np.prod(t.shape, dtype=np.int64)) * DTYPE_BYTES[t.dtype]


def activation_tensors(graph: Graph) -> list[int]:
    """Indices of the non-constant tensors, in first-use order."""
    order: list[int] = []
    for index in [*graph.inputs, *(i for op in graph.ops for i in [*data_inputs(op), *op.outputs])]:
        if index >= 0 and not graph.tensors[index].is_constant and index not in order:
            order.append(index)
    return order


def plan_arena(graph: Graph, backend: str = "portable", core: str = "cortex-m4") -> ArenaPlan:
    alias = _aliases(graph)
    root = {t: _root(alias, t) for t in activation_tensors(graph)}
    life = _buffer_lifetimes(graph, root)
    sizes = {r: 0 for r in life}
    for t, r in root.items():
        sizes[r] = max(sizes[r], _aligned(tensor_bytes(graph, t)))
    for n in range(len(graph.ops)):
        need = scratch_bytes(Layer(graph, n), backend, core)
        if need > 0:
            life[("scratch", n)], sizes[("scratch", n)] = (n, n), _aligned(need)
    offsets, size = _place(sizes, life)
    scratch = {key[1]: (offsets[key], sizes[key]) for key in offsets if isinstance(key, tuple)}
    return ArenaPlan({t: offsets[r] for t, r in root.items()}, size, scratch, alias)


def _root(alias: dict[int, int], t: int) -> int:
    while t in alias:
        t = alias[t]
    return t


def _aliases(graph: Graph) -> dict[int, int]:
    """RESHAPE outputs and legal in-place outputs -> the tensor whose bytes they take."""
    alias: dict[int, int] = {}
    last_read = _last_reads(graph)
    outputs = set(graph.outputs)
    for step, op in enumerate(graph.ops):
        inputs, out = data_inputs(op), op.outputs[0]
        kind = OpKind(op.kind)
        if kind is OpKind.RESHAPE and not graph.tensors[inputs[0]].is_constant:
            alias[out] = inputs[0]
            continue
        if kind not in IN_PLACE_OPS:
            continue
        for i in inputs:
            if _in_place_ok(graph, alias, last_read, outputs, step, i, out, inputs):
                alias[out] = i
                break
    return alias


def _in_place_ok(graph, alias, last_read, outputs, step, i, out, inputs) -> bool:
    """`out` may take `i`'s bytes: same shape and dtype, an activation nobody reads after `step`."""
    ti, to = graph.tensors[i], graph.tensors[out]
    if ti.is_constant or ti.dtype != to.dtype or tuple(ti.shape) != tuple(to.shape):
        return False
    group = [t for t in range(len(graph.tensors)) if _root(alias, t) == _root(alias, i)]
    if any(last_read.get(t, -1) > step or t in outputs for t in group):
        return False
    # The other operand must not be another view of the same bytes (it would be read elsewhere).
    return all(j == i or _root(alias, j) != _root(alias, i) for j in inputs)


def _last_reads(graph: Graph) -> dict[int, int]:
    last: dict[int, int] = {}
    for step, op in enumerate(graph.ops):
        for i in data_inputs(op):
            last[i] = step
    return last


def _buffer_lifetimes(graph: Graph, root: dict[int, int]) -> dict[int, tuple[int, int]]:
    """(first step written, last step read) of each buffer; -1 before the first op."""
    life: dict[int, tuple[int, int]] = {}

    def touch(t: int, step: int) -> None:
        r = root[t]
        lo, hi = life.get(r, (step, step))
        life[r] = (min(lo, step), max(hi, step))

    for t in graph.inputs:
        touch(t, -1)
    for step, op in enumerate(graph.ops):
        for t in [*data_inputs(op), *op.outputs]:
            if t in root:
                touch(t, step)
    for t in graph.outputs:
        if t in root:
            touch(t, len(graph.ops))
    return life


# Placement orders tried; the smallest arena wins. Greedy by size alone (TFLM's order) is not
# always best: on MobileNet VWW another order needs 55.3 kB instead of 64.5 kB.
_ORDERS = (
    lambda size, life: -size,
    lambda size, life: -size * (life[1] - life[0] + 1),
    lambda size, life: (life[0], -size),
)


def _place(sizes: dict, life: dict) -> tuple[dict, int]:
    plans = [_place_in_order(sizes, life, sorted(sizes, key=lambda b: (order(sizes[b], life[b]), str(b))))
             for order in _ORDERS]
    return min(plans, key=lambda plan: plan[1])


def _place_in_order(sizes: dict, life: dict, order: list) -> tuple[dict, int]:
    placed: list[tuple[int, int, object]] = []  # (offset, size, buffer)
    offsets = {}
    for buf in order:
        offset = 0
        for other_offset, other_size, other in sorted(placed, key=lambda p: p[:2]):
            if not _overlap(life[buf], life[other]):
                continue
            if offset + sizes[buf] <= other_offset:
                break
            offset = max(offset, other_offset + other_size)
        offsets[buf] = offset
        placed.append((offset, sizes[buf], buf))
    return offsets, max((o + s for o, s, _ in placed), default=0)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _aligned(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
