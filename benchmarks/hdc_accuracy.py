"""HDC vs the int8 softmax head vs TorchHD on the same int8 features of the demo.

    .venv/bin/python benchmarks/hdc_accuracy.py

writes benchmarks/results/hdc_accuracy.{json,md}. The demo's TinyCNN is
trained and quantized exactly as `make demo` does (DemoConfig defaults), its
int8 embeddings of the digits train/test split are computed once, and every
classifier below sees the same features:

- edgehdc encoders (sign projection, ID-level), raw or calibrated, with
  prototypes bundled once or retrained (perceptron, with and without margin);
- the int8 softmax head (the model's own logits);
- TorchHD 5.8 (`torchhd.models.Centroid`) on the float features (x - zp):
  `embeddings.Projection` and `embeddings.Sinusoid` (MAP, D floats per
  hypervector), trained with `add` and with `add_online`.

Acceptance (issue 16): the best HDC configuration at D=2048 within 0.5 points
of the int8 softmax head.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from edgehdc.fileio import atomic_write_json, atomic_write_text
from edgehdc.hdc import Centroid, IdLevel, SignProjection
from edgehdc.pipeline import DemoConfig, demo_features
from provenance import git_commit

RESULTS = Path(__file__).resolve().parent / "results"
COMMAND = ".venv/bin/python benchmarks/hdc_accuracy.py"
DIM = 2048
TRAINING = {"bundled": dict(epochs=0, margin=0), "retrained": dict(epochs=10, margin=0),
            "retrained, margin 64": dict(epochs=10, margin=64)}


def hdc_rows(feats) -> list[dict]:
    rows = []
    encoders = {
        "sign projection": lambda: SignProjection(feats.features.shape[1], DIM, zero_point=feats.zero_point),
        "ID-level (16 levels)": lambda: IdLevel(feats.features.shape[1], DIM, 16, zero_point=feats.zero_point),
    }
    for enc_name, make in encoders.items():
        for calibrated in (False, True):
            encoder = make()
            if calibrated:
                encoder.calibrate(feats.train_features)
            hv_train, hv_test = encoder.encode(feats.train_features), encoder.encode(feats.features)
            for train_name, kw in TRAINING.items():
                model = Centroid(feats.n_classes, DIM).fit(hv_train, feats.y_train, **kw)
                rows.append({"classifier": f"edgehdc {enc_name}", "calibrated": calibrated,
                             "training": train_name, "accuracy": _acc(model.predict(hv_test), feats.y_test)})
    return rows


def torchhd_rows(feats, seed: int = 0) -> list[dict]:
    import torchhd
    from torchhd import embeddings, models

    x_train = torch.tensor(feats.train_features.astype(np.float32) - feats.zero_point)
    x_test = torch.tensor(feats.features.astype(np.float32) - feats.zero_point)
    scale = x_train.std()
    x_train, x_test = x_train / scale, x_test / scale
    y_train = torch.tensor(feats.y_train)
    rows = []
    for emb_name, emb_cls in (("Projection", embeddings.Projection), ("Sinusoid", embeddings.Sinusoid)):
        for method in ("add", "add_online"):
            torch.manual_seed(seed)
            encode = emb_cls(x_train.shape[1], DIM)
            model = models.Centroid(DIM, feats.n_classes)
            with torch.no_grad():
                hv_train = torchhd.normalize(encode(x_train))
                getattr(model, method)(hv_train, y_train)
                model.normalize()
                pred = model(torchhd.normalize(encode(x_test)), dot=True).argmax(1).numpy()
            rows.append({"classifier": f"TorchHD {emb_name} + Centroid", "calibrated": False,
                         "training": method, "accuracy": _acc(pred, feats.y_test)})
    return rows


def _acc(pred, y) -> float:
    return float(np.mean(np.asarray(pred) == np.asarray(y)))


def main() -> None:
    start = time.time()
    cfg = DemoConfig()
    feats = demo_features(cfg, log=lambda _: None)
    int8 = _acc(feats.logits.argmax(1), feats.y_test)
    rows = [{"classifier": "int8 softmax head", "calibrated": False, "training": "backprop",
             "accuracy": int8}] + hdc_rows(feats) + torchhd_rows(feats)
    best = max((r for r in rows if r["classifier"].startswith("edgehdc")), key=lambda r: r["accuracy"])
    demo = next(r for r in rows if r["classifier"] == "edgehdc sign projection" and r["calibrated"]
                and r["training"] == "retrained, margin 64")
    result = {
        "command": COMMAND, "date": time.strftime("%Y-%m-%d"), "git_commit": git_commit(),
        "host": platform.machine(), "dim": DIM, "test_samples": int(len(feats.y_test)),
        "demo_config": cfg.as_dict(), "rows": rows,
        "best_hdc": best, "best_hdc_gap_points": round(100 * (int8 - best["accuracy"]), 2),
        "demo_hdc_gap_points": round(100 * (int8 - demo["accuracy"]), 2),
        "seconds": round(time.time() - start, 1),
    }
    atomic_write_json(RESULTS / "hdc_accuracy.json", result)
    atomic_write_text(RESULTS / "hdc_accuracy.md", _markdown(result))
    print(_markdown(result))


def _markdown(r: dict) -> str:
    lines = [
        f"# HDC accuracy on the demo's int8 features (D = {r['dim']}, {r['test_samples']} test digits)",
        "", f"`{r['command']}` ({r['date']}, commit {r['git_commit']}, {r['host']}, {r['seconds']} s). "
        "One test sample is 0.22 points.", "",
        "| classifier | calibrated | training | accuracy |", "|---|---|---|---|",
    ]
    lines += [f"| {x['classifier']} | {'yes' if x['calibrated'] else 'no'} | {x['training']} | "
              f"{100 * x['accuracy']:.2f}% |" for x in r["rows"]]
    b = r["best_hdc"]
    lines += ["", f"Best HDC: {b['classifier']}, {'calibrated' if b['calibrated'] else 'raw'}, {b['training']}: "
              f"{r['best_hdc_gap_points']:+.2f} points below the int8 softmax head. The demo's default "
              f"(sign projection, calibrated, retrained with margin 64): {r['demo_hdc_gap_points']:+.2f} points below.",
              ""]
    return "\n".join(lines)




if __name__ == "__main__":
    main()
