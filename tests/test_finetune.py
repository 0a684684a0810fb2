"""The fine-tuning toolkit: what trains when, optimizer groups, checkpoints, early stopping, resume, cache."""

import copy
import json

import numpy as np
import pytest
import torch
from torch import nn

from edgehdc import models
from edgehdc.data import base_target, few_shot, load_digits
from edgehdc.finetune import FeatureCache, FinetuneConfig, Trainer
from edgehdc.finetune import metrics
from edgehdc.finetune.cli import parse_sets
from edgehdc.finetune.train import to_nchw
from edgehdc.finetune.freezing import backbone_blocks, param_groups
from edgehdc.finetune.workflow import build_model, finetune, pretrain
from edgehdc.models import load_pretrained


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def tasks():
    base, target = base_target(load_digits(size=8), list("01234"), list("56789"))
    return base, target, few_shot(target, 4, seed=0, val_per_class=6)


@pytest.fixture(scope="module")
def base_ckpt(tasks, tmp_path_factory):
    return pretrain(tasks[0], tmp_path_factory.mktemp("base") / "base.pt", epochs=3, progress=False)


BLOCKS = ["features.0", "features.1", "features.2", "features.3", "features.4", "features.6"]


def _trained_per_epoch(model, cfg, task):
    """The parameter-name prefixes that changed in each epoch (= received gradients and stepped)."""
    trainer = Trainer(model, cfg, progress=False)
    trainer.prepare(task.train.x_train, task.train.y_train, task.x_val, task.y_val)
    changed = []
    for epoch in range(cfg.epochs):
        before = {n: p.detach().clone() for n, p in model.named_parameters()}
        trainer.train_epoch(epoch)
        names = {n for n, p in model.named_parameters() if not torch.equal(before[n], p)}
        changed.append(sorted(names))
    return changed


def _blockset(names):
    return sorted({"head" if n.startswith("head") else ".".join(n.split(".")[:2]) for n in names})


@pytest.mark.parametrize("strategy,expected", [
    ("linear_probe", ["head"]),
    ("mlp_head", ["head"]),
    ("bn_head", ["head"]),
    ("attention_head", ["head"]),
    ("full", BLOCKS + ["head"]),
    ("discriminative", BLOCKS + ["head"]),
    ("hdc_refine", BLOCKS + ["features.7", "head"]),  # features.7 is the HDC adapter
])
def test_which_parameters_train_per_strategy(strategy, expected, tasks, base_ckpt):
    cfg = FinetuneConfig.strategy(strategy, epochs=2, cache_features=False)
    model = build_model(cfg, "tinycnn", {}, 5, base_ckpt)
    for epoch_changed in _trained_per_epoch(model, cfg, tasks[2]):
        assert _blockset(epoch_changed) == expected


def test_progressive_unfreezing_stages(tasks, base_ckpt):
    cfg = FinetuneConfig.strategy("progressive", epochs=5, unfreeze=[[0, 0], [2, 2], [4, 6]], keep_frozen=1)
    model = build_model(cfg, "tinycnn", {}, 5, base_ckpt)
    stages = [_blockset(c) for c in _trained_per_epoch(model, cfg, tasks[2])]
    top2 = ["features.4", "features.6", "head"]
    all_but_lowest = BLOCKS[1:] + ["head"]  # keep_frozen=1: features.0 never trains
    assert stages == [["head"], ["head"], top2, top2, all_but_lowest]
    frozen = backbone_blocks(model)[0][1]
    assert not frozen.training or not model.training  # frozen blocks run in eval mode (BN statistics fixed)


def test_param_groups_and_learning_rates(tasks, base_ckpt):
    cfg = FinetuneConfig.strategy("discriminative", lr=2e-3, scheduler="constant", warmup=0.0, epochs=1)
    model = build_model(cfg, "tinycnn", {}, 5, base_ckpt)
    trainer = Trainer(model, cfg, progress=False)
    trainer.prepare(tasks[2].train.x_train, tasks[2].train.y_train)
    groups = trainer.opt.param_groups
    assert [g["name"] for g in groups] == ["backbone", "head"]
    assert groups[0]["lr"] == pytest.approx(2e-4) and groups[1]["lr"] == pytest.approx(2e-3)
    assert {id(p) for p in groups[1]["params"]} == {id(p) for p in model.head.parameters()}
    n_backbone = sum(p.numel() for _, b in backbone_blocks(model) for p in b.parameters())
    assert sum(p.numel() for p in groups[0]["params"]) == n_backbone
    assert all(g["weight_decay"] == cfg.weight_decay for g in groups)
    # one-cycle warms each group up to its own peak: peak / 25 at the start
    cfg = cfg.replace(scheduler="onecycle", warmup=0.3, epochs=10)
    trainer = Trainer(build_model(cfg, "tinycnn", {}, 5, base_ckpt), cfg, progress=False)
    trainer.prepare(tasks[2].train.x_train, tasks[2].train.y_train)
    assert [g["max_lr"] for g in trainer.opt.param_groups] == pytest.approx([2e-4, 2e-3])
    assert [g["lr"] for g in trainer.opt.param_groups] == pytest.approx([2e-4 / 25, 2e-3 / 25])
    # cosine with warm-up: a linear ramp over half the steps, then a half cosine (one step per epoch here)
    cfg = cfg.replace(scheduler="cosine", warmup=0.5, epochs=4, batch_size=100)
    trainer = Trainer(build_model(cfg, "tinycnn", {}, 5, base_ckpt), cfg, progress=False)
    result = trainer.fit(tasks[2].train.x_train, tasks[2].train.y_train)
    assert result.history["lr_head"] == pytest.approx([1e-3, 2e-3, 2e-3, 1e-3], abs=1e-12)


