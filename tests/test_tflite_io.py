"""to_tflite / from_tflite: round trip, what TFLM reads, and clear errors for bad bytes."""

from __future__ import annotations

import flatbuffers
import numpy as np
import pytest
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

from edgehdc.kernels import interpreter
from edgehdc.quant.ir import (
    Activation,
    Conv2DOptions,
    DepthwiseConv2DOptions,
    FullyConnectedOptions,
    Graph,
    Op,
    OpKind,
    Padding,
    Pool2DOptions,
    QuantParams,
    Tensor,
)
from edgehdc.quant.tflite_io import UnsupportedOpError, from_tflite, to_tflite
from edgehdc.quant.tflm import TflmOracle


def every_op_graph() -> Graph:
    """All five ops, per-channel and per-tensor weights, a conv without bias."""
    rng = np.random.default_rng(0)
    g = Graph()

    def act(name, shape, scale, zp):
        return g.add_tensor(Tensor(name, shape, "int8", QuantParams.per_tensor(scale, zp)))

    def weights(name, shape, scales, axis):
        scales = np.asarray(scales, np.float32)
        q = QuantParams(scales, np.zeros(scales.size, np.int64), axis)
        return g.add_tensor(Tensor(name, shape, "int8", q, rng.integers(-127, 128, shape).astype(np.int8)))

    def bias(name, n, scale):
        q = QuantParams(np.asarray(scale, np.float32).reshape(-1), np.zeros(np.size(scale), np.int64))
        return g.add_tensor(Tensor(name, (n,), "int32", q, rng.integers(-500, 500, n).astype(np.int32)))

    x = act("input", (1, 8, 8, 1), 0.02, -10)
    c1 = act("conv1", (1, 8, 8, 4), 0.05, -128)
    w1 = weights("conv1/w", (4, 3, 3, 1), [0.01, 0.02, 0.015, 0.03], 0)
    b1 = bias("conv1/b", 4, 0.02 * np.array([0.01, 0.02, 0.015, 0.03]))
    d1 = act("dw", (1, 4, 4, 8), 0.04, -5)
    wd = weights("dw/w", (1, 3, 3, 8), np.linspace(0.01, 0.02, 8), 3)
    bd = bias("dw/b", 8, 0.05 * np.linspace(0.01, 0.02, 8))
    m1 = act("max", (1, 2, 2, 8), 0.04, -5)
    c2 = act("pw", (1, 2, 2, 6), 0.1, 3)
    w2 = weights("pw/w", (6, 1, 1, 8), [0.02], 0)  # per-tensor, no bias
    a1 = act("avg", (1, 1, 1, 6), 0.1, 3)
    y = act("logits", (1, 5), 0.2, 7)
    wf = weights("fc/w", (5, 6), [0.03], 0)
    bf = bias("fc/b", 5, 0.1 * 0.03)
    g.add_op(Op(OpKind.CONV_2D, [x, w1, b1], [c1], Conv2DOptions((1, 1), Padding.SAME, Activation.RELU6)))
    g.add_op(Op(OpKind.DEPTHWISE_CONV_2D, [c1, wd, bd], [d1],
                DepthwiseConv2DOptions((2, 2), Padding.SAME, Activation.RELU, (1, 1), depth_multiplier=2)))
    g.add_op(Op(OpKind.MAX_POOL_2D, [d1], [m1], Pool2DOptions((2, 2), (2, 2), Padding.VALID)))
    g.add_op(Op(OpKind.CONV_2D, [m1, w2], [c2], Conv2DOptions((1, 1), Padding.VALID, Activation.NONE, (1, 1))))
    g.add_op(Op(OpKind.AVERAGE_POOL_2D, [c2], [a1], Pool2DOptions((2, 2), (1, 1), Padding.VALID)))
    g.add_op(Op(OpKind.FULLY_CONNECTED, [a1, wf, bf], [y], FullyConnectedOptions(Activation.NONE)))
    g.inputs, g.outputs = [x], [y]
    return g


