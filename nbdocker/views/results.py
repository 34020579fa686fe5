"""Result objects: the data a command produced, and its rendering as a mimebundle.

A result keeps the data (`.rows`, `.attrs`, `.image_id` …) for Python and graders; `view()` turns it
into a view model; `_repr_mimebundle_` renders that model as text/plain, escaped text/html and, in
a widget-capable kernel, the interactive widget.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nbdocker.views import render as views
from nbdocker.views.display import WIDGET_VIEW_MIME, Display

SNAPSHOT_ROWS = 200  # rows of a table's text and HTML snapshots beside its widget


def mimebundle(view: views.View, include: Iterable[str] | None = None,
               exclude: Iterable[str] | None = None,
               actions: dict[str, Any] | None = None, where: str | None = None) -> dict[str, Any]:
    """text/plain always; text/html unless mode is text; the widget in auto/widget mode.

    `actions` are what the widget may do on the user's request (an image list's inspect, history,
    remove), bound by the command that made the result to the engine it used; `where` names that
    engine in the widget's header.
    """
    bundle: dict[str, Any] = {}
    wanted = (not include or WIDGET_VIEW_MIME in set(include)) and WIDGET_VIEW_MIME not in set(exclude or ())
    if Display.mode in ("auto", "widget") and wanted:  # a widget nobody shows is never made
        from nbdocker.views import widgets  # only this module imports anywidget

        bundle.update(widgets.widget_bundle(view, required=Display.mode == "widget", actions=actions,
                                            where=where))
    # Beside a widget the static forms are snapshots (exports, frontends without widgets).
    shown = views.snapshot(view, SNAPSHOT_ROWS) if bundle else view
    bundle["text/plain"] = views.render_text(shown)
    if Display.mode != "text":
        bundle["text/html"] = views.render_html(shown)
    if include:
        bundle = {k: v for k, v in bundle.items() if k in set(include)}
    if exclude:
        bundle = {k: v for k, v in bundle.items() if k not in set(exclude)}
    return bundle


class Result:
    """Base of every command result."""

    # What its widget may do, set by the command that made it (see `mimebundle`).
    actions: dict[str, Any] | None = None
    # The engine it came from (set by the magics), named in its widget's header.
    where: str | None = None

    def view(self) -> views.View:
        raise NotImplementedError

    def _repr_mimebundle_(self, include: Iterable[str] | None = None,
                          exclude: Iterable[str] | None = None) -> dict[str, Any]:
        return mimebundle(self.view(), include, exclude, self.actions, self.where)

    def __str__(self) -> str:
        return views.render_text(self.view())

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>\n{self}"


class IdList(list):
    """A list of ids (`ids = %docker images -q`), shown as the Python list it is.

    (Shown one per line, like the CLI, a list of one id looked like a bare string to learners.)
    """

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": list.__repr__(self)}

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # IPython's pretty printer has its own rule for lists, ahead of the mimebundle's text.
        printer.text(list.__repr__(self))

    def __repr__(self) -> str:
        return f"IdList({list.__repr__(self)})"
