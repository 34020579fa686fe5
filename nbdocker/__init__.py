"""nbdocker: Docker images built and explored inside Jupyter notebooks.

`%load_ext nbdocker` registers `%docker` and `%%dockerfile`; loading never contacts the engine.
"""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_loaded: dict[int, Any] = {}


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics (and their `%config` class) on this shell."""
    from .magics import DockerMagics, _set_docs

    if id(ipython) in _loaded:
        return
    _set_docs()
    magics = DockerMagics(ipython, parent=ipython)  # parent: picks up ipython_config settings
    ipython.register_magics(magics)
    ipython.configurables.append(magics)  # so that `%config DockerMagics.timeout = 10` reaches it
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
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)
    magics.close()
