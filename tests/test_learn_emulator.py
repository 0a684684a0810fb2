"""On-device learning on the emulated Cortex-M4: every update predicted bit for bit by the host mirror.

One tiny model (test_emulator's graph) exported with a calibrated sign
projection and a `Learner` of 6 slots (4 trained classes + 2 free), built
once for the module. Bad requests get typed errors and the device keeps serving.
"""

import shutil

import numpy as np
import pytest
from test_emulator import IN_SHAPE, _graph

from edgehdc.device import EmulatedBoard, ErrorCode
from edgehdc.device.protocol import DeviceError, LearnMode, LearnSource, MsgType
from edgehdc.export.firmware import write_firmware_sources
from edgehdc.hdc import NO_CLASS, Centroid, Learner, SignProjection
from edgehdc.kernels.interpreter import run

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
                       reason="needs arm-none-eabi-gcc and qemu-system-arm (scripts/setup.sh)"),
]

DIM, N_CLASSES, CAPACITY = 256, 4, 6


@pytest.fixture(scope="module")
def device(tmp_path_factory):
    rng = np.random.default_rng(99)
    graph = _graph(rng)
    train = rng.integers(-128, 128, (40, *IN_SHAPE[1:])).astype(np.int8)
    features = run(graph, train)[0].reshape(40, -1)
    encoder = SignProjection(36, DIM, zero_point=-128).calibrate(features)
    centroid = Centroid(N_CLASSES, DIM).fit(encoder.encode(features), np.arange(40) % N_CLASSES, epochs=3, margin=8)
    mirror = Learner(centroid, CAPACITY)
    model_dir = tmp_path_factory.mktemp("learn_model")
    write_firmware_sources(graph, encoder, Learner(centroid, CAPACITY), model_dir, bytes(8))
    board = EmulatedBoard("qemu_m4", model_dir=model_dir)
    board.build()
    link = board.start()
    try:
        yield link, graph, encoder, mirror
    finally:
        board.stop()


def _assert_same_state(link, mirror):
    state = link.learn_info()
    assert (state.capacity, state.n_flashed, state.n_active) == (CAPACITY, N_CLASSES, mirror.n_active)
    assert state.ram_bytes == mirror.ram_bytes
    for k in range(CAPACITY):
        active, bits = link.prototype(k)
        assert active == (k < mirror.n_active)
        np.testing.assert_array_equal(bits, mirror.prototypes[k], err_msg=f"class slot {k}")


def _examples(rng, graph, n):
    x = rng.integers(-128, 128, (n, *IN_SHAPE[1:])).astype(np.int8)
    return x, run(graph, x)[0].reshape(n, -1)


def test_classify_features_matches_mirror(device):
    link, graph, encoder, mirror = device
    _, features = _examples(np.random.default_rng(1), graph, 3)
    labels, confidence, distances = mirror.classify(encoder.encode(features))
    assert (distances[:, N_CLASSES:] == NO_CLASS).all()  # free slots never win
    for i in range(3):
        r = link.hdc_classify(features[i])
        np.testing.assert_array_equal(r.hv, encoder.encode(features[i]))
        np.testing.assert_array_equal(r.distances, distances[i])
        assert (r.label, r.confidence) == (labels[i], confidence[i])
        assert r.ticks_encode > 0 and r.ticks_search > 0


