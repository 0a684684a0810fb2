"""The `edgehdc` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import track

from edgehdc import verify, verify_device
from edgehdc.finetune import cli as finetune_cli
from edgehdc.device.emulator import BACKENDS
from edgehdc.hdc import cli as hdc_cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="edgehdc", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="fine-tune -> int8 -> HDC -> emulated Cortex-M -> parity and latency report")
    demo.add_argument("--out", type=Path, default=Path("build/demo"), help="output folder (default build/demo)")
    demo.add_argument("--epochs", type=int, default=None, help="training epochs")
    demo.add_argument("--hdc-dim", type=int, default=None, help="hypervector bits D (multiple of 32)")
    demo.add_argument("--samples", type=int, default=None, help="test images sent to the device (default: all)")
    demo.add_argument("--board", default="qemu_m4", help="emulated board: qemu_m4, qemu_m7 or qemu_m55 (default qemu_m4)")
    demo.add_argument("--dataset", default="digits", help="digits, or a bundled aeon time-series set (e.g. JapaneseVowels)")
    demo.add_argument("--model", type=Path, default=None, help="a fine-tuned model.pt (edgehdc finetune train) instead of training")
    demo.add_argument("--backend", choices=BACKENDS, default="portable",
                      help="firmware kernel backend (default portable)")
    demo.set_defaults(handler=_demo)
    verify_device.register(verify.register(sub).targets)
    finetune_cli.register(sub)
    hdc_cli.register(sub)
    args = parser.parse_args(argv)
    return args.handler(args)


def _demo(args) -> int:
    from edgehdc.device import EmulatorError, board_spec
    from edgehdc.pipeline import DemoConfig, run_demo
    from edgehdc.report import print_report

    console = Console()
    try:
        board_spec(args.board)
    except EmulatorError as exc:
        console.print(f"[red]--board: {exc}")
        return 2
    cfg = DemoConfig(out_dir=args.out, device_samples=args.samples, board=args.board,
                     dataset=args.dataset, model_path=args.model, backend=args.backend)
    if args.epochs is not None:
        cfg.epochs = args.epochs
    if args.hdc_dim is not None:
        if args.hdc_dim <= 0 or args.hdc_dim % 32:
            console.print(f"[red]--hdc-dim must be a positive multiple of 32, got {args.hdc_dim}")
            return 2
        cfg.hdc_dim = args.hdc_dim
    try:
        report = run_demo(
            cfg,
            log=lambda msg: console.print(f"[bold cyan]>[/] {msg}"),
            progress=lambda it, description="": track(it, description=description, console=console),
        )
    except ValueError as e:  # a bad dataset name, model file or class count
        console.print(f"[red]error: {e}")
        return 2
    print_report(report, console)
    console.print(f"report: {cfg.out_dir / 'report.json'}")
    return 0 if report["parity"]["mismatches"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
