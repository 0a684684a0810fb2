"""The ops beyond conv/FC/pool (ADD, RESHAPE, SOFTMAX, QUANTIZE, DEQUANTIZE, PAD,
MEAN, RELU, RELU6) vs the TFLM reference interpreter, bit for bit (RELU/RELU6
only where TFLM computes what TFLite defines: tests/test_litert.py has the rest).

Each case builds a single-op graph with random shapes, scales and zero points
(fixed seeds), writes it with `to_tflite`, runs TFLM and the Numba interpreter
on the same random batch and compares the outputs exactly (float32 outputs
bit for bit).
"""

from __future__ import annotations

import numpy as np
import pytest

from edgehdc.kernels import interpreter
from edgehdc.quant.arith import lower
from edgehdc.quant.ir import (
    Activation,
    AddOptions,
    Graph,
    MeanOptions,
    Op,
    OpKind,
    QuantParams,
    SoftmaxOptions,
    Tensor,
)
from edgehdc.quant.tflite_io import to_tflite
from edgehdc.quant.tflm import TflmOracle

NONE, RELU, RELU6 = Activation.NONE, Activation.RELU, Activation.RELU6
BATCH = 4


def q(scale: float, zp: int) -> QuantParams:
    return QuantParams.per_tensor(scale, zp)


def rand_q(rng, lo=-3.0, hi=0.0) -> QuantParams:
    return q(10 ** rng.uniform(lo, hi), int(rng.integers(-128, 128)))


def one_op_graph(kind, inputs, output, options=None, constants=()) -> Graph:
    """inputs/output: (name, shape, dtype, quant); constants: (name, int32 data) appended as operands."""
    g = Graph()
    ins = [g.add_tensor(Tensor(n, s, d, qq)) for n, s, d, qq in inputs]
    consts = [g.add_tensor(Tensor(n, v.shape, "int32", None, v)) for n, v in constants]
    y = g.add_tensor(Tensor(*output))
    g.add_op(Op(kind, ins + consts, [y], options))
    g.inputs, g.outputs = ins[:1], [y]
    return g


def random_input(rng, t: Tensor) -> np.ndarray:
    shape = (BATCH, *t.shape[1:])
    if t.dtype == "float32":
        scale, zp = (float(t.quant.scale[0]), int(t.quant.zero_point[0])) if t.quant else (0.05, 0)
        # The representable range and a little beyond (saturation), plus exact half steps.
        x = rng.uniform(scale * (-140 - zp), scale * (140 - zp), shape).astype(np.float32)
        x.flat[::3] = (np.float32(scale) * (rng.integers(-130, 130, x.size)[::3] + 0.5)).astype(np.float32)
        return x
    x = rng.integers(-128, 128, shape).astype(np.int8)
    x[0].flat[::7] = 127
    x[-1].flat[::5] = -128
    return x


def assert_matches_tflm(g: Graph, x: np.ndarray) -> np.ndarray:
    expected = TflmOracle(to_tflite(g)).run(x)[0]
    got = interpreter.run(g, x)[0]
    assert got.dtype == expected.dtype and got.shape == expected.shape
    if got.dtype == np.float32:
        np.testing.assert_array_equal(got.view(np.uint32), expected.view(np.uint32))
    else:
        np.testing.assert_array_equal(got, expected)
    return expected


