"""C initializers of each layer's kernel parameters (`firmware/include/ehd/ehd_model.h`).

`layer_params(graph, op, name)` lowers `op` with `edgehdc.quant.arith.lower`
(the parameters the Numba mirror uses) and returns C99 source defining
`static const <params type> <name>_params` plus the constant arrays it points
to. One function per params struct; field order follows the header exactly.
RESHAPE has no params: the runtime aliases its output to its input.
"""

from __future__ import annotations

import numpy as np

from edgehdc.quant.arith import (
    AddParams,
    ConvParams,
    DequantizeParams,
    FullyConnectedParams,
    MeanParams,
    PadParams,
    PoolParams,
    QuantizeParams,
    RequantizeParams,
    ReluParams,
    ReshapeParams,
    SoftmaxParams,
    lower,
)
from edgehdc.quant.ir import Graph, Op


def layer_params(graph: Graph, op: Op, name: str) -> str:
    """C source for `<name>_params` of `op` (empty for RESHAPE); ValueError if `op` does not lower."""
    p = lower(graph, op)
    emit = _EMITTERS.get(type(p))
    if emit is None:
        raise ValueError(f"{op.kind.value} has no firmware parameters")
    return emit(graph, op, p, name)


def rescale_fields(p: ReluParams | RequantizeParams) -> tuple[int, int, int, int, int, int]:
    """ehd_rescale_params fields (input zp, output zp, multiplier, shift, act_min, act_max) of a
    RELU / RELU6 or an int8 -> int8 QUANTIZE."""
    if isinstance(p, RequantizeParams):
        return p.input_zero_point, p.output_zero_point, p.multiplier, p.shift, -128, 127
    return p.input_zero_point, p.output_zero_point, p.multiplier, p.shift, p.act_min, p.act_max


def pad_fields(p: PadParams) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    """ehd_pad_params (before[4], after[4], pad_value): paddings of a rank <= 4 tensor, NHWC."""
    lead = (0,) * (4 - len(p.before))
    return lead + tuple(p.before), lead + tuple(p.after), p.pad_value


def _conv(graph: Graph, op: Op, p: ConvParams, name: str) -> str:
    weights, bias = graph.weights_and_bias(op)
    return (_constants(name, weights, bias, p.multiplier, p.shift)
            + _struct("ehd_conv_params", name, [
                f"{name}_weights", _bias_name(name, bias), f"{name}_multiplier", f"{name}_shift",
                c_dims(weights.shape), p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.dilation_h,
                p.dilation_w, p.depth_multiplier, p.act_min, p.act_max]))


def _fully_connected(graph: Graph, op: Op, p: FullyConnectedParams, name: str) -> str:
    weights, bias = graph.weights_and_bias(op)
    per_channel = np.ndim(p.multiplier) > 0 and np.size(p.multiplier) > 1
    out_n, in_n = weights.shape
    return (_constants(name, weights, bias, np.reshape(p.multiplier, -1), np.reshape(p.shift, -1))
            + _struct("ehd_fc_params", name, [
                f"{name}_weights", _bias_name(name, bias), f"{name}_multiplier", f"{name}_shift",
                int(per_channel), c_dims((out_n, 1, 1, in_n)), p.act_min, p.act_max]))


def _pool(graph: Graph, op: Op, p: PoolParams, name: str) -> str:
    return _struct("ehd_pool_params", name, [p.filter_h, p.filter_w, p.stride_h, p.stride_w,
                                             p.pad_h, p.pad_w, p.act_min, p.act_max])


def _add(graph: Graph, op: Op, p: AddParams, name: str) -> str:
    return _struct("ehd_add_params", name, [
        p.input1_offset, p.input2_offset, p.output_offset, p.left_shift, p.input1_multiplier,
        p.input1_shift, p.input2_multiplier, p.input2_shift, p.output_multiplier, p.output_shift,
        p.act_min, p.act_max])


def _rescale(graph: Graph, op: Op, p: ReluParams | RequantizeParams, name: str) -> str:
    return _struct("ehd_rescale_params", name, list(rescale_fields(p)))


def _mean(graph: Graph, op: Op, p: MeanParams, name: str) -> str:
    return _struct("ehd_mean_params", name, [p.input_zero_point, p.output_zero_point,
                                             p.multiplier, p.shift])


def _pad(graph: Graph, op: Op, p: PadParams, name: str) -> str:
    before, after, value = pad_fields(p)
    return _struct("ehd_pad_params", name, [_braces(before), _braces(after), value])


def _softmax(graph: Graph, op: Op, p: SoftmaxParams, name: str) -> str:
    return _struct("ehd_softmax_params", name, [p.input_multiplier, p.input_left_shift, p.diff_min])


def _quantize(graph: Graph, op: Op, p: QuantizeParams | DequantizeParams, name: str) -> str:
    return _struct("ehd_quantize_params", name, [c_float(p.scale), p.zero_point])


def _reshape(graph: Graph, op: Op, p: ReshapeParams, name: str) -> str:
    return ""


_EMITTERS = {
    ConvParams: _conv,
    FullyConnectedParams: _fully_connected,
    PoolParams: _pool,
    AddParams: _add,
    ReluParams: _rescale,
    RequantizeParams: _rescale,
    MeanParams: _mean,
    PadParams: _pad,
    SoftmaxParams: _softmax,
    QuantizeParams: _quantize,
    DequantizeParams: _quantize,
    ReshapeParams: _reshape,
}


def _constants(name: str, weights, bias, multiplier, shift) -> str:
    return "".join([
        c_array("int8_t", f"{name}_weights", weights),
        c_array("int32_t", f"{name}_bias", bias) if bias is not None else "",
        c_array("int32_t", f"{name}_multiplier", multiplier),
        c_array("int32_t", f"{name}_shift", shift),
    ])


def _bias_name(name: str, bias) -> str:
    return f"{name}_bias" if bias is not None else "NULL"


def _struct(ctype: str, name: str, fields: list) -> str:
    values = ", ".join(v if isinstance(v, str) else c_int(v) for v in fields)
    return f"static const {ctype} {name}_params = {{\n    {values},\n}};\n"


def _braces(values) -> str:
    return "{" + ", ".join(c_int(v) for v in values) + "}"


def c_dims(shape) -> str:
    """An ehd_dims initializer: NHWC, a shorter shape gets leading 1s."""
    n, h, w, c = (1,) * (4 - len(shape)) + tuple(int(s) for s in shape)
    return f"{{{n}, {h}, {w}, {c}}}"


def c_array(ctype: str, name: str, values) -> str:
    """A static const C array of `values` (uint32 in hex)."""
    flat = np.asarray(values).reshape(-1)
    fmt = _hex_literal if ctype == "uint32_t" else c_int
    rows = [", ".join(fmt(v) for v in flat[i : i + 16]) for i in range(0, flat.size, 16)]
    body = ",\n    ".join(rows)
    return f"static const {ctype} {name}[{flat.size}] = {{\n    {body},\n}};\n"


def c_int(v) -> str:
    # C has no negative literals: -2147483648 would be a long, so spell INT32_MIN out.
    v = int(v)
    return "(-2147483647 - 1)" if v == -(2**31) else str(v)


def c_float(v) -> str:
    """A float32 value as an exact C hex-float literal (no decimal rounding on the way)."""
    f = np.float32(v)
    if not np.isfinite(f):
        raise ValueError(f"cannot write the non-finite float {v!r} as a C constant")
    return f"{float(f).hex()}f"


def _hex_literal(v) -> str:
    return f"0x{int(v):08x}u"
