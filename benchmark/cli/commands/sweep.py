"""`sommelier sweep`: configs x seeds trained and predicted on a launcher, entries collected."""

from __future__ import annotations

import argparse

HELP = ("train and predict every config x seed (local, torchrun or Slurm) and collect one "
        "entry per config")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("configs", nargs="+", metavar="CONFIG",
                        help="config YAMLs or bundled names (e.g. sdss-only mixed)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0], metavar="SEED",
                        help="seeds to train each config with (default 0)")
    parser.add_argument("--data", help="benchmark folder or Hub id (default: each config's)")
    parser.add_argument("--launcher", default="local",
                        help="local (one job after another here), torchrun (DDP over --nproc "
                             "local GPUs per job) or slurm (one Slurm job each, via submitit)")
    parser.add_argument("--out", default="sweep",
                        help="sweep folder: runs/, staging/ and entries/<config> (default sweep)")
    parser.add_argument("--split", action="append", dest="splits", metavar="SURVEY:SPLIT",
                        help="split to predict; repeat for more (default ukidss:test)")
    parser.add_argument("--nproc", type=int, default=1,
                        help="processes (GPUs) per job for torchrun and slurm (default 1)")
    slurm = parser.add_argument_group("slurm")
    slurm.add_argument("--partition", help="Slurm partition")
    slurm.add_argument("--time", type=int, default=24 * 60,
                       help="time limit per job in minutes (default 1440)")
    slurm.add_argument("--cpus", type=int, default=8, help="CPUs per process (default 8)")
    slurm.add_argument("--cluster", default="slurm",
                       help="submitit executor: slurm, or local to run the same jobs as local "
                            "processes (default slurm)")


def run(args: argparse.Namespace) -> int:
    from ..models import sweep

    entries = sweep(args.configs, args.seeds, args.data, launcher=args.launcher, out=args.out,
                    splits=args.splits or ["ukidss:test"], nproc=args.nproc,
                    partition=args.partition, time=args.time, cpus=args.cpus,
                    cluster=args.cluster)
    for entry in entries:
        print(entry)
    return 0
