"""Loading pretrained weights into a registry model, and whole-model checkpoints that rebuild themselves.

`load_pretrained(model, path)` reads what users have on disk: a state dict,
a training checkpoint holding one under "state_dict" or "model" (timm,
torchvision references, Lightning), keys prefixed by "module." (DDP) or
"model." (Lightning), or, with `trusted=True`, an nn.Module pickled whole by
`torch.save(model)`. The backbone (`features.*`) must match exactly; the
head is replaced unless `keep_head`. Every mismatch is a ValueError that
names the file and the key. Nothing is changed in the model unless all of
it loads.

`save_model` / `load_model` store the registry name, its arguments and the
head kind beside the weights, so `load_model(path)` rebuilds the model
(what the pipeline reads after fine-tuning).
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import torch
from torch import nn

from edgehdc.fileio import atomic_write_bytes
from edgehdc.models.registry import create

FORMAT = "edgehdc-model"
VERSION = 1
_PREFIXES = ("module.", "model.", "_orig_mod.")


def read_checkpoint(path: str | Path, trusted: bool = False):
    """torch.load of `path` on the CPU, weights only unless `trusted`; clear errors for bad files."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=not trusted)
    except pickle.UnpicklingError as e:
        if not trusted and "weights_only" in str(e):
            raise ValueError(f"checkpoint {path} holds pickled Python objects (a whole nn.Module?), not "
                             f"only tensors; load it with trusted=True (--trust-checkpoint) if you trust "
                             f"its source") from None
        raise ValueError(f"checkpoint {path} is not a readable PyTorch file: {e}") from None
    except (RuntimeError, EOFError, OSError, ValueError, AttributeError, ModuleNotFoundError) as e:
        raise ValueError(f"checkpoint {path} is not a readable PyTorch file: {e}") from None


def state_dict_of(obj, path: str | Path = "<checkpoint>") -> dict[str, torch.Tensor]:
    """The tensor mapping inside what `read_checkpoint` returned, with wrapper prefixes removed."""
    if isinstance(obj, nn.Module):
        obj = obj.state_dict()
    elif isinstance(obj, dict):
        for key in ("state_dict", "model", "model_state_dict"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
            if isinstance(obj.get(key), nn.Module):
                obj = obj[key].state_dict()
                break
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(f"checkpoint {path} holds no state dict (a mapping of parameter names to tensors)")
    out = {}
    for k, v in obj.items():
        for p in _PREFIXES:
            while k.startswith(p):
                k = k[len(p):]
        out[k] = v
    return out


def load_pretrained(model: nn.Module, path: str | Path, *, keep_head: bool = False,
                    trusted: bool = False) -> list[str]:
    """Copy the checkpoint's backbone (and head if `keep_head`) into `model`; returns the loaded keys.

    Call it before any freezing: it writes every backbone tensor, frozen or not.
    """
    state = state_dict_of(read_checkpoint(path, trusted), path)
    own = model.state_dict()
    wanted = [k for k in own if keep_head or not k.startswith("head.")]
    missing = [k for k in wanted if k not in state]
    if missing:
        raise ValueError(f"checkpoint {path} lacks {missing[0]!r}"
                         f"{f' and {len(missing) - 1} more keys' if len(missing) > 1 else ''}: "
                         f"is it for another architecture? (it has {len(state)} tensors, e.g. {next(iter(state))!r})")
    unexpected = [k for k in state if k not in own and not k.startswith("head.")]
    if unexpected:
        raise ValueError(f"checkpoint {path} has {unexpected[0]!r}, which the model does not: "
                         f"another architecture, or other model arguments?")
    for k in wanted:
        if state[k].shape != own[k].shape:
            raise ValueError(f"checkpoint {path}: {_shape_message(k, state[k].shape, own[k].shape)}")
    with torch.no_grad():
        for k in wanted:
            own[k].copy_(state[k])
    return wanted


def _shape_message(key: str, got: torch.Size, want: torch.Size) -> str:
    if key == "features.0.conv.weight" and got[0] == want[0] and got[2:] == want[2:]:
        return f"{key!r} takes {got[1]} input channels, the data has {want[1]}"
    if key.startswith("head.") and got[0] != want[0]:
        return f"{key!r} predicts {got[0]} classes, the task has {want[0]}"
    return f"{key!r} has shape {tuple(got)}, the model {tuple(want)}"


def save_model(path: str | Path, model: nn.Module, spec: dict, **extra) -> Path:
    """Atomically write the weights with `spec` (registry name, kwargs, num_classes, head, adapter) and `extra`."""
    buf = io.BytesIO()
    torch.save({"format": FORMAT, "version": VERSION, "spec": spec, "state_dict": model.state_dict(), **extra}, buf)
    return atomic_write_bytes(path, buf.getvalue())


def load_model(path: str | Path) -> tuple[nn.Module, dict]:
    """(model in eval mode, the whole checkpoint dict) from a file `save_model` wrote."""
    ckpt = read_checkpoint(path)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ValueError(f"{path} is not an edgehdc model checkpoint (no format {FORMAT!r}); "
                         f"a bare state dict needs its architecture: use load_pretrained")
    if ckpt.get("version") != VERSION:
        raise ValueError(f"{path}: checkpoint version {ckpt.get('version')} is not supported (want {VERSION})")
    model = build(ckpt["spec"])
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as e:
        raise ValueError(f"{path}: weights do not fit its own spec {ckpt['spec']}: {e}") from None
    return model.eval(), ckpt


def build(spec: dict) -> nn.Module:
    """A fresh model from a spec: create(name, num_classes, **kwargs), then head and adapter."""
    from edgehdc.models.heads import replace_head

    model = create(spec["model"], num_classes=spec["num_classes"], **spec.get("kwargs", {}))
    if spec.get("adapter"):
        add_adapter(model)
    if spec.get("head", "linear") != "linear" or spec.get("head_kwargs"):
        replace_head(model, spec.get("head", "linear"), spec["num_classes"], **spec.get("head_kwargs", {}))
    return model


class HDCAdapter(nn.Linear):
    """A Linear that refines the embedding for HDC; its own class so fine-tuning treats it as a new layer."""


def add_adapter(model: nn.Module) -> nn.Module:
    """Append an HDC adapter to the backbone: a Linear embedding -> embedding initialised to the identity.

    It ends `features`, so its output is the embedding the HDC encoder reads,
    and PTQ turns it into one more FULLY_CONNECTED op.
    """
    adapter = HDCAdapter(model.embedding_dim, model.embedding_dim)
    with torch.no_grad():
        adapter.weight.copy_(torch.eye(model.embedding_dim))
        adapter.bias.zero_()
    model.features.append(adapter)
    return model
