"""The IPython glue, through a real InteractiveShell: loading, unloading, %config, help, errors.

`ip` is one shell for the whole session: every test leaves the extension loaded and the
configuration as it found it (the conftest fixture resets display, timeout and base_url).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from IPython.utils.capture import capture_output

from nbdocker.errors import CommandFailed, EngineError, EngineUnavailable, InvalidReference, \
    NbDockerError, UsageError
from nbdocker.views.results import IdList

from test_engine import SilentServer  # noqa: E402  (a real stalled endpoint)


def magics_state(ip) -> dict:
    """What an extension can add to a shell: magics, their registry, configurables."""
    manager = ip.magics_manager
    return {
        "line": dict(manager.magics["line"]),
        "cell": dict(manager.magics["cell"]),
        "registry": dict(manager.registry),
        "configurables": list(ip.configurables),
    }


def docker_magics(ip):
    return ip.magics_manager.registry["DockerMagics"]


def run_cell(ip, cell: str):
    """Run a cell as the notebook would; returns (result, captured output)."""
    with capture_output() as captured:
        result = ip.run_cell(cell)
    return result, captured


# ---------------------------------------------------------------- loading and unloading


def test_loading_registers_the_line_and_cell_magics(ip):
    line = ip.find_line_magic("docker")
    cell = ip.find_cell_magic("dockerfile")
    assert line is not None and cell is not None
    assert line.__self__ is cell.__self__ is docker_magics(ip)
    assert sum(c is docker_magics(ip) for c in ip.configurables) == 1  # once, not twice
    assert "nbdocker" in ip.extension_manager.loaded


def test_unloading_removes_exactly_what_loading_added(ip):
    loaded = magics_state(ip)
    try:
        ip.run_line_magic("unload_ext", "nbdocker")
        unloaded = magics_state(ip)
        assert "nbdocker" not in ip.extension_manager.loaded
        assert ip.find_line_magic("docker") is None and ip.find_cell_magic("dockerfile") is None
        assert set(loaded["line"]) - set(unloaded["line"]) == {"docker"}
        assert set(loaded["cell"]) - set(unloaded["cell"]) == {"dockerfile"}
        assert set(loaded["registry"]) - set(unloaded["registry"]) == {"DockerMagics"}
        assert [c for c in loaded["configurables"] if c not in unloaded["configurables"]] == \
            [loaded["registry"]["DockerMagics"]]
        # nothing else touched, nothing added
        assert set(unloaded["line"]) <= set(loaded["line"])
        assert all(unloaded["line"][k] == loaded["line"][k] for k in unloaded["line"])
        assert all(unloaded["cell"][k] == loaded["cell"][k] for k in unloaded["cell"])
        assert unloaded["configurables"] == [c for c in loaded["configurables"]
                                             if c is not loaded["registry"]["DockerMagics"]]
        with pytest.raises(Exception, match="docker"):
            ip.run_line_magic("docker", "images -q")
        # loading again adds the same things back, and only them
        ip.run_line_magic("load_ext", "nbdocker")
        again = magics_state(ip)
        assert set(again["line"]) == set(loaded["line"])
        assert set(again["cell"]) == set(loaded["cell"])
        assert set(again["registry"]) == set(loaded["registry"])
        assert len(again["configurables"]) == len(loaded["configurables"])
        # a second load is a no-op
        ip.run_line_magic("load_ext", "nbdocker")
        assert len(ip.configurables) == len(loaded["configurables"])
    finally:
        if "nbdocker" not in ip.extension_manager.loaded:
            ip.run_line_magic("load_ext", "nbdocker")


def test_reload_ext_leaves_one_working_copy(ip):
    before = magics_state(ip)
    try:
        ip.run_line_magic("reload_ext", "nbdocker")
    finally:
        if ip.find_line_magic("docker") is None:
            ip.run_line_magic("load_ext", "nbdocker")
    after = magics_state(ip)
    assert set(after["line"]) == set(before["line"])
    assert len(after["configurables"]) == len(before["configurables"])
    assert sum(type(c).__name__ == "DockerMagics" for c in ip.configurables) == 1
    assert ip.find_line_magic("docker").__self__ is docker_magics(ip)


FRESH_SHELL = r"""
import json, socket, sys, time
attempts = []
real_connect = socket.socket.connect
def recording_connect(self, address):
    attempts.append(str(address))
    return real_connect(self, address)
socket.socket.connect = recording_connect

from IPython.testing.globalipapp import start_ipython
ip = start_ipython()
start = time.monotonic()
ip.run_line_magic("load_ext", "nbdocker")
ip.run_line_magic("config", "DockerMagics.base_url = 'tcp://192.0.2.1:2375'")  # TEST-NET: unroutable
ip.run_line_magic("config", "DockerMagics.timeout = 2")
ip.run_line_magic("config", "DockerMagics.base_url = None")
loading = time.monotonic() - start
contacted = list(attempts)
heavy = sorted(m for m in ("docker", "requests", "urllib3", "anywidget", "ipywidgets", "paramiko",
                           "nbclient", "nbconvert") if m in sys.modules)

