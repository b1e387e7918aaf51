"""Publish the benchmark: Parquet shards, dataset card (README.md and croissant.json), sha256
manifest; push and download.

The folder is the unit of publication: what `build` writes locally is byte for byte what
`push` uploads and what `download` verifies, so a Hub revision and a local build can be
compared by their manifests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import layout as D
from .. import registry as R
from ..atomic import write_text
from ..errors import SommelierError
from ..fingerprint import file_sha256
from ..hub_layout import configs_front_matter, write_split
from ..tables import markdown_table
from . import citations
from .croissant import shard_digests, write_croissant
from .identity import identity_markdown

CARD_TEMPLATE = Path(__file__).resolve().parent / "definition" / "card.md"


def features():
    """The dataset's column types, in the documented order."""
    import datasets

    cols = {"id_str": "string", "survey": "string", "source_id": "string", "group_id": "string",
            "ra": "float64", "dec": "float64"}
    spec = {name: datasets.Value(kind) for name, kind in cols.items()}
    spec[D.IMAGE_COLUMN] = datasets.Image()
    for name in D.label_columns():
        spec[name] = datasets.Value("float32" if name.endswith("_fraction") else "int32")
    return datasets.Features(spec)


def split_rows(rows: pd.DataFrame) -> dict[tuple[str, str], pd.DataFrame]:
    """Rows of each (survey, split), in registry order."""
    out = {}
    for survey in R.SURVEYS:
        for split in R.SURVEYS[survey].splits:
            part = rows[(rows["survey"] == survey) & (rows["split"] == split)]
            if len(part):
                out[survey, split] = part
    return out


def shard_count(n: int, rows_per_shard: int) -> int:
    return max(1, int(np.ceil(n / rows_per_shard)))


def write_dataset(rows: pd.DataFrame, root: Path, definition, *, num_proc: int = 1,
                  progress: bool = True) -> None:
    """One config per survey, its splits as Parquet shards under data/<survey>/."""
    import datasets
    from tqdm import tqdm

    spec = features()
    parts = split_rows(rows)
    for (survey, split), part in tqdm(parts.items(), desc="writing shards", disable=not progress):
        frame = part[list(spec)].copy()
        frame[D.IMAGE_COLUMN] = [{"bytes": b, "path": None} for b in frame[D.IMAGE_COLUMN]]
        ds = datasets.Dataset.from_pandas(frame, features=spec, preserve_index=False)
        write_split(ds, root / D.DATA_DIR / survey, split,
                    shard_count(len(ds), definition.rows_per_shard), num_proc=num_proc)


#: The Hub id of the real-data dataset; a simulated folder is pushed there only on purpose.
#: The card's front-matter tag that marks a folder built from a `sim:` source.
SIMULATED_TAG = "simulated"
#: What each split is for: one sentence per split name, whichever surveys have it.
SPLIT_ROLES = {
    "train": "Optical galaxies without a UKIDSS view; the only split to train on.",
    "validation": "Model selection. Optical: galaxies without a UKIDSS view, drawn like `train`. "
                  "UKIDSS: the oracle track's small split (model selection on the unseen survey, "
                  "declared in the submission).",
    "test": "Evaluation. Optical: the in-distribution test. UKIDSS: the out-of-distribution "
            "test every leaderboard entry is ranked on.",
    "paired_validation": "The optical views of the UKIDSS `validation` galaxies; never trained on.",
    "paired_test": "The optical views of the UKIDSS `test` galaxies; never trained on, for "
                   "comparing a model on the same galaxies in optical and near-infrared light.",
}
CHANGELOG = CARD_TEMPLATE.with_name("changelog.yaml")
TASK_CATEGORIES = ["image-classification", "image-feature-extraction"]  # as the upstream releases
TAGS = ["astronomy", "galaxy-zoo", "out-of-distribution"]
SUMMARY = ("Galaxy Zoo vote fractions for one galaxy population seen by three surveys: train on "
           "the optical surveys (`sdss`, `decals`), evaluate on the near-infrared survey a model "
           "has never seen (`ukidss`).")


def source_kind(name: str) -> str:
    """The reader kind of a source named `KIND:PATH`."""
    return name.partition(":")[0]


def is_simulated(sources: list[str]) -> bool:
    """A build is simulated when any of its sources is the simulator's output."""
    return any(source_kind(s) == "sim" for s in sources)


def source_label(name: str) -> str:
    """Where a source `KIND:PATH` was read from, without the build machine's folders: a Hub
    id as is, a local file or folder by its base name (a card must not publish where someone
    keeps their files)."""
    kind, _, path = name.partition(":")
    return path if kind == "hf" and not Path(path).exists() else Path(path).name


