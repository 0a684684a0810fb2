"""Field-level fuzzing of `verify`: a small seeded run of the campaign benchmarks/fuzz_verify.py
runs at scale. Every mutant must end as a match, a mismatch or a clear refusal: never a
traceback, an oracle crash or a hang."""

from __future__ import annotations

from pathlib import Path

import pytest
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

from edgehdc import fuzz

MLPERF = Path(__file__).resolve().parents[2] / "shared" / "models" / "mlperf_tiny"
MODELS = {name: (MLPERF / f"{name}.tflite").read_bytes()
          for name in ("pretrainedResnet_quant", "kws_ref_model", "vww_96_int8", "ad01_int8")}
CLEAR = {"match", "mismatch", "refused", "oracle refused"}


def test_mutants_are_reproducible_well_formed_and_change_one_field():
    data = MODELS["kws_ref_model"]
    seen = set()
    for k in range(30):
        mutant, description = fuzz.mutant(data, 5, 1, k)
        assert (mutant, description) == fuzz.mutant(data, 5, 1, k)
        assert mutant != data and mutant[4:8] == b"TFL3"
        fb.ModelT.InitFromObj(fb.Model.GetRootAs(mutant, 0))  # parses
        seen.add(description.split()[0])
    assert {"operator", "tensor"} <= seen


@pytest.mark.parametrize("oracle, mutants", [("tflm", 25), ("tflite", 8)])
def test_every_mutant_ends_as_a_match_a_mismatch_or_a_clear_refusal(oracle, mutants):
    outcomes = fuzz.campaign(MODELS, mutants, seed=11, oracle=oracle, timeout=60)
    assert len(outcomes) == 4 * mutants
    bad = [o for o in outcomes if o.outcome not in CLEAR]
    assert not bad, "\n".join(f"{o.model} mutant {o.index} ({o.mutation}): {o.outcome}: {o.detail}" for o in bad)
    table = fuzz.counts(outcomes)
    assert sum(row["match"] for row in table.values()) > 0 and sum(row["refused"] for row in table.values()) > 0
    assert all(o.detail.startswith(("error: ", "mismatches=")) for o in outcomes)
