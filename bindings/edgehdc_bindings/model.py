"""Run a generated firmware model (CNN + HDC) on the host through the bindings library."""

from __future__ import annotations

import ctypes as C
from typing import NamedTuple

import numpy as np

from edgehdc_bindings.structs import HdcModel, HdcResult, Model, check, declare, ptr


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
        lib.ehd_host_infer.restype = C.c_int
        lib.ehd_host_infer.argtypes = [C.POINTER(C.c_int8), C.c_uint32, C.POINTER(C.c_int8),
                                       C.POINTER(C.c_uint32), C.POINTER(C.c_uint16),
                                       C.POINTER(HdcResult)]
        self.model = lib.ehd_host_model().contents
        self.hdc = lib.ehd_host_hdc().contents
        if self.model.n_tensors <= max(self.model.input, self.model.feature):
            raise ValueError("generated model names input/feature tensors it does not have")
        d = self.model.tensors[self.model.input].dims
        self.input_shape = (d.n, d.h, d.w, d.c)
        self.n_features = int(self.hdc.n_features)
        self.dim = int(self.hdc.dim)
        self.n_classes = int(self.hdc.n_classes)
        self.model_id = bytes(self.model.model_id)
        self.arena_size = int(lib.ehd_host_arena_size())

    def invoke(self, x: np.ndarray) -> Inference:
        """One inference on an int8 input of `input_shape` (or the same number of values)."""
        x = np.asarray(x)
        if x.dtype != np.int8 or x.size != int(np.prod(self.input_shape)):
            raise ValueError(f"input must be int8 with shape {self.input_shape}, got {x.dtype} {x.shape}")
        x = np.ascontiguousarray(x).reshape(-1)
        features = np.empty(self.n_features, np.int8)
        hv = np.empty(self.dim // 32, np.uint32)
        distances = np.empty(self.n_classes, np.uint16)
        result = HdcResult()
        check("ehd_host_infer", self.lib.ehd_host_infer(
            ptr(x, C.c_int8), x.size, ptr(features, C.c_int8), ptr(hv, C.c_uint32),
            ptr(distances, C.c_uint16), C.byref(result)))
        return Inference(features, hv, int(result.label), int(result.confidence), distances)

    __call__ = invoke
