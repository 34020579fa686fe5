"""Where the engine is, without an engine: precedence, contexts, TLS settings, reasons, warnings.

Pure tests: they read and write files in a temporary DOCKER_CONFIG only.
"""
from __future__ import annotations

import hashlib
import json
import ssl

import docker.errors
import pytest
import requests.exceptions
import urllib3.exceptions

from nbdocker.engine import endpoint as ep
from nbdocker.engine.endpoint import (DEFAULT_SOCKET, EndpointError, EngineClient, TLSFiles,
                                      locate_endpoint, transport_reason)


def make_context(config: object, name: str, host: str, tls_dir: str | None = None) -> None:
    """A context as `docker context create NAME --docker host=HOST` stores it."""
    ident = hashlib.sha256(name.encode()).hexdigest()
    meta = config / "contexts" / "meta" / ident
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({
        "Name": name, "Metadata": {"Description": f"about {name}"},
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}}}))
    if tls_dir:
        target = config / "contexts" / "tls" / ident / "docker"
        target.mkdir(parents=True)
        for f in ("ca.pem", "cert.pem", "key.pem"):
            (target / f).write_text("x")


@pytest.fixture
def env(tmp_path):
    """An environment with its own DOCKER_CONFIG, nothing else set."""
    return {"DOCKER_CONFIG": str(tmp_path), "HOME": str(tmp_path)}


def test_precedence_is_the_clis(env, tmp_path):
    make_context(tmp_path, "far", "tcp://10.0.0.1:2375")
    make_context(tmp_path, "near", "unix:///tmp/near.sock")
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "near", "auths": {}}))
    assert locate_endpoint(None, environ=env).base_url == "unix:///tmp/near.sock"
    assert locate_endpoint(None, environ=env).source == "docker context use"
    env["DOCKER_CONTEXT"] = "far"
    found = locate_endpoint(None, environ=env)
    assert (found.base_url, found.context, found.source) == ("tcp://10.0.0.1:2375", "far", "DOCKER_CONTEXT")
    env["DOCKER_HOST"] = "unix:///tmp/host.sock"  # DOCKER_HOST wins over any context, as for the CLI
    assert locate_endpoint(None, environ=env).base_url == "unix:///tmp/host.sock"
    assert locate_endpoint("unix:///given.sock", environ=env).base_url == "unix:///given.sock"
    env["DOCKER_CONTEXT"] = "default"
    del env["DOCKER_HOST"]
    assert locate_endpoint(None, environ=env).base_url == DEFAULT_SOCKET


def test_an_unknown_context_is_refused_listing_the_known_ones(env, tmp_path):
    make_context(tmp_path, "alpha", "tcp://10.0.0.1:2375")
    env["DOCKER_CONTEXT"] = "nosuch"
    with pytest.raises(EndpointError) as info:
        locate_endpoint(None, environ=env)
    text = "".join(info.value._render_traceback_())
    assert "'nosuch' does not exist" in text and "alpha, default" in text and "\n" not in text
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "gone"}))
    del env["DOCKER_CONTEXT"]
    with pytest.raises(EndpointError, match="'gone' does not exist"):
        locate_endpoint(None, environ=env)


def test_a_broken_config_json_means_the_default_context(env, tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    assert locate_endpoint(None, environ=env).base_url == DEFAULT_SOCKET


def test_context_tls_files_are_used(env, tmp_path):
    make_context(tmp_path, "secure", "tcp://10.0.0.1:2376", tls_dir="yes")
    env["DOCKER_CONTEXT"] = "secure"
    found = locate_endpoint(None, environ=env)
    assert found.tls and found.tls.verify and found.tls.ca_cert.endswith("ca.pem")
    assert found.security == "TLS, server verified"


def test_use_context_keeps_the_rest_of_config_json(env, tmp_path):
    make_context(tmp_path, "alpha", "tcp://10.0.0.1:2375")
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"r:5000": {"auth": "x"}}}))
    ep.use_context("alpha", env)
    assert json.loads((tmp_path / "config.json").read_text()) == {
        "auths": {"r:5000": {"auth": "x"}}, "currentContext": "alpha"}
    ep.use_context("default", env)
    assert json.loads((tmp_path / "config.json").read_text()) == {"auths": {"r:5000": {"auth": "x"}}}
    with pytest.raises(EndpointError, match="known contexts: alpha, default"):
        ep.use_context("beta", env)


def test_bad_scheme_is_one_line(env):
    env["DOCKER_HOST"] = "htp://127.0.0.1:2375"
    with pytest.raises(EndpointError, match=r"DOCKER_HOST=htp://127.0.0.1:2375: unknown scheme 'htp'"):
        locate_endpoint(None, environ=env)


def test_tls_settings_from_the_environment_and_from_config(env, tmp_path):
    env.update(DOCKER_HOST="tcp://127.0.0.1:2376", DOCKER_TLS_VERIFY="1", DOCKER_CERT_PATH=str(tmp_path))
    with pytest.raises(EndpointError, match="no cert.pem, key.pem, ca.pem there"):
        locate_endpoint(None, environ=env)
    for f in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / f).write_text("x")
    found = locate_endpoint(None, environ=env)
    assert found.tls.verify and found.tls.cert == (str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))
    # The CLI applies them to TCP only: a unix socket stays a socket.
    env["DOCKER_HOST"] = "unix:///tmp/x.sock"
    assert locate_endpoint(None, environ=env).tls is False
    files = TLSFiles(str(tmp_path / "ca.pem"), str(tmp_path / "cert.pem"), str(tmp_path / "nokey.pem"))
    with pytest.raises(EndpointError, match="DockerMagics.tls_client_key: no file at"):
        locate_endpoint("tcp://127.0.0.1:2376", files, environ={})
    with pytest.raises(EndpointError, match="set both"):
        locate_endpoint("tcp://127.0.0.1:2376", TLSFiles(client_cert=str(tmp_path / "cert.pem")), environ={})
    found = locate_endpoint("tcp://127.0.0.1:2376", TLSFiles(*(str(tmp_path / f) for f in
                                                              ("ca.pem", "cert.pem", "key.pem"))), environ={})
    assert found.tls.ca_cert == str(tmp_path / "ca.pem") and not found.plain_tcp


