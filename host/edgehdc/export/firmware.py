"""Generate the firmware's model and HDC sources (`ehd_generated.c/.h`) from the host artifacts.

The output directory is what the firmware build reads through
EDGEHDC_MODEL_DIR (see docs/model-format.md). Integer parameters come from
`edgehdc.quant.arith.lower`, the same function the Numba mirror uses.
"""

from __future__ import annotations

from pathlib import Path

from edgehdc.export.arena import DTYPE_BYTES, activation_tensors, data_inputs, plan_arena
from edgehdc.export.scratch import board_core
from edgehdc.export.budget import check_sources
from edgehdc.export.integrity import integrity_source
from edgehdc.export.layer_params import c_array as _array
from edgehdc.export.layer_params import c_dims as _dims
from edgehdc.export.layer_params import layer_params
from edgehdc.fileio import atomic_write_text
from edgehdc.quant.arith import lower
from edgehdc.quant.ir import Graph, Op, OpKind

HEADER_NAME = "ehd_generated.h"
SOURCE_NAME = "ehd_generated.c"
NO_TENSOR = 0xFFFF  # EHD_NO_TENSOR
MAX_LAYER_INPUTS = 2  # EHD_MAX_LAYER_INPUTS
# The runtime's layer kinds (ehd_op); RESHAPE is an arena alias, no layer.
_C_OP = {kind: f"EHD_OP_{kind.value}" for kind in OpKind if kind is not OpKind.RESHAPE}
_C_DTYPE = {"int8": "EHD_DTYPE_INT8", "float32": "EHD_DTYPE_FLOAT32"}


def write_firmware_sources(graph: Graph, encoder, classifier, out_dir, model_id: bytes,
                           backend: str = "portable", core: str | None = None,
                           board: str | None = None) -> list[Path]:
    """Writes ehd_generated.h/.c into out_dir; returns their paths.

    With an HDC head, `graph.outputs[0]` is the embedding the HDC encoder
    reads; `encoder` is an `edgehdc.hdc` encoder, `classifier` a fitted
    `edgehdc.hdc.Centroid` (or an `edgehdc.hdc.Learner` for a device that
    learns). `encoder=None, classifier=None` exports a plain int8 runtime: the
    device returns the model's output tensors. A graph the firmware cannot run
    is refused here (`check_runnable`), never on the board.

    With `board` (a platformio.ini environment), a model whose tables or arena
    exceed that board's flash or RAM raises `ModelTooBigError` with the numbers
    (edgehdc.export.budget) and nothing is written. The arena holds each layer's
    scratch for `backend` on `core` (default: the board's core, else cortex-m4);
    a firmware built with another backend than planned here gets EHD_ERR_ARG
    from the first layer whose scratch falls short.
    """
    if len(model_id) != 8:
        raise ValueError(f"model_id must be 8 bytes, got {len(model_id)}")
    if (encoder is None) != (classifier is None):
        raise ValueError("pass both an HDC encoder and a classifier, or neither (a plain int8 model)")
    check_runnable(graph, hdc=encoder is not None)
    core = core or (board_core(board) if board is not None else "cortex-m4")
    plan = plan_arena(graph, backend, core)  # each layer's scratch for this backend on this core
    out_dir = Path(out_dir)
    header = _header(plan.size, model_id, graph)
    source = _source(graph, plan, encoder, classifier, model_id)
    source += integrity_source(source)  # CRC-32 of the tables, checked at boot
    if board is not None:
        check_sources(header, source, board)
    return [atomic_write_text(out_dir / HEADER_NAME, header), atomic_write_text(out_dir / SOURCE_NAME, source)]


class UnrunnableModelError(ValueError):
    """The firmware cannot run this graph; the message names the op and its index."""


