"""One process or many (`torchrun`): the same training code, told its rank and device here.

Under `torchrun` the environment names this process's rank; the process group uses NCCL on
GPUs and gloo on CPUs (which is how the tests run two processes on one CPU). Without it, the
run is one process of a world of one and nothing is initialised.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Iterator

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Processes:
    rank: int
    world: int
    device: torch.device
    owns_group: bool = False  # this code started the process group (and ends it)

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        """Element-wise sum over processes (float64 on the device; returned on the CPU)."""
        values = values.to(self.device, torch.float64)
        if self.world > 1:
            dist.all_reduce(values)
        return values.cpu()

    @contextlib.contextmanager
    def main_first(self) -> Iterator[None]:
        """Let the main process fill caches (datasets, decoded images) before the others read."""
        if not self.main:
            self.barrier()
        yield
        if self.main:
            self.barrier()


def best_device(local_rank: int = 0) -> torch.device:
    return torch.device(f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")


def single() -> Processes:
    """This process alone, on its best device (prediction, simple baselines)."""
    return Processes(0, 1, best_device())


def start() -> Processes:
    """This process's place in a `torchrun` launch (or a world of one without it)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    device = best_device(int(os.environ.get("LOCAL_RANK", "0")))
    if device.type == "cuda":
        torch.cuda.set_device(device)
    owns = world > 1 and not dist.is_initialized()
    if owns:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Processes(int(os.environ.get("RANK", "0")), world, device, owns)


def stop(processes: Processes) -> None:
    if processes.owns_group:
        dist.destroy_process_group()
