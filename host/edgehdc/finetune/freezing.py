"""Which parameters train when: backbone blocks, freezing stages, optimizer parameter groups.

A registry model's backbone is `model.features`; its blocks are the children
with parameters, bottom to top (the HDC adapter excluded). New layers (the
head and the adapter) always train. A frozen block has requires_grad False
and sits in eval mode, so its BatchNorm statistics stay those of the
checkpoint too. A model without `features` and `head` (any other
nn.Module) is one group of new layers that always trains.
"""

from __future__ import annotations

from torch import nn

from edgehdc.models.checkpoint import HDCAdapter


def backbone_blocks(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, module) of each pretrained backbone block with parameters, bottom to top."""
    if not isinstance(getattr(model, "features", None), nn.Sequential):
        return []
    return [(f"features.{i}", m) for i, m in enumerate(model.features)
            if not isinstance(m, HDCAdapter) and any(True for _ in m.parameters())]


def new_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The layers fine-tuning adds: the head, and the adapter if there is one (the whole of a plain model)."""
    if not hasattr(model, "head"):
        return [("model", model)]
    out = [(f"features.{i}", m) for i, m in enumerate(getattr(model, "features", ())) if isinstance(m, HDCAdapter)]
    return out + [("head", model.head)]


def trainable_top(stages: tuple[tuple[int, int], ...] | None, epoch: int, n_blocks: int, keep_frozen: int = 0) -> int:
    """How many top backbone blocks train at `epoch` under `stages` ([epoch, n] pairs; None = all)."""
    n = n_blocks
    if stages is not None:
        n = max(count for start, count in stages if start <= epoch)
    return max(0, min(n, n_blocks - keep_frozen))


def set_trainable(model: nn.Module, top: int) -> list[str]:
    """Train the top `top` backbone blocks and the new layers, freeze the rest; returns the trainable blocks."""
    blocks = backbone_blocks(model)
    trainable = {name for name, _ in blocks[len(blocks) - top:]} if top > 0 else set()
    for name, block in blocks:
        block.requires_grad_(name in trainable)
    for _, m in new_modules(model):
        m.requires_grad_(True)
    return [name for name, _ in blocks if name in trainable]


def apply_modes(model: nn.Module, training: bool) -> None:
    """model.train(training), then frozen backbone blocks back to eval mode."""
    model.train(training)
    if training:
        for _, block in backbone_blocks(model):
            if not any(p.requires_grad for p in block.parameters()):
                block.eval()


def param_groups(model: nn.Module, lr: float, backbone_lr_scale: float, weight_decay: float,
                 frozen_backbone: bool = False) -> list[dict]:
    """Two AdamW groups: "backbone" (pretrained blocks, lr * backbone_lr_scale) and "head" (head + adapter, lr).

    Every parameter is in a group from the start, frozen or not: AdamW skips a
    parameter without a gradient, so unfreezing later needs no new optimizer.
    A backbone that stays frozen for the whole run (`frozen_backbone`) leaves
    its group empty, which spares the optimizer a walk over it every step.
    """
    backbone = [p for _, b in backbone_blocks(model) for p in b.parameters()]
    grouped_backbone = [] if frozen_backbone else backbone
    head = [p for _, m in new_modules(model) for p in m.parameters()]
    grouped = {id(p) for p in backbone + head}
    rest = [n for n, p in model.named_parameters() if id(p) not in grouped]
    if rest:
        raise ValueError(f"parameters outside the backbone blocks and the head: {rest}")
    return [{"name": "backbone", "params": grouped_backbone, "lr": lr * backbone_lr_scale, "weight_decay": weight_decay},
            {"name": "head", "params": head, "lr": lr, "weight_decay": weight_decay}]
