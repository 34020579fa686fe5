"""Engine operations for grading: run untrusted images in a box, read their files unstarted.

Every container made here is labelled (`LABEL` = the caller's run id), limited (no network,
memory, pids, no new privileges, all capabilities dropped, bounded logs) and removed in `finally`
with its anonymous volumes, also when a KeyboardInterrupt arrives. Files are read the way
container-structure-test reads them: from a created, never started container, through
`GET /containers/{id}/archive` (a tar whose first member is the path itself).
"""
from __future__ import annotations

import contextlib
import tarfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests.exceptions

from nbdocker.engine.client import Engine
from nbdocker.errors import NbDockerError

LABEL = "nbdocker.grading"
NOOP = ["/nbdocker-never-started"]  # the engine wants a command; this one never runs


@dataclass
class Limits:
    """What a grading container may use (docker run's flags of the same names)."""

    memory: str = "256m"  # --memory, also --memory-swap (no swap on top)
    pids: int = 128  # --pids-limit: a fork bomb stops here
    cpus: float = 1.0  # --cpus
    network: str = "none"
    read_only: bool = False  # --read-only: off by default, as CST's commands may write
    log_bytes: str = "1m"  # json-file max-size: a command printing forever keeps 1 MB on disk
    timeout: float = 10.0  # seconds before the container is killed


@dataclass
class CommandRun:
    """The outcome of one command in a box."""

    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool = False
    oom_killed: bool = False


@dataclass
class PathInfo:
    """A path in an image, from its tar header (and its content when asked for)."""

    path: str
    kind: str  # "file", "dir", "symlink", "hardlink", "fifo", "char", "block"
    mode: int  # permission and setuid/setgid/sticky bits
    uid: int
    gid: int
    size: int
    link_target: str = ""
    content: bytes | None = None
    truncated: bool = False


def host_config(engine: Engine, limits: Limits) -> dict[str, Any]:
    """The HostConfig of a grading container."""
    return engine.sdk.create_host_config(
        network_mode=limits.network, mem_limit=limits.memory, memswap_limit=limits.memory,
        pids_limit=limits.pids, nano_cpus=int(limits.cpus * 1e9), read_only=limits.read_only,
        cap_drop=["ALL"], security_opt=["no-new-privileges"],
        log_config={"Type": "json-file", "Config": {"max-size": limits.log_bytes, "max-file": "1"}},
    )


def inspect_image(engine: Engine, image: str) -> dict[str, Any]:
    """The engine's JSON for an image (a tag or an id)."""
    return engine.call(f"inspect {image}", engine.sdk.inspect_image, image)


def run_command(engine: Engine, image: str, argv: list[str], env: dict[str, str] | None = None,
                limits: Limits | None = None, run_id: str = "") -> CommandRun:
    """Run `argv` in a fresh container of `image` (entrypoint cleared, as CST does), then remove it."""
    with _boxed(engine, image, argv, env, limits, run_id) as (container, code, timed_out):
        sdk = engine.sdk
        with engine.translated(f"run {argv[0] if argv else ''}"):
            state = sdk.inspect_container(container).get("State", {})
            stdout = sdk.logs(container, stdout=True, stderr=False)
            stderr = sdk.logs(container, stdout=False, stderr=True)
        return CommandRun(code, _text(stdout), _text(stderr), timed_out, bool(state.get("OOMKilled")))


def run_and_commit(engine: Engine, image: str, argv: list[str], env: dict[str, str] | None = None,
                   limits: Limits | None = None, run_id: str = "") -> tuple[CommandRun, str]:
    """CST's setup step: run `argv` in a box, commit the container as a new image (remove it later)."""
    with _boxed(engine, image, argv, env, limits, run_id) as (container, code, timed_out):
        if timed_out:
            return CommandRun(-1, "", "", timed_out=True), ""
        with engine.translated(f"commit {argv[0] if argv else ''}"):
            committed = engine.sdk.commit(container, changes=None, conf=None)["Id"]
        return CommandRun(code, "", ""), committed


@contextlib.contextmanager
def _boxed(engine: Engine, image: str, argv: list[str], env: dict[str, str] | None,
           limits: Limits | None, run_id: str) -> Iterator[tuple[str, int, bool]]:
    """A container of `image` running `argv` in the box, waited for (killed past the timeout):
    (its id, exit code, timed out). It is removed afterwards, whatever happens."""
    limits = limits or Limits()
    sdk = engine.sdk
    with engine.translated(f"create a container of {image}"):
        container = sdk.create_container(
            image, command=argv, entrypoint=[], environment=env or None,
            labels={LABEL: run_id or "1"}, host_config=host_config(engine, limits))["Id"]
    try:
        timed_out = False
        with engine.translated(f"run {argv[0] if argv else ''}"):
            sdk.start(container)
            try:
                code = sdk.wait(container, timeout=limits.timeout).get("StatusCode", -1)
            except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
                timed_out, code = True, -1
                sdk.kill(container)
        yield container, code, timed_out
    finally:
        remove_container(engine, container)


def remove_image(engine: Engine, image: str, force: bool = True) -> None:
    """Remove an image this run made (a committed setup step); `force=False` for a tag: only
    untags while another tag (an identical submission's cached build) still names the image."""
    with contextlib.suppress(NbDockerError):
        engine.call("remove an image", engine.sdk.remove_image, image, force=force, noprune=False)


def remove_container(engine: Engine, container: str) -> None:
    """Remove a container and its anonymous volumes, whatever state it is in."""
    with contextlib.suppress(NbDockerError):
        engine.call("remove a container", engine.sdk.remove_container, container, v=True, force=True)


def image_ids(engine: Engine) -> set[str]:
    """Every image id on the engine, intermediate ones included (a snapshot before a build)."""
    return set(engine.call("images", engine.sdk.images, all=True, quiet=True))


