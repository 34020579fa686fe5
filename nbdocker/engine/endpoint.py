"""Where the engine is and why it cannot be reached: endpoints, contexts, TLS, transport reasons.

The order is the docker CLI's: `%config DockerMagics.base_url` (our `-H`), else `DOCKER_HOST`
(with `DOCKER_TLS_VERIFY` / `DOCKER_CERT_PATH`), else the context named by `DOCKER_CONTEXT`, else
the one `docker context use` wrote into `config.json`, else the local socket. A context that does
not exist is refused, as the CLI refuses it. Reads settings and files only; the one function that
makes a client (`open_client`) still only contacts the engine for its API version.

The docker SDK, requests and urllib3 are imported when first needed (making a client, reading TLS
files, explaining a failure), never when the extension loads: the magics import this module.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import socket
import re
import ssl
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbdocker.errors import EngineUnavailable

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
SCHEMES = ("unix", "tcp", "http", "https", "ssh", "npipe")


class EndpointError(EngineUnavailable):
    """The settings name no usable engine: unknown context, bad scheme, missing TLS files."""

    prefix = "docker endpoint"


@dataclass(frozen=True)
class TLSFiles:
    """TLS files given by `%config DockerMagics.tls_*` (paths; empty means not given)."""

    ca_cert: str = ""
    client_cert: str = ""
    client_key: str = ""
    verify: bool = True

    def given(self) -> bool:
        """Whether any TLS file was set."""
        return bool(self.ca_cert or self.client_cert or self.client_key)

    def config(self) -> Any:
        """The SDK's TLS settings; a missing file or half a key pair is one line."""
        if bool(self.client_cert) != bool(self.client_key):
            raise EndpointError("set both DockerMagics.tls_client_cert and DockerMagics.tls_client_key")
        for trait, path in (("tls_ca_cert", self.ca_cert), ("tls_client_cert", self.client_cert),
                            ("tls_client_key", self.client_key)):
            if path and not os.path.isfile(path):
                raise EndpointError(f"DockerMagics.{trait}: no file at {path}")
        cert = (self.client_cert, self.client_key) if self.client_cert else None
        return _tls_config(client_cert=cert, ca_cert=self.ca_cert or None, verify=self.verify)


@dataclass(frozen=True)
class Endpoint:
    """One engine address with how it is secured and where the setting came from."""

    base_url: str
    tls: Any = False  # docker.tls.TLSConfig, or False
    context: str = "default"  # "" when DOCKER_HOST or base_url decided, as `docker context ls` shows
    source: str = "the default socket"

    @property
    def scheme(self) -> str:
        """unix, tcp, ssh, …"""
        return self.base_url.split("://", 1)[0] if "://" in self.base_url else "tcp"

    @property
    def plain_tcp(self) -> bool:
        """A TCP engine without TLS: whoever reaches the port is root on the engine's machine."""
        return self.scheme in ("tcp", "http") and not self.tls

    @property
    def security(self) -> str:
        """How the connection is protected, in a few words."""
        if self.scheme in ("tcp", "http", "https"):
            if not self.tls:
                return "plain TCP, no TLS"
            return "TLS, server verified" if self.tls.verify else "TLS, server NOT verified"
        return {"ssh": "SSH", "unix": "local socket", "npipe": "local pipe"}.get(self.scheme, self.scheme)

    def describe(self) -> str:
        """`tcp://… (context x, from DOCKER_CONTEXT; TLS, server verified)`."""
        origin = f"context {self.context}, from {self.source}" if self.context else f"from {self.source}"
        return f"{self.base_url} ({origin}; {self.security})"


@dataclass(frozen=True)
class ContextEntry:
    """One docker context as `docker context ls` lists it."""

    name: str
    description: str
    host: str
    tls: Any = False


