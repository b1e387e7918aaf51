"""The leaderboard as a Markdown fragment (for the README) and a self-contained HTML page.

Both render the same column definitions. Every text that comes from an entry is untrusted: it
is HTML-escaped on the page and in the Markdown (which GitHub renders as HTML too), and table
pipes are escaped in Markdown. The page has no external assets and works from file://.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from importlib import resources
from string import Template
from typing import Any, Callable, Sequence

from tabulate import tabulate

from .. import registry as R
from ..evaluation.display import estimate, number
from ..evaluation.scoring import evaluator_info
from ..evaluation.submission import SECTIONS, Submission
from .board import PRIMARY_TEXT, QUESTION_TEXT, TIE_TEXT, Board, Group, Ranked

TIE_MARK = "≈ #1"


@dataclass(frozen=True)
class Column:
    """One table column: plain text (Markdown, and HTML after escaping), a sort value, and
    optionally richer HTML (which must escape every untrusted text itself)."""

    key: str
    header: str
    text: Callable[[Any], str]
    value: Callable[[Any], float | str | None] | None = None  # None: sort by text
    html: Callable[[Any], str] | None = None
    numeric: bool = False


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _entry_html(sub: Submission) -> str:
    name = _esc(sub.name)
    link = f'<a href="{_esc(sub.url)}" rel="noopener">{name}</a>' if sub.url else name
    meta = f"{_esc(sub.model)} · {_esc(', '.join(sub.authors))} · {_esc(sub.pretraining)}"
    return f'{link}<div class="meta">{meta}</div>'


def _parameters(count: int | None) -> str:
    if count is None:
        return "-"
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if count >= size:
            return f"{count / size:.1f}{unit}"
    return str(count)


def _id_to_ood(row: Ranked) -> str:
    return "; ".join(f"{s} {number(v, 3)}" for s, v in row.id_to_ood.items()) or "-"


def _primary_html(row: Ranked) -> str:
    text = f'<span class="value">{number(row.primary)}</span>'
    if row.std is not None:
        text += f" ± {number(row.std)}"
    if row.ci:
        text += f' <span class="ci">[{number(row.ci[0])}, {number(row.ci[1])}]</span>'
    return text


def _versus_leader(row: Ranked) -> str:
    """`-0.030 [-0.037, -0.023]`: the paired difference to the leader (the leader: `-`)."""
    c = row.versus_leader
    if c is None or c.difference is None:
        return "-"
    text = f"{c.difference:+.3f}"
    return text + (f" [{c.ci[0]:+.3f}, {c.ci[1]:+.3f}]" if c.ci else "")


def _gap_closed(gap: tuple[float | None, tuple[float, float] | None]) -> str:
    """`41% [33, 48]`: primary metric over the vote-noise ceiling, paired interval."""
    share, ci = gap
    if share is None:
        return "-"
    return f"{100 * share:.0f}%" + (f" [{100 * ci[0]:.0f}, {100 * ci[1]:.0f}]" if ci else "")


def _subject(row: Ranked | Submission) -> Submission:
    return row.sub if isinstance(row, Ranked) else row


ENTRY = Column("entry", "Entry", lambda row: _subject(row).name,
               html=lambda row: _entry_html(_subject(row)))
TRAINING = Column("training", "Training", lambda row: "+".join(_subject(row).training_surveys))

RANKED_COLUMNS: list[Column] = [
    Column("rank", "Rank", lambda r: str(r.rank), lambda r: r.rank, numeric=True),
    Column("tie", "Tie", lambda r: TIE_MARK if r.tied else "", lambda r: int(r.tied),
           html=lambda r: f'<span class="tie">{TIE_MARK}</span>' if r.tied else "",
           numeric=True),
    ENTRY, TRAINING,
    Column("seeds", "Seeds", lambda r: str(len(r.sub.seeds)), lambda r: len(r.sub.seeds),
           numeric=True),
    Column("primary", "Macro r [95% CI]", lambda r: estimate(r.primary, r.std, r.ci),
           lambda r: r.primary, html=_primary_html, numeric=True),
    Column("versus_leader", "Δ vs #1 [paired 95% CI]", _versus_leader,
           lambda r: None if r.versus_leader is None else r.versus_leader.difference,
           numeric=True),
    Column("gap_closed", "Gap closed", lambda r: _gap_closed(r.gap_closed),
           lambda r: r.gap_closed[0], numeric=True),
    Column("question_macro", "Question-macro r",
           lambda r: estimate(r.question_macro["pearson_r"], None, r.question_macro["ci"]),
           lambda r: r.question_macro["pearson_r"], numeric=True),
    Column("worst", "Worst feature", lambda r: r.worst_feature or "-"),
    Column("mae", "Macro MAE", lambda r: number(r.macro.get("mae")), lambda r: r.macro.get("mae"),
           numeric=True),
    Column("id_to_ood", "ID→OOD Δr", _id_to_ood,
           lambda r: min((v for v in r.id_to_ood.values() if v is not None), default=None),
           numeric=True),
    Column("parameters", "Params", lambda r: _parameters(r.sub.parameters),
           lambda r: r.sub.parameters, numeric=True),
    Column("date", "Date", lambda r: r.sub.date),
    Column("warnings", "Warnings", lambda r: str(r.warnings), lambda r: r.warnings,
           html=lambda r: f'<span class="warn">{r.warnings}</span>' if r.warnings else "0",
           numeric=True),
]

REPORTED_COLUMNS: list[Column] = [
    ENTRY, TRAINING,
    Column("macro", "Macro r (9 features)", lambda s: number(s.reported.macro_pearson_r),
           lambda s: s.reported.macro_pearson_r, numeric=True),
    Column("pooled", "Pooled r", lambda s: number(s.reported.pooled.get("pearson_r")),
           lambda s: s.reported.pooled.get("pearson_r"), numeric=True),
    Column("evaluated_on", "Evaluated on", lambda s: s.reported.evaluated_on),
    Column("source", "Source", lambda s: s.reported.source),
    Column("caveats", "Caveats", lambda s: "; ".join(s.reported.caveats),
           html=lambda s: "<ul>" + "".join(f"<li>{_esc(c)}</li>" for c in s.reported.caveats)
           + "</ul>"),
]


def _feature_columns(r_of: Callable[[Any, str], float | None],
                     ci_of: Callable[[Any, str], Sequence[float] | None],
                     worst_of: Callable[[Any], str | None],
                     n_of: Callable[[Any, str], int | None] = lambda row, f: None
                     ) -> list[Column]:
    """One column per benchmark feature: r, its interval and n on hover, the worst one
    shaded."""
    def cell(feature: str) -> Callable[[Any], str]:
        def render(row: Any) -> str:
            ci, n = ci_of(row, feature), n_of(row, feature)
            notes = ([f"95% CI [{number(ci[0])}, {number(ci[1])}]"] if ci else []) + \
                ([f"n = {n}"] if n is not None else [])
            title = f' title="{"; ".join(notes)}"' if notes else ""
            mark = ' class="worst"' if worst_of(row) == feature else ""
            return f"<span{title}{mark}>{number(r_of(row, feature))}</span>"
        return render
    return [
        Column(f, f, lambda row, f=f: number(r_of(row, f)), lambda row, f=f: r_of(row, f),
               html=cell(f), numeric=True) for f in R.BENCHMARK_FEATURES]


RANKED_FEATURE_COLUMNS = [ENTRY, Column("track", "Track", lambda r: r.sub.track)] + \
    _feature_columns(lambda r, f: r.features[f]["pearson_r"], lambda r, f: r.features[f]["ci"],
                     lambda r: r.worst_feature, lambda r, f: r.features[f]["n"])


REFERENCE_COLUMNS: list[Column] = [
    Column("reference", "Reference", lambda r: r.name),
    Column("primary", "Macro r [95% CI]", lambda r: estimate(r.primary, None, r.ci),
           lambda r: r.primary, numeric=True),
    Column("what", "What it is", lambda r: r.description),
]


@dataclass(frozen=True)
class PairedRow:
    """One entry's paired consistency with one optical survey (`Ranked.paired`)."""

    row: Ranked
    survey: str
    macro: dict[str, Any]
    galaxies: int


