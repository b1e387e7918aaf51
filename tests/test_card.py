"""The dataset card and croissant.json: a complete datasheet, honest about simulated data and
unknown leakage, Hub metadata that `datasets` agrees with, no trace of the build machine, and
a push that will not put simulated data on the real-data repo."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest
import yaml

from benchmark import registry as R
from benchmark.cli.main import main
from benchmark.dataset import layout as D
from benchmark.dataset.build import build
from benchmark.dataset.croissant import CROISSANT_FILE
from benchmark.dataset.publish import (SPLIT_ROLES, card_metadata, changelog, features,
                                       push, size_category)
from benchmark.errors import SommelierError

DATASHEET = ("Motivation", "Composition", "Collection", "Preprocessing", "Uses", "Distribution",
             "Maintenance", "Cross-survey identity and leakage", "Licence and citation")
#: The Hub's task ids (huggingface.js `PIPELINE_DATA`) a galaxy-image dataset could carry.
HUB_TASKS = {"image-classification", "image-feature-extraction", "tabular-regression",
             "zero-shot-image-classification"}


@pytest.fixture(scope="module")
def sim(tmp_path_factory) -> Path:
    from benchmark.simulator.writer import simulate

    return simulate(tmp_path_factory.mktemp("cardsim") / "sim", n=300, seed=5, image_size=32,
                    progress=False)


def _build(sources: list[str], out: Path, **options):
    return build(sources, out, progress=False, **options)


@pytest.fixture(scope="module")
def simulated(sim, tmp_path_factory):
    """A build from the simulator's folder: a simulated dataset."""
    out = tmp_path_factory.mktemp("cardsimulated") / "bench"
    return _build([f"sim:{sim}"], out), out


@pytest.fixture(scope="module")
def releases(sim, tmp_path_factory):
    """The same galaxies read as Hugging Face releases (`hf:` folders): not a `sim:` source."""
    out = tmp_path_factory.mktemp("cardreal") / "bench"
    sources = [f"hf:{sim / name}" for name in ("gz2", "gz_decals", "gz_ukidss")]
    return _build(sources, out, id_maps=[sim / "id_map.csv"]), out


@pytest.fixture(scope="module")
def unmatched(sim, tmp_path_factory):
    """UKIDSS alone, built with --allow-unmatched: its leakage is unknown."""
    out = tmp_path_factory.mktemp("cardunmatched") / "bench"
    return _build([f"hf:{sim / 'gz_ukidss'}"], out, allow_unmatched=True), out


def _card(folder: Path) -> str:
    return (folder / "README.md").read_text(encoding="utf-8")


def _body(folder: Path) -> str:
    return _card(folder).split("---\n", 2)[2]


def test_the_card_has_every_datasheet_section(simulated, releases):
    for _, folder in (simulated, releases):
        headings = [line.lstrip("# ") for line in _body(folder).splitlines() if line.startswith("## ")]
        assert [h for h in DATASHEET if h not in headings] == []
        assert "```bibtex" in _body(folder) and "## Cross-survey identity and leakage" in _body(folder)


def test_no_path_of_the_build_machine_in_the_card_or_croissant(simulated, releases, sim):
    for _, folder in (simulated, releases):
        for name in ("README.md", CROISSANT_FILE):
            text = (folder / name).read_text(encoding="utf-8")
            for path in (sim, folder, sim.parent.parent):
                assert str(path) not in text, (name, path)
    assert "| sim    | `sim`" in _body(simulated[1])
    assert "`gz_ukidss`" in _body(releases[1])  # a local release by its folder name
    assert "\n- gz2 config default: upstream splits" in _body(releases[1])  # the reader's notes


def test_a_simulated_build_says_so_first_and_in_its_metadata(simulated, releases):
    body = _body(simulated[1])
    assert body.lstrip().startswith("# SIMULATED ") and "> **SIMULATED DATA.**" in body[:500]
    assert "simulated" in card_metadata(simulated[1])["tags"]
    assert "SIMULATED" not in _card(releases[1])
    assert "simulated" not in card_metadata(releases[1])["tags"]


def test_allow_unmatched_never_claims_no_leakage(unmatched, releases):
    claim = "Guarantee: no UKIDSS test or validation galaxy is in any training split."
    assert claim in _body(releases[1])
    body = _body(unmatched[1])
    assert claim not in body and "no ukidss test" not in body.lower()
    assert "**WARNING: NOT DE-DUPLICATED.**" in body[:1000]
    assert "**No guarantee against leakage" in body


