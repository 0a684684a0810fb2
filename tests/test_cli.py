"""The `edgehdc` command line dispatches to its subcommands."""

from pathlib import Path

from edgehdc.cli import main

KWS = Path(__file__).resolve().parents[2] / "shared/models/mlperf_tiny/kws_ref_model.tflite"


def test_verify_tflm_through_the_cli(capsys):
    assert main(["verify", "tflm", str(KWS), "--samples", "3"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("mismatches=0 compared=") and int(last.split("compared=")[1]) > 0


def test_verify_tflm_rejects_a_corrupt_model(tmp_path, capsys):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(KWS.read_bytes()[:1000])
    assert main(["verify", "tflm", str(bad), "--samples", "1"]) == 2
    assert "error" in capsys.readouterr().out.lower()


def test_demo_rejects_bad_hdc_dim(capsys):
    assert main(["demo", "--hdc-dim", "100"]) == 2
    assert "multiple of 32" in capsys.readouterr().out