def assert_graphs_equal(a: Graph, b: Graph) -> None:
    assert (a.inputs, a.outputs) == (b.inputs, b.outputs)
    assert len(a.tensors) == len(b.tensors) and len(a.ops) == len(b.ops)
    for ta, tb in zip(a.tensors, b.tensors):
        assert (ta.name, tuple(ta.shape), ta.dtype) == (tb.name, tuple(tb.shape), tb.dtype)
        assert (ta.data is None) == (tb.data is None)
        if ta.data is not None:
            assert ta.data.dtype == tb.data.dtype
            np.testing.assert_array_equal(ta.data, tb.data)
        assert (ta.quant is None) == (tb.quant is None)
        if ta.quant is not None:
            np.testing.assert_array_equal(np.float32(ta.quant.scale), tb.quant.scale)
            np.testing.assert_array_equal(ta.quant.zero_point, tb.quant.zero_point)
            assert ta.quant.axis == tb.quant.axis
    for oa, ob in zip(a.ops, b.ops):
        assert (OpKind(oa.kind), oa.inputs, oa.outputs, oa.options) == (OpKind(ob.kind), ob.inputs, ob.outputs, ob.options)


def test_round_trip_preserves_the_graph():
    g = every_op_graph()
    data = to_tflite(g)
    back = from_tflite(data)
    assert_graphs_equal(g, back)
    assert to_tflite(back) == data  # writing is deterministic


def test_written_model_follows_the_schema_conventions():
    model = fb.ModelT.InitFromObj(fb.Model.GetRootAs(to_tflite(every_op_graph()), 0))
    assert model.version == 3
    assert model.buffers[0].data is None or len(model.buffers[0].data) == 0
    for code in model.operatorCodes:
        assert code.builtinCode == code.deprecatedBuiltinCode
    names = {code.builtinCode for code in model.operatorCodes}
    assert names == {fb.BuiltinOperator.CONV_2D, fb.BuiltinOperator.DEPTHWISE_CONV_2D, fb.BuiltinOperator.MAX_POOL_2D,
                     fb.BuiltinOperator.AVERAGE_POOL_2D, fb.BuiltinOperator.FULLY_CONNECTED}
    sub = model.subgraphs[0]
    dw = next(op for op in sub.operators if isinstance(op.builtinOptions, fb.DepthwiseConv2DOptionsT))
    assert dw.builtinOptions.depthMultiplier == 2
    assert sub.tensors[dw.inputs[1]].quantization.quantizedDimension == 3
    pw = sub.operators[3]
    assert pw.inputs[2] == -1  # the missing bias is marked optional


def test_tflm_runs_the_written_model_like_the_mirror():
    g = every_op_graph()
    x = np.random.default_rng(1).integers(-128, 128, (4, 8, 8, 1)).astype(np.int8)
    np.testing.assert_array_equal(interpreter.run(g, x)[0], TflmOracle(to_tflite(g)).run(x)[0])


@pytest.mark.parametrize("cut", [0, 3, 7, 8, 16, 100, 0.5, -64, -1])
def test_truncated_bytes_raise_value_error(cut):
    data = to_tflite(every_op_graph())
    n = int(len(data) * cut) if isinstance(cut, float) else cut % len(data) if cut < 0 else cut
    with pytest.raises(ValueError):
        from_tflite(data[:n])


def test_corrupt_bytes_never_escape_as_other_errors():
    data = bytearray(to_tflite(every_op_graph()))
    rng = np.random.default_rng(2)
    for _ in range(200):
        bad = bytearray(data)
        for pos in rng.integers(0, len(bad), 4):
            bad[pos] = rng.integers(0, 256)
        try:
            from_tflite(bytes(bad))
        except ValueError:
            pass


def test_wrong_identifier_is_refused():
    data = bytearray(to_tflite(every_op_graph()))
    data[4:8] = b"XXXX"
    with pytest.raises(ValueError, match="identifier"):
        from_tflite(bytes(data))


def test_unsupported_op_is_named():
    model = fb.ModelT.InitFromObj(fb.Model.GetRootAs(to_tflite(every_op_graph()), 0))
    code = next(c for c in model.operatorCodes if c.builtinCode == fb.BuiltinOperator.MAX_POOL_2D)
    code.builtinCode = code.deprecatedBuiltinCode = fb.BuiltinOperator.L2_POOL_2D
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    with pytest.raises(UnsupportedOpError, match="L2_POOL_2D"):
        from_tflite(bytes(builder.Output()))


def test_writer_rejects_inconsistent_tensors():
    g = every_op_graph()
    w = g.tensors[g.tensor_index("conv1/w")]
    w.data = w.data.astype(np.int16)
    with pytest.raises(ValueError, match="conv1/w"):
        to_tflite(g)
