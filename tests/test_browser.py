"""The views in a real browser: Debian's Chromium, driven by Playwright, in JupyterLab 4 and
Notebook 7 (each started by the test), against the real engine; and the executed notebook's saved
form and HTML export.

A notebook (tests/browser/harness.py) builds an image whose labels, ENV, RUN commands, CMD and
build output are an attack corpus; lists the run's images; inspects the evil one and shows its
history; builds slowly (to watch the live view, and sort while the kernel is busy); and fails a
build last. Every image made is labelled with the run and removed afterwards; screenshots are kept
in artifacts/screenshots/.
"""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field

import pytest

from browser import harness
from conftest import PREFIX, RUN_ID

pytestmark = pytest.mark.browser
APPS = ["lab", "notebook"]
ATTACK_TEXT = ["<svg onload=alert(3)>", "javascript:alert(4)", "</script><script>alert(5)</script>",
               "{{ 7*7 }}", "<!--<script>"]


def _require_browser() -> None:
    if not os.path.exists(harness.CHROMIUM):
        message = f"{harness.CHROMIUM} is missing (apt-get install -y chromium)"
        if os.environ.get("NBDOCKER_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def chromium():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = harness.launch_chromium(playwright)
        yield browser
        browser.close()


def shot(target, name: str) -> None:
    harness.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target.screenshot(path=str(harness.SCREENSHOTS / f"{name}.png"))


def rows_of(page, widget: str = ".nbd-widget-images") -> list[list[str]]:
    return page.eval_on_selector_all(
        f"{widget} tbody > tr.nbd-image-row",
        "trs => trs.map(tr => Array.from(tr.cells, td => td.textContent))")


@dataclass
class Session:
    """One app with the notebook run in it, and what was seen while it ran."""

    app: str
    page: object
    prefix: str
    run: str
    sizes: dict[str, int]
    dialogs: list[str] = field(default_factory=list)
    seen_live: dict = field(default_factory=dict)
    server_log: str = ""
    server: object = None
    kernel_id: str = ""


@pytest.fixture(scope="module", params=APPS)
def session(request, chromium, api, tmp_path_factory):
    app = request.param
    run = f"{RUN_ID}-{app}"
    prefix = f"{PREFIX}-{run}"
    work = tmp_path_factory.mktemp(f"browser-{app}")
    root = work / "root"
    root.mkdir()
    try:
        made = harness.build_sized_images(api, prefix, run)
        sizes = {name: api.inspect_image(image_id)["Size"] for name, image_id in made.items()}
        harness.write_notebook(root / "views.ipynb", harness.notebook_cells(prefix, run))
        with harness.jupyter_server(app, root, work) as server:
            page = chromium.new_page(viewport={"width": 1400, "height": 1000})
            state = Session(app, page, prefix, run, sizes)
            page.on("dialog", lambda dialog: (state.dialogs.append(dialog.message), dialog.dismiss()))
            kernel_id = server.start_session("views.ipynb")
            page.goto(server.page_url(app, "views.ipynb"))
            try:
                harness.settle(page, server, "views.ipynb", kernel_id)
                run_all(page)
                watch_live_build(state)
                page.wait_for_selector('.nbd-widget-build[data-state="failed"]', timeout=240_000)
                page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=60_000)
            except Exception:
                shot(page, f"{app}-failure")
                print(server.log.read_text(errors="replace")[-4000:])
                print(page.locator(".jp-Notebook").inner_text()[-4000:])
                raise
            shot(page, f"{app}-notebook")
            state.server_log = server.log.read_text(errors="replace")
            state.server, state.kernel_id = server, kernel_id
            yield state
            page.close()
    finally:
        harness.remove_run_images(api, run)


