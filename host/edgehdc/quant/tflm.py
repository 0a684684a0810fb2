"""The bit-exact oracle: TFLM's Python interpreter (PyPI `tflite-micro`, reference kernels).

`TflmOracle(model_bytes).run(x)` returns the model outputs; `run_all(x)` every
tensor by index, read with `GetTensor` (which returns a dict; we take its
`tensor_data` and copy it, as the interpreter reuses its arena on the next
invoke). The interpreter runs with kPreserveAllTensors so that no tensor is
overwritten by a later one. Batches as `edgehdc.quant.oracle.Oracle`; run it
in a child process (`IsolatedOracle`) unless the model is known to be safe.
"""

from __future__ import annotations

import numpy as np
from tflite_micro.python.tflite_micro import runtime
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

from edgehdc.quant.fold import same_quant
from edgehdc.quant.ir import Graph, OpKind
from edgehdc.quant.oracle import Oracle

# kPreserveAllTensors gives every tensor its own arena slot; leave ample room.
_ARENA_MARGIN = 1 << 20


class _KnownCrash(Exception):
    pass


def _refuse_known_crashes(model, sub) -> None:
    """Raise before TFLM sees a model that would take the whole process down."""
    for n, op in enumerate(sub.operators):
        code = model.operatorCodes[op.opcodeIndex]
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
        inputs = list(op.inputs) if op.inputs is not None else []
        if builtin == fb.BuiltinOperator.DEPTHWISE_CONV_2D and len(inputs) >= 3 and inputs[2] < 0:
            # Seen with tflite-micro 0.dev20261023: a segfault while loading (two inputs are fine).
            raise _KnownCrash(f"TFLM crashes on DEPTHWISE_CONV_2D with an absent bias (-1, operator {n}); "
                             "give it a zero bias or no third input")


def known_defects(model_bytes: bytes, graph: Graph) -> dict[int, str]:
    """Ops of `graph` (imported from `model_bytes`) where TFLM departs from TFLite, with the reason.

    - A dilated convolution the converter wrote as SPACE_TO_BATCH_ND + conv +
      BATCH_TO_SPACE_ND with padding: TFLM never sets SPACE_TO_BATCH_ND's pad
      value, so the padded cells hold whatever its arena held.
    - A RELU/RELU6 whose output quantization differs from its input's: TFLite
      requantizes; TFLM's RELU6 only clamps and its RELU forms the multiplier
      in double precision (TFLite in float32).
    """
    defects = {}
    by_output = {op.outputs[0]: i for i, op in enumerate(graph.ops)}
    for output in _padded_space_to_batch_outputs(bytes(model_bytes)):
        if output in by_output:
            defects[by_output[output]] = ("TFLM leaves SPACE_TO_BATCH_ND's padding uninitialised "
                                          "(a dilated convolution with padding)")
    for i, op in enumerate(graph.ops):
        x, y = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
        if OpKind(op.kind) in (OpKind.RELU, OpKind.RELU6) and not same_quant(x, y):
            defects[i] = (f"TFLM's int8 {OpKind(op.kind).value} "
                          + ("only clamps where TFLite requantizes" if OpKind(op.kind) is OpKind.RELU6
                             else "forms its multiplier in double where TFLite uses float32"))
    return dict(sorted(defects.items()))


def _padded_space_to_batch_outputs(model_bytes: bytes) -> list[int]:
    """BATCH_TO_SPACE_ND outputs that end a SPACE_TO_BATCH_ND pattern with non-zero paddings."""
    model = fb.ModelT.InitFromObj(fb.Model.GetRootAs(model_bytes, 0))
    sub = model.subgraphs[0]
    ops = sub.operators or []
    outputs = []
    for i, op in enumerate(ops):
        code = model.operatorCodes[op.opcodeIndex]
        if max(code.builtinCode, code.deprecatedBuiltinCode) != fb.BuiltinOperator.SPACE_TO_BATCH_ND:
            continue
        pads = sub.tensors[op.inputs[2]]
        data = model.buffers[pads.buffer].data if pads.buffer else None
        if data is not None and np.any(np.frombuffer(bytes(bytearray(data)), "<i4")) and i + 2 < len(ops):
            outputs.append(int(ops[i + 2].outputs[0]))
    return outputs


class TflmOracle(Oracle):
    """TFLM interpreter over one .tflite model with a single input (subgraph 0)."""

    def __init__(self, model_bytes: bytes, arena_size: int | None = None):
        model_bytes = bytes(model_bytes)
        try:
            model = runtime.convert_bytearray_to_object(model_bytes)
            sub = model.subgraphs[0]
            _refuse_known_crashes(model, sub)
            self._interp = runtime.Interpreter.from_bytes(
                model_bytes,
                arena_size=arena_size if arena_size is not None else 10 * len(model_bytes) + _ARENA_MARGIN,
                intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors,
            )
        except _KnownCrash as e:
            raise ValueError(str(e)) from None
        except Exception as e:  # flatbuffers errors on bad bytes, RuntimeError from TFLM
            raise ValueError(f"TFLM could not load the model: {type(e).__name__}: {e}") from None
        if len(sub.inputs) != 1:
            raise ValueError(f"TFLM oracle: one model input supported, the model has {len(sub.inputs)}")
        self._describe(model, self._interp.get_input_details(0), len(sub.outputs))

    def _invoke(self, sample: np.ndarray) -> None:
        try:
            self._interp.set_input(sample, 0)
            self._interp.invoke()
        except RuntimeError as e:
            raise ValueError(f"TFLM could not run the model: {' '.join(str(e).split())}") from None

    def _tensor(self, index: int) -> np.ndarray:
        return np.array(self._interp.GetTensor(index, 0)["tensor_data"], copy=True)

    def _output(self, index: int) -> np.ndarray:
        return self._interp.get_output(index).copy()