def test_checkpoint_is_loaded_before_freezing(tasks, base_ckpt, monkeypatch):
    events = []
    import edgehdc.finetune.workflow as wf

    real_load, real_set = wf.load_pretrained, wf.set_trainable
    monkeypatch.setattr(wf, "load_pretrained", lambda *a, **k: (events.append("load"), real_load(*a, **k))[1])
    monkeypatch.setattr(wf, "set_trainable", lambda *a, **k: (events.append("freeze"), real_set(*a, **k))[1])
    cfg = FinetuneConfig.strategy("linear_probe", epochs=3)
    model = build_model(cfg, "tinycnn", {}, 5, base_ckpt)
    assert events == ["load", "freeze"]
    saved = torch.load(base_ckpt, weights_only=True)["state_dict"]
    Trainer(model, cfg, progress=False).fit(tasks[2].train.x_train, tasks[2].train.y_train)
    for k, v in model.state_dict().items():
        if k.startswith("features."):  # frozen: still exactly the checkpoint's, BN statistics included
            assert torch.equal(v, saved[k]), k
    for p in model.features.parameters():
        assert not p.requires_grad


def test_checkpoint_errors_name_the_file_and_key(tmp_path, base_ckpt):
    model = models.create("tinycnn", num_classes=5)
    snapshot = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match="does not exist"):
        load_pretrained(model, tmp_path / "missing.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(base_ckpt.read_bytes()[:500])
    with pytest.raises(ValueError, match="corrupt.pt is not a readable PyTorch file"):
        load_pretrained(model, corrupt)
    other = tmp_path / "other.pt"
    torch.save(nn.Sequential(nn.Linear(4, 4)).state_dict(), other)
    with pytest.raises(ValueError, match=r"other.pt lacks 'features.0.conv.weight'.*another architecture"):
        load_pretrained(model, other)
    with pytest.raises(ValueError, match=r"'head.weight' predicts 5 classes, the task has 3"):
        load_pretrained(models.create("tinycnn", num_classes=3), base_ckpt, keep_head=True)
    with pytest.raises(ValueError, match="takes 1 input channels, the data has 3"):
        load_pretrained(models.create("tinycnn", num_classes=5, in_chans=3), base_ckpt)
    whole = tmp_path / "whole.pt"
    torch.save(models.create("tinycnn", num_classes=5), whole)
    with pytest.raises(ValueError, match="trusted=True"):
        load_pretrained(model, whole)
    for k, v in model.state_dict().items():  # nothing was half loaded
        assert torch.equal(v, snapshot[k]), k
    load_pretrained(model, whole, trusted=True)  # a torch.save(model) file, when trusted


def test_checkpoint_wrappers_and_prefixes_load(tmp_path, base_ckpt):
    source = models.load_model(base_ckpt)[0]
    wrapped = {f"module.{k}": v for k, v in source.state_dict().items()}
    path = tmp_path / "ddp.pt"
    torch.save({"epoch": 3, "state_dict": wrapped}, path)
    model = models.create("tinycnn", num_classes=7)
    loaded = load_pretrained(model, path)
    assert loaded and all(not k.startswith("head") for k in loaded)
    torch.testing.assert_close(model.features[0].conv.weight, source.features[0].conv.weight, rtol=0, atol=0)


def test_early_stopping_on_validation_restores_the_best(tasks, base_ckpt, tmp_path):
    task = tasks[2]
    cfg = FinetuneConfig.strategy("full", epochs=40, patience=3, lr=3e-2, seed=1)
    model = build_model(cfg, "tinycnn", {}, 5, base_ckpt)
    wrong = (task.y_val + 1) % 5  # labels the training data contradicts: validation loss soon rises
    result = Trainer(model, cfg, checkpoint_dir=tmp_path, progress=False).fit(
        task.train.x_train, task.train.y_train, task.x_val, wrong)
    h = result.history
    assert result.stopped_early and len(h["loss"]) == result.best_epoch + 1 + cfg.patience < cfg.epochs
    assert min(h["val_loss"]) == h["val_loss"][result.best_epoch]
    assert all(v >= h["val_loss"][result.best_epoch] for v in h["val_loss"][result.best_epoch + 1:])
    best = torch.load(tmp_path / "best.pt", weights_only=True)
    assert best["epoch"] == result.best_epoch
    for k, v in model.state_dict().items():
        assert torch.equal(v, best["state_dict"][k]), k


@pytest.mark.parametrize("strategy,changes", [("progressive", {}), ("hdc_refine", {}), ("full", {"reconstruct": 1.0})])
def test_resumed_run_ends_where_an_uninterrupted_run_ends(strategy, changes, tasks, base_ckpt, tmp_path):
    task = tasks[2]
    cfg = FinetuneConfig.strategy(strategy, epochs=6, unfreeze=[[0, 0], [2, 3]] if strategy == "progressive"
                                  else None, head_dropout=0.3, head="mlp", batch_size=8, **changes)

    def run(checkpoint_dir, resume=False, callbacks=()):
        model = build_model(cfg, "tinycnn", {}, 5, base_ckpt)
        trainer = Trainer(model, cfg, checkpoint_dir=checkpoint_dir, progress=False, callbacks=callbacks)
        return model, trainer.fit(task.train.x_train, task.train.y_train, task.x_val, task.y_val, resume=resume)

    full_model, full = run(tmp_path / "a")

    def interrupt(trainer, epoch, record):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "b", callbacks=(interrupt,))
    assert torch.load(tmp_path / "b" / "last.pt", weights_only=False)["next_epoch"] == 3
    resumed_model, resumed = run(tmp_path / "b", resume=True)
    assert resumed.history["loss"] == full.history["loss"] and resumed.history["val_loss"] == full.history["val_loss"]
    assert resumed.best_epoch == full.best_epoch
    for (k, a), b in zip(full_model.state_dict().items(), resumed_model.state_dict().values()):
        assert torch.equal(a, b), k
    other = cfg.replace(lr=0.5)
    with pytest.raises(ValueError, match=r"another config \(differs in \['lr'\]\)"):
        Trainer(build_model(other, "tinycnn", {}, 5, base_ckpt), other, checkpoint_dir=tmp_path / "b",
                progress=False).fit(task.train.x_train, task.train.y_train, resume=True)