def run_all(page) -> None:
    """Menu Run → Run All Cells (the same in JupyterLab 4 and Notebook 7), once: the kernel
    connection is settled first (`harness.settle`), so no cell is dropped and no widget model is
    lost to a replaced connection. The first cell's execution count shows it was sent."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    page.wait_for_function("""() => {
        const prompt = document.querySelector('.jp-CodeCell .jp-InputPrompt');
        return prompt && /\\[(\\d+|\\*)\\]/.test(prompt.textContent);
    }""", timeout=60_000)


def watch_live_build(state: Session) -> None:
    """While the slow build runs: its live view, and sorting the image list (the kernel is busy)."""
    page = state.page
    page.wait_for_selector(".nbd-widget-images", timeout=120_000)
    page.wait_for_selector('.nbd-widget-build[data-state="running"] .nbd-step[data-state="running"]'
                           ':has-text("seq 1 80")', timeout=180_000)
    build = page.locator('.nbd-widget-build[data-state="running"]').first
    state.seen_live["counts"] = build.locator(".nbd-build-counts").text_content()
    time.sleep(1.5)
    state.seen_live["lines"] = build.locator(".nbd-log-line").count()
    state.seen_live["text"] = build.text_content()
    shot(build, f"{state.app}-build-live")
    header = page.locator('.nbd-widget-images th[data-key="repository"]')
    header.click()
    state.seen_live["busy"] = page.locator('.jp-Notebook-ExecutionIndicator[data-status="busy"]').count() > 0
    state.seen_live["sorted"] = [r[0] for r in rows_of(page)]
    state.seen_live["still_running"] = page.locator('.nbd-widget-build[data-state="running"]').count()
    header.click()  # descending now; the sort test starts from its own clicks


# ---------------------------------------------------------------- what the run shows


def test_every_view_renders_and_no_data_becomes_markup(session):
    page = session.page
    assert page.locator(".nbd-widget-images").count() == 1
    assert page.locator(".nbd-widget-inspect").count() == 1
    assert page.locator(".nbd-widget-history").count() == 1
    states = page.eval_on_selector_all(".nbd-widget-build", "els => els.map(e => e.dataset.state)")
    assert states == ["done", "done", "failed"]  # evil, slow, failing: the live views were handed over
    injected = page.evaluate("""() => {
        const area = document.querySelector('.jp-Notebook');
        return {
          img: area.querySelectorAll('img[src="x"], img[src$="/x"]').length,
          svg: area.querySelectorAll('svg[onload]').length,
          handlers: area.querySelectorAll('[onerror], [onload], [onclick]').length,
          scripts: area.querySelectorAll('.jp-OutputArea-output script').length,
          links: area.querySelectorAll('.jp-OutputArea-output a[href^="javascript"]').length,
          bold: area.querySelectorAll('.jp-OutputArea-output b').length,
        };
    }""")
    assert injected == {"img": 0, "svg": 0, "handlers": 0, "scripts": 0, "links": 0, "bold": 0}
    assert session.dialogs == []
    inspect_text = page.locator(".nbd-widget-inspect .nbd-summary").text_content()
    for text in ATTACK_TEXT:
        assert text in inspect_text  # shown as text, intact
    assert "{{ 7*7 }}" in page.locator(".nbd-widget-history").text_content()  # no template ran
    # every view names the engine it came from, so a screenshot says which engine that was
    wheres = page.eval_on_selector_all(".nbd-where", "els => els.map(e => e.textContent)")
    assert len(wheres) >= 6 and all(w.startswith("engine: unix://") for w in wheres), wheres
    for name in ("images", "inspect", "history"):
        shot(page.locator(f".nbd-widget-{name}"), f"{session.app}-{name}")
    shot(page.locator(".nbd-widget-build").nth(0), f"{session.app}-build-done")
    shot(page.locator(".nbd-widget-build").nth(2), f"{session.app}-build-failed")


def test_one_kernel_one_settled_connection_and_no_lost_widget_model(session):
    # The flake of issue 11: a second kernel start, a websocket closed while the server prepared
    # it (a 500), and widget views whose model the page never received.
    assert session.server_log.count("Kernel started:") == 1
    assert "kernel_ws_protocol" not in session.server_log and " 500 " not in session.server_log
    outputs = session.page.locator(".jp-Notebook").inner_text()
    assert "Error displaying widget" not in outputs and "model not found" not in outputs


def test_live_build_view_and_sorting_while_the_kernel_is_busy(session):
    live = session.seen_live
    assert re.fullmatch(r"\d+/\d+ steps.*", live["counts"])
    assert live["lines"] > 0 and f"{session.run} tick" in live["text"]
    assert live["busy"] and live["still_running"] == 1
    expected = sorted(live["sorted"], key=str.lower)
    assert live["sorted"] == expected and len(expected) == 5


def test_image_list_sorts_filters_and_hides_dangling(session):
    page = session.page
    images = page.locator(".nbd-widget-images")
    assert len(rows_of(page)) == 5  # small, medium, large, <none>, evil (listed before the slow build)
    size = images.locator('th[data-key="size"]')
    size.click()
    assert size.get_attribute("data-sort") == "asc"
    ascending = [r[0] for r in rows_of(page)]
    sized = [name for name in ascending if name == "<none>" or name.rsplit("-", 1)[-1] in session.sizes]
    by_bytes = sorted(sized, key=lambda n: session.sizes["<none>" if n == "<none>" else n.rsplit("-", 1)[-1]])
    assert sized == by_bytes and len(sized) == 4, (ascending, session.sizes)  # raw bytes, not the text
    size.click()
    assert size.get_attribute("data-sort") == "desc"
    assert [r[0] for r in rows_of(page)] == ascending[::-1]
    shot(images, f"{session.app}-images-sorted")

    images.locator("input.nbd-filter").fill("medium")
    assert [r[0] for r in rows_of(page)] == [f"{session.prefix}-medium"]
    assert images.locator(".nbd-count").text_content().startswith("1 image of 5")
    images.locator("input.nbd-filter").fill("")
    assert len(rows_of(page)) == 5

    images.locator(".nbd-dangling-toggle input").uncheck()
    assert "<none>" not in [r[0] for r in rows_of(page)] and len(rows_of(page)) == 4
    images.locator(".nbd-dangling-toggle input").check()
    assert len(rows_of(page)) == 5


def test_image_list_inspects_shows_history_and_removes_after_confirmation(session, api):
    page = session.page
    images = page.locator(".nbd-widget-images")
    small = f"{session.prefix}-small"
    images.locator("tbody tr", has_text=small).click()
    assert images.locator(".nbd-chosen").text_content().startswith(f"{small}:latest")

    images.locator("button.nbd-inspect").click()
    page.wait_for_selector('.nbd-widget-images .nbd-panel[data-action="inspect"][data-state="ok"]')
    assert f"{small}:latest" in images.locator(".nbd-panel .nbd-summary").text_content()
    images.locator("button.nbd-history-button").click()
    page.wait_for_selector('.nbd-widget-images .nbd-panel[data-action="history"][data-state="ok"]')
    assert images.locator(".nbd-panel .nbd-history tbody tr").count() >= 2

    remove = images.locator("button.nbd-remove")
    remove.click()  # the first click only arms it
    assert remove.get_attribute("data-state") == "armed"
    assert remove.text_content() == f"confirm: remove {small}:latest"
    assert any(small in (t or "") for i in api.images(name=small) for t in i.get("RepoTags") or [])
    shot(images, f"{session.app}-images-confirm")
    remove.click()
    page.wait_for_selector('.nbd-widget-images .nbd-panel[data-action="remove"]')
    report = images.locator(".nbd-panel .nbd-report").text_content()
    assert f"Untagged: {small}:latest" in report and "Deleted: sha256:" in report
    assert small not in [r[0] for r in rows_of(page)] and len(rows_of(page)) == 4
    assert api.images(name=small) == []
    shot(images, f"{session.app}-images-removed")


def test_inspect_tree_expands_searches_and_copies_a_path(session):
    page = session.page
    inspect = page.locator(".nbd-widget-inspect")
    config = inspect.locator(".nbd-tree > .nbd-node").filter(
        has=page.locator(".nbd-key", has_text=re.compile(r"^Config$"))).first.element_handle()
    assert config.get_attribute("data-state") == "closed"  # the tree starts folded
    config.query_selector(".nbd-toggle").click()
    assert config.get_attribute("data-state") == "open"
    assert "Labels" in config.query_selector(".nbd-children").text_content()

    inspect.locator("input.nbd-search").fill("onload")
    page.wait_for_selector(".nbd-widget-inspect .nbd-node-row.nbd-match")
    assert re.match(r"\d+ match", inspect.locator(".nbd-matches").text_content())
    marked = inspect.locator(".nbd-node-row.nbd-match").all_text_contents()
    assert any("<svg onload=alert(3)>" in text for text in marked)

    inspect.locator(".nbd-node-row.nbd-match .nbd-key", has_text=re.compile(r"^svg$")).first.click()
    assert inspect.locator(".nbd-path").text_content() == '[0]["Config"]["Labels"]["svg"]'
    inspect.locator("button.nbd-copy").click()
    page.wait_for_function("() => document.querySelector('.nbd-widget-inspect .nbd-copy-state').textContent !== ''")
    shot(inspect, f"{session.app}-inspect-search")


def test_history_bars_missing_tooltips_and_empty_layers(session):
    page = session.page
    history = page.locator(".nbd-widget-history")
    rows = history.locator("tbody tr")
    total = rows.count()
    assert total >= 6
    titles = history.locator("td.nbd-missing").evaluate_all("tds => tds.map(td => td.title)")
    assert titles and all("built elsewhere" in t for t in titles)
    widths = history.locator(".nbd-bar").evaluate_all("bars => bars.map(b => b.style.width)")
    assert "100%" in widths
    assert "line 4" in history.text_content()  # the Dockerfile line of the RUN that made the layer
    history.locator(".nbd-hide-empty input").check()
    shown = history.locator("tbody tr:not([hidden])").count()
    assert 1 <= shown < total
    assert history.locator('tbody tr[data-empty="true"]:not([hidden])').count() == 0
    shot(history, f"{session.app}-history-no-empty")


def test_build_logs_colours_show_all_and_the_failure_pinned_to_its_line(session):
    page = session.page
    build = page.locator(".nbd-widget-build").nth(0)
    assert build.locator(".nbd-build-counts").text_content().startswith("3/3 steps")
    steps = build.locator(".nbd-step")
    echo = steps.filter(has_text="alert(1)")
    echo.locator(".nbd-step-row").click()
    assert echo.locator(".nbd-log").is_visible()
    assert echo.locator(".nbd-fg-1").first.text_content() == "red"
    log_text = echo.locator(".nbd-log-lines").text_content()
    assert "<script>alert(1)</script>" in log_text and "<img src=x onerror=alert(2)>" in log_text

    many = steps.filter(has_text="seq 1 300")
    many.locator(".nbd-step-row").click()
    assert many.locator(".nbd-log-line").count() <= 200
    assert "earlier lines" in many.locator(".nbd-log-more").text_content()
    many.locator("button.nbd-show-all").click()
    page.wait_for_selector('.nbd-widget-build .nbd-log[data-state="all"]')
    assert many.locator(".nbd-page").text_content() == "lines 1–300 of 300"
    assert many.locator(".nbd-log-line").first.text_content() == f"{session.run} line 1"
    shot(build, f"{session.app}-build-logs")

    failed = page.locator('.nbd-widget-build[data-state="failed"]')
    step = failed.locator('.nbd-step[data-state="failed"]')
    pin = step.locator(".nbd-error-pin").text_content()
    assert "line 2" in pin and "exit 3" in pin and "exit code: 3" in pin
    assert step.locator(".nbd-log").is_visible()  # a failed step's log is open
    assert step.locator(".nbd-fg-3.nbd-bold").text_content() == "warning"
    assert session.dialogs == []


def test_views_come_back_when_the_page_connects_again(session):
    # Last of the session's tests: it reloads the page. A new page is a new websocket and a new
    # widget manager on the same kernel: it asks the kernel for every model's state (ipywidgets'
    # jupyter.widget.control comm), and each view must rebuild from its traits alone, the
    # builds' steps and log tails included, and still reach the kernel (a whole log, a page).
    page = session.page
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')")
    page.reload()
    harness.settle(page, session.server, "views.ipynb", session.kernel_id)
    page.wait_for_selector('.nbd-widget-build[data-state="failed"]', timeout=60_000)
    outputs = page.locator(".jp-Notebook").inner_text()
    assert "Error displaying widget" not in outputs
    assert page.eval_on_selector_all(".nbd-widget-build", "els => els.map(e => e.dataset.state)") == \
        ["done", "done", "failed"]
    for name in ("images", "inspect", "history"):
        assert page.locator(f".nbd-widget-{name}").count() == 1
    assert len(rows_of(page)) == 4  # the row removed before the reload stays removed
    many = page.locator(".nbd-widget-build").nth(0).locator(".nbd-step").filter(has_text="seq 1 300")
    many.locator(".nbd-step-row").click()
    assert f"{session.run} line 300" in many.locator(".nbd-log-lines").text_content()  # the tail, from traits
    many.locator("button.nbd-show-all").click()
    page.wait_for_selector('.nbd-widget-build .nbd-log[data-state="all"]')
    assert many.locator(".nbd-page").text_content() == "lines 1–300 of 300"
    failed = page.locator('.nbd-widget-build[data-state="failed"] .nbd-step[data-state="failed"]')
    assert "exit code: 3" in failed.locator(".nbd-error-pin").text_content()
    assert session.dialogs == []
    shot(page.locator(".nbd-widget-build").nth(0), f"{session.app}-build-after-reload")


# ---------------------------------------------------------------- saved notebook and export


@pytest.fixture(scope="module")
def executed(api, tmp_path_factory):
    """The notebook executed headless by nbclient, saved, and exported by nbconvert."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    from nbdocker.views import widgets

    run = f"{RUN_ID}-export"
    prefix = f"{PREFIX}-{run}"
    work = tmp_path_factory.mktemp("export")
    source = harness.write_notebook(work / "views.ipynb", harness.notebook_cells(prefix, run))
    nb = nbformat.read(source, as_version=4)
    try:
        harness.build_sized_images(api, prefix, run)
        NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(work)}}).execute()
    finally:
        harness.remove_run_images(api, run)
    saved = work / "views.executed.ipynb"
    nbformat.write(nb, saved)
    default_html, _ = HTMLExporter().from_notebook_node(nb)
    static_html, _ = HTMLExporter(config=Config(widgets.export_config())).from_notebook_node(nb)
    (work / "default.html").write_text(default_html, encoding="utf-8")
    (work / "static.html").write_text(static_html, encoding="utf-8")
    return {"nb": nb, "saved": saved.read_text(encoding="utf-8"), "default": default_html,
            "static": static_html, "work": work}


