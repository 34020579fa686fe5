"""The same commands against Docker and against Podman's Docker-compatible service.

Podman runs from `scripts/engine.sh podman` (the recipe of shared/DESIGN.md, on a socket of its
own). Each test is parametrized over both engines with the same assertions where the behaviour is
the same; where Podman differs, the test says how and why:

* Podman ignores BuildKit's `version=2`: it is detected from `/version` (a component named
  "Podman Engine") and builds use the classic stream, which Buildah frames as `STEP 2/3: …`
  (the engine layer puts it in the classic builder's words).
* Names are stored in full: `docker.io/library/NAME` for what the Docker API tags, and
  `localhost/NAME` for what the podman CLI tags. Both show as short names in `images`.
* History rows carry `"Tags": null` (Docker sends a list).
* rmi reports name what it untagged in full (`Untagged: docker.io/library/NAME:1`), and list every
  intermediate layer image it deleted.
* push streams no per-layer progress, only the digest line; pull streams no `Digest:` line.

Every command is covered once: images, inspect, history, build, tag, run (and its interrupt), rmi,
push, pull; and the quickstart notebook.
"""
from __future__ import annotations

import os
import subprocess

import pytest
from test_engines_legs import SCRIPT, STATE, assert_interrupt_stops_and_removes, clean_engine, prune_cache_of, start_leg, stop_leg

import nbdocker
from nbdocker.engine.endpoint import EngineClient

pytestmark = pytest.mark.engine
ENGINES = ["docker", "podman"]
REGISTRY = "127.0.0.1:5000"


@pytest.fixture(scope="module")
def podman_leg():
    leg = start_leg("podman")
    client = EngineClient(base_url=leg.words[0], version="auto", timeout=60)

    def prune_dangling() -> None:  # the leg's engine is ours alone: leave no untagged image there
        for image in client.images(filters={"dangling": True}):
            client.remove_image(image["Id"], force=True)

    leg.cleanups += [client.close, prune_dangling, lambda: clean_engine(client)]
    leg.client, leg.url = client, leg.words[0]
    yield leg
    stop_leg(leg)


@pytest.fixture(params=ENGINES)
def target(request, ip, api, monkeypatch):
    """(kind, client): the kernel points at that engine by DOCKER_HOST; client asserts on it."""
    ip.run_line_magic("config", "DockerMagics.timeout = 30")  # a loaded CI machine is slow, not stalled
    if request.param == "docker":
        return "docker", api
    leg = request.getfixturevalue("podman_leg")
    monkeypatch.setenv("DOCKER_HOST", leg.url)
    return "podman", leg.client


@pytest.fixture
def built(ip, target, unique):
    """An image built through the engine under test, with content unique to this test."""
    kind, client = target
    tag = f"{unique}:1"
    result = ip.run_cell_magic("dockerfile", f"-t {tag}",
                               f"FROM busybox\nRUN echo {unique} > /id\nCMD [\"cat\", \"/id\"]\n")
    yield kind, client, tag, result
    clean_engine(client)
    if kind == "docker":
        prune_cache_of(client, unique)


def short(image_id: str) -> str:
    return image_id.split(":", 1)[-1][:12]


def test_status_names_the_engine(ip, target):
    kind, client = target
    found = nbdocker.status()
    assert found.reachable and found.engine == {"docker": "Docker", "podman": "Podman"}[kind]
    assert f"{found.engine} engine {client.version()['Version']}" in str(found)
    assert found.rootless is False  # both run as root here


def test_images_and_inspect(ip, target):
    kind, client = target
    busybox = client.inspect_image("busybox:latest")["Id"]
    assert ip.run_line_magic("docker", "images -q busybox") == [short(busybox)]
    rows = ip.run_line_magic("docker", "images busybox").rows
    assert [(r.repository, r.tag) for r in rows] == [("busybox", "latest")]  # Podman: docker.io/library/ dropped
    info = ip.run_line_magic("docker", "inspect busybox")
    attrs = info.attrs if isinstance(info.attrs, dict) else info.attrs[0]
    assert attrs["Id"] == busybox


def test_build_uses_the_right_stream_and_tags(built):
    kind, client, tag, result = built
    assert result.ok and client.inspect_image(tag)["Id"] == result.image_id
    # Podman ignores version=2: nbdocker sees Podman in /version and takes the classic stream.
    assert result.builder == ("buildkit" if kind == "docker" else "classic")


def test_build_steps_are_tied_to_lines(built):
    kind, client, tag, result = built
    # Buildah frames steps as `STEP 2/3: RUN …`: the engine layer hands them over in classic words.
    lines = [s.instruction.line_start for s in result.steps if s.instruction]
    assert lines == ([1, 2] if kind == "docker" else [1, 2, 3])  # BuildKit numbers no CMD step
    assert all(s.state in ("done", "cached") for s in result.steps if s.instruction)


