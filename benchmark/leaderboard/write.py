"""Write the leaderboard: Markdown table, JSON, HTML page and per-feature plot under one
folder, and the table into README.md between its markers."""

from __future__ import annotations

import os
from pathlib import Path

from ..atomic import write_bytes, write_text
from ..errors import SommelierError
from ..jsonfile import dumps
from ..evaluation.submission import RESULTS_FILE
from .board import Board, board_json, collect
from .page import html_page, markdown_table
from .plot import per_feature_png

OUTPUTS = {"markdown": "leaderboard.md", "json": "leaderboard.json", "html": "index.html",
           "plot": "per_feature.png"}
README_MARKERS = ("<!-- leaderboard:start -->", "<!-- leaderboard:end -->")


def _text_outputs(board: Board, out: Path) -> dict[Path, str]:
    """Every text file a leaderboard consists of: each entry's results.json and the Markdown
    and JSON under `out` (what `--check` compares; the plot and the page are written too)."""
    texts = {root / RESULTS_FILE: dumps(score.results) for root, score in board.scores.items()}
    texts[out / OUTPUTS["markdown"]] = markdown_table(board)
    texts[out / OUTPUTS["json"]] = dumps(board_json(board))
    return texts


def _differs(path: Path, text: str) -> bool:
    return not path.is_file() or path.read_text(encoding="utf-8") != text


def write_leaderboard(submissions: str | os.PathLike, out: str | os.PathLike, *,
                      data_root: str | os.PathLike | None = None) -> dict[str, Path]:
    """Score every entry, refresh its results.json, render every output under `out`; returns
    the outputs written."""
    board = collect(submissions, data_root=data_root)
    out = Path(out)
    plot = per_feature_png(board)
    paths = {kind: out / name for kind, name in OUTPUTS.items()}
    try:
        for path, text in _text_outputs(board, out).items():
            if _differs(path, text):
                write_text(path, text)
        write_bytes(paths["plot"], plot)
        write_text(paths["html"], html_page(board, plot))
    except OSError as exc:
        raise SommelierError(f"cannot write the leaderboard to {out}: "
                             f"{exc.strerror or exc}") from exc
    return paths


def _spliced(text: str, fragment: str, where: str) -> str:
    start, end = README_MARKERS
    before, found, rest = text.partition(start)
    _, found_end, after = rest.partition(end)
    if not (found and found_end):
        raise SommelierError(f"{where} has no leaderboard block; add the lines {start} and {end} "
                             "where the table should go")
    return f"{before}{start}\n{fragment}{end}{after}"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SommelierError(f"cannot read {path}: {exc.strerror or exc}") from exc


def update_readme(readme: str | os.PathLike, fragment: str) -> None:
    """Replace the README's text between the leaderboard markers with `fragment`, so the
    README always shows the committed leaderboard."""
    path = Path(readme)
    write_text(path, _spliced(_read(path), fragment, str(path)))


def stale_outputs(submissions: str | os.PathLike, out: str | os.PathLike,
                  readme: str | os.PathLike | None = None, *,
                  data_root: str | os.PathLike | None = None) -> list[Path]:
    """The committed files that differ from a fresh scoring: each entry's results.json, the
    text outputs under `out` and the README's table (the plot and the page embedding it are
    left out: their bytes depend on the matplotlib build)."""
    board = collect(submissions, data_root=data_root)
    expected = _text_outputs(board, Path(out))
    if readme is not None:
        table = expected[Path(out) / OUTPUTS["markdown"]]
        expected[Path(readme)] = _spliced(_read(Path(readme)), table, str(readme))
    return [path for path, text in expected.items() if _differs(path, text)]