def test_the_engines_ca_wins_over_requests_ca_bundle(monkeypatch):
    # requests lets REQUESTS_CA_BUNDLE override a session's `verify`: docker-py's TLS then checks the
    # engine's certificate against the system bundle and fails ("unable to get local issuer").
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    client = EngineClient(base_url="tcp://127.0.0.1:1", version="1.41")  # a fixed version: no contact
    client.verify = "/engine/ca.pem"
    settings = client.merge_environment_settings("https://127.0.0.1:1/version", {}, False, None, None)
    assert settings["verify"] == "/engine/ca.pem" and not settings["proxies"]
    plain = docker.APIClient(base_url="tcp://127.0.0.1:1", version="1.41")
    plain.verify = "/engine/ca.pem"
    assert plain.merge_environment_settings("https://127.0.0.1:1/v", {}, False, None, None)["verify"] \
        != "/engine/ca.pem"  # the SDK alone: the bundle wins (this is the defect)
    client.close()
    plain.close()


def test_plain_tcp_warns_once_per_endpoint(capsys, monkeypatch):
    monkeypatch.setattr(ep, "_WARNED", set())
    plain = locate_endpoint("tcp://127.0.0.1:2375", environ={})
    assert ep.warn_if_plain_tcp(plain) and not ep.warn_if_plain_tcp(plain)
    err = capsys.readouterr().err
    assert err.count("WARNING") == 1 and "root" in err and "tcp://127.0.0.1:2375" in err
    assert not ep.warn_if_plain_tcp(locate_endpoint("unix:///x.sock", environ={}))
    assert ep.warn_if_plain_tcp(locate_endpoint("tcp://127.0.0.1:2376", environ={}))


def test_tls_failures_give_a_reason_not_a_traceback():
    # urllib3's SSLError carries a str `reason`: following it raised AttributeError before.
    verify = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    verify.verify_message = "unable to get local issuer certificate"
    inner = urllib3.exceptions.SSLError(verify)
    retry = urllib3.exceptions.MaxRetryError(None, "/version", inner)
    outer = requests.exceptions.SSLError(retry)
    err = docker.errors.DockerException("Error while fetching server API version: x")
    err.__cause__ = outer
    assert "not trusted (unable to get local issuer certificate)" in transport_reason(err, 5)
    stringy = requests.exceptions.SSLError("x")
    stringy.reason = "a plain string, as urllib3 sets it"
    assert transport_reason(stringy, 5).startswith("TLS handshake failed")
    refused = ssl.SSLError(1, "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required")
    assert "refused our client certificate" in transport_reason(requests.exceptions.SSLError(refused), 5)


def test_podman_is_recognised_from_version():
    assert ep.is_podman({"Components": [{"Name": "Podman Engine", "Version": "4.3.1"}]})
    assert not ep.is_podman({"Components": [{"Name": "Engine", "Version": "20.10.24"}]})
    assert not ep.is_podman({})


def test_buildahs_framing_is_put_in_classic_words():
    # Recorded from Podman 4.3.1's POST /build (compat API), one message per entry.
    podman = [{"stream": "STEP 1/3: FROM busybox\n"}, {"stream": "STEP 2/3: RUN echo hi > /f\n"},
              {"stream": "hi from the RUN\n"}, {"stream": "--> 3b4ed1eedec\n"},
              {"stream": "STEP 3/3: CMD cat /f\n"}, {"stream": "--> Using cache " + "a" * 64 + "\n"},
              {"stream": "COMMIT docker.io/library/h4raw:1\n"}, {"stream": "--> 7316a7dc8b1\n"},
              {"stream": "Successfully tagged docker.io/library/h4raw:1\n"}, {"stream": "7" * 64 + "\n"},
              {"aux": {"ID": "sha256:" + "7" * 64}}, {"stream": "partial STEP 9/9: x"}]
    assert list(ep.classic_from_buildah(podman)) == [
        {"stream": "Step 1/3 : FROM busybox\n"}, {"stream": "Step 2/3 : RUN echo hi > /f\n"},
        {"stream": "hi from the RUN\n"}, {"stream": "Step 3/3 : CMD cat /f\n"},
        {"stream": " ---> Using cache\n"},
        {"stream": "Successfully tagged docker.io/library/h4raw:1\n"},
        {"aux": {"ID": "sha256:" + "7" * 64}}, {"stream": "partial STEP 9/9: x"}]


def test_an_engine_with_too_old_an_api_is_one_line_naming_it():
    err = docker.errors.InvalidVersion("API versions below 1.24 are no longer supported by this library.")
    reason = transport_reason(err, 5)
    assert reason.startswith("API: the engine speaks an API version older than 1.24") and "\n" not in reason
    from nbdocker.engine.client import Engine

    engine = Engine("tcp://127.0.0.1:1")
    message = engine.unreachable_message(err)
    assert "upgrade the engine" in message and "start the Docker engine" not in message


def test_importing_the_endpoint_module_imports_no_sdk():
    # The magics import this module at %load_ext: the SDK waits for the first command.
    import subprocess
    import sys

    probe = ("import sys, nbdocker.engine.endpoint as e; e.locate_endpoint(None); e.endpoint_settings(); "
             "print(sorted(m for m in ('docker', 'requests', 'urllib3', 'paramiko') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
