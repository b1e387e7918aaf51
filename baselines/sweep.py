"""Sweeps: every config x every seed trained, predicted and collected into entries, on a launcher.

A job is one (config, seed): `train` into `<out>/runs/<config>-seed<k>`, then `predict` into a
staging entry of its own, `<out>/staging/<config>-seed<k>` (jobs running side by side never
write the same folder). Once every job is done, the staged predictions are collected, one seed
at a time, into `<out>/entries/<config>`, an ordinary submission entry per config holding all
its seeds. Running the same sweep again resumes unfinished runs and re-collects.

Launchers (a registry; each runs a list of jobs):
- `local`: one job after another in this process (its GPU if it has one);
- `torchrun`: each job's training under `python -m torch.distributed.run --standalone
  --nproc_per_node N` (DDP over N local GPUs), its prediction in this process;
- `slurm`: one Slurm job per (config, seed) through `submitit`, as the original study ran on a
  Slurm cluster; `--nproc N` asks each for N GPUs (N tasks, DDP). `cluster="local"` runs the same
  jobs as local processes through submitit's local executor (how the tests run it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from benchmark.errors import SommelierError

from .config import config_path, load_config
from .lookup import lookup
from .run import resolve


@dataclass(frozen=True)
class Job:
    """One config and seed, with every path it reads and writes (absolute: jobs may run in
    other processes and folders)."""

    config: str  # config file
    name: str  # the config's name
    seed: int
    data: str
    splits: tuple[str, ...]
    run: Path  # training run folder
    staged: Path  # this job's own entry


@dataclass(frozen=True)
class Options:
    """How a launcher runs each job."""

    nproc: int = 1  # processes (GPUs) per job: torchrun and slurm
    partition: str | None = None  # slurm partition
    time: int = 24 * 60  # slurm time limit per job, minutes
    cpus: int = 8  # slurm CPUs per process (DataLoader workers)
    cluster: str = "slurm"  # submitit executor: slurm | local | debug


def plan(configs: Sequence[str], seeds: Sequence[int], data: str | None, out: Path,
         splits: Sequence[str]) -> list[Job]:
    """The sweep's jobs, config by config and seed by seed, checked before anything runs."""
    from .predict import parse_split

    if not configs:
        raise SommelierError("a sweep needs at least one config")
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise SommelierError(f"seeds must be distinct non-negative integers, got {list(seeds)}")
    if not splits:
        raise SommelierError("a sweep needs at least one split to predict (e.g. ukidss:test)")
    for split in splits:
        parse_split(split)
    out = out.resolve()
    jobs: list[Job] = []
    names: dict[str, str] = {}
    for given in configs:
        path = config_path(given).resolve()
        config = load_config(path)
        if names.setdefault(config.name, given) != given:
            raise SommelierError(f"configs {names[config.name]!r} and {given!r} are both named "
                                 f"{config.name!r}: their runs and entries would collide")
        for seed in seeds:
            run = resolve(config, data, seed, out / "runs" / f"{config.name}-seed{seed}")
            local = Path(run.data)
            dataset = str(local.resolve()) if local.exists() else run.data
            jobs.append(Job(str(path), config.name, seed, dataset, tuple(splits), run.out,
                            out / "staging" / f"{config.name}-seed{seed}"))
    return jobs


# --- what a job does ---------------------------------------------------------------------------

def train_job(job: Job) -> Path:
    from .train import train

    return train(job.config, data=job.data, seed=job.seed, out=job.run)


def predict_job(job: Job, checkpoint: Path) -> Path:
    from .predict import predict

    predict(checkpoint, job.data, list(job.splits), job.staged, seed=job.seed)
    return job.staged


def run_job(job: Job) -> Path:
    """Train, then predict on the main process (the whole job, where Slurm runs it)."""
    checkpoint = train_job(job)
    if int(os.environ.get("RANK", "0")) == 0:
        predict_job(job, checkpoint)
    return job.staged


def distributed_job(job: Job) -> Path:
    """`run_job` in one task of a multi-task Slurm job: the task's DDP rank comes from Slurm."""
    import submitit

    submitit.helpers.TorchDistributedEnvironment().export(set_cuda_visible_devices=False)
    return run_job(job)


