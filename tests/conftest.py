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


def skip_or_fail(reason: str) -> None:
    """Skip for want of an engine-side tool; under NBDOCKER_REQUIRE_ENGINE=1 (CI) fail instead."""
    if _require_engine():
        pytest.fail(f"required for the engine tests: {reason}")
    pytest.skip(reason)


ENGINE_FIXTURES = {"api", "engine", "made", "registry", "registries", "podman", "tls_engine"}


def pytest_collection_modifyitems(items):
    """Every test that uses the engine carries the `engine` marker, so `-m "not engine"` is pure."""
    for item in items:
        if ENGINE_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.engine)


def _engine_state(client) -> dict[str, set[str]]:
    """What a test run could leave behind: images (all), containers, build cache entries."""
    import time

    import docker.errors

    for _ in range(60):  # the engine runs one disk-usage count at a time
        try:
            cache = client.df().get("BuildCache") or []
            break
        except docker.errors.APIError as err:
            if "already running" not in str(err):
                raise
            time.sleep(0.5)
    else:
        raise AssertionError("the engine never finished counting disk usage")
    return {"images": {i["Id"] for i in client.images(all=True)},
            "containers": {c["Id"] for c in client.containers(all=True)},
            "build cache": {c["ID"] for c in cache}}


@pytest.fixture(scope="session", autouse=True)
def _engine_left_as_found():
    """With NBDOCKER_CHECK_CLEAN=1 (`scripts/dev.sh test`): the run leaves the engine as it found it.

    The build cache entries the run made are removed (those only: by id); then any image or
    container the run left fails the session, named.
    """
    if os.environ.get("NBDOCKER_CHECK_CLEAN") != "1":
        yield
        return
    import json

    import docker

    client = docker.APIClient(version="auto", timeout=120)
    before = _engine_state(client)
    yield
    # One id per prune (the engine takes one value per filter), and an entry that is the parent
    # of another goes only after it: passes until a pass removes nothing more.
    made = _engine_state(client)["build cache"] - before["build cache"]
    while made:
        for entry in sorted(made):
            client._result(client._post(client._url("/build/prune"),
                                        params={"filters": json.dumps({"id": [entry]})}), True)
        left = _engine_state(client)["build cache"] - before["build cache"]
        if left == made:
            break
        made = left
    after = _engine_state(client)
    client.close()
    left = {kind: sorted(after[kind] - before[kind]) for kind in after if after[kind] - before[kind]}
    assert not left, f"the test run left these on the engine: {left}"


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
