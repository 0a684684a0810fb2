"""`verify tflm` where TFLM is wrong, and the importer's refusals before any oracle runs.

The two fixtures in tests/data are real TF 2.21 converter output
(scripts/make_tflite_fixtures.py): a Keras Conv2D/DepthwiseConv2D with
dilation_rate=2, padding="same" (SPACE_TO_BATCH_ND with padding, which TFLM
leaves uninitialised, and a separate requantizing RELU), and a model with
requantizing RELU6/RELU ops next to a FULLY_CONNECTED.
"""

from __future__ import annotations

import re
from pathlib import Path

import flatbuffers
import numpy as np
import pytest
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

from edgehdc import verify
from edgehdc.cli import main
from edgehdc.kernels import interpreter
from edgehdc.quant.litert import LiteRtOracle
from edgehdc.quant.tflite_io import UnsupportedOpError, from_tflite
from edgehdc.quant.tflm import TflmOracle, known_defects

DATA = Path(__file__).resolve().parent / "data"
DILATED, RELU6 = DATA / "keras_dilated_same.tflite", DATA / "keras_relu6.tflite"
MLPERF = Path(__file__).resolve().parents[2] / "shared" / "models" / "mlperf_tiny"
RESNET = MLPERF / "pretrainedResnet_quant.tflite"


def test_dilated_same_conv_is_checked_against_litert_where_tflm_reads_uninitialised_padding():
    data = DILATED.read_bytes()
    graph = from_tflite(data)
    assert [op.kind.value for op in graph.ops] == ["CONV_2D", "DEPTHWISE_CONV_2D", "RELU"]
    assert [op.options.dilation for op in graph.ops[:2]] == [(2, 2), (2, 2)]
    defects = known_defects(data, graph)
    assert list(defects) == [0, 1, 2] and "SPACE_TO_BATCH_ND" in defects[0] and "RELU" in defects[2]
    result = verify.verify_tflm(data, 6, seed=1)
    assert result.mismatches == 0 and result.op_by_op
    assert result.checked_by == {0: "LiteRT", 1: "LiteRT", 2: "LiteRT"}
    assert result.compared == 6 * sum(int(np.prod(graph.tensors[op.outputs[0]].shape)) for op in graph.ops)
    # The mirror is TFLite's result end to end too.
    x = verify.random_inputs(graph, 6, seed=1)
    np.testing.assert_array_equal(interpreter.run(graph, x)[0], LiteRtOracle(data).run(x)[0])


def test_tflm_run_twice_gives_different_outputs_and_verify_says_so(monkeypatch):
    """Without the known-defect list, the second TFLM run (a new interpreter on recycled
    memory) is what finds the uninitialised padding."""
    monkeypatch.setattr(verify, "known_defects", lambda model, graph: {})
    result = verify.verify_tflm(DILATED.read_bytes(), 3, seed=2)
    assert result.mismatches == 0
    assert 0 in result.checked_by and 1 in result.checked_by
    assert "op 0 (CONV_2D): TFLM gave different outputs on two runs of the same model inputs; " \
           "checked against LiteRT's reference kernels" in result.notes


def test_requantizing_relu6_follows_tflite_and_tflm_is_not_the_oracle_for_it(capsys):
    data = RELU6.read_bytes()
    graph = from_tflite(data)
    kinds = [op.kind.value for op in graph.ops]
    assert kinds == ["RELU6", "CONV_2D", "RELU", "ADD", "RESHAPE", "FULLY_CONNECTED"]
    x = verify.random_inputs(graph, 8, seed=3)
    mirror = interpreter.run(graph, x, keep_all=True)
    relu6_out = graph.ops[0].outputs[0]
    np.testing.assert_array_equal(mirror[relu6_out], LiteRtOracle(data).run_all(x)[relu6_out])
    assert np.any(TflmOracle(data).run_all(x)[relu6_out] != mirror[relu6_out])  # TFLM only clamps
    assert main(["verify", "tflm", str(RELU6), "--samples", "8"]) == 0
    out = capsys.readouterr().out
    assert "note: op 0 (RELU6): TFLM's int8 RELU6 only clamps where TFLite requantizes; " \
           "checked against LiteRT's reference kernels" in out
    assert "note: op 2 (RELU): TFLM's int8 RELU forms its multiplier in double" in out
    assert re.search(r"mismatches=0 compared=\d+\n$", out)


