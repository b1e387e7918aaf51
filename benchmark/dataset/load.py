"""Load the benchmark dataset from a local folder or a Hub id, failing fast and clearly.

A `data` reference is resolved before `datasets` is asked for anything: an existing folder is
local; something that looks like a path but is not there is an immediate error (no Hub
request, no retries); anything else is a Hub id, checked with one short metadata request so an
offline machine, a gated dataset or a wrong name is one line saying what to do. The quick
start's simulated datasets (`simulated-n<N>`) are not on the Hub: the error says how to
rebuild one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import ArgumentError
from ..hub_layout import cache_options, quiet_datasets
from .layout import META_COLUMNS, check_split, label_columns

#: How the quick start names the dataset it builds; the simulation is deterministic, so this
#: name is enough to rebuild it byte for byte.
SIMULATED = re.compile(r"^simulated-n(?P<n>[0-9]+)$")
SIMULATION_SEED = 0
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
HUB_TIMEOUT_S = 5.0


class DataReferenceError(ArgumentError):
    """A `data` argument names nothing that can be loaded (`--data` on the command line)."""

    def __init__(self, problem: str) -> None:
        super().__init__("data", problem)


def simulated_name(n: int) -> str:
    return f"simulated-n{n}"


def rebuild_command(name: str) -> str | None:
    """The commands that rebuild a simulated dataset called `name` (None: not simulated)."""
    match = SIMULATED.match(Path(name).name)
    if not match:
        return None
    return (f"sommelier sim --n {match['n']} --seed {SIMULATION_SEED} --out sim-n{match['n']} && "
            f"sommelier data build --source sim:sim-n{match['n']} --out {name}")


@dataclass(frozen=True)
class DataReference:
    """Where the benchmark dataset comes from: a local folder, or a Hub id (+ revision)."""

    location: str
    local: bool
    revision: str | None = None

    def __str__(self) -> str:
        return self.location + (f"@{self.revision}" if self.revision else "")


def _looks_like_path(data: str) -> bool:
    """A name the Hub cannot hold (not ORG/NAME), or one whose first folder exists here."""
    if not _HUB_ID.match(data) or SIMULATED.match(Path(data).name):
        return True
    return Path(data.split("/", 1)[0]).expanduser().is_dir()


def _missing_folder(data: str) -> DataReferenceError:
    hint = rebuild_command(data)
    how = (f"rebuild it with `{hint}` (deterministic: the same shards)" if hint else
           "pass the folder `sommelier data build` wrote, or a Hub id ORG/NAME")
    return DataReferenceError(f"{data!r}: no such folder; {how}")


def _check_hub(repo: str, revision: str | None) -> None:
    """One metadata request: reachable, readable, and the revision exists."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return  # offline mode: `datasets` reads its cache, or says it cannot
    import huggingface_hub
    from huggingface_hub import errors

    try:
        huggingface_hub.dataset_info(repo, revision=revision, timeout=HUB_TIMEOUT_S)
    except errors.GatedRepoError:
        raise DataReferenceError(
            f"{repo!r}: gated on the Hub; request access at "
            f"https://huggingface.co/datasets/{repo} and log in (`hf auth login` or HF_TOKEN)"
        ) from None
    except errors.RevisionNotFoundError:
        raise DataReferenceError(f"{repo!r}: no revision {revision!r} on the Hub; pin an "
                                 f"existing commit, tag or branch") from None
    except errors.RepositoryNotFoundError:
        raise DataReferenceError(
            f"{repo!r}: no such dataset on the Hub (or it is private: log in); check the "
            f"name, or pass a local folder") from None
    except Exception as exc:  # connection, DNS, TLS, timeouts: all 'cannot reach'
        raise DataReferenceError(
            f"{repo!r}: cannot reach the Hub ({type(exc).__name__}); on a machine with "
            f"network run `sommelier data download --repo {repo} --revision REV --out DIR` and "
            f"pass --data DIR, or set HF_HUB_OFFLINE=1 to use the local cache") from None


def resolve(data: str | os.PathLike, revision: str | None = None) -> DataReference:
    """Decide, before loading anything, whether `data` is a local folder or a Hub id
    (`ORG/NAME` or `ORG/NAME@REVISION`)."""
    text = os.fspath(data)
    if not text.strip():
        raise DataReferenceError("is empty; pass a benchmark folder or a Hub id ORG/NAME")
    folder = Path(text).expanduser()
    if folder.is_dir():
        return DataReference(str(folder), local=True)
    if "@" in text:  # ORG/NAME@REVISION, the form an entry records a pinned Hub dataset in
        text, _, pinned = text.partition("@")
        if revision not in (None, pinned):
            raise DataReferenceError(f"{data!r} pins revision {pinned!r} but revision "
                                     f"{revision!r} was asked for; give one")
        revision = pinned
    if _looks_like_path(text):
        raise _missing_folder(text)
    _check_hub(text, revision)
    return DataReference(text, local=False, revision=revision)


def load_split(data: str | os.PathLike, survey: str, split: str, revision: str | None = None,
               *, columns: list[str] | None = None):
    """`datasets.load_dataset(data, survey, split=split)` as a `datasets.Dataset`; `data` is a
    folder or a Hub id (pin `revision` for reproducibility)."""
    check_split(survey, split)
    ref = resolve(data, revision)
    import datasets  # heavy: only when data is actually loaded

    try:
        with quiet_datasets(ref.local):
            return datasets.load_dataset(ref.location, survey, split=split,
                                         revision=ref.revision, columns=columns,
                                         **cache_options(ref.location))
    except (FileNotFoundError, ValueError, ConnectionError,
            datasets.exceptions.DatasetNotFoundError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataReferenceError(f"{ref}: cannot load {survey}/{split} ({first})") from None


def load_truth(data: str | os.PathLike, survey: str, split: str,
               revision: str | None = None) -> pd.DataFrame:
    """Labels of one split without images: what the evaluator scores against."""
    columns = list(META_COLUMNS) + label_columns()
    return load_split(data, survey, split, revision, columns=columns).to_pandas()