RAW_MARKUP = ["<svg onload", "<img src=x", "<script>alert", "<!--<script>", "<b>{{"]


@pytest.mark.engine
def test_saved_notebook_keeps_widget_state_without_markup(executed):
    nb = executed["nb"]
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    ours = [m["state"] for m in state.values() if str(m["state"].get("_anywidget_id", "")).startswith("nbdocker.")]
    assert {s["_anywidget_id"].rsplit(".", 1)[1] for s in ours} >= {"ImageListWidget", "InspectWidget",
                                                                     "HistoryWidget", "BuildWidget"}
    dumped = json.dumps(state, ensure_ascii=False)
    for raw in RAW_MARKUP:
        assert raw not in dumped
    assert any("\\u003csvg onload=alert(3)\\u003e" in s.get("data", "") for s in ours)  # there, as escapes
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html", "")
            for raw in RAW_MARKUP:
                assert raw not in html
            if "application/vnd.jupyter.widget-view+json" in output.get("data", {}):
                assert "text/html" in output["data"] and "text/plain" in output["data"]
                view = output["data"]["application/vnd.jupyter.widget-view+json"]
                assert (view["version_major"], view["version_minor"]) == (2, 0)  # as ipywidgets 8 writes it


@pytest.mark.engine
def test_export_embeds_state_safely_and_static_first_shows_every_view(executed):
    default, static = executed["default"], executed["static"]
    # nbconvert's default prefers the widget view when its state is saved: no static table then,
    # and the state sits in a <script> with `/` escaped (`<\/script>`), our data as \u003c escapes.
    assert 'class="nbdocker nbd-images"' not in default
    state = re.search(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', default, re.S)
    assert state and "u003csvg onload=alert(3)" in state.group(1)
    assert "</script" not in state.group(1).lower() and "<!--" not in state.group(1)
    # With nbdocker's export config the static snapshot is what the page shows.
    for kind in ("images", "inspect", "history", "build"):
        assert f'class="nbdocker nbd-{kind}"' in static
    assert "&lt;svg onload=alert(3)&gt;" in static
    page = re.sub(r'<script type="application/vnd.jupyter.widget-state\+json">.*?</script>', "", static, flags=re.S)
    for raw in RAW_MARKUP:
        assert raw not in page


def test_exported_html_shows_the_static_views_offline(executed, chromium):
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    page.goto((executed["work"] / "static.html").as_uri())
    page.wait_for_selector(".nbdocker.nbd-images table")
    assert f"{PREFIX}-{RUN_ID}-export-medium" in page.locator(".nbdocker.nbd-images").text_content()
    assert "<svg onload=alert(3)>" in page.locator(".nbdocker.nbd-inspect").first.text_content()
    counts = page.evaluate("""() => ({
        img: document.querySelectorAll('img[src="x"]').length,
        handlers: document.querySelectorAll('[onerror], [onload]').length,
        svg: document.querySelectorAll('.jp-OutputArea svg').length })""")
    assert counts == {"img": 0, "handlers": 0, "svg": 0}
    time.sleep(0.5)
    assert dialogs == []
    shot(page, "export-static")
    page.close()


# ---------------------------------------------------------------- the build view's memory

STORES_CHECK = """
const m = await import(process.argv[2]);
function model(token) {  // the part of an anywidget model that build.js uses
  const handlers = new Map();
  return {
    get: (name) => (name === "token" ? token : ""),
    on: (event, fn) => handlers.set(event, (handlers.get(event) || new Set()).add(fn)),
    off: (event, fn) => handlers.get(event) && handlers.get(event).delete(fn),
    listening: () => [...handlers.values()].reduce((n, set) => n + set.size, 0),
  };
}
const made = [];
for (let i = 0; i < 100; i++) {
  const one = model("build-" + i);
  made.push([one, m.default.initialize({ model: one })]);
}
const kept = m.STORES.size;
const oldestUnbound = made.slice(0, 100 - m.MAX_STORES).every(([one]) => one.listening() === 0);
for (const [, close] of made) close();  // anywidget calls it when the model is closed
console.log(JSON.stringify({ kept, max: m.MAX_STORES, oldestUnbound, afterClose: m.STORES.size,
  listening: made.reduce((n, [one]) => n + one.listening(), 0) }));
"""


def test_build_log_stores_are_bounded_and_go_with_their_model(tmp_path):
    # Issue 11: build.js kept one store (tails, listeners) per build model, forever.
    import shutil
    import subprocess

    from nbdocker.views import widgets

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is missing (apt-get install -y nodejs)")
    script = tmp_path / "stores.mjs"
    script.write_text(STORES_CHECK)
    module = (widgets.STATIC / "build.js").as_uri()
    out = subprocess.run([node, str(script), module], capture_output=True, text=True, timeout=60, check=True)
    seen = json.loads(out.stdout)
    assert seen == {"kept": seen["max"], "max": seen["max"], "oldestUnbound": True, "afterClose": 0,
                    "listening": 0}