@pytest.mark.parametrize("strategy", ["mlp_head", "linear_probe"])
def test_feature_cache_trains_the_same_head(tasks, base_ckpt, strategy):
    """Cached features train the head the uncached run trains; a Linear head on the cache takes its
    gradients in closed form (no autograd), and ends where autograd's run ends, to float rounding."""
    task = tasks[2]
    states, histories = [], []
    for cache in (True, False):
        cfg = FinetuneConfig.strategy(strategy, epochs=5, cache_features=cache, batch_size=8)
        model = build_model(cfg, "tinycnn", {}, 5, base_ckpt)
        trainer = Trainer(model, cfg, progress=False)
        result = trainer.fit(task.train.x_train, task.train.y_train)
        assert (trainer.cache is not None) == cache
        assert trainer._closed_form == (cache and strategy == "linear_probe")
        states.append(model.state_dict())
        histories.append(result.history)
    for k in states[0]:
        torch.testing.assert_close(states[0][k], states[1][k], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(histories[0]["loss"], histories[1]["loss"], rtol=1e-5)
    assert histories[0]["train_acc"] == histories[1]["train_acc"]
    # no cache while any backbone block trains, or with augmentation
    for cfg in (FinetuneConfig.strategy("full", epochs=1), FinetuneConfig.strategy("linear_probe", augment=True)):
        trainer = Trainer(build_model(cfg, "tinycnn", {}, 5, base_ckpt), cfg, progress=False)
        trainer.prepare(task.train.x_train, task.train.y_train)
        assert trainer.cache is None
    model = models.load_model(base_ckpt)[0]
    x = torch.rand(7, 1, 8, 8)
    torch.testing.assert_close(FeatureCache(model, x, batch_size=3).features, model.eval().forward_features(x))


def test_closed_form_probe_gradients_equal_autograd(tasks, base_ckpt):
    """The cached Linear probe's closed-form loss and gradients are autograd's on the same batch
    (AdamW hides a wrong gradient scale, so the gradients themselves are compared)."""
    task = tasks[2]
    cfg = FinetuneConfig.strategy("linear_probe", epochs=1)
    trainer = Trainer(build_model(cfg, "tinycnn", {}, 5, base_ckpt), cfg, progress=False)
    trainer.prepare(task.train.x_train, task.train.y_train)
    head, feats, y = trainer.model.head, trainer.cache.features[:13], trainer.y[:13]
    with torch.no_grad():
        head.weight.normal_()  # a head far from its start: every class's softmax term matters
    loss, logits = trainer._linear_probe_grads(feats, y, 20)
    closed = head.weight.grad.clone(), head.bias.grad.clone()
    head.zero_grad()
    expected = torch.nn.functional.cross_entropy(head(feats), y, reduction="sum") / 20
    expected.backward()
    torch.testing.assert_close(loss, expected.detach())
    torch.testing.assert_close(logits, head(feats).detach())
    torch.testing.assert_close(closed[0], head.weight.grad)
    torch.testing.assert_close(closed[1], head.bias.grad)


def test_metrics_follow_sklearn_and_feature_geometry():
    y = np.array([0, 0, 1, 1, 2, 2])
    m = metrics.classification(y, np.array([0, 1, 1, 1, 2, 0]), ("a", "b", "c"))
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert m["per_class"]["b"] == {"precision": pytest.approx(2 / 3), "recall": 1.0, "f1": pytest.approx(0.8),
                                   "support": 2}
    tight = np.array([[1, 0], [1, 0.01], [0, 1], [0.01, 1]])
    loose = np.array([[1, 0.3], [0.3, 1], [1, 0.2], [0.2, 1]])
    labels = np.array([0, 0, 1, 1])
    q_tight, q_loose = metrics.feature_quality(tight, labels), metrics.feature_quality(loose, labels)
    assert q_tight["cohesion"] > 0.99 and q_tight["separation"] > 0.98 and q_tight["silhouette"] > 0.9
    assert q_loose["silhouette"] < 0 < q_tight["silhouette"]


def test_finetune_reports_float_int8_and_hdc_accuracy(tasks, base_ckpt):
    run = finetune(FinetuneConfig.strategy("discriminative", epochs=20), tasks[2], base_ckpt, progress=False)
    m = run.metrics
    for k in ("accuracy", "macro_f1", "hdc_accuracy", "int8_accuracy"):
        assert 0.2 < m[k] <= 1.0, k  # above chance (5 classes)
    assert m["trainable_params"] == sum(p.numel() for p in run.model.parameters())
    att = finetune(FinetuneConfig.strategy("attention_head", epochs=2), tasks[2], base_ckpt, progress=False)
    assert att.metrics["int8_accuracy"] is None and att.metrics["hdc_accuracy"] > 0.2


def test_config_from_toml_and_overrides(tmp_path):
    path = tmp_path / "ft.toml"
    path.write_text('[finetune]\nstrategy = "progressive"\nlr = 3e-3\nunfreeze = [[0, 0], [5, 2]]\nhead = "mlp"\n')
    cfg = FinetuneConfig.from_toml(path, epochs=7)
    assert (cfg.strategy, cfg.lr, cfg.unfreeze, cfg.head, cfg.epochs, cfg.keep_frozen) == (
        "progressive", 3e-3, ((0, 0), (5, 2)), "mlp", 7, 1)
    path.write_text("[finetune]\nlearning_rate = 1\n")
    with pytest.raises(ValueError, match=r"ft.toml: unknown config keys \['learning_rate'\]"):
        FinetuneConfig.from_toml(path)
    with pytest.raises(ValueError, match="unfreeze stages must start at epoch 0"):
        FinetuneConfig(unfreeze=[[3, 1]])
    with pytest.raises(ValueError, match="unknown strategy"):
        FinetuneConfig.strategy("magic")
    assert parse_sets(["lr=3e-3", "head=mlp", "unfreeze=[[0,0],[4,2]]", "augment=false"]) == {
        "lr": 3e-3, "head": "mlp", "unfreeze": [[0, 0], [4, 2]], "augment": False}


def test_tensorboard_logs_when_asked(tasks, base_ckpt, tmp_path):
    cfg = FinetuneConfig.strategy("linear_probe", epochs=2)
    Trainer(build_model(cfg, "tinycnn", {}, 5, base_ckpt), cfg, tensorboard=tmp_path / "tb", progress=False).fit(
        tasks[2].train.x_train, tasks[2].train.y_train, tasks[2].x_val, tasks[2].y_val)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "tb")).Reload()
    assert {"loss", "val_acc", "lr_head"} <= set(events.Tags()["scalars"])
    assert len(events.Scalars("val_acc")) == 2


