"""One fine-tuning run, described as composable pieces, and the named strategies built from them.

    cfg = FinetuneConfig.strategy("progressive", epochs=40)
    cfg = FinetuneConfig.from_toml("ft.toml")        # [finetune] table; `strategy = "..."` picks a base
    cfg = cfg.replace(lr=3e-3, head="mlp")

Pieces: the head (linear, mlp, bn, attention) and an optional HDC adapter;
which backbone blocks train when (`unfreeze`: a list of [epoch, top_blocks]
stages, None = all from the start; `keep_frozen` lowest blocks never
train); the optimizer's groups (`backbone_lr_scale` times `lr` for the
pretrained backbone, `lr` for the new head and adapter), AdamW weight decay,
gradient clipping; the schedule (onecycle, cosine with warm-up, constant);
the loss (cross-entropy, or `hdc` = cross-entropy + consistency with the
original features + a triplet separation term; optionally + `decorrelate`
times the embedding's variance-covariance term, what `pretrain` uses
against embedding collapse, and + `supcon` times a supervised contrastive
term, + `reconstruct` times an auxiliary decoder's reconstruction of the input, the decoder
dropped after training, and + `instance` times SimCLR's two-view instance term); L2-SP (`l2sp`: keep the backbone near its pretrained weights);
LP-FT (`probe_epochs`: a linear probe first, then fine-tuning from
the probed head); augmentation; early
stopping on the validation split; the feature cache.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from edgehdc.models.heads import HEADS

SCHEDULERS = ("onecycle", "cosine", "constant")
LOSSES = ("ce", "hdc")


@dataclass(frozen=True)
class FinetuneConfig:
    # model: what is added on top of the (pretrained) backbone
    head: str = "linear"
    head_hidden: int = 64
    head_dropout: float = 0.1
    adapter: bool = False
    pretrained: bool = True  # False: random backbone (from scratch), every block trains
    # freezing: [[epoch, n]] -> from `epoch` on, the top n backbone blocks train; None: all train
    unfreeze: tuple[tuple[int, int], ...] | None = None
    keep_frozen: int = 0  # lowest blocks that never train
    # optimizer and schedule
    lr: float = 1e-2
    backbone_lr_scale: float = 1.0
    weight_decay: float = 1e-3
    clip_grad: float | None = None
    scheduler: str = "onecycle"
    warmup: float = 0.3  # fraction of all steps spent warming up
    # loss
    loss: str = "ce"
    loss_weights: tuple[float, float, float] = (1.0, 0.5, 0.5)  # ce, consistency, separation
    margin: float = 0.2  # triplet margin on cosine distance
    decorrelate: float = 0.0  # weight of the embedding variance-covariance term (losses.decorrelation)
    supcon: float = 0.0  # weight of the supervised contrastive term on the embedding (losses.supcon_mean)
    temperature: float = 0.1  # SupCon's temperature
    instance: float = 0.0  # weight of SimCLR's instance term: two augmented views of each sample (needs augment)
    reconstruct: float = 0.0  # weight of an auxiliary decoder's input reconstruction from the embedding
    l2sp: float = 0.0  # L2-SP: weight of the squared distance of the backbone from its pretrained weights
    # LP-FT: the first probe_epochs of `epochs` train the head alone on the frozen backbone (cached
    # features), then the run continues for the rest from the probed head (workflow.finetune)
    probe_epochs: int = 0
    # data and loop
    epochs: int = 60
    batch_size: int = 64
    augment: bool = True
    patience: int | None = None  # early stopping: epochs without a better validation loss
    cache_features: bool = True  # train on cached features while the backbone is frozen and augment is off
    seed: int = 0
    strategy: str = field(default="custom", compare=False)

    def __post_init__(self) -> None:
        if self.head not in HEADS:
            raise ValueError(f"unknown head {self.head!r}; available: {', '.join(HEADS)}")
        if self.scheduler not in SCHEDULERS:
            raise ValueError(f"unknown scheduler {self.scheduler!r}; available: {', '.join(SCHEDULERS)}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; available: {', '.join(LOSSES)}")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0 or self.backbone_lr_scale < 0:
            raise ValueError("need epochs >= 1, batch_size >= 1, lr > 0, backbone_lr_scale >= 0")
        if not 0 <= self.warmup < 1:
            raise ValueError(f"warmup must lie in [0, 1), got {self.warmup}")
        if self.decorrelate < 0 or (self.decorrelate and self.head == "attention"):
            raise ValueError(f"decorrelate must be >= 0 and needs an embedding head (not attention), "
                             f"got {self.decorrelate} with head {self.head!r}")
        if (self.supcon < 0 or self.temperature <= 0 or (self.supcon and self.head == "attention")):
            raise ValueError(f"supcon must be >= 0 with temperature > 0 and an embedding head (not attention), "
                             f"got supcon {self.supcon}, temperature {self.temperature}, head {self.head!r}")
        if self.instance < 0 or (self.instance and (self.head == "attention" or not self.augment)):
            raise ValueError(f"instance must be >= 0 and needs augmentation and an embedding head (not attention), "
                             f"got {self.instance} with head {self.head!r}, augment {self.augment}")
        if self.reconstruct < 0 or (self.reconstruct and self.head == "attention"):
            raise ValueError(f"reconstruct must be >= 0 and needs an embedding head (not attention), "
                             f"got {self.reconstruct} with head {self.head!r}")
        if self.l2sp < 0 or (self.l2sp and not self.pretrained):
            raise ValueError(f"l2sp must be >= 0 and needs a pretrained backbone, got {self.l2sp}")
        if not 0 <= self.probe_epochs < self.epochs:
            raise ValueError(f"probe_epochs must lie in [0, epochs={self.epochs}), got {self.probe_epochs}")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"patience must be >= 1 or None, got {self.patience}")
        if self.unfreeze is not None:
            stages = tuple((int(e), int(n)) for e, n in self.unfreeze)
            if not stages or stages[0][0] != 0 or any(b[0] <= a[0] for a, b in zip(stages, stages[1:])):
                raise ValueError(f"unfreeze stages must start at epoch 0 with increasing epochs, got {self.unfreeze}")
            if any(n < 0 for _, n in stages):
                raise ValueError(f"unfreeze block counts must be >= 0, got {self.unfreeze}")
            object.__setattr__(self, "unfreeze", stages)
        object.__setattr__(self, "loss_weights", tuple(float(w) for w in self.loss_weights))
        if len(self.loss_weights) != 3:
            raise ValueError(f"loss_weights are (ce, consistency, separation), got {self.loss_weights}")

    @property
    def frozen_backbone(self) -> bool:
        """True when no pretrained block ever trains (a linear probe or another head-only strategy)."""
        return self.pretrained and self.unfreeze is not None and all(n == 0 for _, n in self.unfreeze)

    def replace(self, **changes) -> "FinetuneConfig":
        _check_keys(changes)
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def strategy(cls, name: str, **changes) -> "FinetuneConfig":
        """The named strategy's config (see STRATEGIES), with `changes` on top."""
        if name not in STRATEGIES:
            raise ValueError(f"unknown strategy {name!r}; available: {', '.join(STRATEGIES)}")
        _check_keys(changes)
        return cls(**{**STRATEGIES[name], "strategy": name, **changes})

    @classmethod
    def from_toml(cls, path: str | Path, **changes) -> "FinetuneConfig":
        """Config from the [finetune] table of a TOML file; `strategy` in it picks the base."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ValueError(f"config {path}: {e}") from None
        table = data.get("finetune", data)
        if not isinstance(table, dict):
            raise ValueError(f"config {path}: [finetune] must be a table")
        table = {**table, **changes}
        name = table.pop("strategy", None)
        try:
            return cls.strategy(name, **table) if name else cls(**_checked(table))
        except (TypeError, ValueError) as e:
            raise ValueError(f"config {path}: {e}") from None


def _check_keys(changes: dict) -> None:
    known = {f.name for f in dataclasses.fields(FinetuneConfig)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ValueError(f"unknown config keys {unknown}; known: {', '.join(sorted(known))}")


def _checked(table: dict) -> dict:
    _check_keys(table)
    return table


# Named strategies: each is a set of pieces. "scratch" trains a random backbone;
# the others start from the pretrained backbone.
STRATEGIES: dict[str, dict] = {
    "scratch": {"pretrained": False},
    "linear_probe": {"unfreeze": ((0, 0),), "augment": False},
    "mlp_head": {"head": "mlp", "unfreeze": ((0, 0),), "augment": False},
    "bn_head": {"head": "bn", "unfreeze": ((0, 0),), "augment": False},
    "attention_head": {"head": "attention", "unfreeze": ((0, 0),), "augment": False},
    "full": {},
    "progressive": {"unfreeze": ((0, 0), (10, 2), (20, 4)), "keep_frozen": 1},
    "discriminative": {"backbone_lr_scale": 0.1},
    "hdc_refine": {"adapter": True, "loss": "hdc", "backbone_lr_scale": 0.1},
    "lp_ft": {"probe_epochs": 20},
    "l2sp": {"l2sp": 0.01},
}
