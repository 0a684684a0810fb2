"""The demo report: report.json for machines, a short table for people."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from edgehdc.fileio import atomic_write_json


def write_report(path: Path, report: dict) -> Path:
    return atomic_write_json(path, report)


def print_report(report: dict, console: Console | None = None) -> None:
    console = console or Console()
    acc = Table(title=f"accuracy on the {report.get('config', {}).get('dataset', 'digits')} test split")
    for name in ("float", "int8", "hdc_host", "hdc_device"):
        acc.add_column(name, justify="right")
    acc.add_row(*(f"{report['accuracy'][k]:.4f}" for k in ("float", "int8", "hdc_host", "hdc_device")))
    console.print(acc)

    parity = Table(title="parity ladder (exact)")
    for col in ("rung", "compared", "mismatches", "first mismatch"):
        parity.add_column(col)
    for name, rung in report["parity"]["rungs"].items():
        parity.add_row(name, str(rung["compared"]), str(rung["mismatches"]), rung["first_mismatch"] or "-")
    console.print(parity)

    dev = report["device"]
    console.print(
        f"[bold]{dev['board']}[/bold] ({dev.get('backend', 'portable')} kernels): "
        f"{dev['instructions_per_inference']:,.0f} instructions/inference "
        f"(CNN {dev['instructions_model']:,.0f}, HDC {dev['instructions_hdc']:,.0f}), "
        f"flash {dev['flash_bytes']:,} B, RAM {dev['ram_bytes']:,} B"
    )
    if "profile" in dev:
        from edgehdc.device.profile import profile_table

        console.print(profile_table(dev["profile"]))
