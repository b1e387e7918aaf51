"""Running a model over every galaxy of a pool, in order: validation, embeddings, predictions."""

from __future__ import annotations

import contextlib
from typing import Callable

import torch

from .data import Plan, Pool, eval_batches, iterate, loader
from .distributed import Processes


def autocast(device: torch.device, bf16: bool) -> contextlib.AbstractContextManager:
    """bf16 autocast on GPUs when asked; CPUs run float32."""
    return torch.autocast(device.type, dtype=torch.bfloat16,
                          enabled=bf16 and device.type == "cuda")


@torch.no_grad()
def over_pool(fn: Callable[[dict[str, torch.Tensor]], torch.Tensor], pool: Pool,
              batch_size: int, processes: Processes, num_workers: int = 0,
              desc: str = "predict") -> torch.Tensor:
    """`fn(batch)` for this process's contiguous shard of the pool, concatenated on the CPU."""
    batches = eval_batches(len(pool), batch_size, processes.rank, processes.world)
    batches_on_device = iterate(loader(pool, Plan.in_order(len(pool)), batches, num_workers,
                                       processes.device), processes.device, desc, processes.main)
    outputs = [fn(batch).float().cpu() for batch in batches_on_device]
    return torch.cat(outputs) if outputs else torch.empty(0)
