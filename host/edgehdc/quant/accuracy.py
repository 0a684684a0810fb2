"""Float vs int8 accuracy of a model: PTQ with each calibration method, and QAT.

Int8 accuracy is measured as the device would compute it: the test images
are quantized to the graph's int8 input (`quantize_input`) and run by the
Numba mirror of the firmware (`edgehdc.kernels.interpreter.run`).
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from edgehdc.data.quantize import quantize_input
from edgehdc.data.split import Split
from edgehdc.finetune import evaluate, to_nchw
from edgehdc.kernels.interpreter import run
from edgehdc.quant.calibration import METHODS
from edgehdc.quant.ir import Graph
from edgehdc.quant.ptq import quantize
from edgehdc.quant.qat import qat_finetune


def int8_logits(graph: Graph, x: np.ndarray) -> np.ndarray:
    """int8 logits [N, classes] of `graph` for float NHWC samples `x` in [0, 1]."""
    q = graph.tensors[graph.inputs[0]].quant
    xq = quantize_input(x, float(q.scale[0]), int(q.zero_point[0]))
    return run(graph, xq)[-1].reshape(len(x), -1)


def int8_accuracy(graph: Graph, x: np.ndarray, y: np.ndarray) -> float:
    """Top-1 accuracy of the int8 `graph` (Numba mirror) on float NHWC samples `x`, labels `y`."""
    if len(x) != len(y) or len(y) == 0:
        raise ValueError(f"need as many labels as samples (> 0), got {len(x)} and {len(y)}")
    return float((int8_logits(graph, x).argmax(1) == np.asarray(y)).mean())


def quantization_accuracy(model: nn.Module, split: Split, *, methods: tuple[str, ...] = METHODS,
                          per_channel: bool = True, calibration_x: np.ndarray | None = None,
                          qat_method: str = "minmax", qat_epochs: int = 10, qat_lr: float = 1e-3,
                          seed: int = 0) -> dict[str, float]:
    """Test accuracies of a trained `model`: float, PTQ int8 per method, QAT int8.

    Keys: "float", "ptq_<method>" for each of `methods` (calibrated on
    `calibration_x`, default the training images), "qat" (int8 graph of a
    copy of `model` fine-tuned `qat_epochs` with fake quantization, ranges
    from `qat_method`), "qat_fake_quant" (the fake-quantized forward's own
    accuracy) and "qat_agreement" (fraction of test samples where the
    fake-quantized forward and the int8 graph predict the same class).
    `model` itself is left unchanged (QAT trains a copy). per_channel=False
    quantizes convolution weights per tensor, in PTQ and QAT alike.
    """
    x, y = split.x_test, split.y_test
    cal = split.x_train if calibration_x is None else calibration_x
    result = {"float": evaluate(model, x, y)}
    for method in methods:
        result[f"ptq_{method}"] = int8_accuracy(quantize(model, cal, method, per_channel=per_channel), x, y)
    qat = qat_finetune(copy.deepcopy(model), split, qat_method, epochs=qat_epochs, lr=qat_lr,
                       per_channel=per_channel, seed=seed)
    qat.eval()
    pred_int8 = int8_logits(qat.to_graph(), x).argmax(1)
    with torch.no_grad():
        pred_fake = qat(to_nchw(x)).argmax(1).numpy()
    result["qat"] = float((pred_int8 == y).mean())
    result["qat_fake_quant"] = float((pred_fake == y).mean())
    result["qat_agreement"] = float((pred_fake == pred_int8).mean())
    return result
