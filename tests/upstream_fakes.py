"""Small fake Galaxy Zoo releases that follow the published schemas: column names, dtypes,
configs, splits and file layout of each upstream release.

Every name here is written from the releases' own documentation (the Hugging Face cards of
mwalmsley/gz2, gz_desi and gz_ukidss, the Zenodo schema of Walmsley et al. 2022, the Hart et al.
2016 table and the Zenodo GZ2 image release, galaxy-datasets' label metadata), never from the
benchmark's registry: a wrong mapping in the registry then fails the tests instead of being
copied into the fakes. Where the original study's fixtures hold real labels, the fakes carry
them (`ukidss_fixture`, `sdss_fixture`); the tests skip, saying why, where they are absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark.hub_layout import configs_front_matter, write_split
from tests.conftest import ROOT
from tests.fakes import fake_image

FIXTURES = ROOT.parent / "shared" / "fixtures" / "original-study"

Answer = tuple[str, str]  # (question, answer) in a release's own names


@dataclass(frozen=True)
class Tree:
    """A release's decision tree in its own names. `asked` maps a question to the answers
    whose volunteers it is asked of (their counts sum to its total); () = every volunteer.
    Questions are listed parents first, answers in published column order."""

    answers: dict[str, tuple[str, ...]]
    asked: dict[str, tuple[Answer, ...]]

    def suffixed(self, suffix: str) -> "Tree":
        """The same tree with a campaign suffix on every question (`bar` -> `bar-dr5`)."""
        return Tree({q + suffix: a for q, a in self.answers.items()},
                    {q + suffix: tuple((p + suffix, a) for p, a in after)
                     for q, after in self.asked.items()})


_FEATURED = ("smooth-or-featured", "featured-or-disk")
_SMOOTH = ("smooth-or-featured", "smooth")
_FACE_ON = ("disk-edge-on", "no")
_SPIRAL = ("has-spiral-arms", "yes")

#: The GZ2 tree as mwalmsley's Hub releases name it (`-gz2`, `-ukidss` suffixes).
GZ2_TREE = Tree(
    {"smooth-or-featured": ("smooth", "featured-or-disk", "artifact"),
     "disk-edge-on": ("yes", "no"), "has-spiral-arms": ("yes", "no"), "bar": ("yes", "no"),
     "bulge-size": ("dominant", "obvious", "just-noticeable", "no"),
     "something-odd": ("yes", "no"), "how-rounded": ("round", "in-between", "cigar"),
     "bulge-shape": ("round", "boxy", "no-bulge"),
     "spiral-winding": ("tight", "medium", "loose"),
     "spiral-arm-count": ("1", "2", "3", "4", "more-than-4", "cant-tell")},
    {"smooth-or-featured": (), "disk-edge-on": (_FEATURED,), "has-spiral-arms": (_FACE_ON,),
     "bar": (_FACE_ON,), "bulge-size": (_FACE_ON,), "something-odd": (_SMOOTH, _FEATURED),
     "how-rounded": (_SMOOTH,), "bulge-shape": (("disk-edge-on", "yes"),),
     "spiral-winding": (_SPIRAL,), "spiral-arm-count": (_SPIRAL,)})

_DECALS_ASKED = {
    "smooth-or-featured": (), "disk-edge-on": (_FEATURED,), "has-spiral-arms": (_FACE_ON,),
    "bar": (_FACE_ON,), "bulge-size": (_FACE_ON,), "how-rounded": (_SMOOTH,),
    "edge-on-bulge": (("disk-edge-on", "yes"),), "spiral-winding": (_SPIRAL,),
    "spiral-arm-count": (_SPIRAL,), "merging": (_SMOOTH, _FEATURED)}

#: GZ DECaLS GZD-5 (Zenodo gz_decals_volunteers_5; `-dr5` and `-dr8` on the Hub).
DR5_TREE = Tree(
    {"smooth-or-featured": ("smooth", "featured-or-disk", "artifact"),
     "disk-edge-on": ("yes", "no"), "has-spiral-arms": ("yes", "no"),
     "bar": ("strong", "weak", "no"),
     "bulge-size": ("dominant", "large", "moderate", "small", "none"),
     "how-rounded": ("round", "in-between", "cigar-shaped"),
     "edge-on-bulge": ("boxy", "none", "rounded"),
     "spiral-winding": ("tight", "medium", "loose"),
     "spiral-arm-count": ("1", "2", "3", "4", "more-than-4", "cant-tell"),
     "merging": ("none", "minor-disturbance", "major-disturbance", "merger")},
    _DECALS_ASKED)

#: GZ DECaLS GZD-1/2 (Zenodo gz_decals_volunteers_1_and_2; `-dr12` on the Hub): bar yes/no,
#: three bulge sizes, 'completely' round, no 'can't tell' arm count, other merging answers.
DR12_TREE = Tree(
    {**DR5_TREE.answers, "bar": ("yes", "no"), "bulge-size": ("dominant", "obvious", "none"),
     "how-rounded": ("completely", "in-between", "cigar-shaped"),
     "spiral-arm-count": ("1", "2", "3", "4", "more-than-4"),
     "merging": ("neither", "tidal-debris", "both", "merger")},
    _DECALS_ASKED)

#: GZ2 as Hart et al. 2016 name it: tasks t01-t11, answers numbered a01-a38.
HART16_TREE = Tree(
    {"t01_smooth_or_features": ("a01_smooth", "a02_features_or_disk", "a03_star_or_artifact"),
     "t02_edgeon": ("a04_yes", "a05_no"), "t03_bar": ("a06_bar", "a07_no_bar"),
     "t04_spiral": ("a08_spiral", "a09_no_spiral"),
     "t05_bulge_prominence": ("a10_no_bulge", "a11_just_noticeable", "a12_obvious",
                              "a13_dominant"),
     "t06_odd": ("a14_yes", "a15_no"),
     "t07_rounded": ("a16_completely_round", "a17_in_between", "a18_cigar_shaped"),
     "t08_odd_feature": ("a19_ring", "a20_lens_or_arc", "a21_disturbed", "a22_irregular",
                         "a23_other", "a24_merger", "a38_dust_lane"),
     "t09_bulge_shape": ("a25_rounded", "a26_boxy", "a27_no_bulge"),
     "t10_arms_winding": ("a28_tight", "a29_medium", "a30_loose"),
     "t11_arms_number": ("a31_1", "a32_2", "a33_3", "a34_4", "a36_more_than_4", "a37_cant_tell")},
    {"t01_smooth_or_features": (),
     "t02_edgeon": (("t01_smooth_or_features", "a02_features_or_disk"),),
     "t03_bar": (("t02_edgeon", "a05_no"),), "t04_spiral": (("t02_edgeon", "a05_no"),),
     "t05_bulge_prominence": (("t02_edgeon", "a05_no"),),
     "t06_odd": (("t01_smooth_or_features", "a01_smooth"),
                 ("t01_smooth_or_features", "a02_features_or_disk")),
     "t07_rounded": (("t01_smooth_or_features", "a01_smooth"),),
     "t08_odd_feature": (("t06_odd", "a14_yes"),),
     "t09_bulge_shape": (("t02_edgeon", "a04_yes"),),
     "t10_arms_winding": (("t04_spiral", "a08_spiral"),),
     "t11_arms_number": (("t04_spiral", "a08_spiral"),)})

#: The fixtures' GZ2-style label columns of the UKIDSS file, in the Hub's UKIDSS tree.
UKIDSS_FIXTURE_ANSWERS: dict[str, Answer] = {
    "t01_smooth_or_features_a01_smooth_fraction": ("smooth-or-featured", "smooth"),
    "t01_smooth_or_features_a02_features_or_disk_fraction": ("smooth-or-featured", "featured-or-disk"),
    "t01_smooth_or_features_a03_star_or_artifact_fraction": ("smooth-or-featured", "artifact"),
    "t02_edgeon_a04_yes_fraction": ("disk-edge-on", "yes"),
    "t02_edgeon_a05_no_fraction": ("disk-edge-on", "no"),
    "t03_bar_a06_bar_fraction": ("bar", "yes"), "t03_bar_a07_no_bar_fraction": ("bar", "no"),
    "t04_spiral_a08_spiral_fraction": ("has-spiral-arms", "yes"),
    "t04_spiral_a09_no_spiral_fraction": ("has-spiral-arms", "no"),
    "t06_odd_a14_yes_fraction": ("something-odd", "yes"),
    "t06_odd_a15_no_fraction": ("something-odd", "no"),
}


# --- votes ---------------------------------------------------------------------------------

Counts = dict[Answer, np.ndarray]
Fixed = dict[Answer, np.ndarray]  # real vote fractions of some answers, one value per galaxy


def _apportion(fractions: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Integer counts with the given row fractions and row totals (largest remainder)."""
    sums = fractions.sum(axis=1, keepdims=True)
    raw = np.divide(fractions, sums, out=np.zeros_like(fractions), where=sums > 0) * totals[:, None]
    counts = np.floor(raw).astype(int)
    short = totals - counts.sum(axis=1)
    order = np.argsort(-(raw - counts), axis=1, kind="stable")
    for row, k in enumerate(short):
        counts[row, order[row, :k]] += 1
    return counts