def _share(part: str) -> Callable[[PairedRow], str]:
    def text(p: PairedRow) -> str:
        value, mse = p.macro.get(part), p.macro.get("mse")
        return "-" if value is None or not mse else f"{100 * value / mse:.0f}%"
    return text


PAIRED_COLUMNS: list[Column] = [
    Column("entry", "Entry", lambda p: p.row.sub.name, html=lambda p: _entry_html(p.row.sub)),
    Column("view", "Optical view", lambda p: f"{p.survey}/paired_test"),
    Column("galaxies", "Galaxies", lambda p: str(p.galaxies), lambda p: p.galaxies, numeric=True),
    Column("views_r", "r between views", lambda p: number(p.macro.get("views_pearson_r")),
           lambda p: p.macro.get("views_pearson_r"), numeric=True),
    Column("change", "Mean abs change", lambda p: number(p.macro.get("mean_abs_change")),
           lambda p: p.macro.get("mean_abs_change"), numeric=True),
    Column("mse", "UKIDSS MSE", lambda p: number(p.macro.get("mse")), lambda p: p.macro.get("mse"),
           numeric=True),
    Column("optical_error", "from optical error", _share("optical_error")),
    Column("label_shift", "from label shift", _share("label_shift")),
    Column("view_change", "from view change", _share("view_change")),
]
PAIRED_TEXT = ("Entries that also predict the optical views of the UKIDSS test galaxies: the r "
               "and mean absolute change between their two predictions of each galaxy, and their "
               "UKIDSS MSE split exactly into its optical-view error, the label shift between "
               "the surveys' volunteers and their change of prediction between views (feature "
               "means; a part below 0 cancels another).")


