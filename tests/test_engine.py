"""The engine boundary: lazy client, endpoint resolution, timeouts, and every failure in one line.

Unreachable engines are real: a missing socket, a socket nobody listens on, a regular file, a TCP
server that accepts and never answers, a socket the user may not open. Nothing here is mocked.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import docker.errors
import pytest
import requests.exceptions

import nbdocker
from nbdocker.engine.client import Engine, api_error_message, status_code
from nbdocker.engine.endpoint import DEFAULT_SOCKET, resolve_endpoint, transport_reason
from nbdocker.errors import EngineError, EngineUnavailable, NbDockerError


# ---------------------------------------------------------------- places where no engine answers


@pytest.fixture
def sock_dir():
    # AF_UNIX paths are limited to 107 bytes: pytest's tmp_path can be longer
    path = Path("/tmp") / f"nbd-{os.getpid()}-{time.monotonic_ns()}"
    path.mkdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def bound_not_listening(sock_dir):
    """A socket file that exists, but nothing listens on it."""
    path = sock_dir / "bound.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    yield f"unix://{path}"
    s.close()


@pytest.fixture
def regular_file(sock_dir):
    path = sock_dir / "plain-file.sock"
    path.write_text("not a socket")
    return f"unix://{path}"


class SilentServer:
    """Accepts connections and never answers (a stalled engine)."""

    def __init__(self, family: int, address: str | tuple[str, int]) -> None:
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind(address)
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.accepted: list[socket.socket] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            with contextlib.suppress(OSError):
                conn, _ = self.sock.accept()
                self.accepted.append(conn)

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(2)
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent_tcp():
    server = SilentServer(socket.AF_INET, ("127.0.0.1", 0))
    host, port = server.sock.getsockname()
    yield f"tcp://{host}:{port}", server
    server.close()


@pytest.fixture
def silent_unix(sock_dir):
    path = sock_dir / "silent.sock"
    server = SilentServer(socket.AF_UNIX, str(path))
    yield f"unix://{path}", server
    server.close()


@pytest.fixture
def closed_tcp_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    return f"tcp://127.0.0.1:{port}"


def fail_to_reach(base_url: str, timeout: float = 1.0) -> tuple[EngineUnavailable, float]:
    engine = Engine(base_url, timeout=timeout)
    start = time.monotonic()
    with pytest.raises(EngineUnavailable) as info:
        engine.call("list images", lambda: engine.sdk.images())
    elapsed = time.monotonic() - start
    return info.value, elapsed


def assert_one_actionable_line(err: NbDockerError, base_url: str, reason: str) -> None:
    lines = err._render_traceback_()
    assert len(lines) == 1 and "\n" not in lines[0], lines
    line = lines[0]
    assert line.startswith("docker engine: cannot reach the engine at "), line
    assert base_url in line, line  # names the endpoint
    assert reason in line, line  # says what went wrong
    assert ("start the Docker engine" in line or "docker' group" in line), line  # and what to do


# ---------------------------------------------------------------- laziness and endpoints


def test_making_an_engine_never_contacts_it():
    start = time.monotonic()
    engine = Engine("tcp://192.0.2.1:2375", timeout=30)  # TEST-NET: would hang if contacted
    assert time.monotonic() - start < 0.5
    assert engine._api is None
    assert engine.base_url == "tcp://192.0.2.1:2375"


def test_endpoint_resolution_order(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    assert resolve_endpoint("unix:///given.sock") == ("unix:///given.sock", False)
    assert resolve_endpoint(None)[0] == "tcp://127.0.0.1:1"
    monkeypatch.delenv("DOCKER_HOST")
    monkeypatch.setenv("DOCKER_CONFIG", "/nonexistent-nbdocker-config")  # no context: the socket
    assert resolve_endpoint(None) == (DEFAULT_SOCKET, False)


def test_a_broken_docker_config_falls_back_to_the_socket(monkeypatch, tmp_path):
    (tmp_path / "config.json").write_text("{ not json")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert resolve_endpoint(None) == (DEFAULT_SOCKET, False)


def test_the_real_engine_answers_with_the_configured_timeout(engine):
    ours = Engine(timeout=7)
    assert ours._api is None
    assert ours.sdk.ping()
    assert ours.sdk.timeout == 7
    assert ours.call("version", ours.sdk.version)["Version"] == engine.version()["Version"]
    ours.close()
    assert ours._api is None
    assert ours.sdk.ping()  # made again on next use
    ours.close()


# ---------------------------------------------------------------- engine errors


def test_an_engine_error_is_translated_with_its_status(engine, unique):
    ours = Engine()
    with pytest.raises(EngineError) as info:
        ours.call("inspect", ours.sdk.inspect_image, f"{unique}:nope")
    assert status_code(info.value) == 404
    assert isinstance(info.value.__cause__, docker.errors.NotFound)  # raise … from err
    # the engine's own words, whole (20.10 says "no such image: X: No such image: X" here, as the
    # CLI prints it too), on one line
    (line,) = info.value._render_traceback_()
    assert line.startswith("docker: ") and f"No such image: {unique}:nope" in line
    ours.close()


def test_api_error_message_is_the_engines_own_words():
    response = requests.models.Response()
    response.status_code = 409
    err = docker.errors.APIError("409 Client Error", response=response, explanation=b"conflict: x")
    assert api_error_message(err) == "conflict: x"
    assert status_code(EngineError("x")) is None


# ---------------------------------------------------------------- unreachable engines


def test_missing_socket(sock_dir):
    url = f"unix://{sock_dir}/nope.sock"
    err, elapsed = fail_to_reach(url)
    assert_one_actionable_line(err, url, "no socket there")
    assert elapsed < 1 + 1


def test_socket_file_nobody_listens_on(bound_not_listening):
    err, elapsed = fail_to_reach(bound_not_listening)
    assert_one_actionable_line(err, bound_not_listening, "connection refused")
    assert elapsed < 1 + 1


def test_regular_file_where_the_socket_should_be(regular_file):
    err, elapsed = fail_to_reach(regular_file)
    assert_one_actionable_line(err, regular_file, "connection refused")
    assert elapsed < 1 + 1


def test_closed_tcp_port(closed_tcp_port):
    err, elapsed = fail_to_reach(closed_tcp_port)
    assert_one_actionable_line(err, closed_tcp_port, "connection refused")
    assert elapsed < 1 + 1


@pytest.mark.parametrize("which", ["silent_tcp", "silent_unix"])
def test_an_engine_that_never_answers_times_out(request, which):
    url, server = request.getfixturevalue(which)
    err, elapsed = fail_to_reach(url, timeout=1.0)
    assert server.accepted, "the client never connected"
    assert_one_actionable_line(err, url, "no answer within 1 s")
    assert 0.9 < elapsed < 1 + 1


def test_an_engine_that_stalls_after_connecting_times_out_per_call(engine, silent_tcp):
    """A client already made (version known) still gives up on a stalled metadata call."""
    url, server = silent_tcp
    ours = Engine(url, timeout=1.0)
    ours._api = docker.APIClient(base_url=url, version="1.41", timeout=1.0)  # no version probe
    start = time.monotonic()
    with pytest.raises(EngineUnavailable) as info:
        ours.call("list images", ours.sdk.images)
    assert time.monotonic() - start < 2
    assert "no answer within 1 s" in str(info.value)
    ours.close()


PERMISSION_SCRIPT = """
import sys
from nbdocker.engine.client import Engine
from nbdocker.errors import EngineUnavailable
try:
    Engine(sys.argv[1], timeout=2).sdk
