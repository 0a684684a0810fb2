"""Binary hyperdimensional classification of the int8 embedding (docs/hdc.md).

    encoder = SignProjection(n_features, dim=2048, zero_point=zp)
    model = Centroid(n_classes, encoder.dim).fit(encoder.encode(x_train), y_train)
    labels, confidence, distances = model.classify(encoder.encode(x))
"""

from edgehdc.hdc.classifier import Centroid
from edgehdc.hdc.encoder import SignProjection, projection_matrix
from edgehdc.hdc.random import DEFAULT_SEED, xorshift32

__all__ = ["Centroid", "SignProjection", "projection_matrix", "xorshift32", "DEFAULT_SEED"]
