"""A leaderboard entry: `submissions/<slug>/submission.yaml` and its prediction files.

The YAML is untrusted input: it is read with `yaml.safe_load`, size-limited, and every field is
checked against the table `FIELDS` (type, allowed values, which statuses require it), so a typo
is an error that names the field rather than a silently missing value. Prediction files are
named `<survey>-<split>-seed<k>.parquet|csv` under `predictions/`; every declared seed needs
the primary split (UKIDSS test).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

import yaml

from .. import registry as R
from ..dataset.layout import check_split
from ..errors import SommelierError, ValidationError
from ..tables import TABLE_SUFFIXES

METADATA_FILE = "submission.yaml"
PREDICTIONS_DIR = "predictions"
RESULTS_FILE = "results.json"
MAX_METADATA_BYTES = 64 * 1024
_FILE_NAME = re.compile(r"^(?P<survey>[a-z0-9]+)-(?P<split>[a-z0-9_]+)-seed(?P<seed>[0-9]+)"
                        r"(?P<suffix>\.[a-z]+)$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


@dataclass(frozen=True)
class Track:
    """A ranking track: entries are compared only with entries that selected models alike."""

    name: str
    description: str


#: The model selection of the standard track: early stopping on the training surveys' own
#: validation splits (UKIDSS never seen).
STANDARD_SELECTION = "training-domain"
#: `model_selection` value -> track. Oracle entries may pick checkpoints on UKIDSS validation.
TRACKS: Mapping[str, Track] = MappingProxyType({
    STANDARD_SELECTION: Track("standard", "model selected on optical (training-survey) data only"),
    "ood-validation": Track("oracle", "model selected on the UKIDSS validation split"),
})
#: Where entries go whose model (or pretrained backbone) saw UKIDSS images or labels, e.g.
#: Zoobot encoders pretrained on GZ Evo, which includes GZ UKIDSS: shown, never ranked with
#: the two tracks above.
EXPOSED = Track("ukidss-exposed", "the model or its pretrained backbone saw UKIDSS images or "
                "labels (e.g. pretrained on GZ Evo); shown apart, not comparable")
#: Every section of the leaderboard, in the order shown.
SECTIONS: tuple[Track, ...] = (*TRACKS.values(), EXPOSED)
STATUSES: Mapping[str, str] = MappingProxyType({
    "verified": "scored here from its prediction files; ranked",
    "reported": "numbers as published elsewhere, no predictions; shown apart, never ranked",
})
TRAINING_SURVEYS: tuple[str, ...] = tuple(s.name for s in R.SURVEYS.values() if not s.ood)
#: Published summary numbers a reported entry may quote, with what each one means.
POOLED_NUMBERS: Mapping[str, str] = MappingProxyType({
    "pearson_r": "Pearson r of all predictions against all labels, flattened",
    "r_squared": "the square of that flattened r (not a coefficient of determination)",
    "mae": "mean absolute error over all galaxies and features",
    "mse": "mean squared error over all galaxies and features",
})


@dataclass(frozen=True)
class Reported:
    """Numbers of an entry as its authors published them (not reproduced here)."""

    source: str
    evaluated_on: str
    pearson_r: Mapping[str, float]  # per benchmark feature
    pooled: Mapping[str, float]  # keys of POOLED_NUMBERS
    caveats: tuple[str, ...]

    @property
    def macro_pearson_r(self) -> float | None:
        """Mean per-feature r when all nine were published (comparable to the primary metric)."""
        if set(self.pearson_r) != set(R.BENCHMARK_FEATURES):
            return None
        return sum(self.pearson_r.values()) / len(self.pearson_r)


@dataclass(frozen=True)
class Submission:
    """The checked metadata of one entry."""

    slug: str
    root: Path
    name: str
    authors: tuple[str, ...]
    url: str | None
    model: str
    pretraining: str
    training_surveys: tuple[str, ...]
    model_selection: str
    seeds: tuple[int, ...]
    parameters: int | None
    date: str
    status: str
    saw_ukidss: bool
    dataset: str | None = None
    notes: str | None = None
    reported: Reported | None = None

    @property
    def track(self) -> str:
        return EXPOSED.name if self.saw_ukidss else TRACKS[self.model_selection].name

    def metadata(self) -> dict[str, Any]:
        """The fields a results file and the leaderboard show (no reported block)."""
        return {"slug": self.slug, "name": self.name, "authors": list(self.authors),
                "url": self.url, "model": self.model, "pretraining": self.pretraining,
                "training_surveys": list(self.training_surveys),
                "model_selection": self.model_selection, "track": self.track,
                "seeds": list(self.seeds), "parameters": self.parameters, "date": self.date,
                "status": self.status, "saw_ukidss": self.saw_ukidss, "dataset": self.dataset,
                "notes": self.notes}


@dataclass(frozen=True)
class PredictionFile:
    path: Path
    survey: str
    split: str
    seed: int

    @property
    def key(self) -> str:
        return f"{self.survey}/{self.split}"


# --- field checks: each returns the normalised value or raises ValueError(why) -------------

#: Longest text a field may hold: leaderboard cells stay readable and bounded.
MAX_TEXT = 300
MAX_LONG_TEXT = 2000
MAX_AUTHORS = 50
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    if len(value) > limit:
        raise ValueError(f"is {len(value)} characters long; keep it under {limit}")
    if _CONTROL.search(value):
        raise ValueError("holds control characters; write plain text")
    return value.strip()


def _long_text(value: Any) -> str:
    return _text(value, MAX_LONG_TEXT)


def _texts(value: Any, limit: int = MAX_TEXT) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("must be a non-empty list of strings")
    if len(value) > MAX_AUTHORS:
        raise ValueError(f"lists {len(value)} items; at most {MAX_AUTHORS}")
    return tuple(_text(v, limit) for v in value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false (got {value!r})")
    return value


def _url(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.match(r"^https?://\S+$", value) \
            or len(value) > MAX_TEXT:
        raise ValueError(f"must be an http(s):// address of at most {MAX_TEXT} characters, or "
                         f"null when there is none")
    return value


def _choice(options: Mapping[str, Any]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in options:
            raise ValueError(f"must be one of {', '.join(options)} (got {value!r})")
        return value
    return check


def _surveys(value: Any) -> tuple[str, ...]:
    surveys = _texts(value)
    bad = [s for s in surveys if s not in TRAINING_SURVEYS]
    if bad or len(set(surveys)) != len(surveys):
        raise ValueError(f"must list distinct training surveys from {', '.join(TRAINING_SURVEYS)}"
                         f" (got {list(surveys)}); UKIDSS is never trained on")
    return surveys


def _integer(value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"must be an integer >= {minimum} (got {value!r})")
    return value


def _seeds(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("must be a non-empty list of integers, e.g. [0, 1, 2]")
    seeds = tuple(_integer(v, 0) for v in value)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"lists a seed twice: {list(seeds)}")
    return seeds


def _date(value: Any) -> str:
    if isinstance(value, dt.date):  # YAML reads an unquoted 2025-01-31 as a date
        return value.isoformat()
    try:
        return dt.date.fromisoformat(_text(value)).isoformat()
    except ValueError:
        raise ValueError(f"must be a date YYYY-MM-DD (got {value!r})") from None


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ValueError(f"must be a number (got {value!r})")
    return float(value)


def _numbers(value: Any, allowed: tuple[str, ...], what: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a mapping of {', '.join(allowed)} to numbers")
    unknown = [k for k in value if k not in allowed]
    if unknown:
        raise ValueError(f"{what} has unknown key(s) {unknown}; allowed: {', '.join(allowed)}")
    return {k: _number(value[k]) for k in allowed if k in value}


def _reported(value: Any) -> Reported:
    keys = ("source", "evaluated_on", "pearson_r", "pooled", "caveats")
    if not isinstance(value, dict) or set(value) - set(keys) or not {"source", "caveats"} <= set(value):
        raise ValueError(f"must be a mapping with source, caveats and optionally evaluated_on, "
                         f"pearson_r (per feature), pooled ({', '.join(POOLED_NUMBERS)})")
    return Reported(source=_long_text(value["source"]),
                    evaluated_on=_long_text(value.get("evaluated_on", "not stated")),
                    pearson_r=_numbers(value.get("pearson_r", {}), R.BENCHMARK_FEATURES,
                                       "pearson_r"),
                    pooled=_numbers(value.get("pooled", {}), tuple(POOLED_NUMBERS), "pooled"),
                    caveats=_texts(value["caveats"], MAX_LONG_TEXT))


@dataclass(frozen=True)
class Field:
    """One submission.yaml key: its check and the statuses that must give it."""

    name: str
    check: Callable[[Any], Any]
    required_for: frozenset[str]


_ALL, _VERIFIED = frozenset(STATUSES), frozenset({"verified"})
FIELDS: Mapping[str, Field] = MappingProxyType({f.name: f for f in (
    Field("name", _text, _ALL),
    Field("authors", _texts, _ALL),
    Field("url", _url, _ALL),
    Field("model", _text, _ALL),
    Field("pretraining", _text, _ALL),
    Field("training_surveys", _surveys, _ALL),
    Field("model_selection", _choice(TRACKS), _ALL),
    Field("seeds", _seeds, _VERIFIED),  # a published result may not say which seed it used
    Field("parameters", lambda v: _integer(v, 1), _VERIFIED),
    Field("date", _date, _ALL),
    Field("status", _choice(STATUSES), _ALL),
    Field("saw_ukidss", _flag, _ALL),
    Field("dataset", _text, frozenset()),
    Field("notes", _long_text, frozenset()),
    Field("reported", _reported, frozenset({"reported"})),
)})


def regular_file(path: Path) -> bool:
    """A regular file reached without a link: entries are data, and a link could lead out of
    the entry folder (another entry's files, a secret)."""
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _refuse_link(path: Path) -> None:
    if path.is_symlink():
        raise ValidationError(f"{path}: a symbolic link; an entry holds regular files and "
                              f"folders only (copy the file in instead)")


def _read_metadata(path: Path) -> dict[str, Any]:
    _refuse_link(path)
    if not regular_file(path):
        raise ValidationError(f"{path}: no such file; every entry needs a {METADATA_FILE} "
                              f"(see docs/evaluation.md)")
    if path.stat().st_size > MAX_METADATA_BYTES:
        raise ValidationError(f"{path}: {path.stat().st_size} bytes is over the "
                              f"{MAX_METADATA_BYTES} byte limit for {METADATA_FILE}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ValidationError(f"{path}: invalid YAML{where}: {problem}") from exc
    if not isinstance(data, dict):
        raise ValidationError(f"{path}: must be a YAML mapping of fields (name: ..., authors: "
                              f"[...], ...), not {type(data).__name__}")
    return data


def check_metadata(data: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The checked, normalised fields of a submission.yaml mapping (`where` names it in
    errors); what `load_submission` and the entry writer both apply."""
    unknown = sorted(repr(str(k)) for k in data if k not in FIELDS)
    if unknown:
        raise ValidationError(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: "
                              f"{', '.join(FIELDS)}")
    try:
        status = FIELDS["status"].check(data.get("status"))
    except ValueError as exc:
        raise ValidationError(f"{where}: field 'status' {exc}") from None
    missing = [f.name for f in FIELDS.values() if status in f.required_for and f.name not in data]
    if missing:
        raise ValidationError(f"{where}: missing field(s) {', '.join(missing)} (required for "
                              f"{status} entries)")
    if "reported" in data and status != "reported":
        raise ValidationError(f"{where}: a 'reported' block belongs only to status: reported "
                              f"entries; verified entries are scored from their predictions")
    values: dict[str, Any] = {}
    for key, value in data.items():
        try:
            values[key] = FIELDS[key].check(value)
        except ValueError as exc:
            raise ValidationError(f"{where}: field {key!r} {exc}") from None
    values.setdefault("seeds", ())
    values.setdefault("parameters", None)
    return values


def check_slug(slug: str, where: str) -> str:
    if not _SLUG.match(slug):
        raise ValidationError(f"{where}: entry folder name {slug!r} must be lower-case letters, "
                              f"digits, '.', '_' or '-'")
    return slug


def load_submission(entry: str | os.PathLike) -> Submission:
    """Read and check `entry/submission.yaml`."""
    root = Path(entry)
    _refuse_link(root)
    if not root.is_dir():
        raise ValidationError(f"{root}: no such entry folder")
    path = root / METADATA_FILE
    values = check_metadata(_read_metadata(path), str(path))
    sub = Submission(slug=check_slug(root.resolve().name, str(root)), root=root, **values)
    if sub.status == "reported" and (root / PREDICTIONS_DIR).exists():
        raise ValidationError(f"{root / PREDICTIONS_DIR}: a reported entry has no predictions; "
                              f"set status: verified to have them scored")
    return sub


def prediction_name(survey: str, split: str, seed: int, suffix: str = ".parquet") -> str:
    """`<survey>-<split>-seed<k>.parquet`: the one naming of prediction files."""
    return f"{survey}-{split}-seed{seed}{suffix}"


def prediction_files(sub: Submission) -> tuple[PredictionFile, ...]:
    """The entry's prediction files, checked for naming, declared seeds and required splits."""
    folder = sub.root / PREDICTIONS_DIR
    _refuse_link(folder)
    if not folder.is_dir():
        raise ValidationError(f"{folder}: no such folder; a verified entry needs its prediction "
                              f"files there, named <survey>-<split>-seed<k>.parquet")
    found: dict[tuple[str, str, int], PredictionFile] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        _refuse_link(path)
        match = _FILE_NAME.match(path.name)
        if not regular_file(path) or not match or match["suffix"] not in TABLE_SUFFIXES:
            raise ValidationError(f"{path}: not a prediction file; name them "
                                  f"<survey>-<split>-seed<k>.parquet (or .csv), e.g. "
                                  f"{prediction_name(R.PRIMARY_SURVEY, R.PRIMARY_SPLIT, 0)}")
        survey, split, seed = match["survey"], match["split"], int(match["seed"])
        try:
            check_split(survey, split)
        except SommelierError as exc:
            raise ValidationError(f"{path}: {exc}") from None
        if seed not in sub.seeds:
            raise ValidationError(f"{path}: seed {seed} is not among the declared seeds "
                                  f"{list(sub.seeds)}; add it to 'seeds' in {METADATA_FILE}")
        if (survey, split, seed) in found:
            raise ValidationError(f"{path}: {found[survey, split, seed].path.name} already holds "
                                  f"these predictions; keep one file per survey, split and seed")
        found[survey, split, seed] = PredictionFile(path, survey, split, seed)
    absent = [s for s in sub.seeds if (R.PRIMARY_SURVEY, R.PRIMARY_SPLIT, s) not in found]
    if absent:
        raise ValidationError(
            f"{folder}: missing required split {R.PRIMARY_SURVEY}/{R.PRIMARY_SPLIT} for seed(s) "
            f"{absent}; add {prediction_name(R.PRIMARY_SURVEY, R.PRIMARY_SPLIT, absent[0])}")
    return tuple(found[k] for k in sorted(found))
