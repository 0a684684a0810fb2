"""Backbones and heads built by name: `create("tinycnn", num_classes=10)`.

Every model exposes `forward_features(x) -> embedding` and
`forward_head(embedding) -> logits`, the split fine-tuning and HDC need.
`tinycnn1d` is the same network over [N, C, 1, T] series. Heads are built
by `create_head`; pretrained weights load with `load_pretrained`.
"""

from edgehdc.models import tinycnn as _tinycnn  # noqa: F401  (registers its models)
from edgehdc.models.checkpoint import HDCAdapter, add_adapter, build, load_model, load_pretrained, save_model
from edgehdc.models.heads import HEADS, AttentionPoolHead, create_head, replace_head
from edgehdc.models.registry import create, list_models, register
from edgehdc.models.tinycnn import TinyCNN

__all__ = ["create", "list_models", "register", "TinyCNN", "HEADS", "AttentionPoolHead", "create_head",
           "replace_head", "HDCAdapter", "add_adapter", "build", "load_model", "load_pretrained", "save_model"]
