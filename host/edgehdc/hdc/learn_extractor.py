"""The learn demo's feature extractor: a CNN trained on the known classes that still describes a new one.

Cross-entropy on nine digits makes the 32-value embedding collapse onto what
separates those nine (docs/hdc.md, "The learn demo"): a centroid of ten shots
of a tenth digit lands among them. Two changes keep what a new class needs:

- `ReconstructionTrainer`: the usual training (cross-entropy + triplet) plus
  a reconstruction term, a small decoder from the embedding back to the
  input image. It is used in training only: the exported model has no
  decoder (it lives on the trainer, not the model).
- `tap_feature_map`: the HDC stage reads the last feature map before the
  global pool (H' x W' x C values) instead of the embedding; the embedding
  layer and the classifier are multiplied out into one Linear after the pool,
  so the logits stay the net's own.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from edgehdc.finetune.trainer import Trainer
from edgehdc.models.layers import GlobalAvgPool

DECODER_HIDDEN = 128


class ReconstructionTrainer(Trainer):
    """`Trainer` whose loss adds `weight` x the mean squared pixel error of a decoder from the embedding.

    The decoder (embedding -> 128 -> ReLU -> image) is built when training
    starts, from the training images' shape, and trained with the model (its
    own AdamW group under the same schedule). The embedding is taken from the
    model's forward pass by a hook, so a step runs the model once; the hook
    is removed when `fit` returns.
    """

    def __init__(self, model: nn.Module, cfg, *, weight: float, **kw):
        if weight < 0:
            raise ValueError(f"the reconstruction weight must be >= 0, got {weight}")
        if not hasattr(model, "embedding_dim"):
            raise ValueError("ReconstructionTrainer needs a model with an embedding_dim (a TinyCNN)")
        super().__init__(model, cfg, **kw)
        if self.world > 1:
            raise NotImplementedError("ReconstructionTrainer trains in one process (the decoder is not wrapped)")
        self.weight = weight
        self.decoder: nn.Module | None = None
        self._embedding: torch.Tensor | None = None
        self._hook = None

    def fit(self, *args, **kw):
        try:
            return super().fit(*args, **kw)
        finally:
            if self._hook is not None:
                self._hook.remove()
                self._hook = None

    def _scheduler(self):
        # prepare() calls this last: the data and the frozen copy of the model for the consistency term
        # exist (a hook added earlier would be copied into it), the schedule must see the decoder's group.
        pixels = int(torch.tensor(self.x.shape[1:]).prod())
        self.decoder = nn.Sequential(nn.Linear(self.model.embedding_dim, DECODER_HIDDEN), nn.ReLU(),
                                     nn.Linear(DECODER_HIDDEN, pixels))
        self.opt.add_param_group({"name": "decoder", "params": list(self.decoder.parameters()), "lr": self.cfg.lr,
                                  "weight_decay": self.cfg.weight_decay})
        self._hook = self.model.features.register_forward_hook(self._keep_embedding)
        return super()._scheduler()

    def _keep_embedding(self, module, inputs, output) -> None:
        self._embedding = output

    def _loss(self, xb: torch.Tensor, yb: torch.Tensor, global_n: int) -> tuple[torch.Tensor, torch.Tensor]:
        loss, logits = super()._loss(xb, yb, global_n)
        recon = F.mse_loss(self.decoder(self._embedding), xb.flatten(1))
        return loss + self.weight * recon, logits

    def reconstruction_error(self, x: torch.Tensor) -> float:
        """Mean squared pixel error of the decoder on NCHW images `x` (model and decoder in eval mode)."""
        was = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                return float(F.mse_loss(self.decoder(self.model.forward_features(x)), x.flatten(1)))
        finally:
            self.model.train(was)


def tap_feature_map(net: nn.Module) -> nn.Module:
    """The TinyCNN `net` re-cut so that its embedding output is the last feature map before the pool.

    features: the convolutions (the map, [N, C, H', W'], is what PTQ exports as the embedding and the
    HDC encoder reads: H'*W'*C int8 values); head: global pool, then one Linear = the embedding layer
    and the classifier multiplied out (no activation between them), so the logits are the net's own.
    Returns a new module; `net` is left as it is.
    """
    *convs, pool, embed = net.features
    if not isinstance(pool, GlobalAvgPool) or not isinstance(embed, nn.Linear) or not isinstance(net.head, nn.Linear):
        raise ValueError("tap_feature_map needs features ending in GlobalAvgPool, Linear and a Linear head")
    tapped = copy.deepcopy(net)
    head = nn.Linear(embed.in_features, net.head.out_features)
    with torch.no_grad():
        head.weight.copy_(net.head.weight @ embed.weight)
        head.bias.copy_(net.head.weight @ embed.bias + net.head.bias)
    tapped.features = nn.Sequential(*copy.deepcopy(convs))
    tapped.head = nn.Sequential(GlobalAvgPool(), head)
    return tapped
