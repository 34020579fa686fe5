"""View models and their static renderings: deterministic text and escaped, script-free HTML.

Every result turns itself into one of these plain view models; the renderers here (and the widget
renderer in `widgets.py`) consume only view models, never the engine. Every string that came from
an image, a registry or a build goes through `html.escape` here: that is the one place it happens.
"""
from __future__ import annotations

import html
import dataclasses
import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any

CSS = """<style>
.nbdocker{font-family:var(--jp-code-font-family,monospace);font-size:12px}
.nbdocker table{border-collapse:collapse}
.nbdocker th,.nbdocker td{padding:2px 10px 2px 0;text-align:left;vertical-align:top;white-space:pre-wrap}
.nbdocker th{border-bottom:1px solid #bbb}
.nbdocker td.num,.nbdocker th.num{text-align:right}
.nbdocker .nbd-title{font-weight:bold;margin:4px 0}
.nbdocker .nbd-footer,.nbdocker .nbd-muted{color:#777}
.nbdocker .nbd-bar{display:inline-block;height:8px;background:#4a90d9;vertical-align:middle}
.nbdocker .nbd-error{color:#b00020;white-space:pre-wrap}
.nbdocker details{margin-left:14px}
.nbdocker summary{cursor:pointer}
.nbdocker .nbd-state{display:inline-block;min-width:56px}
.nbdocker .nbd-state-failed{color:#b00020}.nbdocker .nbd-state-cached{color:#777}
.nbdocker .nbd-state-done{color:#1a7f37}.nbdocker .nbd-state-running{color:#9a6700}
.nbdocker pre{margin:2px 0 6px 14px;max-height:20em;overflow:auto}
.jp-RenderedHTMLCommon .nbdocker th,.jp-RenderedHTMLCommon .nbdocker td{text-align:left;white-space:pre-wrap;padding:2px 10px 2px 0;vertical-align:top}
.jp-RenderedHTMLCommon .nbdocker td.num,.jp-RenderedHTMLCommon .nbdocker th.num{text-align:right}
</style>"""


#: Characters of one log line any view shows; the rest stays on disk (a RUN can print 10 MB lines).
LINE_SHOWN_CHARS = 2000


def truncate_line(text: str, length: int | None = None) -> str:
    """`text` cut to LINE_SHOWN_CHARS, saying how many more characters the whole line has.

    `length` is the whole line's length when `text` is only its beginning.
    """
    length = len(text) if length is None else length
    if length <= LINE_SHOWN_CHARS:
        return text
    return (f"{text[:LINE_SHOWN_CHARS]}… ({length - LINE_SHOWN_CHARS:,} more characters; "
            "the full log is on disk: result.log)")


def esc(value: Any) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


# ---------------------------------------------------------------- view models


@dataclass
class Column:
    """A table column: `key` into each row, a title, and how to align and sort it."""

    key: str
    title: str
    numeric: bool = False
    sort_key: str | None = None  # the row field holding a raw value to sort by (size in bytes …)


@dataclass
class TableView:
    """Rows under columns, like the docker CLI's tables (images, history, ps …)."""

    kind: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    title: str | None = None
    footer: str | None = None
    empty: str = ""
    bar: str | None = None  # key of a numeric row field drawn as a size bar (history)


@dataclass
class LinesView:
    """Plain report lines (`Untagged: …`, `Deleted: …`), each with an optional level."""

    kind: str
    lines: list[tuple[str, str]]  # (level, text): level is "info", "ok", "error"
    title: str | None = None


@dataclass
class InspectView:
    """One or more inspected objects: a summary card each, above the whole JSON."""

    kind: str
    items: list[dict[str, Any]]  # the engine's JSON, whole
    summaries: list[list[tuple[str, str]]] = field(default_factory=list)


@dataclass
class StepView:
    """One build step as shown: its state, time, Dockerfile lines and the tail of its log."""

    key: str
    name: str
    state: str
    seconds: float | None
    lines: str  # "3" or "3-5", "" when the step maps to no Dockerfile line
    source: str  # the Dockerfile text of those lines
    log_tail: list[tuple[int, str]]  # (stream, text)
    log_lines: int
    error: str | None = None
    internal: bool = False


@dataclass
class BuildView:
    """A build, running or finished: steps, counts and the outcome."""

    kind: str
    builder: str
    state: str  # "running", "done", "failed", "cancelled"
    steps: list[StepView]
    done: int
    total: int
    cached: int
    seconds: float
    image_id: str | None = None
    tags: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)


View = TableView | LinesView | InspectView | BuildView


# ---------------------------------------------------------------- text


