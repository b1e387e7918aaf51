"""Training the DINOv2 regressor in stages, as the original study did.

Each stage (`frozen`: head only on a frozen backbone; `full`: everything, with separate
backbone and head learning rates; `lora`: LoRA adapters and head) starts from the best
checkpoint of the stage before, trains with AdamW, a cosine schedule with warm-up and gradient
clipping (bf16 autocast on GPUs), validates on the in-distribution validation split of the
training surveys after every epoch and stops after `patience` epochs without improvement
(of the validation loss, or of the correlation: `training.select`, `baselines.selection`).
UKIDSS is never read here.

Folders in the run's output: `last/` (model, optimizer and progress after the latest epoch: a
killed run resumes from it), `stages/<name>/` (best checkpoint of each stage), `best/` (the
final model, what `train` returns), `run.json` and `history.jsonl` (one line per epoch).
The same code runs one process or many under `torchrun` (DDP).

What a step does with a batch beyond ERM is the config's algorithm (`baselines.algorithms`).
Every stage plans `Budget` steps: `data.epoch_size` galaxies per epoch in whole batches, so
configs that differ in their mix of surveys train for the same number of steps and images.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from benchmark.atomic import atomic_directory
from benchmark.errors import SommelierError

from .algorithms import Algorithm, Position, build_algorithm, check_algorithm
from .augment import Draws
from .checkpoint import restore_optimizer
from .config import Config, StageConfig
from .data import (Plan, TrainingData, epoch_rows, iterate, load_training_data, loader,
                   stratified_rows, train_batches)
from .distributed import Processes, start, stop
from .images import Views, augment
from .inference import autocast, over_pool
from .losses import LOSSES, MISSING, Loss, LossContext, targets
from .lookup import lookup
from .model import GalaxyRegressor, architecture, load_model, new_model, save_model
from .run import Run, claim, make_record
from .selection import MOMENTS, SELECTIONS, improves, moments, pearson

KIND = "dinov2"
HISTORY = "history.jsonl"


def _frozen(model: GalaxyRegressor, stage: StageConfig) -> list[dict]:
    model.backbone.requires_grad_(False)
    return [{"params": list(model.head.parameters()), "lr": stage.head_lr}]


def _full(model: GalaxyRegressor, stage: StageConfig) -> list[dict]:
    model.backbone.requires_grad_(True)
    return [{"params": list(model.backbone.parameters()), "lr": stage.backbone_lr},
            {"params": list(model.head.parameters()), "lr": stage.head_lr}]


def _lora(model: GalaxyRegressor, stage: StageConfig) -> list[dict]:
    model.use_lora(stage.lora)  # peft freezes the backbone and leaves the adapters trainable
    adapters = [p for p in model.backbone.parameters() if p.requires_grad]
    return [{"params": adapters, "lr": stage.backbone_lr},
            {"params": list(model.head.parameters()), "lr": stage.head_lr}]


@dataclass(frozen=True)
class BackboneMode:
    prepare: Callable[[GalaxyRegressor, StageConfig], list[dict]]  # -> optimizer groups
    trains_backbone: bool  # False: the backbone also stays in eval mode


BACKBONE_MODES: dict[str, BackboneMode] = {
    "frozen": BackboneMode(_frozen, trains_backbone=False),
    "full": BackboneMode(_full, trains_backbone=True),
    "lora": BackboneMode(_lora, trains_backbone=True),
}


def lr_factor(step: int, total: int, warmup: int) -> float:
    """Linear warm-up over `warmup` steps, then cosine decay to 0 at `total`."""
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


class Step:
    """One optimisation step on one batch (on the device): the algorithm's image changes,
    normalise, rotate/flip, the algorithm's mixing, forward, per-galaxy loss, the algorithm's
    objective, backward, clip, update, the algorithm's after-step. Returns the batch's mean
    loss on the targets it trained on, detached. `part` is this process's slice of each global
    batch (what it keeps of the batch's random draws)."""

    def __init__(self, model: GalaxyRegressor, network: nn.Module,
                 optimizer: torch.optim.Optimizer, loss: Loss, config: Config,
                 algorithm: Algorithm | None = None, part: slice = slice(None)):
        self.model, self.network, self.optimizer, self.loss = model, network, optimizer, loss
        self.algorithm = algorithm or build_algorithm(config)
        self.part, self.batch_size = part, config.training.batch_size
        self.ctx = LossContext(model.layout, model.output, config.loss)
        self.augmenting = config.data.augment.rotate or config.data.augment.flip
        self.bf16, self.clip = config.training.bf16, config.training.grad_clip
        self.trainable = [p for g in optimizer.param_groups for p in g["params"]]

    def __call__(self, batch: dict[str, torch.Tensor], at: Position = Position()) -> torch.Tensor:
        draws = Draws(at.key, self.part, self.batch_size)
        x = self.model.prepare(self.algorithm.images(batch["images"], draws))
        if self.augmenting:
            x = augment(x, batch["angles"], batch["flips"])
        x, fractions, counts = self.algorithm.mix(x, batch, draws)
        with autocast(x.device, self.bf16):
            logits = self.network(x)
        losses = self.loss.fn(logits.float(), fractions, counts, self.ctx)
        objective = self.algorithm.objective(losses, batch, at)
        self.optimizer.zero_grad(set_to_none=True)
        objective.backward()
        nn.utils.clip_grad_norm_(self.trainable, self.clip)
        self.optimizer.step()
        self.algorithm.after_step(self.optimizer, at)
        return losses.mean().detach()


@dataclass(frozen=True)
class Budget:
    """The optimiser steps (and images) each stage plans: `epoch_size` galaxies an epoch in
    whole batches, whatever the mix of surveys. Early stopping can only end a stage sooner."""

    epoch_size: int
    batch_size: int
    epochs: tuple[int, ...]  # per stage

    @classmethod
    def of(cls, config: Config, epoch_size: int) -> "Budget":
        return cls(epoch_size, config.training.batch_size, tuple(s.epochs for s in config.stages))

    @property
    def steps_per_epoch(self) -> int:
        return self.epoch_size // self.batch_size

    @property
    def steps(self) -> tuple[int, ...]:
        return tuple(epochs * self.steps_per_epoch for epochs in self.epochs)

    def to_dict(self) -> dict:
        return {"epoch_size": self.epoch_size, "batch_size": self.batch_size,
                "steps": list(self.steps), "images": [n * self.batch_size for n in self.steps]}


@dataclass(frozen=True)
class Progress:
    """Where a run stands; saved in `last/` so a killed run continues from there."""

    stage: int = 0
    epoch: int = 0  # the next epoch to run in `stage`
    best: float | None = None  # best validation score (`training.select`) of this stage so far
    bad_epochs: int = 0
    algorithm: dict[str, list[float]] = field(default_factory=dict)  # its state() (GroupDRO's q)


def check(config: Config, world: int) -> None:
    """Refuse a config that cannot train before any data is read."""
    if not config.stages:
        raise SommelierError(f"config {config.name!r} has no training stages")
    loss = lookup(LOSSES, config.loss.name, "loss")
    if loss.needs_softmax and config.model.output != "softmax":
        raise SommelierError(f"loss {config.loss.name!r} needs `model.output: softmax`")
    lookup(MISSING, config.loss.missing, "loss.missing")
    if config.loss.missing != "mask" and not loss.reads_fractions:
        raise SommelierError(f"loss.missing: {config.loss.missing} fills fractions; loss "
                             f"{config.loss.name!r} reads vote counts (unasked: 0 votes)")
    lookup(SELECTIONS, config.training.select, "training.select")
    for stage in config.stages:
        lookup(BACKBONE_MODES, stage.backbone, "stage backbone mode")
        if stage.epochs < 1:
            raise SommelierError(f"stage {stage.name!r} needs at least one epoch")
    if config.training.batch_size % world:
        raise SommelierError(f"batch size {config.training.batch_size} does not split evenly "
                             f"over {world} processes")
    check_algorithm(config, world)


def fit_dinov2(run: Run) -> Path:
    processes = start()
    try:
        check(run.config, processes.world)
        with processes.main_first():
            data = load_training_data(run.config, run.data, run.seed, run.config.model.image_size)
        record = {**make_record(run, data.loaded),
                  "budget": Budget.of(run.config, data.epoch_size).to_dict()}
        claim(run, record, write=processes.main)
        return Trainer(run, data, processes, record).fit()
    finally:
        stop(processes)


class Trainer:
    def __init__(self, run: Run, data: TrainingData, processes: Processes, record: dict):
        self.run, self.config, self.data = run, run.config, data
        self.processes, self.device = processes, processes.device
        self.record = record
        self.loss = LOSSES[self.config.loss.name]
        self.algorithm = build_algorithm(self.config, processes)
        self.budget = Budget.of(self.config, data.epoch_size)

    def meta(self, model: GalaxyRegressor) -> dict:
        head = model.spec.head
        lora = f", LoRA rank {model.spec.lora.rank}" if model.spec.lora else ""
        training = self.algorithm.describe()
        described = (f"{architecture(model.spec)}{lora} -> MLP head {list(head.hidden)} "
                     f"({head.norm} norm), {model.spec.output} outputs, "
                     f"{self.config.loss.name} loss" + (f", {training}" if training else ""))
        return {"kind": KIND, "run": self.record, "model": described}

    # --- folders --------------------------------------------------------------------------
    @property
    def last(self) -> Path:
        return self.run.out / "last"

    def stage_dir(self, index: int) -> Path:
        return self.run.out / "stages" / self.config.stages[index].name

    # --- the run --------------------------------------------------------------------------
    def fit(self) -> Path:
        model, progress = self.resume()
        resumed_mid_stage = progress.epoch > 0
        while progress.stage < len(self.config.stages):
            if progress.stage > 0 and not resumed_mid_stage:
                model, _ = load_model(self.stage_dir(progress.stage - 1))
            model, progress = self.fit_stage(model, progress, resumed_mid_stage)
            resumed_mid_stage = False
        return self.finish()

    def resume(self) -> tuple[GalaxyRegressor, Progress]:
        if (self.last / "checkpoint.json").is_file():
            model, meta = load_model(self.last)
            progress = Progress(**meta["trainer"])
            self.algorithm.load_state(progress.algorithm)
            return model, progress
        return new_model(self.config, self.run.seed), Progress()

    def fit_stage(self, model: GalaxyRegressor, progress: Progress,
                  resumed: bool) -> tuple[GalaxyRegressor, Progress]:
        stage = self.config.stages[progress.stage]
        mode = BACKBONE_MODES[stage.backbone]
        groups = mode.prepare(model, stage)
        model.to(self.device)
        optimizer = torch.optim.AdamW(groups, weight_decay=self.config.training.weight_decay)
        base_lrs = [g["lr"] for g in optimizer.param_groups]
        if resumed:
            restore_optimizer(optimizer, self.last)
        network = self.parallel(model)
        index = progress.stage
        with self.algorithm.attached(model):
            while progress.stage == index:
                progress = self.fit_epoch(model, network, optimizer, base_lrs, mode, progress)
        return model, progress

    def fit_epoch(self, model: GalaxyRegressor, network: nn.Module,
                  optimizer: torch.optim.Optimizer, base_lrs: list[float], mode: BackboneMode,
                  progress: Progress) -> Progress:
        """Train, validate and checkpoint one epoch; returns the progress after it (the next
        stage's start once this stage is finished)."""
        stage = self.config.stages[progress.stage]
        started = time.perf_counter()
        train_loss, steps = self.train_epoch(model, network, optimizer, base_lrs, mode, progress)
        select = self.config.training.select
        with self.algorithm.evaluated(optimizer):  # SWA: its average is validated and kept
            scores = self.validate(model)
            improved = improves(select, scores[select], progress.best)
            if improved and self.processes.main:
                save_model(self.stage_dir(progress.stage), model, self.meta(model))
        progress = replace(progress, epoch=progress.epoch + 1,
                           best=scores[select] if improved else progress.best,
                           bad_epochs=0 if improved else progress.bad_epochs + 1,
                           algorithm=self.algorithm.state())
        finished = (progress.epoch == stage.epochs
                    or progress.bad_epochs >= self.config.training.patience)
        self.log(stage, progress, train_loss, scores, steps, time.perf_counter() - started)
        if finished:
            progress = Progress(stage=progress.stage + 1, algorithm=progress.algorithm)
        if self.processes.main:
            save_model(self.last, model, {**self.meta(model), "trainer": asdict(progress)},
                       optimizer)
        self.processes.barrier()
        return progress

    def parallel(self, model: GalaxyRegressor) -> nn.Module:
        if self.processes.world == 1:
            return model
        if self.device.type == "cuda":  # SyncBatchNorm needs GPUs; see docs for CPU runs
            nn.SyncBatchNorm.convert_sync_batchnorm(model)
        # static graph: the same parameters every step, some never used (DINOv2's mask token)
        return nn.parallel.DistributedDataParallel(
            model, device_ids=[self.device] if self.device.type == "cuda" else None,
            static_graph=True)

    def train_epoch(self, model: GalaxyRegressor, network: nn.Module,
                    optimizer: torch.optim.Optimizer, base_lrs: list[float], mode: BackboneMode,
                    progress: Progress) -> tuple[float, int]:
        cfg, data = self.config, self.data
        stage = cfg.stages[progress.stage]
        key = [self.run.seed, progress.stage, progress.epoch]
        rng = np.random.default_rng(key)
        rows = self.epoch_rows(rng)
        views = Views.draw(len(rows), rng, cfg.data.augment.rotate, cfg.data.augment.flip)
        batches = train_batches(len(rows), cfg.training.batch_size, self.processes.rank,
                                self.processes.world)
        if not batches:
            raise SommelierError(f"an epoch of {len(rows)} galaxies holds no full batch of "
                                 f"{cfg.training.batch_size}")
        total = self.budget.steps[progress.stage]
        warmup = math.ceil(cfg.training.warmup * total)
        torch.manual_seed(int(np.random.SeedSequence(key).generate_state(1)[0]))  # dropout
        model.train()
        if not mode.trains_backbone:
            model.backbone.eval()
        local = cfg.training.batch_size // self.processes.world
        part = slice(self.processes.rank * local, (self.processes.rank + 1) * local)
        step = Step(model, network, optimizer, self.loss, cfg, self.algorithm, part)
        plan_loader = loader(data.train, Plan(rows, views), batches, cfg.data.num_workers,
                             self.device)
        desc = f"{stage.name} epoch {progress.epoch + 1}/{stage.epochs}"
        loss_sum = torch.zeros((), device=self.device)
        for i, batch in enumerate(iterate(plan_loader, self.device, desc, self.processes.main)):
            index = progress.epoch * len(batches) + i
            factor = lr_factor(index, total, warmup)
            for group, base in zip(optimizer.param_groups, base_lrs):
                group["lr"] = base * factor
            loss_sum += step(batch, Position(index, total, (*key, i + 1)))
        count = torch.tensor(float(len(batches)), device=self.device)
        mean = self.processes.sum(torch.stack([loss_sum, count]))
        return float(mean[0] / mean[1]), len(batches)

    def epoch_rows(self, rng: np.random.Generator) -> np.ndarray:
        """The pool rows of one epoch: mixed by share, or stratified per batch when the
        algorithm compares surveys within each batch."""
        data = self.data
        sizes, shares = [len(p) for p in data.train.parts], list(data.shares)
        if self.algorithm.stratified:
            return stratified_rows(sizes, shares, data.epoch_size, self.config.training.batch_size,
                                   rng)
        return epoch_rows(sizes, shares, data.epoch_size, rng)

    def validate(self, model: GalaxyRegressor) -> dict[str, float]:
        """Validation scores, each survey's weighted by its share of training: `loss` (mean
        per galaxy) and, when `training.select` needs it, `correlation` (flattened r)."""
        model.eval()
        ctx = LossContext(model.layout, model.output, self.config.loss)
        correlates = SELECTIONS[self.config.training.select].correlates

        def outputs(batch: dict[str, torch.Tensor]) -> torch.Tensor:
            with autocast(self.device, self.config.training.bf16):
                logits = model(model.prepare(batch["images"])).float()
            losses = self.loss.fn(logits, batch["fractions"], batch["counts"], ctx)
            if not correlates:
                return losses
            filled, kept = targets(batch["fractions"], self.config.loss.missing)
            sums = moments(model.output(logits, model.layout), filled, kept)
            return torch.cat([losses[:, None].double(), sums], 1)

        per_survey = []
        for survey, pool in self.data.validation.items():
            values = over_pool(outputs, pool, self.config.training.batch_size, self.processes,
                               self.config.data.num_workers, desc=f"validate {survey}")
            score = self.survey_correlation if correlates else self.survey_loss
            per_survey.append(score(values))
        return {key: float(np.average([s[key] for s in per_survey], weights=self.data.shares))
                for key in per_survey[0]}

    def survey_loss(self, losses: torch.Tensor) -> dict[str, float]:
        """One survey's mean validation loss over all processes' galaxies."""
        sums = torch.stack([losses.sum(), torch.tensor(float(len(losses)))])
        total, count = self.processes.sum(sums)
        return {"loss": float(total / count)}

    def survey_correlation(self, values: torch.Tensor) -> dict[str, float]:
        """One survey's mean loss and flattened r from per-galaxy [loss, moments] rows."""
        values = values.reshape(-1, 1 + MOMENTS).double()
        sums = self.processes.sum(torch.cat([values.sum(0), torch.tensor([float(len(values))])]))
        return {"loss": float(sums[0] / sums[-1]), "correlation": pearson(sums[1:-1])}

    def log(self, stage: StageConfig, progress: Progress, train_loss: float,
            scores: dict[str, float], steps: int, seconds: float) -> None:
        if not self.processes.main:
            return
        line = {"stage": stage.name, "epoch": progress.epoch, "train_loss": train_loss,
                **{f"val_{key}": value for key, value in scores.items()},
                f"best_val_{self.config.training.select}": progress.best, "steps": steps,
                "seconds": round(seconds, 3), "steps_per_s": round(steps / seconds, 3)}
        if progress.algorithm:
            line["algorithm"] = progress.algorithm
        with open(self.run.out / HISTORY, "a") as fh:
            fh.write(json.dumps(line) + "\n")
        validation = ", ".join(f"validation {key} {value:.5g}" for key, value in scores.items())
        print(f"{stage.name} epoch {progress.epoch}/{stage.epochs}: train loss {train_loss:.5g}, "
              f"{validation} ({line['steps_per_s']} steps/s)", file=sys.stderr)

    def finish(self) -> Path:
        """Publish the last stage's best checkpoint as `best/`."""
        best = self.run.out / "best"
        if self.processes.main and not (best / "checkpoint.json").is_file():
            with atomic_directory(best) as tmp:
                shutil.copytree(self.stage_dir(len(self.config.stages) - 1), tmp,
                                dirs_exist_ok=True)
        self.processes.barrier()
        return best
