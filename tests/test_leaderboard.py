"""The leaderboard: grouping by dataset, tracks, ties, reported entries, escaping, same bytes."""

import json
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmark.cli.main import build_parser, main
from benchmark.errors import ValidationError
from benchmark.evaluation.entry import entry_fingerprint
from benchmark.jsonfile import dumps
from benchmark.leaderboard.write import OUTPUTS, stale_outputs, write_leaderboard
from benchmark.leaderboard.board import board_json, collect
from benchmark.leaderboard.page import html_page, markdown_table
from tests.conftest import ROOT
from tests.scoring_fakes import ATTRIBUTE, HOSTILE, data_root, write_leaderboard_submissions


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    return write_leaderboard_submissions(tmp_path_factory.mktemp("leaderboard"))


@pytest.fixture(scope="module")
def board(submissions, tmp_path_factory):
    out = tmp_path_factory.mktemp("board")
    write_leaderboard(submissions, out, data_root=data_root(submissions))
    return out


def test_outputs_and_same_bytes_when_regenerated(submissions, board, tmp_path, monkeypatch):
    monkeypatch.setenv("SOMMELIER_CACHE", "off")  # scored afresh: the same bytes as the cache
    write_leaderboard(submissions, tmp_path, data_root=data_root(submissions))
    for name in OUTPUTS.values():
        assert (tmp_path / name).read_bytes() == (board / name).read_bytes(), name
    assert (board / "per_feature.png").read_bytes().startswith(b"\x89PNG")


def test_datasets_are_never_ranked_together_and_tracks_are_apart(board):
    data = json.loads((board / "leaderboard.json").read_text())
    groups = {tuple(g["dataset"]["names"]): g for g in data["groups"]}
    assert set(groups) == {("real",), ("simulated",)}
    real = groups[("real",)]["tracks"]
    assert [e["slug"] for e in real["standard"]] == ["strong", "close", "weak"]
    assert [e["rank"] for e in real["standard"]] == [1, 2, 3]
    assert [e["slug"] for e in real["oracle"]] == ["oracle"]
    assert [e["slug"] for e in groups[("simulated",)]["tracks"]["standard"]] == ["sim"]
    assert [e["slug"] for e in data["reported"]] == ["study"]
    assert data["reported"][0]["reported"]["macro_pearson_r"] == pytest.approx(5.4 / 9)


def test_ties_are_paired_intervals_that_contain_zero(board):
    groups = json.loads((board / "leaderboard.json").read_text())["groups"]
    real = next(g for g in groups if g["dataset"]["names"] == ["real"])
    rows = real["tracks"]["standard"]
    assert not rows[0]["tied_with_leader"] and rows[0]["versus_leader"] is None
    for row in rows[1:]:
        lo, hi = row["versus_leader"]["ci"]
        assert row["tied_with_leader"] == (lo <= 0 <= hi)
        assert row["versus_leader"]["difference"] == pytest.approx(
            row["primary"]["value"] - rows[0]["primary"]["value"])
    # "close" and "strong" overlap marginally, but their paired difference excludes 0
    strong, close = rows[0], rows[1]
    assert close["primary"]["ci"][1] >= strong["primary"]["ci"][0]
    assert close["versus_leader"]["ci"][1] < 0 and not close["tied_with_leader"]
    pairs = {(p["a"], p["b"]): p for p in real["pairwise"]}
    assert len(pairs) == 4 * 3 // 2 and pairs[("strong", "close")]["ci"] == [
        -c for c in reversed(close["versus_leader"]["ci"])]


def test_a_paired_tie_is_shown(submissions, tmp_path):
    """The same predictions twice: difference 0, tied."""
    subs = tmp_path / "subs"
    shutil.copytree(submissions / "strong", subs / "strong")
    shutil.copytree(submissions / "strong", subs / "twin")
    (subs / "twin" / "results.json").unlink(missing_ok=True)
    board = collect(subs, data_root=data_root(submissions))
    twin = board.groups[0].tracks["standard"][1]
    assert twin.versus_leader.difference == 0 and twin.tied


def test_every_text_is_escaped_in_the_page(board):
    page = (board / "index.html").read_text()
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert ATTRIBUTE not in page and "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<b>reported</b>" not in page and "Study &lt;b&gt;reported&lt;/b&gt;" in page
    assert len(re.findall(r"<script\b", page)) == 1  # only the page's own sorting code
    markdown = (board / "leaderboard.md").read_text()
    assert HOSTILE not in markdown and "a paper \\| with a pipe" in markdown


def test_page_is_self_contained_with_selectable_elements(board):
    page = (board / "index.html").read_text()
    assert not re.search(r"<(link|iframe)\b|src=\"(https?:)?//", page)
    assert 'src="data:image/png;base64,' in page
    for selector in ('id="ranked"', 'id="per-feature"', 'id="reported"',
                     'data-slug="strong"', 'data-track="oracle"', 'data-col="primary"',
                     'data-tied="false"', 'data-status="reported"', 'class="sortable"'):
        assert selector in page, selector


def test_markdown_fragment_has_one_table_per_dataset_and_track(board):
    markdown = (board / "leaderboard.md").read_text()
    assert markdown.count("| Rank") == 3
    assert "#### Reported results" in markdown and "≈ #1" in markdown