def test_cli_train_then_pipeline_host_artifacts(tmp_path, base_ckpt, capsys):
    from edgehdc.cli import main
    from edgehdc.parity import Parity
    from edgehdc.pipeline import DemoConfig, build_host_artifacts, check_tflm

    out = tmp_path / "run"
    code = main(["finetune", "train", "--dataset", "digits", "--strategy", "discriminative", "--checkpoint",
                 str(base_ckpt), "--shots", "4", "--out", str(out), "--set", "epochs=3", "--set", "head=mlp"])
    assert code == 0, capsys.readouterr().out
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["config"]["head"] == "mlp" and saved["data"]["target"] == list("56789")
    assert (out / "best.pt").is_file() and (out / "last.pt").is_file()
    # ... and the fine-tuned model continues into the pipeline (int8 -> HDC -> TFLM rung)
    cfg = DemoConfig(out_dir=tmp_path / "demo", model_path=out / "model.pt")
    art = build_host_artifacts(cfg, log=lambda _: None)
    assert art.x_test_q.shape[1:] == (16, 16, 1) and art.logits.shape[1] == 5  # the CLI's digits are 16x16
    assert art.accuracy["int8"] == pytest.approx(saved["int8_accuracy"])
    parity = Parity()
    check_tflm(art, parity)
    assert parity.as_dict()["mismatches"] == 0
    assert main(["finetune", "train", "--checkpoint", str(tmp_path / "nope.pt"), "--out", str(out)]) == 2
    assert "nope.pt does not exist" in capsys.readouterr().out


