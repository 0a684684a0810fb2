"""The fine-tuning loop: one `Trainer` for every strategy, single process or under torchrun.

    trainer = Trainer(model, cfg, checkpoint_dir="build/ft", tensorboard="build/ft/tb")
    result = trainer.fit(x_train, y_train, x_val, y_val)       # float NHWC in [0, 1]
    result = trainer.fit(..., resume=True)                      # continue from checkpoint_dir/last.pt

Each epoch: the freezing stage for that epoch, a seeded shuffle, seeded
augmentation, AdamW over the backbone/head groups with the per-step
schedule, optional gradient clipping; then the validation loss and
accuracy, early stopping on the validation loss (never the test split),
and atomic checkpoints: best.pt (the best weights) and last.pt (everything
needed to resume: weights, optimizer, schedule, random states, history).
A resumed run ends exactly where an uninterrupted one does. When the
backbone stays frozen and augmentation is off, its features are computed
once (`FeatureCache`) and the head trains on them. With `reconstruct`, an
auxiliary decoder owned by the Trainer (never by the model, so nothing
exported holds it) rebuilds each input from its embedding.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from rich.progress import Progress
from torch import nn

from edgehdc.data.augment import default_augment
from edgehdc.fileio import atomic_write_bytes
from edgehdc.finetune import distributed, losses
from edgehdc.finetune.config import FinetuneConfig
from edgehdc.finetune.freezing import apply_modes, backbone_blocks, param_groups, set_trainable, trainable_top
from edgehdc.finetune.train import to_nchw

STATE_VERSION = 1


@dataclass
class FitResult:
    history: dict[str, list] = field(default_factory=dict)  # one entry per epoch run
    best_epoch: int | None = None  # epoch of the lowest validation loss (None without validation)
    stopped_early: bool = False
    train_seconds: float = 0.0
    trainable_params: int = 0  # the most parameters that trained at once


class FeatureCache:
    """The frozen backbone's outputs for a fixed set of inputs, computed once in eval mode."""

    def __init__(self, model: nn.Module, x: torch.Tensor, batch_size: int = 512):
        takes_map = getattr(model.head, "takes_map", False)
        fn = model.forward_map if takes_map else model.forward_features
        was = model.training
        model.eval()
        with torch.no_grad():
            self.features = torch.cat([fn(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
        model.train(was)

    def __len__(self) -> int:
        return len(self.features)


class _Step(nn.Module):
    """(embedding-or-map, logits) of a batch: what the loss needs, in one module DDP can wrap."""

    def __init__(self, model: nn.Module, cached: bool, decoder: nn.Module | None = None):
        super().__init__()
        self.model, self.cached, self.decoder = model, cached, decoder

    def forward(self, x: torch.Tensor, view2: torch.Tensor | None = None) -> tuple:
        """(features, logits, the decoder's reconstruction or None, the second view's features or None);
        everything runs here, in the one call DDP wraps, so DDP averages every gradient."""
        m = self.model
        if not hasattr(m, "forward_head"):  # a plain module: logits only
            return None, m(x), None, None
        if self.cached:
            feats = x
        elif getattr(m.head, "takes_map", False):
            feats = m.forward_map(x)
        else:
            feats = m.forward_features(x)
        decoded = self.decoder(feats) if self.decoder is not None else None
        return feats, m.forward_head(feats), decoded, m.forward_features(view2) if view2 is not None else None


class Trainer:
    """Fine-tunes `model` in place by `cfg`; see the module docstring."""

    def __init__(self, model: nn.Module, cfg: FinetuneConfig, *, checkpoint_dir: str | Path | None = None,
                 tensorboard: str | Path | None = None, progress: bool = True,
                 callbacks: tuple[Callable[["Trainer", int, dict], None], ...] = (), augment=None):
        """`augment(x, generator)` replaces the domain's default augmentation (when cfg.augment is on);
        each callback gets (trainer, epoch, record) after every epoch."""
        self.model, self.cfg, self.custom_augment = model, cfg, augment
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.tensorboard, self.progress, self.callbacks = tensorboard, progress, callbacks
        self.rank, self.world = distributed.init()

    # -- set-up ---------------------------------------------------------------------------

    def prepare(self, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray | None = None,
                y_val: np.ndarray | None = None) -> None:
        """Data, feature cache, optimizer and schedule; `fit` calls it, benchmarks may call it alone."""
        cfg = self.cfg
        if len(x_train) != len(y_train) or len(y_train) == 0:
            raise ValueError(f"need as many labels as samples (> 0), got {len(x_train)} and {len(y_train)}")
        if (x_val is None) != (y_val is None) or (x_val is not None and len(x_val) != len(y_val)):
            raise ValueError("x_val and y_val go together, one label per sample")
        if (cfg.decorrelate or cfg.supcon or cfg.reconstruct or cfg.instance) and not hasattr(self.model,
                                                                                               "forward_head"):
            raise ValueError("decorrelate, supcon, reconstruct and instance act on the embedding: "
                             "the model needs forward_features/forward_head")
        torch.manual_seed(cfg.seed)
        self.g = torch.Generator().manual_seed(cfg.seed)
        self.x, self.y = to_nchw(x_train), torch.as_tensor(np.asarray(y_train), dtype=torch.long)
        self.x_val = to_nchw(x_val) if x_val is not None else None
        self.y_val = torch.as_tensor(np.asarray(y_val), dtype=torch.long) if y_val is not None else None
        self.augment = None
        if cfg.augment:
            self.augment = self.custom_augment or default_augment(tuple(np.asarray(x_train).shape[1:]))
        self.n_blocks = len(backbone_blocks(self.model))
        set_trainable(self.model, self._top(0))
        self.cache = None
        if (cfg.cache_features and cfg.frozen_backbone and not cfg.augment and not cfg.adapter and cfg.loss == "ce"
                and not cfg.decorrelate and not cfg.supcon and not cfg.reconstruct and not cfg.instance):
            self.cache = FeatureCache(self.model, self.x)
        # a Linear head on cached features: gradients in closed form, no autograd graph (_linear_probe_grads)
        head = getattr(self.model, "head", None)
        self._closed_form = (self.cache is not None and self.world == 1 and type(head) is nn.Linear
                             and head.bias is not None)
        self.decoder = self._decoder() if cfg.reconstruct else None
        self.original = None
        if cfg.loss == "hdc":  # the features before fine-tuning, for the consistency term
            self.original = copy.deepcopy(self.model).eval().requires_grad_(False)
        # L2-SP's anchor: the backbone as loaded (Li et al., 2018), what fine-tuning may move away from
        self.anchor = [(p, p.detach().clone()) for _, b in backbone_blocks(self.model) for p in b.parameters()
                       if cfg.l2sp]
        self.steps = math.ceil(len(self.x) / cfg.batch_size)
        # fused: one kernel per step for all parameters instead of a Python loop over them; on a cached
        # head that loop was most of the step (see benchmarks/results/finetune_cache.md)
        groups = param_groups(self.model, cfg.lr, cfg.backbone_lr_scale, cfg.weight_decay,
                              frozen_backbone=cfg.frozen_backbone)
        if self.decoder is not None:  # trains with the head's learning rate, in a group of its own
            groups.append({"name": "decoder", "params": list(self.decoder.parameters()), "lr": cfg.lr,
                           "weight_decay": cfg.weight_decay})
        self.opt = torch.optim.AdamW(groups, fused=True)
        self.sched = self._scheduler()
        self.history: dict[str, list] = {}
        self.start_epoch, self.best_loss, self.best_epoch, self.wait = 0, math.inf, None, 0
        self.best_state = None
        self.trainable_params, self.train_seconds = 0, 0.0
        self._stage = None

    def _decoder(self) -> nn.Module:
        """The auxiliary decoder, sized by one look at the embedding (eval mode: BatchNorm untouched)."""
        was = self.model.training
        self.model.eval()
        with torch.no_grad():
            width = self.model.forward_features(self.x[:1]).shape[1]
        self.model.train(was)
        return losses.Decoder(width, tuple(self.x.shape[1:]))

    def _top(self, epoch: int) -> int:
        if not self.cfg.pretrained:
            return self.n_blocks
        return trainable_top(self.cfg.unfreeze, epoch, self.n_blocks, self.cfg.keep_frozen)

    def _scheduler(self):
        cfg, total = self.cfg, self.cfg.epochs * self.steps
        if cfg.scheduler == "onecycle":
            return torch.optim.lr_scheduler.OneCycleLR(
                self.opt, max_lr=[g["lr"] for g in self.opt.param_groups], total_steps=total,
                pct_start=max(cfg.warmup, 1e-6))
        warm = int(cfg.warmup * total)

        def factor(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            if cfg.scheduler == "constant":
                return 1.0
            return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

        return torch.optim.lr_scheduler.LambdaLR(self.opt, factor)

    # -- the loop ------------------------------------------------------------------------

    def fit(self, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray | None = None,
            y_val: np.ndarray | None = None, resume: bool = False) -> FitResult:
        """Train for cfg.epochs (or until early stopping); the model ends in eval mode with the best
        validation weights (the last weights without validation)."""
        self.prepare(x_train, y_train, x_val, y_val)
        if resume:
            self.load_state()
        writer = self._writer()
        stopped = False
        ctx = distributed.global_batchnorm(self.model) if self.world > 1 else contextlib.nullcontext()
        try:
            with ctx, Progress(disable=not self.progress or self.rank != 0, transient=True) as bar:
                task = bar.add_task(self.cfg.strategy, total=self.cfg.epochs, completed=self.start_epoch)
                for epoch in range(self.start_epoch, self.cfg.epochs):
                    record = self.train_epoch(epoch)
                    record.update(self._validate())
                    stopped = self._early_stopping(epoch, record)
                    self._log(record, writer)
                    self.start_epoch = epoch + 1
                    self.save_state()
                    for cb in self.callbacks:
                        cb(self, epoch, record)
                    bar.update(task, advance=1, description=_describe(self.cfg.strategy, record))
                    if stopped:
                        break
        finally:
            if writer is not None:
                writer.close()
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        apply_modes(self.model, False)
        return FitResult(self.history, self.best_epoch, stopped, self.train_seconds, self.trainable_params)

    def train_epoch(self, epoch: int) -> dict:
        """One pass over the training data at `epoch`'s freezing stage; returns its record."""
        t0 = time.perf_counter()
        cfg, model = self.cfg, self.model
        top = self._top(epoch)
        if self._stage != top:  # a new freezing stage (DDP must be rebuilt when the trained set changes)
            self._trainable = set_trainable(model, top)
            self._stage, self.step_module = top, self._wrap()
            self.trainable_params = max(self.trainable_params,
                                        sum(p.numel() for p in model.parameters() if p.requires_grad))
        if self.cache is not None:  # only the head runs; walking the whole model's modes costs as much as a step
            model.head.train()
        else:
            apply_modes(model, True)
        lrs = [g["lr"] for g in self.opt.param_groups]  # what this epoch's first step uses
        source = self.cache.features if self.cache is not None else self.x
        # A step on a cached head costs ~0.1 ms, so the loop does nothing a step does not need: index
        # slicing of pre-stacked tensors (no DataLoader), no sharding alone, and the logged loss and
        # accuracy are reduced once per epoch from the kept outputs instead of converted every step.
        kept = []  # (loss, global batch size, logits, labels) of each step
        for idx in torch.randperm(len(source), generator=self.g).split(cfg.batch_size):
            raw, yb = source[idx], self.y[idx]
            xb = self.augment(raw, self.g) if self.augment is not None else raw
            # instance term: a second augmented view of every sample, and its index in the global batch
            view2 = self.augment(raw, self.g) if cfg.instance else None
            ids = torch.arange(len(idx)) if cfg.instance else None
            if self.world > 1:
                part = distributed.shard(len(idx), self.rank, self.world)
                xb, yb = xb[part], yb[part]
                view2, ids = (view2[part], ids[part]) if cfg.instance else (None, None)
            self.opt.zero_grad()
            if self._closed_form:
                loss, logits = self._linear_probe_grads(xb, yb, len(idx))
            else:
                loss, logits = self._loss(xb, yb, len(idx), view2, ids)
                loss.backward()
            if cfg.clip_grad is not None:
                nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], cfg.clip_grad)
            self.opt.step()
            self.sched.step()
            kept.append((loss.detach(), len(idx), logits.detach(), yb))
        step_losses, sizes, logits, labels = zip(*kept)
        loss_sum = float(torch.stack(step_losses).double() @ torch.tensor(sizes, dtype=torch.float64)) / self.world
        correct = int((torch.cat(logits).argmax(1) == torch.cat(labels)).sum())
        sums = distributed.all_sum([loss_sum, correct])
        self.train_seconds += time.perf_counter() - t0
        return {"epoch": epoch, "loss": float(sums[0] / len(source)), "train_acc": float(sums[1] / len(source)),
                "lr_head": lrs[1], "lr_backbone": lrs[0],
                "trainable_blocks": self._trainable, "epoch_seconds": time.perf_counter() - t0}

    def _linear_probe_grads(self, feats: torch.Tensor, yb: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Summed cross-entropy / n of a Linear head on cached features, its gradients written to .grad.

        The gradient of softmax cross-entropy through a Linear layer is (softmax - one-hot) x features.
        On a cached probe autograd's engine costs more than the step's arithmetic (about 90 of a step's
        170 us here, benchmarks/results/finetune_cache.md); the result equals autograd's to float rounding
        (tests/test_finetune.py). Only the cache's conditions reach it: cross-entropy alone, one process.
        """
        head = self.model.head
        with torch.no_grad():
            logits = torch.addmm(head.bias, feats, head.weight.t())
            logp = logits.log_softmax(1)
            rows = torch.arange(len(yb))
            loss = -logp[rows, yb].sum() / n
            d = logp.exp_()
            d[rows, yb] -= 1.0
            d.div_(n)
            if head.weight.requires_grad:
                head.weight.grad = d.t() @ feats
            if head.bias.requires_grad:
                head.bias.grad = d.sum(0)
        return loss, logits

    def _wrap(self) -> nn.Module:
        step = _Step(self.model, self.cache is not None, self.decoder)
        if self.world == 1:
            return step
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(step, find_unused_parameters=getattr(self.model.head, "takes_map", False))

    def _loss(self, xb: torch.Tensor, yb: torch.Tensor, global_n: int, view2: torch.Tensor | None = None,
              ids: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """This rank's loss, scaled so the DDP average of the gradients is the global batch's gradient."""
        cfg = self.cfg
        if self.cache is not None and self.world == 1:  # the cached head alone: spare the wrapper module's call
            feats, logits, decoded, feats2 = xb, self.model.forward_head(xb), None, None
        else:
            feats, logits, decoded, feats2 = self.step_module(xb, view2)
        w_ce, w_cons, w_sep = cfg.loss_weights if cfg.loss == "hdc" else (1.0, 0.0, 0.0)
        per_sample = losses.cross_entropy_sum(logits, yb)
        if w_ce != 1.0:  # a multiply by 1 is exact, but it is one more kernel per step
            per_sample = w_ce * per_sample
        if cfg.loss == "hdc":
            with torch.no_grad():
                original = self.original.forward_features(xb)
            per_sample = per_sample + w_cons * losses.consistency_sum(feats, original)
        if decoded is not None:
            per_sample = per_sample + cfg.reconstruct * losses.reconstruction_sum(decoded, xb)
        loss = per_sample * (self.world / global_n)
        if cfg.loss == "hdc" and w_sep:
            sep = losses.triplet_mean(distributed.all_gather_grad(feats), distributed.all_gather_grad(yb), cfg.margin)
            loss = loss + w_sep * sep
        if cfg.decorrelate:  # a batch statistic: over the global batch, like the triplet term
            loss = loss + cfg.decorrelate * losses.decorrelation(distributed.all_gather_grad(feats))
        if cfg.l2sp:  # the same on every rank, so DDP's average keeps it whole
            loss = loss + cfg.l2sp * sum((p - p0).pow(2).sum() for p, p0 in self.anchor if p.requires_grad)
        if feats2 is not None:  # SimCLR's NT-Xent = SupCon over both views with the sample index as the label
            z = torch.cat([distributed.all_gather_grad(feats), distributed.all_gather_grad(feats2)])
            same = distributed.all_gather_grad(ids)
            loss = loss + cfg.instance * losses.supcon_mean(z, torch.cat([same, same]), cfg.temperature)
        if cfg.supcon:  # contrasts every pair of the global batch
            loss = loss + cfg.supcon * losses.supcon_mean(distributed.all_gather_grad(feats),
                                                          distributed.all_gather_grad(yb), cfg.temperature)
        return loss, logits

    @torch.no_grad()
    def _validate(self) -> dict:
        if self.x_val is None:
            return {}
        was = self.model.training
        self.model.eval()
        logits = torch.cat([self.model(self.x_val[i:i + 512]) for i in range(0, len(self.x_val), 512)])
        self.model.train(was)
        loss = float(nn.functional.cross_entropy(logits, self.y_val))
        return {"val_loss": loss, "val_acc": float((logits.argmax(1) == self.y_val).float().mean())}

    def _early_stopping(self, epoch: int, record: dict) -> bool:
        if "val_loss" not in record:
            return False
        if record["val_loss"] < self.best_loss:
            self.best_loss, self.best_epoch, self.wait = record["val_loss"], epoch, 0
            self.best_state = copy.deepcopy(self.model.state_dict())
            if self.checkpoint_dir is not None and self.rank == 0:
                _save(self.checkpoint_dir / "best.pt", {"epoch": epoch, "val_loss": record["val_loss"],
                                                         "state_dict": self.best_state})
            return False
        self.wait += 1
        return self.cfg.patience is not None and self.wait >= self.cfg.patience

    # -- checkpoints and logs ----------------------------------------------------------------

    def state(self) -> dict:
        """Everything `load_state` needs to continue exactly where this run is."""
        return {
            "version": STATE_VERSION, "config": self.cfg.as_dict(), "next_epoch": self.start_epoch,
            "model": self.model.state_dict(), "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict(), "generator": self.g.get_state(),
            "torch_rng": torch.get_rng_state(), "history": self.history, "best_loss": self.best_loss,
            "best_epoch": self.best_epoch, "wait": self.wait, "best_state": self.best_state,
            "original": self.original.state_dict() if self.original is not None else None,
            "decoder": self.decoder.state_dict() if self.decoder is not None else None,
            "trainable_params": self.trainable_params, "train_seconds": self.train_seconds,
        }

    def save_state(self) -> None:
        if self.checkpoint_dir is not None and self.rank == 0:
            _save(self.checkpoint_dir / "last.pt", self.state())

    def load_state(self) -> None:
        """Restore checkpoint_dir/last.pt (written by an earlier run with the same config)."""
        if self.checkpoint_dir is None:
            raise ValueError("resume needs a checkpoint_dir")
        path = self.checkpoint_dir / "last.pt"
        from edgehdc.models.checkpoint import read_checkpoint

        s = read_checkpoint(path)
        if not isinstance(s, dict) or s.get("version") != STATE_VERSION:
            raise ValueError(f"{path} is not a training state of version {STATE_VERSION}")
        if s["config"] != self.cfg.as_dict():
            diff = sorted(k for k in s["config"] if s["config"][k] != self.cfg.as_dict().get(k))
            raise ValueError(f"{path} was written with another config (differs in {diff})")
        self.model.load_state_dict(s["model"])
        set_trainable(self.model, self._top(max(s["next_epoch"] - 1, 0)))
        self.opt.load_state_dict(s["optimizer"])
        self.sched.load_state_dict(s["scheduler"])
        self.g.set_state(s["generator"])
        torch.set_rng_state(s["torch_rng"])
        if self.original is not None:
            self.original.load_state_dict(s["original"])
        if self.decoder is not None:
            self.decoder.load_state_dict(s["decoder"])
        if self.cache is not None:  # features of the restored backbone
            self.cache = FeatureCache(self.model, self.x)
        self.history, self.start_epoch = s["history"], s["next_epoch"]
        self.best_loss, self.best_epoch, self.wait = s["best_loss"], s["best_epoch"], s["wait"]
        self.best_state, self.trainable_params = s["best_state"], s["trainable_params"]
        self.train_seconds = s["train_seconds"]

    def _writer(self):
        if self.tensorboard is None or self.rank != 0:
            return None
        from torch.utils.tensorboard import SummaryWriter

        return SummaryWriter(log_dir=str(self.tensorboard))

    def _log(self, record: dict, writer) -> None:
        for k, v in record.items():
            self.history.setdefault(k, []).append(v)
            if writer is not None and isinstance(v, (int, float)) and k != "epoch":
                writer.add_scalar(k, v, record["epoch"])


def _save(path: Path, obj) -> None:
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


def _describe(name: str, r: dict) -> str:
    val = f" val {r['val_acc']:.3f}" if "val_acc" in r else ""
    return f"{name}: loss {r['loss']:.3f}{val}"


