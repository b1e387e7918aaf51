"""Readers of upstream Galaxy Zoo sources, one registry entry per format.

A source is named on the command line as `KIND:PATH[,key=value...]`. Each reader returns the
rows of every survey it holds, harmonised to canonical vote columns, with the original image
bytes (or None where the image is missing), plus any id map it carries. The builder does not
care which reader produced the rows.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import pandas as pd

from .. import registry as R
from ..hub_layout import cache_options
from ..errors import SommelierError
from .crossmatch import read_id_map
from .harmonise import detect_scheme, detect_schemes, harmonise_campaigns, unrecognised
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
    """What one source gave: its surveys' rows, any id maps, and `notes`: statements for the
    dataset card about how it was read (which config, which upstream splits were merged)."""

    name: str
    surveys: list[SurveyRows]
    id_maps: list[pd.DataFrame] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


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
    options: tuple[str, ...] = ()  # the `key=value` options it takes; any other is an error


def _with_counts(survey: str) -> str:
    """The sources of `survey` that publish vote counts, as one would pass them."""
    hf = R.SURVEYS[survey]
    scheme = R.NAMING_SCHEMES[hf.hf_scheme]
    counted = [f"{kind}:CATALOGUE" for kind, cat in CATALOGUES.items()
               if cat.survey == survey and any(R.NAMING_SCHEMES[n].count for n in cat.schemes)]
    return (f"--source hf:{hf.hf_release} (counts such as {scheme.count_columns('smooth')[0]}, "
            f"{scheme.total_column('smooth_or_featured')})"
            + "".join(f" or --source {c} with its count columns" for c in counted))


def _votes(source: str, survey: str, frame: pd.DataFrame, schemes: list[R.NamingScheme]
           ) -> pd.DataFrame:
    """Canonical votes; `schemes`: the naming of the table's campaigns (usually one). A source
    without a vote count on any row (fractions only, like the original study's UKIDSS
    catalogue) is refused here, for every reader and before any image is read: its votes
    cannot be checked, and vote totals are never invented."""
    votes = harmonise_campaigns(frame, schemes).reset_index(drop=True)
    if len(votes) and votes[R.total_votes_column(R.QUESTIONS[0].name)].isna().all():
        raise SommelierError(
            f"{source}: no {survey} row has vote counts or totals (vote fractions alone cannot "
            f"be checked for impossible or too few votes, and totals are not invented); pass a "
            f"release with counts instead: {_with_counts(survey)}")
    return votes


def _rows(survey: str, frame: pd.DataFrame, votes: pd.DataFrame, ids: pd.Series,
          images: list[bytes | None]) -> SurveyRows:
    """One survey's rows: id, coordinates (null where not published) and image + `votes`."""
    nowhere = pd.Series(float("nan"), index=frame.index)
    meta = pd.DataFrame({
        "source_id": ids.astype(str).to_numpy(),
        "ra": pd.to_numeric(frame.get("ra", nowhere), errors="coerce").to_numpy("float64"),
        "dec": pd.to_numeric(frame.get("dec", nowhere), errors="coerce").to_numpy("float64"),
        "image": images,
    })
    return SurveyRows(survey, pd.concat([meta, votes], axis=1))


# --- Hugging Face releases (Hub id or local folder in Hub layout) --------------------------

def _refusal(path: str, exc: Exception) -> str:
    """What a failed `load_dataset` means to the user. A gated release (mwalmsley/gz_ukidss)
    needs a login and approval; `datasets` re-raises the Hub's GatedRepoError or 401 as its own
    DatasetNotFoundError, so the whole chain of causes is looked at."""
    from huggingface_hub.errors import GatedRepoError

    cause: BaseException | None = exc
    while cause is not None:
        status = getattr(getattr(cause, "response", None), "status_code", None)
        if isinstance(cause, GatedRepoError) or status in (401, 403) or "gated dataset" in str(cause):
            return (f"the Hugging Face release {path!r} is gated: log in with "
                    f"`huggingface-cli login` (or set HF_TOKEN) and request access at "
                    f"https://huggingface.co/datasets/{path}")
        cause = cause.__cause__ or cause.__context__
    return f"cannot load the Hugging Face release {path!r}: {exc}"


def _load_release(path: str, config: str):
    """Every row of one config of a release, its upstream splits concatenated (the benchmark
    assigns its own), and the card's note saying so."""
    import datasets

    try:
        with quiet_datasets(Path(path).is_dir()):
            splits = datasets.load_dataset(path, config, **cache_options(path))
    except Exception as exc:  # the Hub client raises many types; all mean 'cannot read it'
        raise SommelierError(_refusal(path, exc)) from exc
    names = sorted(splits)
    parts = [splits[name] for name in names]
    table = datasets.concatenate_datasets(parts) if len(parts) > 1 else parts[0]
    if "image" in table.column_names:
        table = table.cast_column("image", datasets.Image(decode=False))
    note = (f"{path} config {config}: upstream split{'s' * (len(names) > 1)} "
            f"{', '.join(names)} merged ({len(table):,} rows); the benchmark assigns its own splits")
    return table, note


