"""Resumable training checkpoints without pickle: tensors in safetensors, the rest in JSON.

A checkpoint is a folder with ``checkpoint.safetensors`` (the model's state dict under
``model.*``, the best model so far under ``best.*``, and the optimizer's per-parameter state under
``optim.<param index>.<name>``) and ``checkpoint.json`` (epoch, best score, patience counter,
history, the optimizer's hyper-parameters, and a fingerprint of the run's configuration). Both
files are written to temporary names and renamed, the JSON last, so a crash leaves the previous
checkpoint intact. Random state needs no saving: every epoch reseeds from (seed, epoch).

This module imports torch at its top; it is imported only from :mod:`musictagger.training.trainer`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

TENSORS = "checkpoint.safetensors"
STATE = "checkpoint.json"


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_checkpoint(
    folder: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    best_state: dict[str, torch.Tensor] | None,
    state: dict[str, Any],
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {}
    for k, v in model.state_dict().items():
        tensors[f"model.{k}"] = v.detach().cpu().contiguous().clone()
    for k, v in (best_state or {}).items():
        tensors[f"best.{k}"] = v.detach().cpu().contiguous().clone()
    opt = optimizer.state_dict()
    for index, per_param in opt["state"].items():
        for name, value in per_param.items():
            t = value if torch.is_tensor(value) else torch.tensor(value)
            tensors[f"optim.{index}.{name}"] = t.detach().cpu().contiguous().clone()
    tmp = folder / (TENSORS + ".tmp")
    save_file(tensors, str(tmp))
    os.replace(tmp, folder / TENSORS)
    payload = dict(state)
    payload["optimizer_param_groups"] = opt["param_groups"]
    _atomic_write_bytes(folder / STATE, json.dumps(payload, indent=1).encode())


def load_checkpoint(
    folder: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    fingerprint: str,
) -> tuple[dict[str, Any], dict[str, torch.Tensor] | None] | None:
    """Restore model and optimizer; return (state, best_state), or None when there is no usable
    checkpoint (missing, damaged, or made by a differently configured run)."""
    try:
        state = json.loads((folder / STATE).read_text(encoding="utf-8"))
        if state.get("fingerprint") != fingerprint:
            return None
        tensors = load_file(str(folder / TENSORS))
    except (OSError, ValueError, RuntimeError):
        return None
    model_state = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")} or None
    opt_state: dict[int, dict[str, torch.Tensor]] = {}
    for k, v in tensors.items():
        if k.startswith("optim."):
            _, index, name = k.split(".", 2)
            opt_state.setdefault(int(index), {})[name] = v
    try:
        model.load_state_dict(model_state, strict=True)
        optimizer.load_state_dict({"state": opt_state, "param_groups": state["optimizer_param_groups"]})
    except (RuntimeError, KeyError, ValueError):
        return None
    return state, best
