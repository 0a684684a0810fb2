"""The main job, end to end: fine-tune -> int8 -> HDC -> firmware on the emulated board -> report.

Each step is a short function over plain artifacts so tests and other
commands can reuse any of them. Parity is checked rung by rung on the
whole test split (docs/parity.md): TFLM == Numba == firmware C on the host
== firmware on the emulated Cortex-M (qemu_m4 by default).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from edgehdc import models
from edgehdc.data import load_dataset, load_digits, quantize_input
from edgehdc.export.firmware import write_firmware_sources
from edgehdc.export.manifest import model_id, model_sha256, sha256_bytes, write_manifest
from edgehdc.fileio import atomic_write_bytes
from edgehdc.finetune import evaluate, fit
from edgehdc.hdc import Centroid, Encoder, IdLevel, SignProjection
from edgehdc.kernels.interpreter import run as run_int8
from edgehdc.parity import Parity
from edgehdc.quant.ptq import quantize
from edgehdc.quant.tflite_io import to_tflite
from edgehdc.quant.tflm import TflmOracle


@dataclass
class DemoConfig:
    out_dir: Path = Path("build/demo")
    image_size: int = 16
    model: str = "tinycnn"
    dataset: str = "digits"  # or a bundled aeon set: a tinycnn1d over [1, T, C] series
    model_path: Path | None = None  # a fine-tuned model (`edgehdc finetune train`): no training here
    embedding_dim: int = 32
    epochs: int = 60
    hdc_dim: int = 2048
    hdc_seed: int = 0x5EED1234
    hdc_encoder: str = "sign_projection"  # or "id_level" (docs/hdc.md)
    hdc_calibrate: bool = True  # centre and scale the embedding on the training split (docs/hdc.md)
    hdc_epochs: int = 10  # retraining passes after bundling
    hdc_margin: int = 64  # retraining margin, bits
    seed: int = 0
    device_samples: int | None = None  # None: the whole test split
    board: str = "qemu_m4"  # emulated platformio.ini environment: qemu_m4, qemu_m7, qemu_m55
    backend: str = "portable"  # firmware kernel backend: portable | dsp

    def as_dict(self) -> dict:
        return {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(self).items()}


@dataclass
class HostArtifacts:
    """Everything the host computed, ready to compare with the device."""

    graph: object
    tflite: bytes
    encoder: Encoder
    classifier: Centroid
    x_test_q: np.ndarray
    y_test: np.ndarray
    features: np.ndarray  # Numba int8 embedding of the test split
    logits: np.ndarray
    hv: np.ndarray
    hdc: tuple  # (labels, confidence, distances) the host predicts for each test hypervector
    model_sha: str
    accuracy: dict = field(default_factory=dict)


@dataclass
class DemoFeatures:
    """The trained and quantized model with its int8 embeddings: what the HDC stage starts from."""

    graph: object
    acc_float: float
    x_test_q: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    train_features: np.ndarray  # int8 [N_train, F]
    features: np.ndarray  # int8 [N_test, F]
    logits: np.ndarray  # int8 [N_test, n_classes]
    zero_point: int  # of the embedding
    n_classes: int


def train_model(cfg: DemoConfig, log=print):
    """(model, split): cfg.model_path's fine-tuned model and its data, else cfg.model trained on
    cfg.dataset (deterministic for a config)."""
    if cfg.model_path is not None:
        net, split = load_finetuned(cfg.model_path)
        log(f"fine-tuned model {cfg.model_path}: {len(split.class_names)} classes, input {split.sample_shape}")
        return net, split
    series = cfg.dataset != "digits"
    split = load_dataset(cfg.dataset) if series else load_digits(size=cfg.image_size, seed=cfg.seed)
    name = "tinycnn1d" if series and cfg.model == "tinycnn" else cfg.model
    kw = {"in_chans": split.sample_shape[2]} if series else {}
    torch.manual_seed(cfg.seed)  # the initial weights too: same config, same model, same report
    net = models.create(name, num_classes=len(split.class_names), embedding_dim=cfg.embedding_dim, **kw)
    log(f"training {name} on {cfg.dataset} {split.x_train.shape[1:]} for {cfg.epochs} epochs")
    fit(net, split, epochs=cfg.epochs, seed=cfg.seed, max_shift=0 if series else 1)
    return net, split


def load_finetuned(path: Path):
    """(model, split) of a model `edgehdc finetune train` wrote: its target classes, the K-shot training
    samples it was fine-tuned on (calibration and HDC prototypes) and the target test split."""
    from edgehdc.data import base_target, default_classes, few_shot

    net, ckpt = models.load_model(path)
    data, config = ckpt.get("data"), ckpt.get("config")
    if not data or not config:
        raise ValueError(f"{path} does not say which data it was fine-tuned on (write it with `edgehdc finetune train`)")
    full = load_dataset(data["dataset"])
    base = data["base"].split(",") if data.get("base") else default_classes(full)[0]
    _, target = base_target(full, base, data["target"])
    split = few_shot(target, data["shots"], seed=config["seed"]).train
    return net, split


def model_features(net: torch.nn.Module, split) -> DemoFeatures:
    """Quantizes a trained model and runs its int8 graph (the Numba mirror) on both splits."""
    from edgehdc.models.heads import num_outputs

    if num_outputs(net.head) != split.num_classes:
        raise ValueError(f"the model predicts {num_outputs(net.head)} classes, the data has {split.num_classes}")
    acc_float = evaluate(net, split.x_test, split.y_test)
    graph = quantize(net, split.x_train)
    in_q = graph.tensors[graph.inputs[0]].quant
    x_train_q = quantize_input(split.x_train, float(in_q.scale[0]), int(in_q.zero_point[0]))
    x_test_q = quantize_input(split.x_test, float(in_q.scale[0]), int(in_q.zero_point[0]))
    train_features, _ = run_int8(graph, x_train_q)
    features, logits = run_int8(graph, x_test_q)
    return DemoFeatures(graph, acc_float, x_test_q, split.y_train, split.y_test,
                        train_features.reshape(len(x_train_q), -1), features.reshape(len(x_test_q), -1),
                        logits.reshape(len(x_test_q), -1),
                        int(graph.tensors[graph.outputs[0]].quant.zero_point[0]), len(split.class_names))


def demo_features(cfg: DemoConfig, log=print) -> DemoFeatures:
    """Trains (or loads), quantizes and runs the demo model on both splits."""
    return model_features(*train_model(cfg, log))


def build_hdc(cfg: DemoConfig, feats: DemoFeatures, dim: int | None = None) -> tuple[Encoder, Centroid]:
    """The demo's HDC stage: cfg.hdc_encoder calibrated on the training embeddings, prototypes
    bundled then retrained (cfg.hdc_epochs, cfg.hdc_margin)."""
    dim = dim or cfg.hdc_dim
    encoders = {"sign_projection": SignProjection, "id_level": IdLevel}
    if cfg.hdc_encoder not in encoders:
        raise ValueError(f"hdc_encoder must be one of {sorted(encoders)}, got {cfg.hdc_encoder!r}")
    encoder = encoders[cfg.hdc_encoder](feats.features.shape[1], dim=dim, seed=cfg.hdc_seed,
                                        zero_point=feats.zero_point)
    if cfg.hdc_calibrate:
        encoder.calibrate(feats.train_features)
    classifier = Centroid(feats.n_classes, dim).fit(encoder.encode(feats.train_features), feats.y_train,
                                                    epochs=cfg.hdc_epochs, margin=cfg.hdc_margin)
    return encoder, classifier


def build_host_artifacts(cfg: DemoConfig, log=print) -> HostArtifacts:
    feats = demo_features(cfg, log)
    graph, tflite = feats.graph, to_tflite(feats.graph)
    encoder, classifier = build_hdc(cfg, feats)
    hv = encoder.encode(feats.features)
    hdc = classifier.classify(hv)
    hdc_config = {"encoder": cfg.hdc_encoder, "dim": cfg.hdc_dim, "seed": cfg.hdc_seed,
                  "zero_point": feats.zero_point,
                  "centre": None if encoder.centre is None else encoder.centre.tolist(),
                  "scale": None if encoder.scale is None else encoder.scale.tolist()}
    sha = model_sha256(tflite, encoder_digest_table(encoder), classifier.prototypes, hdc_config)
    accuracy = {
        "float": feats.acc_float,
        "int8": _accuracy(feats.logits.argmax(1), feats.y_test),
        "hdc_host": _accuracy(hdc[0], feats.y_test),
    }
    return HostArtifacts(graph, tflite, encoder, classifier, feats.x_test_q, feats.y_test,
                         feats.features, feats.logits, hv, hdc, sha, accuracy)


def encoder_digest_table(encoder: Encoder) -> np.ndarray:
    """The encoder's random tables as one array, for the manifest's model hash."""
    return np.concatenate([t.reshape(-1) for t in encoder.tables().values()])


def write_artifacts(cfg: DemoConfig, art: HostArtifacts) -> Path:
    """Writes model.tflite, hdc.npz, the firmware sources and the manifest; returns the model dir."""
    model_dir = cfg.out_dir / "model"
    atomic_write_bytes(cfg.out_dir / "model.tflite", art.tflite)
    hdc_path = cfg.out_dir / "hdc.npz"
    norm = {} if art.encoder.centre is None else {"centre": art.encoder.centre, "scale": art.encoder.scale}
    _save_npz(hdc_path, **art.encoder.tables(), prototypes=art.classifier.prototypes,
              accumulators=art.classifier.accumulators, dim=cfg.hdc_dim, seed=cfg.hdc_seed,
              zero_point=art.encoder.zero_point, **norm)
    write_firmware_sources(art.graph, art.encoder, art.classifier, model_dir, model_id(art.model_sha),
                           backend=cfg.backend, board=cfg.board)  # refuses a model the board cannot hold
    write_manifest(model_dir, model_sha=art.model_sha, config=cfg.as_dict(), inputs={
        "model.tflite": sha256_bytes(art.tflite), "hdc.npz": sha256_bytes(hdc_path.read_bytes())})
    return model_dir


def check_tflm(art: HostArtifacts, parity: Parity) -> None:
    """Rung 1: the TFLM interpreter against the Numba mirror, every output element."""
    oracle = TflmOracle(art.tflite)
    for i, x in enumerate(art.x_test_q):
        features, logits = oracle.run(x[None])
        parity.compare("tflm_vs_numba", "features", i, features.reshape(-1), art.features[i])
        parity.compare("tflm_vs_numba", "logits", i, logits.reshape(-1), art.logits[i])


def check_device_reply(art: HostArtifacts, parity: Parity, rung: str, i: int, reply) -> None:
    """Compares one device (or bindings) inference with the host's prediction of it."""
    labels, confidence, distances = art.hdc
    parity.compare(rung, "features", i, np.asarray(reply.features), art.features[i])
    parity.compare(rung, "hv_bits", i, _bits(reply.hv), _bits(art.hv[i]))
    parity.compare(rung, "distances", i, np.asarray(reply.distances), distances[i])
    parity.compare(rung, "label", i, [reply.label], labels[i])
    parity.compare(rung, "confidence", i, [reply.confidence], confidence[i])


