"""Write and read .tflite flatbuffers for the IR op set (schema object API of tflite_micro).

`to_tflite(graph)` builds a version-3 model: buffer 0 empty, one buffer per
constant (16-byte aligned, as the converter does), builtin operator codes with
both the deprecated and the new code field, per-channel `quantized_dimension`.
`from_tflite(data)` reads such a model back, and real converter output too:
the patterns `edgehdc.quant.fold` knows are folded into the op set, tensor
indices are kept. Anything outside the op set raises `UnsupportedOpError`
naming it (and its operator index); corrupt bytes raise `ValueError`.
"""

from __future__ import annotations

import math

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

from edgehdc.quant.arith import lower
from edgehdc.quant.fold import FOLDABLE, RawOp, UnsupportedOpError, fold
from edgehdc.quant.ir import (
    Activation,
    AddOptions,
    Conv2DOptions,
    DepthwiseConv2DOptions,
    FullyConnectedOptions,
    Graph,
    MeanOptions,
    Op,
    OpKind,
    Padding,
    Pool2DOptions,
    QuantParams,
    SoftmaxOptions,
    Tensor,
)

SCHEMA_VERSION = 3
_IDENTIFIER = b"TFL3"


_DTYPES = {"int8": (fb.TensorType.INT8, np.int8), "int32": (fb.TensorType.INT32, np.int32),
           "float32": (fb.TensorType.FLOAT32, np.float32)}
_DTYPE_NAMES = {code: name for name, (code, _) in _DTYPES.items()}
_OPCODES = {kind: getattr(fb.BuiltinOperator, kind.value) for kind in OpKind}
_OPKINDS = {code: kind for kind, code in _OPCODES.items()}
# Operator versions the converter writes for int8 kernels.
_VERSIONS = {OpKind.CONV_2D: 3, OpKind.DEPTHWISE_CONV_2D: 3, OpKind.FULLY_CONNECTED: 4,
             OpKind.AVERAGE_POOL_2D: 2, OpKind.MAX_POOL_2D: 2, OpKind.ADD: 2, OpKind.RESHAPE: 1,
             OpKind.SOFTMAX: 2, OpKind.QUANTIZE: 2, OpKind.DEQUANTIZE: 2, OpKind.PAD: 2,
             OpKind.MEAN: 2, OpKind.RELU: 2, OpKind.RELU6: 2}
_ACTIVATIONS = {Activation.NONE: fb.ActivationFunctionType.NONE,
                Activation.RELU: fb.ActivationFunctionType.RELU,
                Activation.RELU6: fb.ActivationFunctionType.RELU6}
_PADDINGS = {Padding.SAME: fb.Padding.SAME, Padding.VALID: fb.Padding.VALID}
# Ops with builtin options: (options class, union tag). The others are written without.
_OPTIONS = {OpKind.CONV_2D: (fb.Conv2DOptionsT, fb.BuiltinOptions.Conv2DOptions),
            OpKind.DEPTHWISE_CONV_2D: (fb.DepthwiseConv2DOptionsT, fb.BuiltinOptions.DepthwiseConv2DOptions),
            OpKind.FULLY_CONNECTED: (fb.FullyConnectedOptionsT, fb.BuiltinOptions.FullyConnectedOptions),
            OpKind.AVERAGE_POOL_2D: (fb.Pool2DOptionsT, fb.BuiltinOptions.Pool2DOptions),
            OpKind.MAX_POOL_2D: (fb.Pool2DOptionsT, fb.BuiltinOptions.Pool2DOptions),
            OpKind.ADD: (fb.AddOptionsT, fb.BuiltinOptions.AddOptions),
            OpKind.SOFTMAX: (fb.SoftmaxOptionsT, fb.BuiltinOptions.SoftmaxOptions),
            OpKind.MEAN: (fb.ReducerOptionsT, fb.BuiltinOptions.ReducerOptions)}
_CONVS = (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D)
_POOLS = (OpKind.AVERAGE_POOL_2D, OpKind.MAX_POOL_2D)
# Schema field names (as the .tflite schema and its docs spell them) -> object API attributes.
_CAMEL = {"stride_h": "strideH", "stride_w": "strideW", "filter_height": "filterHeight",
          "filter_width": "filterWidth", "dilation_h_factor": "dilationHFactor",
          "dilation_w_factor": "dilationWFactor", "depth_multiplier": "depthMultiplier"}
