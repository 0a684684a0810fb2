"""MLPerf Tiny models end to end on the emulated cores with the fast backends: `edgehdc verify
device --backend dsp|cmsis_nn` builds the firmware with each layer's scratch planned into the
arena for that backend and core, and every output matches the Numba mirror bit for bit. The AD
autoencoder is the cheapest (FULLY_CONNECTED only); ResNet-8 adds CONV_2D, ADD and AVERAGE_POOL_2D.
"""

from pathlib import Path

import numpy as np
import pytest

from edgehdc.export.arena import plan_arena
from edgehdc.export.scratch import board_core
from edgehdc.quant.tflite_io import from_tflite
from edgehdc.verify_device import BOARDS, verify_device

MLPERF = Path(__file__).resolve().parents[2] / "shared" / "models" / "mlperf_tiny"


@pytest.mark.emulator
@pytest.mark.slow
@pytest.mark.parametrize("model, board, backend, samples", [
    ("ad01_int8", "qemu-m4", "dsp", 3),
    ("ad01_int8", "qemu-m4", "cmsis_nn", 3),
    ("pretrainedResnet_quant", "qemu-m4", "dsp", 2),
    ("pretrainedResnet_quant", "qemu-m55", "cmsis_nn", 2),
])
def test_mlperf_model_is_bit_exact_with_a_fast_backend(model, board, backend, samples, tmp_path):
    path = MLPERF / f"{model}.tflite"
    graph = from_tflite(path.read_bytes())
    r = verify_device(path, board, backend, samples, build_root=tmp_path, log=lambda m: None)
    outputs = sum(int(np.prod(graph.tensors[t].shape)) for t in graph.outputs)
    assert r.mismatches == 0 and r.compared == samples * outputs
    plan = plan_arena(graph, backend, board_core(BOARDS[board]))
    assert r.arena == plan.size  # the layers' scratch lives in the arena
    assert bool(plan.scratch) == (backend == "dsp" or model != "ad01_int8")  # CMSIS-NN's DSP FC takes none