def _hf_rows(path: str, survey: str | None = None, config: str = "default"
             ) -> tuple[SurveyRows, str]:
    table, note = _load_release(path, config)
    schemes = detect_schemes(table.column_names, _HF_SCHEMES)
    surveys = {s.hf_survey for s in schemes}
    if len(surveys) != 1:
        raise SommelierError(
            f"{path}: cannot tell which Galaxy Zoo release this is: expected the nine benchmark "
            f"features' columns of one survey's releases ({', '.join(_HF_SCHEMES)}); found "
            + (', '.join(s.name for s in schemes)
               or f"none ({unrecognised(table.column_names, _HF_SCHEMES)})"))
    (found,) = surveys
    if survey is not None and survey != found:
        raise SommelierError(f"{path}: named survey {survey!r} but its columns are "
                             f"{', '.join(s.name for s in schemes)}")
    if "id_str" not in table.column_names:
        raise SommelierError(f"{path}: no id_str column")
    frame = table.remove_columns([c for c in table.column_names if c == "image"]).to_pandas()
    votes = _votes(path, found, frame, schemes)
    images = ([(cell or {}).get("bytes") for cell in table["image"]]
              if "image" in table.column_names else [None] * len(frame))
    return _rows(found, frame, votes, frame["id_str"], images), note


def read_hf(spec: SourceSpec) -> SourceData:
    """`hf:PATH[,config=NAME][,survey=NAME]`: one config (default `default`; mwalmsley's
    releases also have `tiny`) with all its upstream splits; the survey is recognised from the
    column names."""
    rows, note = _hf_rows(spec.path, spec.options.get("survey"),
                          spec.options.get("config", "default"))
    return SourceData(str(spec), [rows], notes=[note])


def read_sim(spec: SourceSpec) -> SourceData:
    """The simulator's folder: gz2, gz_decals and gz_ukidss releases plus its id map."""
    root = Path(spec.path)
    if not (root / "simulation.json").is_file():
        raise SommelierError(f"{root}: not a simulator output folder (no simulation.json); "
                             "make one with `sommelier sim --out DIR`")
    rows, notes = zip(*(_hf_rows(str(root / name)) for name in ("gz2", "gz_decals", "gz_ukidss")))
    id_map = read_id_map(root / "id_map.csv")
    return SourceData(str(spec), list(rows), [id_map], list(notes))


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
    """Each row's image bytes: None where it has no name or no file, b"" where unreadable."""
    out: list[bytes | None] = []
    for name in names:
        path = _find_image(folder, str(name)) if pd.notna(name) else None
        try:
            out.append(image_bytes(path) if path else None)
        except (OSError, ValueError):
            out.append(b"")  # unreadable: counted as a corrupt image by the builder
    return out


@dataclass(frozen=True)
class CatalogueFiles:
    """One catalogue source as given: the table, its image folder and its options."""

    spec: SourceSpec
    table: Path
    images: Path


#: An image naming: the name (relative path, suffix optional) of each row's image, and any
#: notes for the card on how the names were found.
ImageNames = Callable[[pd.DataFrame, CatalogueFiles], tuple[pd.Series, list[str]]]


def _named_by(*columns: str) -> ImageNames:
    """Images named after the values of `columns`, joined as folders (`subfolder/filename`)."""
    def names(frame: pd.DataFrame, files: CatalogueFiles) -> tuple[pd.Series, list[str]]:
        parts = [frame[c].astype(str) for c in columns]
        return functools.reduce(lambda a, b: a + "/" + b, parts), []

    return names


GZ2_MAPPING = "gz2_filename_mapping.csv"  # Zenodo 3565489: columns objid (dr7objid), sample, asset_id


def _gz2_image_names(frame: pd.DataFrame, files: CatalogueFiles) -> tuple[pd.Series, list[str]]:
    """GZ2 images named `{dr7objid}.jpg` (galaxy-datasets), or `{asset_id}.jpg` as in the
    Zenodo image release, mapped through its `gz2_filename_mapping.csv` (the `mapping=`
    option, else found next to the images or the table). An objid the mapping gives twice has
    no one image: its row counts as a missing image."""
    given = files.spec.options.get("mapping")
    places = (files.images, files.images.parent, files.table.parent)
    found = Path(given) if given else next((p / GZ2_MAPPING for p in places
                                            if (p / GZ2_MAPPING).is_file()), None)
    if found is None:
        _refuse_asset_ids(frame, files)
        return frame["dr7objid"], []
    mapping = read_id_map(found)
    if not {"objid", "asset_id"} <= set(mapping.columns):
        raise SommelierError(f"GZ2 image mapping {found}: expected columns objid, asset_id "
                             f"(Zenodo's {GZ2_MAPPING}); found {', '.join(mapping.columns)}")
    mapping = mapping.drop_duplicates("objid", keep=False).set_index("objid")["asset_id"]
    return frame["dr7objid"].map(mapping), [f"sdss images named by asset_id, mapped to "
                                            f"dr7objid through {found.name}"]


