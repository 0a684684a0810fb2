"""The `dsp` backend with its real instructions: ACLE on the emulated Cortex-M4/M7, MVE on the M55.

Kernel images (edgehdc.device.kernel_image) run each case through the op's
wrapper, built with backend dsp, and compare every output byte with the
portable kernels' output computed on the host. The cases cover what the fast
paths special-case (channel counts not a multiple of 4, first-layer channel
counts, k tails, strides, dilation, padding, odd pixel counts, 3x3 and
generic depthwise, both poolings, FULLY_CONNECTED per tensor and per channel
with row lengths not a multiple of 4, same-shape and broadcast ADD). The whole firmware built with dsp then
serves a model over the serial protocol and reports the backend in INFO.
"""

import shutil

import numpy as np
import pytest
from test_bindings_ops import add_case
from test_dsp_kernels import _conv, random_conv, random_depthwise, random_fc, random_pool, same_shape_add
from test_emulator import IN_SHAPE, MODEL_ID, _graph

from edgehdc.device import EmulatedBoard, EmulatorError
from edgehdc.device import protocol as p
from edgehdc.device.kernel_image import CORES, KernelCase, case_source, run_cases
from edgehdc.export.firmware import write_firmware_sources
from edgehdc.hdc import Centroid, SignProjection
from edgehdc.kernels.interpreter import run

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
                       reason="needs arm-none-eabi-gcc and qemu-system-arm (scripts/setup.sh)"),
]


def kernel_cases() -> list[KernelCase]:
    rng = np.random.default_rng(77)
    cases = []
    for seed in range(8):
        cases.append(KernelCase.conv2d(*random_conv(seed), name=f"conv random {seed}"))
        cases.append(KernelCase.depthwise_conv2d(*random_depthwise(1000 + seed), name=f"depthwise random {seed}"))
        cases.append(KernelCase.depthwise_conv2d(*random_depthwise(2000 + seed, kernel=(3, 3), dilation=(1, 1)),
                                                 name=f"depthwise 3x3 {seed}"))
        x, pool = random_pool(3000 + seed)
        cases += [KernelCase.pool2d("avg", x, pool, name=f"avg pool {seed}"),
                  KernelCase.pool2d("max", x, pool, name=f"max pool {seed}")]
        cases.append(KernelCase.fully_connected(*random_fc(5000 + seed), name=f"fully connected {seed}"))
        a, b, p = same_shape_add(6000 + seed)
        cases.append(KernelCase.add(_nhwc(a), _nhwc(b), p, name=f"add {seed}"))
    a, b, p = add_case(np.random.default_rng(7))  # the dsp wrapper leaves broadcasting to portable
    a, b = _nhwc(a), _nhwc(b)[:, :1]
    cases.append(KernelCase.add(a, b, p, name="add broadcast"))
    for in_c in (1, 3, 5):  # first layers: k = 9 * in_c ends in a tail
        x, w, b, q = _conv(rng, in_c=in_c, out_c=7, kh=3, kw=3, size=(9, 7), stride=(1, 2))
        cases.append(KernelCase.conv2d(x, w, b, q, name=f"first conv in_c={in_c}"))
    for in_c, stride in ((13, (1, 1)), (32, (2, 1)), (6, (1, 1))):
        x, w, b, q = _conv(rng, in_c=in_c, out_c=9, kh=1, kw=1, size=(5, 7), stride=stride, pad=(0, 0))
        cases.append(KernelCase.conv2d(x, w, b, q, name=f"1x1 in_c={in_c}"))
    for in_c, out_c in ((3, 29), (37, 11)):  # MVE: channel bases in chunks of the scratch; a k tail of 5
        x, w, b, q = _conv(rng, in_c=in_c, out_c=out_c, kh=1, kw=1, size=(3, 5), pad=(0, 0))
        cases.append(KernelCase.conv2d(x, w, b, q, name=f"1x1 in_c={in_c} out_c={out_c}"))
    x, w, b, q = _conv(rng, in_c=16, out_c=19, kh=3, kw=3, size=(7, 6), pad=(1, 1))  # ACLE: widened in place
    cases.append(KernelCase.conv2d(x, w, b, q, name="3x3 in_c=16, inside windows from the input"))
    for c, stride, pad in ((13, (1, 2), (1, 1)), (6, (1, 1), (0, 0)), (17, (2, 1), (1, 0))):
        # MVE: four inside pixels of a row at a time, the rest (borders, a row's last pixels) one by one
        x, w, b, q = _conv(rng, in_c=c, out_c=c, kh=3, kw=3, depthwise=True, size=(8, 19), stride=stride, pad=pad)
        cases.append(KernelCase.depthwise_conv2d(x, w, b, q, name=f"depthwise 3x3 {c} channels, stride {stride}"))
    x, w, b, q = _conv(rng, in_c=20, out_c=20, kh=3, kw=3, depthwise=True, size=(7, 7), stride=(2, 2))
    cases.append(KernelCase.depthwise_conv2d(x, w, b, q, name="depthwise 3x3 stride 2, 20 channels"))
    # 3x3 depthwise whose padded plane (42 x 42 words) exceeds the wrappers' scratch: border windows one by one.
    x, w, b, q = _conv(rng, in_c=8, out_c=8, kh=3, kw=3, depthwise=True, size=(40, 40), pad=(1, 1))
    cases.append(KernelCase.depthwise_conv2d(x[:1], w, b, q, name="depthwise 3x3 without the plane"))
    return cases


