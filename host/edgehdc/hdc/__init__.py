"""Binary hyperdimensional classification of the int8 embedding (docs/hdc.md).

    encoder = SignProjection(n_features, dim=2048, zero_point=zp).calibrate(x_train)
    model = Centroid(n_classes, encoder.dim).fit(encoder.encode(x_train), y_train, epochs=10, margin=64)
    labels, confidence, distances = model.classify(encoder.encode(x))
"""

from edgehdc.hdc.classifier import ACC_MAX, Centroid
from edgehdc.hdc.encoder import (
    Encoder,
    IdLevel,
    SignProjection,
    fit_normalization,
    level_hypervectors,
    projection_matrix,
)
from edgehdc.hdc.learn import NO_CLASS, Learner
from edgehdc.hdc.random import DEFAULT_SEED, xorshift32

__all__ = [
    "ACC_MAX", "Centroid", "DEFAULT_SEED", "Encoder", "IdLevel", "Learner", "NO_CLASS", "SignProjection",
    "fit_normalization",
    "level_hypervectors", "projection_matrix", "xorshift32",
]
