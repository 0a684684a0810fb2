"""Arena planner properties: no two tensors alive at once share a byte, except a RESHAPE alias or a
legal in-place write; the model input and outputs survive the whole invoke; scratch is planned."""

from pathlib import Path

import numpy as np
import pytest

from edgehdc.export import arena
from edgehdc.export.arena import IN_PLACE_OPS, Layer, data_inputs, plan_arena, tensor_bytes
from edgehdc.quant.ir import Graph, Op, OpKind, QuantParams, Tensor
from edgehdc.quant.tflite_io import from_tflite
from test_runtime_model import _OPS, float_io_model, graph_of, resnet_block

MLPERF = Path(__file__).resolve().parents[2] / "shared" / "models" / "mlperf_tiny"


def lifetimes(g):
    """Each activation's (step written, last step read); input from -1, outputs to the end."""
    life = {g.inputs[0]: [-1, -1]}
    for step, op in enumerate(g.ops):
        life[op.outputs[0]] = [step, step]
        for t in data_inputs(op):
            if t in life:
                life[t][1] = step
    for t in g.outputs:
        life[t][1] = len(g.ops)
    return life


def legal_share(g, a, b, life) -> bool:
    """b may take a's bytes: b is RESHAPE(a), or an in-place op writes b over a at a's last read."""
    op = next((op for op in g.ops if op.outputs[0] == b), None)
    if op is None or a not in data_inputs(op):
        return False
    if op.kind is OpKind.RESHAPE:
        return True
    return (op.kind in IN_PLACE_OPS and life[a][1] == life[b][0] and a not in g.outputs
            and g.tensors[a].shape == g.tensors[b].shape and g.tensors[a].dtype == g.tensors[b].dtype)


def same_bytes_group(g, a, b, plan) -> bool:
    """a and b are one buffer through a chain of aliases."""
    def root(t):
        while t in plan.alias:
            t = plan.alias[t]
        return t
    return root(a) == root(b)


def assert_plan_is_sound(g, plan):
    life = lifetimes(g)
    tensors = sorted(life)
    for i, a in enumerate(tensors):
        lo, hi = plan.offsets[a], plan.offsets[a] + tensor_bytes(g, a)
        assert hi <= plan.size and lo % arena.ALIGNMENT == 0
        for b in tensors[i + 1:]:
            blo, bhi = plan.offsets[b], plan.offsets[b] + tensor_bytes(g, b)
            if blo >= hi or lo >= bhi:
                continue
            if life[a][1] < life[b][0] or life[b][1] < life[a][0]:
                continue  # never alive together
            assert same_bytes_group(g, a, b, plan), (a, b)
    for b, a in plan.alias.items():
        assert legal_share(g, a, b, life), (a, b)
        assert plan.offsets[a] == plan.offsets[b]


@pytest.mark.parametrize("name", sorted(f.stem for f in MLPERF.glob("*.tflite")))
def test_mlperf_plans_are_sound(name):
    g = from_tflite((MLPERF / f"{name}.tflite").read_bytes())
    plan = plan_arena(g)
    assert_plan_is_sound(g, plan)
    # Each RESHAPE is an alias (no bytes, no layer).
    assert all(op.outputs[0] in plan.alias for op in g.ops if op.kind is OpKind.RESHAPE)


def test_random_graph_plans_are_sound():
    for seed in range(40):
        for kind in _OPS:
            g = graph_of(kind, np.random.default_rng([seed, _OPS.index(kind)]))
            assert_plan_is_sound(g, plan_arena(g))
    for seed in range(10):
        for g in (resnet_block(np.random.default_rng(seed)), float_io_model(np.random.default_rng(seed))):
            assert_plan_is_sound(g, plan_arena(g))


def test_in_place_only_over_a_dead_input():
    g = resnet_block(np.random.default_rng(0))
    add = next(op for op in g.ops if op.kind is OpKind.ADD)
    skip = add.inputs[1]  # the first conv's output: read by ADD last, so ADD may write over either input
    plan = plan_arena(g)
    assert plan.alias[add.outputs[0]] == add.inputs[0]
    # Keep the first input alive past the ADD (make it a model output): ADD now takes the skip's bytes.
    g.outputs.append(add.inputs[0])
    plan = plan_arena(g)
    assert plan.alias[add.outputs[0]] == skip
    assert_plan_is_sound(g, plan)
    # Both alive later: no in-place, and the output gets bytes of its own.
    g.outputs.append(skip)
    plan = plan_arena(g)
    assert add.outputs[0] not in plan.alias
    assert_plan_is_sound(g, plan)


def test_scratch_requests_get_their_own_bytes(monkeypatch):
    g = resnet_block(np.random.default_rng(1))
    monkeypatch.setattr(arena, "scratch_bytes", lambda layer, backend, core: 100 if layer.op.kind is OpKind.CONV_2D else 0)
    plan = plan_arena(g)
    convs = [n for n, op in enumerate(g.ops) if op.kind is OpKind.CONV_2D]
    assert sorted(plan.scratch) == convs and all(size == 100 for _, size in plan.scratch.values())
    life = lifetimes(g)
    for n, (offset, size) in plan.scratch.items():
        for t, (lo, hi) in life.items():
            if lo <= n <= hi:  # alive during the layer: no shared byte with its scratch
                assert plan.offsets[t] >= offset + size or plan.offsets[t] + tensor_bytes(g, t) <= offset


def test_portable_needs_no_scratch_and_unknown_backends_are_refused():
    g = resnet_block(np.random.default_rng(2))
    assert all(arena.scratch_bytes(Layer(g, n), "portable", "cortex-m4") == 0 for n in range(len(g.ops)))
    with pytest.raises(ValueError, match="unknown kernel backend"):
        plan_arena(g, backend="nonesuch")


def _chain(sizes, branch=False):
    """A chain of pool-like ops over vectors of the given sizes (ops need not be valid for the planner)."""
    g = Graph()
    q = QuantParams.per_tensor(0.1, 0)
    idx = [g.add_tensor(Tensor(f"t{i}", (1, 1, 1, s), "int8", q)) for i, s in enumerate(sizes)]
    g.inputs = [idx[0]]
    for a, b in zip(idx, idx[1:]):
        g.add_op(Op(OpKind.MAX_POOL_2D, [a], [b]))
    if branch:  # the first tensor is read again by the last op, like a residual
        g.ops[-1].kind = OpKind.ADD
        g.ops[-1].inputs.append(idx[0])
    g.outputs = [idx[-1], idx[-2]]
    return g


@pytest.mark.parametrize("branch", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_live_tensors_never_overlap(seed, branch):
    rng = np.random.default_rng(seed)
    g = _chain(rng.integers(1, 300, size=8).tolist(), branch)
    plan = plan_arena(g)
    life = lifetimes(g)
    tensors = sorted(life)
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
