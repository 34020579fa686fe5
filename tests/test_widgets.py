"""The widgets without a browser: their synced state, the static forms beside them, display modes.

What the browser does with this state is tested in test_browser.py; here: what the kernel sends.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nbdocker.commands import images
from nbdocker.views import render as views
from nbdocker.views import widgets
from nbdocker.build.events import LogEvent, decode_build_stream
from nbdocker.build.progress import BuildProgress
from nbdocker.views.results import Display, mimebundle

STREAMS = Path(__file__).parent / "streams"
EVIL = "<script>alert(1)</script><img src=x onerror=alert(2)></script><!--<script>\"'&\u2028"
MIME = widgets.WIDGET_VIEW_MIME


def parsed(text: str):
    """A trait's JSON text, after checking no markup character is in it."""
    assert not set(text) & set("<>&\u2028\u2029"), text[:200]
    return json.loads(text)


def image_list(rows: int = 3) -> images.ImageList:
    made = [images.ImageRow(f"repo{i}{EVIL}" if i == 0 else f"repo{i}", "latest", "<none>",
                            f"sha256:{i:064x}", 1_700_000_000 + i, 1000 * (rows - i)) for i in range(rows)]
    made.append(images.ImageRow("<none>", "<none>", "<none>", "sha256:" + "f" * 64, 1_600_000_000, 5))
    return images.ImageList(made)


def history() -> images.History:
    return images.History("evil:latest", [
        images.Layer("sha256:" + "a" * 64, 1_700_000_100, f"/bin/sh -c #(nop)  LABEL evil={EVIL}", 0, "", []),
        images.Layer("<missing>", 1_700_000_050, "/bin/sh -c echo hi > /f", 3_000_000, "", []),
        images.Layer("<missing>", 1_700_000_000, "/bin/sh -c #(nop) ADD file:1 in /", 1_000_000, "", []),
    ])


def inspect_view() -> views.InspectView:
    attrs = {"Id": "sha256:" + "b" * 64, "RepoTags": ["evil:latest"],
             "Config": {"Labels": {"evil": EVIL}, "Env": [f"X={EVIL}"], "Cmd": ["sh"]}}
    return images.InspectResult([attrs]).view()


def build_view(state: str = "done") -> views.BuildView:
    step = views.StepView(key="k1", name=f"[1/1] RUN echo {EVIL}", state="failed" if state == "failed" else "done",
                          seconds=1.5, lines="2", source=f"RUN echo {EVIL}",
                          log_tail=[(1, EVIL), (2, "\x1b[31mred\x1b[0m")], log_lines=2,
                          error="exit code: 3" if state == "failed" else None)
    return views.BuildView("build", "buildkit", state, [step], 1, 1, 0, 2.0,
                           image_id="sha256:" + "c" * 64 if state == "done" else None,
                           error="exit code: 3" if state == "failed" else None)


@pytest.fixture
def mode():
    """Set Display.mode for one test (the conftest resets the magics' config)."""
    saved = Display.mode

    def set_mode(value: str) -> None:
        Display.mode = value

    yield set_mode
    Display.mode = saved


@pytest.fixture
def in_kernel(ip, monkeypatch):
    """Pretend the shell is a Jupyter kernel (what `auto` looks for)."""
    monkeypatch.setattr(ip, "kernel", object(), raising=False)
    return ip


# ---------------------------------------------------------------- the ES modules


@pytest.mark.parametrize("name", ["images", "inspect", "history", "build"])
def test_each_view_is_one_self_contained_module(name):
    source = widgets.es_module(name)
    assert source.count("export default") == 1
    assert not re.search(r"^import ", source, re.M)  # our imports inlined, nothing fetched
    assert "http://" not in source and "https://" not in source  # no CDN
    # The module's own text is widget state too: nothing in it may end or comment out a script.
    assert "</script" not in source.lower() and "<!--" not in source


def test_the_js_never_parses_markup():
    for path in sorted(widgets.STATIC.glob("*.js")):
        source = path.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                     "new Function", "setAttribute(\"on", "setAttribute(\"style", "setAttribute(\"href",
                     "setAttribute(\"src", ".href", ".src"):
            assert sink not in source, (path.name, sink)


