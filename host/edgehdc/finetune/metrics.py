"""What a fine-tuned model is worth: classification metrics, feature quality, and the int8 + HDC accuracy.

Metrics come from scikit-learn. Feature quality follows the write-ups the
product grew from, on cosine geometry (what the HDC sign projection keeps):
cohesion = mean cosine similarity between samples of one class, separation
= mean cosine distance between class centroids, silhouette = scikit-learn's
silhouette score with the cosine metric. `int8_hdc` measures what the
device computes: PTQ of the model, the Numba int8 mirror, SignProjection +
Centroid at D=2048 on the int8 embedding.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support,
                             silhouette_score)
from sklearn.metrics.pairwise import cosine_similarity
from torch import nn

from edgehdc.finetune.train import to_nchw


@torch.no_grad()
def predict(model: nn.Module, x: np.ndarray, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """(predicted labels [N], float embeddings [N, F]) of float NHWC samples, in eval mode."""
    was = model.training
    model.eval()
    xt = to_nchw(x)
    preds, feats = [], []
    for i in range(0, len(xt), batch_size):
        xb = xt[i:i + batch_size]
        preds.append(model(xb).argmax(1))
        feats.append(model.forward_features(xb))
    model.train(was)
    return torch.cat(preds).numpy(), torch.cat(feats).numpy()


def classification(y_true: np.ndarray, y_pred: np.ndarray, class_names: tuple[str, ...]) -> dict:
    """accuracy, macro_f1, per-class precision/recall/f1/support, and the confusion matrix (rows = truth)."""
    labels = np.arange(len(class_names))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "per_class": {name: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                             "support": int(s[i])} for i, name in enumerate(class_names)},
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def feature_quality(features: np.ndarray, labels: np.ndarray) -> dict:
    """cohesion (higher: tighter classes), separation (higher: classes apart), silhouette in [-1, 1]."""
    features, labels = np.asarray(features, np.float64), np.asarray(labels)
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ValueError("feature quality needs at least two classes")
    cohesion = []
    for c in classes:
        sim = cosine_similarity(features[labels == c])
        n = len(sim)
        if n > 1:
            cohesion.append((sim.sum() - np.trace(sim)) / (n * (n - 1)))
    centroids = np.stack([features[labels == c].mean(0) for c in classes])
    dist = 1 - cosine_similarity(centroids)
    k = len(classes)
    return {
        "cohesion": float(np.mean(cohesion)) if cohesion else float("nan"),
        "separation": float((dist.sum() - np.trace(dist)) / (k * (k - 1))),
        "silhouette": float(silhouette_score(features, labels, metric="cosine")),
    }


def int8_hdc(model: nn.Module, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
             y_test: np.ndarray, num_classes: int, dim: int = 2048, seed: int | None = None) -> dict:
    """int8 and HDC test accuracies of `model` as the device computes them.

    PTQ (min/max) is calibrated on `x_train`; prototypes are the majority of
    the training hypervectors. A head without int8 ops (attention pooling)
    gives int8_accuracy None: its backbone is quantized under a stand-in
    Linear head, which does not change the embedding the HDC stage reads.
    """
    from edgehdc.data.quantize import quantize_input
    from edgehdc.hdc import DEFAULT_SEED, Centroid, SignProjection
    from edgehdc.kernels.interpreter import run
    from edgehdc.quant.ptq import quantize

    quantizable = not getattr(model.head, "takes_map", False)
    if not quantizable:
        model = copy.deepcopy(model)
        model.head = nn.Linear(model.embedding_dim, num_classes)
    graph = quantize(model, x_train)
    q = graph.tensors[graph.inputs[0]].quant

    def features_logits(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        emb, logits = run(graph, quantize_input(x, float(q.scale[0]), int(q.zero_point[0])))
        return emb.reshape(len(x), -1), logits.reshape(len(x), -1)

    f_train, _ = features_logits(x_train)
    f_test, logits = features_logits(x_test)
    zp = int(graph.tensors[graph.outputs[0]].quant.zero_point[0])
    encoder = SignProjection(f_train.shape[1], dim=dim, seed=DEFAULT_SEED if seed is None else seed, zero_point=zp)
    centroid = Centroid(num_classes, dim).fit(encoder.encode(f_train), np.asarray(y_train))
    hdc_pred = centroid.predict(encoder.encode(f_test))
    return {
        "hdc_accuracy": float(np.mean(hdc_pred == np.asarray(y_test))),
        "int8_accuracy": float(np.mean(logits.argmax(1) == np.asarray(y_test))) if quantizable else None,
    }
