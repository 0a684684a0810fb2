"""`edgehdc hdc sweep`: the dimension trade-off on the demo's features.

For each D: host accuracy of the demo's HDC stage (calibrated encoder, sign
projection or ID-level, margin-retrained prototypes), prototype and encoder
table bytes, and the
device's instructions for the encoding and for the Hamming search, measured
on the emulated Cortex-M4 with the HDC_CLASSIFY message (its reply carries
both tick counts; every hypervector and distance is checked against the
host). Writes sweep.json, sweep.md and sweep.png into the output folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgehdc.export.firmware import write_firmware_sources
from edgehdc.export.manifest import model_id, model_sha256
from edgehdc.fileio import atomic_write_json, atomic_write_text
from edgehdc.pipeline import DemoConfig, build_hdc, demo_features, encoder_digest_table
from edgehdc.quant.tflite_io import to_tflite

DIMS = (512, 1024, 2048, 4096, 8192)


def run_sweep(cfg: DemoConfig | None = None, dims=DIMS, out_dir: Path = Path("build/sweep"), device: bool = True,
              samples: int = 20, log=print) -> dict:
    cfg = cfg or DemoConfig()
    feats = demo_features(cfg, log)
    int8 = float(np.mean(feats.logits.argmax(1) == feats.y_test))
    rows = []
    for dim in dims:
        encoder, classifier = build_hdc(cfg, feats, dim)
        hv = encoder.encode(feats.features)
        labels, _, distances = classifier.classify(hv)
        row = {"dim": dim, "accuracy": round(float(np.mean(labels == feats.y_test)), 4),
               "prototype_bytes": int(classifier.prototypes.nbytes),
               "encoder_bytes": int(sum(t.nbytes for t in encoder.tables().values()))}
        if device:
            log(f"D={dim}: building the firmware and measuring on the emulated board")
            row.update(_device_costs(feats, encoder, classifier, hv, distances, out_dir / f"d{dim}", samples))
        rows.append(row)
        log(f"D={dim}: {row}")
    result = {"command": f"edgehdc hdc sweep --encoder {cfg.hdc_encoder}", "encoder": cfg.hdc_encoder,
              "int8_softmax_accuracy": round(int8, 4),
              "test_samples": int(len(feats.y_test)), "device_samples": samples if device else 0,
              "board": "qemu_m4 (mps2-an386, Cortex-M4F), portable build", "rows": rows}
    out_dir = Path(out_dir)
    atomic_write_json(out_dir / "sweep.json", result)
    atomic_write_text(out_dir / "sweep.md", markdown(result))
    plot(result, out_dir / "sweep.png")
    return result


def _device_costs(feats, encoder, classifier, hv, distances, model_dir: Path, samples: int) -> dict:
    from edgehdc.device import EmulatedBoard, ticks_to_instructions

    sha = model_sha256(to_tflite(feats.graph), encoder_digest_table(encoder), classifier.prototypes,
                       {"dim": encoder.dim})
    write_firmware_sources(feats.graph, encoder, classifier, model_dir, model_id(sha))
    board = EmulatedBoard(env="qemu_m4", model_dir=model_dir)
    board.build()
    enc, search, mismatches = [], [], 0
    with board.start() as link:
        info = link.expect_model(model_id(sha))
        for i in range(min(samples, len(feats.features))):
            r = link.hdc_classify(feats.features[i])
            mismatches += int(np.sum(r.hv != hv[i])) + int(np.sum(r.distances != distances[i]))
            enc.append(r.ticks_encode)
            search.append(r.ticks_search)

    def instructions(ticks) -> int:
        return round(ticks_to_instructions(float(np.mean(ticks)), info.counter_hz, board.icount_shift))

    return {"encode_instructions": instructions(enc), "search_instructions": instructions(search),
            "device_mismatches": mismatches}


def markdown(r: dict) -> str:
    lines = [f"# HDC dimension sweep (`{r['command']}`)", "",
             f"Demo features, {r['test_samples']} test digits; int8 softmax head {100 * r['int8_softmax_accuracy']:.2f}%. "
             f"Device: {r['board']}, mean of {r['device_samples']} HDC_CLASSIFY requests.", "",
             "| D | accuracy | prototypes (bytes) | encoder tables (bytes) | encode (instr.) | search (instr.) | device mismatches |",
             "|---|---|---|---|---|---|---|"]
    for x in r["rows"]:
        lines.append(f"| {x['dim']} | {100 * x['accuracy']:.2f}% | {x['prototype_bytes']:,} | {x['encoder_bytes']:,} | "
                     f"{x.get('encode_instructions', 0):,} | {x.get('search_instructions', 0):,} | "
                     f"{x.get('device_mismatches', '-')} |")
    return "\n".join(lines) + "\n"


def plot(r: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dims = [x["dim"] for x in r["rows"]]
    fig, (acc_ax, cost_ax) = plt.subplots(1, 2, figsize=(10, 4))
    acc_ax.plot(dims, [100 * x["accuracy"] for x in r["rows"]], "o-", label="HDC (host)")
    acc_ax.axhline(100 * r["int8_softmax_accuracy"], color="gray", ls="--", label="int8 softmax head")
    acc_ax.set(xscale="log", xlabel="D (bits)", ylabel="test accuracy (%)", title="accuracy")
    acc_ax.legend()
    if "encode_instructions" in r["rows"][0]:
        cost_ax.plot(dims, [x["encode_instructions"] for x in r["rows"]], "o-", label="encode")
        cost_ax.plot(dims, [x["search_instructions"] for x in r["rows"]], "s-", label="search")
        cost_ax.set(xscale="log", yscale="log", xlabel="D (bits)", ylabel="instructions (Cortex-M4)",
                    title="device cost per inference")
        cost_ax.legend()
    for ax in (acc_ax, cost_ax):
        ax.set_xticks(dims, [str(d) for d in dims])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())  # log-scale minor labels overlap ours
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
