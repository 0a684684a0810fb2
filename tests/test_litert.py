"""LiteRT's reference kernels, the second oracle: what they compute, measured against the mirror.

- RELU / RELU6: the mirror computes TFLite's definition (requantize, then clamp
  in the output's quantization, multiplier from the float32 scale ratio):
  equal to LiteRT on every int8 value for random quantizations, where TFLM's
  RELU6 only clamps and its RELU rounds its multiplier in double.
- FULLY_CONNECTED: LiteRT rounds once. The mirror's single-rounding FC equals
  LiteRT, its double-rounding FC (TFLM, CMSIS-NN, the firmware) equals TFLM,
  and on accumulators next to a rounding tie the two differ by one.
- `verify tflite` on the four MLPerf Tiny models and its CLI.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from edgehdc import verify
from edgehdc.cli import main
from edgehdc.kernels import interpreter
from edgehdc.kernels.requantize import multiply_by_quantized_multiplier, multiply_by_quantized_multiplier_single
from edgehdc.quant.arith import lower
from edgehdc.quant.ir import FullyConnectedOptions, Graph, Op, OpKind, QuantParams, Tensor
from edgehdc.quant.litert import LiteRtOracle
from edgehdc.quant.tflite_io import from_tflite, to_tflite
from edgehdc.quant.tflm import TflmOracle

MLPERF = Path(__file__).resolve().parents[2] / "shared" / "models" / "mlperf_tiny"
EVERY_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)


def q(scale, zp):
    return QuantParams.per_tensor(float(np.float32(scale)), int(zp))


def relu_graph(kind: OpKind, qx: QuantParams, qy: QuantParams) -> Graph:
    g = Graph()
    x = g.add_tensor(Tensor("x", (1, 256), "int8", qx))
    y = g.add_tensor(Tensor("y", (1, 256), "int8", qy))
    g.add_op(Op(kind, [x], [y]))
    g.inputs, g.outputs = [x], [y]
    return g


# -- RELU / RELU6: TFLite's definition ----------------------------------------------------


@pytest.mark.parametrize("kind", [OpKind.RELU, OpKind.RELU6])
def test_relu_matches_litert_on_every_int8_value(kind):
    rng = np.random.default_rng(7 if kind is OpKind.RELU else 8)
    tflm_differs = 0
    for case in range(40):
        s_in = 10 ** rng.uniform(-3, 0)
        s_out = s_in * (1.0 if case % 8 == 0 else 10 ** rng.uniform(-0.7, 0.7))
        zps = rng.integers(-128, 128, 2)
        g = relu_graph(kind, q(s_in, zps[0]), q(s_out, zps[0] if case % 8 == 0 else zps[1]))
        data = to_tflite(g)
        got = interpreter.run(g, EVERY_INT8)[0]
        np.testing.assert_array_equal(got, LiteRtOracle(data).run(EVERY_INT8)[0], err_msg=f"case {case}")
        tflm_differs += int(np.any(TflmOracle(data).run(EVERY_INT8)[0] != got))
    if kind is OpKind.RELU6:  # TFLM clamps the raw input: wrong wherever the quantization changes
        assert tflm_differs >= 30


def test_relu_multiplier_is_formed_in_float32_as_tflite_does():
    """Scales where float32(s_in / s_out) and double(s_in) / double(s_out) give different
    multipliers that round one output differently: LiteRT (and the mirror) use float32, TFLM double."""
    g = relu_graph(OpKind.RELU, q(0.2350163, -1), q(0.23409466, -128))
    data = to_tflite(g)
    got = interpreter.run(g, EVERY_INT8)[0]
    np.testing.assert_array_equal(got, LiteRtOracle(data).run(EVERY_INT8)[0])
    assert np.count_nonzero(TflmOracle(data).run(EVERY_INT8)[0] != got) == 1


# -- FULLY_CONNECTED: LiteRT rounds once ------------------------------------------------


def tie_accumulators(multiplier: int, shift: int, count: int) -> np.ndarray:
    """Accumulators whose scaled value sits just below a rounding tie of the final shift: double
    rounding first rounds the high product up onto the tie, then away from zero; single rounding
    rounds the exact value down. Checked against the two reference functions."""
    right = -shift
    accs = []
    for k in range(-100, 100):
        acc = round((k * 2**right + 2 ** (right - 1) - 0.25) * 2**31 / multiplier)
        if multiply_by_quantized_multiplier(acc, multiplier, shift) != \
                multiply_by_quantized_multiplier_single(acc, multiplier, shift):
            accs.append(acc)
    assert len(accs) >= count
    return np.array(accs[:count], np.int32)


def test_litert_fully_connected_rounds_once():
    s_in, s_w, s_out = 0.05, 0.01, 0.5
    g = Graph()
    x = g.add_tensor(Tensor("x", (1, 1), "int8", q(s_in, 3)))
    w = g.add_tensor(Tensor("w", (64, 1), "int8", q(s_w, 0), np.ones((64, 1), np.int8)))
    b = g.add_tensor(Tensor("b", (64,), "int32", q(np.float32(s_in) * np.float32(s_w), 0), np.zeros(64, np.int32)))
    y = g.add_tensor(Tensor("y", (1, 64), "int8", q(s_out, 0)))
    g.add_op(Op(OpKind.FULLY_CONNECTED, [x, w, b], [y], FullyConnectedOptions()))
    g.inputs, g.outputs = [x], [y]
    p = lower(g, g.ops[0])
    ties = tie_accumulators(p.multiplier, p.shift, 32)
    rng = np.random.default_rng(0)
    g.tensors[b].data = np.concatenate([ties, rng.integers(-60000, 60000, 32).astype(np.int32)])
    data = to_tflite(g)
    xs = np.array([[3]], np.int8)  # the input zero point: the accumulator is the bias
    single = interpreter.Interpreter(g, interpreter.litert_runners()).run(xs)[0]
    double = interpreter.run(g, xs)[0]
    np.testing.assert_array_equal(single, LiteRtOracle(data).run(xs)[0])
    np.testing.assert_array_equal(double, TflmOracle(data).run(xs)[0])
    assert np.count_nonzero(single[0, :32] != double[0, :32]) == 32  # every tie differs by one
    assert np.all(np.abs(single.astype(int) - double.astype(int)) <= 1)


# -- verify tflite --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["pretrainedResnet_quant.tflite", "kws_ref_model.tflite",
                                  "vww_96_int8.tflite", "ad01_int8.tflite"])
def test_mlperf_tiny_model_matches_litert_on_every_tensor(name):
    data = (MLPERF / name).read_bytes()
    graph = from_tflite(data)
    result = verify.verify_tflite(data, 4, seed=3)
    assert result.mismatches == 0, result.first
    assert result.tensors == len(graph.ops) and result.samples == 4
    fc = [i for i, op in enumerate(graph.ops) if op.kind is OpKind.FULLY_CONNECTED]
    assert bool(fc) == any("rounds once" in n for n in result.notes)


def test_verify_tflite_cli_has_the_same_format(capsys):
    assert main(["verify", "tflite", str(MLPERF / "kws_ref_model.tflite"), "--samples", "3"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith("model: ") and out[1].startswith("mirror (FULLY_CONNECTED rounding once, as LiteRT): 3 inputs through 13 ops")
    assert "oracle: LiteRT" in out
    assert any(line.startswith("note: FULLY_CONNECTED (op 11)") for line in out)
    assert re.fullmatch(r"mismatches=0 compared=\d+", out[-1]) and int(out[-1].split("=")[-1]) > 0