def locate_endpoint(base_url: str | None = None, tls_files: TLSFiles | None = None,
                    environ: dict[str, str] | None = None) -> Endpoint:
    """Where the engine is, in the docker CLI's order of precedence (module docstring)."""
    env = os.environ if environ is None else environ
    if base_url:
        check_scheme(base_url, "DockerMagics.base_url")
        tls = tls_files.config() if tls_files and tls_files.given() else _env_tls(base_url, env)
        return Endpoint(base_url, tls, "", "%config DockerMagics.base_url")
    if env.get("DOCKER_HOST"):
        host = env["DOCKER_HOST"]
        check_scheme(host, "DOCKER_HOST")
        return Endpoint(host, _env_tls(host, env), "", "DOCKER_HOST")
    name, source = env.get("DOCKER_CONTEXT", ""), "DOCKER_CONTEXT"
    if not name:
        name, source = current_context_name(env), "docker context use"
    if name == "default":
        return Endpoint(DEFAULT_SOCKET, False, "default", "the default socket")
    entry = find_context(name, env)
    if not entry.host:
        return Endpoint(DEFAULT_SOCKET, False, name, source)
    return Endpoint(entry.host, entry.tls, name, source)


def resolve_endpoint(base_url: str | None = None) -> tuple[str, Any]:
    """(base_url, tls) as the SDK wants them; see `locate_endpoint`."""
    found = locate_endpoint(base_url)
    return found.base_url, found.tls


def check_scheme(url: str, setting: str) -> None:
    """Refuse an address the SDK cannot use, naming the setting it came from."""
    scheme = url.split("://", 1)[0] if "://" in url else "tcp"  # the SDK reads host:port as tcp
    if scheme not in SCHEMES:
        raise EndpointError(f"{setting}={url}: unknown scheme {scheme!r}; use unix:///path, "
                            "tcp://host:port (with TLS), or ssh://user@host")


def _env_tls(url: str, env: Any) -> Any:
    # The CLI applies DOCKER_TLS_VERIFY / DOCKER_CERT_PATH to TCP addresses only. docker-py (and
    # the CLI) read DOCKER_TLS_VERIFY as true for any non-empty value, even "0".
    scheme = url.split("://", 1)[0] if "://" in url else "tcp"
    if scheme not in ("tcp", "http", "https"):
        return False
    if not (env.get("DOCKER_TLS_VERIFY") or env.get("DOCKER_CERT_PATH")):
        return False
    cert_path = env.get("DOCKER_CERT_PATH") or os.path.join(os.path.expanduser("~"), ".docker")
    verify = bool(env.get("DOCKER_TLS_VERIFY"))
    files = [os.path.join(cert_path, f) for f in ("cert.pem", "key.pem") + (("ca.pem",) if verify else ())]
    missing = [os.path.basename(f) for f in files if not os.path.isfile(f)]
    if missing:
        raise EndpointError(f"DOCKER_CERT_PATH={cert_path}: no {', '.join(missing)} there (TLS needs "
                            "ca.pem, cert.pem and key.pem)")
    return _tls_config(client_cert=(files[0], files[1]), ca_cert=files[2] if verify else None,
                       verify=verify)


# ------------------------------------------------------------------ contexts


