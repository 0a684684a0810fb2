"""FULLY_CONNECTED, int8 (TFLM reference `integer_ops/fully_connected.h`).

Plain-Python contract, for every row n and output o (weights symmetric, offset 0):

    acc = sum_i weights[o, i] * (x[n, i] + input_offset) + bias[o]
    y   = clamp(multiply_by_quantized_multiplier(acc, multiplier[o], shift[o]) + output_offset,
                act_min, act_max)

`multiplier`/`shift` are scalars (per-tensor weights) or int32 [OUT] (per-channel).
`single_rounding=True` replaces the last step with TFLite's single rounding
(`requantize.multiply_by_quantized_multiplier_single`), as LiteRT's reference
kernel computes it: only for comparing with that oracle, never on the device.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from edgehdc.kernels import _checks
from edgehdc.kernels.requantize import multiply_by_quantized_multiplier_single, requantize_s8
from edgehdc.quant.arith import FullyConnectedParams


def fully_connected_s8(
    x: np.ndarray, weights: np.ndarray, bias: np.ndarray | None, p: FullyConnectedParams
) -> np.ndarray:
    """int8[N,IN] x int8[OUT,IN]^T (+ int32[OUT]) -> int8[N,OUT]."""
    return prepare_fully_connected_s8(weights, bias, p)(x)


def prepare_fully_connected_s8(weights: np.ndarray, bias: np.ndarray | None, p: FullyConnectedParams,
                               single_rounding: bool = False):
    """`fully_connected_s8` with the weights and parameters checked once: returns x -> y."""
    weights, bias, mult, shift = _checks.fully_connected_constants(weights, bias, p)
    args = (weights, bias, mult, shift, p.input_offset, p.output_offset, p.act_min, p.act_max,
            bool(single_rounding))

    def run(x: np.ndarray) -> np.ndarray:
        return _fully_connected(_checks.fully_connected_input(x, weights), *args)

    return run


@njit(cache=True)
def _fully_connected(x, w, bias, mult, shift, in_off, out_off, act_min, act_max, single):
    n_rows, in_n = x.shape
    out_n = w.shape[0]
    y = np.empty((n_rows, out_n), np.int8)
    xv = np.empty(in_n, np.int64)
    for r in range(n_rows):
        for i in range(in_n):
            xv[i] = np.int64(x[r, i]) + in_off
        for o in range(out_n):
            acc = np.int64(0)
            for i in range(in_n):
                acc += w[o, i] * xv[i]
            if single:
                v = multiply_by_quantized_multiplier_single(acc + bias[o], mult[o], shift[o]) + out_off
                y[r, o] = min(max(v, act_min), act_max)
            else:
                y[r, o] = requantize_s8(acc + bias[o], mult[o], shift[o], out_off, act_min, act_max)
    return y