def test_history(ip, built):
    kind, client, tag, result = built
    raw = client.history(tag)
    if kind == "podman":
        assert all(row["Tags"] is None for row in raw)  # Podman sends null where Docker sends a list
    history = ip.run_line_magic("docker", f"history {tag}")
    assert len(history.layers) == len(raw) and "<missing>" in str(history)
    assert any("echo" in layer.created_by for layer in history.layers)


def test_tag_run_and_rmi(ip, built, capsys):
    kind, client, tag, result = built
    second = tag.replace(":1", ":2")
    ip.run_line_magic("docker", f"tag {tag} {second}")
    assert client.inspect_image(second)["Id"] == result.image_id
    run = ip.run_line_magic("docker", f"run --rm {second}")
    assert run.exit_code == 0 and run.stdout == f"{tag.split(':')[0]}\n"
    report = ip.run_line_magic("docker", f"rmi {second}")
    (removal,) = report.removals
    # Docker says `Untagged: NAME:2`; Podman names it in full: `docker.io/library/NAME:2`.
    expected = second  # Podman's docker.io/library/… shown as the CLI shows names
    assert removal.untagged == [expected] and removal.deleted == []
    report = ip.run_line_magic("docker", f"rmi {tag}")
    assert result.image_id.split(":", 1)[1] in [d.split(":", 1)[-1] for d in report.removals[0].deleted]


def test_push_and_pull_the_local_registry(ip, built):
    kind, client, tag, result = built
    subprocess.run(["bash", str(SCRIPT), "registry"], capture_output=True, timeout=300)
    ref = f"{REGISTRY}/{tag.split(':')[0]}/{kind}:1"
    ip.run_line_magic("docker", f"tag {tag} {ref}")
    pushed = ip.run_line_magic("docker", f"push {ref}")
    assert pushed.digest and pushed.digest.startswith("sha256:")
    if kind == "docker":
        assert pushed.layers and all(layer.done for layer in pushed.layers)
    else:
        assert pushed.layers == []  # Podman streams no per-layer progress on push
    ip.run_line_magic("docker", f"rmi {ref}")
    pulled = ip.run_line_magic("docker", f"pull {ref}")
    assert client.inspect_image(ref)["Id"] == result.image_id
    # Podman's pull stream has no `Digest:` line: the digest is in the image's RepoDigests.
    assert pulled.digest == (pushed.digest if kind == "docker" else None)
    assert any(d.endswith(pushed.digest) for d in client.inspect_image(ref)["RepoDigests"])


def test_localhost_names_made_by_the_podman_cli(ip, podman_leg, monkeypatch, unique):
    monkeypatch.setenv("DOCKER_HOST", podman_leg.url)
    env = dict(os.environ, CONTAINERS_CONF=f"{STATE}/podman/containers.conf",
               CONTAINERS_STORAGE_CONF=f"{STATE}/podman/storage.conf",
               CONTAINERS_REGISTRIES_CONF=f"{STATE}/podman/registries.conf")
    subprocess.run(["podman", "tag", "busybox", f"{unique}:local"], env=env, check=True, capture_output=True)
    rows = ip.run_line_magic("docker", f"images localhost/{unique}").rows
    # Docker's reference filter keeps only the matching tags of an image; Podman returns every tag
    # of a matching image (here busybox:latest too, the same image).
    assert (f"localhost/{unique}", "local") in [(r.repository, r.tag) for r in rows]
    run = ip.run_line_magic("docker", f"run --rm {unique}:local echo short-name")  # resolves localhost/
    assert run.stdout == "short-name\n"
    report = ip.run_line_magic("docker", f"rmi localhost/{unique}:local")
    assert report.removals[0].untagged == [f"localhost/{unique}:local"]


def test_the_quickstart_runs_unchanged_on_podman(podman_leg, tmp_path):
    """The quickstart, as it is, on Podman. Podman's `rmi -f` also removes the stopped container
    that uses the image (Docker keeps it): rmi says so, and the notebook's clean-up cell removes the
    container only where it is left."""
    from test_quickstart import _execute, _outputs_text

    client = podman_leg.client
    try:
        nb = _execute(tmp_path, {"DOCKER_HOST": podman_leg.url})
        forced = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("%docker rmi -f learner/victim")]
        assert forced and "the engine also removed container learner-victim-box" in _outputs_text(forced[0])
    finally:  # should the notebook stop, its own clean-up cells did not run
        for c in client.containers(all=True, filters={"name": "learner-victim-box"}):
            client.remove_container(c["Id"], force=True)
        for image in client.images(filters={"label": "nbdocker.quickstart=1"}):
            client.remove_image(image["Id"], force=True)


def test_run_interrupt_on_podman(ip, podman_leg, monkeypatch, unique):
    monkeypatch.setenv("DOCKER_HOST", podman_leg.url)
    assert_interrupt_stops_and_removes(ip, podman_leg.client, unique)