def test_static_files_ship_in_the_wheel(tmp_path):
    pytest.importorskip("hatchling")
    import subprocess
    import sys
    import zipfile

    root = Path(__file__).parents[1]
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(root), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path)], check=True, timeout=300)
    (wheel,) = tmp_path.glob("nbdocker-*.whl")
    shipped = {n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("nbdocker/views/static/")}
    assert shipped == {f"nbdocker/views/static/{p.name}" for p in widgets.STATIC.iterdir() if p.is_file()}
    assert {"nbdocker/views/static/images.js", "nbdocker/views/static/build.js", "nbdocker/views/static/nbdocker.css"} <= shipped


# ---------------------------------------------------------------- state is escaped JSON text


def test_state_json_escapes_markup_and_round_trips():
    value = {"label": EVIL, "nested": [EVIL, {"k<": "&"}]}
    text = widgets.state_json(value)
    assert parsed(text) == value
    assert "\\u003c/script\\u003e" in text


def test_image_list_widget_state(in_kernel, mode):
    mode("auto")
    result = image_list()
    bundle = result._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", MIME}
    widget = widgets.make_widget(result.view())
    data = parsed(widget.data)
    assert data == widgets.view_state(result.view())
    assert [c["sort_key"] for c in data["columns"] if c["key"] in ("created", "size")] == ["created_ts", "size_bytes"]
    assert data["rows"][0]["repository"].startswith("repo0<script>")
    assert [r["dangling"] for r in data["rows"]] == [False, False, False, True]
    assert widget.panel == ""
    # The static forms beside it: escaped HTML, deterministic text.
    assert "&lt;script&gt;" in bundle["text/html"] and "<script>alert" not in bundle["text/html"]
    assert bundle["text/plain"] == views.render_text(result.view())


def test_history_widget_state(in_kernel, mode):
    mode("auto")
    result = history()
    bundle = result._repr_mimebundle_()
    assert MIME in bundle and "text/html" in bundle
    data = parsed(widgets.make_widget(result.view()).data)
    rows = data["rows"]
    assert [r["id"] for r in rows] == ["aaaaaaaaaaaa", "<missing>", "<missing>"]
    assert "built elsewhere" in rows[1]["id__title"] and rows[0]["id__title"] == ""
    assert [r["cumulative_bytes"] for r in rows] == [4_000_000, 4_000_000, 1_000_000]
    assert [r["empty"] for r in rows] == [True, False, False]
    assert data["bar"] == "size_bytes"
    assert EVIL.rstrip("\u2028") in rows[0]["created_by__title"]


def test_inspect_widget_state(in_kernel, mode):
    mode("auto")
    view = inspect_view()
    data = parsed(widgets.make_widget(view).data)
    assert data["items"][0]["Config"]["Labels"]["evil"] == EVIL
    assert dict(map(tuple, data["summaries"][0]))["Tags"] == "evil:latest"


def test_build_widget_state():
    widget = widgets.BuildWidget(build_view("failed"))
    head, steps, tails = parsed(widget.head), parsed(widget.steps), parsed(widget.tails)
    assert head["state"] == "failed" and head["error"] == "exit code: 3" and head["full_log"] is False
    assert steps[0]["error"] == "exit code: 3" and steps[0]["lines"] == "2" and steps[0]["source"].startswith("RUN")
    assert tails["k1"] == {"from": 0, "count": 2, "lines": [[1, EVIL], [2, "\x1b[31mred\x1b[0m"]]}
    assert widget.layers == ""
    assert len(widget.token) == 16


# ---------------------------------------------------------------- display modes


def test_display_modes(ip, mode):
    result = image_list()
    mode("text")
    assert set(mimebundle(result.view())) == {"text/plain"}
    mode("html")
    assert set(mimebundle(result.view())) == {"text/plain", "text/html"}
    mode("auto")  # terminal IPython: no kernel, so no widget
    assert set(mimebundle(result.view())) == {"text/plain", "text/html"}
    mode("widget")  # always
    assert set(mimebundle(result.view())) == {"text/plain", "text/html", MIME}


def test_auto_makes_a_widget_in_a_jupyter_kernel(in_kernel, mode):
    mode("auto")
    assert widgets.kernel_has_comms()
    bundle = mimebundle(image_list().view())
    assert bundle[MIME]["version_major"] == 2 and len(bundle[MIME]["model_id"]) == 32


