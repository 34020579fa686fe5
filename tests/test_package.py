"""The package is honest: what it imports is declared, its license ships, its SDK reliance is checked.

Pure: no engine.
"""
from __future__ import annotations

import ast
import importlib.metadata
import inspect
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "nbdocker"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# Imported only where an optional extra is installed, behind a clear message when it is not.
OPTIONAL = {"zstandard": "layers"}


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].strip().lower().replace("_", "-") for r in requirements}


def _imported_top_level_modules() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "nbdocker":
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_a_declared_dependency():
    declared = _requirement_names(PYPROJECT["project"]["dependencies"])
    extras = {name: _requirement_names(reqs) for name, reqs in PYPROJECT["project"]["optional-dependencies"].items()}
    distributions = importlib.metadata.packages_distributions()
    missing = {}
    for module, where in _imported_top_level_modules().items():
        if module in OPTIONAL:
            extra = OPTIONAL[module]
            assert module.lower() in extras[extra], (module, extra)
            continue
        dists = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if not dists & declared:
            missing[module] = sorted(where)
    assert not missing, f"imported but not declared in [project] dependencies: {missing}"


def test_the_license_the_metadata_names_ships():
    assert PYPROJECT["project"]["license"] == "MIT"
    assert "MIT License" in (ROOT / "LICENSE").read_text()


def test_binder_installs_the_package_rather_than_repeating_its_dependencies():
    requirements = (ROOT / "binder" / "requirements.txt").read_text()
    assert not _requirement_names([line for line in requirements.splitlines()
                                   if line.strip() and not line.startswith("#")]) & \
        (_requirement_names(PYPROJECT["project"]["dependencies"]) - {"jupyterlab"})
    assert "pip install ." in (ROOT / "binder" / "postBuild").read_text()


# ---------------------------------------------------------------- docker-py private helpers

@pytest.mark.parametrize("name", __import__("nbdocker.engine.client", fromlist=["x"]).PRIVATE_SDK_HELPERS)
def test_the_private_docker_py_helpers_the_engine_layer_uses_still_exist(name):
    import docker

    helper = getattr(docker.APIClient, name, None)
    assert callable(helper), f"docker {docker.__version__} has no APIClient.{name}: the engine layer must change"


def test_the_private_helpers_take_the_arguments_we_pass():
    import docker

    assert list(inspect.signature(docker.APIClient._read_from_socket).parameters)[:5] == \
        ["self", "response", "stream", "tty", "demux"]
    assert list(inspect.signature(docker.APIClient._post_json).parameters)[:3] == ["self", "url", "data"]
    assert list(inspect.signature(docker.APIClient._stream_helper).parameters)[:3] == ["self", "response", "decode"]
    assert list(inspect.signature(docker.APIClient._result).parameters)[:3] == ["self", "response", "json"]


def test_the_installed_docker_py_is_within_the_tested_bound():
    from packaging.requirements import Requirement

    (spec,) = [r for r in PYPROJECT["project"]["dependencies"] if r.startswith("docker")]
    assert Requirement(spec).specifier.contains(importlib.metadata.version("docker"))
