"""The second oracle: LiteRT's interpreter with its reference kernels (PyPI `ai-edge-litert`).

`LiteRtOracle(model_bytes)` runs TFLite's own kernels as `OpResolverType.BUILTIN_REF`
selects them (never XNNPACK or the optimized kernels), one thread, every
tensor preserved. It is the oracle where TFLM departs from TFLite (docs/parity.md):
SPACE_TO_BATCH_ND's padding and the requantizing RELU/RELU6. Measured against
the mirror, it differs on one op by design: its int8 FULLY_CONNECTED rounds
once (`(acc * multiplier + 2**(30 - shift)) >> (31 - shift)`) where TFLM,
CMSIS-NN and our firmware round twice; `edgehdc.verify` accounts for that.
Batches as `edgehdc.quant.oracle.Oracle`.
"""

from __future__ import annotations

import numpy as np
from ai_edge_litert import interpreter as litert
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

from edgehdc.quant.oracle import Oracle


class LiteRtOracle(Oracle):
    """LiteRT (TFLite) reference kernels over one .tflite model with a single input (subgraph 0)."""

    def __init__(self, model_bytes: bytes):
        model_bytes = bytes(model_bytes)
        try:
            model = fb.ModelT.InitFromObj(fb.Model.GetRootAs(model_bytes, 0))
            self._interp = litert.Interpreter(
                model_content=model_bytes, num_threads=1,
                experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF,
                experimental_preserve_all_tensors=True,
            )
            self._interp.allocate_tensors()
        except Exception as e:  # flatbuffers errors on bad bytes, RuntimeError/ValueError from LiteRT
            message = " ".join(str(e).split()) or type(e).__name__
            raise ValueError(f"LiteRT could not load the model: {message}") from None
        inputs = self._interp.get_input_details()
        if len(inputs) != 1:
            raise ValueError(f"LiteRT oracle: one model input supported, the model has {len(inputs)}")
        self._input = inputs[0]["index"]
        self._outputs = [d["index"] for d in self._interp.get_output_details()]
        self._describe(model, inputs[0], len(self._outputs))

    def _invoke(self, sample: np.ndarray) -> None:
        self._interp.set_tensor(self._input, sample)
        try:
            self._interp.invoke()
        except RuntimeError as e:
            raise ValueError(f"LiteRT could not run the model: {' '.join(str(e).split())}") from None

    def _tensor(self, index: int) -> np.ndarray:
        return np.array(self._interp.get_tensor(index), copy=True)

    def _output(self, index: int) -> np.ndarray:
        return np.array(self._interp.get_tensor(self._outputs[index]), copy=True)
