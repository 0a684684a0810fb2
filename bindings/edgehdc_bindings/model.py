"""Run a generated firmware model (CNN, with or without its HDC head) on the host through the bindings library."""

from __future__ import annotations

import ctypes as C
from typing import NamedTuple

import numpy as np

from edgehdc_bindings.structs import NO_TENSOR, Dtype, HdcModel, HdcResult, Model, check, declare, ptr

_NP_DTYPE = {Dtype.INT8: np.int8, Dtype.FLOAT32: np.float32}


class Inference(NamedTuple):
    features: np.ndarray  # int8 [F], the embedding
    hv: np.ndarray  # uint32 [D/32]
    label: int
    confidence: int
    distances: np.ndarray  # uint16 [K]


class FirmwareModel:
    """The model compiled into `lib` (`build_library([model.c], [dir with ehd_generated.h])`)."""

    def __init__(self, lib: C.CDLL):
        if not hasattr(lib, "ehd_host_infer"):
            raise ValueError("library has no generated model: pass its source and the folder of "
                             "ehd_generated.h to build_library")
        self.lib = declare(lib)
        lib.ehd_host_model.restype = C.POINTER(Model)
        lib.ehd_host_hdc.restype = C.POINTER(HdcModel)
        lib.ehd_host_arena_size.restype = C.c_uint32
        lib.ehd_host_run.restype = C.c_int
        lib.ehd_host_run.argtypes = [C.c_void_p, C.c_uint32]
        lib.ehd_host_output.restype = C.c_void_p
        lib.ehd_host_output.argtypes = [C.c_uint16]
        lib.ehd_host_infer.restype = C.c_int
        lib.ehd_host_infer.argtypes = [C.POINTER(C.c_int8), C.c_uint32, C.POINTER(C.c_int8),
                                       C.POINTER(C.c_uint32), C.POINTER(C.c_uint16),
                                       C.POINTER(HdcResult)]
        self.model = lib.ehd_host_model().contents
        self.hdc = lib.ehd_host_hdc().contents
        self.has_hdc = self.model.feature != NO_TENSOR
        indices = [self.model.input, *(self.model.outputs[k] for k in range(self.model.n_outputs))]
        if self.has_hdc:
            indices.append(self.model.feature)
        if self.model.n_tensors <= max(indices):
            raise ValueError("generated model names input/output tensors it does not have")
        self.input_shape, self.input_dtype = self._tensor(self.model.input)
        self.outputs = [self._tensor(self.model.outputs[k]) for k in range(self.model.n_outputs)]
        self.n_features = int(self.hdc.n_features)
        self.dim = int(self.hdc.dim)
        self.n_classes = int(self.hdc.n_classes)
        self.model_id = bytes(self.model.model_id)
        self.arena_size = int(lib.ehd_host_arena_size())

    def _tensor(self, index: int) -> tuple[tuple[int, int, int, int], type]:
        t = self.model.tensors[index]
        return (t.dims.n, t.dims.h, t.dims.w, t.dims.c), _NP_DTYPE[Dtype(t.dtype)]

    def _input(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype != self.input_dtype or x.size != int(np.prod(self.input_shape)):
            raise ValueError(f"input must be {np.dtype(self.input_dtype)} with shape {self.input_shape}, "
                             f"got {x.dtype} {x.shape}")
        return np.ascontiguousarray(x).reshape(-1)

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        """The model's output tensors (NHWC, int8 or float32) for one input of `input_shape`."""
        x = self._input(x)
        check("ehd_host_run", self.lib.ehd_host_run(x.ctypes.data, x.nbytes))
        results = []
        for k, (shape, dtype) in enumerate(self.outputs):
            buf = (C.c_char * (int(np.prod(shape)) * np.dtype(dtype).itemsize)).from_address(
                self.lib.ehd_host_output(k))
            results.append(np.frombuffer(bytes(buf), dtype).reshape(shape))
        return results

    def invoke(self, x: np.ndarray) -> Inference:
        """One inference through the HDC head on an int8 input of `input_shape`."""
        if not self.has_hdc:
            raise ValueError("this model has no HDC head: use run() for its output tensors")
        x = self._input(x)
        features = np.empty(self.n_features, np.int8)
        hv = np.empty(self.dim // 32, np.uint32)
        distances = np.empty(self.n_classes, np.uint16)
        result = HdcResult()
        check("ehd_host_infer", self.lib.ehd_host_infer(
            ptr(x, C.c_int8), x.size, ptr(features, C.c_int8), ptr(hv, C.c_uint32),
            ptr(distances, C.c_uint16), C.byref(result)))
        return Inference(features, hv, int(result.label), int(result.confidence), distances)

    __call__ = invoke
