"""The generated leaderboard page in headless Chromium, opened from file:// with no network.

One browser and page per module; each test reloads the page and gets its own record of console
errors, page errors, requests, failed requests and dialogs. The board is built from the fake
entries of `tests.scoring_fakes` (ranked standard entries of different quality, one oracle
entry, one reported entry, a hostile entry name). Skips, with the reason, where Debian's
`chromium` or Playwright is missing or cannot be launched (Playwright's own browsers are never
downloaded).
"""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest
from PIL import Image

from benchmark.evaluation.display import number
from benchmark.leaderboard.write import write_leaderboard
from tests.scoring_fakes import ATTRIBUTE, HOSTILE, data_root, write_leaderboard_submissions

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
LOCAL_SCHEMES = ("file:", "data:")
VIEWPORT = {"width": 1400, "height": 900}


@dataclass
class Events:
    """What the page did since it was last loaded."""

    errors: list[str] = field(default_factory=list)  # console errors, page errors, failures
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def clear(self) -> None:
        for log in (self.errors, self.requests, self.dialogs):
            log.clear()


@dataclass
class Board:
    page: Any  # playwright.sync_api.Page
    events: Events
    data: dict  # leaderboard.json


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (it is in the test extra)")
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("no `chromium` on PATH (Debian: apt-get install chromium); "
                    "Playwright's own browsers are not used")
    with sync_api.sync_playwright() as p:
        try:
            launched = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except sync_api.Error as exc:
            pytest.skip(f"playwright cannot launch {executable}: {str(exc).splitlines()[0]}")
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def module_page(browser, tmp_path_factory) -> Iterator[tuple[Any, Events, Path]]:
    out = tmp_path_factory.mktemp("board")
    subs = write_leaderboard_submissions(tmp_path_factory.mktemp("subs"))
    write_leaderboard(subs, out, data_root=data_root(subs))
    context = browser.new_context(offline=True, viewport=VIEWPORT)
    page = context.new_page()
    events = Events()
    page.on("console", lambda m: m.type == "error" and events.errors.append(f"console: {m.text}"))
    page.on("pageerror", lambda exc: events.errors.append(f"page error: {exc}"))
    page.on("requestfailed", lambda r: events.errors.append(f"failed: {r.url} {r.failure}"))
    page.on("request", lambda r: events.requests.append(r.url))
    page.on("dialog", lambda d: (events.dialogs.append(f"{d.type}: {d.message}"), d.dismiss()))
    yield page, events, out
    context.close()


@pytest.fixture
def board(module_page) -> Board:
    """The page freshly loaded from file:// (so no test sees another's clicks)."""
    page, events, out = module_page
    events.clear()
    page.goto((out / "index.html").as_uri(), wait_until="load")
    return Board(page, events, json.loads((out / "leaderboard.json").read_text()))


def ranked_tables(data: dict) -> Iterator[tuple[str, str, list[dict]]]:
    """(dataset fingerprint, track, entries in leaderboard.json order) of every ranked table."""
    for group in data["groups"]:
        for track, entries in group["tracks"].items():
            yield group["dataset"]["fingerprint"], track, entries


def rows(page, dataset: str, track: str):
    selector = f'table[data-kind="ranked"][data-dataset="{dataset}"][data-track="{track}"]'
    return page.locator(f"{selector} tbody tr")


def slugs(page, dataset: str, track: str) -> list[str]:
    return rows(page, dataset, track).evaluate_all("rs => rs.map(r => r.dataset.slug)")


def test_loads_offline_from_file_with_no_errors_or_remote_requests(board):
    page, events = board.page, board.events
    assert page.title() == "Galaxy Sommelier leaderboard"
    assert events.requests and all(url.startswith(LOCAL_SCHEMES) for url in events.requests), \
        events.requests
    assert events.errors == []
    assert page.locator("#per-feature-plot").evaluate("img => img.complete && img.naturalWidth") \
        > 100


def test_rows_are_ranked_by_the_primary_metric(board):
    tables = list(ranked_tables(board.data))
    assert len(tables) == 3  # real: standard + oracle; simulated: standard
    for dataset, track, entries in tables:
        assert slugs(board.page, dataset, track) == [e["slug"] for e in entries]
        table = rows(board.page, dataset, track)
        assert table.evaluate_all("rs => rs.map(r => +r.dataset.rank)") == \
            list(range(1, len(entries) + 1))
        shown = [float(v) for v in table.locator('td[data-col="primary"]')
                 .evaluate_all("cs => cs.map(c => c.dataset.value)")]
        assert shown == sorted(shown, reverse=True)
        assert shown == pytest.approx([e["primary"]["value"] for e in entries], abs=1e-9)
        assert table.evaluate_all("rs => rs.map(r => r.dataset.tied)") == \
            [str(e["tied_with_leader"]).lower() for e in entries]
    standard = next(t for t in tables if t[1] == "standard" and len(t[2]) == 3)
    assert [e["slug"] for e in standard[2]] == ["strong", "close", "weak"]