def paired_view(group: Group) -> list[PairedRow]:
    return [PairedRow(r, survey, p["macro"], p["galaxies"])
            for rows in group.tracks.values() for r in rows for survey, p in r.paired.items()]


def _n_line(group: Group) -> str:
    """Galaxies scored per feature (the same for every entry of a group: one truth)."""
    first = next(iter(group.tracks.values()))[0]
    return "Galaxies scored per feature: " + ", ".join(
        f"{f} {first.features[f]['n']}" for f in R.BENCHMARK_FEATURES) + "."
REPORTED_FEATURE_COLUMNS = [ENTRY] + _feature_columns(
    lambda s, f: s.reported.pearson_r.get(f), lambda s, f: None,
    lambda s: min(s.reported.pearson_r, key=s.reported.pearson_r.get, default=None))


# --- Markdown ------------------------------------------------------------------------------

_MD_PUNCTUATION = re.compile(r"([\\`*_\[\]()!#~|{}])")
_URL_SCHEME = re.compile(r"(?i)\b(https?|ftp|mailto|data|javascript)(:)")


def _md(text: str) -> str:
    """Markdown cell text that renders as the same plain text: HTML special characters as
    entities (GitHub renders inline HTML), Markdown punctuation backslash-escaped (no link,
    image, emphasis or code), and URL schemes broken so nothing is auto-linked."""
    text = html.escape(str(text), quote=False)
    text = _MD_PUNCTUATION.sub(r"\\\1", text)
    text = _URL_SCHEME.sub(r"\1&#58;", text).replace("www.", "www&#46;")
    return text.replace("\n", " ")


def _md_table(columns: list[Column], rows: Sequence[Any]) -> str:
    return tabulate([[_md(c.text(row)) for c in columns] for row in rows],
                    headers=[c.header for c in columns], tablefmt="github",
                    disable_numparse=True)


