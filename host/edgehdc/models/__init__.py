"""Backbones and heads built by name: `create("tinycnn", num_classes=10)`.

Every model exposes `forward_features(x) -> embedding` and
`forward_head(embedding) -> logits`, the split fine-tuning and HDC need.
"""

from edgehdc.models import tinycnn as _tinycnn  # noqa: F401  (registers its models)
from edgehdc.models.registry import create, list_models, register
from edgehdc.models.tinycnn import TinyCNN

__all__ = ["create", "list_models", "register", "TinyCNN"]
