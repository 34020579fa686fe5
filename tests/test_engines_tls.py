"""A remote engine over TLS: a second dockerd on tcp://127.0.0.1:23760 with --tlsverify and certs
made by `scripts/engine.sh tls`. Builds on both builders, run, interrupt and push work as over the
socket; a wrong or missing certificate is one line; a plain tcp:// engine works and warns.

The machine sets REQUESTS_CA_BUNDLE (managed machines do): every test here runs with it set, so
the engine's CA must win for these connections to work at all.
"""
from __future__ import annotations

import json
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from test_engines_legs import assert_interrupt_stops_and_removes, clean_engine, start_leg, stop_leg

import nbdocker
from nbdocker.engine.endpoint import EngineClient, locate_endpoint
from nbdocker.errors import EngineUnavailable

pytestmark = pytest.mark.engine
BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


@pytest.fixture(scope="module")
def tls_leg():
    leg = start_leg("tls")
    url, certs = leg.words[0], Path(leg.words[1])
    env = {"DOCKER_HOST": url, "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)}
    found = locate_endpoint(None, environ=env)
    client = EngineClient(base_url=found.base_url, tls=found.tls, version="auto", timeout=30)
    # The leg's engine is ours alone: its build cache goes too (cleanups run last first).
    leg.cleanups += [client.close, client.prune_builds, lambda: clean_engine(client)]
    leg.client, leg.url, leg.certs, leg.env = client, url, certs, env
    yield leg
    stop_leg(leg)


@pytest.fixture
def on_tls(ip, tls_leg, monkeypatch):
    """The kernel points at the TLS engine by environment variables, as a user would."""
    ip.run_line_magic("config", "DockerMagics.timeout = 30")  # a loaded CI machine is slow, not stalled
    for key, value in tls_leg.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", BUNDLE)
    monkeypatch.setenv("CURL_CA_BUNDLE", BUNDLE)
    return tls_leg


def one_line(ip, line: str) -> str:
    with pytest.raises(EngineUnavailable) as info:
        ip.run_line_magic("docker", line)
    (rendered,) = info.value._render_traceback_()
    assert "\n" not in rendered
    return rendered


def test_environment_variables_reach_the_tls_engine(ip, on_tls):
    ids = ip.run_line_magic("docker", "images -q busybox")
    assert ids == [on_tls.client.inspect_image("busybox:latest")["Id"].split(":")[1][:12]]
    status = nbdocker.status()
    text = str(status)
    assert status.reachable and on_tls.url in text and "TLS, server verified" in text


def test_config_traits_reach_the_tls_engine(ip, tls_leg, monkeypatch):
    for key in ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", BUNDLE)
    certs = tls_leg.certs
    try:
        ip.run_line_magic("config", f"DockerMagics.tls_ca_cert = '{certs}/ca.pem'")
        ip.run_line_magic("config", f"DockerMagics.tls_client_cert = '{certs}/cert.pem'")
        ip.run_line_magic("config", f"DockerMagics.tls_client_key = '{certs}/key.pem'")
        ip.run_line_magic("config", f"DockerMagics.base_url = '{tls_leg.url}'")
        info = ip.run_line_magic("docker", "inspect busybox")
        attrs = info.attrs if isinstance(info.attrs, dict) else info.attrs[0]
        assert attrs["Id"] == tls_leg.client.inspect_image("busybox:latest")["Id"]
    finally:
        for trait in ("tls_ca_cert", "tls_client_cert", "tls_client_key"):
            ip.run_line_magic("config", f"DockerMagics.{trait} = ''")


@pytest.mark.parametrize("builder", ["buildkit", "classic"])
def test_builds_on_both_builders(ip, on_tls, api, unique, builder):
    tag = f"{unique}:tls-{builder}"
    result = ip.run_cell_magic("dockerfile", f"--builder {builder} -t {tag}",
                               f"FROM busybox\nRUN echo {unique} > /made-over-tls\n")
    assert result.ok and result.image_id.startswith("sha256:")
    assert on_tls.client.inspect_image(tag)["Id"] == result.image_id
    assert not api.images(name=unique)  # built there, not on the local engine
    assert [s for s in result.steps if s.instruction and "RUN" in s.instruction.text]


def test_run_streams_output(ip, on_tls, unique, capsys):
    r = ip.run_line_magic("docker", f"run --rm --name {unique} busybox sh -c 'echo over; echo tls >&2'")
    out, err = capsys.readouterr()
    assert (r.exit_code, r.stdout, r.stderr) == (0, "over\n", "tls\n") and "over" in out
    assert not on_tls.client.containers(all=True, filters={"name": f"^/{unique}$"})


def test_interrupt_stops_the_container(ip, on_tls, unique):
    assert_interrupt_stops_and_removes(ip, on_tls.client, unique, output=False)


def test_push_to_the_local_registry(ip, on_tls, unique):
    subprocess.run(["bash", "scripts/engine.sh", "registry"], capture_output=True, timeout=300)
    ref = f"127.0.0.1:5000/{unique}/tls:1"
    built = ip.run_cell_magic("dockerfile", f"--builder classic -q -t {ref}",
                              f"FROM busybox\nRUN echo {unique} > /f\n")
    pushed = ip.run_line_magic("docker", f"push {ref}")
    assert pushed.digest.startswith("sha256:") and all(layer.done for layer in pushed.layers)
    on_tls.client.remove_image(built.image_id, force=True)


def test_a_wrong_client_certificate_is_one_line(ip, on_tls, tmp_path, monkeypatch):
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(wrong / "key.pem"), "-out", str(wrong / "cert.pem"), "-subj", "/CN=intruder"],
                   check=True, capture_output=True)
    (wrong / "ca.pem").write_bytes((on_tls.certs / "ca.pem").read_bytes())
    monkeypatch.setenv("DOCKER_CERT_PATH", str(wrong))
    assert "the engine refused our client certificate" in one_line(ip, "images")
    (wrong / "ca.pem").write_bytes((wrong / "cert.pem").read_bytes())  # a CA that did not sign the engine
    assert "the engine's certificate is not trusted" in one_line(ip, "images")