def _group_title(group: Group) -> str:
    return f"Dataset: {', '.join(group.names)} (truth {group.fingerprint[:19]}…)"


def markdown_table(board: Board) -> str:
    """The README fragment: one ranked table per dataset and track, then reported entries."""
    parts = ["<!-- generated by `sommelier leaderboard`; do not edit by hand -->",
             f"Ranked by the {PRIMARY_TEXT} (95% bootstrap interval; ± std over seeds). "
             f"{TIE_MARK}: {TIE_TEXT}. Question-macro r: the {QUESTION_TEXT}."]
    for group in board.groups:
        parts.append(f"#### {_md(_group_title(group))}")
        parts.append(_md(_n_line(group)))
        for track, rows in group.tracks.items():
            parts.append(f"**{track.capitalize()} track** ({_md(_track_text(track))})")
            parts.append(_md_table(RANKED_COLUMNS, rows))
        if group.references:
            parts.append("**Reference rows** (the same truth and bootstrap draws)")
            parts.append(_md_table(REFERENCE_COLUMNS, group.references))
        if paired := paired_view(group):
            parts.append(f"**Paired consistency** ({_md(PAIRED_TEXT)})")
            parts.append(_md_table(PAIRED_COLUMNS, paired))
    if not board.groups:
        parts.append("No verified entries yet.")
    parts.append("#### Reported results (as published; not verified, never ranked)")
    if not board.reported:
        parts.append("No reported entries.")
    else:
        short = [c for c in REPORTED_COLUMNS if c.key not in ("source", "caveats")]
        parts.append(_md_table(short, board.reported))
        parts.append("\n".join(f"- **{_md(s.name)}** ({_md(s.reported.source)}). Caveats: "
                               f"{_md(' '.join(s.reported.caveats))}" for s in board.reported))
    return "\n\n".join(parts) + "\n"


def _track_text(track: str) -> str:
    return next(t.description for t in SECTIONS if t.name == track)


# --- HTML --------------------------------------------------------------------------------

