"""Scratch bytes a kernel backend asks for, per layer and per core, computed on the host.

The arena planner (edgehdc.export.arena) reserves exactly these bytes for each
layer and the runtime hands them to the op's wrapper as its `ehd_context`; a
wrapper given fewer returns EHD_ERR_ARG. The portable kernels need none.

The `dsp` backend (ours) asks for the same on every core: `dsp_*_bytes` below
mirror the C wrappers' `ehd_<op>_wrapper_s8_get_buffer_size` built with
EHD_BACKEND_DSP (tests/test_scratch_plan.py checks them through the bindings).

The `cmsis_nn` backend's adapters (firmware/src/kernels/cmsis_nn) take exactly
what CMSIS-NN v7.0.0's `arm_*_get_buffer_size()` returns on the core they are
built for; that differs between the cores because CMSIS-NN picks its code
path at compile time:

| core | CMSIS-NN path | sizes of |
|---|---|---|
| `cortex-m4`, `cortex-m7` | DSP (ARM_MATH_DSP) | `arm_*_get_buffer_size_dsp` |
| `cortex-m55` | MVE (ARM_MATH_MVEI) | `arm_*_get_buffer_size_mve` |
| `host` | generic C (the host bindings) | `arm_*_get_buffer_size` built for x86 |

The formulas below are CMSIS-NN's, for GCC (with Arm Compiler 6 its DSP 1x1
fast convolution would ask for 4 x in_c bytes and its MVE depthwise turns a
one-channel input into a convolution only above 8 output channels).
tests/test_cmsis_nn_scratch.py checks them against the real functions on the
host and on the emulated cores.
"""

from __future__ import annotations

from edgehdc.quant.arith import ConvParams, PoolParams, lower
from edgehdc.quant.ir import Graph, Op, OpKind

CORES = {"cortex-m4": "dsp", "cortex-m7": "dsp", "cortex-m55": "mve", "host": "generic"}
BACKENDS = ("portable", "dsp", "cmsis_nn")
# The core of each platformio.ini environment (its -mcpu), for planning a firmware's scratch.
BOARD_CORES = {"qemu_m4": "cortex-m4", "qemu_m7": "cortex-m7", "qemu_m55": "cortex-m55",
               "nucleo_l4r5zi": "cortex-m4", "nucleo_f746zg": "cortex-m7", "nucleo_h743zi": "cortex-m7"}
_CH_IN_BLOCK_MVE = 124  # arm_nnsupportfunctions.h
_DW_TO_CONV_ABOVE = 1  # CONVERT_DW_CONV_WITH_ONE_INPUT_CH_AND_OUTPUT_CH_ABOVE_THRESHOLD under GCC


def board_core(env: str) -> str:
    """The Cortex-M core of platformio.ini environment `env`."""
    if env not in BOARD_CORES:
        raise ValueError(f"unknown board {env!r}: choose one of {', '.join(BOARD_CORES)}")
    return BOARD_CORES[env]


def flavour(core: str) -> str:
    """CMSIS-NN's code path on `core`: "dsp", "mve" or "generic"."""
    if core not in CORES:
        raise ValueError(f"unknown core {core!r}: choose one of {', '.join(CORES)}")
    return CORES[core]


def conv_bytes(x_shape, w_shape, p: ConvParams, core: str) -> int:
    """arm_convolve_wrapper_s8_get_buffer_size: x NHWC, weights OHWI."""
    f = flavour(core)
    _, h, _, c = x_shape
    _, kh, kw, _ = w_shape
    if p.pad_h == 0 and p.pad_w == 0 and kh == 1 and kw == 1 and p.dilation_h == 1 and p.dilation_w == 1:
        return 0  # 1x1: the fast kernel's DSP buffer is for Arm Compiler 6 only; strided needs none
    if h == 1 and p.dilation_w == 1 and kh == 1 and (p.stride_w * c) % 4 == 0:
        return _conv_1xn_mve(x_shape, kw, p) if f == "mve" else _im2col(c * kh * kw, f)
    return _im2col(c * kh * kw, f)