def check_runnable(graph: Graph, hdc: bool = False) -> None:
    """Raises UnrunnableModelError naming the first op (and index) the firmware cannot run."""
    if len(graph.inputs) != 1:
        raise UnrunnableModelError(f"the firmware runs models with one input, this one has {len(graph.inputs)}")
    if not graph.outputs:
        raise UnrunnableModelError("the model has no output")
    if len(graph.tensors) >= NO_TENSOR:
        raise UnrunnableModelError(f"{len(graph.tensors)} tensors: the firmware indexes fewer than {NO_TENSOR}")
    for t in [*graph.inputs, *graph.outputs]:
        _check_activation(graph, t, "model input/output")
    if hdc and graph.tensors[graph.outputs[0]].dtype != "int8":
        raise UnrunnableModelError("the HDC head reads the first model output, which must be int8")
    for n, op in enumerate(graph.ops):
        where = f"op {n} ({OpKind(op.kind).value})"
        try:
            lower(graph, op)
        except Exception as e:  # the mirror's own refusal, with the op named
            raise UnrunnableModelError(f"{where}: {e}") from e
        _check_op(graph, op, where)


def _check_activation(graph: Graph, t: int, where: str) -> None:
    tensor = graph.tensors[t]
    if tensor.is_constant:
        raise UnrunnableModelError(f"{where}: tensor {t} is a constant, the firmware needs an activation")
    if tensor.dtype not in DTYPE_BYTES:
        raise UnrunnableModelError(f"{where}: tensor {t} is {tensor.dtype}; the firmware runs int8 and float32")
    if len(tensor.shape) > 4:
        raise UnrunnableModelError(f"{where}: tensor {t} has rank {len(tensor.shape)}; the firmware runs rank <= 4")


def _check_op(graph: Graph, op: Op, where: str) -> None:
    kind = OpKind(op.kind)
    if kind not in _C_OP and kind is not OpKind.RESHAPE:
        raise UnrunnableModelError(f"{where}: the firmware has no kernel for this op")
    for k, t in enumerate(data_inputs(op)):
        if graph.tensors[t].is_constant:
            if kind is not OpKind.ADD or graph.tensors[t].dtype != "int8" or len(graph.tensors[t].shape) > 4:
                raise UnrunnableModelError(f"{where}: input {k} (tensor {t}) is a constant; the firmware "
                                           "takes constant data operands only in ADD (int8)")
            continue
        _check_activation(graph, t, where)
        if graph.tensors[t].dtype == "float32" and kind not in (OpKind.QUANTIZE, OpKind.RESHAPE):
            raise UnrunnableModelError(f"{where}: float32 input (tensor {t}); only QUANTIZE reads float32")
    _check_activation(graph, op.outputs[0], where)
    if graph.tensors[op.outputs[0]].dtype == "float32" and kind not in (OpKind.DEQUANTIZE, OpKind.RESHAPE):
        raise UnrunnableModelError(f"{where}: float32 output; only DEQUANTIZE writes float32")
    if kind is OpKind.ADD:
        _check_broadcast(graph, op, where)


def _check_broadcast(graph: Graph, op: Op, where: str) -> None:
    out = _nhwc(graph.tensors[op.outputs[0]].shape)
    for t in data_inputs(op):
        if any(a not in (o, 1) for a, o in zip(_nhwc(graph.tensors[t].shape), out)):
            raise UnrunnableModelError(f"{where}: tensor {t} of shape {graph.tensors[t].shape} does not "
                                       f"broadcast to the output {graph.tensors[op.outputs[0]].shape}")


def _nhwc(shape) -> tuple[int, ...]:
    return (1,) * (4 - len(shape)) + tuple(int(s) for s in shape)


def _header(arena_size: int, model_id: bytes, graph: Graph) -> str:
    ops = sorted({_C_OP[OpKind(op.kind)] for op in graph.ops if OpKind(op.kind) in _C_OP})
    op_bits = " | ".join(f"(1u << {name})" for name in ops) or "0u"
    return f"""/* Generated by edgehdc export: do not edit. model_id {model_id.hex()} */
#ifndef EHD_GENERATED_H
#define EHD_GENERATED_H

#include <stddef.h>

#include "ehd/ehd_hdc.h"
#include "ehd/ehd_integrity.h"
#include "ehd/ehd_model.h"

#define EHD_GENERATED_ARENA_SIZE {max(arena_size, 4)}u
/* The ops of this model's layers: a firmware built for it links only their kernels (ehd_model.c). */
#define EHD_GENERATED_OPS ({op_bits})

extern const ehd_model ehd_generated_model;
extern const ehd_hdc_model ehd_generated_hdc;
extern const ehd_integrity ehd_generated_integrity;

#endif /* EHD_GENERATED_H */
"""


