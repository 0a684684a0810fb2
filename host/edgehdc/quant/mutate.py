"""Seeded field-level mutations of a .tflite flatbuffer, for fuzzing the importer and the oracles.

`mutate(model_bytes, rng)` unpacks the model with the schema's object API,
changes one field to a value chosen to hit edge cases (zero, negative, one
past a limit, huge, NaN, another valid index, ...), packs it again and
returns the bytes and a one-line description. Unlike bit flips, every mutant
is a well-formed flatbuffer, so it gets past the parser and reaches the
importer's checks and the interpreters. The fields:

- operator options: strides, dilations, padding, filter size, depth
  multiplier, fused activation, keep_dims, beta, FULLY_CONNECTED's format flags
- operator wiring: an input or output tensor index, the opcode index, an
  input dropped or added
- operator codes: the builtin operator, its version
- tensors: one shape dimension, the type, the buffer index, a scale, a zero
  point, the quantized dimension, the quantization dropped
- buffers: data one byte shorter or longer, or emptied
- subgraph inputs and outputs
"""

from __future__ import annotations

import struct

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

_INT_EDGES = (0, -1, 1, 2, 3, 7, 255, 1 << 15, (1 << 31) - 1, -(1 << 31))
_FLOAT_EDGES = (0.0, -1.0, float("nan"), float("inf"), 1e-38, 1e38, 1e-12, 1e6)
_OPTION_FIELDS = ("padding", "strideW", "strideH", "dilationWFactor", "dilationHFactor", "depthMultiplier",
                  "filterWidth", "filterHeight", "fusedActivationFunction", "keepDims", "beta",
                  "keepNumDims", "weightsFormat", "asymmetricQuantizeInputs", "potScaleInt16")
_BUILTINS = [v for k, v in sorted(vars(fb.BuiltinOperator).items()) if not k.startswith("_")]
_TYPES = [v for k, v in sorted(vars(fb.TensorType).items()) if not k.startswith("_")]


