"""An engine that dies mid-build: a second, throwaway `dockerd` killed with SIGKILL during a RUN.

The throwaway engine has its own socket, data root, exec root and pidfile, no bridge and no
iptables (as the shared test engine), and busybox loaded from the shared engine. A finalizer kills
exactly what it started (dockerd, its containerd, the shims and container processes under them),
unmounts what is left under its data root, and removes its directories.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from IPython.utils.capture import capture_output

from conftest import skip_or_fail
from nbdocker.errors import BuildFailed, EngineUnavailable

pytestmark = pytest.mark.engine

BUILDERS = ("buildkit", "classic")


@dataclass
class Throwaway:
    process: subprocess.Popen
    root: Path

    @property
    def url(self) -> str:
        return f"unix://{self.root}/docker.sock"

    @property
    def containerd_address(self) -> str:
        return f"{self.root}/exec/containerd/containerd.sock"


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _parents() -> dict[int, int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return parents


def _root_mount(pid: int) -> str:
    """The line of /proc/PID/mountinfo for its "/" (a container's names its overlay dirs)."""
    try:
        with open(f"/proc/{pid}/mountinfo") as f:
            return next((line for line in f if line.split()[4:5] == ["/"]), "")
    except OSError:
        return ""


def _ours(engine: Throwaway) -> set[int]:
    """The daemon, every process naming its directories (containerd, shims, runc), every process
    whose root file system lies under them (build containers, orphaned once runc or the shim
    died), and the children of all of these."""
    parents = _parents()
    marker = str(engine.root)
    found = {engine.process.pid} if engine.process.poll() is None else set()
    found |= {pid for pid in parents
              if marker.encode() in _cmdline(pid) or marker + "/" in _root_mount(pid)}
    grew = True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in found} - found
        grew = bool(children)
        found |= children
    return found


def _shim_sockets(engine: Throwaway, pids: set[int]) -> list[Path]:
    """containerd-shim sockets of this engine's shims: /run/containerd/s/sha256(address/ns/id)."""
    sockets = []
    for pid in pids:
        words = _cmdline(pid).split(b"\0")
        if b"-id" in words and b"-namespace" in words:
            ident = words[words.index(b"-id") + 1].decode()
            namespace = words[words.index(b"-namespace") + 1].decode()
            digest = hashlib.sha256(f"{engine.containerd_address}/{namespace}/{ident}".encode()).hexdigest()
            sockets.append(Path("/run/containerd/s") / digest)
    return sockets


def _clean(engine: Throwaway) -> None:
    shims: list[Path] = []
    for _ in range(20):
        pids = _ours(engine)
        if not pids:
            break
        shims += _shim_sockets(engine, pids)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
    engine.process.wait(timeout=10)
    left = _ours(engine)
    for path in shims:
        path.unlink(missing_ok=True)
    with open("/proc/self/mountinfo") as f:
        mounts = [line.split()[4] for line in f]
    for mount in sorted((m for m in mounts if m.startswith(str(engine.root) + "/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", mount], capture_output=True)
    shutil.rmtree(engine.root, ignore_errors=True)
    assert not left, f"processes of the throwaway engine survived: {sorted(left)}"


@pytest.fixture
def throwaway(api, request):
    if os.geteuid() != 0 or shutil.which("dockerd") is None:
        skip_or_fail("needs root and dockerd to start a throwaway engine")
    root = Path(tempfile.mkdtemp(prefix="nbdd-", dir="/tmp"))  # short: AF_UNIX paths max 107 bytes
    log = open(root / "dockerd.log", "wb")
    process = subprocess.Popen(
        ["dockerd", "-H", f"unix://{root}/docker.sock", "--data-root", f"{root}/data",
         "--exec-root", f"{root}/exec", "--pidfile", f"{root}/docker.pid",
         "--bridge=none", "--iptables=false", "--ip-forward=false", "--ip-masq=false"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    engine = Throwaway(process, root)
    request.addfinalizer(lambda: (_clean(engine), log.close()))
    cli = ["docker", "-H", engine.url]
    deadline = time.monotonic() + 60
    while subprocess.run([*cli, "version"], capture_output=True).returncode != 0:
        if time.monotonic() > deadline or process.poll() is not None:
            pytest.fail(f"the throwaway dockerd did not start: {(root / 'dockerd.log').read_text()[-2000:]}")
        time.sleep(0.3)
    save = subprocess.Popen(["docker", "save", "busybox:latest"], stdout=subprocess.PIPE)
    loaded = subprocess.run([*cli, "load"], stdin=save.stdout, capture_output=True, timeout=120)
    save.stdout.close()
    assert save.wait() == 0 and loaded.returncode == 0, loaded.stderr
    return engine


@pytest.mark.parametrize("builder", BUILDERS)
def test_engine_killed_mid_build_is_one_clear_line_and_no_hang(ip, throwaway, unique, builder):
    ip.run_line_magic("config", f"DockerMagics.base_url = '{throwaway.url}'")
    marker = f"{unique}-doomed"
    killer = threading.Timer(2, lambda: throwaway.process.send_signal(signal.SIGKILL))
    start = time.monotonic()
    killer.start()
    try:
        with capture_output() as captured:
            cell = ip.run_cell(f"%%dockerfile --builder {builder} -t {unique}:doomed\n"
                               f"FROM busybox\nRUN echo {marker} && sleep 30\n")
    finally:
        killer.cancel()
    took = time.monotonic() - start
    assert throwaway.process.wait(timeout=5) == -signal.SIGKILL  # it really died mid-build
    assert took < 10, took
    error = cell.error_in_exec
    assert isinstance(error, (EngineUnavailable, BuildFailed)), repr(error)
    (line,) = error._render_traceback_()
    assert "\n" not in line and throwaway.url in line, line
    assert "went away during the build" in line and "connection broke" in line
    output = captured.stdout + captured.stderr
    assert "Traceback" not in output
    assert [text for text in output.splitlines() if text.startswith(line[:40])] == [line]
    # the live view did not stay "running": the step that was running ends as failed
    run_lines = [text for text in output.splitlines() if "line 2: " in text]
    assert "running" in run_lines[-2] and "failed" in run_lines[-1], output
    # the kernel is usable: Python, and nbdocker on the shared engine
    ip.run_line_magic("config", "DockerMagics.base_url = None")
    assert ip.run_cell("6 * 7").result == 42
    assert ip.run_line_magic("docker", "images -q busybox")
    # and pointing back at the dead endpoint fails fast, in one line
    ip.run_line_magic("config", f"DockerMagics.base_url = '{throwaway.url}'")
    start = time.monotonic()
    with pytest.raises(EngineUnavailable, match="docker.sock"):
        ip.run_line_magic("docker", "images")
    assert time.monotonic() - start < 5
