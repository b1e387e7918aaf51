"""Readers of upstream Galaxy Zoo sources, one registry entry per format.

A source is named on the command line as `KIND:PATH[,key=value...]`. Each reader returns the
rows of every survey it holds, harmonised to canonical vote columns, with the original image
bytes (or None where the image is missing), plus any id map it carries. The builder does not
care which reader produced the rows.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import pandas as pd

from .. import registry as R
from ..hub_layout import cache_options
from ..errors import SommelierError
from .crossmatch import read_id_map
from .harmonise import detect_scheme, detect_schemes, harmonise_campaigns
from ..hub_layout import quiet_datasets
from ..tables import read_table

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".fits", ".fits.gz", ".fit")
_HF_SCHEMES = tuple(n for n, s in R.NAMING_SCHEMES.items() if s.hf_survey)


@dataclass
class SurveyRows:
    """One survey's rows from one source: `source_id`, `ra`, `dec`, `image` + canonical votes."""

    survey: str
    frame: pd.DataFrame


@dataclass
class SourceData:
    name: str
    surveys: list[SurveyRows]
    id_maps: list[pd.DataFrame] = field(default_factory=list)


@dataclass(frozen=True)
class SourceSpec:
    kind: str
    path: str
    options: Mapping[str, str]

    @classmethod
    def parse(cls, text: str) -> "SourceSpec":
        kind, sep, rest = text.partition(":")
        if not sep or not rest:
            raise SommelierError(f"source {text!r}: write it as KIND:PATH[,key=value...] with "
                                 f"KIND one of {', '.join(READERS)}")
        if kind not in READERS:
            raise SommelierError(f"source {text!r}: unknown kind {kind!r}; "
                                 f"choose from {', '.join(READERS)}")
        path, *pairs = rest.split(",")
        options = {}
        for pair in pairs:
            key, eq, value = pair.partition("=")
            if not eq:
                raise SommelierError(f"source {text!r}: option {pair!r} is not key=value")
            options[key] = value
        return cls(kind, path, options)

    def __str__(self) -> str:
        return f"{self.kind}:{self.path}"


@dataclass(frozen=True)
class Reader:
    kind: str
    description: str
    read: Callable[[SourceSpec], SourceData]


def _rows(survey: str, frame: pd.DataFrame, schemes: list[R.NamingScheme], ids: pd.Series,
          images: list[bytes | None]) -> SurveyRows:
    """One survey's rows; `schemes`: the naming of its campaigns (usually one)."""
    nowhere = pd.Series(float("nan"), index=frame.index)
    meta = pd.DataFrame({
        "source_id": ids.astype(str).to_numpy(),
        "ra": pd.to_numeric(frame.get("ra", nowhere), errors="coerce").to_numpy("float64"),
        "dec": pd.to_numeric(frame.get("dec", nowhere), errors="coerce").to_numpy("float64"),
        "image": images,
    })
    votes = harmonise_campaigns(frame, schemes).reset_index(drop=True)
    return SurveyRows(survey, pd.concat([meta, votes], axis=1))


# --- Hugging Face releases (Hub id or local folder in Hub layout) --------------------------

def _load_release(path: str):
    import datasets

    try:
        with quiet_datasets(Path(path).is_dir()):
            splits = datasets.load_dataset(path, **cache_options(path))
    except Exception as exc:  # the Hub client raises many types; all mean 'cannot read it'
        raise SommelierError(f"cannot load the Hugging Face release {path!r}: {exc}") from exc
    parts = [splits[name] for name in sorted(splits)]
    table = datasets.concatenate_datasets(parts) if len(parts) > 1 else parts[0]
    if "image" in table.column_names:
        table = table.cast_column("image", datasets.Image(decode=False))
    return table


def _hf_rows(path: str, survey: str | None = None) -> SurveyRows:
    table = _load_release(path)
    schemes = detect_schemes(table.column_names, _HF_SCHEMES)
    surveys = {s.hf_survey for s in schemes}
    if len(surveys) != 1:
        raise SommelierError(
            f"{path}: cannot tell which Galaxy Zoo release this is: expected the first-question "
            f"columns of one survey's releases ({', '.join(_HF_SCHEMES)}); found "
            f"{', '.join(s.name for s in schemes) or 'none'}")
    (found,) = surveys
    if survey is not None and survey != found:
        raise SommelierError(f"{path}: named survey {survey!r} but its columns are "
                             f"{', '.join(s.name for s in schemes)}")
    if "id_str" not in table.column_names:
        raise SommelierError(f"{path}: no id_str column")
    frame = table.remove_columns([c for c in table.column_names if c == "image"]).to_pandas()
    images = ([(cell or {}).get("bytes") for cell in table["image"]]
              if "image" in table.column_names else [None] * len(frame))
    return _rows(found, frame, schemes, frame["id_str"], images)


def read_hf(spec: SourceSpec) -> SourceData:
    """`hf:PATH` or `hf:PATH,survey=NAME`; the survey is recognised from the column names."""
    return SourceData(str(spec), [_hf_rows(spec.path, spec.options.get("survey"))])