def test_param_groups_refuse_parameters_outside_backbone_and_head():
    model = models.create("tinycnn", num_classes=2)
    model.extra = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="extra.weight"):
        param_groups(model, 1e-3, 0.1, 0.0)


@pytest.mark.parametrize("head", ["mlp", "bn"])
def test_ptq_folds_batchnorm1d_heads(head, tasks, base_ckpt):
    from edgehdc.quant.accuracy import int8_logits
    from edgehdc.quant.ptq import quantize

    cfg = FinetuneConfig.strategy("linear_probe", head=head, epochs=15, lr=3e-2)
    model = build_model(cfg, "tinycnn", {}, 5, base_ckpt)
    Trainer(model, cfg, progress=False).fit(tasks[2].train.x_train, tasks[2].train.y_train)
    bn = next(m for m in model.head if isinstance(m, nn.BatchNorm1d))
    assert not torch.equal(bn.running_mean, torch.zeros_like(bn.running_mean))  # a BN that does something
    x = tasks[1].x_test
    graph = quantize(model, tasks[2].train.x_train)
    assert sum(op.kind.value == "FULLY_CONNECTED" for op in graph.ops) == (3 if head == "mlp" else 2)
    with torch.no_grad():
        float_pred = model.eval()(torch.from_numpy(x).permute(0, 3, 1, 2)).argmax(1).numpy()
    assert (int8_logits(graph, x).argmax(1) == float_pred).mean() >= 0.95


def test_frozen_blocks_keep_their_batchnorm_statistics(tasks, base_ckpt):
    """A frozen block runs in eval mode every epoch, validation in between: its running stats stay the checkpoint's."""
    task = tasks[2]
    cfg = FinetuneConfig.strategy("progressive", epochs=4, unfreeze=[[0, 0], [2, 2]], batch_size=8)
    model = build_model(cfg, "tinycnn", {}, 5, base_ckpt)
    stats = {n: b.detach().clone() for n, b in model.named_buffers() if "running" in n}
    trainer = Trainer(model, cfg, progress=False)
    trainer.prepare(task.train.x_train, task.train.y_train, task.x_val, task.y_val)
    top = {n for n in stats if n.startswith("features.4.")}  # the top 2 blocks: features.4 and the Linear (no BN)
    for epoch in range(cfg.epochs):
        trainer.train_epoch(epoch)
        trainer._validate()
        changed = {n for n, b in model.named_buffers() if n in stats and not torch.equal(b, stats[n])}
        assert changed == (set() if epoch < 2 else top), epoch


def test_decorrelation_term_penalises_a_collapsed_embedding():
    from edgehdc.finetune.losses import decorrelation

    g = torch.Generator().manual_seed(0)
    spread = torch.randn(256, 8, generator=g)  # every dimension in use (std 1), nearly uncorrelated
    collapsed = torch.randn(256, 1, generator=g) @ torch.ones(1, 8)  # one direction: all dimensions equal
    assert decorrelation(spread) < 0.2 < 1.0 < decorrelation(collapsed)
    assert decorrelation(torch.zeros(16, 8)) == pytest.approx(1 - 1e-2, abs=1e-6)  # std sqrt(eps) everywhere
    emb = collapsed.clone().requires_grad_(True)
    decorrelation(emb).backward()
    assert emb.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="batch of >= 2 embeddings"):
        decorrelation(torch.zeros(1, 8))
    with pytest.raises(ValueError, match="embedding head"):
        FinetuneConfig(head="attention", decorrelate=1.0)


def _effective_rank(features: np.ndarray) -> float:
    s = np.linalg.svd(features - features.mean(0), compute_uv=False)
    p = s / s.sum()
    return float(np.exp(-(p * np.log(p + 1e-12)).sum()))


def test_pretraining_with_decorrelation_keeps_the_embedding_from_collapsing(tasks, tmp_path):
    """Cross-entropy on 5 base classes squeezes the embedding of unseen classes onto ~4 directions; the
    variance-covariance term keeps more of them (the cause of the weak linear probe, docs/finetune.md)."""
    base, target, _ = tasks
    ranks = {}
    for w in (0.0, 1.0):
        path = pretrain(base, tmp_path / f"base{w}.pt", epochs=15, progress=False, decorrelate=w)
        model, ckpt = models.load_model(path)
        assert ckpt["pretrain_decorrelate"] == w
        ranks[w] = _effective_rank(metrics.predict(model, target.x_test)[1])
    assert ranks[1.0] > ranks[0.0] + 2, ranks


def test_findings_pair_the_strategies_by_seed():
    from edgehdc.finetune.compare import _summary, findings

    def runs(accs):
        return [{"seed": s, "accuracy": a} for s, a in enumerate(accs)]

    strategies = {"scratch": runs([0.60, 0.80, 0.70, 0.90]), "full": runs([0.65, 0.84, 0.76, 0.93])}
    report = {"strategies": {k: {"runs": v, **_summary(v)} for k, v in strategies.items()}}
    claim = next(f for f in findings(report) if f["a"] == "full" and f["b"] == "scratch")
    assert claim["verdict"] == "not shown"  # the splits' spread swallows a consistent lead...
    assert claim["paired_mean"] == pytest.approx(0.0450) and claim["a_ahead"] == 4 == claim["paired_n"]
    assert claim["paired_std"] == pytest.approx(np.std([0.05, 0.04, 0.06, 0.03]))  # ...which pairing shows


