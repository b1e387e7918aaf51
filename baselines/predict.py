"""`predict(checkpoint, data, splits, entry, seed)`: prediction files + submission.yaml.

Any baseline checkpoint (fine-tuned, linear probe, constant) predicts the vote fractions of
each requested split of a benchmark dataset; the files and metadata follow the submission
contract, written by the benchmark's entry writer. Labels of the predicted splits are never read.
"""

from __future__ import annotations

from pathlib import Path

from benchmark.errors import SommelierError
from benchmark.evaluation.submission import PREDICTIONS_DIR, prediction_name
from benchmark.evaluation.writer import write_entry

from .data import load_split_data
from .distributed import single
from .entry import describe, prediction_table
from .kinds import load_predictor
from .run import dataset_name


def parse_split(text: str) -> tuple[str, str]:
    """`ukidss:test` -> ("ukidss", "test")."""
    survey, sep, split = text.partition(":")
    if not sep or not survey or not split:
        raise SommelierError(f"a split is written survey:split (e.g. ukidss:test), got {text!r}")
    return survey, split


def predict(checkpoint: str | Path, data: str, splits: list[str], entry: str | Path,
            seed: int | None = None, *, batch_size: int = 64, revision: str | None = None,
            cache_dir: str | None = None, num_workers: int = 0) -> list[Path]:
    """Predict `splits` (`survey:split`) into the entry folder; returns the files written.

    `seed` names the files and the entry's seed; by default the seed the checkpoint was
    trained with. Decoded images go to `cache_dir`, by default the training run's.
    """
    checkpoint, entry = Path(checkpoint), Path(entry)
    predictor, meta = load_predictor(checkpoint)
    seed = meta["run"]["seed"] if seed is None else seed
    cache_dir = cache_dir or meta["run"]["config"]["data"]["cache_dir"]
    features = tuple(meta["features"])
    processes = single()
    tables = {}
    for survey, split in map(parse_split, splits):
        split_data = load_split_data(data, survey, split, features, labelled=False,
                                     image_size=predictor.image_size, revision=revision,
                                     cache_dir=cache_dir, num_workers=num_workers)
        fractions = predictor.predict(split_data, processes, batch_size, num_workers)
        tables[f"{survey}/{split}"] = prediction_table(split_data.ids, features, fractions)
    write_entry(entry, tables, seed=seed, **describe(meta, dataset_name(data, revision)))
    return [entry / PREDICTIONS_DIR / prediction_name(*parse_split(s), seed) for s in splits]