def mutate(model_bytes: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    """One field of `model_bytes` changed; returns (mutant, description).

    A value the field's flatbuffer type cannot hold (300 in a byte) is drawn again."""
    for _ in range(100):
        model = fb.ModelT.InitFromObj(fb.Model.GetRootAs(bytes(model_bytes), 0))
        sites = list(_sites(model).values())
        kind = sites[int(rng.integers(len(sites)))]  # each kind of field as likely as the others
        description = kind[int(rng.integers(len(kind)))](rng)
        builder = flatbuffers.Builder(1024)
        try:
            builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        except (struct.error, OverflowError, TypeError, ValueError):
            continue
        return bytes(builder.Output()), description
    raise ValueError("no packable mutation found in 100 draws")


def _sites(model: fb.ModelT) -> dict[str, list]:
    """Closures rng -> description by kind of field, each changing one field of `model` in place."""
    sub = model.subgraphs[0]
    n = len(sub.tensors)
    sites: dict[str, list] = {k: [] for k in ("options", "wiring", "opcodes", "shapes", "types", "buffer indices",
                                             "quantization", "buffers", "subgraph io")}
    for i, op in enumerate(sub.operators):
        options = op.builtinOptions
        for name in _OPTION_FIELDS:
            if options is not None and hasattr(options, name):
                sites["options"].append(_field(options, name, f"operator {i} {name}"))
        for role in ("inputs", "outputs"):
            for j in range(len(getattr(op, role))):
                sites["wiring"].append(_index(op, role, j, n, f"operator {i} {role}[{j}]"))
        sites["wiring"].append(_index_attr(op, "opcodeIndex", len(model.operatorCodes), f"operator {i} opcodeIndex"))
        sites["wiring"].append(_resize(op, "inputs", n, f"operator {i} inputs"))
    for i, code in enumerate(model.operatorCodes):
        sites["opcodes"].append(_opcode(code, f"operator code {i}"))
        sites["opcodes"].append(_field(code, "version", f"operator code {i} version"))
    for i, t in enumerate(sub.tensors):
        where = f"tensor {i}"
        sites["shapes"].extend(_dimension(t, j, f"{where} shape[{j}]") for j in range(len(t.shape)))
        sites["types"].append(_choice(t, "type", _TYPES, f"{where} type"))
        sites["buffer indices"].append(_index_attr(t, "buffer", len(model.buffers), f"{where} buffer"))
        q = t.quantization
        if q is not None and q.scale is not None and len(q.scale):
            sites["quantization"] += [_element(q, "scale", _scale_values, f"{where} scale"),
                                      _element(q, "zeroPoint", _zero_point_values, f"{where} zeroPoint"),
                                      _field(q, "quantizedDimension", f"{where} quantizedDimension"),
                                      _drop_quantization(t, f"{where} quantization")]
    for i, b in enumerate(model.buffers):
        if b.data is not None and len(b.data):
            sites["buffers"].append(_buffer(b, f"buffer {i} data"))
    for role in ("inputs", "outputs"):
        sites["subgraph io"].extend(_index(sub, role, j, n, f"subgraph {role}[{j}]")
                                    for j in range(len(getattr(sub, role))))
    return {k: v for k, v in sites.items() if v}


def _set(obj, name: str, value, where: str) -> str:
    old = getattr(obj, name)
    setattr(obj, name, value)
    return f"{where}: {_show(old)} -> {_show(value)}"


def _show(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _int_values(old: int) -> list[int]:
    return [v for v in (*_INT_EDGES, old + 1, old - 1, 2 * old, old * 100) if v != old]


def _field(obj, name: str, where: str):
    def apply(rng):
        old = getattr(obj, name)
        if isinstance(old, bool):
            value = not old
        elif isinstance(old, float):
            values = [*_FLOAT_EDGES, old * 2, old / 2, -old]
            value = values[int(rng.integers(len(values)))]
        else:
            values = _int_values(int(old))
            value = int(values[int(rng.integers(len(values)))])
        return _set(obj, name, value, where)
    return apply


def _choice(obj, name: str, values, where: str):
    def apply(rng):
        others = [v for v in values if v != getattr(obj, name)]
        return _set(obj, name, others[int(rng.integers(len(others)))], where)
    return apply


def _index_values(old: int, n: int, rng) -> list[int]:
    return [int(rng.integers(n)) if n else 0, -1, n, n + 1000, old + 1, old - 1, (1 << 31) - 1]


def _index(obj, name: str, j: int, n: int, where: str):
    def apply(rng):
        vector = [int(v) for v in getattr(obj, name)]
        old = vector[j]
        values = _index_values(old, n, rng)
        vector[j] = values[int(rng.integers(len(values)))]
        setattr(obj, name, vector)
        return f"{where}: {old} -> {vector[j]}"
    return apply


def _index_attr(obj, name: str, n: int, where: str):
    def apply(rng):
        values = _index_values(int(getattr(obj, name)), n, rng)
        return _set(obj, name, int(values[int(rng.integers(len(values)))]), where)
    return apply


def _resize(op, name: str, n: int, where: str):
    def apply(rng):
        old = [int(v) for v in getattr(op, name)]
        new = old[:-1] if old and rng.random() < 0.5 else [*old, int(rng.integers(-1, n))]
        setattr(op, name, new)
        return f"{where}: {old} -> {new}"
    return apply


def _opcode(code, where: str):
    def apply(rng):
        values = [*_BUILTINS, 1000, -1]
        value = int(values[int(rng.integers(len(values)))])
        old = max(code.builtinCode, code.deprecatedBuiltinCode)
        code.builtinCode = value
        code.deprecatedBuiltinCode = min(value, 127) if value >= 0 else value
        return f"{where} builtin: {old} -> {value}"
    return apply


def _dimension(t, j: int, where: str):
    def apply(rng):
        old = [int(d) for d in t.shape]
        values = [0, -1, 1, old[j] + 1, old[j] - 1, 2 * old[j], 1 << 16, (1 << 31) - 1, 1 << 20]
        t.shape = np.array(old, np.int32)
        t.shape[j] = values[int(rng.integers(len(values)))]
        return f"{where}: {old[j]} -> {int(t.shape[j])}"
    return apply


def _scale_values(old: float) -> list[float]:
    return [*_FLOAT_EDGES, old * 2, old / 2, -old, float(np.nextafter(np.float32(old), np.float32(np.inf)))]


def _zero_point_values(old: int) -> list[int]:
    return [-129, 128, -128, 127, old + 1, old - 1, 1 << 20, -(1 << 31)]


def _element(q, name: str, values_for, where: str):
    def apply(rng):
        values = np.array(getattr(q, name), copy=True)
        j = int(rng.integers(len(values)))
        old = values[j].item()
        choices = values_for(old)
        value = choices[int(rng.integers(len(choices)))]
        if rng.random() < 0.2:  # one value more or fewer than the others
            values = np.append(values, value) if rng.random() < 0.5 else values[:-1]
            setattr(q, name, values)
            return f"{where}: {len(values) - 1 if len(values) else 1} values -> {len(values)}"
        values[j] = value
        setattr(q, name, values)
        return f"{where}[{j}]: {_show(old)} -> {_show(values[j].item())}"
    return apply


def _drop_quantization(t, where: str):
    def apply(rng):
        t.quantization = None
        return f"{where}: dropped"
    return apply


def _buffer(b, where: str):
    def apply(rng):
        old = len(b.data)
        kind = int(rng.integers(3))
        if kind == 0:
            b.data = np.asarray(b.data)[:-1]
        elif kind == 1:
            b.data = np.append(np.asarray(b.data, np.uint8), np.uint8(rng.integers(256)))
        else:
            b.data = None
        return f"{where}: {old} bytes -> {0 if b.data is None else len(b.data)}"
    return apply