def test_lp_ft_probes_the_head_on_a_frozen_backbone_then_fine_tunes_from_it(tasks, base_ckpt):
    """LP-FT: phase 1 changes only the head (cached features); phase 2 starts from the probed head and
    trains the backbone for the rest of the same epoch budget; finetune() is exactly those two phases."""
    from edgehdc.finetune.workflow import linear_probe_first

    task = tasks[2]
    cfg = FinetuneConfig.strategy("lp_ft", epochs=6, probe_epochs=2, batch_size=8)
    model = build_model(cfg, "tinycnn", {}, 5, base_ckpt)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    second = linear_probe_first(model, cfg, task, progress=False)
    changed = {n for n, p in model.named_parameters() if not torch.equal(before[n], p)}
    assert _blockset(changed) == ["head"]
    assert (second.epochs, second.probe_epochs, second.unfreeze) == (4, 0, None)
    probed = copy.deepcopy(model.head.state_dict())
    trained = _trained_per_epoch(model, second, task)
    assert all(_blockset(c) == BLOCKS + ["head"] for c in trained)

    manual = build_model(cfg, "tinycnn", {}, 5, base_ckpt)
    Trainer(manual, linear_probe_first(manual, cfg, task, progress=False), progress=False).fit(
        task.train.x_train, task.train.y_train, task.x_val, task.y_val)
    run = finetune(cfg, task, base_ckpt, progress=False, int8=False)
    for (k, a), b in zip(manual.state_dict().items(), run.model.state_dict().values()):
        assert torch.equal(a, b), k
    scratch_head = build_model(cfg, "tinycnn", {}, 5, base_ckpt).head.state_dict()
    assert any(not torch.equal(probed[k], scratch_head[k]) for k in probed)  # phase 2 did not start from random
    with pytest.raises(ValueError, match="probe_epochs"):
        FinetuneConfig.strategy("lp_ft", epochs=20)  # the probe must leave epochs to fine-tune


def test_supcon_pulls_classes_together_and_matches_its_definition():
    from edgehdc.finetune.losses import supcon_mean

    g = torch.Generator().manual_seed(0)
    y = torch.arange(4).repeat(8)
    centres = torch.randn(4, 16, generator=g)
    clustered = centres[y] + 0.05 * torch.randn(32, 16, generator=g)
    shuffled = clustered[torch.randperm(32, generator=g)]
    assert supcon_mean(clustered, y) < 0.5 * supcon_mean(shuffled, y)
    # the definition, one anchor at a time (Khosla et al. 2020, eq. 2, one view)
    emb, t = torch.randn(10, 6, generator=g), 0.5
    yy = torch.tensor([0, 0, 1, 1, 1, 2, 0, 2, 1, 3])  # class 3 has no partner: not an anchor
    z = torch.nn.functional.normalize(emb, dim=1)
    terms = []
    for i in range(10):
        others = [j for j in range(10) if j != i]
        pos = [j for j in others if yy[j] == yy[i]]
        if pos:
            denom = torch.logsumexp(torch.stack([z[i] @ z[j] / t for j in others]), 0)
            terms.append(-torch.stack([z[i] @ z[p] / t - denom for p in pos]).mean())
    assert supcon_mean(emb, yy, t) == pytest.approx(float(torch.stack(terms).mean()), rel=1e-5)
    with pytest.raises(ValueError, match="supcon"):
        FinetuneConfig(head="attention", supcon=1.0)


def test_l2sp_adds_the_squared_distance_from_the_pretrained_backbone(tasks, base_ckpt):
    task = tasks[2]
    xb, yb = to_nchw(task.train.x_train[:8]), torch.as_tensor(task.train.y_train[:8])
    losses = {}
    for w in (0.0, 0.5):
        cfg = FinetuneConfig.strategy("full", l2sp=w, augment=False, epochs=1, scheduler="constant", warmup=0.0,
                                      lr=0.05)
        model = build_model(cfg, "tinycnn", {}, 5, base_ckpt)
        trainer = Trainer(model, cfg, progress=False)
        trainer.prepare(task.train.x_train, task.train.y_train)
        trainer.train_epoch(0)  # one step (20 samples, batch 64) moves the backbone off its anchor
        with torch.no_grad():
            moved = sum((p - p0).pow(2).sum() for p, p0 in zip(
                [p for _, b in backbone_blocks(model) for p in b.parameters()],
                [p for _, b in backbone_blocks(build_model(cfg, "tinycnn", {}, 5, base_ckpt)) for p in b.parameters()]))
        losses[w] = (trainer._loss(xb, yb, 8)[0].item(), moved.item())
    # both took the same first step (the term and its gradient are 0 at the pretrained weights)
    assert losses[0.5][1] == pytest.approx(losses[0.0][1], rel=1e-5) and losses[0.0][1] > 1e-3
    assert losses[0.5][0] - losses[0.0][0] == pytest.approx(0.5 * losses[0.0][1], rel=1e-3)
    with pytest.raises(ValueError, match="l2sp"):
        FinetuneConfig.strategy("scratch", l2sp=0.1)


