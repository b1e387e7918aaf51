"""The quick start end to end, shrunk: every real stage (simulate, build, train, predict,
evaluate, leaderboard) on 300 galaxies with one-epoch tiny configs, then report and publish."""

from __future__ import annotations

import json
import shutil

import pytest

from baselines.config import merge
from benchmark.cli import quickstart as Q
from benchmark.cli.main import main
from benchmark.leaderboard.write import README_MARKERS
from tests.baselines_support import cache, tiny_raw, write_config  # noqa: F401 (cache: fixture)
from tests.conftest import ROOT

ONE_EPOCH = [{"name": "finetune", "backbone": "full", "epochs": 1, "head_lr": 1e-2,
              "backbone_lr": 1e-3}]


@pytest.fixture(scope="module")
def result(tmp_path_factory, cache):
    """The shrunk quick start; configs are named as the bundled ones so entries are too."""
    folder = tmp_path_factory.mktemp("configs")
    sdss = tiny_raw(cache, stages=ONE_EPOCH)
    configs = {
        "tiny-cpu-sdss": (sdss, True),
        "tiny-cpu-mixed": (merge(sdss, {"data": {"mix": {"sdss": 0.5, "decals": 0.5}}}), True),
        "tiny-cpu-linear-probe": (merge(sdss, {"kind": "linear-probe", "stages": []}), False),
    }
    baselines = (Q.QuickstartBaseline("constant-sdss", seeded=False),) + tuple(
        Q.QuickstartBaseline(str(write_config(folder / f"{name}.yaml", raw)), seeded)
        for name, (raw, seeded) in configs.items())
    out = tmp_path_factory.mktemp("quickstart") / "out"
    return Q.quickstart(out, n=300, seeds=2, image_size=32, progress=False, baselines=baselines)


def test_every_baseline_becomes_an_evaluated_entry(result):
    slugs = sorted(p.name for p in result.submissions.iterdir())
    assert slugs == ["quickstart-constant-sdss", "quickstart-tiny-cpu-linear-probe",
                     "quickstart-tiny-cpu-mixed", "quickstart-tiny-cpu-sdss"]
    mixed = json.loads((result.submissions / "quickstart-tiny-cpu-mixed" / "results.json")
                       .read_text())
    assert mixed["entry"]["seeds"] == [0, 1] and mixed["primary"]["seeds"] == 2
    assert set(mixed["evaluations"]) == {"ukidss/test", "sdss/test", "decals/test",
                                         "sdss/paired_test", "decals/paired_test"}
    assert set(mixed["paired"]) == {"sdss", "decals"}
    constant = json.loads((result.submissions / "quickstart-constant-sdss" / "results.json")
                          .read_text())
    assert constant["entry"]["seeds"] == [0]  # deterministic baselines run once
    board = json.loads((result.leaderboard / "leaderboard.json").read_text())
    (group,) = board["groups"]
    assert len(group["tracks"]["standard"]) == 4


def test_report_shows_the_ukidss_table_and_an_honest_comparison(result):
    text = Q.report(result)
    for needle in ("macro r [95% CI]", "bar_yes", "Δ macro r, sdss test → ukidss",
                   "tiny-cpu-mixed", "constant-sdss", "Mixed SDSS+DECaLS training",
                   result.leaderboard.joinpath("index.html").as_uri()):
        assert needle in text
    rows = Q.ranked_entries(result.submissions, result.out)
    mixed, sdss = (next(r for r in rows if r.sub.slug == Q.ENTRY_PREFIX + c) for c in Q.COMPARISON)
    verdict = "beats" if mixed.primary > sdss.primary else "does not beat"
    assert f"training {verdict} SDSS-only" in text


def test_publish_copies_entries_and_renders_the_board(result, tmp_path):
    other = ROOT / "submissions" / "original-study-sdss-only"
    shutil.copytree(other, tmp_path / "subs" / other.name)
    stale = tmp_path / "subs" / "quickstart-tiny-cpu-sdss"
    stale.mkdir()
    (stale / "old.txt").write_text("replaced")
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{README_MARKERS[0]}\nold table\n{README_MARKERS[1]}\n\nafter\n")
    copied = Q.publish(result, tmp_path / "subs", tmp_path / "board", readme)
    assert [p.name for p in copied] == sorted(p.name for p in result.submissions.iterdir())
    assert not (stale / "old.txt").exists() and (stale / "results.json").is_file()
    assert (tmp_path / "subs" / other.name / "submission.yaml").read_bytes() == \
        (other / "submission.yaml").read_bytes()
    board = json.loads((tmp_path / "board" / "leaderboard.json").read_text())
    assert len(board["groups"][0]["tracks"]["standard"]) == 4 and len(board["reported"]) == 1
    table = (tmp_path / "board" / "leaderboard.md").read_text()
    assert readme.read_text() == (f"# Title\n\n{README_MARKERS[0]}\n{table}{README_MARKERS[1]}"
                                  "\n\nafter\n")


def test_a_foreign_output_folder_and_bad_sizes_are_refused(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("not the quick start's")
    assert main(["quickstart", "--out", str(tmp_path), "--quiet"]) == 2
    assert "was not made by `sommelier quickstart`" in capsys.readouterr().err
    assert (tmp_path / "mine.txt").is_file()
    assert main(["quickstart", "--out", str(tmp_path / "new"), "--n", "10", "--quiet"]) == 2
    assert "at least 200 galaxies" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