def render_text(view: View) -> str:
    """The deterministic plain-text form (terminal IPython, text/plain)."""
    if isinstance(view, TableView):
        return table_text(view)
    if isinstance(view, LinesView):
        head = [view.title] if view.title else []
        return "\n".join(head + [text for _, text in view.lines])
    if isinstance(view, InspectView):
        return json.dumps(view.items, indent=4, ensure_ascii=False)
    return build_text(view)


def display_width(text: str) -> int:
    """Terminal columns a string takes (wide East Asian characters take two)."""
    if text.isascii():  # the common case, and 2,000-row tables have ~20,000 cells
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def snapshot(view: View, rows: int) -> View:
    """A table cut to its first `rows` rows, saying how many more the interactive view holds.

    Beside a widget, the text and HTML forms are snapshots for exports and frontends without
    widgets: a 2,000-row listing need not travel three times in full.
    """
    if not isinstance(view, TableView) or len(view.rows) <= rows:
        return view
    more = f"… and {len(view.rows) - rows:,} more rows (the interactive view and the result's data have them all)"
    footer = f"{view.footer}\n{more}" if view.footer else more
    return dataclasses.replace(view, rows=view.rows[:rows], footer=footer)


def table_text(view: TableView) -> str:
    """Columns laid out like the docker CLI's tabwriter (minimum width 10, padding 3)."""
    if not view.rows and view.empty:
        return view.empty
    cells = [[c.title for c in view.columns]]
    cells += [[str(row.get(c.key, "")) for c in view.columns] for row in view.rows]
    widths = [max(10, max(display_width(r[i]) for r in cells) + 3) for i in range(len(view.columns))]
    lines = []
    for r in cells:
        padded = [r[i] + " " * (widths[i] - display_width(r[i])) if i < len(r) - 1 else r[i]
                  for i in range(len(r))]
        lines.append("".join(padded).rstrip())
    out = ([view.title] if view.title else []) + lines
    if view.footer:
        out.append(view.footer)
    return "\n".join(out)


def build_text(view: BuildView) -> str:
    """A build as plain text: one line per step, the failing step's log, the outcome."""
    lines = [f"{view.builder} build: {view.state}  {view.done}/{view.total} steps"
             + (f", {view.cached} cached" if view.cached else "") + f"  {view.seconds:.1f}s"]
    for step in view.steps:
        if step.internal:
            continue
        where = f"line {step.lines}: " if step.lines else ""
        took = f" {step.seconds:.1f}s" if step.seconds is not None else ""
        lines.append(f"  {step.state.upper():8} {where}{step.name}{took}")
        if step.state in ("failed", "running") and step.log_tail:
            lines += [f"      {'!' if s == 2 else '|'} {t}" for s, t in step.log_tail[-10:]]
        if step.error:
            lines.append(f"      error: {step.error}")
    lines += [f"  warning: {w}" for w in view.warnings]
    lines += [f"  {n}" for n in view.notes]
    if view.image_id:
        lines.append(f"image {view.image_id}" + (f"  tagged {', '.join(view.tags)}" if view.tags else ""))
    if view.error:
        lines.append(f"error: {view.error}")
    return "\n".join(lines)


# ---------------------------------------------------------------- HTML


def render_html(view: View) -> str:
    """The escaped, script-free HTML snapshot (nbconvert, GitHub, frontends without widgets)."""
    if isinstance(view, TableView):
        body = table_html(view)
    elif isinstance(view, LinesView):
        body = lines_html(view)
    elif isinstance(view, InspectView):
        body = inspect_html(view)
    else:
        body = build_html(view)
    return f'{CSS}<div class="nbdocker nbd-{esc(view.kind)}">{body}</div>'


def table_html(view: TableView) -> str:
    """A static table; a size bar per row when the view has one."""
    parts = []
    if view.title:
        parts.append(f'<div class="nbd-title">{esc(view.title)}</div>')
    if not view.rows and view.empty:
        parts.append(f'<div class="nbd-muted">{esc(view.empty)}</div>')
        return "".join(parts)
    largest = max((row.get(view.bar) or 0 for row in view.rows), default=0) if view.bar else 0
    head = "".join(
        f'<th class="{"num" if c.numeric else ""}">{esc(c.title)}</th>' for c in view.columns
    )
    if view.bar:
        head += "<th></th>"
    rows = []
    for row in view.rows:
        cells = "".join(
            f'<td class="{"num" if c.numeric else ""}"{_title_attr(row, c.key)}>{esc(row.get(c.key, ""))}</td>'
            for c in view.columns
        )
        if view.bar:
            width = round(120 * (row.get(view.bar) or 0) / largest) if largest else 0
            cells += f'<td><span class="nbd-bar" style="width:{int(width)}px"></span></td>'
        rows.append(f"<tr>{cells}</tr>")
    parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    if view.footer:
        parts.append(f'<div class="nbd-footer">{esc(view.footer)}</div>')
    return "".join(parts)