def public_note(name: str, note: str) -> str:
    """A reader's note on source `name` with the source's local path, which notes start
    with, shortened as `source_label` shortens it."""
    path = str(Path(name.partition(":")[2]))
    return source_label(name) + note[len(path):] if note.startswith(path) else note


def size_category(n: int) -> str:
    """The Hub's `size_categories` bucket of `n` examples (n<1K, 1K<n<10K, ..., n>1T)."""
    names = ["1K", "10K", "100K", "1M", "10M", "100M", "1B", "10B", "100B", "1T"]
    if n < 1000:
        return "n<1K"
    for k, (low, high) in enumerate(zip(names, names[1:])):
        if n < 10 ** (k + 4):
            return f"{low}<n<{high}"
    return "n>1T"


def _configs(report) -> dict[str, dict[str, str]]:
    """`{survey: {split: shard glob}}` of the splits the build wrote, in report order."""
    configs: dict[str, dict[str, str]] = {}
    for survey, split in report.split_sizes:
        configs.setdefault(survey, {})[split] = D.shard_glob(survey, split)
    return configs


def _feature_yaml(spec) -> list[dict]:
    import datasets

    return [{"name": name, "dtype": "image" if isinstance(kind, datasets.Image) else kind.dtype}
            for name, kind in spec.items()]


def dataset_info(root: Path, report, spec) -> list[dict]:
    """The Hub's `dataset_info` of every config: features, and per split its rows and bytes
    (`num_bytes`: the uncompressed size the Parquet footers record; `download_size`: the
    shards' size on disk). `datasets` checks `num_examples` against the rows it loads."""
    import pyarrow.parquet as pq

    infos = []
    for survey, splits in _configs(report).items():
        entries, download = [], 0
        for split in splits:
            paths = sorted((root / D.DATA_DIR / survey).glob(f"{split}-*.parquet"))
            meta = [pq.ParquetFile(p).metadata for p in paths]
            entries.append({"name": split, "num_bytes": sum(m.row_group(i).total_byte_size
                                                             for m in meta for i in range(m.num_row_groups)),
                            "num_examples": report.split_sizes[survey, split]})
            download += sum(p.stat().st_size for p in paths)
        infos.append({"config_name": survey, "features": _feature_yaml(spec), "splits": entries,
                      "download_size": download,
                      "dataset_size": sum(e["num_bytes"] for e in entries)})
    return infos


def front_matter(root: Path, report, definition) -> str:
    """The card's YAML: Hub metadata, `dataset_info` and the configs `load_dataset` reads."""
    simulated = is_simulated(report.sources)
    return configs_front_matter(_configs(report), {
        "license": definition.license,
        "pretty_name": "Galaxy Sommelier" + (" (SIMULATED)" if simulated else ""),
        "annotations_creators": ["machine-generated" if simulated else "crowdsourced"],
        "task_categories": TASK_CATEGORIES,
        "size_categories": [size_category(sum(report.split_sizes.values()))],
        "tags": _tags(simulated),
        "dataset_info": dataset_info(root, report, features()),
    })


def card_metadata(folder: str | Path) -> dict:
    """The YAML front matter of a folder's README.md ({} if it has none)."""
    card = Path(folder) / "README.md"
    text = card.read_text(encoding="utf-8") if card.is_file() else ""
    if not text.startswith("---\n"):
        return {}
    return yaml.safe_load(text.split("---\n", 2)[1]) or {}


def changelog(version: str) -> str:
    """The dataset versions and their changes (definition/changelog.yaml), as Markdown; a
    version without an entry is refused, so no version ships unexplained."""
    entries = yaml.safe_load(CHANGELOG.read_text(encoding="utf-8"))
    if version not in {str(e["version"]) for e in entries}:
        raise SommelierError(f"dataset version {version} has no entry in {CHANGELOG}: say what "
                             "changed before building it")
    return "\n".join(f"- **{e['version']}**\n" + "\n".join(f"  - {c}" for c in e["changes"])
                     for e in entries)


def _notices(report) -> str:
    """The warnings a reader must see before anything else."""
    notes = []
    if is_simulated(report.sources):
        notes.append("> **SIMULATED DATA.** Every image and vote here was generated by "
                     "`sommelier sim`: no row is a real galaxy or a real volunteer's vote. Use it "
                     "to test pipelines; numbers measured on it say nothing about the sky.")
    if report.unmatched:
        notes.append(f"> **WARNING: NOT DE-DUPLICATED.** Too few {', '.join(report.unmatched)} "
                     "galaxies were matched to the optical surveys (built with "
                     "`--allow-unmatched`): UKIDSS test galaxies MAY ALSO BE in the optical "
                     "training splits, so scores on this build's UKIDSS test are not a clean "
                     "out-of-distribution measurement.")
    return "".join(n + "\n\n" for n in notes)