def test_display_mode_through_the_magics_config(in_kernel):
    result = image_list()
    in_kernel.run_line_magic("config", "DockerMagics.display = 'widget'")
    data, _ = in_kernel.display_formatter.format(result)
    assert {"text/plain", "text/html", MIME} <= set(data)
    in_kernel.run_line_magic("config", "DockerMagics.display = 'text'")
    data, _ = in_kernel.display_formatter.format(result)
    assert MIME not in data and "text/html" not in data


def test_views_without_a_widget_keep_their_static_forms(in_kernel, mode):
    mode("widget")
    report = images.RemovalReport([images.Removal("x", untagged=["x:latest"], error=EVIL)])
    bundle = report._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    assert widgets.widget_bundle(views.TableView("ps", [], []), required=True) == {}


# ---------------------------------------------------------------- the live build


def feed(progress: BuildProgress, widget: widgets.BuildWidget, events, every: int) -> list[dict]:
    """Apply events, updating the widget every `every` events; returns the messages it sent."""
    sent: list[dict] = []
    widget.send = lambda content, buffers=None: sent.append(json.loads(json.dumps(content)))
    for i, event in enumerate(events, 1):
        progress.apply(event)
        if i % every == 0:
            widget.update_live(progress.view("running"))
    widget.update_live(progress.view("running"))
    return sent


def manylines_events():
    messages = [json.loads(line) for line in (STREAMS / "manylines-buildkit.jsonl").read_text().splitlines()]
    return decode_build_stream(messages, "buildkit")


def test_live_updates_send_each_new_line_once_and_only_changed_steps(monkeypatch):
    events = manylines_events()
    logged = [e for e in events if isinstance(e, LogEvent)]
    clock = iter(range(10_000_000))  # a tenth of a second per look at the clock
    monkeypatch.setattr(widgets.time, "monotonic", lambda: next(clock) / 10)
    widget = widgets.BuildWidget(views.BuildView("build", "", "running", [], 0, 0, 0, 0.0))
    step_syncs = []
    widget.observe(lambda change: step_syncs.append(change["new"]), names="steps")
    sent = feed(BuildProgress("buildkit"), widget, events, every=1)
    assert all(msg["t"] == "delta" for msg in sent)
    lines = [line for msg in sent for tail in msg.get("tails", {}).values() for line in tail["lines"]]
    assert [text for _, text in lines] == [e.text for e in logged]  # each line once, in order
    # A step is sent when it changes (state, error), not for each of its 2,000 log lines.
    changes = [(s["key"], s["state"]) for msg in sent for s in msg.get("steps", [])]
    assert len(changes) == len(set(changes)) and len(changes) < 30
    assert sum("steps" in msg for msg in sent) < 30
    # The whole list follows at most every STEPS_SYNC_SECONDS, for views that open late.
    assert 1 <= len(step_syncs) < 10
    assert parsed(widget.head)["state"] == "running"


def test_live_updates_at_a_low_rate_send_tails_only():
    events = manylines_events()
    widget = widgets.BuildWidget(views.BuildView("build", "", "running", [], 0, 0, 0, 0.0))
    sent = feed(BuildProgress("buildkit"), widget, events, every=500)
    for msg in sent:
        for tail in msg.get("tails", {}).values():
            assert len(tail["lines"]) <= 40  # progress.TAIL_LINES
            assert tail["from"] == tail["count"] - len(tail["lines"])
    assert sum(len(t["lines"]) for m in sent for t in m.get("tails", {}).values()) < 300  # of 2,000 lines


def finished_result(state: str = "done"):
    from nbdocker.build.command import BuildResult

    progress = BuildProgress("buildkit")
    for event in manylines_events():
        progress.apply(event)
    progress.finished = progress.started + 3.0
    return BuildResult(progress.image_id, ["nbdtest-x:latest"], "buildkit", progress, state)


def test_show_all_pages_through_a_steps_whole_log():
    result = finished_result()
    widget = widgets.BuildWidget(result.view())
    assert "no access" in widget.log_page("anything", 0)["error"]
    widgets.remember_build(result, widget)
    assert parsed(widget.head)["full_log"] is True
    key = max(result.progress.log.keys(), key=result.progress.log.line_count)
    first = widget.log_page(key, 0, req="r1")
    assert first["req"] == "r1" and first["total"] == 2000 and first["pages"] == 4
    assert len(first["lines"]) == widgets.LOG_PAGE_LINES
    last = widget.log_page(key, 99)
    assert last["page"] == 3 and last["lines"][-1] == result.step_log(key).splitlines()[-1]
    assert "no such step" in widget.log_page("not-a-step", 0)["error"]


