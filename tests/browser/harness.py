"""What the browser tests need: a Jupyter server of our own, Debian's Chromium, a test notebook.

Everything lives in a temporary directory (server config, runtime, settings, IPython dir) and is
stopped or removed afterwards. The browser is /usr/bin/chromium, never a Playwright download.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                 "--disable-dev-shm-usage", "--no-first-run", "--disable-component-update",
                 "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_chromium(playwright):  # noqa: ANN001, ANN201 - playwright types
    """Debian's Chromium driven by Playwright."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


class Server:
    """A running Jupyter server: its base URL and token."""

    def __init__(self, url: str, token: str, process: subprocess.Popen, log: Path) -> None:
        self.url, self.token, self.process, self.log = url, token, process, log

    def page_url(self, app: str, notebook: str) -> str:
        path = f"lab/tree/{notebook}" if app == "lab" else f"notebooks/{notebook}"
        return f"{self.url}/{path}?token={self.token}"

    def rest(self, method: str, path: str, body: dict | None = None) -> Any:
        """One call to the server's REST API, as JSON."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/api/{path}", data=data, method=method,
                                         headers={"Authorization": f"token {self.token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read()
        return json.loads(text) if text else None

    def start_session(self, notebook: str) -> str:
        """The notebook's session and kernel, started before any page opens; the kernel's id.

        Why: a page that opens a notebook before its kernel specs have loaded (a server that has
        just started, on a busy machine) can start the notebook's kernel twice, or ask which
        kernel to start. The second start replaces the first kernel or connection: the websocket
        of the first is closed while jupyter_server still prepares it (its 500 with
        `'NoneType' object has no attribute 'kernel_ws_protocol'`, jupyter_server issue 1265),
        and the page's widget manager is left on a connection that no longer receives the
        kernel's comm messages ("Error displaying widget: model not found"), or the queued cells
        are dropped. A page that finds a session for its path connects to it and starts none.
        """
        model = self.rest("POST", "sessions", {"path": notebook, "name": notebook, "type": "notebook",
                                               "kernel": {"name": "python3"}})
        return model["kernel"]["id"]

    def kernel_ids(self) -> list[str]:
        """The ids of the kernels the server runs."""
        return [kernel["id"] for kernel in self.rest("GET", "kernels")]


# Asked in the page: the notebook's kernel connection, settled or why not. Settled means the
# session's kernel is `kernel_id`, its websocket is connected, its status is idle, and a
# kernel_info request made now over that websocket is answered.
_SETTLED_JS = """async ([path, kernelId]) => {
  const app = window.jupyterapp;
  if (!app) return "the app is not loaded yet";
  const panels = Array.from(app.shell.widgets ? app.shell.widgets("main") : [])
    .concat(app.shell.currentWidget ? [app.shell.currentWidget] : []);
  const panel = panels.find((w) => w && w.sessionContext && w.context && w.context.path === path);
  if (!panel) return "the notebook is not open yet";
  if (document.querySelector(".jp-Dialog")) return "a dialog is open: " + document.querySelector(".jp-Dialog").innerText;
  const context = panel.sessionContext;
  await context.ready;
  const kernel = context.session && context.session.kernel;
  if (!kernel) return "the session has no kernel";
  if (kernel.id !== kernelId) return "the page uses another kernel: " + kernel.id;
  if (kernel.connectionStatus !== "connected") return "the websocket is " + kernel.connectionStatus;
  if (kernel.status !== "idle") return "the kernel is " + kernel.status;
  const reply = await Promise.race([kernel.requestKernelInfo(),
                                    new Promise((resolve) => setTimeout(() => resolve(null), 10000))]);
  if (!reply || reply.content.status !== "ok") return "kernel_info was not answered";
  if (kernel.connectionStatus !== "connected" || context.session.kernel !== kernel) return "the connection changed";
  return "settled";
}"""


def settle(page, server: Server, notebook: str, kernel_id: str, timeout: float = 120) -> None:  # noqa: ANN001
    """Wait until the page's kernel connection is settled (see `_SETTLED_JS`), then check that the
    server runs that kernel and no other: nothing was started twice."""
    deadline, state = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        try:
            state = page.evaluate(_SETTLED_JS, [notebook, kernel_id])
        except Exception as err:  # noqa: BLE001 - the page is still loading (navigation)
            state = f"page not ready: {err}"
        if state == "settled":
            break
        page.wait_for_timeout(250)  # polling the page's own state, not racing the engine
    if state != "settled":
        raise RuntimeError(f"the notebook's kernel connection did not settle in {timeout:.0f} s: {state}")
    running = server.kernel_ids()
    if running != [kernel_id]:
        raise RuntimeError(f"the server runs kernels {running}, the page was opened on {kernel_id}")


@contextmanager
def jupyter_server(app: str, root_dir: Path, work: Path) -> Iterator[Server]:
    """JupyterLab 4 (`lab`) or Notebook 7 (`notebook`) on 127.0.0.1, a free port and a token."""
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    for name, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                      ("JUPYTERLAB_SETTINGS_DIR", "settings"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                      ("IPYTHONDIR", "ipython"), ("JUPYTER_DATA_DIR", "data")):
        (work / sub).mkdir(parents=True, exist_ok=True)
        env[name] = str(work / sub)
    # No news or update checks (they would reach the network and pop notifications over the page).
    notification = work / "settings" / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True, exist_ok=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"checkForUpdates": False, "fetchNews": "false"}))
    # Every cell in the DOM, rendered or not, so the test sees every output.
    tracker = work / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True, exist_ok=True)
    # No second way to start a kernel: the test starts the notebook's session itself (see
    # `start_session`), and a frontend that would start another one asks instead (the page then
    # never settles, and `settle` says so) rather than replacing the kernel silently.
    (tracker / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none", "autoStartDefaultKernel": False}))
    log = work / f"{app}-server.log"
    command = [sys.executable, "-m", "jupyter", app, "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root_dir}", "--ServerApp.terminals_enabled=False"]
    # window.jupyterapp, so the test can ask the page about its kernel connection (`settle`).
    command.append(f"--{'LabApp' if app == 'lab' else 'JupyterNotebookApp'}.expose_app_in_browser=True")
    if app == "lab":
        command.append("--LabApp.extension_manager=readonly")  # no PyPI queries
    if os.geteuid() == 0:
        command.append("--allow-root")
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root_dir,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"jupyter {app} did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.3)
        yield Server(url, token, process, log)
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """Stop the server and its kernels (its own process group: the ids we started)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=5)


