"""ADD, RELU and RELU6, int8 (ADD: TFLM reference `integer_ops/add.h`; RELU/RELU6: TFLite `ReluX`).

Plain-Python contract of ADD, element by element (inputs broadcast NumPy-style):

    a' = MBQM((a + input1_offset) << left_shift, input1_multiplier, input1_shift)
    b' = MBQM((b + input2_offset) << left_shift, input2_multiplier, input2_shift)
    y  = clamp(MBQM(a' + b', output_multiplier, output_shift) + output_offset, act_min, act_max)

RELU and RELU6: y = clamp(output_zp + MBQM(x - input_zp, multiplier, shift), act_min, act_max),
TFLite's definition (TFLM's RELU6 only clamps; see `arith.ReluParams`). MBQM is
`requantize.multiply_by_quantized_multiplier`; every sum wraps like int32.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from edgehdc.kernels import _checks
from edgehdc.kernels.requantize import multiply_by_quantized_multiplier as mbqm
from edgehdc.kernels.requantize import check_multipliers, requantize_split, scale_split
from edgehdc.quant.arith import AddParams, ReluParams


def add_s8(a: np.ndarray, b: np.ndarray, p: AddParams) -> np.ndarray:
    """int8 a + int8 b (broadcast) -> int8, each input at its own scale."""
    return prepare_add_s8(p)(a, b)


def prepare_add_s8(p: AddParams):
    """`add_s8` with the parameters checked once: returns (a, b) -> y."""
    _checks.act_range(p.act_min, p.act_max, "add_s8")
    if not 0 <= p.left_shift <= 20 or max(p.input1_shift, p.input2_shift, p.output_shift) > 0:
        raise ValueError(f"add_s8: left_shift must be in [0, 20] and the multipliers < 1, got {p}")
    for m in (p.input1_multiplier, p.input2_multiplier, p.output_multiplier):
        check_multipliers(m, 0, 1, "add_s8")
    args = (p.input1_offset, p.input2_offset, p.output_offset, p.left_shift,
            p.input1_multiplier, -p.input1_shift, p.input2_multiplier, -p.input2_shift,
            p.output_multiplier, -p.output_shift, p.act_min, p.act_max)

    def run(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        for name, v in (("a", a), ("b", b)):
            if not isinstance(v, np.ndarray) or v.dtype != np.int8:
                raise ValueError(f"add_s8 input {name} must be an int8 array")
        shape = a.shape
        if b.shape != shape:
            try:
                shape = np.broadcast_shapes(a.shape, b.shape)
            except ValueError:
                raise ValueError(f"add_s8: shapes {a.shape} and {b.shape} do not broadcast") from None
            a, b = np.broadcast_to(a, shape), np.broadcast_to(b, shape)
        flat = [np.ascontiguousarray(v).reshape(-1) for v in (a, b)]
        return _add(flat[0], flat[1], *args).reshape(shape)

    return run


def relu_s8(x: np.ndarray, p: ReluParams) -> np.ndarray:
    """RELU or RELU6 on int8, any shape: rescaled to the output quantization, then clamped."""
    if not isinstance(x, np.ndarray) or x.dtype != np.int8:
        raise ValueError("relu_s8 input must be an int8 array")
    _checks.act_range(p.act_min, p.act_max, "relu_s8")
    check_multipliers(p.multiplier, p.shift, 1, "relu_s8")
    y = _relu(np.ascontiguousarray(x).reshape(-1), p.input_zero_point, p.output_zero_point,
              p.multiplier, p.shift, p.act_min, p.act_max)
    return y.reshape(x.shape)


@njit(cache=True)
def _add(a, b, off1, off2, out_off, left_shift, m1, r1, m2, r2, mo, ro, act_min, act_max):
    # r1, r2, ro: the right shifts (-shift); scale_split wraps each sum to int32 first.
    y = np.empty(a.size, np.int8)
    for i in range(a.size):  # vectorises: scale_split is selects, no branches
        v1 = scale_split(np.int64(a[i]) + off1, m1, left_shift, r1)
        v2 = scale_split(np.int64(b[i]) + off2, m2, left_shift, r2)
        y[i] = requantize_split(v1 + v2, mo, 0, ro, out_off, act_min, act_max)
    return y


@njit(cache=True)
def _relu(x, in_zp, out_zp, mult, shift, act_min, act_max):
    y = np.empty(x.size, np.int8)
    for i in range(x.size):
        v = out_zp + mbqm(np.int64(x[i]) - in_zp, mult, shift)
        y[i] = min(max(v, act_min), act_max)
    return y