def _split_rule(report, definition) -> str:
    """How splits are drawn, and the no-leakage guarantee only where the build can give it."""
    shares = ", ".join(f"{share:.0%} `{name}`" for name, share in definition.optical_splits.items())
    rule = (f"Splits are drawn per physical galaxy (`group_id`) from a sha256 hash salted with "
            f"`{definition.salt}`, so a galaxy keeps its split when others are added and all its "
            f"views share one. Galaxies with a UKIDSS image: {definition.ukidss_validation:.0%} to "
            f"`validation`, the rest to `test`; their optical views are never in `train`. Other "
            f"galaxies: {shares}.")
    if report.unmatched:
        return (f"**No guarantee against leakage: {', '.join(report.unmatched)} galaxies that "
                "were not matched may have optical views in the training splits.** " + rule)
    return rule + " Guarantee: no UKIDSS test or validation galaxy is in any training split."


def _collection(report) -> str:
    if is_simulated(report.sources):
        return ("**Simulated: nothing here was observed or voted on.** `sommelier sim` generated "
                "every image and every vote, in the columns of the releases cited below, with "
                "label statistics calibrated against their catalogues and each survey's "
                "resolution, noise and wavelength imitated.")
    return ("Galaxy Zoo volunteers on the Zooniverse platform answered the decision tree for "
            "each survey image; the releases cited below publish their votes with the images "
            "(GZ2: SDSS gri; GZ DECaLS: DECaLS grz; GZ UKIDSS: UKIDSS near-infrared). This build "
            "reads those releases as published and collects nothing new.")


def _survey_kinds(report) -> dict[str, set[str]]:
    """The source kinds each survey was read from."""
    kinds: dict[str, set[str]] = {}
    for name, surveys in report.source_surveys.items():
        for survey in surveys:
            kinds.setdefault(survey, set()).add(source_kind(name))
    return kinds


def _survey_table(report) -> str:
    """Rows read, dropped and published per survey, in registry order."""
    rows = []
    for survey in (s for s in R.SURVEYS if s in report.rows_read):
        dropped = sum(n for (s, _), n in report.dropped.items() if s == survey)
        published = sum(n for (s, _), n in report.split_sizes.items() if s == survey)
        rows.append([survey, report.rows_read[survey], dropped, published])
    return markdown_table(rows, ["survey", "rows read", "dropped", "published"])


def _tags(simulated: bool) -> list[str]:
    return TAGS + ([SIMULATED_TAG] if simulated else [])


def card_body(report, definition, repo: str, bibtex: str, credits: str) -> str:
    """The card's Markdown: the datasheet filled with this build's numbers."""
    simulated = is_simulated(report.sources)
    sources = [[source_kind(name), f"`{source_label(name)}`", ", ".join(surveys)]
               for name, surveys in report.source_surveys.items()]
    return CARD_TEMPLATE.read_text().format(
        title=("SIMULATED " if simulated else "")
        + f"Galaxy Sommelier benchmark dataset (version {definition.version})",
        notice=_notices(report), summary=SUMMARY, version=definition.version,
        rows=sum(report.split_sizes.values()), repo=repo,
        split_table=markdown_table([[s, p, n] for (s, p), n in report.split_sizes.items()],
                                   ["survey", "split", "galaxies"]),
        split_roles="\n".join(f"- `{split}`: {SPLIT_ROLES[split]}"
                              for split in dict.fromkeys(p for _, p in report.split_sizes)),
        split_rule=_split_rule(report, definition), collection=_collection(report),
        source_table=markdown_table(sources, ["kind", "source", "surveys"]),
        source_notes="".join(f"\n- {public_note(name, note)}"
                             for name, notes in report.source_notes.items() for note in notes),
        survey_table=_survey_table(report),
        drop_table=markdown_table([[s, r, n] for (s, r), n in sorted(report.dropped.items())],
                                  ["survey", "reason", "rows"]),
        leakage=identity_markdown(report.identity),
        overlap_table=markdown_table([[k, n] for k, n in report.overlaps.items()],
                                     ["surveys of one galaxy", "galaxies"]),
        license=definition.license, changelog=changelog(definition.version),
        credits=credits, bibtex=bibtex)