def read_sim(spec: SourceSpec) -> SourceData:
    """The simulator's folder: gz2, gz_decals and gz_ukidss releases plus its id map."""
    root = Path(spec.path)
    if not (root / "simulation.json").is_file():
        raise SommelierError(f"{root}: not a simulator output folder (no simulation.json); "
                             "make one with `sommelier sim --out DIR`")
    rows = [_hf_rows(str(root / name)) for name in ("gz2", "gz_decals", "gz_ukidss")]
    id_map = read_id_map(root / "id_map.csv")
    return SourceData(str(spec), rows, [id_map])


# --- raw catalogues with an image folder ---------------------------------------------------

def image_bytes(path: Path) -> bytes:
    """The file's bytes; FITS cubes (3 bands) become an RGB JPEG via astropy's Lupton stretch."""
    if not path.name.endswith((".fits", ".fits.gz", ".fit")):
        return path.read_bytes()
    import numpy as np
    from astropy.io import fits
    from astropy.visualization import make_lupton_rgb
    from PIL import Image

    with fits.open(path) as hdus:
        planes = [h.data for h in hdus if h.data is not None]
    cube = np.asarray(planes[0] if len(planes) == 1 else planes, dtype="float64")
    if cube.ndim != 3 or cube.shape[0] != 3:
        raise ValueError(f"expected 3 bands, got an array of shape {cube.shape}")
    rgb = make_lupton_rgb(cube[2], cube[1], cube[0], stretch=0.5, Q=8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def _find_image(folder: Path, relative: str) -> Path | None:
    candidate = folder / relative
    if candidate.suffix and candidate.is_file():
        return candidate
    # DECaLS folders J073/J073013..., galaxy-datasets' GZ2 folders 587722/587722981741363294
    for stem in (relative, f"{relative[:4]}/{relative}", f"{relative[:6]}/{relative}"):
        for suffix in IMAGE_SUFFIXES:
            path = folder / f"{stem}{suffix}"
            if path.is_file():
                return path
    return None


def _images(folder: Path, names: pd.Series) -> list[bytes | None]:
    out: list[bytes | None] = []
    for name in names.astype(str):
        path = _find_image(folder, name)
        try:
            out.append(image_bytes(path) if path else None)
        except (OSError, ValueError):
            out.append(b"")  # unreadable: counted as a corrupt image by the builder
    return out


@dataclass(frozen=True)
class Catalogue:
    """How one raw catalogue names its galaxies and finds their images."""

    survey: str
    scheme: str
    id_column: str
    image_name: Callable[[pd.DataFrame], pd.Series]


CATALOGUES: Mapping[str, Catalogue] = {
    "hart16": Catalogue("sdss", "hart16", "dr7objid", lambda f: f["dr7objid"]),
    "decals-zenodo": Catalogue("decals", "decals-zenodo", "iauname", lambda f: f["iauname"]),
    "ukidss-catalog": Catalogue("ukidss", "hf-ukidss", "subject_id",
                                lambda f: f["subfolder"].astype(str) + "/" + f["filename"].astype(str)),
}


def _catalogue_reader(kind: str) -> Callable[[SourceSpec], SourceData]:
    cat = CATALOGUES[kind]

    def read(spec: SourceSpec) -> SourceData:
        path = Path(spec.path)
        frame = read_table(path, what=f"{kind} catalogue")
        frame = frame.astype({c: str for c in (cat.id_column,) if c in frame})
        scheme = R.NAMING_SCHEMES[cat.scheme]
        detect_scheme(list(frame.columns), (cat.scheme,))  # clear error if the columns are off
        if cat.id_column not in frame and kind == "ukidss-catalog":
            frame[cat.id_column] = frame["filename"].astype(str).str.rsplit(".", n=1).str[0]
        if cat.id_column not in frame:
            raise SommelierError(f"{path}: no {cat.id_column!r} column")
        images = Path(spec.options.get("images", path.parent / "images"))
        if not images.is_dir():
            raise SommelierError(f"{path}: image folder {images} does not exist; "
                                 f"pass it as {kind}:{path},images=DIR")
        rows = _rows(cat.survey, frame, [scheme], frame[cat.id_column],
                     _images(images, cat.image_name(frame)))
        return SourceData(str(spec), [rows])

    return read


READERS: Mapping[str, Reader] = {r.kind: r for r in (
    Reader("hf", "a Hugging Face Galaxy Zoo release (Hub id or local folder)", read_hf),
    Reader("sim", "the output folder of `sommelier sim`", read_sim),
    Reader("hart16", "GZ2 table of Hart et al. 2016 + image folder", _catalogue_reader("hart16")),
    Reader("decals-zenodo", "GZ DECaLS Zenodo table + image folder",
           _catalogue_reader("decals-zenodo")),
    Reader("ukidss-catalog", "GZ UKIDSS catalogue (subfolder/filename) + image folder",
           _catalogue_reader("ukidss-catalog")),
)}


def read_source(text: str) -> SourceData:
    spec = SourceSpec.parse(text)
    return READERS[spec.kind].read(spec)