@pytest.mark.parametrize("fixture", [DILATED, RELU6])
def test_verify_tflite_matches_the_converter_fixtures(fixture):
    result = verify.verify_tflite(fixture.read_bytes(), 6)
    assert result.mismatches == 0 and result.compared > 0 and not result.op_by_op


# -- importer refusals: before any oracle runs -----------------------------------------------


def patched(path: Path, edit) -> bytes:
    model = fb.ModelT.InitFromObj(fb.Model.GetRootAs(path.read_bytes(), 0))
    edit(model.subgraphs[0])
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def set_option(op_index, **fields):
    def edit(sub):
        for k, v in fields.items():
            setattr(sub.operators[op_index].builtinOptions, k, v)
    return edit


def test_a_huge_dilation_is_refused_naming_the_operator_and_field(tmp_path, capsys):
    """The issue's case: ResNet-8's first CONV_2D with its dilation factor rewritten to 1000."""
    data = patched(RESNET, set_option(0, dilationHFactor=1000))
    message = (r"operator 0 \(CONV_2D\): dilation_h_factor 1000 is not smaller than the input height 32: "
               r"the 3-tap kernel spans 2001, far beyond the input")
    with pytest.raises(UnsupportedOpError, match=message):
        from_tflite(data)
    path = tmp_path / "dilated.tflite"
    path.write_bytes(data)
    assert main(["verify", "tflm", str(path), "--samples", "2"]) == 2
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and re.match("error: " + message, out[0])  # refused before the mirror or TFLM ran


@pytest.mark.parametrize("op_index, fields, message", [
    (0, dict(strideH=0), r"operator 0 \(CONV_2D\): stride_h is 0; it must be at least 1"),
    (0, dict(strideW=-2), r"operator 0 \(CONV_2D\): stride_w is -2; it must be at least 1"),
    (1, dict(dilationWFactor=0), r"operator 1 \(CONV_2D\): dilation_w_factor is 0; it must be at least 1"),
    (1, dict(dilationWFactor=-(2**31)), r"operator 1 \(CONV_2D\): dilation_w_factor is -2147483648"),
])
def test_zero_and_negative_strides_and_dilations_are_refused(op_index, fields, message):
    with pytest.raises(UnsupportedOpError, match=message):
        from_tflite(patched(RESNET, set_option(op_index, **fields)))


def test_pool_and_depthwise_fields_are_checked_too():
    kws = MLPERF / "kws_ref_model.tflite"
    pool = next(i for i, op in enumerate(from_tflite(kws.read_bytes()).ops) if op.kind.value == "AVERAGE_POOL_2D")
    with pytest.raises(UnsupportedOpError, match=rf"operator {pool} \(AVERAGE_POOL_2D\): filter_width is 0"):
        from_tflite(patched(kws, set_option(pool, filterWidth=0)))
    with pytest.raises(UnsupportedOpError, match=r"operator 1 \(DEPTHWISE_CONV_2D\): depth_multiplier is -1"):
        from_tflite(patched(kws, set_option(1, depthMultiplier=-1)))


def test_a_shape_whose_element_count_overflows_int32_is_refused():
    def huge(sub):
        sub.tensors[0].shape = np.array([1, 65536, 65536, 3], np.int32)

    with pytest.raises(UnsupportedOpError, match=r"tensor 0 .*: shape \(1, 65536, 65536, 3\) has 12884901888 "
                                                 r"elements, more than an int32 element count holds"):
        from_tflite(patched(RESNET, huge))


def test_a_subgraph_output_no_operator_computes_is_refused():
    def output_a_weight(sub):
        sub.outputs = [1]

    with pytest.raises(UnsupportedOpError, match=r"subgraph output 1 .* is computed by no operator"):
        from_tflite(patched(RESNET, output_a_weight))


def test_a_fully_connected_bias_without_quantization_is_refused_as_tflm_refuses_it():
    def drop_bias_quantization(sub):
        sub.tensors[1].quantization = None  # ResNet-8's dense bias

    with pytest.raises(UnsupportedOpError, match=r"operator 14 \(FULLY_CONNECTED\): FULLY_CONNECTED: "
                                                 r"bias scale 0\.0 is not input_scale \* weight_scale"):
        from_tflite(patched(RESNET, drop_bias_quantization))