def _refuse_asset_ids(frame: pd.DataFrame, files: CatalogueFiles) -> None:
    """Stop when no image is named by dr7objid but the folder's are named like Zenodo's
    asset_ids (short numbers, where a dr7objid has 18 digits): every row would be dropped."""
    if any(_find_image(files.images, i) for i in frame["dr7objid"].head(50)):
        return
    example = next((p.name for p in files.images.glob("*.jp*g") if p.stem.isdigit()
                    and len(p.stem) < 18), None)
    if example is not None:
        raise SommelierError(
            f"{files.table}: the images in {files.images} are named by asset_id (e.g. "
            f"{example}), not dr7objid, as in the Zenodo GZ2 image release; pass its mapping: "
            f"hart16:{files.table},images={files.images},mapping={GZ2_MAPPING}")


def _stem_of(column: str) -> Callable[[pd.DataFrame], pd.Series]:
    """Ids from file names: the original study's UKIDSS table names a subject by its file."""
    return lambda frame: frame[column].astype(str).str.rsplit(".", n=1).str[0]


@dataclass(frozen=True)
class Catalogue:
    """How one raw catalogue names its galaxies and finds their images."""

    survey: str
    schemes: tuple[str, ...]  # the releases of this kind; the table's columns pick one
    id_column: str
    image_names: ImageNames
    options: tuple[str, ...] = ("images",)
    ids_if_absent: Callable[[pd.DataFrame], pd.Series] | None = None


CATALOGUES: Mapping[str, Catalogue] = {
    "hart16": Catalogue("sdss", ("hart16",), "dr7objid", _gz2_image_names,
                        options=("images", "mapping")),
    "decals-zenodo": Catalogue("decals", ("decals-zenodo", "decals-zenodo-dr12"), "iauname",
                               _named_by("iauname")),
    "ukidss-catalog": Catalogue("ukidss", ("hf-ukidss",), "subject_id",
                                _named_by("subfolder", "filename"),
                                ids_if_absent=_stem_of("filename")),
}


def _catalogue_reader(kind: str) -> Callable[[SourceSpec], SourceData]:
    cat = CATALOGUES[kind]

    def read(spec: SourceSpec) -> SourceData:
        path = Path(spec.path)
        frame = read_table(path, what=f"{kind} catalogue", ids=(cat.id_column,))
        scheme = detect_scheme(list(frame.columns), cat.schemes)
        if cat.id_column not in frame and cat.ids_if_absent is not None:
            frame[cat.id_column] = cat.ids_if_absent(frame)
        if cat.id_column not in frame:
            raise SommelierError(f"{path}: no {cat.id_column!r} column")
        if pd.api.types.is_float_dtype(frame[cat.id_column]):
            raise SommelierError(f"{path}: {cat.id_column} holds floats, which lose the digits "
                                 "of long ids; store ids as text")
        frame[cat.id_column] = frame[cat.id_column].astype(str)
        votes = _votes(str(spec), cat.survey, frame, [scheme])
        images = Path(spec.options.get("images", path.parent / "images"))
        if not images.is_dir():
            raise SommelierError(f"{path}: image folder {images} does not exist; "
                                 f"pass it as {kind}:{path},images=DIR")
        names, notes = cat.image_names(frame, CatalogueFiles(spec, path, images))
        rows = _rows(cat.survey, frame, votes, frame[cat.id_column], _images(images, names))
        return SourceData(str(spec), [rows], notes=notes)

    return read


def _catalogue(kind: str, description: str) -> Reader:
    return Reader(kind, description, _catalogue_reader(kind), CATALOGUES[kind].options)


READERS: Mapping[str, Reader] = {r.kind: r for r in (
    Reader("hf", "a Hugging Face Galaxy Zoo release (Hub id or local folder)", read_hf,
           ("config", "survey")),
    Reader("sim", "the output folder of `sommelier sim`", read_sim),
    _catalogue("hart16", "GZ2 table of Hart et al. 2016 + image folder (by dr7objid, or by "
                         "asset_id with Zenodo's gz2_filename_mapping.csv)"),
    _catalogue("decals-zenodo", "GZ DECaLS Zenodo table, GZD-5 or GZD-1/2 + image folder"),
    _catalogue("ukidss-catalog", "GZ UKIDSS catalogue (subfolder/filename) + image folder"),
)}


def read_source(text: str) -> SourceData:
    spec = SourceSpec.parse(text)
    reader = READERS[spec.kind]
    unknown = sorted(set(spec.options) - set(reader.options))
    if unknown:
        raise SommelierError(f"source {text!r}: {spec.kind} takes no option "
                             f"{', '.join(unknown)}; it takes {', '.join(reader.options) or 'none'}")
    return reader.read(spec)