_INT32_MAX = (1 << 31) - 1
_WEIGHTED = (*_CONVS, OpKind.FULLY_CONNECTED)
_OP_NAMES = {v: k for k, v in vars(fb.BuiltinOperator).items() if not k.startswith("_")}
_TYPE_NAMES = {v: k for k, v in vars(fb.TensorType).items() if not k.startswith("_")}
_FOLDABLE_CODES = {getattr(fb.BuiltinOperator, name): name for name in FOLDABLE}


class _AlignedBuffer(fb.BufferT):
    """BufferT whose data vector starts on a 16-byte boundary (int32 biases read in place)."""

    def Pack(self, builder):  # noqa: N802 (flatbuffers naming)
        data = None
        if self.data is not None:
            raw = bytes(self.data)
            builder.StartVector(1, len(raw), 16)
            builder.head -= len(raw)
            builder.Bytes[builder.head : builder.head + len(raw)] = raw
            data = builder.EndVector()
        fb.BufferStart(builder)
        if data is not None:
            fb.BufferAddData(builder, data)
        return fb.BufferEnd(builder)


# -- writing -----------------------------------------------------------------


def to_tflite(graph: Graph) -> bytes:
    """Serialize `graph` as a .tflite model (one subgraph)."""
    model = fb.ModelT()
    model.version = SCHEMA_VERSION
    model.description = "edgehdc"
    model.buffers = [_AlignedBuffer()]
    model.operatorCodes = []
    opcode_index: dict[OpKind, int] = {}
    sub = fb.SubGraphT()
    sub.name = "main"
    sub.tensors = [_tensor_t(t, i, model.buffers) for i, t in enumerate(graph.tensors)]
    sub.operators = []
    for op in graph.ops:
        kind = OpKind(op.kind)
        if kind not in opcode_index:
            code = fb.OperatorCodeT()
            code.builtinCode = code.deprecatedBuiltinCode = _OPCODES[kind]
            code.version = _VERSIONS[kind]
            opcode_index[kind] = len(model.operatorCodes)
            model.operatorCodes.append(code)
        sub.operators.append(_operator_t(op, kind, opcode_index[kind]))
    sub.inputs, sub.outputs = list(graph.inputs), list(graph.outputs)
    model.subgraphs = [sub]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=_IDENTIFIER)
    return bytes(builder.Output())


def _tensor_t(t: Tensor, index: int, buffers: list) -> fb.TensorT:
    if t.dtype not in _DTYPES:
        raise ValueError(f"tensor {index} {t.name!r}: dtype {t.dtype!r} cannot be written")
    tt = fb.TensorT()
    tt.name = t.name
    tt.shape = [int(d) for d in t.shape]
    tt.type = _DTYPES[t.dtype][0]
    tt.buffer = 0
    if t.data is not None:
        data = np.asarray(t.data)
        if data.dtype != _DTYPES[t.dtype][1] or tuple(data.shape) != tuple(t.shape):
            raise ValueError(
                f"tensor {index} {t.name!r}: data {data.dtype}{data.shape} != {t.dtype}{t.shape}"
            )
        tt.buffer = len(buffers)
        buffers.append(_AlignedBuffer(data=data.astype(data.dtype.newbyteorder("<")).tobytes()))
    if t.quant is not None:
        q = fb.QuantizationParametersT()
        q.scale = [float(s) for s in np.asarray(t.quant.scale, np.float32).reshape(-1)]
        q.zeroPoint = [int(z) for z in np.asarray(t.quant.zero_point).reshape(-1)]
        q.quantizedDimension = int(t.quant.axis)
        tt.quantization = q
    return tt


def _operator_t(op: Op, kind: OpKind, opcode_index: int) -> fb.OperatorT:
    o = fb.OperatorT()
    o.opcodeIndex = opcode_index
    inputs = list(op.inputs)
    if kind in (OpKind.CONV_2D, OpKind.FULLY_CONNECTED) and len(inputs) == 2:
        inputs.append(-1)  # optional bias, as the converter marks it (TFLM crashes on it for depthwise)
    o.inputs, o.outputs = inputs, list(op.outputs)
    if kind in _OPTIONS:
        o.builtinOptionsType = _OPTIONS[kind][1]
        o.builtinOptions = _options_t(kind, op.options)
    elif op.options is not None:
        raise ValueError(f"{kind.value} takes no options, got {type(op.options).__name__}")
    return o


