"""Interactive views (anywidget): the only module that imports anywidget/ipywidgets.

Each view model gets one widget: a Python class with synced traits and one small ES module of ours
(`nbdocker/views/static/<view>.js`, no framework, no CDN) plus one stylesheet. Sorting, filtering and
collapsing run in the browser, so they work while the kernel is busy; inspect, history, remove and
"show the whole log" are messages to the kernel, answered when it is idle.

Two facts shape the state we sync:

* A widget's state is saved in the notebook (nbclient always saves it; JupyterLab when asked) and
  nbconvert embeds it in the HTML page inside `<script type="application/vnd.jupyter.widget-state
  +json">`, escaping only `/`. An image label such as `<!--<script>` would still change how the
  page is parsed, so every trait holding data is JSON *text* with `<`, `>` and `&` written as
  `\\u003c`, `\\u003e`, `\\u0026`: no markup character from an image reaches a saved page.
* Messages sent before the browser has loaded a widget's module are dropped. So a running build
  sends what changed (steps, new log lines) as small messages and keeps its whole step list and
  header in traits too (the list re-sent at most every few seconds): a view that opens late, or
  missed a message, catches up; missed log lines show as "earlier lines".
"""
from __future__ import annotations

import dataclasses
import json
import re
import secrets
import time
from collections import deque
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from nbdocker.errors import CommandFailed, NbDockerError
from nbdocker.views import render as views
from nbdocker.views.display import WIDGET_VIEW_MIME, Display, in_kernel

STATIC = Path(__file__).parent / "static"
LOG_PAGE_LINES = 500  # lines per page when a view asks for a step's whole log
STEPS_SYNC_SECONDS = 3.0  # how often a running build re-sends its whole step list (for late views)
KEEP_RESULTS = 20  # finished builds whose whole logs stay reachable from their widget

# ---------------------------------------------------------------- the ES modules

_IMPORT = re.compile(r'^import \{[^}]*\} from "\./([\w-]+)\.js";\n', re.M)
_DEFAULT_EXPORT = re.compile(r"^export default .*;\n", re.M)


def es_module(name: str) -> str:
    """`static/<name>.js` with its imports of our other modules inlined, each once.

    anywidget loads a module from a string, where relative imports cannot resolve; the files
    stay plain ES modules (the benchmark page imports them as they are).
    """
    seen = {name}

    def inline(module: str, top: bool) -> str:
        text = (STATIC / f"{module}.js").read_text(encoding="utf-8")

        def replace(match: re.Match[str]) -> str:
            dependency = match.group(1)
            if dependency in seen:
                return ""
            seen.add(dependency)
            return inline(dependency, False)

        text = _IMPORT.sub(replace, text)
        return text if top else _DEFAULT_EXPORT.sub("", text)

    return inline(name, True)


def stylesheet() -> str:
    """The widgets' CSS."""
    return (STATIC / "nbdocker.css").read_text(encoding="utf-8")


def state_json(value: Any) -> str:
    """JSON text for a synced trait, with `<`, `>`, `&` (and U+2028/9) as \\u escapes.

    Only strings can hold those characters in JSON, so the escapes keep it valid JSON; the
    browser's JSON.parse gives the characters back, to be inserted as text.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


def view_state(view: Any) -> dict[str, Any]:
    """A view model as plain JSON-able data (rows are shared, not copied: the JSON text is made
    from them at once)."""
    return {f.name: _plain(getattr(view, f.name)) for f in dataclasses.fields(view)}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return view_state(value)
    if isinstance(value, (list, tuple)) and value and dataclasses.is_dataclass(value[0]):
        return [_plain(v) for v in value]
    return value


# ---------------------------------------------------------------- the widgets


class ViewWidget(anywidget.AnyWidget):
    """Base of nbdocker's widgets: the shared stylesheet, and the engine a view came from."""

    _css = stylesheet()
    where = traitlets.Unicode("").tag(sync=True)  # shown as a small header line


