"""`%docker context ls / use / show` against the docker CLI's own contexts, in a throwaway
DOCKER_CONFIG: the CLI creates them, nbdocker lists and switches them, and both agree on which one
is current. DOCKER_CONTEXT overrides `use`, DOCKER_HOST overrides both; an unknown context is a
one-line error that lists the known ones. A context with TLS files reaches the TLS leg's engine.
"""
from __future__ import annotations

import json
import subprocess

import pytest
from test_engines_legs import start_leg, stop_leg

import nbdocker
from nbdocker.commands.contexts import ContextChange, ContextList
from nbdocker.engine import endpoint
from nbdocker.errors import NbDockerError

pytestmark = pytest.mark.engine
SOCKET = "unix:///var/run/docker.sock"
NOWHERE = "tcp://127.0.0.1:1"


def cli(*args: str) -> str:
    done = subprocess.run(["docker", "context", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def contexts(ip, tmp_path, monkeypatch, engine):
    """A DOCKER_CONFIG of our own with contexts `here` (the local engine) and `nowhere`."""
    ip.run_line_magic("config", "DockerMagics.timeout = 30")  # a loaded CI machine is slow, not stalled
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    for key in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(key, raising=False)
    cli("create", "here", "--docker", f"host={SOCKET}", "--description", "<b>this</b> engine")
    cli("create", "nowhere", "--docker", f"host={NOWHERE}")
    return tmp_path


def cli_rows() -> list[tuple[str, bool, str]]:
    rows = [json.loads(line) for line in cli("ls", "--format", "json").splitlines()]
    return [(r["Name"], bool(r["Current"]), r["DockerEndpoint"]) for r in rows]


def our_rows(ip) -> list[tuple[str, bool, str]]:
    listed = ip.run_line_magic("docker", "context ls")
    assert isinstance(listed, ContextList)
    return [(r.name, r.current, r.endpoint) for r in listed.rows]


def one_line(ip, line: str) -> str:
    with pytest.raises(NbDockerError) as info:
        ip.run_line_magic("docker", line)
    (rendered,) = info.value._render_traceback_()
    assert "\n" not in rendered
    return rendered


def test_ls_is_the_clis(ip, contexts):
    assert our_rows(ip) == cli_rows()
    assert list(ip.run_line_magic("docker", "context ls -q")) == cli("ls", "-q").split()
    html = ip.run_line_magic("docker", "context list")._repr_mimebundle_()["text/html"]
    assert "&lt;b&gt;this&lt;/b&gt;" in html and "<b>this" not in html


def test_use_switches_for_the_cli_and_for_the_next_line(ip, contexts, capsys, monkeypatch):
    monkeypatch.setattr(endpoint, "_WARNED", set())  # once per endpoint and process: this test's own
    changed = ip.run_line_magic("docker", "context use here")
    assert isinstance(changed, ContextChange) and 'Current context is now "here"' in str(changed)
    assert cli("show").strip() == "here" and our_rows(ip) == cli_rows()
    assert ip.run_line_magic("docker", "images -q busybox")
    assert "context: here" in str(nbdocker.status())
    ip.run_line_magic("docker", "context use nowhere")
    line = one_line(ip, "images")
    assert line.startswith(f"docker engine: cannot reach the engine at {NOWHERE} (context nowhere, "
                           "from docker context use; plain TCP, no TLS)")
    assert "plain TCP without TLS" in capsys.readouterr().err
    ip.run_line_magic("docker", "context use default")
    assert cli("show").strip() == "default"
    assert json.loads((contexts / "config.json").read_text()).get("currentContext") is None
    assert ip.run_line_magic("docker", "context show") == ["default"]


def test_docker_context_overrides_use_and_docker_host_overrides_both(ip, contexts, monkeypatch):
    ip.run_line_magic("docker", "context use nowhere")
    monkeypatch.setenv("DOCKER_CONTEXT", "here")
    assert our_rows(ip) == cli_rows() and ("here", True, SOCKET) in our_rows(ip)
    assert ip.run_line_magic("docker", "images -q busybox")
    monkeypatch.setenv("DOCKER_HOST", SOCKET)
    monkeypatch.setenv("DOCKER_CONTEXT", "nowhere")
    assert our_rows(ip) == cli_rows() and ("default", True, SOCKET) in our_rows(ip)
    assert ip.run_line_magic("docker", "images -q busybox")  # DOCKER_HOST wins, as for the CLI
    changed = ip.run_line_magic("docker", "context use here")
    assert "DOCKER_HOST environment variable overrides the active context" in str(changed)


def test_an_unknown_context_is_refused_listing_the_known_ones(ip, contexts, monkeypatch):
    line = one_line(ip, "context use nosuch")
    assert "'nosuch' does not exist (known contexts: default, here, nowhere)" in line
    monkeypatch.setenv("DOCKER_CONTEXT", "nosuch")
    line = one_line(ip, "images")  # the CLI refuses it too; it never falls back to the socket
    assert "'nosuch' does not exist" in line
    found = nbdocker.status()
    assert not found.reachable and "'nosuch' does not exist" in str(found)


def test_a_context_with_tls_files_reaches_the_tls_engine(ip, contexts):
    leg = start_leg("tls")
    try:
        url, certs = leg.words
        cli("create", "secure", "--docker",
            f"host={url},ca={certs}/ca.pem,cert={certs}/cert.pem,key={certs}/key.pem")
        ip.run_line_magic("docker", "context use secure")
        assert ip.run_line_magic("docker", "images -q busybox")
        found = nbdocker.status()
        assert found.reachable and found.context == "secure" and found.security == "TLS, server verified"
    finally:
        stop_leg(leg)