def test_reconstruction_term_trains_the_encoder_and_its_decoder_is_dropped(tasks, tmp_path):
    from edgehdc.finetune.freezing import apply_modes
    from edgehdc.finetune.losses import reconstruction_sum

    task = tasks[2]
    xb, yb = to_nchw(task.train.x_train[:8]), torch.as_tensor(task.train.y_train[:8])
    runs = {}
    for w in (0.0, 2.0):
        cfg = FinetuneConfig.strategy("scratch", reconstruct=w, augment=False, epochs=1)
        model = build_model(cfg, "tinycnn", {}, 5)
        trainer = Trainer(model, cfg, progress=False)
        trainer.prepare(task.train.x_train, task.train.y_train)
        trainer.step_module = trainer._wrap()
        apply_modes(model, True)
        loss = trainer._loss(xb, yb, 8)[0]
        loss.backward()
        runs[w] = (trainer, loss.item(), {n: p.grad.clone() for n, p in model.named_parameters()})
    trainer, loss2, grads2 = runs[2.0]
    _, loss0, grads0 = runs[0.0]
    assert trainer.decoder is not None and runs[0.0][0].decoder is None
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in trainer.decoder.parameters())
    # the term is w x the per-sample reconstruction error over the batch, and its gradient reaches the encoder
    model = trainer.model
    model.zero_grad()
    term = 2.0 * reconstruction_sum(trainer.decoder(model.forward_features(xb)), xb) / 8
    term.backward()
    assert loss2 - loss0 == pytest.approx(term.item(), rel=1e-4) and term.item() > 0
    for name in ("features.0.conv.weight", "features.4.conv.weight", "features.6.weight"):
        assert grads2[name].abs().sum() > 0
        torch.testing.assert_close(grads2[name] - grads0[name], model.get_parameter(name).grad,
                                   rtol=1e-3, atol=1e-6, msg=name)
    torch.testing.assert_close(grads2["head.weight"], grads0["head.weight"])  # the head never sees it
    # the decoder lives in the Trainer only: the pretrained checkpoint is the backbone and head alone
    ckpt = pretrain(tasks[0], tmp_path / "base.pt", epochs=1, reconstruct=1.0, progress=False)
    loaded, saved = models.load_model(ckpt)
    assert saved["pretrain_reconstruct"] == 1.0
    assert set(loaded.state_dict()) == set(models.create("tinycnn", num_classes=5).state_dict())
    with pytest.raises(ValueError, match="reconstruct"):
        FinetuneConfig(head="attention", reconstruct=1.0)


def test_cli_wide_series_model_continues_into_the_pipeline(tmp_path, capsys):
    from edgehdc.cli import main
    from edgehdc.parity import Parity
    from edgehdc.pipeline import DemoConfig, build_host_artifacts, check_tflm

    base, out = tmp_path / "base.pt", tmp_path / "run"
    assert main(["finetune", "pretrain", "--dataset", "JapaneseVowels", "--width", "2", "--epochs", "2",
                 "--reconstruct", "1", "--out", str(base)]) == 0, capsys.readouterr().out
    train = ["finetune", "train", "--dataset", "JapaneseVowels", "--strategy", "full", "--checkpoint", str(base),
             "--shots", "5", "--out", str(out), "--set", "epochs=2"]
    assert main(train + ["--width", "2"]) == 0, capsys.readouterr().out
    net, saved = models.load_model(out / "model.pt")
    assert saved["spec"]["kwargs"] == {"in_chans": 12, "width": 2} and net.map_channels == 128
    cfg = DemoConfig(out_dir=tmp_path / "demo", model_path=out / "model.pt")
    art = build_host_artifacts(cfg, log=lambda _: None)
    assert art.x_test_q.shape[1:] == (1, 32, 12) and art.logits.shape[1] == 4
    parity = Parity()
    check_tflm(art, parity)
    assert parity.as_dict()["mismatches"] == 0
    # the demo's width against a width-2 checkpoint: refused, naming the file
    capsys.readouterr()
    assert main(train + ["--width", "1"]) == 2
    assert "base.pt" in capsys.readouterr().out


