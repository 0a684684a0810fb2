"""Artifact manifests: what an artifact was made from, so a stale one is refused.

The model id that the firmware reports in INFO is the first 8 bytes of the
manifest's `model_sha256`, a hash over everything the device computes with:
the .tflite bytes and the HDC tables.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from edgehdc import __version__
from edgehdc.fileio import atomic_write_json

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"


def model_sha256(tflite: bytes, projection: np.ndarray, prototypes: np.ndarray, hdc_config: dict) -> str:
    h = hashlib.sha256()
    h.update(tflite)
    for table in (projection, prototypes):
        h.update(np.ascontiguousarray(table, dtype="<u4").tobytes())
    h.update(json.dumps(hdc_config, sort_keys=True).encode())
    return h.hexdigest()


def model_id(sha256_hex: str) -> bytes:
    return bytes.fromhex(sha256_hex)[:8]


def write_manifest(out_dir, *, model_sha: str, inputs: dict[str, str], config: dict) -> Path:
    """inputs maps artifact names to their sha256; config is the recipe that made them."""
    return atomic_write_json(
        Path(out_dir) / MANIFEST_NAME,
        {
            "format_version": FORMAT_VERSION,
            "edgehdc_version": __version__,
            "model_sha256": model_sha,
            "inputs": inputs,
            "config": config,
        },
    )


def read_manifest(path) -> dict:
    path = Path(path)
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read manifest {path}: {exc}") from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{path}: manifest format {manifest.get('format_version')!r}, this edgehdc reads {FORMAT_VERSION}"
        )
    return manifest


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
