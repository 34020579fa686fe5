"""The layers explorer's view model and its static forms: text, and escaped, script-free HTML.

One view model feeds three renderings: the widget (layer list, virtualised file tree, wasted
table), the static HTML (the layer table, the top wasted files, each layer's biggest changes) and
the text. Every path, link target and command came from an image: it is escaped here.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbdocker.units import human_size
from nbdocker.views import render as views
from nbdocker.views.results import WIDGET_VIEW_MIME, Display

if TYPE_CHECKING:
    from nbdocker.layers.analysis import Analysis

TOP_WASTED = 10
TOP_CHANGES = 8
SIGNS = {"added": "+", "modified": "~", "unchanged": "=", "removed": "-"}


@dataclass
class LayersView:
    """What the explorer shows: summary numbers, layer rows, wasted rows, and every change."""

    kind: str
    title: str
    summary: list[tuple[str, str]]
    layers: list[dict[str, Any]]
    wasted: list[dict[str, Any]]
    # Per layer: [path, action, size, kind, link] for each change (the widget's file tree).
    changes: list[list[list[Any]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def layers_view(analysis: Analysis) -> LayersView:
    """The view model of an analysis."""
    top = max((l.size for l in analysis.layers), default=0)
    layers = []
    for l in analysis.layers:
        counts = {a: 0 for a in SIGNS}
        for c in l.changes:
            counts[c.action] += 1
        layers.append({"index": l.index, "line": l.line, "command": l.command, "size": human_size(l.size),
                       "size_bytes": l.size, "bar": l.size / top if top else 0.0,
                       "added": counts["added"], "modified": counts["modified"],
                       "unchanged": counts["unchanged"], "removed": counts["removed"],
                       "source": getattr(l.instruction, "original", "") or ""})
    wasted = [{"path": r.path, "count": r.count, "total": human_size(r.cumulative),
               "total_bytes": r.cumulative, "reclaimable": human_size(r.reclaimable),
               "reclaimable_bytes": r.reclaimable, "layers": r.layers,
               "lines": ", ".join(analysis.lines_of(r.layers))} for r in analysis.wasted_files()]
    summary = [("image", analysis.image), ("source", analysis.source),
               ("layers", str(len(analysis.layers))), ("size", human_size(analysis.size_bytes)),
               ("efficiency", f"{analysis.efficiency * 100:.2f} %"),
               ("wasted (dive)", human_size(analysis.wasted_bytes)),
               ("reclaimable", human_size(analysis.reclaimable_bytes)),
               ("user wasted", f"{analysis.user_wasted_percent * 100:.2f} %")]
    changes = [[[c.path, c.action, c.size, c.kind, c.link] for c in l.changes] for l in analysis.layers]
    return LayersView("layers", f"layers of {analysis.image}", summary, layers, wasted, changes,
                      list(analysis.notes))


def _layer_table(view: LayersView) -> views.TableView:
    columns = [views.Column("index", "#", numeric=True), views.Column("line", "LINE"),
               views.Column("size", "SIZE", numeric=True), views.Column("added", "ADDED", numeric=True),
               views.Column("modified", "MODIFIED", numeric=True),
               views.Column("removed", "REMOVED", numeric=True), views.Column("command", "COMMAND")]
    rows = [{**row, "command": _short(row["command"], 60), "command__title": row["command"]}
            for row in view.layers]
    return views.TableView("layers", columns, rows, bar="size_bytes")


def _wasted_table(view: LayersView) -> views.TableView:
    columns = [views.Column("count", "COUNT", numeric=True), views.Column("total", "TOTAL", numeric=True),
               views.Column("reclaimable", "RECLAIMABLE", numeric=True), views.Column("path", "PATH"),
               views.Column("lines", "WRITTEN BY")]
    shown = view.wasted[:TOP_WASTED]
    more = len(view.wasted) - len(shown)
    return views.TableView("wasted", columns, shown, title="wasted space (paths written by more than one layer)",
                           footer=f"… and {more} more" if more > 0 else None,
                           empty="no wasted space: no path is written by two layers")


def top_changes(changes: list[list[Any]], n: int = TOP_CHANGES) -> list[list[Any]]:
    """A layer's biggest changes (removals count the bytes they hid)."""
    return sorted(changes, key=lambda c: (-c[2], c[0]))[:n]


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _change_text(change: list[Any]) -> str:
    path, action, size, kind, link = change
    arrow = f" -> {link}" if link else ""
    return f"{SIGNS[action]} {human_size(size):>8}  {path}{arrow}"


def layers_text(view: LayersView) -> str:
    """The text form: summary, layer table, top wasted files, each layer's biggest changes."""
    out = [view.title, "  ".join(f"{k}: {v}" for k, v in view.summary[1:]), ""]
    out.append(views.table_text(_layer_table(view)))
    out += ["", views.table_text(_wasted_table(view)), ""]
    for row, changes in zip(view.layers, view.changes):
        if not changes:
            continue
        label = f"line {row['line']}" if row["line"] else _short(row["command"], 50) or "base"
        out.append(f"layer {row['index']} ({label}): {len(changes)} changes, biggest:")
        out += [f"  {_change_text(c)}" for c in top_changes(changes)]
    out += [f"note: {n}" for n in view.notes]
    return "\n".join(out).rstrip()


def layers_html(view: LayersView) -> str:
    """The static HTML form (nbconvert, GitHub): the same content as the text, escaped."""
    esc = views.esc
    parts = [f'<div class="nbd-title">{esc(view.title)}</div>',
             '<table class="nbd-summary"><tr>' + "".join(
                 f"<th>{esc(k)}</th><td>{esc(v)}</td>" for k, v in view.summary[1:]) + "</tr></table>",
             views.table_html(_layer_table(view)), views.table_html(_wasted_table(view))]
    for row, changes in zip(view.layers, view.changes):
        if not changes:
            continue
        label = f"line {row['line']}" if row["line"] else _short(row["command"], 50) or "base"
        items = "".join(f"<tr><td>{esc(SIGNS[c[1]])}</td><td class=\"num\">{esc(human_size(c[2]))}</td>"
                        f"<td>{esc(c[0])}{esc(' -> ' + c[4]) if c[4] else ''}</td></tr>"
                        for c in top_changes(changes))
        parts.append(f"<details><summary>layer {esc(row['index'])} ({esc(label)}): {len(changes)} changes"
                     f"</summary><table>{items}</table></details>")
    parts += [f'<div class="nbd-muted">{esc(n)}</div>' for n in view.notes]
    return f'{views.CSS}<div class="nbdocker nbd-layers">{"".join(parts)}</div>'


def mimebundle(view: LayersView, include: Iterable[str] | None = None,
               exclude: Iterable[str] | None = None) -> dict[str, Any]:
    """text/plain always, text/html unless the display mode is text, the widget where one shows."""
    bundle: dict[str, Any] = {"text/plain": layers_text(view)}
    if Display.mode != "text":
        bundle["text/html"] = layers_html(view)
    wanted = (not include or WIDGET_VIEW_MIME in set(include)) and WIDGET_VIEW_MIME not in set(exclude or ())
    if Display.mode in ("auto", "widget") and wanted:
        from nbdocker.views import widgets  # only that module imports anywidget; loaded when a widget shows

        bundle.update(widgets.widget_bundle(view, required=Display.mode == "widget"))
    if include:
        bundle = {k: v for k, v in bundle.items() if k in set(include)}
    if exclude:
        bundle = {k: v for k, v in bundle.items() if k not in set(exclude)}
    return bundle