def _nhwc(x):
    return x.reshape((1,) * (4 - x.ndim) + x.shape)


@pytest.fixture(scope="module")
def cases():
    return kernel_cases()


@pytest.mark.parametrize("core", sorted(CORES))
def test_dsp_kernels_on_the_emulated_core(cases, core, tmp_path):
    results = run_cases(cases, tmp_path, core=core, backend="dsp")
    bad = [(r.name, r.status, r.mismatches, r.first_mismatch) for r in results if not r.ok]
    assert not bad, f"{core}: {bad}"
    assert len(results) == len(cases)


def test_kernel_image_reports_a_wrong_output(tmp_path):
    # The image's own comparison must see a difference: one expected byte flipped.
    case = KernelCase.conv2d(*random_conv(0))
    case.expected = case.reference()
    case.expected.reshape(-1)[3] ^= 0x40
    (result,) = run_cases([case], tmp_path, core="cortex-m4", backend="dsp")
    assert (result.status, result.mismatches, result.first_mismatch) == (0, 1, 3)
    assert result.instructions > 0


def test_kernel_image_refuses_bad_cases():
    x, pool = random_pool(1)
    with pytest.raises(ValueError, match="no expected output"):
        case_source([KernelCase.pool2d("max", x, pool)])
    with pytest.raises(ValueError, match="unknown op"):
        case_source([KernelCase("mean", x, pool, expected=x)])


def test_firmware_built_with_dsp_serves_the_model(tmp_path):
    rng = np.random.default_rng(1234)
    graph = _graph(rng)
    train = rng.integers(-128, 128, (40, *IN_SHAPE[1:])).astype(np.int8)
    encoder = SignProjection(36, 256, zero_point=-128)
    classifier = Centroid(4, 256).fit(encoder.encode(run(graph, train)[0].reshape(40, -1)), np.arange(40) % 4)
    write_firmware_sources(graph, encoder, classifier, tmp_path, MODEL_ID, backend="dsp", board="qemu_m4")
    board = EmulatedBoard("qemu_m4", model_dir=tmp_path, backend="dsp")
    board.build()
    x = rng.integers(-128, 128, (3, *IN_SHAPE[1:])).astype(np.int8)
    features = run(graph, x)[0].reshape(3, -1)
    with board.start() as link:
        assert link.expect_model(MODEL_ID).backend == p.Backend.DSP
        for i in range(3):
            reply = link.infer(x[i])
            np.testing.assert_array_equal(reply.features, features[i])
            np.testing.assert_array_equal(reply.hv, encoder.encode(features[i : i + 1])[0])


def test_unknown_backend_is_refused(tmp_path):
    with pytest.raises(ValueError, match="portable, dsp"):
        EmulatedBoard("qemu_m4", model_dir=tmp_path, backend="fast")
    write_firmware_sources(_graph(np.random.default_rng(0)), None, None, tmp_path, MODEL_ID)  # a model to build
    board = EmulatedBoard("qemu_m4", model_dir=tmp_path)
    board.backend = "cmsis"  # what EDGEHDC_BACKEND=cmsis gives the build
    with pytest.raises(EmulatorError, match="unknown kernel backend 'cmsis'"):
        board.build()