def test_a_forged_results_file_changes_nothing_and_check_names_it(submissions, tmp_path, capsys):
    subs, out = tmp_path / "subs", tmp_path / "out"
    shutil.copytree(submissions, subs)
    root = data_root(submissions)
    write_leaderboard(subs, out, data_root=root)
    honest = (out / "leaderboard.json").read_bytes()
    args = ["leaderboard", "--submissions", str(subs), "--out", str(out), "--data-root", str(root)]
    assert main([*args, "--check"]) == 0
    forged = json.loads((subs / "weak" / "results.json").read_text())
    forged["primary"].update(value=0.99, ci=[0.98, 0.995])
    forged["dataset"]["fingerprint"] = "sha256:forged"
    (subs / "weak" / "results.json").write_text(json.dumps(forged))
    capsys.readouterr()
    assert main([*args, "--check"]) == 1
    err = capsys.readouterr().err
    assert f"stale: {subs / 'weak' / 'results.json'}" in err and "leaderboard.json" not in err
    write_leaderboard(subs, out, data_root=root)
    assert (out / "leaderboard.json").read_bytes() == honest
    assert json.loads((subs / "weak" / "results.json").read_text())["primary"]["value"] < 0.9


def test_an_edited_entry_is_rescored(submissions, tmp_path):
    subs = tmp_path / "subs"
    shutil.copytree(submissions / "weak", subs / "weak")
    root = data_root(submissions)
    before = collect(subs, data_root=root).groups[0].tracks["standard"][0].primary
    strong = submissions / "strong" / "predictions" / "ukidss-test-seed0.parquet"
    shutil.copy(strong, subs / "weak" / "predictions" / "ukidss-test-seed0.parquet")
    after = collect(subs, data_root=root).groups[0].tracks["standard"][0].primary
    assert after > before


def test_an_entry_whose_dataset_is_missing_is_an_error(submissions, tmp_path):
    subs = tmp_path / "subs"
    shutil.copytree(submissions / "weak", subs / "weak")
    with pytest.raises(ValidationError, match="submission.yaml: dataset 'real'"):
        collect(subs)


def test_cli_defaults_and_an_empty_board(tmp_path, capsys):
    args = build_parser().parse_args(["leaderboard"])
    assert (args.submissions, args.out) == ("submissions", "leaderboard")
    (tmp_path / "subs").mkdir()
    assert main(["leaderboard", "--submissions", str(tmp_path / "subs"),
                 "--out", str(tmp_path / "out")]) == 0
    assert "No verified entries yet." in (tmp_path / "out" / "leaderboard.md").read_text()
    assert main(["leaderboard", "--submissions", str(tmp_path / "none")]) == 2
    assert "no such submissions folder" in capsys.readouterr().err
    (tmp_path / "a-file").write_text("")
    assert main(["leaderboard", "--submissions", str(tmp_path / "subs"),
                 "--out", str(tmp_path / "a-file")]) == 2
    assert "cannot write the leaderboard" in capsys.readouterr().err


@pytest.fixture(scope="module")
def quickstart_data(tmp_path_factory) -> Path:
    """The committed entries' dataset, rebuilt as `make datasets` does (deterministic)."""
    from benchmark.dataset.build import build
    from benchmark.simulator.writer import simulate

    root = tmp_path_factory.mktemp("datasets")
    sim = simulate(root / "sim-n4000", n=4000, seed=0, progress=False)
    build([f"sim:{sim}"], root / "simulated-n4000", progress=False)
    return root


@pytest.mark.slow
def test_committed_leaderboard_is_up_to_date(quickstart_data):
    """Every committed results.json, leaderboard/ text output and the README table are what a
    fresh scoring of the committed predictions gives (what CI's `make check-leaderboard` runs)."""
    stale = stale_outputs(ROOT / "submissions", ROOT / "leaderboard", ROOT / "README.md",
                          data_root=quickstart_data)
    assert stale == [], "stale: run `make leaderboard`"


@pytest.mark.slow
def test_a_readme_without_the_markers_is_a_clear_error(tmp_path, capsys, quickstart_data):
    (tmp_path / "README.md").write_text("# no markers\n")
    assert main(["leaderboard", "--submissions", str(ROOT / "submissions"), "--data-root",
                 str(quickstart_data), "--out", str(tmp_path / "board"), "--readme",
                 str(tmp_path / "README.md")]) == 2
    assert "has no leaderboard block" in capsys.readouterr().err


def test_the_committed_board_carries_ceilings_and_paired_consistency():
    """The simulated group's reference rows (checked fresh by the test above) and the quick-start
    entries' paired view: label-shift ceilings between floor and 1, above every entry, and each
    entry's UKIDSS MSE split exactly into its three parts."""
    data = json.loads((ROOT / "leaderboard" / "leaderboard.json").read_text())
    (group,) = [g for g in data["groups"] if "simulated-n4000" in g["dataset"]["names"]]
    refs = {r["key"]: r for r in group["references"]}
    assert set(refs) == {"floor", "label_shift_sdss", "label_shift_decals", "vote_noise"}
    top = refs["vote_noise"]["primary"]["value"]
    assert refs["label_shift_sdss"]["primary"]["value"] < top < 1
    best = max(e["primary"]["value"] for rows in group["tracks"].values() for e in rows
               if e["primary"]["value"] is not None)
    for key in ("label_shift_sdss", "label_shift_decals"):
        lo, hi = refs[key]["primary"]["ci"]
        assert best < lo <= refs[key]["primary"]["value"] <= hi < 1
    entries = [e for rows in group["tracks"].values() for e in rows]
    assert all(set(e["paired"]) == {"sdss", "decals"} for e in entries)
    for e in entries:  # the share of the gap closed: primary over the vote-noise ceiling
        if e["primary"]["value"] is not None:
            assert e["gap_closed"]["share"] == pytest.approx(e["primary"]["value"] / top)
            lo, hi = e["gap_closed"]["ci"]
            assert lo < e["gap_closed"]["share"] < hi
    for e in entries:
        for block in e["paired"].values():
            m = block["macro"]
            assert m["optical_error"] + m["label_shift"] + m["view_change"] == pytest.approx(m["mse"])
