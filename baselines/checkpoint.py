"""Checkpoint folders: tensors in safetensors, everything else in JSON; never pickle.

A folder holds `model.safetensors`, `checkpoint.json` (what the tensors are, how to rebuild the
model, the run record) and, for a resumable checkpoint, `optimizer.safetensors`. Folders are
written to a temporary name and renamed into place, so a run killed while saving keeps its
previous checkpoint intact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from benchmark.atomic import atomic_directory
from benchmark.errors import SommelierError

FORMAT = 1
WEIGHTS = "model.safetensors"
OPTIMIZER = "optimizer.safetensors"
META = "checkpoint.json"


def save_checkpoint(folder: Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any],
                    optimizer: torch.optim.Optimizer | None = None) -> Path:
    meta = {"format": FORMAT, **meta}
    with atomic_directory(folder) as tmp:
        save_file(_plain(tensors), str(tmp / WEIGHTS))
        if optimizer is not None:
            state, meta["optimizer_groups"] = _flatten_optimizer(optimizer)
            save_file(_plain(state), str(tmp / OPTIMIZER))
        (tmp / META).write_text(json.dumps(meta, indent=1, sort_keys=True))
    return folder


def read_meta(folder: Path) -> dict[str, Any]:
    path = Path(folder) / META
    if not path.is_file():
        raise SommelierError(f"{folder} is not a checkpoint (no {META})")
    meta = json.loads(path.read_text())
    if meta.get("format") != FORMAT:
        raise SommelierError(f"{folder}: checkpoint format {meta.get('format')}, expected {FORMAT}")
    return meta


def read_tensors(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(Path(folder) / WEIGHTS))


def restore_optimizer(optimizer: torch.optim.Optimizer, folder: Path) -> None:
    """Load the optimizer state saved beside a checkpoint's weights."""
    flat = load_file(str(Path(folder) / OPTIMIZER))
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in flat.items():
        index, name = key.split("/", 1)
        state.setdefault(int(index), {})[name] = value
    groups = read_meta(folder)["optimizer_groups"]
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def _flatten_optimizer(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list]:
    full = optimizer.state_dict()
    flat = {f"{index}/{name}": value for index, entry in full["state"].items()
            for name, value in entry.items()}
    if not all(isinstance(v, torch.Tensor) for v in flat.values()):
        raise TypeError("optimizer state holds non-tensor values; it cannot go to safetensors")
    return flat, full["param_groups"]


def _plain(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}
