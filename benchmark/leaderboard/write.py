"""Write the leaderboard: Markdown table, JSON, HTML page and per-feature plot under one
folder, and the table into README.md between its markers."""

from __future__ import annotations

import os
from pathlib import Path

from ..atomic import write_bytes, write_text
from ..errors import SommelierError
from ..jsonfile import dumps
from .board import board_json, collect
from .page import html_page, markdown_table
from .plot import per_feature_png

OUTPUTS = {"markdown": "leaderboard.md", "json": "leaderboard.json", "html": "index.html",
           "plot": "per_feature.png"}
README_MARKERS = ("<!-- leaderboard:start -->", "<!-- leaderboard:end -->")


def write_leaderboard(submissions: str | os.PathLike, out: str | os.PathLike) -> dict[str, Path]:
    """Render every output under `out`; returns what was written."""
    board = collect(submissions)
    out = Path(out)
    plot = per_feature_png(board)
    paths = {kind: out / name for kind, name in OUTPUTS.items()}
    try:
        write_text(paths["markdown"], markdown_table(board))
        write_text(paths["json"], dumps(board_json(board)))
        write_bytes(paths["plot"], plot)
        write_text(paths["html"], html_page(board, plot))
    except OSError as exc:
        raise SommelierError(f"cannot write the leaderboard to {out}: "
                             f"{exc.strerror or exc}") from exc
    return paths


def update_readme(readme: str | os.PathLike, fragment: str) -> None:
    """Replace the README's text between the leaderboard markers with `fragment`, so the
    README always shows the committed leaderboard."""
    path = Path(readme)
    start, end = README_MARKERS
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SommelierError(f"cannot read {path}: {exc.strerror or exc}") from exc
    before, found, rest = text.partition(start)
    _, found_end, after = rest.partition(end)
    if not (found and found_end):
        raise SommelierError(f"{path} has no leaderboard block; add the lines {start} and {end} "
                             "where the table should go")
    write_text(path, f"{before}{start}\n{fragment}{end}{after}")
