"""`nbdocker.status()`: is an engine reachable, and what can it do — a panel, never an exception.

The quickstart's first cell. On Binder (no engine) it explains how to point nbdocker at one; the
cells that need no engine (`%%dockerfile --check`) still run.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from nbdocker.views import render as views
from nbdocker.engine.client import Engine
from nbdocker.errors import NbDockerError
from nbdocker.views.results import Result


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

    def view(self) -> views.LinesView:
        if self.reachable:
            lines = [("ok", f"Docker engine {self.version} (API {self.api_version}) at {self.endpoint}"),
                     ("info", "builders: BuildKit and classic" if self.buildkit else "builder: classic")]
            if not self.bridge:
                lines.append(("info", "no default bridge network: builds and containers run with "
                                      "--network none"))
            return views.LinesView("status", lines, title="nbdocker: engine ready")
        lines = [("error", self.problem)] + [("info", a) for a in self.advice]
        return views.LinesView("status", lines, title="nbdocker: no Docker engine reachable")


def status(engine: Engine | None = None) -> EngineStatus:
    """Ask the engine (with the magics' settings when loaded) and report, without raising."""
    engine = engine or _current_engine()
    try:
        info = engine.call("version", engine.sdk.version)
        return EngineStatus(engine.base_url, True, str(info.get("Version", "?")),
                            str(info.get("ApiVersion", "?")), engine.offers_buildkit(),
                            engine.has_default_bridge())
    except NbDockerError as err:
        return EngineStatus(engine.base_url, False, problem=str(err), advice=[
            "Building and running images needs a Docker engine. To use one elsewhere, set its "
            "address, then run this cell again:",
            "    %env DOCKER_HOST=tcp://HOST:2376    (or ssh://user@host, unix:///path/docker.sock)",
            "    %config DockerMagics.base_url = 'tcp://HOST:2376'",
            "Cells that only write and check a Dockerfile (%%dockerfile --check) work without one.",
        ])


def _current_engine() -> Engine:
    try:
        from IPython import get_ipython

        magic = get_ipython().find_magic("docker")
        return magic.__self__.session.engine
    except Exception:  # noqa: BLE001 - not in IPython, or the extension is not loaded
        return Engine()