def remove_built(engine: Engine, image: str, keep: set[str]) -> None:
    """Remove a build's image and the classic builder's intermediate images that build made.

    Parents are removed up the chain while they are untagged, childless and not in `keep` (the
    ids that existed before the build): those are someone's cache, or an instructor's untagged
    `--out` image, and stay. A tag that another submission's identical build shares only untags.
    """
    sdk = engine.sdk
    try:
        attrs = engine.call("inspect", sdk.inspect_image, image)
        engine.call("remove an image", sdk.remove_image, image, noprune=True)
    except NbDockerError:
        return
    if image != attrs["Id"] and attrs["Id"] in image_ids(engine):
        return  # another tag still names it
    parent = attrs.get("Parent") or ""
    while parent and parent not in keep:
        try:
            info = engine.call("inspect", sdk.inspect_image, parent)
            if info.get("RepoTags"):
                return
            engine.call("remove an image", sdk.remove_image, parent, noprune=True)
        except NbDockerError:  # a child image (another build's) holds it: it stays
            return
        parent = info.get("Parent") or ""


def remove_tagged(engine: Engine, namespace: str) -> int:
    """Remove every image tagged `namespace/…` (one submission's); returns how many."""
    found = engine.call("images", engine.sdk.images, filters={"reference": f"{namespace}/*"})
    tags = [t for image in found for t in image.get("RepoTags") or [] if t.startswith(namespace + "/")]
    for tag in tags:  # by tag: identical builds share an image id with other submissions
        remove_image(engine, tag, force=False)
    return len(tags)


def remove_labelled_images(engine: Engine, run_id: str, keep: set[str] | None = None) -> int:
    """Remove every image built with this run's label (the sweep after an interrupt), with the
    intermediate images its builds made (those not in `keep`, the ids from before the run)."""
    found = engine.call("images", engine.sdk.images, filters={"label": f"{LABEL}={run_id}"})
    for image in found:  # the whole run is over: every tag of these images is ours
        for tag in image.get("RepoTags") or []:
            if tag != "<none>:<none>":
                remove_image(engine, tag, force=False)
        remove_built(engine, image["Id"], keep or set())
    return len(found)


def remove_labelled(engine: Engine, run_id: str) -> int:
    """Remove every container this run made (a safety net after an interrupt); returns how many."""
    found = engine.call("containers", engine.sdk.containers, all=True,
                        filters={"label": f"{LABEL}={run_id}"}, quiet=True)
    for c in found:
        remove_container(engine, c["Id"])
    return len(found)


def new_run_id() -> str:
    """A label value unique to one grading run."""
    return uuid.uuid4().hex[:12]


class FileReader:
    """Paths of an image read from one created, never started container (removed on close)."""

    def __init__(self, engine: Engine, image: str, run_id: str = "") -> None:
        self.engine = engine
        with engine.translated(f"create a container of {image}"):
            self.container = engine.sdk.create_container(
                image, command=NOOP, entrypoint=[], labels={LABEL: run_id or "1"},
                host_config=host_config(engine, Limits()))["Id"]

    def stat(self, path: str, max_bytes: int = 0) -> PathInfo | None:
        """The path's tar header (None when it does not exist); with `max_bytes`, its content."""
        sdk = self.engine.sdk
        with self.engine.translated(f"read {path}"):
            response = sdk._get(sdk._url("/containers/{0}/archive", self.container),
                                params={"path": path}, stream=True,
                                # gzip would cost the engine CPU for nothing on a local socket
                                headers={"Accept-Encoding": "identity"})
        try:
            if response.status_code == 404:
                return None
            with self.engine.translated(f"read {path}"):
                sdk._raise_for_status(response)
            return _first_member(response.raw, path, max_bytes)
        finally:
            # A directory's archive is its whole tree: hang up after the first header.
            Engine.cancel_stream(response)

    def read(self, path: str, max_bytes: int = 1 << 20, depth: int = 0) -> PathInfo | None:
        """The path's content (symbolic links followed, as CST does), at most `max_bytes`."""
        info = self.stat(path, max_bytes)
        if info is not None and info.kind == "symlink" and depth < 8:
            target = info.link_target
            if not target.startswith("/"):
                target = path.rsplit("/", 1)[0] + "/" + target
            return self.read(target, max_bytes, depth + 1)
        return info

    def close(self) -> None:
        """Remove the container."""
        remove_container(self.engine, self.container)

    def __enter__(self) -> FileReader:
        """The reader itself; its container is removed on exit."""
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def file_reader(engine: Engine, image: str, run_id: str = "") -> Iterator[FileReader]:
    """`with file_reader(engine, image) as files: files.stat(path)`; the container always goes."""
    reader = FileReader(engine, image, run_id)
    try:
        yield reader
    finally:
        reader.close()


_KINDS = {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.DIRTYPE: "dir",
          tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink", tarfile.FIFOTYPE: "fifo",
          tarfile.CHRTYPE: "char", tarfile.BLKTYPE: "block"}


def _first_member(raw: Any, path: str, max_bytes: int) -> PathInfo | None:
    with tarfile.open(fileobj=raw, mode="r|") as tar:
        for member in tar:
            if member.type not in _KINDS:  # PAX/GNU extension headers are consumed by tarfile
                continue
            info = PathInfo(path, _KINDS[member.type], member.mode & 0o7777, member.uid, member.gid,
                            member.size, member.linkname)
            if max_bytes and member.isfile():
                f = tar.extractfile(member)
                data = f.read(max_bytes + 1) if f is not None else b""
                info.content, info.truncated = data[:max_bytes], len(data) > max_bytes
            return info
    return None


def _text(data: bytes | str) -> str:
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data