def _html_table(columns: list[Column], rows: Sequence[Any], row_attrs: Callable[[Any], dict],
                **attrs: str) -> str:
    head = "".join(
        f'<th data-col="{c.key}" data-type="{"number" if c.numeric else "text"}" '
        f'aria-sort="none"><button type="button">{_esc(c.header)}</button></th>'
        for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            value = c.value(row) if c.value else c.text(row)
            content = c.html(row) if c.html else _esc(c.text(row))
            cls = ' class="num"' if c.numeric else ""
            shown = "" if value is None else _esc(value)
            cells.append(f'<td data-col="{c.key}" data-value="{shown}"{cls}>{content}</td>')
        tr_attrs = "".join(f' data-{k}="{_esc(v)}"' for k, v in row_attrs(row).items())
        body.append(f"<tr{tr_attrs}>{''.join(cells)}</tr>")
    table_attrs = "".join(f' data-{k}="{_esc(v)}"' for k, v in attrs.items())
    return (f'<div class="table-wrap"><table class="sortable"{table_attrs}>'
            f'<thead><tr>{head}</tr></thead>'
            f'<tbody>\n{chr(10).join(body)}\n</tbody></table></div>')


def _row_attrs(row: Ranked) -> dict[str, Any]:
    return {"slug": row.sub.slug, "status": row.sub.status, "track": row.sub.track,
            "rank": row.rank, "tied": str(row.tied).lower()}


def _reported_attrs(sub: Submission) -> dict[str, Any]:
    return {"slug": sub.slug, "status": sub.status, "track": sub.track}


def _pairwise_html(group: Group) -> str:
    """Row minus column, primary metric, with the paired 95% interval: every two entries."""
    slugs = list(dict.fromkeys([a for a, _, _ in group.pairwise] +
                               [b for _, b, _ in group.pairwise]))
    cells = {(a, b): c for a, b, c in group.pairwise}

    def cell(a: str, b: str) -> str:
        if a == b:
            return "<td>·</td>"
        c = cells[(a, b)] if (a, b) in cells else cells[(b, a)].reversed()
        if c.difference is None:
            return "<td>-</td>"
        ci = "" if c.ci is None else f' <span class="ci">[{c.ci[0]:+.3f}, {c.ci[1]:+.3f}]</span>'
        mark = ' class="tie"' if c.tied else ""
        return f"<td{mark}>{c.difference:+.3f}{ci}</td>"

    head = "".join(f"<th>{_esc(s)}</th>" for s in slugs)
    body = "".join(f"<tr><th>{_esc(a)}</th>{''.join(cell(a, b) for b in slugs)}</tr>"
                   for a in slugs)
    return (f'<details><summary>Paired differences (row minus column, {_esc(PRIMARY_TEXT)}; '
            f'95% interval over shared bootstrap draws)</summary><div class="table-wrap">'
            f'<table class="pairwise" data-dataset="{_esc(group.fingerprint)}"><thead><tr>'
            f'<th></th>{head}</tr></thead><tbody>{body}</tbody></table></div></details>')


def html_page(board: Board, plot_png: bytes) -> str:
    """The self-contained page (template `templates/leaderboard.html`)."""
    ranked, features = [], []
    for group in board.groups:
        title = f'<h3 data-dataset="{_esc(group.fingerprint)}">{_esc(_group_title(group))}</h3>'
        ranked.append(title)
        features.append(title)
        for track, rows in group.tracks.items():
            ranked.append(f'<h4 data-track="{_esc(track)}">{_esc(track.capitalize())} track '
                          f'<span class="note">{_esc(_track_text(track))}</span></h4>')
            ranked.append(_html_table(RANKED_COLUMNS, rows, _row_attrs, kind="ranked",
                                      track=track, dataset=group.fingerprint))
        features.append(_html_table(RANKED_FEATURE_COLUMNS,
                                    [r for rows in group.tracks.values() for r in rows],
                                    _row_attrs, kind="features", dataset=group.fingerprint))
        ranked.append(f'<p class="note">{_esc(_n_line(group))}</p>')
        if group.references:
            ranked.append('<h4>Reference rows <span class="note">the same truth and bootstrap '
                          'draws</span></h4>')
            ranked.append(_html_table(REFERENCE_COLUMNS, group.references,
                                      lambda r: {"reference": r.key}, kind="references",
                                      dataset=group.fingerprint))
        if paired := paired_view(group):
            ranked.append(f'<h4>Paired consistency</h4><p class="note">{_esc(PAIRED_TEXT)}</p>')
            ranked.append(_html_table(PAIRED_COLUMNS, paired,
                                      lambda p: {"slug": p.row.sub.slug, "view": p.survey},
                                      kind="paired", dataset=group.fingerprint))
        if group.pairwise:
            ranked.append(_pairwise_html(group))
    if board.reported:
        features.append("<h3>Reported (as published)</h3>")
        features.append(_html_table(REPORTED_FEATURE_COLUMNS, board.reported, _reported_attrs,
                                    kind="reported-features"))
    template = Template(resources.files(__package__).joinpath("templates/leaderboard.html")
                        .read_text(encoding="utf-8"))
    return template.substitute(
        primary=_esc(PRIMARY_TEXT), tie=_esc(TIE_TEXT),
        tracks=_esc("; ".join(f"{t.name}: {t.description}" for t in SECTIONS)),
        ranked="\n".join(ranked) or '<p class="note" id="no-ranked">No verified entries yet.</p>',
        features="\n".join(features),
        plot=base64.b64encode(plot_png).decode("ascii"),
        reported=_html_table(REPORTED_COLUMNS, board.reported, _reported_attrs, kind="reported")
        if board.reported else '<p class="note">No reported entries.</p>',
        generator=_esc("{name} {version}".format(**evaluator_info())))
