"""The bit-exact oracle: TFLM's Python interpreter (PyPI `tflite-micro`, reference kernels).

`TflmOracle(model_bytes).run(x)` returns the model outputs; `run_all(x)` every
tensor by index, read with `GetTensor` (which returns a dict; we take its
`tensor_data` and copy it, as the interpreter reuses its arena on the next
invoke). The interpreter runs with kPreserveAllTensors so that no tensor is
overwritten by a later one. A batch of N samples is N invokes on the model's
batch-1 input; activations are stacked along axis 0.
"""

from __future__ import annotations

import numpy as np
from tflite_micro.python.tflite_micro import runtime
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

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
        if builtin == fb.BuiltinOperator.DEPTHWISE_CONV_2D and (len(inputs) < 3 or inputs[2] < 0):
            # Seen with tflite-micro 0.dev20261023: a segfault while loading.
            raise _KnownCrash(f"operator {n}: TFLM crashes on DEPTHWISE_CONV_2D without a bias; give it a zero bias")


class TflmOracle:
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
            raise ValueError(f"TflmOracle supports one model input, got {len(sub.inputs)}")
        details = self._interp.get_input_details(0)
        self.input_shape = tuple(int(d) for d in details["shape"])
        self.input_dtype = np.dtype(details["dtype"])
        self.n_outputs = len(sub.outputs)
        # Constants are tensors backed by a non-empty buffer; they do not change per sample.
        self.constants = frozenset(
            i for i, t in enumerate(sub.tensors)
            if t.buffer > 0 and model.buffers[t.buffer].data is not None and len(model.buffers[t.buffer].data)
        )
        self.n_tensors = len(sub.tensors)

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        """Model outputs for one sample (input shape) or a batch [N, *input_shape[1:]]."""
        outs = []
        for sample in self._samples(x):
            self._invoke(sample)
            outs.append([self._interp.get_output(i).copy() for i in range(self.n_outputs)])
        return [np.concatenate([o[i] for o in outs]) for i in range(self.n_outputs)]

    def run_all(self, x: np.ndarray) -> dict[int, np.ndarray]:
        """Every tensor by index after invoking on `x`: activations stacked over
        the batch, constants (weights, biases) once, as stored in the model."""
        acts = [i for i in range(self.n_tensors) if i not in self.constants]
        per_sample = []
        for sample in self._samples(x):
            self._invoke(sample)
            per_sample.append({i: self._tensor(i) for i in acts})
        result = {i: self._tensor(i) for i in sorted(self.constants)}
        result.update({i: _stack([s[i] for s in per_sample]) for i in acts})
        return dict(sorted(result.items()))

    def _tensor(self, index: int) -> np.ndarray:
        return np.array(self._interp.GetTensor(index, 0)["tensor_data"], copy=True)

    def _samples(self, x: np.ndarray) -> list[np.ndarray]:
        x = np.asarray(x)
        if x.dtype != self.input_dtype:
            raise ValueError(f"input must be {self.input_dtype}, got {x.dtype}")
        if tuple(x.shape) == self.input_shape:
            return [np.ascontiguousarray(x)]
        if x.ndim == len(self.input_shape) and tuple(x.shape[1:]) == self.input_shape[1:] and len(x):
            return [np.ascontiguousarray(x[i : i + 1]) for i in range(len(x))]
        raise ValueError(f"input shape {x.shape} does not match model input {self.input_shape}")

    def _invoke(self, sample: np.ndarray) -> None:
        self._interp.set_input(sample, 0)
        self._interp.invoke()


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    """Per-sample tensors joined along the batch axis; scalars (shape arithmetic) stacked."""
    return np.stack(arrays) if arrays[0].ndim == 0 else np.concatenate(arrays)
