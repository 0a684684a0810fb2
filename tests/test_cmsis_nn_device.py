"""The `cmsis_nn` backend with CMSIS-NN's real DSP (Cortex-M4/M7) and MVE (Cortex-M55) paths.

Kernel images (edgehdc.device.kernel_image) built with backend cmsis_nn run
every case through the op's wrapper, which calls the adapter and so CMSIS-NN
(the static scratch is sized from edgehdc.export.scratch, so no case falls
back to a portable kernel for want of scratch), and compare every output byte
with the portable kernels' output computed on the host. A second image per
core prints the scratch each adapter asks CMSIS-NN for there, which must be
what edgehdc.export.scratch computes for that core. The whole firmware built
with cmsis_nn then serves a model over the serial protocol.
"""

import re
import shutil
import subprocess

import numpy as np
import pytest
from test_bindings_ops import fc_case
from test_dsp_device import kernel_cases
from test_dsp_kernels import _conv

from edgehdc.device import EmulatedBoard
from edgehdc.device import protocol as p
from edgehdc.device.kernel_image import CORES, IMAGE_DIR, KernelCase, build_image, run_cases
from edgehdc.export import scratch
from edgehdc.kernels.interpreter import run

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
                       reason="needs arm-none-eabi-gcc and qemu-system-arm (scripts/setup.sh)"),
]


def cmsis_cases() -> list[KernelCase]:
    """The dsp backend's device cases plus what CMSIS-NN's wrappers special-case."""
    rng = np.random.default_rng(13)
    cases = kernel_cases()
    for name, shape in [("1xN", dict(in_c=8, out_c=7, kh=1, kw=3, size=(1, 11))),
                        ("1xN padded", dict(in_c=4, out_c=5, kh=1, kw=5, size=(1, 12), pad=(0, 2))),
                        ("1x1 strided", dict(in_c=6, out_c=5, kh=1, kw=1, size=(7, 7), stride=(2, 2), pad=(0, 0))),
                        ("DS-CNN first conv", dict(in_c=1, out_c=6, kh=10, kw=4, size=(15, 7), stride=(2, 2)))]:
        cases.append(KernelCase.conv2d(*_conv(rng, **shape), name=name))
    for name, (c, out_c) in [("depthwise multiplier 3", (3, 9)), ("depthwise one input channel", (1, 5)),
                             ("depthwise 16 channels", (16, 16))]:
        x, w, b, q = _conv(rng, in_c=c, out_c=out_c, kh=3, kw=3, depthwise=True, size=(7, 6))
        cases.append(KernelCase.depthwise_conv2d(x[:1], w, b, q, name=name))
    for seed in range(4):  # FULLY_CONNECTED from one-op graphs: per-tensor and per-channel
        g, op, x, w, bias = fc_case(np.random.default_rng(seed), seed % 2 == 1)
        tensors = run(g, x, keep_all=True)
        cases.append(KernelCase.from_layer(g, op, tensors, f"fully connected {seed}"))
    return cases


def case_scratch(case: KernelCase, core: str) -> int:
    """What edgehdc.export.scratch says the case's adapter needs on `core`."""
    if case.layer is not None:
        return scratch.scratch_bytes(*case.layer, "cmsis_nn", core)
    if case.op == "conv2d":
        return scratch.conv_bytes(case.x.shape, case.weights.shape, case.params, core)
    if case.op == "depthwise_conv2d":
        return scratch.depthwise_bytes(case.x.shape, case.weights.shape, case.params, core)
    if case.op == "fully_connected":  # MVE keeps an int32 kernel sum per output
        return scratch.fully_connected_bytes(case.weights.shape, core)
    return scratch.avgpool_bytes(case.x.shape, case.params, core) if case.op == "avg_pool2d" else 0


@pytest.fixture(scope="module")
def cases():
    return cmsis_cases()


@pytest.mark.parametrize("core", sorted(CORES))
def test_cmsis_nn_kernels_on_the_emulated_core(cases, core, tmp_path):
    need = max(case_scratch(c, core) for c in cases)
    results = run_cases(cases, tmp_path, core=core, backend="cmsis_nn", scratch_bytes=need)
    bad = [(r.name, r.status, r.mismatches, r.first_mismatch) for r in results if not r.ok]
    assert not bad, f"{core}: {bad}"
    assert len(results) == len(cases)


@pytest.mark.parametrize("core", sorted(CORES))
def test_scratch_sizes_on_the_emulated_core(cases, core, tmp_path):
    elf = build_image(cases, tmp_path, core=core, backend="cmsis_nn", main=IMAGE_DIR / "cmsis_nn_scratch.c")
    spec = CORES[core]
    done = subprocess.run(["qemu-system-arm", "-machine", spec.machine, "-cpu", spec.cpu, "-display", "none",
                           "-monitor", "none", "-semihosting-config", "enable=on,target=native",
                           "-kernel", str(elf)], capture_output=True, text=True, timeout=120)
    console = done.stdout + done.stderr
    device = {int(m[1]): int(m[2]) for m in re.finditer(r"^scratch (\d+) (-?\d+)$", console, re.M)}
    assert done.returncode == 0 and "done" in console.splitlines(), console[-2000:]
    host = {i: case_scratch(c, core) for i, c in enumerate(cases)}
    assert device == host
    print(f"{core}: scratch bytes per case {[device[i] for i in sorted(device)]}")
    assert any(device.values())  # the sizes are not all zero on any core


@pytest.mark.parametrize("env", ["qemu_m4", "qemu_m55"])
def test_firmware_built_with_cmsis_nn_serves_the_model(env, tmp_path):
    from test_emulator import IN_SHAPE, MODEL_ID, _graph

    from edgehdc.export.firmware import write_firmware_sources
    from edgehdc.hdc import Centroid, SignProjection

    rng = np.random.default_rng(4321)
    graph = _graph(rng)
    train = rng.integers(-128, 128, (40, *IN_SHAPE[1:])).astype(np.int8)
    encoder = SignProjection(36, 256, zero_point=-128)
    classifier = Centroid(4, 256).fit(encoder.encode(run(graph, train)[0].reshape(40, -1)), np.arange(40) % 4)
    write_firmware_sources(graph, encoder, classifier, tmp_path, MODEL_ID, backend="cmsis_nn", board=env)
    board = EmulatedBoard(env, model_dir=tmp_path, backend="cmsis_nn")
    board.build()
    x = rng.integers(-128, 128, (3, *IN_SHAPE[1:])).astype(np.int8)
    features = run(graph, x)[0].reshape(3, -1)
    with board.start() as link:
        assert link.expect_model(MODEL_ID).backend == p.Backend.CMSIS_NN
        for i in range(3):
            reply = link.infer(x[i])
            np.testing.assert_array_equal(reply.features, features[i])
            np.testing.assert_array_equal(reply.hv, encoder.encode(features[i : i + 1])[0])