def tree_votes(tree: Tree, n: int, seed: int, fixed: Fixed | None = None,
               first_votes: tuple[int, int] = (20, 60)) -> Counts:
    """Counts for `n` galaxies walking the tree: a question's total is the count of the answers
    it follows. A question whose answers are all in `fixed` takes those real fractions (no
    votes where they are all 0, as the fixtures store an unasked question); others draw
    Dirichlet-multinomial votes."""
    rng = np.random.default_rng(seed)
    fixed = fixed or {}
    counts: Counts = {}
    for q, answers in tree.answers.items():
        after = tree.asked[q]
        total = (sum(counts[a] for a in after) if after
                 else rng.integers(*first_votes, size=n))
        if all((q, a) in fixed for a in answers):
            shares = np.stack([fixed[q, a] for a in answers], axis=1).astype("float64")
            total = np.where(shares.sum(axis=1) > 0, np.maximum(total, 1), 0)
        else:
            shares = rng.dirichlet(np.full(len(answers), 0.7), size=n)
        votes = _apportion(shares, np.asarray(total))
        for j, a in enumerate(answers):
            counts[q, a] = votes[:, j]
    return counts


def totals(tree: Tree, counts: Counts) -> dict[str, np.ndarray]:
    return {q: sum(counts[q, a] for a in answers) for q, answers in tree.answers.items()}