def test_compare_builds_scratch_and_fine_tuned_at_the_same_width(tmp_path):
    from edgehdc.data import GLYPH_CLASSES
    from edgehdc.finetune.compare import compare

    logs = []
    kw = dict(shots=2, seeds=(0,), strategies=("scratch", "full"), epochs=1, pretrain_epochs=1, val_per_class=2,
              hdc_dim=256, progress=False, log=logs.append, out_dir=tmp_path)
    report = compare("digits", **kw)  # the set's validated default width and base (the glyphs)
    assert report["width"] == 2 and report["model"]["kwargs"] == {"in_chans": 1, "width": 2}
    assert report["base_dataset"] == "glyphs" and report["base_classes"] == list(GLYPH_CLASSES)
    params = {name: s["runs"][0]["trainable_params"] for name, s in report["strategies"].items()}
    assert params["scratch"] == params["full"] == 16160 + 5 * 32 + 5  # backbone + a 5-way head
    assert "width 2" in (tmp_path / "summary.md").read_text()
    # base.pt is reused for the same architecture and settings, pretrained again for another width
    compare("digits", width=2, **kw)
    assert sum(m.startswith("pretraining") for m in logs) == 1
    report = compare("digits", width=1, **kw)
    assert sum(m.startswith("pretraining") for m in logs) == 2 and report["model"]["kwargs"] == {"in_chans": 1}
    # the own base (digits 0-4) pretrains again; the target task and its split stay digits 5-9
    own = compare("digits", width=1, base_dataset="own", **kw)
    assert sum(m.startswith("pretraining") for m in logs) == 3 and own["base_dataset"] == "digits"
    assert own["base_classes"] == list("01234") and own["target_classes"] == list("56789")
    assert own["samples"]["target_test"] == report["samples"]["target_test"]


def test_compare_width_is_chosen_per_set():
    from edgehdc.finetune.compare import COMPARE_WIDTH, OWN_BASE, compare_base, compare_width

    assert compare_base("digits") == "glyphs"  # validation: 0.950 against 0.911 for digits 0-4
    assert compare_base("JapaneseVowels") == compare_base("ACSF1") == OWN_BASE  # no series base set

    assert compare_width("ACSF1") == 1  # validation: 0.413 at width 1 ties 0.418 at width 2 -> the smaller
    assert compare_width("digits") == compare_width("JapaneseVowels") == COMPARE_WIDTH == 2


def test_instance_term_is_nt_xent_over_two_views_and_trains_the_encoder(tasks):
    from edgehdc.finetune.freezing import apply_modes
    from edgehdc.finetune.losses import supcon_mean

    task = tasks[2]
    xb, yb = to_nchw(task.train.x_train[:8]), torch.as_tensor(task.train.y_train[:8])
    view2 = (xb + 0.05 * torch.randn(xb.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    ids = torch.arange(8)
    runs = {}
    for w in (0.0, 0.5):
        cfg = FinetuneConfig.strategy("scratch", instance=w, epochs=1)
        model = build_model(cfg, "tinycnn", {}, 5)
        trainer = Trainer(model, cfg, progress=False)
        trainer.prepare(task.train.x_train, task.train.y_train)
        trainer.step_module = trainer._wrap()
        apply_modes(model, True)
        loss = trainer._loss(xb, yb, 8, view2 if w else None, ids if w else None)[0]
        loss.backward()
        runs[w] = (model, loss.item(), {n: p.grad.clone() for n, p in model.named_parameters()})
    model, loss_w, grads_w = runs[0.5]
    _, loss_0, grads_0 = runs[0.0]
    # SimCLR's NT-Xent: each view's positive is the other view of the same sample, every other view a negative
    model.zero_grad()
    z = torch.cat([model.forward_features(xb), model.forward_features(view2)])
    term = 0.5 * supcon_mean(z, torch.cat([ids, ids]), 0.1)
    term.backward()
    assert loss_w - loss_0 == pytest.approx(term.item(), rel=1e-4) and term.item() > 0
    for name in ("features.0.conv.weight", "features.6.weight"):
        assert not torch.allclose(grads_w[name], grads_0[name])
    torch.testing.assert_close(grads_w["head.weight"], grads_0["head.weight"])  # the head never sees it
    with pytest.raises(ValueError, match="instance"):
        FinetuneConfig.strategy("scratch", instance=1.0, augment=False)


def test_cli_pretrain_on_glyphs_then_fine_tune_digits(tmp_path, capsys):
    from edgehdc.cli import main
    from edgehdc.data import GLYPH_CLASSES

    base, out = tmp_path / "base.pt", tmp_path / "run"
    assert main(["finetune", "pretrain", "--dataset", "digits", "--base-dataset", "glyphs", "--keep-own-base",
                 "--width", "2", "--epochs", "1", "--out", str(base)]) == 0, capsys.readouterr().out
    _, ckpt = models.load_model(base)
    assert ckpt["class_names"] == list(GLYPH_CLASSES) + list("01234") and ckpt["spec"]["num_classes"] == 48
    assert main(["finetune", "train", "--dataset", "digits", "--strategy", "progressive", "--checkpoint", str(base),
                 "--width", "2", "--shots", "3", "--out", str(out), "--set", "epochs=2"]) == 0
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["data"]["target"] == list("56789") and 0.0 <= saved["accuracy"] <= 1.0
    capsys.readouterr()
    assert main(["finetune", "pretrain", "--keep-own-base", "--epochs", "1", "--out", str(base)]) == 2
    assert "keep_own_base needs a base_dataset" in capsys.readouterr().out
