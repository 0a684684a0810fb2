"""Static arena planning for the activation tensors of an int8 graph.

Greedy by size, like TFLM's GreedyMemoryPlanner: the largest tensors are
placed first at the lowest offset where they overlap no tensor whose
lifetime intersects theirs. Graph outputs stay alive to the end so the host
can read them after an invoke.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgehdc.quant.ir import Graph

ALIGNMENT = 4


@dataclass(frozen=True)
class ArenaPlan:
    offsets: dict[int, int]  # graph tensor index -> byte offset
    size: int


def activation_tensors(graph: Graph) -> list[int]:
    """Indices of the non-constant tensors, in first-use order."""
    order: list[int] = []
    for index in [*graph.inputs, *(i for op in graph.ops for i in [*op.inputs, *op.outputs])]:
        if index >= 0 and not graph.tensors[index].is_constant and index not in order:
            order.append(index)
    return order


def _lifetimes(graph: Graph) -> dict[int, tuple[int, int]]:
    last_step = len(graph.ops)
    life = {i: (-1, -1) for i in graph.inputs}
    for step, op in enumerate(graph.ops):
        for i in op.outputs:
            life[i] = (step, step)
        for i in op.inputs:
            if i in life:
                life[i] = (life[i][0], step)
    for i in graph.outputs:
        life[i] = (life[i][0], last_step)
    return life


def plan_arena(graph: Graph) -> ArenaPlan:
    life = _lifetimes(graph)
    sizes = {i: _aligned(int(np.prod(graph.tensors[i].shape))) for i in activation_tensors(graph)}
    placed: list[tuple[int, int, int]] = []  # (offset, size, tensor)
    offsets: dict[int, int] = {}
    for tensor in sorted(sizes, key=lambda i: (-sizes[i], i)):
        offset = 0
        for other_offset, other_size, other in sorted(placed):
            if not _overlap(life[tensor], life[other]):
                continue
            if offset + sizes[tensor] <= other_offset:
                break
            offset = max(offset, other_offset + other_size)
        offsets[tensor] = offset
        placed.append((offset, sizes[tensor], tensor))
    size = max((o + s for o, s, _ in placed), default=0)
    return ArenaPlan(offsets, size)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _aligned(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