def hub_vote_columns(tree: Tree, counts: Counts, rows: np.ndarray | None = None) -> dict:
    """The Hub's vote columns: per answer `{q}_{a}` (int32) and `{q}_{a}_fraction` (float32,
    null where the question was not asked), `{q}_total-votes` (int32) after the first answer.
    `rows`: which galaxies were voted on in this campaign (others: 0 votes, null fractions)."""
    n = len(next(iter(counts.values())))
    voted = np.ones(n, bool) if rows is None else rows
    out: dict[str, np.ndarray] = {}
    for q, total in totals(tree, counts).items():
        total = np.where(voted, total, 0)
        for j, a in enumerate(tree.answers[q]):
            count = np.where(voted, counts[q, a], 0)
            out[f"{q}_{a}"] = count.astype("int32")
            out[f"{q}_{a}_fraction"] = np.where(total > 0, count / np.maximum(total, 1),
                                                np.nan).astype("float32")
            if j == 0:
                out[f"{q}_total-votes"] = total.astype("int32")
    return out


# --- Hugging Face releases -----------------------------------------------------------------

def write_hub_release(root: Path, frame: pd.DataFrame, name: str,
                      splits: dict[str, dict[str, np.ndarray]]) -> Path:
    """A Hub-layout release: `splits` maps config -> split -> row positions; shards in
    `data/` (config default) or `<config>/`, named in the README's `configs:` front matter."""
    import datasets

    frame = frame.copy()
    frame.insert(0, "image", [{"bytes": fake_image(k), "path": None} for k in range(len(frame))])
    features = datasets.Features.from_arrow_schema(
        datasets.Dataset.from_pandas(frame.drop(columns="image"), preserve_index=False).data.schema)
    features = datasets.Features({"image": datasets.Image(), **features})
    configs: dict[str, dict[str, str]] = {}
    for config, parts in splits.items():
        folder = "data" if config == "default" else config
        for split, rows in parts.items():
            ds = datasets.Dataset.from_pandas(frame.iloc[rows], features=features,
                                              preserve_index=False)
            write_split(ds, root / folder, split)
            configs.setdefault(config, {})[split] = f"{folder}/{split}-*"
    (root / "README.md").write_text(configs_front_matter(
        configs, {"license": "cc-by-nc-sa-4.0"}) + f"\n# {name} (fake)\n")
    return root