def write_card(root: Path, report, definition, repo: str) -> dict[str, str]:
    """The dataset card in both its forms: README.md (Hub metadata, the configs `load_dataset`
    reads and the datasheet) and croissant.json (the same folder for tools). Returns the
    shards' sha256, which the manifest reuses."""
    simulated = is_simulated(report.sources)
    releases = citations.releases_used(_survey_kinds(report))
    bibtex = citations.bibliography(definition.version, repo, releases)
    credits = "; ".join(f"{r.label} ({r.what})" for r in releases)
    write_text(root / "README.md", front_matter(root, report, definition) + "\n"
               + card_body(report, definition, repo, bibtex, credits))
    digests = shard_digests(root)
    write_croissant(root, features(), list(_configs(report)), digests,
                    name="galaxy-sommelier" + ("-simulated" if simulated else ""),
                    description=SUMMARY + (" SIMULATED: no row is a real galaxy." if simulated else ""),
                    version=definition.version, license=definition.license,
                    url=f"https://huggingface.co/datasets/{repo}", cite_as=bibtex,
                    keywords=_tags(simulated))
    return digests


def manifest_lines(root: Path, known: dict[str, str] | None = None) -> list[str]:
    """`<sha256>  <path>` of every file but the manifest; `known` digests (by path) are
    trusted, not recomputed (the build's own shards, hashed once)."""
    known = known or {}
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                   if p.is_file() and p.name != D.MANIFEST
                   and not any(part.startswith(".") for part in p.relative_to(root).parts))
    return [f"{known.get(rel) or file_sha256(root / rel)}  {rel}" for rel in files]


def write_manifest(root: Path, known: dict[str, str] | None = None) -> None:
    write_text(root / D.MANIFEST, "\n".join(manifest_lines(root, known)) + "\n")


def manifest_files(root: Path) -> list[str]:
    """The files a (verified) manifest lists, and the manifest itself."""
    lines = (root / D.MANIFEST).read_text().splitlines()
    return [line.split("  ", 1)[1] for line in lines] + [D.MANIFEST]


def verify_manifest(root: str | Path) -> int:
    """Check every file against MANIFEST.sha256; returns the number of files checked."""
    root = Path(root)
    manifest = root / D.MANIFEST
    if not manifest.is_file():
        raise SommelierError(f"{root}: no {D.MANIFEST}; not a published benchmark folder")
    expected = manifest.read_text().splitlines()
    actual = manifest_lines(root)
    if expected != actual:
        differ = sorted(set(expected) ^ set(actual))
        names = sorted({line.split("  ", 1)[-1] for line in differ})
        raise SommelierError(f"{root}: files differ from {D.MANIFEST}: {', '.join(names[:5])}"
                             + (" ..." if len(names) > 5 else ""))
    return len(actual)


def check_push_target(folder: Path, repo: str, allow_simulated: bool) -> None:
    """Refuse to put a simulated folder (its card's tag says so) on the real-data repo: its
    numbers would pass for results on the sky."""
    simulated = SIMULATED_TAG in card_metadata(folder).get("tags", [])
    if simulated and repo.lower() == R.DATASET_REPO and not allow_simulated:
        raise SommelierError(f"{folder} holds simulated data and {repo} is the real-data repo; "
                             "push it to another repo, or pass --allow-simulated "
                             "(allow_simulated=True) if you mean it")


def push(folder: str | Path, repo: str, *, revision: str | None = None, private: bool = False,
         dry_run: bool = False, allow_simulated: bool = False, api=None) -> list[str]:
    """Upload a verified folder to the Hub as a dataset repo (to branch `revision`, made if
    missing); returns the files sent. A dry run checks and lists the same, sends nothing."""
    folder = Path(folder)
    verify_manifest(folder)
    check_push_target(folder, repo, allow_simulated)
    files = manifest_files(folder)  # verified just above: no second hashing
    if dry_run:
        return files
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi()
    api.create_repo(repo, repo_type="dataset", private=private, exist_ok=True)
    if revision:
        api.create_branch(repo, repo_type="dataset", branch=revision, exist_ok=True)
    api.upload_folder(folder_path=str(folder), repo_id=repo, repo_type="dataset",
                      revision=revision, commit_message=f"Galaxy Sommelier dataset from {folder.name}")
    return files


def download(repo: str, out: str | Path, *, revision: str | None = None) -> Path:
    """Fetch a revision of the dataset repo (or take a local folder) and verify its manifest."""
    path = Path(repo)
    if path.is_dir():
        verify_manifest(path)
        return path
    from huggingface_hub import snapshot_download

    try:
        local = snapshot_download(repo, repo_type="dataset", revision=revision, local_dir=str(out))
    except Exception as exc:  # network and Hub errors of many types: all 'could not fetch'
        raise SommelierError(f"cannot download {repo!r} (revision {revision or 'main'}): {exc}") from exc
    verify_manifest(local)
    return Path(local)
