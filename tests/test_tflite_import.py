"""Importing real converter output: the MLPerf Tiny models, the folded patterns
(Flatten's shape arithmetic, dilated convolutions, separate RELUs), float
inputs/outputs, `verify_tflm` and its CLI, a round trip of every op, clear
errors, and a fuzz test of the reader."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import flatbuffers
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

from edgehdc import models, verify
from edgehdc.kernels import interpreter
from edgehdc.quant.ir import (
    Activation,
    AddOptions,
    Conv2DOptions,
    DepthwiseConv2DOptions,
    FullyConnectedOptions,
    Graph,
    MeanOptions,
    Op,
    OpKind,
    Padding,
    Pool2DOptions,
    QuantParams,
    SoftmaxOptions,
    Tensor,
)
from edgehdc.quant.ptq import quantize
from edgehdc.quant.tflite_io import UnsupportedOpError, from_tflite, to_tflite
from edgehdc.quant.litert import LiteRtOracle
from edgehdc.quant.tflm import TflmOracle

MLPERF = Path(__file__).resolve().parents[2] / "shared" / "models" / "mlperf_tiny"
MODELS = {  # file -> (ops after import, samples verified here; the CLI run covers 100 each)
    "pretrainedResnet_quant.tflite": (16, 100),
    "kws_ref_model.tflite": (13, 100),
    "vww_96_int8.tflite": (31, 100),
    "ad01_int8.tflite": (10, 100),
}
BUILTIN = fb.BuiltinOperator


def q(scale, zp):
    return QuantParams.per_tensor(scale, zp)


# -- the four MLPerf Tiny models ------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MODELS))
def test_mlperf_tiny_model_matches_tflm_on_every_tensor(name):
    data = (MLPERF / name).read_bytes()
    n_ops, samples = MODELS[name]
    graph = from_tflite(data)
    assert len(graph.ops) == n_ops
    result = verify.verify_tflm(data, samples, seed=1)
    assert result.mismatches == 0, result.first
    assert result.tensors == n_ops and result.samples == samples
    per_sample = sum(int(np.prod(graph.tensors[op.outputs[0]].shape)) for op in graph.ops)
    assert result.compared == per_sample * samples


# -- a model builder for converter output our writer does not produce ------------------


def build_model(tensors, ops, inputs, outputs) -> bytes:
    """tensors: (name, shape, TensorType, (scale, zp) or None, data or None);
    ops: (builtin name, inputs, outputs, options union name or None, options object)."""
    model = fb.ModelT()
    model.version, model.buffers, model.operatorCodes = 3, [fb.BufferT()], []
    sub = fb.SubGraphT()
    sub.tensors, sub.operators = [], []
    for name, shape, ttype, quant, data in tensors:
        t = fb.TensorT()
        t.name, t.shape, t.type, t.buffer = name, list(shape), ttype, 0
        if data is not None:
            b = fb.BufferT()
            b.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), np.uint8).tolist()
            t.buffer = len(model.buffers)
            model.buffers.append(b)
        if quant is not None:
            t.quantization = fb.QuantizationParametersT()
            t.quantization.scale, t.quantization.zeroPoint = [quant[0]], [quant[1]]
        sub.tensors.append(t)
    codes = {}
    for name, ins, outs, union, options in ops:
        if name not in codes:
            c = fb.OperatorCodeT()
            c.builtinCode = c.deprecatedBuiltinCode = getattr(BUILTIN, name)
            c.version = 1
            codes[name] = len(model.operatorCodes)
            model.operatorCodes.append(c)
        o = fb.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = codes[name], list(ins), list(outs)
        if union is not None:
            o.builtinOptionsType, o.builtinOptions = getattr(fb.BuiltinOptions, union), options
        sub.operators.append(o)
    sub.inputs, sub.outputs = inputs, outputs
    model.subgraphs = [sub]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def opts(cls, **fields):
    o = cls()
    for k, v in fields.items():
        setattr(o, k, v)
    return o


I8, I32, F32 = fb.TensorType.INT8, fb.TensorType.INT32, fb.TensorType.FLOAT32


def weights(rng, shape):
    return rng.integers(-127, 128, shape).astype(np.int8)


def flatten_model() -> bytes:
    """Keras Flatten as TF 2.x converts it: SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE, then a FC."""
    rng = np.random.default_rng(0)
    tensors = [
        ("x", (1, 3, 3, 4), I8, (0.05, -3), None),
        ("shape", (4,), I32, None, None),
        ("begin", (1,), I32, None, np.array([0], np.int32)),
        ("end", (1,), I32, None, np.array([1], np.int32)),
        ("strides", (1,), I32, None, np.array([1], np.int32)),
        ("batch", (), I32, None, None),
        ("minus_one", (), I32, None, np.array(-1, np.int32)),
        ("packed", (2,), I32, None, None),
        ("flat", (1, 36), I8, (0.05, -3), None),
        ("w", (5, 36), I8, (0.01, 0), weights(rng, (5, 36))),
        ("y", (1, 5), I8, (0.4, 2), None),
    ]
    ops = [
        ("SHAPE", [0], [1], "ShapeOptions", opts(fb.ShapeOptionsT, outType=I32)),
        ("STRIDED_SLICE", [1, 2, 3, 4], [5], "StridedSliceOptions", opts(fb.StridedSliceOptionsT, shrinkAxisMask=1)),
        ("PACK", [5, 6], [7], "PackOptions", opts(fb.PackOptionsT, valuesCount=2, axis=0)),
        ("RESHAPE", [0, 7], [8], None, None),
        ("FULLY_CONNECTED", [8, 9, -1], [10], "FullyConnectedOptions", fb.FullyConnectedOptionsT()),
    ]
    return build_model(tensors, ops, [0], [10])


def test_flatten_shape_arithmetic_is_folded_into_reshape():
    data = flatten_model()
    g = from_tflite(data)
    assert [op.kind for op in g.ops] == [OpKind.RESHAPE, OpKind.FULLY_CONNECTED]
    assert len(g.tensors) == 11  # indices kept: tensor i is TFLM's tensor i
    np.testing.assert_array_equal(g.tensors[g.ops[0].inputs[1]].data, [1, -1])
    result = verify.verify_tflm(data, 30)
    assert result.mismatches == 0 and result.tensors == 2 and result.compared == 30 * (36 + 5)


def dilated_model(depthwise: bool, same: bool, zero_point: int = 0) -> bytes:
    """SPACE_TO_BATCH_ND -> CONV (VALID) -> BATCH_TO_SPACE_ND, as the converter writes a dilated conv."""
    rng = np.random.default_rng(1 + depthwise)
    h = 9 if same else 10
    pads, crops = ([[2, 3], [2, 3]], [[0, 1], [0, 1]]) if same else ([[0, 0], [0, 0]], [[0, 0], [0, 0]])
    inner = (h + sum(pads[0])) // 2
    out_c = 6 if depthwise else 5
    w_shape = (1, 3, 3, out_c) if depthwise else (out_c, 3, 3, 3)
    y_h = h if same else h - 4
    tensors = [
        ("x", (1, h, h, 3), I8, (0.04, zero_point), None),
        ("block", (2,), I32, None, np.array([2, 2], np.int32)),
        ("pads", (2, 2), I32, None, np.array(pads, np.int32)),
        ("s2b", (4, inner, inner, 3), I8, (0.04, zero_point), None),
        ("w", w_shape, I8, (0.01, 0), weights(rng, w_shape)),
        ("b", (out_c,), I32, (0.0004, 0), rng.integers(-500, 500, out_c).astype(np.int32)),
        ("conv", (4, inner - 2, inner - 2, out_c), I8, (0.3, -10), None),
        ("crops", (2, 2), I32, None, np.array(crops, np.int32)),
        ("y", (1, y_h, y_h, out_c), I8, (0.3, -10), None),
    ]
    if depthwise:
        conv = ("DEPTHWISE_CONV_2D", [3, 4, 5], [6], "DepthwiseConv2DOptions",
                opts(fb.DepthwiseConv2DOptionsT, padding=fb.Padding.VALID, strideH=1, strideW=1,
                     depthMultiplier=2, dilationHFactor=1, dilationWFactor=1, fusedActivationFunction=1))
    else:
        conv = ("CONV_2D", [3, 4, 5], [6], "Conv2DOptions",
                opts(fb.Conv2DOptionsT, padding=fb.Padding.VALID, strideH=1, strideW=1,
                     dilationHFactor=1, dilationWFactor=1, fusedActivationFunction=3))
    ops = [("SPACE_TO_BATCH_ND", [0, 1, 2], [3], None, None), conv,
           ("BATCH_TO_SPACE_ND", [6, 1, 7], [8], None, None)]
    return build_model(tensors, ops, [0], [8])


@pytest.mark.parametrize("depthwise", [False, True])
@pytest.mark.parametrize("same, zero_point", [(True, 0), (True, -128), (False, 0), (False, -128)])
def test_dilated_convolution_pattern_is_folded(depthwise, same, zero_point):
    data = dilated_model(depthwise, same, zero_point)
    g = from_tflite(data)
    assert len(g.ops) == 1
    op = g.ops[0]
    assert op.inputs[0] == 0 and op.outputs == [8]
    assert op.options.dilation == (2, 2) and op.options.padding is (Padding.SAME if same else Padding.VALID)
    # TFLM running the folded graph: a natively dilated convolution.
    x = verify.random_inputs(g, 10, seed=2)
    np.testing.assert_array_equal(interpreter.run(g, x)[0], TflmOracle(to_tflite(g)).run(x)[0])
    if not same:  # no padding: TFLM's own SPACE_TO_BATCH_ND path is defined, compare with it too
        result = verify.verify_tflm(data, 20)
        assert result.mismatches == 0 and result.compared == 20 * int(np.prod(g.tensors[8].shape))


def relu_model(kind: str, same_quant: bool) -> bytes:
    """CONV_2D (with a bias, as the converter writes it: LiteRT refuses an int8 conv without)
    then a separate RELU/RELU6."""
    rng = np.random.default_rng(3)
    y_q = (0.1, -20) if same_quant else (0.07, -40)
    tensors = [
        ("x", (1, 5, 5, 2), I8, (0.05, 0), None),
        ("w", (4, 3, 3, 2), I8, (0.01, 0), weights(rng, (4, 3, 3, 2))),
        ("conv", (1, 5, 5, 4), I8, (0.1, -20), None),
        ("y", (1, 5, 5, 4), I8, y_q, None),
        ("b", (4,), I32, (0.0005, 0), rng.integers(-300, 300, 4).astype(np.int32)),
    ]
    ops = [("CONV_2D", [0, 1, 4], [2], "Conv2DOptions",
            opts(fb.Conv2DOptionsT, padding=fb.Padding.SAME, strideH=1, strideW=1,
                 dilationHFactor=1, dilationWFactor=1)),
           (kind, [2], [3], None, None)]
    return build_model(tensors, ops, [0], [3])


@pytest.mark.parametrize("kind", ["RELU", "RELU6"])
@pytest.mark.parametrize("same_quant", [True, False])
def test_separate_relu_is_fused_only_when_exact(kind, same_quant):
    data = relu_model(kind, same_quant)
    g = from_tflite(data)
    if same_quant:
        assert [op.kind for op in g.ops] == [OpKind.CONV_2D]
        assert g.ops[0].options.activation is Activation(kind) and g.ops[0].outputs == [3]
    else:
        assert [op.kind for op in g.ops] == [OpKind.CONV_2D, OpKind(kind)]
    result = verify.verify_tflm(data, 20)
    assert result.mismatches == 0 and result.compared > 0
    # Where the RELU requantizes, TFLM departs from TFLite: that op is checked against LiteRT.
    assert result.checked_by == ({} if same_quant else {1: "LiteRT"})


# -- every op: a float-in, float-out model, round trip and TFLM ---------------------------


def every_op_graph() -> Graph:
    rng = np.random.default_rng(4)
    g = Graph()

    def t(name, shape, quant=None, dtype="int8", data=None):
        return g.add_tensor(Tensor(name, shape, dtype, quant, data))

    def w(name, shape, axis):
        n = shape[axis]
        wq = QuantParams(np.full(n, 0.02, np.float32) * rng.uniform(0.5, 1.5, n).astype(np.float32),
                         np.zeros(n, np.int64), axis)
        return t(name, shape, wq, data=rng.integers(-127, 128, shape).astype(np.int8))

    x = t("x", (1, 6, 6, 2), dtype="float32")
    xq = t("xq", (1, 6, 6, 2), q(0.02, 3))
    xr = t("xr", (1, 6, 6, 2), q(0.03, -5))  # QUANTIZE int8 -> int8
    c = t("conv", (1, 6, 6, 4), q(0.1, -7))
    cw = w("conv/w", (4, 3, 3, 2), 0)
    # LiteRT refuses an int8 CONV_2D without a bias (TFLM runs it): give it one.
    cb = t("conv/b", (4,), QuantParams((np.float32(0.03) * g.tensors[cw].quant.scale).astype(np.float32),
                                       np.zeros(4, np.int64)), "int32", rng.integers(-99, 99, 4).astype(np.int32))
    pads = t("pads", (4, 2), dtype="int32", data=np.array([[0, 0], [1, 1], [1, 1], [0, 0]], np.int32))
    p = t("pad", (1, 8, 8, 4), q(0.1, -7))
    d = t("dw", (1, 8, 8, 4), q(0.1, -9))
    dw = w("dw/w", (1, 3, 3, 4), 3)
    # The pip TFLM crashes on a DEPTHWISE_CONV_2D without bias: give it one.
    dw_b = t("dw/b", (4,), QuantParams((np.float32(0.1) * g.tensors[dw].quant.scale).astype(np.float32),
                                       np.zeros(4, np.int64)), "int32", rng.integers(-99, 99, 4).astype(np.int32))
    m = t("max", (1, 4, 4, 4), q(0.1, -9))
    a = t("avg", (1, 4, 4, 4), q(0.1, -9))
    s = t("add", (1, 4, 4, 4), q(0.12, -2))
    r6 = t("relu6", (1, 4, 4, 4), q(0.12, -2))
    r = t("relu", (1, 4, 4, 4), q(0.09, -30))
    axis = t("axis", (2,), dtype="int32", data=np.array([1, 2], np.int32))
    mean = t("mean", (1, 1, 1, 4), q(0.05, 1))
    shape = t("shape", (2,), dtype="int32", data=np.array([1, 4], np.int32))
    flat = t("flat", (1, 4), q(0.05, 1))
    fw = t("fc/w", (3, 4), q(0.02, 0), data=rng.integers(-127, 128, (3, 4)).astype(np.int8))
    fb_ = t("fc/b", (3,), QuantParams(np.array([0.001], np.float32), np.zeros(1, np.int64)), "int32",
            rng.integers(-300, 300, 3).astype(np.int32))
    logits = t("logits", (1, 3), q(0.2, 4))
    probs = t("probs", (1, 3), q(1 / 256, -128))
    y = t("y", (1, 3), dtype="float32")
    g.ops = [
        Op(OpKind.QUANTIZE, [x], [xq]),
        Op(OpKind.QUANTIZE, [xq], [xr]),
        Op(OpKind.CONV_2D, [xr, cw, cb], [c], Conv2DOptions((1, 1), Padding.SAME, Activation.NONE)),
        Op(OpKind.PAD, [c, pads], [p]),
        Op(OpKind.DEPTHWISE_CONV_2D, [p, dw, dw_b], [d], DepthwiseConv2DOptions((1, 1), Padding.SAME, Activation.RELU)),
        Op(OpKind.MAX_POOL_2D, [d], [m], Pool2DOptions((2, 2), (2, 2), Padding.VALID)),
        Op(OpKind.AVERAGE_POOL_2D, [d], [a], Pool2DOptions((3, 3), (2, 2), Padding.SAME)),
        Op(OpKind.ADD, [m, a], [s], AddOptions(Activation.NONE)),
        Op(OpKind.RELU6, [s], [r6]),  # same quantization: the reader fuses it into ADD
        Op(OpKind.RELU, [r6], [r]),  # after a RELU6 nothing fuses: stays
        Op(OpKind.MEAN, [r, axis], [mean], MeanOptions(keep_dims=True)),
        Op(OpKind.RESHAPE, [mean, shape], [flat]),
        Op(OpKind.FULLY_CONNECTED, [flat, fw, fb_], [logits], FullyConnectedOptions()),
        Op(OpKind.SOFTMAX, [logits], [probs], SoftmaxOptions(1.0)),
        Op(OpKind.DEQUANTIZE, [probs], [y]),
    ]
    g.inputs, g.outputs = [x], [y]
    return g


def test_every_op_round_trips_and_matches_tflm():
    g = every_op_graph()
    assert {op.kind for op in g.ops} == set(OpKind)
    data = to_tflite(g)
    back = from_tflite(data)
    assert len(back.tensors) == len(g.tensors) and (back.inputs, back.outputs) == (g.inputs, g.outputs)
    expected_ops = [op for op in g.ops if op.kind is not OpKind.RELU6]
    assert [(op.kind, op.inputs) for op in back.ops] == [(op.kind, op.inputs) for op in expected_ops]
    add = next(op for op in back.ops if op.kind is OpKind.ADD)
    assert add.options.activation is Activation.RELU6 and add.outputs == [g.tensor_index("relu6")]
    for a, b in zip(g.tensors, back.tensors):
        assert (a.name, tuple(a.shape), a.dtype) == (b.name, tuple(b.shape), b.dtype)
    assert to_tflite(from_tflite(to_tflite(back))) == to_tflite(back)  # reading then writing is stable
    x = verify.random_inputs(g, 16, seed=5)
    assert x.dtype == np.float32
    got = interpreter.run(g, x)[0]
    np.testing.assert_array_equal(got.view(np.uint32), LiteRtOracle(data).run(x)[0].view(np.uint32))
    result = verify.verify_tflm(data, 40)
    assert result.mismatches == 0 and result.tensors == len(back.ops)
    relu = next(i for i, op in enumerate(back.ops) if op.kind is OpKind.RELU)  # requantizes: TFLite's
    assert result.checked_by == {relu: "LiteRT"}


# -- verify: finds a planted bug, CLI output, real digits data ----------------------------


def test_verify_reports_the_first_diverging_op(monkeypatch):
    data = (MLPERF / "pretrainedResnet_quant.tflite").read_bytes()
    original = interpreter._RUNNERS[OpKind.ADD]

    def off_by_one(graph, op, p, a, b):
        y = original(graph, op, p, a, b)
        y.flat[7] = y.flat[7] + 1 if y.flat[7] < 127 else 0
        return y

    monkeypatch.setitem(interpreter._RUNNERS, OpKind.ADD, off_by_one)
    result = verify.verify_tflm(data, 3)
    first = result.first
    assert result.mismatches >= 3 and first is not None
    assert (first.op_index, first.op_kind, first.tensor, first.sample) == (3, "ADD", 25, 0)
    assert first.element == np.unravel_index(7, (32, 32, 16)) and first.got != first.expected


def cli_args(model, samples, digits=False):
    parser = argparse.ArgumentParser()
    verify.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["verify", "tflm", str(model), "--samples", str(samples)] + (["--digits"] if digits else []))


def test_cli_prints_counts_last_and_exits_zero(capsys):
    args = cli_args(MLPERF / "kws_ref_model.tflite", 5)
    assert args.handler is verify.run_cli
    assert verify.run_cli(args) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"mismatches=0 compared=\d+", last) and int(last.split("=")[-1]) > 0


def test_cli_exits_non_zero_on_a_mismatch(monkeypatch, capsys):
    monkeypatch.setitem(interpreter._RUNNERS, OpKind.SOFTMAX, lambda graph, op, p, x: np.full_like(x, 5))
    assert verify.run_cli(cli_args(MLPERF / "kws_ref_model.tflite", 4)) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert "op 12 (SOFTMAX)" in out[-2] and re.fullmatch(r"mismatches=[1-9]\d* compared=\d+", out[-1])


def test_cli_refuses_a_corrupt_model(tmp_path, capsys):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\x10\x00\x00\x00TFL3" + bytes(8))
    assert verify.run_cli(cli_args(bad, 3)) == 2
    assert capsys.readouterr().out.startswith("error:")


def test_cli_runs_the_digits_images_through_a_project_model(tmp_path, capsys):
    torch.manual_seed(0)
    net = models.create("tinycnn", num_classes=10).eval()
    graph = quantize(net, np.random.default_rng(0).random((32, 16, 16, 1), dtype=np.float32))
    path = tmp_path / "digits.tflite"
    path.write_bytes(to_tflite(graph))
    assert verify.run_cli(cli_args(path, 2, digits=True)) == 0
    out = capsys.readouterr().out
    assert "450 digits" in out
    assert re.search(r"mismatches=0 compared=\d+\s*$", out)


# -- errors -------------------------------------------------------------------------------


def patched(data: bytes, edit) -> bytes:
    model = fb.ModelT.InitFromObj(fb.Model.GetRootAs(data, 0))
    edit(model)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


KWS = MLPERF / "kws_ref_model.tflite"


def test_unsupported_op_names_the_op_and_its_index():
    def to_tanh(model):
        code = next(c for c in model.operatorCodes
                    if max(c.builtinCode, c.deprecatedBuiltinCode) == BUILTIN.SOFTMAX)
        code.builtinCode = code.deprecatedBuiltinCode = BUILTIN.TANH

    with pytest.raises(UnsupportedOpError, match=r"operator 12: TANH is not supported"):
        from_tflite(patched(KWS.read_bytes(), to_tanh))


def test_int16_model_names_the_tensor_and_type():
    def to_int16(model):
        model.subgraphs[0].tensors[22].type = fb.TensorType.INT16

    name = from_tflite(KWS.read_bytes()).tensors[22].name
    with pytest.raises(UnsupportedOpError, match=rf"tensor 22 '{re.escape(name)}' is INT16"):
        from_tflite(patched(KWS.read_bytes(), to_int16))


def test_float_model_names_the_tensor_and_type():
    g = Graph()
    x = g.add_tensor(Tensor("input", (1, 4), "float32"))
    w = g.add_tensor(Tensor("dense/w", (3, 4), "float32", None, np.ones((3, 4), np.float32)))
    y = g.add_tensor(Tensor("dense/out", (1, 3), "float32"))
    g.add_op(Op(OpKind.FULLY_CONNECTED, [x, w], [y], FullyConnectedOptions()))
    g.inputs, g.outputs = [x], [y]
    with pytest.raises(UnsupportedOpError, match=r"operator 0 \(FULLY_CONNECTED\): input tensor 0 'input' is FLOAT32"):
        from_tflite(to_tflite(g))


def test_lone_space_to_batch_is_unsupported():
    data = dilated_model(False, True)

    def drop_last_two(model):
        model.subgraphs[0].operators = model.subgraphs[0].operators[:1]
        model.subgraphs[0].outputs = [3]

    with pytest.raises(UnsupportedOpError, match="operator 0: SPACE_TO_BATCH_ND"):
        from_tflite(patched(data, drop_last_two))


def test_bad_op_parameters_name_the_operator():
    def bad_softmax_scale(model):
        model.subgraphs[0].tensors[34].quantization.scale = [0.01]

    with pytest.raises(UnsupportedOpError, match=r"operator 12 \(SOFTMAX\).*1/256"):
        from_tflite(patched(KWS.read_bytes(), bad_softmax_scale))


SIZE = KWS.stat().st_size


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.one_of(st.none(), st.integers(0, SIZE - 1)),
       flips=st.lists(st.tuples(st.integers(0, SIZE - 1), st.integers(0, 7)), max_size=8))
def test_fuzzed_model_loads_or_raises_value_error(cut, flips):
    """Truncations and random bit flips of a real model: a Graph or a ValueError, nothing else."""
    data = bytearray(KWS.read_bytes())
    for pos, bit in flips:
        data[pos] ^= 1 << bit
    try:
        graph = from_tflite(bytes(data[:cut]))
    except ValueError:
        return
    assert isinstance(graph, Graph)