from nbdocker.errors import EngineUnavailable
start = time.monotonic()
try:
    ip.run_line_magic("docker", "images")
    error = None
except EngineUnavailable as err:
    error = err._render_traceback_()
failing = time.monotonic() - start
print(json.dumps({"loading": loading, "contacted": contacted, "error": error, "failing": failing,
                  "after": attempts, "heavy": heavy}))
"""


def test_loading_never_contacts_the_engine():
    """A fresh shell whose DOCKER_HOST points nowhere: loading and %config are instant and silent."""
    env = dict(os.environ, DOCKER_HOST="unix:///tmp/nbdocker-nope.sock")
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(sys.modules["nbdocker"].__file__))
    done = subprocess.run([sys.executable, "-c", FRESH_SHELL], capture_output=True, text=True,
                          env=env, timeout=60, cwd="/")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["contacted"] == []
    assert report["after"] == ["/tmp/nbdocker-nope.sock"]  # the recorder does see connections
    # Loading is cheap because it imports nothing heavy: the SDK, requests and the widget
    # libraries come with the first command that needs them (bench/bench_load.py times it).
    assert report["heavy"] == []
    # the first command is what reaches for the engine, and says where it looked
    (line,) = report["error"]
    assert "unix:///tmp/nbdocker-nope.sock" in line and "no socket there" in line


# ---------------------------------------------------------------- %config


def test_config_timeout_and_base_url_recreate_the_engine(ip, engine):
    magics = docker_magics(ip)
    ip.run_line_magic("docker", "images -q busybox")
    first = magics._engine
    assert first is not None and first.timeout == 5.0
    ip.run_line_magic("config", "DockerMagics.timeout = 1.5")
    assert magics.timeout == 1.5
    assert magics._engine is None  # dropped; made again on next use
    ip.run_line_magic("docker", "images -q busybox")
    assert magics._engine is not first
    assert magics._engine.timeout == 1.5 and magics._engine.sdk.timeout == 1.5
    ip.run_line_magic("config", "DockerMagics.base_url = 'unix:///tmp/nbdocker-nope.sock'")
    assert magics._engine is None
    with pytest.raises(EngineUnavailable, match="nbdocker-nope.sock"):
        ip.run_line_magic("docker", "images -q busybox")
    ip.run_line_magic("config", "DockerMagics.base_url = None")
    assert ip.run_line_magic("docker", "images -q busybox")


def test_docker_host_set_in_the_kernel_is_followed(ip, engine, monkeypatch):
    """`%env DOCKER_HOST=…` after the engine was made: the next command goes there."""
    ip.run_line_magic("docker", "images -q busybox")
    monkeypatch.setenv("DOCKER_HOST", "unix:///tmp/nbdocker-nope.sock")
    with pytest.raises(EngineUnavailable, match="unix:///tmp/nbdocker-nope.sock"):
        ip.run_line_magic("docker", "images -q busybox")
    # %config base_url wins over DOCKER_HOST
    ip.run_line_magic("config", "DockerMagics.base_url = 'unix:///var/run/docker.sock'")
    assert ip.run_line_magic("docker", "images -q busybox")
    ip.run_line_magic("config", "DockerMagics.base_url = None")
    monkeypatch.delenv("DOCKER_HOST")
    assert ip.run_line_magic("docker", "images -q busybox")


def test_config_reads_back_and_has_help(ip, capsys):
    ip.run_line_magic("config", "DockerMagics.timeout = 3")
    assert ip.run_line_magic("config", "DockerMagics.timeout") == 3
    ip.run_line_magic("config", "DockerMagics")
    out = capsys.readouterr().out
    for trait in ("base_url", "timeout", "display", "builder"):
        assert f"DockerMagics.{trait}" in out


def test_config_display_text_drops_html(ip, engine):
    ip.run_line_magic("config", "DockerMagics.display = 'text'")
    result = ip.run_line_magic("docker", "images busybox")
    assert set(result._repr_mimebundle_()) == {"text/plain"}
    ip.run_line_magic("config", "DockerMagics.display = 'html'")
    assert set(result._repr_mimebundle_()) == {"text/plain", "text/html"}


def test_unreachable_engine_by_config_fails_in_one_line_within_the_timeout(ip):
    ip.run_line_magic("config", "DockerMagics.timeout = 1")
    ip.run_line_magic("config", "DockerMagics.base_url = 'unix:///tmp/nbdocker-nope.sock'")
    start = time.monotonic()
    result, captured = run_cell(ip, "%docker images")
    assert time.monotonic() - start < 1 + 1
    assert isinstance(result.error_in_exec, EngineUnavailable)
    lines = captured.stdout.strip().splitlines()
    assert len(lines) == 1, captured.stdout
    assert "unix:///tmp/nbdocker-nope.sock" in lines[0] and "start the Docker engine" in lines[0]
    assert "Traceback" not in captured.stdout + captured.stderr


def test_stalled_engine_by_config_times_out_in_one_line(ip):
    import socket

    server = SilentServer(socket.AF_INET, ("127.0.0.1", 0))
    try:
        host, port = server.sock.getsockname()
        ip.run_line_magic("config", "DockerMagics.timeout = 1")
        ip.run_line_magic("config", f"DockerMagics.base_url = 'tcp://{host}:{port}'")
        start = time.monotonic()
        result, captured = run_cell(ip, "%docker rmi nbdtest-never-a nbdtest-never-b")
        elapsed = time.monotonic() - start
    finally:
        server.close()
    assert elapsed < 1 + 1  # one timeout, not one per argument
    assert isinstance(result.error_in_exec, EngineUnavailable)
    (line,) = captured.stdout.strip().splitlines()
    assert f"tcp://{host}:{port}" in line and "no answer within 1 s" in line


# ---------------------------------------------------------------- help and usage errors


def test_docker_help_is_the_real_help(ip):
    doc = ip.find_magic("docker").__doc__
    for command in ("images", "inspect", "history", "tag", "rmi", "image"):
        assert f"    {command} " in doc, command
    for usage in ("%docker images", "%docker inspect", "%docker history", "%docker tag", "%docker rmi"):
        assert usage in doc
    assert "--no-prune" in doc and "--digests" in doc
    result, captured = run_cell(ip, "%docker?")
    assert result.success
    assert "%docker rmi [-h] [-f] [--no-prune]" in captured.stdout
    assert "dockerfile" in ip.find_cell_magic("dockerfile").__doc__


def test_rmi_h_prints_the_usage_and_returns_nothing(ip, capsys):
    assert ip.run_line_magic("docker", "rmi -h") is None
    out = capsys.readouterr().out
    assert out.startswith("usage: %docker rmi [-h] [-f] [--no-prune] IMAGE [IMAGE ...]")
    assert "Force removal of the image" in out


@pytest.mark.parametrize("cell, prog", [
    ("%docker bogus", "%docker"),
    ("%docker images --bogus", "%docker images"),
    ("%docker image ls --bogus", "%docker image ls"),
    ("%docker rmi", "%docker rmi"),
    ("%docker images -f", "%docker images"),
])
def test_usage_errors_are_one_line_and_fail_the_cell(ip, cell, prog):
    result, captured = run_cell(ip, cell)
    assert isinstance(result.error_in_exec, UsageError)
    assert not result.success
    lines = captured.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: "), captured.stdout
    assert "Traceback" not in captured.stdout + captured.stderr


@pytest.mark.engine
def test_a_failing_magic_stops_the_cell(ip, unique):
    ip.user_ns.pop("after_failure", None)
    result, captured = run_cell(ip, f"%docker history {unique}:nope\nafter_failure = 1")
    assert isinstance(result.error_in_exec, EngineError)
    assert "after_failure" not in ip.user_ns
    assert captured.stdout.strip().count("\n") == 0
    assert f"No such image: {unique}:nope" in captured.stdout


def test_invalid_reference_is_one_line_before_the_engine(ip):
    result, captured = run_cell(ip, "%docker tag busybox My/App:1")
    assert isinstance(result.error_in_exec, InvalidReference)
    assert captured.stdout.strip() == \
        "invalid reference: 'My/App:1': repository name must be lowercase (try 'my/app')"


def test_every_error_is_one_family(ip):
    for cls in (UsageError, EngineError, EngineUnavailable, InvalidReference, CommandFailed):
        assert issubclass(cls, NbDockerError)


# ---------------------------------------------------------------- values and expansions


def test_ids_from_images_q_are_an_id_list(ip, engine):
    result, _ = run_cell(ip, "ids = %docker images -q busybox")
    assert result.success
    ids = ip.user_ns["ids"]
    assert type(ids) is IdList and isinstance(ids, list)
    busybox = engine.inspect_image("busybox:latest")["Id"]
    assert ids == [busybox.split(":")[1][:12]]


def test_ipython_expansions_and_trailing_semicolon(ip, engine):
    ip.user_ns["img"] = "busybox"
    result, _ = run_cell(ip, "via_dollar = %docker images -q $img")
    assert result.success
    result, _ = run_cell(ip, "via_braces = %docker images -q {img + ':latest'}")
    assert result.success
    # the `;` reaches the magic (IPython only hides the Out of plain expressions) and is dropped
    result, _ = run_cell(ip, "via_semicolon = %docker images -q busybox;")
    assert result.success
    assert ip.user_ns["via_dollar"] == ip.user_ns["via_braces"] == ip.user_ns["via_semicolon"] != []


def test_an_id_list_shows_as_a_list_in_the_shell(ip):
    data, _ = ip.display_formatter.format(IdList(["ae12487c27f9", "8cfb134022d8"]))
    assert data["text/plain"] == "['ae12487c27f9', '8cfb134022d8']"
    data, _ = ip.display_formatter.format(IdList(["ae12487c27f9"]))
    assert data["text/plain"] == "['ae12487c27f9']"  # one id is still visibly a list
