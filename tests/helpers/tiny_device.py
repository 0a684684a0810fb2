"""A tiny exported model (CONV_2D + MAX_POOL_2D + FULLY_CONNECTED + HDC) and the firmware's
request service compiled for this machine around it, with a fake counter.

Shared by tests/test_integrity.py and tests/test_profile.py: the service answers
frames exactly as the device does (tests/test_protocol.py checks the protocol
itself); the same model is also built for the emulated board.
"""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np

from edgehdc.device import protocol as p
from edgehdc.export.firmware import SOURCE_NAME, write_firmware_sources
from edgehdc.hdc import Centroid, SignProjection
from edgehdc.hdc.learn import Learner
from edgehdc.kernels.interpreter import run
from edgehdc.quant.ir import (
    Activation, Conv2DOptions, FullyConnectedOptions, Graph, Op, OpKind, Padding, Pool2DOptions, QuantParams,
    Tensor,
)

ROOT = Path(__file__).resolve().parents[2]
MODEL_ID = bytes.fromhex("fedcba9876543210")
IN_SHAPE = (1, 6, 6, 2)
N_FEATURES, DIM, N_CLASSES = 16, 256, 4
TICK = 7  # the fake counter advances this much per read

SHIM = r"""
#include "ehd/ehd_service.h"
#include "ehd_generated.h"

static uint32_t arena[(EHD_GENERATED_ARENA_SIZE + 3u) / 4u];
static ehd_service svc;
static uint8_t out[65536];
static size_t out_len;
static uint32_t clock;

static uint32_t ticks(void) { return clock += TICK; }
static void to_out(void *ctx, const uint8_t *d, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n && out_len < sizeof(out); i++) out[out_len++] = d[i];
}

int shim_init(void)
{
    const ehd_service_board board = {"host", EHD_BACKEND_PORTABLE, ticks, 1000u};
    const int status = ehd_service_init(&svc, &ehd_generated_model, &ehd_generated_hdc, (int8_t *)arena,
                                        sizeof(arena), &board, to_out, 0);
    ehd_service_check_integrity(&svc, &ehd_generated_integrity); /* as firmware/app/main.c does */
    return status;
}

size_t shim_feed(const uint8_t *data, size_t n, uint8_t *reply, size_t cap)
{
    out_len = 0;
    for (size_t i = 0; i < n; i++) ehd_service_feed(&svc, data[i]);
    for (size_t i = 0; i < out_len && i < cap; i++) reply[i] = out[i];
    return out_len;
}
"""


def graph(rng) -> Graph:
    g = Graph()
    x = g.add_tensor(Tensor("x", IN_SHAPE, "int8", QuantParams.per_tensor(0.05, -3)))
    w_scale = rng.uniform(0.002, 0.01, 4).astype(np.float32)
    w = g.add_tensor(Tensor("w", (4, 3, 3, 2), "int8", QuantParams(w_scale, np.zeros(4, np.int64), 0),
                            rng.integers(-127, 128, (4, 3, 3, 2)).astype(np.int8)))
    b = g.add_tensor(Tensor("b", (4,), "int32", QuantParams(w_scale * np.float32(0.05), np.zeros(4, np.int64), 0),
                            rng.integers(-2000, 2000, 4).astype(np.int32)))
    y = g.add_tensor(Tensor("y", (1, 6, 6, 4), "int8", QuantParams.per_tensor(0.02, -128)))
    pooled = g.add_tensor(Tensor("pooled", (1, 3, 3, 4), "int8", QuantParams.per_tensor(0.02, -128)))
    fw = g.add_tensor(Tensor("fw", (N_FEATURES, 36), "int8", QuantParams.per_tensor(0.01, 0),
                             rng.integers(-127, 128, (N_FEATURES, 36)).astype(np.int8)))
    fb = g.add_tensor(Tensor("fb", (N_FEATURES,), "int32", QuantParams.per_tensor(0.0002, 0),
                             rng.integers(-500, 500, N_FEATURES).astype(np.int32)))
    f = g.add_tensor(Tensor("f", (1, N_FEATURES), "int8", QuantParams.per_tensor(0.05, 5)))
    g.add_op(Op(OpKind.CONV_2D, [x, w, b], [y], Conv2DOptions((1, 1), Padding.SAME, Activation.RELU)))
    g.add_op(Op(OpKind.MAX_POOL_2D, [y], [pooled], Pool2DOptions((2, 2), (2, 2), Padding.VALID)))
    g.add_op(Op(OpKind.FULLY_CONNECTED, [pooled, fw, fb], [f], FullyConnectedOptions(Activation.NONE)))
    g.inputs, g.outputs = [x], [f]
    return g


def export(out_dir: Path, seed: int = 1234, encoder=None, learner_capacity: int | None = None):
    """Writes the tiny model's firmware sources into out_dir; returns (graph, encoder, classifier).

    `encoder` defaults to a stored sign projection; `learner_capacity` makes it a learning device."""
    rng = np.random.default_rng(seed)
    g = graph(rng)
    train = rng.integers(-128, 128, (40, *IN_SHAPE[1:])).astype(np.int8)
    encoder = encoder or SignProjection(N_FEATURES, DIM, zero_point=5)
    classifier = Centroid(N_CLASSES, DIM).fit(encoder.encode(run(g, train)[0].reshape(40, -1)),
                                              np.arange(40) % N_CLASSES)
    if learner_capacity is not None:
        classifier = Learner(classifier, learner_capacity)
    write_firmware_sources(g, encoder, classifier, out_dir, MODEL_ID)
    return g, encoder, classifier


def corrupt(model_dir: Path, array: str) -> None:
    """Changes the first value of constant `array` in the generated source (a bit flip in flash)."""
    path = Path(model_dir) / SOURCE_NAME
    text = path.read_text()
    m = re.search(rf"static const \w+ {array}\[\d+\] = {{\s*(-?\w+)", text)
    if m is None:
        raise ValueError(f"no constant array {array} in {path}")
    value = int(m[1].rstrip("u"), 0)
    flipped = f"0x{value ^ 1:08x}u" if m[1].endswith("u") else str(value ^ 1)
    path.write_text(text[: m.start(1)] + flipped + text[m.end(1):])


def service(model_dir: Path, tmp: Path):
    """Compiles firmware/src + the generated model + SHIM; returns send(wire) -> [Packet]."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise RuntimeError("no C compiler")
    (tmp / "shim.c").write_text(SHIM)
    sources = sorted(str(s) for s in (ROOT / "firmware" / "src").rglob("*.c"))
    lib = tmp / "libsvc.so"
    subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-O1", "-shared", "-fPIC", f"-DTICK={TICK}u",
                    f"-I{ROOT / 'firmware' / 'include'}", f"-I{model_dir}", *sources,
                    str(Path(model_dir) / SOURCE_NAME), str(tmp / "shim.c"), "-o", str(lib)],
                   check=True, capture_output=True)
    c = ctypes.CDLL(str(lib))
    c.shim_feed.restype = ctypes.c_size_t
    c.shim_feed.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
    assert c.shim_init() == 0

    def send(wire: bytes) -> list[p.Packet]:
        buf = ctypes.create_string_buffer(65536)
        n = c.shim_feed(wire, len(wire), buf, len(buf))
        return [p.unframe(f) for f in buf.raw[:n].split(b"\x00")[:-1]]

    return send


def request(send, type_: int, body: bytes = b"", seq: int = 1) -> p.Packet:
    (reply,) = send(p.frame(p.encode_packet(type_, seq, body)))
    return reply
