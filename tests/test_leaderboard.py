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
from benchmark.leaderboard.write import OUTPUTS, update_readme, write_leaderboard
from benchmark.leaderboard.board import board_json, collect
from benchmark.leaderboard.page import html_page, markdown_table
from tests.conftest import ROOT
from tests.scoring_fakes import ATTRIBUTE, HOSTILE, write_leaderboard_submissions


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    return write_leaderboard_submissions(tmp_path_factory.mktemp("submissions"))


@pytest.fixture(scope="module")
def board(submissions, tmp_path_factory):
    out = tmp_path_factory.mktemp("board")
    write_leaderboard(submissions, out)
    return out


def test_outputs_and_same_bytes_when_regenerated(submissions, board, tmp_path):
    write_leaderboard(submissions, tmp_path)
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


def test_ties_are_interval_overlaps_with_the_leader(board):
    standard = json.loads((board / "leaderboard.json").read_text())["groups"]
    rows = next(g for g in standard if g["dataset"]["names"] == ["real"])["tracks"]["standard"]
    lo, _ = rows[0]["primary"]["ci"]
    assert not rows[0]["tied_with_leader"]
    for row in rows[1:]:
        assert row["tied_with_leader"] == (row["primary"]["ci"][1] >= lo)
    assert [r["tied_with_leader"] for r in rows[1:]] == [True, False]


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
                     'data-tied="true"', 'data-status="reported"', 'class="sortable"'):
        assert selector in page, selector


def test_markdown_fragment_has_one_table_per_dataset_and_track(board):
    markdown = (board / "leaderboard.md").read_text()
    assert markdown.count("| Rank") == 3
    assert "#### Reported results" in markdown and "≈ #1" in markdown


def test_stale_missing_and_malformed_results_are_refused(submissions, tmp_path):
    subs = tmp_path / "subs"
    shutil.copytree(submissions / "weak", subs / "weak")
    results = subs / "weak" / "results.json"
    (subs / "weak" / "predictions" / "ukidss-test-seed0.parquet").touch()  # same bytes: fresh
    write_leaderboard(subs, tmp_path / "out")
    with (subs / "weak" / "submission.yaml").open("a") as fh:
        fh.write("notes: changed after evaluation\n")
    with pytest.raises(ValidationError, match="stale"):
        write_leaderboard(subs, tmp_path / "out")
    results.write_text("{not json")
    with pytest.raises(ValidationError, match="not valid JSON"):
        write_leaderboard(subs, tmp_path / "out")
    fresh = json.loads((submissions / "weak" / "results.json").read_text())
    fresh["submission_fingerprint"] = entry_fingerprint(subs / "weak")
    for broken in ({}, {**fresh, "dataset": {}}, {**fresh, "primary": {"value": "high"}},
                   {**fresh, "primary": {"value": 0.5, "ci": [0.4]}},
                   {**fresh, "id_to_ood": {"sdss": {"macro": {"pearson_r": "-0.1"}}}}):
        results.write_text(json.dumps(broken))
        with pytest.raises(ValidationError, match="malformed results"):
            write_leaderboard(subs, tmp_path / "out")
    results.unlink()
    with pytest.raises(ValidationError, match="no results for verified entry"):
        write_leaderboard(subs, tmp_path / "out")


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


def test_committed_leaderboard_is_up_to_date(tmp_path):
    """leaderboard/ is generated from submissions/; the text outputs must match a rerun."""
    write_leaderboard(ROOT / "submissions", tmp_path)
    for name in (OUTPUTS["markdown"], OUTPUTS["json"]):
        assert (tmp_path / name).read_text() == (ROOT / "leaderboard" / name).read_text(), \
            f"leaderboard/{name} is stale: run `make leaderboard`"
    readme = tmp_path / "README.md"
    shutil.copy(ROOT / "README.md", readme)
    update_readme(readme, (tmp_path / OUTPUTS["markdown"]).read_text())
    assert readme.read_text() == (ROOT / "README.md").read_text(), \
        "README.md's leaderboard table is stale: run `make leaderboard`"


def test_a_readme_without_the_markers_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "README.md").write_text("# no markers\n")
    assert main(["leaderboard", "--submissions", str(ROOT / "submissions"),
                 "--out", str(tmp_path / "board"), "--readme", str(tmp_path / "README.md")]) == 2
    assert "has no leaderboard block" in capsys.readouterr().err


def _paths(obj, prefix=()):
    """Every key path of a nested JSON object."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield prefix + (key,)
            yield from _paths(value, prefix + (key,))


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                           | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=2)
                           | st.dictionaries(st.text(max_size=3), inner, max_size=2),
                           max_leaves=4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_corrupted_results_file_is_accepted_or_refused_cleanly(submissions, data):
    """One value anywhere in a fresh results.json replaced by any JSON value."""
    fresh = json.loads((submissions / "weak" / "results.json").read_text())
    path = data.draw(st.sampled_from(sorted(_paths(fresh), key=str)), label="path")
    *parents, last = path
    target = fresh
    for key in parents:
        target = target[key]
    target[last] = data.draw(JSON_VALUES, label="value")
    with tempfile.TemporaryDirectory() as tmp:
        entry = Path(tmp) / "subs" / "weak"
        shutil.copytree(submissions / "weak", entry)
        (entry / "results.json").write_text(json.dumps(fresh))
        try:
            board = collect(entry.parent)
        except ValidationError as exc:
            assert str(exc).startswith(str(entry))
        else:
            markdown_table(board)
            html_page(board, b"png")
            dumps(board_json(board))