def default_and_tiny(n: int) -> dict[str, dict[str, np.ndarray]]:
    """mwalmsley's configs: `default` (train, test) and `tiny`, a small subset of each split."""
    cut = int(n * 0.8)
    train, test = np.arange(cut), np.arange(cut, n)
    return {"default": {"train": train, "test": test},
            "tiny": {"train": train[:2], "test": test[:1]}}


def _sky(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(120, 240, n), rng.uniform(-5, 60, n)


def write_hf_gz2(root: Path, n: int = 10, seed: int = 1) -> tuple[Path, pd.DataFrame]:
    """mwalmsley/gz2: `-gz2` columns, id_str = dr7objid, ra/dec, configs default + tiny."""
    tree = GZ2_TREE.suffixed("-gz2")
    ra, dec = _sky(n, seed)
    frame = pd.DataFrame({"id_str": [str(587_722_981_741_363_200 + k) for k in range(n)],
                          "dataset_name": "gz2", "ra": ra, "dec": dec,
                          **hub_vote_columns(tree, tree_votes(tree, n, seed))})
    return write_hub_release(root, frame, "gz2", default_and_tiny(n)), frame


def write_hf_gz_desi(root: Path, n: int = 12, seed: int = 2) -> tuple[Path, pd.DataFrame]:
    """mwalmsley/gz_desi: `-dr12`, `-dr5` and `-dr8` columns side by side; each galaxy was voted
    on in one campaign (row k in campaign k % 3), the others' counts 0 and fractions null."""
    ra, dec = _sky(n, seed)
    frame = pd.DataFrame({"id_str": [f"{300_000 + k}_{k}" for k in range(n)],
                          "dataset_name": "gz_desi", "ra": ra, "dec": dec})
    for k, (tree, suffix) in enumerate(((DR12_TREE, "-dr12"), (DR5_TREE, "-dr5"),
                                        (DR5_TREE, "-dr8"))):  # DR8 asks the DR5 tree
        named = tree.suffixed(suffix)
        columns = hub_vote_columns(named, tree_votes(named, n, seed + k), np.arange(n) % 3 == k)
        frame = pd.concat([frame, pd.DataFrame(columns)], axis=1)
    return write_hub_release(root, frame, "gz_desi", default_and_tiny(n)), frame


def ukidss_fixture() -> dict[str, np.ndarray]:
    """The original study's 1,000 real UKIDSS labels (fractions, unasked stored as 0) and
    `objids` (`{subfolder}_{filename}`), or a skip saying where they were looked for."""
    return _fixture("ukidss_predictions.npz")


def sdss_fixture() -> dict[str, np.ndarray]:
    """The original study's 1,000 real GZ2 labels (Hart16 fractions) keyed by dr7objid."""
    return _fixture("sdss_predictions.npz")


def _fixture(name: str) -> dict[str, np.ndarray]:
    import pytest

    path = FIXTURES / name
    if not path.is_file():
        pytest.skip(f"the original study's fixture {path} is absent (real labels needed)")
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def ukidss_subjects(objids: np.ndarray) -> tuple[list[str], list[str], list[str]]:
    """subject_id, subfolder, filename from the fixture's `{subfolder}_{filename}`."""
    subfolder, filename = zip(*(o.split("_", 1) for o in objids.astype(str)))
    return [f.rsplit(".", 1)[0] for f in filename], list(subfolder), list(filename)


def _ukidss_fixed(fixture: dict[str, np.ndarray], rows: slice) -> Fixed:
    columns = list(fixture["label_columns"].astype(str))
    return {(q + "-ukidss", a): fixture["true_labels"][rows, columns.index(c)]
            for c, (q, a) in UKIDSS_FIXTURE_ANSWERS.items()}


def write_hf_gz_ukidss(root: Path, fixture: dict[str, np.ndarray], n: int = 10
                       ) -> tuple[Path, pd.DataFrame]:
    """mwalmsley/gz_ukidss: `-ukidss` columns, id_str = the 24-hex subject id, no ra/dec; the
    first rows of the study's real UKIDSS labels for the questions it holds."""
    tree = GZ2_TREE.suffixed("-ukidss")
    subjects, _, _ = ukidss_subjects(fixture["objids"][:n])
    votes = tree_votes(tree, n, seed=3, fixed=_ukidss_fixed(fixture, slice(0, n)))
    frame = pd.DataFrame({"id_str": subjects, "dataset_name": "gz_ukidss",
                          **hub_vote_columns(tree, votes)})
    return write_hub_release(root, frame, "gz_ukidss", default_and_tiny(n)), frame


def write_study_ukidss_catalogue(folder: Path, fixture: dict[str, np.ndarray], n: int = 6
                                 ) -> Path:
    """The original study's UKIDSS table: `-ukidss` vote fractions only (its real values),
    `subfolder`, `filename`; no counts, no totals. Images at `images/{subfolder}/{filename}`."""
    subjects, subfolders, filenames = ukidss_subjects(fixture["objids"][:n])
    fixed = _ukidss_fixed(fixture, slice(0, n))
    table = pd.DataFrame({"subfolder": subfolders, "filename": filenames,
                          **{f"{q}_{a}_fraction": v for (q, a), v in fixed.items()}})
    for k, (sub, name) in enumerate(zip(subfolders, filenames)):
        (folder / "images" / sub).mkdir(parents=True, exist_ok=True)
        (folder / "images" / sub / name).write_bytes(fake_image(k))
    table.to_csv(folder / "ukidss_catalogue.csv", index=False)
    return folder / "ukidss_catalogue.csv"


# --- Zenodo tables -------------------------------------------------------------------------

def _iauname(ra: float, dec: float) -> str:
    """NSA-style J{hhmmss.ss}{+ddmmss.s}, e.g. J073013.60+242930.0."""
    h, rem = divmod(ra / 15 * 3600, 3600)
    m, s = divmod(rem, 60)
    sign, d_abs = ("+" if dec >= 0 else "-"), abs(dec) * 3600
    d, rem = divmod(d_abs, 3600)
    dm, ds = divmod(rem, 60)
    return f"J{int(h):02d}{int(m):02d}{s:05.2f}{sign}{int(d):02d}{int(dm):02d}{ds:04.1f}"


def write_zenodo_decals(folder: Path, tree: Tree, filename: str, n: int = 8, seed: int = 4
                        ) -> tuple[Path, pd.DataFrame]:
    """A Walmsley et al. 2022 volunteer table (`gz_decals_volunteers_5.csv` with DR5_TREE or
    `gz_decals_volunteers_1_and_2.csv` with DR12_TREE): `iauname`, ra/dec and NSA columns; per
    question `{q}_total-votes`, per answer `{q}_{a}` (count), `{q}_{a}_fraction`,
    `{q}_{a}_debiased`; PNG images at `images/{iauname[:4]}/{iauname}.png`."""
    ra, dec = _sky(n, seed)
    names = [_iauname(r, d) for r, d in zip(ra, dec)]
    counts = tree_votes(tree, n, seed)
    columns: dict[str, np.ndarray] = {}
    for q, total in totals(tree, counts).items():
        columns[f"{q}_total-votes"] = total
        for a in tree.answers[q]:
            fraction = np.where(total > 0, counts[q, a] / np.maximum(total, 1), np.nan)
            columns |= {f"{q}_{a}": counts[q, a], f"{q}_{a}_fraction": fraction,
                        f"{q}_{a}_debiased": np.full(n, np.nan)}
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({"iauname": names, "ra": ra, "dec": dec,
                          "redshift": rng.uniform(0.02, 0.15, n), "mag_r": rng.uniform(14, 17.7, n),
                          "wrong_size_statistic": rng.uniform(100, 150, n),
                          "wrong_size_warning": False, **columns})
    for k, name in enumerate(names):
        (folder / "images" / name[:4]).mkdir(parents=True, exist_ok=True)
        _write_png(folder / "images" / name[:4] / f"{name}.png", k)
    table.to_csv(folder / filename, index=False)
    return folder / filename, table


def _write_png(path: Path, seed: int) -> None:
    import io

    from PIL import Image

    Image.open(io.BytesIO(fake_image(seed))).save(path, format="PNG")


def write_hart16(folder: Path, fixture: dict[str, np.ndarray], n: int = 8
                 ) -> tuple[Path, pd.DataFrame]:
    """gz2_hart16.csv: dr7objid and sky position, then per answer `_count`,
    `_weighted_fraction`, `_fraction`, `_debiased`, `_flag`, with the study's real fractions of
    the first `n` galaxies (counts apportioned from them; 0 where a task had no votes)."""
    columns = list(fixture["label_columns"].astype(str))
    labels = fixture["true_labels"][:n].astype("float64")
    real = {(q, a): labels[:, columns.index(f"{q}_{a}_fraction")]
            for q, answers in HART16_TREE.answers.items() for a in answers}
    counts = tree_votes(HART16_TREE, n, seed=5, fixed=real, first_votes=(28, 60))
    asked = {q: total > 0 for q, total in totals(HART16_TREE, counts).items()}
    ra, dec = _sky(n, 5)
    table: dict[str, object] = {
        "dr7objid": fixture["objids"][:n].astype(str), "ra": ra, "dec": dec,
        "sample": "original", "gz2_class": "Sc",
        "total_classifications": totals(HART16_TREE, counts)["t01_smooth_or_features"],
        "total_votes": sum(counts.values())}
    for (q, a), count in counts.items():
        fraction = np.where(asked[q], np.round(real[q, a], 3), 0.0)
        weighted = labels[:, columns.index(f"{q}_{a}_weighted_fraction")]
        table |= {f"{q}_{a}_count": count, f"{q}_{a}_weighted_fraction": np.round(weighted, 3),
                  f"{q}_{a}_fraction": fraction, f"{q}_{a}_debiased": np.round(weighted, 3),
                  f"{q}_{a}_flag": np.zeros(n, int)}
    frame = pd.DataFrame(table)
    frame.to_csv(folder / "gz2_hart16.csv", index=False)
    return folder / "gz2_hart16.csv", frame


def write_zenodo_gz2_images(folder: Path, dr7objids: list[str], mapping: bool = True,
                            blank: int | None = None) -> Path:
    """The Zenodo GZ2 image release: `images/{asset_id}.jpg` and `gz2_filename_mapping.csv`
    (objid, sample, asset_id) next to the folder; `blank`: a row whose asset_id cell is empty."""
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    asset_ids = [str(100 + 7 * k) for k in range(len(dr7objids))]
    for k, asset in enumerate(asset_ids):
        (images / f"{asset}.jpg").write_bytes(fake_image(k))
    cells = ["" if k == blank else a for k, a in enumerate(asset_ids)]
    if mapping:
        pd.DataFrame({"objid": dr7objids, "sample": "original", "asset_id": cells}).to_csv(
            folder / "gz2_filename_mapping.csv", index=False)
    return images