def test_front_matter_is_hub_metadata_consistent_with_the_splits(releases):
    import datasets

    report, folder = releases
    meta = yaml.safe_load(_card(folder).split("---\n", 2)[1])
    assert set(meta["task_categories"]) <= HUB_TASKS
    assert meta["size_categories"] == [size_category(sum(report.split_sizes.values()))]
    assert meta["license"] == "cc-by-nc-sa-4.0"
    infos = {i["config_name"]: i for i in meta["dataset_info"]}
    assert {(c, s["name"]): s["num_examples"] for c, i in infos.items()
            for s in i["splits"]} == report.split_sizes
    for config, info in infos.items():
        assert [f["name"] for f in info["features"]] == list(features())
        builder = datasets.load_dataset_builder(str(folder), config)  # reads dataset_info
        assert builder.info.features == features()
        assert {s: v.num_examples for s, v in builder.info.splits.items()} == {
            s: n for (c, s), n in report.split_sizes.items() if c == config}


@pytest.mark.parametrize("n,bucket", [(0, "n<1K"), (999, "n<1K"), (1000, "1K<n<10K"),
                                      (9999, "1K<n<10K"), (250_000, "100K<n<1M"),
                                      (10**12 - 1, "100B<n<1T"), (10**12, "n>1T")])
def test_size_categories_use_the_hub_buckets(n, bucket):
    assert size_category(n) == bucket


def test_every_split_written_is_described(simulated, unmatched):
    for report, folder in (simulated, unmatched):
        for _, split in report.split_sizes:
            assert f"- `{split}`: {SPLIT_ROLES[split]}" in _body(folder)


def test_citations_follow_the_sources(simulated, releases, unmatched):
    assert "2023MNRAS.526.4768W" in _body(releases[1])  # DECaLS from a Hub release: GZ DESI
    assert "2023MNRAS.526.4768W" not in _body(simulated[1])
    for key in ("2013MNRAS.435.2835W", "2016MNRAS.461.3663H", "2022MNRAS.509.3966W",
                "Masters2024UKIDSS", "@misc{galaxy_sommelier_"):
        assert key in _body(simulated[1])
    assert "2013MNRAS.435.2835W" not in _body(unmatched[1])  # no SDSS in that build


def test_the_changelog_is_embedded_and_a_version_needs_an_entry(simulated):
    assert changelog("1.0") in _body(simulated[1])
    with pytest.raises(SommelierError, match="version 9.9 has no entry"):
        changelog("9.9")


def test_croissant_validates_and_matches_the_folder(releases):
    import mlcroissant as mlc

    report, folder = releases
    dataset = mlc.Dataset(jsonld=folder / CROISSANT_FILE)  # raises on any validation error
    files = {f.content_url: f for f in dataset.metadata.distribution if isinstance(f, mlc.FileObject)}
    shards = sorted(p.relative_to(folder).as_posix() for p in (folder / D.DATA_DIR).rglob("*.parquet"))
    assert sorted(files) == shards
    for rel, f in files.items():
        assert f.sha256 == hashlib.sha256((folder / rel).read_bytes()).hexdigest()
    assert dataset.metadata.license == ["https://creativecommons.org/licenses/by-nc-sa-4.0/"]
    assert "@misc{galaxy_sommelier_" in dataset.metadata.cite_as
    counts = Counter()
    for record_set in dataset.metadata.record_sets:
        for record in dataset.records(record_set.id):
            counts[record_set.name, record[f"{record_set.name}/split"].decode()] += 1
    assert dict(counts) == report.split_sizes


def test_push_dry_run_lists_sizes_repo_and_revision(releases, capsys):
    folder = releases[1]
    assert main(["data", "push", "--folder", str(folder), "--repo", "org/bench",
                 "--revision", "v1.0", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "to dataset repo org/bench, revision v1.0" in out.splitlines()[0]
    size = (folder / CROISSANT_FILE).stat().st_size
    assert any(line.endswith(f"  {CROISSANT_FILE}") and f"{size / 1e3:.1f} kB" in line
               for line in out.splitlines())
    assert f"  {D.MANIFEST}" in out and "README.md" in out


def test_a_simulated_folder_is_not_pushed_to_the_real_repo_by_accident(simulated, capsys):
    folder = simulated[1]
    with pytest.raises(SommelierError, match="pass --allow-simulated"):
        push(folder, R.DATASET_REPO, dry_run=True)
    assert main(["data", "push", "--folder", str(folder), "--repo", R.DATASET_REPO, "--dry-run"]) != 0
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "--allow-simulated" in error
    assert push(folder, R.DATASET_REPO, dry_run=True, allow_simulated=True)
    assert push(folder, "someone/sandbox", dry_run=True)