def test_learning_sequence_matches_mirror(device):
    link, graph, encoder, mirror = device
    rng = np.random.default_rng(2)
    _assert_same_state(link, mirror)
    # Bundle feature vectors into an existing class.
    _, features = _examples(rng, graph, 5)
    reply = link.learn_add(2, features)
    assert (reply.label, reply.count, reply.updated, reply.saturated) == (2, 5, 5, 0)
    mirror.add(encoder.encode(features), 2)
    _assert_same_state(link, mirror)
    # A new class taught from model inputs: the device runs its own CNN.
    label, state = link.learn_new_class()
    assert label == mirror.new_class() == N_CLASSES and state.n_active == N_CLASSES + 1
    x, features = _examples(rng, graph, 4)
    link.learn_add(label, x, source=LearnSource.INPUT)
    mirror.add(encoder.encode(features), label)
    _assert_same_state(link, mirror)
    # Online updates with a margin.
    _, features = _examples(rng, graph, 6)
    reply = link.learn_add(1, features, mode=LearnMode.ONLINE, margin=40)
    updated, saturated = mirror.add_online(encoder.encode(features), 1, margin=40)
    assert (reply.updated, reply.saturated) == (updated, saturated) and updated > 0
    _assert_same_state(link, mirror)
    # Replace a prototype, then classify with the learned state.
    bits = rng.integers(0, 2**32, DIM // 32, dtype=np.uint32)
    assert link.write_prototype(0, bits, weight=3) == mirror.n_active
    mirror.write(0, bits, 3)
    _assert_same_state(link, mirror)
    r = link.hdc_classify(features[0])
    labels, confidence, distances = mirror.classify(encoder.encode(features[:1]))
    np.testing.assert_array_equal(r.distances, distances[0])
    assert (r.label, r.confidence) == (labels[0], confidence[0])
    # Back to the flashed state.
    assert link.learn_reset().n_active == N_CLASSES
    mirror.reset()
    _assert_same_state(link, mirror)


def test_accumulators_saturate_and_say_so(device):
    link, graph, encoder, mirror = device
    _, features = _examples(np.random.default_rng(3), graph, 1)
    hv = encoder.encode(features)
    link.write_prototype(3, hv[0], weight=40000)  # clamped to +-32767
    mirror.write(3, hv[0], 40000)
    reply = link.learn_add(3, features)
    assert reply.saturated == DIM == mirror.add(hv, 3)  # every bit agrees: every entry held at 32767
    _assert_same_state(link, mirror)
    link.learn_reset()
    mirror.reset()


def _error(link, type, body=b""):
    with pytest.raises(DeviceError) as err:
        link.request(type, body)
    assert link.info().n_features == 36  # the device keeps serving
    return err.value.code, err.value.detail


def test_bad_requests_get_typed_errors(device):
    link, graph, encoder, mirror = device
    feats = np.zeros(36, np.int8)
    assert _error(link, MsgType.HDC_CLASSIFY, bytes(35)) == (ErrorCode.BAD_LENGTH, 35)
    with pytest.raises(ValueError, match="36 int8"):
        link.hdc_classify(np.zeros(35, np.int8))
    from edgehdc.device.protocol import learn_add_body

    assert _error(link, MsgType.LEARN_ADD, learn_add_body(9, feats[None])) == (ErrorCode.CLASS_OUT_OF_RANGE, 9)
    assert _error(link, MsgType.LEARN_ADD, learn_add_body(N_CLASSES, feats[None]))[0] == ErrorCode.CLASS_OUT_OF_RANGE
    assert _error(link, MsgType.LEARN_ADD, learn_add_body(0, feats[None], mode=7)) == (ErrorCode.BAD_LEARN_MODE, 7)
    assert _error(link, MsgType.LEARN_ADD, learn_add_body(0, feats[None], source=5)) == (ErrorCode.BAD_LEARN_MODE, 5)
    assert _error(link, MsgType.LEARN_ADD, learn_add_body(0, feats[None])[:-1])[0] == ErrorCode.BAD_LENGTH
    assert _error(link, MsgType.LEARN_ADD, bytes(3)) == (ErrorCode.BAD_LENGTH, 3)
    assert _error(link, MsgType.PROTO_READ, (CAPACITY).to_bytes(2, "little")) == (ErrorCode.CLASS_OUT_OF_RANGE, CAPACITY)
    assert _error(link, MsgType.PROTO_WRITE, bytes(3))[0] == ErrorCode.BAD_LENGTH
    for _ in range(CAPACITY - N_CLASSES):
        link.learn_new_class()
    assert _error(link, MsgType.LEARN_NEW_CLASS) == (ErrorCode.CLASS_TABLE_FULL, CAPACITY)
    assert link.learn_reset().n_active == N_CLASSES
    _assert_same_state(link, mirror)