def test_tracks_statuses_intervals_and_plot_are_visible(board):
    page = board.page
    for track in ("standard", "oracle"):
        heading = page.locator(f'#ranked h4[data-track="{track}"]').first
        assert heading.is_visible() and heading.inner_text().startswith(
            f"{track.capitalize()} track")
    assert page.locator('#ranked tr[data-track="oracle"]').evaluate_all(
        "rs => rs.map(r => r.dataset.slug)") == ["oracle"]
    assert set(page.locator('#ranked table[data-kind="ranked"] tbody tr').evaluate_all(
        "rs => rs.map(r => r.dataset.status)")) == {"verified"}
    floors = page.locator('#ranked table[data-kind="references"] tr[data-reference="floor"]')
    assert floors.count() == len(board.data["groups"]) and floors.first.is_visible()
    assert page.locator("#ranked table.pairwise").count() == 1  # the group with two or more
    reported = page.locator('#reported tr[data-status="reported"]')
    assert reported.count() == 1 and reported.is_visible()
    assert "Study <b>reported</b>" in reported.inner_text()
    for dataset, track, entries in ranked_tables(board.data):
        for entry, row in zip(entries, rows(page, dataset, track).all()):
            lo, hi = entry["primary"]["ci"]
            interval = row.locator('td[data-col="primary"] .ci')
            assert interval.is_visible() and interval.inner_text() == \
                f"[{number(lo)}, {number(hi)}]"
    assert page.locator("#per-feature-plot").is_visible()
    assert page.locator('#per-feature table[data-kind="features"] td[data-col="smooth"] '
                        'span[title^="95% CI ["]').count() == 5


def test_a_header_click_sorts_by_that_column(board):
    page = board.page
    dataset, track, entries = next(t for t in ranked_tables(board.data) if len(t[2]) == 3)
    header = page.locator(f'table[data-dataset="{dataset}"][data-track="{track}"] '
                          'th[data-col="parameters"]')
    by_parameters = [e["slug"] for e in sorted(entries, key=lambda e: e["parameters"])]
    assert by_parameters != [e["slug"] for e in entries]  # else the click would show nothing
    header.locator("button").click()
    assert slugs(page, dataset, track) == by_parameters
    assert header.get_attribute("aria-sort") == "ascending"
    header.locator("button").click()
    assert slugs(page, dataset, track) == by_parameters[::-1]
    assert header.get_attribute("aria-sort") == "descending"
    assert board.events.errors == []


def test_a_hostile_entry_name_is_literal_text_and_runs_nothing(board):
    page = board.page
    row = page.locator('#ranked tr[data-slug="strong"]')
    assert row.locator('td[data-col="entry"] a').inner_text() == HOSTILE
    assert ATTRIBUTE in row.locator('td[data-col="entry"] .meta').inner_text()
    page.locator("#ranked th button").first.click()  # run the page's own script once
    assert page.evaluate("document.scripts.length") == 1
    assert page.locator('img[src="x"], [onerror]').count() == 0
    assert board.events.dialogs == [] and board.events.errors == []


def test_a_screenshot_is_not_blank(board, tmp_path):
    path = tmp_path / "leaderboard.png"
    board.page.screenshot(path=path, full_page=True)
    pixels = np.asarray(Image.open(path).convert("L"), dtype=float)
    assert pixels.shape[0] > 900 and pixels.std() > 20
    assert len(np.unique(pixels)) > 64
    plot = np.asarray(Image.open(io.BytesIO(
        board.page.locator("#per-feature-plot").screenshot())).convert("L"), dtype=float)
    assert plot.std() > 20


def test_a_narrow_window_scrolls_the_tables_not_the_page(board):
    page = board.page
    page.set_viewport_size({"width": 480, "height": 900})
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= 480
        assert page.locator(".table-wrap").evaluate_all(
            "ws => ws.some(w => w.scrollWidth > w.clientWidth)")  # wide tables scroll instead
    finally:
        page.set_viewport_size(VIEWPORT)