def _options_t(kind: OpKind, opts):
    b = _OPTIONS[kind][0]()
    if kind is OpKind.SOFTMAX:
        b.beta = float(_checked(opts if opts is not None else SoftmaxOptions(), SoftmaxOptions, kind).beta)
        return b
    if kind is OpKind.MEAN:
        b.keepDims = bool(_checked(opts if opts is not None else MeanOptions(), MeanOptions, kind).keep_dims)
        return b
    if kind is OpKind.FULLY_CONNECTED:
        opts = _checked(opts if opts is not None else FullyConnectedOptions(), FullyConnectedOptions, kind)
    elif kind is OpKind.ADD:
        opts = _checked(opts if opts is not None else AddOptions(), AddOptions, kind)
    elif kind in _CONVS:
        depthwise = kind is OpKind.DEPTHWISE_CONV_2D
        opts = _checked(opts, DepthwiseConv2DOptions if depthwise else Conv2DOptions, kind)
        if depthwise:
            b.depthMultiplier = opts.depth_multiplier
        b.dilationHFactor, b.dilationWFactor = opts.dilation
    else:
        opts = _checked(opts, Pool2DOptions, kind)
        b.filterHeight, b.filterWidth = opts.filter
    if kind in _CONVS or kind in (OpKind.AVERAGE_POOL_2D, OpKind.MAX_POOL_2D):
        b.padding = _PADDINGS[Padding(opts.padding)]
        b.strideH, b.strideW = opts.stride
    b.fusedActivationFunction = _ACTIVATIONS[Activation(opts.activation)]
    return b


def _checked(opts, cls, kind: OpKind):
    if not isinstance(opts, cls):
        raise ValueError(f"{kind.value} needs {cls.__name__}, got {type(opts).__name__}")
    return opts


# -- reading -----------------------------------------------------------------


def from_tflite(data: bytes) -> Graph:
    """Parse a .tflite model (first subgraph) into the IR.

    Converter patterns are folded (`edgehdc.quant.fold`); tensor indices are
    those of the file, so tensor i of the graph is tensor i of TFLM (an
    intermediate that folding removed stays, produced by no op). Every op is
    checked with `lower`, so what loads also runs. Raises ValueError for bytes
    that are not a well-formed model and UnsupportedOpError for operators,
    types or options outside the op set.
    """
    model = _unpack(data)
    try:
        return _read_graph(model)
    except ValueError:
        raise
    except Exception as e:  # a field the object API accepted but is nonsense (fuzzed bytes)
        raise ValueError(f"corrupt .tflite model: {type(e).__name__}: {e}") from None


def _read_graph(model: fb.ModelT) -> Graph:
    if model.subgraphs is None or len(model.subgraphs) != 1:
        raise UnsupportedOpError("only models with exactly one subgraph are supported")
    sub = model.subgraphs[0]
    graph = Graph()
    for i, t in enumerate(sub.tensors if sub.tensors is not None else []):
        graph.add_tensor(_read_tensor(model, t, i))
    n = len(graph.tensors)
    raw = [(i, _read_op(model, o, i, n)) for i, o in enumerate(sub.operators if sub.operators is not None else [])]
    graph.inputs = _indices(sub.inputs, n, "subgraph input")
    graph.outputs = _indices(sub.outputs, n, "subgraph output")
    ops = fold(graph, raw)
    graph.ops = [op for _, op in ops]
    for index, op in ops:
        _check_op(graph, index, op)
    produced = {op.outputs[0] for op in graph.ops} | set(graph.inputs)
    for t in graph.outputs:
        if t not in produced:
            raise UnsupportedOpError(f"subgraph output {t} {graph.tensors[t].name!r} is computed by no operator")
    return graph


def _check_op(graph: Graph, index: int, op: Op) -> None:
    """Only int8 activations (float32 into QUANTIZE, out of DEQUANTIZE); then `lower` must accept it."""
    kind = OpKind(op.kind)
    for role, tensors in (("input", op.inputs[:1]), ("output", op.outputs)):
        for t in tensors:
            dtype = graph.tensors[t].dtype
            allowed = ("float32", "int8") if (kind, role) in ((OpKind.QUANTIZE, "input"),
                                                              (OpKind.DEQUANTIZE, "output")) else ("int8",)
            if dtype not in allowed:
                raise UnsupportedOpError(
                    f"operator {index} ({kind.value}): {role} tensor {t} {graph.tensors[t].name!r} is "
                    f"{dtype.upper()}; only int8 models are supported (float32 only into QUANTIZE "
                    "or out of DEQUANTIZE)")
    if kind in _CONVS:
        _check_dilation(graph, index, op)
    try:
        lower(graph, op)
    except ValueError as e:
        raise UnsupportedOpError(f"operator {index} ({kind.value}): {e}") from None