def run_case(g: Graph, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return assert_matches_tflm(g, random_input(rng, g.tensors[g.inputs[0]]))


# -- ADD ----------------------------------------------------------------------------

# (shape a, shape b, activation, scale ratio a/b, output gain)
ADD_CASES = [
    ((1, 4, 4, 3), (1, 4, 4, 3), NONE, 1.0, 1.0),
    ((1, 5, 3, 8), (1, 5, 3, 8), RELU, 3.7, 1.0),
    ((1, 6, 6, 4), (1, 6, 6, 4), RELU6, 0.2, 0.5),
    ((1, 16), (1, 16), NONE, 1.0, 4.0),
    ((1, 3, 3, 5), (1, 1, 1, 5), NONE, 1.5, 1.0),  # broadcast per channel
    ((1, 7, 2, 2), (1, 7, 2, 2), NONE, 0.01, 0.3),  # very different scales
    ((1, 2, 9, 3), (1, 2, 9, 3), NONE, 1.0, 100.0),  # coarse output: long right shifts
]


@pytest.mark.parametrize("case", ADD_CASES, ids=[f"add{i}" for i in range(len(ADD_CASES))])
def test_add_matches_tflm(case):
    sa, sb, act, ratio, gain = case
    rng = np.random.default_rng(100 + ADD_CASES.index(case))
    qa = rand_q(rng, -2, -1)
    qb = q(float(qa.scale[0]) / ratio, int(rng.integers(-128, 128)))
    qy = q(gain * 2 * max(float(qa.scale[0]), float(qb.scale[0])), int(rng.integers(-100, 100)))
    out_shape = np.broadcast_shapes(sa, sb)
    g = Graph()
    a = g.add_tensor(Tensor("a", sa, "int8", qa))
    y = g.add_tensor(Tensor("y", out_shape, "int8", qy))
    # The second operand is a second input of the graph in TFLM; give it as a constant here.
    b = g.add_tensor(Tensor("b", sb, "int8", qb, rng.integers(-128, 128, sb).astype(np.int8)))
    g.add_op(Op(OpKind.ADD, [a, b], [y], AddOptions(act)))
    g.inputs, g.outputs = [a], [y]
    y_ref = run_case(g, 200 + ADD_CASES.index(case))
    assert len(np.unique(y_ref)) > 2


def test_add_of_two_activations_matches_tflm():
    """ResNet's residual: both operands computed (RELU6 of the input, then ADD of both)."""
    rng = np.random.default_rng(3)
    g = Graph()
    x = g.add_tensor(Tensor("x", (1, 4, 4, 6), "int8", q(0.05, -3)))
    r = g.add_tensor(Tensor("r", (1, 4, 4, 6), "int8", q(0.05, -3)))
    y = g.add_tensor(Tensor("y", (1, 4, 4, 6), "int8", q(0.08, 10)))
    g.add_op(Op(OpKind.RELU6, [x], [r]))
    g.add_op(Op(OpKind.ADD, [x, r], [y], AddOptions(RELU)))
    g.inputs, g.outputs = [x], [y]
    assert_matches_tflm(g, random_input(rng, g.tensors[x]))


# -- SOFTMAX ----------------------------------------------------------------------

# (shape, input scale, beta)
SOFTMAX_CASES = [
    ((1, 10), 0.1, 1.0),
    ((1, 12), 0.0625, 1.0),
    ((1, 2), 0.3, 1.0),
    ((1, 1), 0.1, 1.0),
    ((1, 5, 7), 0.02, 1.0),  # softmax over the last axis of a 3-D tensor
    ((1, 3, 3, 4), 1.7, 1.0),  # large scale: most differences fall below diff_min
    ((1, 40), 0.004, 1.0),  # tiny scale: nearly uniform
    ((1, 10), 0.1, 0.5),
    ((1, 300), 0.05, 1.0),  # long rows: the sum of exps needs many integer bits
]


@pytest.mark.parametrize("case", SOFTMAX_CASES, ids=[f"softmax{i}" for i in range(len(SOFTMAX_CASES))])
def test_softmax_matches_tflm(case):
    shape, scale, beta = case
    seed = 300 + SOFTMAX_CASES.index(case)
    rng = np.random.default_rng(seed)
    g = one_op_graph(OpKind.SOFTMAX, [("x", shape, "int8", q(scale, int(rng.integers(-128, 128))))],
                     ("y", shape, "int8", q(1 / 256, -128)), SoftmaxOptions(beta))
    run_case(g, seed)


def test_softmax_rows_of_equal_values_and_extremes():
    g = one_op_graph(OpKind.SOFTMAX, [("x", (1, 8), "int8", q(0.25, 0))], ("y", (1, 8), "int8", q(1 / 256, -128)))
    x = np.array([[5] * 8, [-128] * 8, [127] + [-128] * 7, [127, 126, 0, -1, -128, 127, 3, 3]], np.int8)
    y = assert_matches_tflm(g, x)
    assert np.all(y[0] == y[0, 0]) and y[2, 0] == 127


def test_softmax_refuses_other_output_quantization():
    g = one_op_graph(OpKind.SOFTMAX, [("x", (1, 4), "int8", q(0.1, 0))], ("y", (1, 4), "int8", q(1 / 255, -128)))
    with pytest.raises(ValueError, match="1/256"):
        lower(g, g.ops[0])


# -- QUANTIZE / DEQUANTIZE ------------------------------------------------------------

QUANT_CASES = [((1, 8), 0.02, 5), ((1, 4, 4, 3), 1 / 255, -128), ((1, 6, 5), 0.7, 127), ((1, 33), 3e-4, -7)]


@pytest.mark.parametrize("case", QUANT_CASES, ids=[f"quantize{i}" for i in range(len(QUANT_CASES))])
def test_quantize_float_matches_tflm(case):
    shape, scale, zp = case
    g = one_op_graph(OpKind.QUANTIZE, [("x", shape, "float32", q(scale, zp))], ("y", shape, "int8", q(scale, zp)))
    run_case(g, 400 + QUANT_CASES.index(case))


@pytest.mark.parametrize("ratio", [1.0, 0.37, 2.9, 0.004, 150.0])
def test_requantize_matches_tflm(ratio):
    rng = np.random.default_rng(int(ratio * 1000))
    qx = rand_q(rng, -2, -1)
    qy = q(float(qx.scale[0]) / ratio, int(rng.integers(-128, 128)))
    g = one_op_graph(OpKind.QUANTIZE, [("x", (1, 5, 5, 2), "int8", qx)], ("y", (1, 5, 5, 2), "int8", qy))
    run_case(g, 500)


@pytest.mark.parametrize("case", QUANT_CASES, ids=[f"dequantize{i}" for i in range(len(QUANT_CASES))])
def test_dequantize_matches_tflm(case):
    shape, scale, zp = case
    g = one_op_graph(OpKind.DEQUANTIZE, [("x", shape, "int8", q(scale, zp))], ("y", shape, "float32", None))
    run_case(g, 600 + QUANT_CASES.index(case))


# -- RESHAPE / PAD -------------------------------------------------------------------------


@pytest.mark.parametrize("shapes", [((1, 2, 3, 4), (1, 24)), ((1, 6), (1, 2, 3)), ((1, 1, 1, 9), (1, 9))])
def test_reshape_matches_tflm(shapes):
    src, dst = shapes
    qq = q(0.1, 3)
    g = one_op_graph(OpKind.RESHAPE, [("x", src, "int8", qq)], ("y", dst, "int8", qq),
                     constants=[("shape", np.array([-1, *dst[1:]], np.int32))])
    run_case(g, 700)


# (shape, paddings)
PAD_CASES = [
    ((1, 4, 4, 3), [[0, 0], [1, 1], [1, 1], [0, 0]]),
    ((1, 5, 3, 2), [[0, 0], [0, 2], [3, 0], [1, 2]]),
    ((1, 7, 4), [[0, 0], [2, 1], [0, 3]]),
    ((1, 6), [[0, 0], [4, 5]]),
]


@pytest.mark.parametrize("case", PAD_CASES, ids=[f"pad{i}" for i in range(len(PAD_CASES))])
def test_pad_matches_tflm(case):
    shape, pads = case
    rng = np.random.default_rng(800 + PAD_CASES.index(case))
    qq = rand_q(rng)
    out = tuple(d + a + b for d, (a, b) in zip(shape, pads))
    g = one_op_graph(OpKind.PAD, [("x", shape, "int8", qq)], ("y", out, "int8", qq),
                     constants=[("paddings", np.array(pads, np.int32))])
    y = run_case(g, 800 + PAD_CASES.index(case))
    assert np.sum(y == qq.zero_point[0]) >= y.size - np.prod(shape) * BATCH


# -- MEAN ----------------------------------------------------------------------------------

# (shape, same quantization in and out, axes, keep_dims)
MEAN_CASES = [
    ((1, 4, 4, 3), True, [1, 2], True),
    ((1, 5, 7, 8), False, [1, 2], True),
    ((1, 3, 3, 16), False, [2, 1], True),
    ((1, 8, 8, 4), True, [1, 2], True),
    ((1, 1, 6, 5), False, [1, 2], True),
    ((1, 10, 10, 2), False, [-3, -2], True),
    ((1, 7, 5, 6), False, [1, 2], False),
    ((1, 9, 9, 3), False, [1, 2], True),  # 81 cells: 1/count is not a power of two
]


@pytest.mark.parametrize("case", MEAN_CASES, ids=[f"mean{i}" for i in range(len(MEAN_CASES))])
def test_mean_matches_tflm(case):
    shape, same, axes, keep_dims = case
    seed = 900 + MEAN_CASES.index(case)
    rng = np.random.default_rng(seed)
    qx = q(10 ** rng.uniform(-2, -1), int(rng.integers(-30, 30)))  # means stay inside int8
    qy = qx if same else q(float(qx.scale[0]) * rng.uniform(0.2, 0.9), int(rng.integers(-30, 30)))
    out = (1, 1, 1, shape[3]) if keep_dims else (1, shape[3])
    g = one_op_graph(OpKind.MEAN, [("x", shape, "int8", qx)], ("y", out, "int8", qy),
                     MeanOptions(keep_dims), constants=[("axis", np.array(axes, np.int32))])
    y = run_case(g, seed)
    assert len(np.unique(y)) > 1


# -- RELU / RELU6 --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [OpKind.RELU, OpKind.RELU6])
@pytest.mark.parametrize("scale", [0.06, 0.013, 0.4])
def test_relu_keeping_the_quantization_matches_tflm(kind, scale):
    """With the output quantized as the input, TFLite's RELU/RELU6 is TFLM's clamp; where the
    quantization changes, TFLM departs from TFLite (tests/test_litert.py checks those)."""
    rng = np.random.default_rng(1000 + int(scale * 1000))
    qx = q(scale, int(rng.integers(-60, 60)))
    g = one_op_graph(kind, [("x", (1, 6, 6, 3), "int8", qx)], ("y", (1, 6, 6, 3), "int8", qx))
    run_case(g, 1100)
