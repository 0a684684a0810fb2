"""`edgehdc finetune pretrain | train | compare`: the toolkit from the command line.

    edgehdc finetune pretrain --dataset digits --out build/finetune/digits/base.pt
    edgehdc finetune train --dataset digits --strategy progressive --checkpoint build/finetune/digits/base.pt \
        --shots 5 --out build/finetune/digits/progressive [--config ft.toml] [--set lr=3e-3 --set head=mlp]
    edgehdc finetune compare --dataset JapaneseVowels --shots 5

Every config piece is a `--set key=value` (TOML value syntax), a `[finetune]`
table in `--config`, or a FinetuneConfig field in Python. `train` writes
model.pt (rebuildable by `edgehdc.models.load_model`, what `edgehdc demo
--model` takes), metrics.json, best.pt/last.pt (resumable with --resume) and
TensorBoard logs with --tensorboard.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tomllib
from pathlib import Path


def register(subparsers) -> None:
    ft = subparsers.add_parser("finetune", help="pretrain, fine-tune by a strategy, compare strategies")
    sub = ft.add_subparsers(dest="finetune_command", required=True)

    pre = sub.add_parser("pretrain", help="train a backbone on the base classes of a dataset")
    _data_args(pre)
    pre.add_argument("--epochs", type=int, default=None, help="default: PRETRAIN_EPOCHS")
    pre.add_argument("--seed", type=int, default=0)
    pre.add_argument("--decorrelate", type=float, default=None,
                     help="weight of the embedding variance-covariance term (default: PRETRAIN_DECORRELATE)")
    pre.add_argument("--supcon", type=float, default=None,
                     help="weight of the supervised contrastive term (default: PRETRAIN_SUPCON)")
    pre.add_argument("--reconstruct", type=float, default=None,
                     help="weight of an auxiliary decoder's input reconstruction (default: PRETRAIN_RECONSTRUCT)")
    pre.add_argument("--instance", type=float, default=None,
                     help="weight of SimCLR's two-view instance term (default: PRETRAIN_INSTANCE)")
    _base_dataset_args(pre)
    pre.add_argument("--out", type=Path, required=True, help="checkpoint to write (.pt)")
    pre.set_defaults(handler=run_cli, finetune_handler=_pretrain)

    tr = sub.add_parser("train", help="fine-tune on the target classes by a strategy")
    _data_args(tr)
    tr.add_argument("--strategy", default=None, help="named strategy (default: the config's, else 'full')")
    tr.add_argument("--config", type=Path, help="TOML file with a [finetune] table")
    tr.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one config field")
    tr.add_argument("--checkpoint", type=Path, help="pretrained weights (a state dict or a training checkpoint)")
    tr.add_argument("--trust-checkpoint", action="store_true", help="allow a checkpoint that pickles a whole model")
    tr.add_argument("--shots", type=int, default=5, help="training samples per target class")
    tr.add_argument("--val-per-class", type=int, default=10)
    tr.add_argument("--out", type=Path, required=True, help="output folder")
    tr.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    tr.add_argument("--tensorboard", action="store_true", help="log scalars to OUT/tensorboard")
    tr.set_defaults(handler=run_cli, finetune_handler=_train)

    cmp = sub.add_parser("compare", help="every strategy on the same split and seeds -> report.json, plots")
    cmp.add_argument("--dataset", default="digits", help="digits or a bundled aeon set (e.g. JapaneseVowels)")
    cmp.add_argument("--shots", type=int, default=5)
    cmp.add_argument("--seeds", type=int, default=5, help="number of seeds (0..N-1)")
    cmp.add_argument("--strategies", default=None, help="comma-separated (default: the seven compared ones)")
    cmp.add_argument("--epochs", type=int, default=60)
    cmp.add_argument("--pretrain-epochs", type=int, default=None, help="default: PRETRAIN_EPOCHS")
    cmp.add_argument("--pretrain-decorrelate", type=float, default=None,
                     help="pretraining's embedding decorrelation weight (default: PRETRAIN_DECORRELATE)")
    cmp.add_argument("--pretrain-supcon", type=float, default=None,
                     help="pretraining's supervised contrastive weight (default: PRETRAIN_SUPCON)")
    cmp.add_argument("--pretrain-reconstruct", type=float, default=None,
                     help="pretraining's input-reconstruction weight (default: PRETRAIN_RECONSTRUCT)")
    cmp.add_argument("--pretrain-instance", type=float, default=None,
                     help="pretraining's SimCLR instance-term weight (default: PRETRAIN_INSTANCE)")
    cmp.add_argument("--width", type=int, default=None,
                     help="channel multiplier of the backbone, for every strategy (default: the set's validated width, compare_width)")
    _base_dataset_args(cmp)
    cmp.add_argument("--out", type=Path, default=None, help="output folder (default build/compare/<dataset>)")
    cmp.set_defaults(handler=run_cli, finetune_handler=_compare)


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default="digits", help="digits or a bundled aeon set (e.g. JapaneseVowels)")
    p.add_argument("--base", default=None, help="comma-separated base classes (default: the first half)")
    p.add_argument("--target", default=None, help="comma-separated target classes (default: the rest)")
    p.add_argument("--width", type=int, default=1,
                   help="channel multiplier of the backbone (1: the demo's; train's must match its checkpoint)")


def _base_dataset_args(p: argparse.ArgumentParser) -> None:
    # the names of edgehdc.data's OWN_BASE and BASE_DATASETS, spelled out: the data layer is not imported at start-up
    p.add_argument("--base-dataset", default=None, choices=("own", "glyphs"),
                   help="pretrain on this set instead of the dataset's base classes (glyphs: synthetic letters, "
                        "images only; own: the dataset's base classes). Default: own for pretrain; for compare "
                        "the set's validated base (compare_base: glyphs for digits)")
    p.add_argument("--keep-own-base", action="store_true",
                   help="with --base-dataset: pretrain on it and on the dataset's own base classes")


def _task_splits(args):
    from edgehdc.data import task_pair

    return task_pair(args.dataset, args.base.split(",") if args.base else None,
                     args.target.split(",") if args.target else None,
                     base_dataset=getattr(args, "base_dataset", None),  # train has none: its checkpoint does
                     keep_own_base=getattr(args, "keep_own_base", False))


def _pretrain(args) -> int:
    from edgehdc.finetune.workflow import default_model, pretrain

    base, _ = _task_splits(args)
    path = pretrain(base, args.out, *default_model(base.sample_shape, args.width), seed=args.seed,
                    **_given(epochs=args.epochs, decorrelate=args.decorrelate, supcon=args.supcon,
                             reconstruct=args.reconstruct, instance=args.instance))
    print(f"pretrained backbone: {path}")
    return 0


def parse_sets(items: list[str]) -> dict:
    """["lr=3e-3", "unfreeze=[[0,0],[5,2]]", "head='mlp'", "head=mlp"] -> a dict (TOML values; bare words are strings)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set needs KEY=VALUE, got {item!r}")
        try:
            out[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            out[key.strip()] = value
    return out


def _config(args):
    from edgehdc.finetune.config import FinetuneConfig

    changes = parse_sets(args.set)
    if args.config is not None:
        if args.strategy:
            changes["strategy"] = args.strategy
        return FinetuneConfig.from_toml(args.config, **changes)
    return FinetuneConfig.strategy(args.strategy or "full", **changes)


def _train(args) -> int:
    from edgehdc.data import few_shot
    from edgehdc.fileio import atomic_write_json
    from edgehdc.finetune.workflow import default_model, finetune, jsonable, save_run

    cfg = _config(args)
    _, target = _task_splits(args)
    task = few_shot(target, args.shots, seed=cfg.seed, val_per_class=args.val_per_class)
    name, kwargs = default_model(target.sample_shape, args.width)
    run = finetune(cfg, task, args.checkpoint, model_name=name, model_kwargs=kwargs,
                   trusted=args.trust_checkpoint, checkpoint_dir=args.out,
                   tensorboard=args.out / "tensorboard" if args.tensorboard else None, resume=args.resume)
    data = {"dataset": args.dataset, "base": args.base, "target": list(target.class_names), "shots": args.shots}
    save_run(args.out / "model.pt", run, target.class_names, data=data, config=cfg.as_dict())
    m = run.metrics
    atomic_write_json(args.out / "metrics.json", {"config": cfg.as_dict(), "data": data, **jsonable(m)})
    print(f"{cfg.strategy}: accuracy {m['accuracy']:.4f}, macro-F1 {m['macro_f1']:.4f}, "
          f"HDC {m['hdc_accuracy']:.4f}, int8 {m['int8_accuracy']}")
    print(f"model: {args.out / 'model.pt'}")
    return 0


def _compare(args) -> int:
    from edgehdc.finetune.compare import COMPARED, compare

    strategies = tuple(args.strategies.split(",")) if args.strategies else COMPARED
    command = "edgehdc " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else None
    report = compare(args.dataset, shots=args.shots, seeds=tuple(range(args.seeds)), strategies=strategies,
                     out_dir=args.out, epochs=args.epochs, command=command,
                     **_given(pretrain_epochs=args.pretrain_epochs, pretrain_decorrelate=args.pretrain_decorrelate,
                              pretrain_supcon=args.pretrain_supcon, pretrain_reconstruct=args.pretrain_reconstruct,
                              pretrain_instance=args.pretrain_instance, width=args.width),
                     base_dataset=args.base_dataset, keep_own_base=args.keep_own_base)
    out = args.out or Path("build/compare") / args.dataset
    for name, r in report["strategies"].items():
        print(f"{name:16s} accuracy {r['mean']['accuracy']:.3f} ± {r['std']['accuracy']:.3f}   "
              f"HDC {r['mean']['hdc_accuracy']:.3f} ± {r['std']['hdc_accuracy']:.3f}")
    print(f"report: {out / 'report.json'}, summary: {out / 'summary.md'}")
    return 0


def _given(**options) -> dict:
    """The options given on the command line (not None): the others keep the library's defaults."""
    return {k: v for k, v in options.items() if v is not None}


def run_cli(args) -> int:
    """Dispatch with clear errors: bad input exits 2 with one line naming what is wrong."""
    try:
        return args.finetune_handler(args)
    except ValueError as e:
        print(f"error: {e}")
        return 2