def _im2col(k: int, f: str) -> int:
    """arm_convolve_s8_get_buffer_size: four int8 columns of 16-lane rows (MVE) or two int16 columns."""
    return 4 * ((k + 15) // 16) * 16 if f == "mve" else 2 * (-(-k // 4) * 4) * 2


def _conv_1xn_mve(x_shape, kw: int, p: ConvParams) -> int:
    _, _, in_w, c = x_shape
    total_pad = (p.out_w - 1) * p.stride_w + kw - in_w
    asym = total_pad % 2  # C's % truncates; total_pad is never negative for a TFLite geometry
    right = max(1, (p.pad_w + asym + p.stride_w - 1) // p.stride_w) if p.pad_w + asym else 0
    left = max(1, (p.pad_w + p.stride_w - 1) // p.stride_w) if p.pad_w else 0
    if right + max(p.out_w - (right + left), 0) + left != p.out_w:
        return _im2col(c * kw, "mve")
    pad_left = p.pad_w * c
    pad_right = right * c if asym else pad_left
    return max(kw * c + pad_left, (kw - 1) * c + pad_right)


def depthwise_bytes(x_shape, w_shape, p: ConvParams, core: str) -> int:
    """arm_depthwise_conv_wrapper_s8_get_buffer_size: x NHWC, weights 1HW(C*M)."""
    f = flavour(core)
    n, _, _, c = x_shape
    _, kh, kw, out_c = w_shape
    if f == "mve" and c == 1 and out_c > _DW_TO_CONV_ABOVE:  # run as a CONV_2D over transposed weights
        return conv_bytes(x_shape, (out_c, kh, kw, 1), p, core) + out_c * kh * kw
    if c != out_c or n != 1 or p.dilation_h != 1 or p.dilation_w != 1:
        return 0
    if f == "mve":
        return 4 * _CH_IN_BLOCK_MVE * kh * kw
    if kh == 3 and kw == 3 and p.pad_h <= 1 and p.pad_w <= 1:
        return 0  # the 3x3 kernel
    return c * kh * kw * 2 if f == "dsp" else 0


def fully_connected_bytes(w_shape, core: str) -> int:
    """arm_fully_connected_s8_get_buffer_size: weights [OUT, IN]; MVE keeps an int32 kernel sum per output."""
    return 4 * w_shape[0] if flavour(core) == "mve" else 0


def avgpool_bytes(x_shape, p: PoolParams, core: str) -> int:
    """arm_avgpool_s8_get_buffer_size: DSP sums one row of int32 per channel."""
    return 4 * x_shape[3] if flavour(core) == "dsp" else 0


_DSP_BLOCK_COLUMNS = 4  # ehd_conv_dsp.h: four im2col columns per block
_DSP_ADD_TABLES = 2 * 256 * 4  # ehd_add_s8_dsp: each input's 256 scaled values as int32


def dsp_conv_bytes(x_shape, w_shape, p: ConvParams) -> int:
    """ehd_convolve_wrapper_s8_get_buffer_size (dsp): the 1x1 GEMM's int16 block, or the im2col-lite
    kernel's block + staging row (ACLE) / four int8 columns and an int32 base per output channel (MVE),
    whichever is larger."""
    _, in_h, in_w, c = x_shape
    _, kh, kw, _ = w_shape
    inside = (p.out_h - 1) * p.stride_h < in_h and (p.out_w - 1) * p.stride_w < in_w
    if kh == 1 and kw == 1 and p.pad_h == 0 and p.pad_w == 0 and inside:
        return 4 * _dsp_block_words(c)
    k = kh * kw * c
    mve = _DSP_BLOCK_COLUMNS * ((k + 15) & ~15) + 4 * w_shape[0]  # + a base per output channel
    return max(4 * (_dsp_block_words(k) + -(-k // 4)), mve)


def _dsp_block_words(k: int) -> int:
    return 2 * _DSP_BLOCK_COLUMNS * -(-k // 4)


def dsp_depthwise_bytes(w_shape, p: ConvParams) -> int:
    """ehd_depthwise_conv_wrapper_s8_get_buffer_size (dsp): the 3x3 kernel's padded four-channel plane."""
    _, kh, kw, _ = w_shape
    if p.depth_multiplier != 1 or (kh, kw) != (3, 3) or p.dilation_h != 1 or p.dilation_w != 1:
        return 0
    return 4 * ((p.out_h - 1) * p.stride_h + 3) * ((p.out_w - 1) * p.stride_w + 3)


def dsp_fully_connected_bytes(w_shape) -> int:
    """ehd_fully_connected_wrapper_s8_get_buffer_size (dsp): the input widened to int16 pairs."""
    return 8 * (w_shape[1] // 4)


def dsp_add_bytes(a_shape, b_shape, out_shape) -> int:
    """ehd_add_wrapper_s8_get_buffer_size (dsp): two tables for same-shape inputs; broadcasting none."""
    return _DSP_ADD_TABLES if _nhwc(a_shape) == _nhwc(b_shape) == _nhwc(out_shape) else 0


def _nhwc(shape) -> tuple[int, ...]:
    return (1,) * (4 - len(shape)) + tuple(int(v) for v in shape)


def scratch_bytes(graph: Graph, op: Op, backend: str, core: str) -> int:
    """Scratch bytes the `backend`'s wrapper for layer `op` of `graph` needs on `core` (0: none)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown kernel backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    flavour(core)
    kind = OpKind(op.kind)
    if backend == "dsp":
        return _dsp_scratch_bytes(graph, op, kind)
    if backend != "cmsis_nn" or kind not in _SIZES:
        return 0
    x_shape = _nhwc(graph.tensors[op.inputs[0]].shape)
    weights = graph.weights_and_bias(op)[0] if kind is not OpKind.AVERAGE_POOL_2D else None
    return _SIZES[kind](x_shape, None if weights is None else weights.shape, lower(graph, op), core)


def _dsp_scratch_bytes(graph: Graph, op: Op, kind: OpKind) -> int:
    shape = [graph.tensors[i].shape for i in op.inputs[:2]]
    if kind is OpKind.CONV_2D:
        return dsp_conv_bytes(_nhwc(shape[0]), graph.weights_and_bias(op)[0].shape, lower(graph, op))
    if kind is OpKind.DEPTHWISE_CONV_2D:
        return dsp_depthwise_bytes(graph.weights_and_bias(op)[0].shape, lower(graph, op))
    if kind is OpKind.FULLY_CONNECTED:
        return dsp_fully_connected_bytes(graph.weights_and_bias(op)[0].shape)
    if kind is OpKind.ADD:
        return dsp_add_bytes(shape[0], shape[1], graph.tensors[op.outputs[0]].shape)
    return 0


_SIZES = {
    OpKind.CONV_2D: conv_bytes,
    OpKind.DEPTHWISE_CONV_2D: depthwise_bytes,
    OpKind.FULLY_CONNECTED: lambda x, w, p, core: fully_connected_bytes(w, core),
    OpKind.AVERAGE_POOL_2D: lambda x, w, p, core: avgpool_bytes(x, p, core),
}


def model_scratch_bytes(graph: Graph, backend: str, core: str) -> int:
    """The largest layer's scratch: what one buffer shared by the layers needs."""
    return max((scratch_bytes(graph, op, backend, core) for op in graph.ops), default=0)