def _title_attr(row: dict[str, Any], key: str) -> str:
    tip = row.get(f"{key}__title")
    return f' title="{esc(tip)}"' if tip else ""


def lines_html(view: LinesView) -> str:
    """Report lines, errors marked."""
    title = f'<div class="nbd-title">{esc(view.title)}</div>' if view.title else ""
    body = "".join(
        f'<div class="{"nbd-error" if level == "error" else "nbd-line"}">{esc(text)}</div>'
        for level, text in view.lines
    )
    return title + body


def inspect_html(view: InspectView) -> str:
    """A summary card per object, then the JSON as nested <details> (collapsible, no script)."""
    parts = []
    for i, item in enumerate(view.items):
        summary = view.summaries[i] if i < len(view.summaries) else []
        if summary:
            rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in summary)
            parts.append(f'<table class="nbd-summary">{rows}</table>')
        parts.append(f'<details class="nbd-tree"><summary>JSON</summary>{json_tree_html(item)}</details>')
    return "".join(parts)


def json_tree_html(value: Any, depth: int = 0) -> str:
    """A JSON value as nested <details>; scalars as escaped JSON text."""
    if isinstance(value, dict) and value:
        items = "".join(_tree_item(k, v, depth) for k, v in value.items())
        return f"<div>{items}</div>"
    if isinstance(value, list) and value:
        items = "".join(_tree_item(str(i), v, depth) for i, v in enumerate(value))
        return f"<div>{items}</div>"
    return f"<code>{esc(json.dumps(value, ensure_ascii=False))}</code>"


def _tree_item(key: str, value: Any, depth: int) -> str:
    if isinstance(value, (dict, list)) and value:
        count = f"{len(value)} {'keys' if isinstance(value, dict) else 'items'}"
        opened = " open" if depth < 1 else ""
        return (f"<details{opened}><summary>{esc(key)} <span class=\"nbd-muted\">{count}</span>"
                f"</summary>{json_tree_html(value, depth + 1)}</details>")
    return f"<div>{esc(key)}: {json_tree_html(value, depth + 1)}</div>"


def build_html(view: BuildView) -> str:
    """Steps with state, time, Dockerfile lines; logs of running and failed steps open."""
    head = (f'<div class="nbd-title" data-state="{esc(view.state)}">{esc(view.builder)} build: '
            f"{esc(view.state)} — {view.done}/{view.total} steps"
            + (f", {view.cached} cached" if view.cached else "") + f", {view.seconds:.1f}s</div>")
    rows = []
    for step in view.steps:
        if step.internal:
            continue
        took = f"{step.seconds:.1f}s" if step.seconds is not None else ""
        line = f"line {step.lines}" if step.lines else ""
        log = ""
        if step.log_tail:
            opened = " open" if step.state in ("failed", "running") else ""
            shown = "\n".join(t for _, t in step.log_tail)
            more = (f'<div class="nbd-muted">… {step.log_lines - len(step.log_tail)} earlier lines '
                    "in the result's log</div>") if step.log_lines > len(step.log_tail) else ""
            log = (f"<details{opened}><summary>log ({step.log_lines} lines)</summary>{more}"
                   f"<pre>{esc(shown)}</pre></details>")
        error = f'<div class="nbd-error">{esc(step.error)}</div>' if step.error else ""
        rows.append(
            f'<tr><td><span class="nbd-state nbd-state-{esc(step.state)}">{esc(step.state)}</span></td>'
            f'<td class="nbd-muted">{esc(line)}</td><td>{esc(step.name)}{error}{log}</td>'
            f'<td class="num">{esc(took)}</td></tr>'
        )
    parts = [head, f"<table>{''.join(rows)}</table>"]
    parts += [f'<div class="nbd-muted">warning: {esc(w)}</div>' for w in view.warnings]
    parts += [f'<div class="nbd-muted">{esc(n)}</div>' for n in view.notes]
    if view.image_id:
        tags = f" tagged {', '.join(view.tags)}" if view.tags else ""
        parts.append(f"<div>image {esc(view.image_id)}{esc(tags)}</div>")
    if view.error:
        parts.append(f'<div class="nbd-error">{esc(view.error)}</div>')
    return "".join(parts)