def test_a_displayed_result_finds_its_live_widget_and_takes_its_layers(in_kernel, mode):
    mode("auto")
    result = finished_result()
    result.history = history()
    live = widgets.BuildWidget(views.BuildView("build", "", "running", [], 0, 0, 0, 0.0))
    widgets.remember_build(result, live)
    bundle = result._repr_mimebundle_()
    assert bundle[MIME]["model_id"] == live.model_id  # the same model: whole logs stay reachable
    assert parsed(live.layers)["title"] == "history of evil:latest"
    assert "history of evil:latest" in bundle["text/html"]  # the static forms keep the layers too
    # The history shown on its own still gets its own widget.
    assert MIME in history()._repr_mimebundle_()


def test_finished_builds_release_old_results():
    kept = []
    for _ in range(widgets.KEEP_RESULTS + 2):
        result = finished_result()
        result.progress.finished += len(kept)  # distinct builds
        widget = widgets.BuildWidget()
        widgets.remember_build(result, widget)
        kept.append(widget)
    assert kept[0].result is None and kept[-1].result is not None


def test_sink_shows_one_live_widget_then_hands_it_over(in_kernel, mode, capsys):
    mode("auto")
    sink = widgets.build_sink()
    assert isinstance(sink, widgets.WidgetSink)
    progress = BuildProgress("buildkit")
    for event in manylines_events():
        progress.apply(event)
    sink.update(progress, 20.0)
    assert "no output for 20 s" in parsed(sink.widget.head)["notes"]
    progress.finished = progress.started + 1
    from nbdocker.build.command import BuildResult

    sink.finish(BuildResult(progress.image_id, [], "buildkit", progress, "done"))
    assert sink.widget.result is not None
    mode("html")
    assert widgets.build_sink() is None  # the display-handle view serves


# ---------------------------------------------------------------- image list requests


def test_image_list_refuses_rows_it_did_not_show(in_kernel, mode):
    widget = widgets.ImageListWidget(image_list().view())
    answer = widget.answer({"t": "remove", "row": 0, "id": "sha256:" + "9" * 64, "req": "r"})
    assert answer["status"] == "error" and "changed" in answer["message"]
    answer = widget.answer({"t": "inspect", "row": 99, "id": "x"})
    assert answer["status"] == "error"


@pytest.mark.engine
def test_image_list_inspects_shows_history_and_removes(engine, ip, unique, in_kernel):
    from nbdocker import cli
    from nbdocker.engine.client import Engine

    engine.tag("busybox:latest", unique, "one")
    engine.tag("busybox:latest", unique, "two")
    session = cli.Session(Engine())
    listed = images.list_images(session.engine, reference=f"{unique}:*")
    widget = widgets.ImageListWidget(listed.view(), actions=images.row_actions(session))
    rows = parsed(widget.data)["rows"]
    index = next(i for i, r in enumerate(rows) if r["tag"] == "one")
    request = {"row": index, "id": rows[index]["full_id"], "req": "q"}

    def ask(**content):  # the answer as the browser receives it (the `panel` trait)
        widget._on_message(widget, content, [])
        return parsed(widget.panel)

    inspected = ask(**request, t="inspect")
    assert inspected["status"] == "ok" and inspected["ref"] == f"{unique}:one"
    assert f"{unique}:one" in inspected["view"]["items"][0]["RepoTags"]
    layers = ask(**request, t="history")
    assert layers["view"]["kind"] == "history" and layers["view"]["rows"]

    removed = ask(**request, t="remove")
    assert removed["status"] == "ok"
    assert ["ok", f"Untagged: {unique}:one"] in removed["view"]["lines"]
    assert [r["tag"] for r in parsed(widget.data)["rows"]] == ["two"]  # the row went, the other stays
    assert all(f"{unique}:one" not in (i.get("RepoTags") or []) for i in engine.images(name=unique))
    stale = ask(t="remove", row=1, id=rows[index]["full_id"])
    assert stale["status"] == "error"  # the list changed: row 1 is gone