# --- launchers ---------------------------------------------------------------------------------

def launch_local(jobs: list[Job], options: Options) -> None:
    for job in jobs:
        predict_job(job, train_job(job))


def torchrun_command(job: Job, nproc: int) -> list[str]:
    """`sommelier train` of one job under torchrun, with this interpreter."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc_per_node={nproc}", "-m", "benchmark.cli", "train", "--config", job.config,
            "--data", job.data, "--seed", str(job.seed), "--out", str(job.run)]


def launch_torchrun(jobs: list[Job], options: Options) -> None:
    for job in jobs:
        done = subprocess.run(torchrun_command(job, options.nproc))
        if done.returncode:
            raise SommelierError(f"training {job.name} seed {job.seed} under torchrun exited "
                                 f"with status {done.returncode} (its output is above)")
        predict_job(job, job.run / "best")


def launch_slurm(jobs: list[Job], options: Options) -> None:
    if options.cluster == "slurm" and shutil.which("sbatch") is None:
        raise SommelierError("no Slurm here (sbatch is not on PATH); `--cluster local` runs "
                             "the same jobs as local processes")
    try:
        import submitit
    except ImportError:
        raise SommelierError("the slurm launcher needs submitit: pip install submitit") from None
    folder = jobs[0].run.parent.parent / "slurm"
    executor = submitit.AutoExecutor(folder=folder / "%j", cluster=options.cluster)
    executor.update_parameters(name="sommelier-sweep", timeout_min=options.time, nodes=1,
                               tasks_per_node=options.nproc, gpus_per_node=options.nproc,
                               cpus_per_task=options.cpus, slurm_partition=options.partition)
    fn = distributed_job if options.nproc > 1 else run_job
    submitted = executor.map_array(fn, jobs)
    failed = []
    for job, handle in zip(jobs, submitted):
        try:
            error = handle.exception()
        except submitit.core.utils.UncompletedJobError as exc:  # killed, timed out
            error = exc
        if error is not None:
            failed.append(f"{job.name} seed {job.seed} ({str(error).strip().splitlines()[-1]}; "
                          f"log {handle.paths.stderr})")
    if failed:
        raise SommelierError(f"{len(failed)} of {len(jobs)} jobs failed: {'; '.join(failed)}")


LAUNCHERS: dict[str, Callable[[list[Job], Options], None]] = {
    "local": launch_local,
    "torchrun": launch_torchrun,
    "slurm": launch_slurm,
}


# --- collecting --------------------------------------------------------------------------------

def collect(jobs: list[Job], entries: Path) -> list[Path]:
    """Every staged job's predictions written into its config's entry; the entries, in order."""
    import yaml

    from benchmark.evaluation.submission import METADATA_FILE, load_submission, prediction_files
    from benchmark.evaluation.writer import write_entry

    written: dict[str, Path] = {}
    for job in jobs:
        entry = entries.resolve() / job.name
        files = prediction_files(load_submission(job.staged))
        metadata = yaml.safe_load((job.staged / METADATA_FILE).read_text(encoding="utf-8"))
        metadata.pop("seeds")
        write_entry(entry, {f.key: f.path for f in files if f.seed == job.seed}, seed=job.seed,
                    **metadata)
        written[job.name] = entry
    return list(written.values())


def sweep(configs: Sequence[str], seeds: Sequence[int], data: str | None = None, *,
          launcher: str = "local", out: str | Path = "sweep",
          splits: Sequence[str] = ("ukidss:test",), options: Options = Options()) -> list[Path]:
    """Train and predict every config x seed on `launcher`; returns the collected entries
    (`<out>/entries/<config>`, one per config, every seed in it)."""
    launch = lookup(LAUNCHERS, launcher, "launcher")
    if options.nproc < 1:
        raise SommelierError(f"--nproc must be at least 1, got {options.nproc}")
    jobs = plan(configs, seeds, data, Path(out), splits)
    launch(jobs, options)
    return collect(jobs, Path(out) / "entries")
