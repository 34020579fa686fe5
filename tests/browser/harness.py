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
from typing import Iterator

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
    # and the notebook's kernel started without asking (a "Select Kernel" dialog shows otherwise
    # when the kernel specs arrive after the notebook opens).
    (tracker / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none", "autoStartDefaultKernel": True}))
    log = work / f"{app}-server.log"
    command = [sys.executable, "-m", "jupyter", app, "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root_dir}", "--ServerApp.terminals_enabled=False"]
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
