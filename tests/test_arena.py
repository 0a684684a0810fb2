"""The arena planner never lets two simultaneously live tensors share bytes."""

import numpy as np
import pytest

from edgehdc.export.arena import _lifetimes, activation_tensors, plan_arena
from edgehdc.quant.ir import Graph, Op, OpKind, QuantParams, Tensor


def _chain(sizes, branch=False):
    """A chain of pool-like ops over vectors of the given sizes (ops need not be valid for the planner)."""
    g = Graph()
    q = QuantParams.per_tensor(0.1, 0)
    idx = [g.add_tensor(Tensor(f"t{i}", (1, 1, 1, s), "int8", q)) for i, s in enumerate(sizes)]
    g.inputs = [idx[0]]
    for a, b in zip(idx, idx[1:]):
        g.add_op(Op(OpKind.MAX_POOL_2D, [a], [b]))
    if branch:  # the first tensor is read again by the last op, like a residual
        g.ops[-1].inputs.append(idx[0])
    g.outputs = [idx[-1], idx[-2]]
    return g


@pytest.mark.parametrize("branch", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_live_tensors_never_overlap(seed, branch):
    rng = np.random.default_rng(seed)
    g = _chain(rng.integers(1, 300, size=8).tolist(), branch)
    plan = plan_arena(g)
    life = _lifetimes(g)
    tensors = activation_tensors(g)
    for a in tensors:
        size_a = int(np.prod(g.tensors[a].shape))
        assert plan.offsets[a] % 4 == 0
        assert plan.offsets[a] + size_a <= plan.size
        for b in tensors:
            if a >= b:
                continue
            live_together = life[a][0] <= life[b][1] and life[b][0] <= life[a][1]
            size_b = int(np.prod(g.tensors[b].shape))
            disjoint = plan.offsets[a] + size_a <= plan.offsets[b] or plan.offsets[b] + size_b <= plan.offsets[a]
            assert disjoint or not live_together, (a, b)


def test_chain_reuses_memory():
    g = _chain([100, 100, 100, 100, 100, 100])
    plan = plan_arena(g)
    # Outputs (last two) stay alive; the rest ping-pong: far less than the sum.
    assert plan.size < 6 * 100
