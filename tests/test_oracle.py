"""The oracles in a child process: the same results as in process; a crash, a hang or a refusal
of the oracle becomes one clear error, and `verify` still prints the mirror's own result."""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

import numpy as np
import pytest

from edgehdc import verify
from edgehdc.quant.oracle import IsolatedOracle, OracleCrashed, OracleRefused, OracleTimeout, create
from edgehdc.quant.tflite_io import from_tflite

MLPERF = Path(__file__).resolve().parents[2] / "shared" / "models" / "mlperf_tiny"
KWS, VWW = MLPERF / "kws_ref_model.tflite", MLPERF / "vww_96_int8.tflite"


@pytest.fixture
def process():
    with IsolatedOracle(timeout=60) as p:
        yield p


@pytest.mark.parametrize("kind", ["tflm", "tflite"])
def test_isolated_oracle_returns_what_the_in_process_one_does(process, kind):
    data = KWS.read_bytes()
    x = verify.random_inputs(from_tflite(data), 3, seed=4)
    info = process.load(kind, data, "kws")
    assert info["input_shape"] == (1, 49, 10, 1) and np.dtype(info["input_dtype"]) == np.int8
    got, expected = process.run_all(x), create(kind, data).run_all(x)
    assert got.keys() == expected.keys()
    for t in expected:
        np.testing.assert_array_equal(got[t], expected[t])
    np.testing.assert_array_equal(process.run(x)[0], expected[from_tflite(data).outputs[0]])


def test_a_crashed_oracle_is_one_clear_error_and_the_next_model_gets_a_new_process(process):
    data = KWS.read_bytes()
    process.load("tflm", data, "models/kws.tflite")
    pid = process.pid
    os.kill(pid, signal.SIGSEGV)  # what TFLM's own segfaults look like from here
    with pytest.raises(OracleCrashed, match=r"^TFLM crashed \(SIGSEGV, signal 11\) on models/kws\.tflite"):
        process.run_all(np.zeros((1, 49, 10, 1), np.int8))
    assert process.pid is None
    process.load("tflm", data, "kws")
    assert process.pid not in (None, pid) and len(process.run_all(np.zeros((1, 49, 10, 1), np.int8))) == 35


def test_a_hung_oracle_is_stopped_after_the_time_limit():
    data = VWW.read_bytes()
    with IsolatedOracle(timeout=0.05) as process:
        with pytest.raises(OracleTimeout, match=r"^TFLM did not finish within 0\.05 s on vww"):
            process.load("tflm", data, "vww")  # the child cannot even start in 50 ms
        assert process.pid is None


def test_an_oracle_refusal_keeps_the_process(process):
    process.load("tflm", KWS.read_bytes(), "kws")
    pid = process.pid
    with pytest.raises(OracleRefused, match="TFLM could not load the model"):
        process.load("tflm", b"\x18\x00\x00\x00TFL3" + bytes(40), "junk")
    process.load("tflm", KWS.read_bytes(), "kws")
    with pytest.raises(OracleRefused, match="input must be int8"):
        process.run_all(np.zeros((1, 49, 10, 1), np.float32))
    assert process.pid == pid


class CrashingOracle(IsolatedOracle):
    """Kills its child with SIGSEGV when asked to run: a real crash of the oracle process."""

    def run_all(self, x, fresh=False):
        os.kill(self.pid, signal.SIGSEGV)
        return super().run_all(x, fresh)


def test_verify_prints_the_mirror_result_then_one_line_when_the_oracle_crashes(capsys):
    args = verify_args("tflm", KWS, 4)
    with CrashingOracle(timeout=60) as process:
        assert verify.run_cli(args, process) == verify.EXIT_ORACLE_FAILED
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0] == f"model: {KWS}" and out[1].startswith("mirror: 4 inputs through 13 ops; outputs 'Identity'")
    assert out[2:] == [f"error: TFLM crashed (SIGSEGV, signal 11) on {KWS}; the model makes the oracle fail"]


class HangingOracle(IsolatedOracle):
    """Stops its child (SIGSTOP) when asked to run: a real hang of the oracle process, whatever the
    machine's speed."""

    def run_all(self, x, fresh=False):
        os.kill(self.pid, signal.SIGSTOP)
        return super().run_all(x, fresh)


def test_verify_reports_a_hang_and_exits_3(capsys):
    args = verify_args("tflite", VWW, 2)
    with HangingOracle(timeout=0.5) as process:
        assert verify.run_cli(args, process) == verify.EXIT_ORACLE_FAILED == 3
    out = capsys.readouterr().out.strip().splitlines()
    assert out[1].startswith("mirror (FULLY_CONNECTED rounding once, as LiteRT): 2 inputs through 31 ops")
    assert out[-1] == f"error: LiteRT did not finish within 0.5 s on {VWW} (stopped); the model makes the oracle hang"


def test_oracle_timeout_option_reaches_the_oracle():
    parser = argparse.ArgumentParser()
    verify.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["verify", "tflite", str(VWW), "--oracle-timeout", "0.05"])
    assert args.oracle_timeout == 0.05


def verify_args(oracle, model, samples):
    parser = argparse.ArgumentParser()
    verify.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["verify", oracle, str(model), "--samples", str(samples)])
