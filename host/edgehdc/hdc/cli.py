"""`edgehdc hdc sweep` and `edgehdc hdc learn-demo`."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> argparse.ArgumentParser:
    hdc = subparsers.add_parser("hdc", help="HDC toolkit: dimension sweep, on-device learning demo")
    commands = hdc.add_subparsers(dest="hdc_command", required=True)
    sweep = commands.add_parser("sweep", help="D -> accuracy, prototype bytes, device encode/search instructions")
    sweep.add_argument("--dims", type=int, nargs="+", default=None, help="dimensions (default 512 ... 8192)")
    sweep.add_argument("--out", type=Path, default=Path("build/sweep"))
    sweep.add_argument("--no-device", action="store_true", help="host accuracy and sizes only")
    sweep.add_argument("--samples", type=int, default=20, help="HDC_CLASSIFY requests per D (default 20)")
    sweep.add_argument("--encoder", choices=["sign_projection", "id_level"], default="sign_projection")
    sweep.add_argument("--epochs", type=int, default=None, help="CNN training epochs")
    sweep.set_defaults(handler=_sweep)
    learn = commands.add_parser("learn-demo", help="teach the emulated board a held-out digit with k shots")
    learn.add_argument("--out", type=Path, default=Path("build/learn"))
    learn.add_argument("--held-out", type=int, default=9, help="the digit left out of HDC training (default 9)")
    learn.add_argument("--shots", type=int, nargs="+", default=[1, 5, 10])
    learn.add_argument("--samples", type=int, default=None, help="test images classified on the device (default all)")
    learn.add_argument("--epochs", type=int, default=None, help="CNN training epochs")
    learn.set_defaults(handler=_learn_demo)
    return hdc


def _config(args):
    from edgehdc.pipeline import DemoConfig

    cfg = DemoConfig()
    if args.epochs is not None:
        cfg.epochs = args.epochs
    return cfg


def _sweep(args) -> int:
    from rich.console import Console

    from edgehdc.hdc.sweep import DIMS, markdown, run_sweep

    console = Console()
    dims = args.dims or DIMS
    bad = [d for d in dims if d <= 0 or d % 32 or d > 65504]
    if bad:
        console.print(f"[red]dimensions must be positive multiples of 32 (at most 65504), got {bad}")
        return 2
    cfg = _config(args)
    cfg.hdc_encoder = args.encoder
    result = run_sweep(cfg, dims, args.out, device=not args.no_device, samples=args.samples,
                       log=lambda m: console.print(f"[bold cyan]>[/] {m}"))
    console.print(markdown(result))
    console.print(f"written: {args.out / 'sweep.json'}, sweep.md, sweep.png")
    mismatched = sum(r.get("device_mismatches", 0) for r in result["rows"])
    return 0 if mismatched == 0 else 1


def _learn_demo(args) -> int:
    from rich.console import Console
    from rich.progress import track

    from edgehdc.hdc.learn_demo import run_learn_demo

    console = Console()
    if not 0 <= args.held_out <= 9 or not args.shots or min(args.shots) < 1:
        console.print("[red]--held-out must be a digit 0..9 and --shots positive counts")
        return 2
    report = run_learn_demo(_config(args), args.out, args.held_out, tuple(args.shots), args.samples,
                            log=lambda m: console.print(f"[bold cyan]>[/] {m}"),
                            progress=lambda it, description="": track(it, description=description, console=console))
    for k, new, after in zip(report["shots"], report["new_class_accuracy"], report["old_classes_accuracy_after"]):
        console.print(f"{k:>3} shots: new class {100 * new:.1f}%, old classes "
                      f"{100 * report['old_classes_accuracy_before']:.2f}% -> {100 * after:.2f}%")
    console.print(f"prototype mismatches {report['prototype_mismatches']}, label mismatches "
                  f"{report['label_mismatches']}; report: {args.out / 'report.json'}")
    return 0 if report["prototype_mismatches"] == 0 and report["label_mismatches"] == 0 else 1
