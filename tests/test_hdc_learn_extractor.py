"""The learn demo's extractor: the HDC stage reads the feature map before the pool (`tap_feature_map`)."""

import numpy as np
import pytest
import torch
from torch import nn

from edgehdc import models
from edgehdc.data import load_digits
from edgehdc.hdc.learn_extractor import tap_feature_map
from edgehdc.kernels.interpreter import run as run_int8
from edgehdc.quant.ptq import quantize


def _trained_looking_net() -> nn.Module:
    """A TinyCNN with random weights and BatchNorm statistics that are not the defaults."""
    torch.manual_seed(3)
    net = models.create("tinycnn", num_classes=9, embedding_dim=32)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    return net.eval()


def test_tapped_net_has_the_same_logits_and_exports_the_map():
    net = _trained_looking_net()
    x = torch.rand(20, 1, 16, 16)
    tapped = tap_feature_map(net).eval()
    with torch.no_grad():
        assert torch.allclose(tapped(x), net(x), atol=1e-5)  # the embedding layer and head multiplied out
        assert tapped.forward_features(x).shape == (20, 64, 4, 4)
        before = [p.clone() for p in net.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))  # the original is untouched
    assert not any(isinstance(m, nn.Linear) and m.out_features == 32 for m in tapped.modules())

    images = load_digits(size=16, seed=0).x_train[:64]
    graph = quantize(tapped, images)
    embedding, logits = (graph.tensors[t] for t in graph.outputs)
    assert embedding.shape == (1, 4, 4, 64) and logits.shape == (1, 9)
    feats, q_logits = run_int8(graph, _quantized(graph, images[:2]))
    assert feats.reshape(2, -1).shape[1] == 1024  # the HDC encoder's input: H' * W' * C values
    # the int8 logits follow the float ones of the original net
    with torch.no_grad():
        float_logits = net(torch.from_numpy(images[:2]).permute(0, 3, 1, 2)).numpy()
    qp = logits.quant
    deq = (q_logits.reshape(2, -1).astype(np.float64) - qp.zero_point[0]) * qp.scale[0]
    assert np.abs(deq - float_logits).max() < 0.1 * np.abs(float_logits).max()


def _quantized(graph, images: np.ndarray) -> np.ndarray:
    from edgehdc.data import quantize_input

    q = graph.tensors[graph.inputs[0]].quant
    return quantize_input(images, float(q.scale[0]), int(q.zero_point[0]))


def test_tap_refuses_a_net_it_cannot_recut():
    net = models.create("tinycnn", num_classes=9)
    net.features = nn.Sequential(*list(net.features)[:-1])  # no embedding layer after the pool
    with pytest.raises(ValueError, match="GlobalAvgPool, Linear"):
        tap_feature_map(net)

