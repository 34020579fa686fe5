"""`nbdocker.status()`: where am I connected, and what can the engine do — a panel, never an exception.

It names the endpoint, the context (and which setting chose it), the engine (Docker or Podman,
its version and API version), whether the connection is TLS, SSH or a local socket, and whether
the engine runs rootless, so that a screenshot says truthfully which engine it came from. The
quickstart's first cell. On Binder (no engine) it explains how to point nbdocker at one; the cells
that need no engine (`%%dockerfile --check`) still run.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nbdocker.engine.client import Engine
from nbdocker.engine.endpoint import is_podman
from nbdocker.errors import NbDockerError
from nbdocker.views import render as views
from nbdocker.views.results import Result

ADVICE = [
    "Building and running images needs a Docker engine. To use one elsewhere, set its "
    "address, then run this cell again:",
    "    %env DOCKER_HOST=tcp://HOST:2376    (with DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH=DIR)",
    "    %env DOCKER_HOST=ssh://user@host    (or unix:///path/docker.sock)",
    "    %config DockerMagics.base_url = 'tcp://HOST:2376'    (and DockerMagics.tls_* files)",
    "Cells that only write and check a Dockerfile (%%dockerfile --check) work without one.",
]


@dataclass
class EngineStatus(Result):
    """What `status()` found."""

    endpoint: str
    reachable: bool
    version: str = ""
    api_version: str = ""
    buildkit: bool = False
    bridge: bool = False
    problem: str = ""
    advice: list[str] = field(default_factory=list)
    context: str = ""  # the docker context, "" when DOCKER_HOST or %config chose the endpoint
    source: str = ""  # which setting chose it
    security: str = ""  # "TLS, server verified", "SSH", "local socket", "plain TCP, no TLS"
    engine: str = ""  # "Docker" or "Podman"
    rootless: bool | None = None

    def view(self) -> views.LinesView:
        where = [("info", f"context: {self.context}" if self.context else f"chosen by: {self.source}"),
                 ("error" if self.security == "plain TCP, no TLS" else "info",
                  f"connection: {self.security}")] if self.source else []
        if self.reachable:
            lines = [("ok", f"{self.engine or 'Docker'} engine {self.version} (API {self.api_version}) "
                            f"at {self.endpoint}"), *where]
            if self.rootless is not None:
                lines.append(("info", "rootless" if self.rootless else "rootful (the engine runs as root)"))
            lines.append(("info", "builders: BuildKit and classic" if self.buildkit else "builder: classic"))
            if not self.bridge:
                lines.append(("info", "no default bridge network: builds and containers run with "
                                      "--network none"))
            return views.LinesView("status", lines, title="nbdocker: engine ready")
        lines = [("error", self.problem), *where] + [("info", a) for a in self.advice]
        return views.LinesView("status", lines, title="nbdocker: no Docker engine reachable")


def status(engine: Engine | None = None) -> EngineStatus:
    """Ask the engine (with the magics' settings when loaded) and report, without raising."""
    try:
        engine = engine or _current_engine()
    except NbDockerError as err:  # settings that name no engine (unknown context, bad scheme)
        return EngineStatus("(none)", False, problem=str(err), advice=ADVICE)
    where: dict[str, Any] = dict(context=engine.endpoint.context, source=engine.endpoint.source,
                                 security=engine.endpoint.security)
    try:
        version = describe_engine(engine)
        return EngineStatus(engine.base_url, True, version["version"], version["api_version"],
                            engine.offers_buildkit(), engine.has_default_bridge(),
                            engine=version["engine"], rootless=version["rootless"], **where)
    except NbDockerError as err:
        return EngineStatus(engine.base_url, False, problem=str(err), advice=ADVICE, **where)


def describe_engine(engine: Engine) -> dict[str, Any]:
    """Which engine answers: Docker or Podman, its version, API version, rootless or not."""
    version = engine.call("version", engine.sdk.version)
    info = engine.call("info", engine.sdk.info)
    options = [str(o) for o in info.get("SecurityOptions") or []]
    return {"engine": "Podman" if is_podman(version) else "Docker",
            "version": str(version.get("Version", "?")), "api_version": str(version.get("ApiVersion", "?")),
            "rootless": any("name=rootless" in o for o in options)}


def _current_engine() -> Engine:
    try:
        from IPython import get_ipython

        magic = get_ipython().find_magic("docker")
        magics = magic.__self__
    except Exception:  # noqa: BLE001 - not in IPython, or the extension is not loaded
        return Engine()
    return magics.session.engine  # an NbDockerError here (bad settings) is reported by status()
