"""Shared fixtures: a real IPython shell with nbdocker loaded, the real engine, unique names.

Tests that touch the engine use the `engine` fixture. When NBDOCKER_REQUIRE_ENGINE=1 (set by
`scripts/dev.sh test`, and so by CI) a missing engine fails them instead of skipping them.
Everything a test makes is named with the `unique` prefix and removed afterwards.
"""
from __future__ import annotations

import itertools
import os
import subprocess
import uuid

import pytest

PREFIX = "nbdtest"
_counter = itertools.count()
RUN_ID = uuid.uuid4().hex[:6]


def _require_engine() -> bool:
    return os.environ.get("NBDOCKER_REQUIRE_ENGINE") == "1"


@pytest.fixture(scope="session")
def api():
    """The docker SDK's low-level client, for asserting the engine's state directly."""
    import docker

    try:
        client = docker.APIClient(version="auto", timeout=10)
        client.ping()
    except Exception as err:  # noqa: BLE001 - any failure means no engine
        if _require_engine():
            pytest.fail(f"no Docker engine answers: {err}")
        pytest.skip(f"no Docker engine answers: {err}")
    yield client
    _cleanup(client, f"{PREFIX}-{RUN_ID}")
    client.close()


@pytest.fixture
def engine(api):
    """Marks a test as needing the engine; yields the SDK client."""
    return api


@pytest.fixture(scope="session")
def ip():
    """A real InteractiveShell with the extension loaded."""
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    shell.run_line_magic("load_ext", "nbdocker")
    yield shell


@pytest.fixture(autouse=True)
def _plain_display(ip):
    """Tests see the static forms unless they ask otherwise; config is reset after each test."""
    ip.run_line_magic("config", "DockerMagics.display = 'html'")
    yield
    ip.run_line_magic("config", "DockerMagics.display = 'html'")
    ip.run_line_magic("config", "DockerMagics.timeout = 5.0")
    ip.run_line_magic("config", "DockerMagics.base_url = None")


@pytest.fixture
def unique():
    """A fresh lowercase name prefix for images and containers made by one test."""
    return f"{PREFIX}-{RUN_ID}-{next(_counter)}"


def docker_cli(*args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
    """The docker CLI on the same engine (fidelity tests compare against it)."""
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, input=input,
                          timeout=120)


def _cleanup(client, prefix: str) -> None:
    """Remove containers and images whose names start with this run's prefix."""
    for c in client.containers(all=True):
        if any(n.lstrip("/").startswith(prefix) for n in c.get("Names") or []) or \
                (c.get("Image") or "").startswith(prefix):
            client.remove_container(c["Id"], force=True)
    for image in client.images():
        for tag in image.get("RepoTags") or []:
            if tag.startswith(prefix) or "/" in tag and tag.split("/", 1)[1].startswith(prefix):
                try:
                    client.remove_image(tag, force=True)
                except Exception:  # noqa: BLE001 - already gone with an earlier tag
                    pass