def config_dir(env: Any = None) -> Path:
    """The docker CLI's configuration directory: `DOCKER_CONFIG`, else `~/.docker`."""
    env = os.environ if env is None else env
    return Path(env.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker"))


def current_context_name(env: Any = None) -> str:
    """The context `docker context use` chose (`currentContext` in config.json), else "default"."""
    with contextlib.suppress(OSError, ValueError, AttributeError):  # a broken config must not break us
        return str(json.loads((config_dir(env) / "config.json").read_text()).get("currentContext")
                   or "default")
    return "default"


def list_contexts(env: Any = None) -> list[ContextEntry]:
    """Every context, "default" included, sorted by name (as `docker context ls`)."""
    # Read here rather than through docker.ContextAPI: 7.2 looks for contexts next to config.json
    # and, when that file does not exist yet, in the current directory.
    meta = config_dir(env) / "contexts" / "meta"
    entries = [ContextEntry("default", "Current DOCKER_HOST based configuration", DEFAULT_SOCKET)]
    names = []
    for path in sorted(meta.glob("*/meta.json")) if meta.is_dir() else []:
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            names.append(json.loads(path.read_text())["Name"])
    return sorted(entries + [find_context(name, env) for name in names], key=lambda c: c.name)


def find_context(name: str, env: Any = None) -> ContextEntry:
    """One context by name; an unknown name is an error that lists the known ones."""
    if name == "default":
        return ContextEntry("default", "Current DOCKER_HOST based configuration", DEFAULT_SOCKET)
    ident = hashlib.sha256(name.encode()).hexdigest()
    root = config_dir(env) / "contexts"
    try:
        data = json.loads((root / "meta" / ident / "meta.json").read_text())
    except (OSError, ValueError) as err:
        known = ", ".join(c.name for c in list_contexts(env) if c.name != name)
        raise EndpointError(f"context {name!r} does not exist (known contexts: {known}); create it "
                            "with `docker context create`, or choose one with %docker context use") from err
    docker_ep = (data.get("Endpoints") or {}).get("docker") or {}
    host = docker_ep.get("Host") or DEFAULT_SOCKET
    return ContextEntry(name, (data.get("Metadata") or {}).get("Description", ""), host,
                        _context_tls(root / "tls" / ident / "docker", host, docker_ep))


def _context_tls(folder: Path, host: str, endpoint: dict[str, Any]) -> Any:
    files = {name: folder / f"{name}.pem" for name in ("ca", "cert", "key")}
    present = {name: str(path) for name, path in files.items() if path.is_file()}
    if not present or not host.startswith(("tcp://", "https://")):
        return False
    verify = not endpoint.get("SkipTLSVerify", False)
    cert = (present["cert"], present["key"]) if "cert" in present and "key" in present else None
    ca = present.get("ca")
    return _tls_config(client_cert=cert, ca_cert=ca, verify=verify)


def _tls_config(**settings: Any) -> Any:
    from docker.tls import TLSConfig  # the SDK only when TLS is used (see the module docstring)

    return TLSConfig(**settings)


def use_context(name: str, env: Any = None) -> None:
    """Make `name` the current context in config.json, keeping every other key (the CLI's `use`)."""
    find_context(name, env)  # refuses an unknown name, listing the known ones
    path = config_dir(env) / "config.json"
    config: dict[str, Any] = {}
    if path.exists():
        try:
            config = json.loads(path.read_text() or "{}")
        except ValueError as err:
            raise EndpointError(f"{path} is not valid JSON; fix it before switching context") from err
    if name == "default":
        config.pop("currentContext", None)
    else:
        config["currentContext"] = name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.nbdocker-tmp")
    tmp.write_text(json.dumps(config, indent="\t"))
    os.replace(tmp, path)  # atomic: the CLI may read it at the same time


# ------------------------------------------------------------------ connecting


@functools.cache
def _close_failed_unix_connects(unixconn: Any) -> None:
    """docker-py's unix-socket connection leaves its socket open when `connect` fails (no engine
    there): every failed attempt leaked a file descriptor. Close it, behaving otherwise the same."""
    original = unixconn.UnixHTTPConnection
    if getattr(original, "closes_failed_connects", False):
        return

    class UnixHTTPConnection(original):  # type: ignore[misc, valid-type]
        closes_failed_connects = True

        def connect(self) -> None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(self.unix_socket)
            except BaseException:
                sock.close()
                raise
            self.sock = sock

    unixconn.UnixHTTPConnection = UnixHTTPConnection


def engine_client_class() -> type:
    """`EngineClient`: the SDK client, deaf to the environment's CA bundle and proxies.

    requests lets `REQUESTS_CA_BUNDLE` / `CURL_CA_BUNDLE` (set on managed machines) override the
    session's `verify`, i.e. the engine's CA: TLS then fails with "unable to get local issuer
    certificate" while the docker CLI works. Engine connections trust the engine's CA only.
    Made on first use so that importing this module does not import the SDK.
    """
    import docker
    import docker.transport.unixconn as unixconn

    _close_failed_unix_connects(unixconn)

    class EngineClient(docker.APIClient):
        __doc__ = engine_client_class.__doc__

        @property  # type: ignore[override]
        def trust_env(self) -> bool:
            return False

        @trust_env.setter
        def trust_env(self, value: bool) -> None:  # requests.Session.__init__ sets it: ignore
            pass

    return EngineClient


def __getattr__(name: str) -> Any:
    if name == "EngineClient":  # `from nbdocker.engine.endpoint import EngineClient` still works
        return engine_client_class()
    raise AttributeError(name)


_WARNED: set[str] = set()  # endpoints warned about in this process (a handful at most)


def warn_if_plain_tcp(endpoint: Endpoint) -> bool:
    """Say loudly, once per endpoint, that a TCP engine without TLS is root for anyone."""
    if not endpoint.plain_tcp or endpoint.base_url in _WARNED:
        return False
    _WARNED.add(endpoint.base_url)
    print(f"nbdocker: WARNING: {endpoint.base_url} is plain TCP without TLS: anyone who can reach "
          "that port controls the engine, which means root on its machine. Use TLS "
          "(DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH) or ssh://user@host.", file=sys.stderr)
    return True


def _versioned_client(endpoint: Endpoint, timeout: float) -> Any:
    """The client, then the engine's API version asked: the SDK's `version="auto"` asks inside
    its constructor, and a failed ask there leaves a socket no one can close."""
    import docker.constants
    import docker.errors
    import docker.utils

    minimum = docker.constants.MINIMUM_DOCKER_API_VERSION
    client = engine_client_class()(base_url=endpoint.base_url, tls=endpoint.tls, version=minimum,
                                   timeout=timeout)
    try:
        version = client._retrieve_server_version()
        if docker.utils.version_lt(version, minimum):  # the SDK's own check and words
            raise docker.errors.InvalidVersion(
                f"API versions below {minimum} are no longer supported by this library.")
        client._version = version
    except BaseException:
        client.close()
        raise
    return client


def open_client(endpoint: Endpoint, timeout: float) -> Any:
    """The SDK client for `endpoint` (asks the engine its API version, within `timeout`)."""
    warn_if_plain_tcp(endpoint)
    try:
        return _versioned_client(endpoint, timeout)
    except Exception as err:
        # paramiko's errors (unknown host key, refused key) are none of the SDK's or requests'
        # families: name them here rather than let them through as a traceback.
        if not type(err).__module__.startswith("paramiko"):
            raise
        raise EngineUnavailable(f"cannot reach the engine at {endpoint.describe()}: {ssh_reason(err)}") from err


def ssh_reason(err: BaseException) -> str:
    """What an SSH failure means, and what to do."""
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    if "not found in known_hosts" in text:
        return (f"SSH: {text}; check the host's key, then add it to ~/.ssh/known_hosts "
                "(ssh once with the ssh client, or ssh-keyscan)")
    if type(err).__name__ == "AuthenticationException" or "Authentication failed" in text:
        return "SSH: the server refused our key; name it with IdentityFile in ~/.ssh/config"
    return f"SSH: {text}"


def transport_reason(err: BaseException, timeout: float) -> str:
    """The root cause of a connection failure, in a few words."""
    import requests.exceptions  # loaded already when a connection failed
    import urllib3.exceptions

    chain: list[BaseException] = []
    pending: list[Any] = [err]
    while pending:
        cause = pending.pop(0)
        # urllib3's `reason` is an exception on MaxRetryError but a str on SSLError: follow only
        # exceptions, or every TLS failure becomes an AttributeError traceback.
        if not isinstance(cause, BaseException) or any(cause is seen for seen in chain):
            continue
        chain.append(cause)
        pending += [cause.__cause__ or cause.__context__, getattr(cause, "reason", None)]
        pending += [a for a in getattr(cause, "args", ()) if isinstance(a, BaseException)]
    tls = _tls_reason(chain)
    if tls:
        return tls
    if any(type(c).__name__ == "InvalidVersion" for c in chain):  # docker.errors: the SDK's floor
        return ("API: the engine speaks an API version older than 1.24 (Docker 1.12), which the "
                "docker SDK no longer supports; upgrade the engine")
    # The OS error decides: urllib3's NewConnectionError ("connection refused") is a subclass of its
    # ConnectTimeoutError, so a timeout higher up the chain must not win over what lies beneath.
    for kind, reason in ((FileNotFoundError, "no socket there (file not found)"),
                         (PermissionError, "permission denied on the socket"),
                         (ConnectionRefusedError, "connection refused")):
        if any(isinstance(cause, kind) for cause in chain):
            return reason
    timeouts = (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)
    if any(isinstance(cause, timeouts) and not isinstance(cause, urllib3.exceptions.NewConnectionError)
           for cause in chain):
        return f"no answer within {timeout:g} s"
    text = str(err)
    for needle, reason in (
        ("No such file or directory", "no socket there (file not found)"),
        ("Permission denied", "permission denied on the socket"),
        ("Connection refused", "connection refused"),
        ("timed out", f"no answer within {timeout:g} s"),
        ("Read timed out", f"no answer within {timeout:g} s"),
    ):
        if needle in text:
            return reason
    return text.splitlines()[0] if text else type(err).__name__


def _tls_reason(chain: list[BaseException]) -> str:
    import requests.exceptions
    import urllib3.exceptions

    verify = [c for c in chain if isinstance(c, ssl.SSLCertVerificationError)]
    if verify:
        detail = getattr(verify[0], "verify_message", "") or "certificate verify failed"
        return (f"TLS: the engine's certificate is not trusted ({detail}); check the CA "
                "(DOCKER_CERT_PATH/ca.pem or DockerMagics.tls_ca_cert)")
    texts = " ".join(str(c) for c in chain)
    if any(isinstance(c, (ssl.SSLError, requests.exceptions.SSLError, urllib3.exceptions.SSLError))
           for c in chain) or "SSL" in texts:
        if "certificate required" in texts or "bad certificate" in texts or "unknown ca" in texts:
            return ("TLS: the engine refused our client certificate (missing, or not signed by its "
                    "CA); check DOCKER_CERT_PATH/cert.pem and key.pem")
        if "WRONG_VERSION_NUMBER" in texts or "wrong version number" in texts:
            return "TLS: the engine does not speak TLS on that port (try without DOCKER_TLS_VERIFY)"
        first = next((str(c) for c in chain if isinstance(c, ssl.SSLError)), texts)
        return f"TLS handshake failed ({first.splitlines()[0][:200]})"
    return ""


def is_podman(version: dict[str, Any]) -> bool:
    """Whether `/version` came from Podman's Docker-compatible service (a component says so)."""
    return any(str(c.get("Name", "")).startswith("Podman") for c in version.get("Components") or []
               if isinstance(c, dict))


ENDPOINT_VARIABLES = ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT",
                      "DOCKER_CONFIG")