def test_a_missing_certificate_is_one_line(ip, on_tls, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tmp_path))
    assert "no cert.pem, key.pem, ca.pem there" in one_line(ip, "images")
    monkeypatch.delenv("DOCKER_TLS_VERIFY")
    monkeypatch.delenv("DOCKER_CERT_PATH")  # plain HTTP to a TLS port: the engine says so
    assert "HTTPS server" in one_line(ip, "images")


@pytest.fixture
def plain_tcp():
    """tcp://127.0.0.1:PORT forwarded to the local engine's socket: a plain TCP engine, no TLS."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()
    sockets: list[socket.socket] = []
    threads: list[threading.Thread] = []

    def pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):  # the other direction's recv ends too
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            engine = socket.socket(socket.AF_UNIX)
            engine.connect("/var/run/docker.sock")
            sockets.extend((conn, engine))
            for a, b in ((conn, engine), (engine, conn)):
                threads.append(threading.Thread(target=pipe, args=(a, b), daemon=True))
                threads[-1].start()

    acceptor = threading.Thread(target=serve, daemon=True)
    acceptor.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    acceptor.join(5)
    for s in sockets:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    for t in threads:
        t.join(5)
    for s in [*sockets, server]:
        s.close()


def test_plain_tcp_works_and_warns_once(ip, engine, plain_tcp, monkeypatch, capsys):
    for key in ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DOCKER_HOST", plain_tcp)
    assert ip.run_line_magic("docker", "images -q busybox")
    err = capsys.readouterr().err
    assert err.count("WARNING") == 1 and f"{plain_tcp} is plain TCP without TLS" in err and "root" in err
    assert ip.run_line_magic("docker", "images -q busybox")
    assert "WARNING" not in capsys.readouterr().err  # once per endpoint
    assert "plain TCP, no TLS" in str(nbdocker.status())


def test_the_quickstart_runs_unchanged_over_tls_and_shows_no_secret(tls_leg, tmp_path):
    # binder/README.md: a notebook pointed at a remote TLS engine by environment variables and cert
    # files. Nothing of the key (nor any PEM block) may reach the saved notebook, widget state included.
    from test_quickstart import _execute

    env = dict(tls_leg.env, REQUESTS_CA_BUNDLE=BUNDLE, CURL_CA_BUNDLE=BUNDLE)
    nb = _execute(tmp_path, env)
    saved = json.dumps(nb)
    assert "engine ready" in saved and tls_leg.url in saved and "TLS, server verified" in saved
    key = (tls_leg.certs / "key.pem").read_text()
    body = "".join(key.strip().splitlines()[1:-1])
    assert "PRIVATE KEY" not in saved and "BEGIN CERTIFICATE" not in saved
    assert not any(chunk in saved for chunk in (body[i:i + 40] for i in range(0, len(body) - 40, 40)))