except EngineUnavailable as err:
    print(err._render_traceback_()[0])
"""


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv to drop root")
def test_permission_denied_on_the_socket(silent_unix):
    """As root a mode-0600 socket opens anyway: the client runs as `nobody`, like a user outside
    the docker group."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run the client as nobody")
    url, _ = silent_unix
    path = url.removeprefix("unix://")
    os.chmod(path, 0o600)
    os.chmod(os.path.dirname(path), 0o755)
    package_root = os.path.dirname(os.path.dirname(nbdocker.__file__))
    probe = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                            sys.executable, "-c", "import nbdocker"], capture_output=True, text=True,
                           env={"PYTHONPATH": package_root, "PATH": os.environ["PATH"]}, cwd="/")
    if probe.returncode != 0:
        pytest.skip(f"nobody cannot run this Python: {probe.stderr.strip()[-200:]}")
    result = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                             sys.executable, "-c", PERMISSION_SCRIPT, url], capture_output=True,
                            text=True, env={"PYTHONPATH": package_root, "PATH": os.environ["PATH"]},
                            cwd="/", timeout=30)
    line = result.stdout.strip()
    assert line.count("\n") == 0 and url in line, (result.stdout, result.stderr)
    assert "permission denied on the socket" in line
    assert "'docker' group" in line


# ---------------------------------------------------------------- pure: reasons from exception chains


def test_transport_reason_walks_the_cause_chain():
    def chained(outer: BaseException, inner: BaseException) -> BaseException:
        try:
            try:
                raise inner
            except BaseException as err:
                raise outer from err
        except BaseException as err:
            return err

    assert transport_reason(chained(docker.errors.DockerException("x"), FileNotFoundError(2, "x")), 5) \
        == "no socket there (file not found)"
    assert transport_reason(chained(requests.exceptions.ConnectionError("x"),
                                    ConnectionRefusedError(111, "x")), 5) == "connection refused"
    assert transport_reason(chained(docker.errors.DockerException("x"), PermissionError(13, "x")), 5) \
        == "permission denied on the socket"
    assert transport_reason(requests.exceptions.ReadTimeout("x"), 2.5) == "no answer within 2.5 s"
    assert transport_reason(docker.errors.DockerException(
        "Error while fetching server API version: ('Connection aborted.', "
        "FileNotFoundError(2, 'No such file or directory'))"), 5) == "no socket there (file not found)"
    assert transport_reason(docker.errors.DockerException("something else\nmore"), 5) == "something else"