def endpoint_settings() -> tuple[str, ...]:
    """What decides the endpoint outside `%config`: when it changes, a new client is needed.

    `%env DOCKER_CERT_PATH=…` or `%docker context use` later in a notebook must take effect.
    Reads the environment and config.json's currentContext (a small file) only.
    """
    return tuple(os.environ.get(v, "") for v in ENDPOINT_VARIABLES) + (current_context_name(),)


# ------------------------------------------------------------------ Podman's build stream

_BUILDAH_STEP = re.compile(r"STEP (\d+)/(\d+): (.*)", re.DOTALL)
_BUILDAH_CACHED = re.compile(r"--> Using cache [0-9a-f]{12,64}")
_BUILDAH_LAYER = re.compile(r"--> [0-9a-f]{8,64}")
_BUILDAH_OWN = re.compile(r"COMMIT \S*|[0-9a-f]{64}")


def classic_from_buildah(messages: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Podman's build stream (Buildah's framing) in the classic builder's words.

    Buildah writes `STEP 2/3: RUN …`, `--> Using cache <id>`, `--> <11-hex id>`, `COMMIT name` and
    the bare image id, each as one whole message. The classic decoder knows `Step 2/3 : …` and
    ` ---> Using cache`; a step ends when the next one begins (or with the aux id). The rest of
    Buildah's own lines are dropped; anything else (a RUN's output) passes unchanged. Only
    whole-line messages are read as framing, and the decoder still moves steps only in order.
    """
    for message in messages:
        text = message.get("stream") if isinstance(message, dict) else None
        if isinstance(text, str) and text.endswith("\n") and text.count("\n") == 1:
            line = text[:-1]
            step = _BUILDAH_STEP.fullmatch(line)
            if step:
                message = {"stream": f"Step {step.group(1)}/{step.group(2)} : {step.group(3)}\n"}
            elif _BUILDAH_CACHED.fullmatch(line):
                message = {"stream": " ---> Using cache\n"}
            elif _BUILDAH_LAYER.fullmatch(line) or _BUILDAH_OWN.fullmatch(line):
                continue
        yield message