def _bits(words) -> np.ndarray:
    return np.unpackbits(np.ascontiguousarray(words, dtype="<u4").view(np.uint8), bitorder="little")


def _accuracy(pred, y) -> float:
    return float(np.mean(np.asarray(pred) == np.asarray(y)))


def _save_npz(path: Path, **arrays) -> None:
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def check_bindings(art: HostArtifacts, model_dir: Path, parity: Parity, backend: str = "portable") -> None:
    """Rung 2: the firmware C compiled for this machine, with the generated model."""
    from edgehdc_bindings import FirmwareModel, build_library

    lib = build_library(extra_sources=[model_dir / "ehd_generated.c"], extra_include_dirs=[model_dir],
                        backend=backend)
    fw = FirmwareModel(lib)
    for i, x in enumerate(art.x_test_q):
        check_device_reply(art, parity, "bindings_vs_numba", i, fw.invoke(x))


def run_on_device(cfg: DemoConfig, art: HostArtifacts, model_dir: Path, parity: Parity, progress) -> dict:
    """Rung 3: build and flash the emulated board, send every test image over the serial link."""
    from edgehdc.device import EmulatedBoard, firmware_size, ticks_to_instructions
    from edgehdc.device.profile import read_profile
    from edgehdc.device.protocol import Backend

    board = EmulatedBoard(env=cfg.board, model_dir=model_dir, backend=cfg.backend)
    board.build()
    flash, ram = firmware_size(board.elf_path)
    n = len(art.x_test_q) if cfg.device_samples is None else min(cfg.device_samples, len(art.x_test_q))
    labels, ticks_model, ticks_hdc = [], [], []
    with board.start() as link:
        info = link.expect_model(model_id(art.model_sha))
        if Backend(info.backend).name.lower() != cfg.backend:
            raise RuntimeError(f"the device runs the {Backend(info.backend).name.lower()} kernels, "
                               f"built for {cfg.backend}")
        for i in progress(range(n), description=f"inference on {info.board}"):
            reply = link.infer(art.x_test_q[i])
            check_device_reply(art, parity, "device_vs_numba", i, reply)
            labels.append(reply.label)
            ticks_model.append(reply.ticks_model)
            ticks_hdc.append(reply.ticks_hdc)
        profile = read_profile(link, art.x_test_q[0]).as_dict(board.icount_shift)  # per layer, one image

    def to_instr(ticks) -> int:
        return round(ticks_to_instructions(float(np.mean(ticks)), info.counter_hz, board.icount_shift))

    return {
        "board": info.board,
        "backend": Backend(info.backend).name.lower(),
        "samples": n,
        "accuracy": _accuracy(labels, art.y_test[:n]),
        "instructions_per_inference": to_instr(np.add(ticks_model, ticks_hdc)),
        "instructions_model": to_instr(ticks_model),
        "instructions_hdc": to_instr(ticks_hdc),
        "flash_bytes": flash,
        "ram_bytes": ram,
        "integrity": {"table_format": info.table_format, "intact": info.intact,
                      "model_crc": f"{info.model_crc:08x}", "hdc_crc": f"{info.hdc_crc:08x}"},
        "profile": profile,
    }


def run_demo(cfg: DemoConfig, log=print, progress=None) -> dict:
    """The whole main job; returns the report (also written to out_dir/report.json)."""
    from edgehdc.report import write_report

    progress = progress or (lambda it, description="": it)
    art = build_host_artifacts(cfg, log)
    model_dir = write_artifacts(cfg, art)
    parity = Parity()
    log("parity: TFLM vs Numba")
    check_tflm(art, parity)
    log("parity: firmware C on the host vs Numba")
    check_bindings(art, model_dir, parity, cfg.backend)
    log("building the firmware and running it on the emulated board")
    device = run_on_device(cfg, art, model_dir, parity, progress)
    report = {
        "accuracy": {**art.accuracy, "hdc_device": device.pop("accuracy")},
        "parity": parity.as_dict(),
        "device": device,
        "config": cfg.as_dict(),
        "model_sha256": art.model_sha,
    }
    write_report(cfg.out_dir / "report.json", report)
    return report
