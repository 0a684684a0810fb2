import numpy as np
import pytest
import torch
from torch import nn

from edgehdc import models
from edgehdc.data import Split
from edgehdc.finetune import evaluate, fit
from edgehdc.models.layers import ConvBNAct, same_padding


def test_registry_lists_and_creates():
    assert "tinycnn" in models.list_models()
    net = models.create("tinycnn", num_classes=7, embedding_dim=24)
    assert isinstance(net, models.TinyCNN)
    with pytest.raises(ValueError, match="unknown model"):
        models.create("resnet9000", num_classes=10)
    with pytest.raises(ValueError, match="num_classes"):
        models.create("tinycnn", num_classes=0)


def test_register_rejects_duplicate_names():
    with pytest.raises(ValueError, match="already registered"):
        models.register("tinycnn")(lambda num_classes: nn.Identity())


def test_forward_splits_into_features_and_head():
    torch.manual_seed(0)
    net = models.create("tinycnn", num_classes=10, embedding_dim=32).eval()
    x = torch.rand(5, 1, 16, 16)
    emb = net.forward_features(x)
    assert emb.shape == (5, 32)
    assert (emb < 0).any(), "the embedding has no activation: signed features"
    logits = net.forward_head(emb)
    assert logits.shape == (5, 10)
    torch.testing.assert_close(net(x), logits)


@pytest.mark.parametrize("size,k,s,expected", [(16, 3, 2, (0, 1)), (16, 3, 1, (1, 1)), (15, 3, 2, (1, 1)),
                                               (8, 1, 1, (0, 0)), (5, 5, 2, (2, 2)), (4, 3, 2, (0, 1))])
def test_same_padding_follows_tflite(size, k, s, expected):
    assert same_padding(size, k, s) == expected


def test_stride2_conv_pads_bottom_right_only():
    # TFLite SAME on an even size with stride 2: the first window starts at row/col 0.
    block = ConvBNAct(1, 1, 3, stride=2).eval()
    with torch.no_grad():
        block.conv.weight.zero_()
        block.conv.weight[0, 0, 0, 0] = 1.0  # reads the window's top-left pixel
    block.act = nn.Identity()
    x = torch.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    bn = block.bn
    y = (block(x) - bn.bias) * torch.sqrt(bn.running_var + bn.eps) / bn.weight
    torch.testing.assert_close(y[0, 0], x[0, 0, ::2, ::2])


def _tiny_split(n=120):
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    x = rng.random((n, 8, 8, 1), dtype=np.float32) * 0.5
    x[y == 1, :4] += 0.5  # class 1 is bright on top
    return Split(x, y.astype(np.int64), x[:40], y[:40].astype(np.int64), ("dark", "top"))


def test_fit_is_deterministic_and_learns():
    split = _tiny_split()
    nets = []
    for _ in range(2):
        torch.manual_seed(0)
        nets.append(models.create("tinycnn", num_classes=2))
    hist = [fit(n, split, epochs=8, batch_size=16, seed=3, progress=False) for n in nets]
    assert hist[0] == hist[1]
    for a, b in zip(nets[0].state_dict().values(), nets[1].state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert len(hist[0]["loss"]) == 8 and hist[0]["loss"][-1] < hist[0]["loss"][0]
    assert evaluate(nets[0], split.x_test, split.y_test) == hist[0]["test_acc"][-1] >= 0.9
    assert not nets[0].training


def test_fit_and_evaluate_reject_bad_arguments():
    split = _tiny_split()
    net = models.create("tinycnn", num_classes=2)
    with pytest.raises(ValueError):
        fit(net, split, epochs=0, progress=False)
    with pytest.raises(ValueError):
        evaluate(net, split.x_test, split.y_test[:3])
    with pytest.raises(ValueError, match="NHWC"):
        evaluate(net, split.x_test[:, :, :, 0], split.y_test)


def _tinycnn_backbone_params(c_in: int, k2: int, widths, emb: int) -> int:
    """Conv weights (no bias) + BatchNorm (2 per channel) of conv, dw, pw, dw, pw; then the Linear embedding."""
    c1, c2, c3 = widths
    return (k2 * c_in * c1 + 2 * c1 + k2 * c1 + 2 * c1 + c1 * c2 + 2 * c2 + k2 * c2 + 2 * c2
            + c2 * c3 + 2 * c3 + c3 * emb + emb)


@pytest.mark.parametrize("name,c_in,k2,shape", [("tinycnn", 1, 9, (1, 16, 16)), ("tinycnn1d", 12, 5, (12, 1, 32))])
def test_width_multiplies_every_stage(name, c_in, k2, shape):
    default = models.create(name, num_classes=5, in_chans=c_in)
    assert [tuple(p.shape) for p in default.state_dict().values()] == \
        [tuple(p.shape) for p in models.create(name, num_classes=5, in_chans=c_in, width=1).state_dict().values()]
    for width in (1, 2, 4):
        net = models.create(name, num_classes=5, in_chans=c_in, width=width).eval()
        widths = tuple(width * c for c in (16, 32, 64))
        assert net.map_channels == widths[2]
        assert sum(p.numel() for p in net.features.parameters()) == _tinycnn_backbone_params(c_in, k2, widths, 32)
        assert net.forward_features(torch.rand(2, *shape)).shape == (2, 32)
    # digits: 5.5 k backbone parameters at width 1, 16.2 k at 2 (the 4x-ish regime), 52.8 k at 4
    if name == "tinycnn":
        assert [_tinycnn_backbone_params(1, 9, tuple(w * c for c in (16, 32, 64)), 32) for w in (1, 2, 4)] == \
            [5536, 16160, 52768]
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="width"):
            models.create(name, num_classes=5, width=bad)