# ---------------------------------------------------------------- the test notebook

ATTACKS = {
    "svg": "<svg onload=alert(3)>",
    "js": "javascript:alert(4)",
    "close": "</script><script>alert(5)</script>",
    "template": "{{ 7*7 }}",
    "comment": "<!--<script>",
}


def notebook_cells(prefix: str, run: str) -> list[str]:
    """The cells: an evil build, the image list, inspect, history, a slow build (to watch it
    live), and last a failing build (Run All stops at a failing cell)."""
    labels = " ".join(f'{k}="{v}"' for k, v in ATTACKS.items())
    evil = (
        f"%%dockerfile -t {prefix}-evil:latest --label nbdtest.run={run}\n"
        "FROM busybox\n"
        f"LABEL {labels}\n"
        'ENV EVIL="<img src=x onerror=alert(6)>"\n'
        f"RUN echo {run} '<script>alert(1)</script>' ; echo '<img src=x onerror=alert(2)>'; "
        "printf '\\033[31mred\\033[0m\\n'; echo '</script>'\n"
        f'RUN for i in $(seq 1 300); do echo "{run} line $i"; done\n'
        "CMD [\"sh\", \"-c\", \"echo '<b>{{ 7*7 }}</b>'\"]\n"
    )
    slow = (
        f"%%dockerfile -t {prefix}-slow:latest --label nbdtest.run={run}\n"
        "FROM busybox\n"
        f'RUN for i in $(seq 1 80); do echo "{run} tick $i"; sleep 0.1; done\n'
    )
    failing = (
        f"%%dockerfile -t {prefix}-fail:latest\n"
        "FROM busybox\n"
        f"RUN echo 'about to fail {run}' && printf '\\033[1;33mwarning\\033[0m\\n' && exit 3\n"
    )
    return [
        "%load_ext nbdocker",
        evil,
        f"%docker images --filter label=nbdtest.run={run}",
        f"%docker inspect {prefix}-evil:latest",
        f"%docker history {prefix}-evil:latest",
        slow,
        failing,
    ]


def write_notebook(path: Path, cells: list[str]) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, path)
    return path


def build_sized_images(api, prefix: str, run: str) -> dict[str, int]:  # noqa: ANN001
    """Three tagged images of different sizes and one dangling one, labelled with the run."""
    import io

    sizes = {"small": 50_000, "medium": 1_500_000, "large": 3_000_000, "": 700_000}
    made = {}
    for name, size in sizes.items():
        dockerfile = f"FROM busybox\nRUN head -c {size} /dev/zero > /data-{run}-{name or 'dangling'}\n"
        tag = f"{prefix}-{name}:latest" if name else None
        stream = api.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True, forcerm=True,
                           network_mode="none", labels={"nbdtest.run": run}, decode=True)
        image_id = None
        for chunk in stream:
            if "error" in chunk:
                raise RuntimeError(chunk["error"])
            if "aux" in chunk and "ID" in chunk["aux"]:
                image_id = chunk["aux"]["ID"]
        made[name or "<none>"] = image_id
    return made


def remove_run_images(api, run: str) -> None:  # noqa: ANN001
    """Every image labelled with this run (tagged or dangling), and nothing else."""
    for image in api.images(all=True, filters={"label": f"nbdtest.run={run}"}):
        try:
            api.remove_image(image["Id"], force=True)
        except Exception:  # noqa: BLE001 - a child went first and took it along
            pass
