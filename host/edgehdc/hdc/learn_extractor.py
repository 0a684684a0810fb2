"""The learn demo's feature extractor: the CNN's last feature map, not its embedding.

Cross-entropy on nine digits makes the 32-value embedding after the global
pool collapse onto what separates those nine (docs/hdc.md, "The learn
demo"): a centroid of ten shots of a tenth digit lands among them. The
feature map before the pool (H' x W' x C values) keeps where the strokes
are, and a new digit's centroid there separates it (measured on validation
images). `tap_feature_map` re-cuts a trained TinyCNN so that PTQ exports
that map as the embedding the HDC encoder reads; the embedding layer and
the classifier are multiplied out into one Linear after the pool, so the
logits stay the net's own.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from edgehdc.models.layers import GlobalAvgPool


def tap_feature_map(net: nn.Module) -> nn.Module:
    """The TinyCNN `net` re-cut so that its embedding output is the last feature map before the pool.

    features: the convolutions (the map, [N, C, H', W'], is what PTQ exports as the embedding and the
    HDC encoder reads: H'*W'*C int8 values); head: global pool, then one Linear = the embedding layer
    and the classifier multiplied out (no activation between them), so the logits are the net's own.
    Returns a new module; `net` is left as it is.
    """
    *_, pool, embed = net.features
    if not isinstance(pool, GlobalAvgPool) or not isinstance(embed, nn.Linear) or not isinstance(net.head, nn.Linear):
        raise ValueError("tap_feature_map needs features ending in GlobalAvgPool, Linear and a Linear head")
    head = nn.Linear(embed.in_features, net.head.out_features)
    with torch.no_grad():
        head.weight.copy_(net.head.weight @ embed.weight)
        head.bias.copy_(net.head.weight @ embed.bias + net.head.bias)
    tapped = copy.deepcopy(net)
    tapped.features = nn.Sequential(*list(tapped.features)[:-2])  # the convolutions, copied once
    tapped.head = nn.Sequential(GlobalAvgPool(), head)
    return tapped
