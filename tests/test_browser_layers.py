"""The layers explorer in a real browser (Debian's Chromium, Playwright): its ES module on a plain
page fed by the real widget's state (select a layer, filter, sort by size, only this layer's
changes, a 50,000-file tree stays a few dozen rows), and the widget in JupyterLab 4 from
`%docker layers --archive` on an archive whose file names and commands are the attack corpus.
No engine: the archives are written here.

Runtime: about 40 s (one JupyterLab server and kernel).
"""
from __future__ import annotations

import hashlib
import http.server
import io
import json
import re
import tarfile
import threading
from pathlib import Path

import pytest

from browser import harness
from nbdocker.views import widgets

pytestmark = pytest.mark.browser
STATIC = Path(widgets.__file__).parent / "static"
ATTACK = ["<svg onload=alert(3)>", "javascript:alert(4)", "</script><script>alert(5)</script>".replace("/", "|"),
          "{{ 7*7 }}", "<!--<script>", "<img src=x onerror=alert(1)>", "\" onmouseover=\"alert(6)"]


def _member(tar: tarfile.TarFile, name: str, data: bytes | None, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    if data is None:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
    else:
        info.size, info.mode = len(data), mode
        tar.addfile(info, io.BytesIO(data))


def layer_tar(members: list[tuple[str, bytes | None]]) -> bytes:
    """A layer: (name, content or None for a directory) in order."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            _member(tar, name, data)
    return out.getvalue()


def write_archive(path: Path, layers: list[list[tuple[str, bytes | None]]], commands: list[str]) -> Path:
    """A docker-archive (the legacy `docker save` shape) of the given layers."""
    blobs = [layer_tar(m) for m in layers]
    ids = [hashlib.sha256(b).hexdigest() for b in blobs]
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": [f"sha256:{i}" for i in ids]},
                         "history": [{"created_by": c} for c in commands]}).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": ["attack:latest"],
                            "Layers": [f"{i}/layer.tar" for i in ids]}]).encode()
    with tarfile.open(path, "w") as tar:
        for i, blob in zip(ids, blobs):
            _member(tar, f"{i}/layer.tar", blob)
        _member(tar, config_name, config)
        _member(tar, "manifest.json", manifest)
    return path


def attack_archive(path: Path) -> Path:
    base = [("attack/", None), ("attack/big.bin", b"x" * 300_000)]
    base += [(f"attack/{name}", name.encode()) for name in ATTACK]
    upper = [("attack/", None), ("attack/.wh.big.bin", b""), ("attack/" + "new <b>bold</b>".replace("/", "|"), b"y" * 10)]
    return write_archive(path, [base, upper], [f"/bin/sh -c echo '{ATTACK[0]}'", f"/bin/sh -c rm {ATTACK[5]}"])


def big_archive(path: Path, files: int = 50_000) -> Path:
    per_dir = 1000
    layer = [(f"d{d:02}/", None) for d in range(files // per_dir)]
    layer += [(f"d{i // per_dir:02}/f{i:05}", b"z" * (i % 97)) for i in range(files)]
    return write_archive(path, [layer, [("d00/f00001", b"changed")]], ["ADD big", "RUN change"])


def widget_state(archive: Path) -> str:
    """The `data` trait the real LayersWidget would sync for the archive."""
    import nbdocker.layers as layers

    return widgets.state_json(vars(layers.analyze(archive).view()))


PAGE = """<!doctype html><meta charset="utf-8"><title>layers</title><div id="host"></div>
<script type="module">
import widget from "./layers.js";
window.pwned = [];
window.show = (data) => {
  const traits = { data };
  const model = { get: (n) => traits[n], on() {}, off() {} };
  const el = document.getElementById("host");
  const t = performance.now();
  widget.render({ model, el });
  return performance.now() - t;
};
window.ready = true;
</script>"""


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium, one for the module."""
    if not Path(harness.CHROMIUM).exists():
        pytest.skip(f"{harness.CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = harness.launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(chromium, tmp_path_factory):
    """A plain page on 127.0.0.1 that imports the shipped ES modules as they are."""
    root = tmp_path_factory.mktemp("layers-page")
    for module in STATIC.glob("*.js"):
        (root / module.name).write_text(module.read_text())
    (root / "index.html").write_text(PAGE)
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(root))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    tab = chromium.new_page(viewport={"width": 1200, "height": 900})
    tab.dialogs = []
    tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
    tab.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
    tab.wait_for_function("window.ready === true")
    yield tab
    tab.close()
    server.shutdown()
    server.server_close()


def _show(tab, data: str) -> float:
    return tab.evaluate("(data) => { document.getElementById('host').replaceChildren(); return window.show(data); }", data)


def _names(tab) -> list[str]:
    return tab.eval_on_selector_all(".nbd-ltree-row .nbd-ltree-name", "els => els.map(e => e.textContent)")


def test_select_filter_sort_and_only_this_layer(page, tmp_path):
    _show(page, widget_state(attack_archive(tmp_path / "attack.tar")))
    page.wait_for_selector('.nbd-layers-explorer[data-state="ready"]')
    assert page.get_attribute(".nbd-layers-explorer", "data-layer") == "1"  # the top layer first
    assert _names(page) == ["attack/"]
    page.click(".nbd-ltree-row")  # expand /attack
    names = _names(page)
    assert "big.bin" not in names and "new <b>bold<|b>" in names  # removed by layer 1
    assert set(ATTACK) <= set(names)
    page.click('tr.nbd-layer-row[data-index="0"]')
    assert page.get_attribute(".nbd-layers-explorer", "data-layer") == "0"
    assert "big.bin" in _names(page)
    page.check(".nbd-by-size input")
    assert _names(page)[1] == "big.bin"  # the biggest first, under /attack
    page.fill(".nbd-filter", "onerror")
    assert _names(page) == ["attack/", "<img src=x onerror=alert(1)>"]
    page.fill(".nbd-filter", "")
    page.click('tr.nbd-layer-row[data-index="1"]')
    page.check(".nbd-only-layer input")
    actions = page.eval_on_selector_all(".nbd-ltree-row", "els => els.map(e => e.dataset.action + ' ' + e.title)")
    assert "removed /attack/big.bin" in actions and "added /attack/new <b>bold<|b>" in actions
    rows = page.eval_on_selector_all(".nbd-wasted-row", "trs => trs.map(tr => tr.cells[3].textContent)")
    assert "/attack/big.bin" in rows


def test_no_markup_from_names_or_commands(page, tmp_path):
    _show(page, widget_state(attack_archive(tmp_path / "attack.tar")))
    page.click(".nbd-ltree-row")
    for selector in ("#host svg", "#host img", "#host script", "#host b"):
        assert page.query_selector(selector) is None, selector
    assert page.dialogs == []
    text = page.inner_text("#host")
    assert ATTACK[0] in text  # shown, as text


def test_fifty_thousand_files_stay_a_window_of_rows(page, tmp_path):
    ms = _show(page, widget_state(big_archive(tmp_path / "big.tar")))
    page.click(".nbd-ltree-row")  # expand /d00: 1,000 files
    count = page.inner_text(".nbd-count")
    assert re.match(r"50001 paths", count) or "paths" in count
    rendered = page.eval_on_selector_all(".nbd-ltree-row", "els => els.length")
    assert rendered < 100  # virtualised: only the rows in view (plus a margin) exist
    page.fill(".nbd-filter", "f4999")
    assert _names(page)[-1] == "f49999"
    assert ms > 0  # measured in bench/, never asserted here


# ---------------------------------------------------------------- in JupyterLab


def test_explorer_in_jupyterlab_without_markup(chromium, tmp_path):
    root, work = tmp_path / "root", tmp_path / "work"
    root.mkdir()
    attack_archive(root / "attack.tar")
    harness.write_notebook(root / "layers.ipynb", ["%load_ext nbdocker",
                                                   "%docker layers --archive attack.tar --out found"])
    with harness.jupyter_server("lab", root, work) as server:
        kernel = server.start_session("layers.ipynb")
        page = chromium.new_page(viewport={"width": 1400, "height": 1000})
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        try:
            page.goto(server.page_url("lab", "layers.ipynb"))
            harness.settle(page, server, "layers.ipynb", kernel)
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
            page.wait_for_selector('.nbd-widget-layers .nbd-layers-explorer[data-state="ready"]', timeout=120_000)
            page.click(".nbd-widget-layers .nbd-ltree-row")
            page.click('.nbd-widget-layers tr.nbd-layer-row[data-index="0"]')
            names = page.eval_on_selector_all(".nbd-widget-layers .nbd-ltree-name", "els => els.map(e => e.textContent)")
            assert "big.bin" in names and set(ATTACK) <= set(names)
            for selector in (".nbd-widget-layers svg", ".nbd-widget-layers img", ".jp-OutputArea svg[onload]"):
                assert page.query_selector(selector) is None, selector
            assert dialogs == []
            harness.SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(harness.SCREENSHOTS / "lab-layers.png"))
        finally:
            page.close()