class DataWidget(ViewWidget):
    """A widget whose whole view model travels as one escaped JSON trait, `data`."""

    data = traitlets.Unicode("").tag(sync=True)

    def __init__(self, view: Any, **kwargs: Any) -> None:
        super().__init__(data=state_json(view_state(view)), **kwargs)
        self.view = view


class HistoryWidget(DataWidget):
    """`%docker history`: layers with size bars, cumulative size, empty layers toggle."""

    _esm = es_module("history")


class LayersWidget(DataWidget):
    """`%docker layers`: layer list, virtualised file tree (filter, only this layer's changes, sort by
    size, directory sizes) and the wasted-space table."""

    _esm = es_module("layers")

    def __init__(self, view: Any, **kwargs: Any) -> None:
        # Its fields are already plain JSON (50,000 changes): no deep copy through asdict.
        ViewWidget.__init__(self, data=state_json(vars(view)), **kwargs)
        self.view = view


class InspectWidget(DataWidget):
    """`%docker inspect`: summary cards over a collapsible, searchable JSON tree."""

    _esm = es_module("inspect")


class ImageListWidget(DataWidget):
    """`%docker images`: sort, filter, dangling toggle; inspect, history and remove a row."""

    _esm = es_module("images")
    panel = traitlets.Unicode("").tag(sync=True)  # the answer to the last request, for every view

    def __init__(self, view: views.TableView, actions: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(view, **kwargs)
        # Given by the command that made the list, bound to its engine: each takes the row's full
        # image id (what the row shows) and its label.
        self.actions = actions or {}
        self.on_msg(self._on_message)

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("t") not in ("inspect", "history", "remove"):
            return
        self.panel = state_json(self.answer(content))

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run one request from the browser ({t, row, id}) and say what happened."""
        action = request["t"]
        answer: dict[str, Any] = {"req": str(request.get("req", "")), "action": action, "ref": "",
                                  "status": "ok"}
        try:
            row = self._row(request)
            answer["ref"] = _reference(row)
            answer["view"] = view_state(self._act(action, row))
        except CommandFailed as err:  # rmi: the report says what happened to each name
            answer["status"] = "error"
            if err.result is not None:
                answer["view"] = view_state(err.result.view())
                self._forget_removed(err.result)
            else:
                answer["message"] = str(err)
        except NbDockerError as err:
            answer.update(status="error", message=str(err))
        except Exception as err:  # noqa: BLE001 - shown in the widget; a comm handler has no cell
            answer.update(status="error", message=f"{type(err).__name__}: {err}")
        return answer

    def _row(self, request: dict[str, Any]) -> dict[str, Any]:
        """The listed row a request names: the widget only acts on images it shows."""
        index = request.get("row")
        rows = self.view.rows
        if not isinstance(index, int) or not 0 <= index < len(rows) or rows[index].get("full_id") != request.get("id"):
            raise NbDockerError("this list changed since the request was made: run %docker images again")
        return rows[index]

    def _act(self, action: str, row: dict[str, Any]) -> Any:
        act = self.actions.get(action)
        if act is None:
            raise NbDockerError("this list cannot act any more: run %docker images again")
        result = act(row["full_id"], _reference(row))
        if action == "remove":
            self._forget_removed(result)
        return result.view()

    def _forget_removed(self, report: Any) -> None:
        """Drop the rows whose name was untagged or whose image was deleted."""
        untagged = {_familiar(u) for u in report.untagged}
        deleted = set(report.deleted)
        kept = [row for row in self.view.rows
                if row.get("full_id") not in deleted
                and f"{row.get('repository')}:{row.get('tag')}" not in untagged]
        if len(kept) != len(self.view.rows):
            self.view.rows = kept
            self.data = state_json(view_state(self.view))


def _reference(row: dict[str, Any]) -> str:
    """repo:tag when the row has both, else its id (as `docker rmi` takes them)."""
    if row.get("repository") not in (None, "<none>") and row.get("tag") not in (None, "<none>"):
        return f"{row['repository']}:{row['tag']}"
    return str(row.get("id"))


def _familiar(reference: str) -> str:
    for prefix in ("docker.io/library/", "docker.io/"):
        if reference.startswith(prefix):
            return reference[len(prefix):]
    return reference


class BuildWidget(ViewWidget):
    """A build, live or finished: whole state in traits, live changes as small messages."""

    _esm = es_module("build")
    token = traitlets.Unicode("").tag(sync=True)  # names this model's log store in the browser
    head = traitlets.Unicode("").tag(sync=True)
    steps = traitlets.Unicode("[]").tag(sync=True)
    tails = traitlets.Unicode("{}").tag(sync=True)  # every step's tail, set when a view is complete
    layers = traitlets.Unicode("").tag(sync=True)  # the image's history after a build

    def __init__(self, view: views.BuildView | None = None, **kwargs: Any) -> None:
        super().__init__(token=secrets.token_hex(8), **kwargs)
        self.result: Any = None  # the BuildResult: its step_log() serves "show all"
        self._sent_lines: dict[str, int] = {}
        self._sent_head: Any = None
        self._sent_steps: dict[str, Any] = {}
        self._sent_order: list[str] = []
        self._steps_synced, self._steps_behind = 0.0, False
        self._log_cache: tuple[str | None, list[str]] = (None, [])
        self.on_msg(self._on_message)
        if view is not None:
            self.show(view)

    def show(self, view: views.BuildView) -> None:
        """The whole view at once: header, steps and every step's tail."""
        head, steps = self._head(view), [_step_state(s) for s in view.steps]
        tails = {s.key: _tail(s, s.log_tail) for s in view.steps if s.log_tail}
        with self.hold_sync():
            self.head, self.steps, self.tails = state_json(head), state_json(steps), state_json(tails)
        self._sent_head = _unticked(head)
        self._sent_steps = {s["key"]: _unticked(s) for s in steps}
        self._sent_order = [s["key"] for s in steps]
        self._steps_synced, self._steps_behind = time.monotonic(), False
        self._sent_lines = {s.key: s.log_lines for s in view.steps}

    def update_live(self, view: views.BuildView) -> None:
        """One message with what changed since the last update: steps, order, new log lines.

        Running times and line counts change on every update: the browser advances them. The
        `steps` trait (the whole list, for views that open late) follows every few seconds.
        """
        head, steps = self._head(view), [_step_state(s) for s in view.steps]
        if _unticked(head) != self._sent_head:
            self.head, self._sent_head = state_json(head), _unticked(head)
        delta: dict[str, Any] = {}
        changed = [s for s in steps if self._sent_steps.get(s["key"]) != _unticked(s)]
        if changed:
            delta["steps"] = changed
            self._sent_steps.update((s["key"], _unticked(s)) for s in changed)
        order = [s["key"] for s in steps]
        if order != self._sent_order[:len(order)] or len(order) < len(self._sent_order):
            delta["order"] = self._sent_order = order
        elif len(order) > len(self._sent_order):
            self._sent_order = order  # new steps at the end: the browser appends them itself
        tails = {}
        for step in view.steps:
            new = step.log_lines - self._sent_lines.get(step.key, 0)
            if new > 0 and step.log_tail:
                tails[step.key] = _tail(step, step.log_tail[-new:])
                self._sent_lines[step.key] = step.log_lines
        if tails:
            delta["tails"] = tails
        if delta:
            self.send({"t": "delta", **delta})
        self._steps_behind = self._steps_behind or bool(changed)
        if self._steps_behind and time.monotonic() - self._steps_synced >= STEPS_SYNC_SECONDS:
            self.steps = state_json(steps)
            self._steps_synced, self._steps_behind = time.monotonic(), False

    def _head(self, view: views.BuildView) -> dict[str, Any]:
        return {"builder": view.builder, "state": view.state, "done": view.done, "total": view.total,
                "cached": view.cached, "seconds": round(view.seconds, 2), "image_id": view.image_id,
                "tags": view.tags, "warnings": view.warnings, "notes": view.notes, "error": view.error,
                "full_log": self.result is not None}

    def set_layers(self, history_view: views.TableView | None) -> None:
        """Show the built image's layers under the build."""
        self.layers = state_json(view_state(history_view)) if history_view is not None else ""

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("t") == "log":
            self.send(self.log_page(content.get("key"), content.get("page"), content.get("req")))

    def log_page(self, key: Any, page: Any, req: Any = None) -> dict[str, Any]:
        """One page of a step's whole log, read back from the build's spool."""
        answer: dict[str, Any] = {"t": "page", "req": req, "key": key, "page": 0, "pages": 0,
                                  "total": 0, "page_lines": LOG_PAGE_LINES, "lines": []}
        if self.result is None:
            answer["error"] = ("this view has no access to the build's whole log; keep the result "
                               "(%%dockerfile --out NAME) and read NAME.step_log(KEY) or NAME.log")
            return answer
        if not isinstance(key, str) or key not in self._sent_lines:
            answer["error"] = "no such step in this build"
            return answer
        cached_key, lines = self._log_cache
        if cached_key != key:
            lines = self.result.step_log(key).splitlines()
            self._log_cache = (key, lines)
        pages = max(1, -(-len(lines) // LOG_PAGE_LINES))
        number = min(max(int(page) if isinstance(page, int) else 0, 0), pages - 1)
        start = number * LOG_PAGE_LINES
        # Lines cut for display as in every view: a 10 MB line stays on disk (result.log).
        shown = [views.truncate_line(line) for line in lines[start:start + LOG_PAGE_LINES]]
        answer.update(page=number, pages=pages, total=len(lines), lines=shown)
        return answer


def _step_state(step: views.StepView) -> dict[str, Any]:
    return {"key": step.key, "name": step.name, "state": step.state,
            "seconds": None if step.seconds is None else round(step.seconds, 2), "lines": step.lines,
            "source": step.source, "log_lines": step.log_lines, "error": step.error,
            "internal": step.internal}


def _tail(step: views.StepView, lines: list[tuple[int, str]]) -> dict[str, Any]:
    return {"from": step.log_lines - len(lines), "count": step.log_lines,
            "lines": [[stream, text] for stream, text in lines]}


def _unticked(state: dict[str, Any]) -> dict[str, Any]:
    """A header or step without what ticks on every update (running time, line count)."""
    return {k: v for k, v in state.items()
            if k != "log_lines" and not (k == "seconds" and state.get("state") == "running")}


# ---------------------------------------------------------------- which widget for which view

# Finished builds' widgets, newest last: only the newest KEEP_RESULTS keep their result (and so
# the spooled whole log) reachable.
_FINISHED: deque[BuildWidget] = deque()
LIVE_WIDGET = "widget"  # the key, in a build result's `actions`, of the widget that showed it live


def remember_build(result: Any, widget: BuildWidget) -> None:
    """Link a finished build's result and its live widget, both ways: the result, when shown (as
    the cell's output, or by the magics after a failure), shows this same widget, which serves
    whole logs from the result."""
    widget.result = result
    widget.show(result.view())  # full_log is now true
    result.actions = {**(getattr(result, "actions", None) or {}), LIVE_WIDGET: widget}
    _FINISHED.append(widget)
    while len(_FINISHED) > KEEP_RESULTS:
        old = _FINISHED.popleft()
        old.result, old._log_cache = None, (None, [])  # its spooled log may go


def _build_widget(view: views.BuildView, actions: dict[str, Any] | None) -> BuildWidget:
    widget = (actions or {}).get(LIVE_WIDGET)
    if widget is None:
        return BuildWidget(view)
    history = getattr(widget.result, "history", None)
    if history is not None:
        widget.set_layers(history.view())
    return widget


def make_widget(view: Any, actions: dict[str, Any] | None = None) -> ViewWidget | None:
    """The widget for a view model, or None when the view has none (report lines, other tables)."""
    if isinstance(view, views.BuildView):
        return _build_widget(view, actions)
    if isinstance(view, views.InspectView):
        return InspectWidget(view)
    if isinstance(view, views.TableView) and view.kind == "images":
        return ImageListWidget(view, actions=actions)
    if isinstance(view, views.TableView) and view.kind == "history":
        return HistoryWidget(view)
    if getattr(view, "kind", None) == "layers" and hasattr(view, "changes"):  # nbdocker.layers.render.LayersView
        return LayersWidget(view)
    return None


def kernel_has_comms() -> bool:
    """True in a Jupyter kernel (widgets can be shown); False in terminal IPython or plain Python."""
    return in_kernel()


def widget_bundle(view: Any, required: bool = False, actions: dict[str, Any] | None = None,
                  where: str | None = None) -> dict[str, Any]:
    """The widget's mimebundle entries for a view model; empty where no widget applies.

    `required` (display mode "widget") makes one even outside a Jupyter kernel.
    """
    if not (required or kernel_has_comms()):
        return {}
    widget = make_widget(view, actions)
    if widget is not None and where:
        widget.where = where
    if widget is None:
        return {}
    return {WIDGET_VIEW_MIME: widget_view(widget)}


def widget_view(widget: ViewWidget) -> dict[str, Any]:
    """The widget-view mime entry for a widget, as ipywidgets 8 writes it (protocol 2.0)."""
    return {"version_major": 2, "version_minor": 0, "model_id": widget.model_id}


# ---------------------------------------------------------------- exporting


def export_config() -> dict[str, Any]:
    """nbconvert config that shows each view's static HTML rather than its widget.

    When a notebook carries widget state (nbclient always saves it), nbconvert's HTML exporter
    prefers the widget view over the text/html beside it, and the page then needs
    @jupyter-widgets/html-manager and anywidget from a CDN to show anything; offline, each view
    is an empty box. With this priority the escaped, script-free snapshot is what the page shows;
    outputs without text/html (other libraries' widgets) keep their widget view.
    Use: `HTMLExporter(config=traitlets.config.Config(export_config()))`.
    """
    priority = ["text/html", WIDGET_VIEW_MIME, "application/javascript", "text/markdown",
                "image/svg+xml", "text/vnd.mermaid", "text/latex", "image/png", "image/jpeg",
                "text/plain"]
    return {"NbConvertBase": {"display_data_priority": priority}}


# ---------------------------------------------------------------- the live build


class _Shown:
    """A displayable bundle (the live build: widget, HTML snapshot, text)."""

    def __init__(self, bundle: dict[str, Any]) -> None:
        self.bundle = bundle

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return self.bundle


class WidgetSink:
    """The live build as one widget: `update` sends only what changed, `finish` hands it over.

    When the build is done or failed the result is shown next (as the cell's output, or by the
    magics with the error): that output shows this same widget, so the live one is cleared.
    A cancelled build shows no result, so its live view stays, final.
    """

    def __init__(self) -> None:
        from IPython.display import display

        view = views.BuildView("build", "", "running", [], 0, 0, 0, 0.0)
        self.widget = BuildWidget(view)
        self.handle = display(_Shown(self._bundle(view)), display_id=True)

    def _bundle(self, view: views.BuildView) -> dict[str, Any]:
        return {WIDGET_VIEW_MIME: widget_view(self.widget),
                "text/html": views.render_html(view), "text/plain": views.render_text(view)}

    def update(self, progress: Any, silent: float | None) -> None:
        view = progress.view("running")
        if silent is not None:
            view.notes.append(f"no output for {silent:.0f} s")
        self.widget.update_live(view)

    def finish(self, result: Any) -> None:
        remember_build(result, self.widget)
        if result.state == "cancelled":
            self.handle.update(_Shown(self._bundle(result.view())))
        else:
            self.handle.update(_Shown({"text/plain": ""}))


def build_sink(where: str = "") -> WidgetSink | None:
    """A live build widget, or None where the display-handle view serves (modes html/text)."""
    if Display.mode not in ("auto", "widget") or not kernel_has_comms():
        return None
    sink = WidgetSink()
    sink.widget.where = where
    return sink
