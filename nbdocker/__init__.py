"""nbdocker: Docker images built and explored inside Jupyter notebooks.

`%load_ext nbdocker` registers `%docker` and `%%dockerfile`; loading never contacts the engine.
"""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_loaded: dict[int, Any] = {}


def status() -> Any:
    """Is a Docker engine reachable (and how to point at one if not): a panel, never an error."""
    from nbdocker.engine.status import status as engine_status

    return engine_status()


def lint(text: str, hadolint: bool | str = True) -> Any:
    """Lint Dockerfile text: Docker's build checks and hadolint's common rules, each on its lines."""
    from nbdocker.dockerfile.lint import lint as lint_text

    return lint_text(text, hadolint=hadolint)


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics (and their `%config` class) on this shell."""
    from nbdocker.magics import DockerMagics, with_help_on_demand

    if id(ipython) in _loaded:
        return
    # parent: picks up ipython_config settings. IPython's Magics.__init__ already appends the
    # instance to `ipython.configurables`, which is what `%config DockerMagics.timeout = 10` reaches.
    magics = DockerMagics(ipython, parent=ipython)
    if magics not in ipython.configurables:
        ipython.configurables.append(magics)
    ipython.register_magics(magics)
    with_help_on_demand(ipython.magics_manager)
    _loaded[id(ipython)] = magics


def unload_ipython_extension(ipython: Any) -> None:
    """Remove exactly what loading added."""
    magics = _loaded.pop(id(ipython), None)
    if magics is None:
        return
    manager = ipython.magics_manager
    for kind, names in magics.magics.items():
        for name in names:
            manager.magics[kind].pop(name, None)
    manager.registry.pop(type(magics).__name__, None)
    ipython.configurables[:] = [c for c in ipython.configurables if c is not magics]
    magics.close()