def firmware_tensors(graph: Graph) -> list[int]:
    """The graph tensors the firmware's tensor table holds, in its order: the activations, then
    the constant data operands (of ADD)."""
    constants = [t for op in graph.ops for t in data_inputs(op) if graph.tensors[t].is_constant]
    return activation_tensors(graph) + list(dict.fromkeys(constants))


def _source(graph: Graph, plan, encoder, classifier, model_id: bytes) -> str:
    order = firmware_tensors(graph)
    fw_index = {t: i for i, t in enumerate(order)}
    parts = [f'/* Generated by edgehdc export: do not edit. model_id {model_id.hex()} */\n#include "{HEADER_NAME}"\n']
    layers = []
    for n, op in enumerate(graph.ops):
        if OpKind(op.kind) is OpKind.RESHAPE:
            continue  # an alias in the arena plan: the output tensor shares its input's bytes
        parts.append(layer_params(graph, op, f"layer{n}"))
        inputs = [fw_index[i] for i in data_inputs(op)]
        inputs += [NO_TENSOR] * (MAX_LAYER_INPUTS - len(inputs))
        scratch_offset, scratch = plan.scratch.get(n, (0, 0))
        layers.append(f"    {{{_C_OP[OpKind(op.kind)]}, {{{', '.join(map(str, inputs))}}}, "
                      f"{{{fw_index[op.outputs[0]]}}}, &layer{n}_params, {scratch_offset}u, {scratch}u}},")
    tensors = []
    for t in order:
        tensor = graph.tensors[t]
        data = "NULL"
        if tensor.is_constant:
            data = f"tensor{fw_index[t]}_data"
            parts.append(_array("int8_t", data, tensor.data))
        zero_point = int(tensor.quant.zero_point[0]) if tensor.quant is not None else 0
        tensors.append(f"    {{{plan.offsets.get(t, 0)}u, {_dims(tensor.shape)}, {zero_point}, "
                       f"{_C_DTYPE[tensor.dtype]}, {data}}},")
    outputs = ", ".join(str(fw_index[t]) for t in graph.outputs)
    feature = fw_index[graph.outputs[0]] if encoder is not None else "EHD_NO_TENSOR"
    if layers:
        parts.append("static const ehd_layer layers[] = {\n" + "\n".join(layers) + "\n};\n")
    parts.append("static const ehd_tensor tensors[] = {\n" + "\n".join(tensors) + "\n};\n")
    parts.append(f"static const uint16_t outputs[] = {{{outputs}}};\n")
    parts.append(
        "const ehd_model ehd_generated_model = {\n"
        f"    {'layers' if layers else 'NULL'}, {len(layers)}, tensors, {len(tensors)},\n"
        f"    {fw_index[graph.inputs[0]]}, {feature}, EHD_GENERATED_ARENA_SIZE,\n"
        f"    {{{', '.join(f'0x{b:02x}' for b in model_id)}}},\n"
        f"    outputs, {len(graph.outputs)},\n}};\n"
    )
    parts.append(_hdc_source(encoder, classifier) if encoder is not None else _NO_HDC)
    return "\n".join(parts)


# A plain int8 model: the service sees no HDC head (feature == EHD_NO_TENSOR, no classes).
_NO_HDC = "const ehd_hdc_model ehd_generated_hdc = {.encoder = EHD_HDC_SIGN_PROJECTION, .n_classes = 0u};\n"


def _hdc_source(encoder, classifier) -> str:
    from edgehdc.hdc.export import hdc_source

    return hdc_source(encoder, classifier)
