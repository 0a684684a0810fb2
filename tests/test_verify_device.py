"""`edgehdc verify device`: a MLPerf Tiny model end to end on the emulated Cortex-M4, and the
refusals that happen before any build."""

from pathlib import Path

import numpy as np
import pytest

from edgehdc import cli
from edgehdc.quant.ir import OpKind, QuantParams
from edgehdc.quant.tflite_io import to_tflite
from edgehdc.verify_device import compare_outputs, seeded_inputs
from test_runtime_model import Builder, float_io_model

AD = Path(__file__).resolve().parents[2] / "shared" / "models" / "mlperf_tiny" / "ad01_int8.tflite"


@pytest.mark.emulator
@pytest.mark.slow
def test_anomaly_autoencoder_is_bit_exact_on_the_emulated_m4(capsys):
    assert cli.main(["verify", "device", str(AD), "--board", "qemu-m4", "--samples", "3"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    fields = dict(kv.split("=") for kv in last.split())
    assert list(fields) == ["mismatches", "compared", "instructions", "flash", "ram", "arena"]
    assert fields["mismatches"] == "0" and fields["compared"] == str(3 * 640)
    assert int(fields["instructions"]) > 264_192  # at least one instruction per MAC of its ten FC layers
    assert 0 < int(fields["arena"]) < int(fields["ram"]) < int(fields["flash"])


def test_refused_before_any_build(tmp_path, capsys):
    rng = np.random.default_rng(0)
    b = Builder(rng, (1, 4, 4, 3))
    c = b.const(rng.integers(-128, 128, (1, 4, 4, 3)).astype(np.int8), "int8", QuantParams.per_tensor(0.1, 0))
    b.g.outputs = [b.op(OpKind.RELU, [c], (1, 4, 4, 3)), b.op(OpKind.RELU, [b.x], (1, 4, 4, 3))]
    model = tmp_path / "const_relu.tflite"
    model.write_bytes(to_tflite(b.g))
    assert cli.main(["verify", "device", str(model), "--samples", "2"]) == 2
    assert "op 0 (RELU)" in capsys.readouterr().out
    assert cli.main(["verify", "device", str(tmp_path / "missing.tflite")]) == 2
    assert cli.main(["verify", "device", str(AD), "--samples", "0"]) == 2


def test_seeded_inputs_cover_a_float_input_range():
    g = float_io_model(np.random.default_rng(0))
    xs = seeded_inputs(g, 50, seed=3)
    assert xs.dtype == np.float32 and xs.shape == (50, 6, 6, 2)
    np.testing.assert_array_equal(xs, seeded_inputs(g, 50, seed=3))
    # QUANTIZE scale 0.03, zero point 4: int8 covers [-3.96, 3.69]; the inputs reach past both ends.
    assert xs.min() < -3.96 and xs.max() > 3.69


def test_an_output_the_device_did_not_return_is_a_mismatch():
    e = [np.arange(4, dtype=np.int8), np.array([1.5, -2.0], np.float32)]
    assert [bad.size for _, bad, _ in compare_outputs([e[0].copy()], e)] == [0, 2]  # not silently skipped
    got = [e[0].copy(), np.array([1.5, -0.0], np.float32)]  # -0.0 == 0.0 but its bits differ
    assert [(k, list(bad), n) for k, bad, n in compare_outputs(got, e)] == [(0, [], 4), (1, [1], 2)]
    with pytest.raises(ValueError, match="3 outputs"):
        compare_outputs([*e, e[0]], e)