def _check_dilation(graph: Graph, index: int, op: Op) -> None:
    """Refuse a dilated kernel that reaches far beyond the input: with a dilation factor at
    least the input size, every tap but one of each window falls in the padding (no converter
    writes that; a corrupted field does, and interpreters overflow on it)."""
    x, w = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    if len(x.shape) != 4 or len(w.shape) != 4:
        return  # `lower` names the shape problem
    for axis, (field, size, taps, d) in enumerate(zip(("dilation_h_factor", "dilation_w_factor"), x.shape[1:3],
                                                      w.shape[1:3], op.options.dilation)):
        span = (taps - 1) * d + 1
        if taps > 1 and d > 1 and (d >= size or span > _INT32_MAX // 2):
            raise UnsupportedOpError(
                f"operator {index} ({OpKind(op.kind).value}): {field} {d} is not smaller than the input "
                f"{('height', 'width')[axis]} {size}: the {taps}-tap kernel spans {span}, far beyond the "
                "input, and every tap but one of each window falls in the padding")


def _unpack(data: bytes) -> fb.ModelT:
    data = bytes(data)
    if len(data) < 8:
        raise ValueError(f"not a .tflite model: only {len(data)} bytes")
    if data[4:8] != _IDENTIFIER:
        raise ValueError(f"not a .tflite model: file identifier {data[4:8]!r}, expected {_IDENTIFIER!r}")
    root = int.from_bytes(data[:4], "little")
    if root + 4 > len(data):
        raise ValueError("corrupt .tflite model: root table outside the data (truncated?)")
    try:
        model = fb.ModelT.InitFromObj(fb.Model.GetRootAs(data, 0))
    except Exception as e:  # flatbuffers raises struct/Index/Unicode errors on bad offsets
        raise ValueError(f"corrupt or truncated .tflite model: {type(e).__name__}: {e}") from None
    if model.version != SCHEMA_VERSION:
        raise ValueError(f"unsupported .tflite schema version {model.version}, expected {SCHEMA_VERSION}")
    return model


def _indices(values, n: int, what: str) -> list[int]:
    out = [int(v) for v in (values if values is not None else [])]
    for v in out:
        if not 0 <= v < n:
            raise ValueError(f"corrupt .tflite model: {what} index {v} outside {n} tensors")
    return out


def _read_tensor(model: fb.ModelT, t: fb.TensorT, index: int) -> Tensor:
    name = t.name.decode("utf-8", "replace") if isinstance(t.name, bytes) else str(t.name or f"t{index}")
    if t.type not in _DTYPE_NAMES:
        type_name = _TYPE_NAMES.get(t.type, f"type code {t.type}")
        raise UnsupportedOpError(f"tensor {index} {name!r} is {type_name}; only int8 models "
                                 "(int8 activations and weights, int32 biases, float32 in/out) are supported")
    dtype = _DTYPE_NAMES[t.type]
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
    if any(d < 0 for d in shape):
        raise UnsupportedOpError(f"tensor {index} {name!r}: dynamic shape {shape}")
    if math.prod(shape) > _INT32_MAX:
        raise UnsupportedOpError(f"tensor {index} {name!r}: shape {shape} has {math.prod(shape)} elements, "
                                 "more than an int32 element count holds")
    data = None
    buffers = model.buffers if model.buffers is not None else []
    if not 0 <= t.buffer < max(len(buffers), 1):
        raise ValueError(f"corrupt .tflite model: tensor {index} {name!r} names buffer {t.buffer}")
    if t.buffer and buffers[t.buffer].data is not None and len(buffers[t.buffer].data):
        np_type = _DTYPES[dtype][1]
        raw = np.asarray(buffers[t.buffer].data, np.uint8).tobytes()
        expected = int(np.prod(shape, dtype=np.int64)) * np.dtype(np_type).itemsize
        if len(raw) != expected:
            raise ValueError(
                f"corrupt .tflite model: tensor {index} {name!r} has {len(raw)} bytes, expected {expected}"
            )
        data = np.frombuffer(raw, np.dtype(np_type).newbyteorder("<")).astype(np_type).reshape(shape)
    return Tensor(name=name, shape=shape, dtype=dtype, quant=_read_quant(t.quantization), data=data)


def _read_quant(q: fb.QuantizationParametersT | None) -> QuantParams | None:
    if q is None or q.scale is None or len(q.scale) == 0:
        return None
    scale = np.asarray(q.scale, np.float32).reshape(-1)
    zp = np.asarray(q.zeroPoint if q.zeroPoint is not None else [0], np.int64).reshape(-1)
    if zp.size == 1 and scale.size > 1:
        zp = np.repeat(zp, scale.size)
    if zp.size != scale.size:
        raise ValueError(f"corrupt .tflite model: {scale.size} scales but {zp.size} zero points")
    return QuantParams(scale, zp, int(q.quantizedDimension))


def _read_op(model: fb.ModelT, o: fb.OperatorT, index: int, n_tensors: int) -> Op | RawOp:
    codes = model.operatorCodes if model.operatorCodes is not None else []
    if not 0 <= o.opcodeIndex < len(codes):
        raise ValueError(f"corrupt .tflite model: operator {index} has opcode index {o.opcodeIndex}")
    code_t = codes[o.opcodeIndex]
    code = max(code_t.builtinCode, code_t.deprecatedBuiltinCode)
    inputs = [int(i) for i in (o.inputs if o.inputs is not None else [])]
    outputs = _indices(o.outputs, n_tensors, f"operator {index} output")
    if len(outputs) != 1:
        raise ValueError(f"corrupt .tflite model: operator {index} has {len(outputs)} outputs, expected 1")
    if code in _FOLDABLE_CODES:
        return RawOp(_FOLDABLE_CODES[code], _indices(inputs, n_tensors, f"operator {index} input"),
                     outputs, o.builtinOptions)
    if code not in _OPKINDS:
        name = _OP_NAMES.get(code, f"builtin code {code}")
        if code == fb.BuiltinOperator.CUSTOM:
            custom = code_t.customCode
            name = f"CUSTOM {custom.decode('utf-8', 'replace') if isinstance(custom, bytes) else custom!r}"
        raise UnsupportedOpError(f"operator {index}: {name} is not supported")
    kind = _OPKINDS[code]
    if kind in _WEIGHTED and len(inputs) == 3 and inputs[2] == -1:
        inputs = inputs[:2]  # no bias
    inputs = _indices(inputs, n_tensors, f"operator {index} input")
    if not inputs:
        raise ValueError(f"corrupt .tflite model: operator {index} ({kind.value}) has no inputs")
    return Op(kind, inputs, outputs, _read_options(kind, o, index))


def _read_options(kind: OpKind, o: fb.OperatorT, index: int):
    b, where = o.builtinOptions, f"operator {index} ({kind.value})"
    if kind not in _OPTIONS:
        return None  # RESHAPE's new_shape is the output shape; the rest have none
    if b is None and kind in (OpKind.ADD, OpKind.SOFTMAX, OpKind.MEAN):
        b = _OPTIONS[kind][0]()  # TFLM's parser falls back to the defaults
    if not isinstance(b, _OPTIONS[kind][0]):
        raise ValueError(f"corrupt .tflite model: {where} has no {_OPTIONS[kind][0].__name__}")
    if kind is OpKind.SOFTMAX:
        return SoftmaxOptions(beta=float(b.beta))
    if kind is OpKind.MEAN:
        return MeanOptions(keep_dims=bool(b.keepDims))
    act = {v: k for k, v in _ACTIVATIONS.items()}.get(b.fusedActivationFunction)
    if act is None:
        raise UnsupportedOpError(f"{where}: fused activation {b.fusedActivationFunction} is not supported")
    if kind is OpKind.ADD:
        return AddOptions(activation=act)
    if kind is OpKind.FULLY_CONNECTED:
        if b.keepNumDims or b.weightsFormat != 0:
            raise UnsupportedOpError(f"{where}: keep_num_dims or shuffled weights are not supported")
        return FullyConnectedOptions(activation=act)
    padding = {v: k for k, v in _PADDINGS.items()}.get(b.padding)
    if padding is None:
        raise UnsupportedOpError(f"{where}: padding {b.padding} is not supported")
    fields = ["stride_h", "stride_w"] + (["filter_height", "filter_width"] if kind in _POOLS else
                                         ["dilation_h_factor", "dilation_w_factor"])
    if kind is OpKind.DEPTHWISE_CONV_2D:
        fields.append("depth_multiplier")
    values = {f: int(getattr(b, _CAMEL[f])) for f in fields}
    for f, v in values.items():
        if v < 1:
            raise UnsupportedOpError(f"{where}: {f} is {v}; it must be at least 1")
    stride = (values["stride_h"], values["stride_w"])
    if kind in _POOLS:
        return Pool2DOptions((values["filter_height"], values["filter_width"]), stride, padding, act)
    dilation = (values["dilation_h_factor"], values["dilation_w_factor"])
    if kind is OpKind.DEPTHWISE_CONV_2D:
        return DepthwiseConv2DOptions(stride, padding, act, dilation, values["depth_multiplier"])
    return Conv2DOptions(stride, padding, act, dilation)
