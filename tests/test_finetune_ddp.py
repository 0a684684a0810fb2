"""The same Trainer under torchrun with 2 CPU processes (gloo) equals one process with the same global batch."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from edgehdc.data import base_target, load_digits
from edgehdc.finetune.workflow import pretrain

HELPER = Path(__file__).parent / "helpers" / "ddp_finetune.py"


@pytest.fixture(scope="module")
def base_ckpt(tmp_path_factory):
    torch.set_num_threads(1)
    base, _ = base_target(load_digits(size=8), list("01234"), list("56789"))
    return pretrain(base, tmp_path_factory.mktemp("ddp") / "base.pt", epochs=2, progress=False)


def _run(args: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


# full: every BatchNorm trains (statistics over the global batch); hdc_refine: the triplet term mines the
# whole global batch, gathered across processes, and the consistency term is per sample; decorrelate: the
# embedding's variance and covariance over the global batch (what pretraining adds); supcon: every pair of
# the global batch; l2sp: a term on the parameters, the same on every rank; reconstruct: the auxiliary
# decoder, outside the model, whose gradients DDP must average too; instance: two views of every sample,
# contrasted over the global batch.
@pytest.mark.parametrize("strategy,changes", [("full", ""), ("hdc_refine", ""), ("full", "decorrelate=3"),
                                              ("full", "supcon=1,l2sp=0.01"), ("full", "reconstruct=1"),
                                              ("full", "instance=1")])
def test_two_processes_equal_one(strategy, changes, base_ckpt, tmp_path):
    single, double = tmp_path / "single.pt", tmp_path / "ddp.pt"
    _run([sys.executable, str(HELPER), str(base_ckpt), strategy, str(single), changes], tmp_path)
    _run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
          str(HELPER), str(base_ckpt), strategy, str(double), changes], tmp_path)
    a, b = torch.load(single, weights_only=True), torch.load(double, weights_only=True)
    assert a["loss"] == pytest.approx(b["loss"], rel=1e-4)
    for k, v in a["state_dict"].items():
        torch.testing.assert_close(b["state_dict"][k], v, rtol=1e-4, atol=1e-5, msg=k)
    # and the run did move away from the checkpoint
    base = torch.load(base_ckpt, weights_only=True)["state_dict"]
    assert not torch.equal(a["state_dict"]["features.0.conv.weight"], base["features.0.conv.weight"])
