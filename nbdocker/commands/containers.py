"""Container commands, as far as images need them: run, ps, rm, logs.

`%docker run` streams a container's stdout and stderr into the cell while it runs, as the CLI does
in a terminal, and fails the cell when the container exits non-zero. A notebook has no terminal, so
`-i`/`-t` are accepted and explained: the container runs without a TTY and with stdin closed.
"""
from __future__ import annotations

import argparse
import codecs
import collections
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from nbdocker import cli
from nbdocker.views import render as views
from nbdocker.engine.client import Engine, pumped, status_code
from nbdocker.errors import CommandFailed, EngineError, NbDockerError, UsageError
from nbdocker.commands import registry
from nbdocker.commands.images import truncate
from nbdocker.references import check_image_argument
from nbdocker.views.results import IdList, Result
from nbdocker.units import ago

KEEP_LINES = 10_000  # per stream, on the RunResult; the cell shows everything as it arrives
POLL_SECONDS = 0.1  # the main thread wakes this often, so an interrupt is seen at once
STOP_GRACE_SECONDS = 1  # `docker stop -t 1`: SIGTERM, then SIGKILL after a second

TTY_NOTE = ("note: -i/-t ignored: a notebook cell has no terminal, so the container runs without "
            "a TTY and with stdin closed (output still streams here)")


class RunInterrupted(NbDockerError):
    """The cell was interrupted while a container ran: it was stopped (and removed with --rm)."""

    prefix = "interrupted"

    def __init__(self, message: str, result: RunResult | None = None) -> None:
        self.result = result
        super().__init__(message)


# ---------------------------------------------------------------- output capture


class StreamTail:
    """One output stream: decoded incrementally (a UTF-8 character may span chunks), last lines kept."""

    def __init__(self, limit: int = KEEP_LINES) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._lines: collections.deque[str] = collections.deque(maxlen=limit)
        self._partial = ""
        self.dropped = 0  # whole lines that fell off the front

    def feed(self, data: bytes) -> str:
        """Add a chunk; returns its decoded text (what to print now)."""
        text = self._decoder.decode(data)
        self._add(text)
        return text

    def finish(self) -> str:
        """Flush an incomplete character at the end of the stream."""
        text = self._decoder.decode(b"", final=True)
        self._add(text)
        if self._partial:  # an unfinished last line counts as a line
            self._keep(self._partial)
            self._partial = ""
        return text

    def _add(self, text: str) -> None:
        if not text:
            return
        pieces = (self._partial + text).split("\n")
        self._partial = pieces.pop()
        for line in pieces:
            self._keep(line + "\n")

    def _keep(self, line: str) -> None:
        if len(self._lines) == self._lines.maxlen:
            self.dropped += 1
        self._lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self._lines) + self._partial


# ---------------------------------------------------------------- run


@dataclass
class RunResult(Result):
    """`%docker run`: the exit code, the (last lines of the) output and which container it was."""

    container_id: str
    name: str
    image: str
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    removed: bool = False
    lines_dropped: int = 0  # output lines beyond KEEP_LINES per stream, shown live but not kept
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def view(self) -> views.LinesView:
        where = f"container {self.name} ({self.container_id[:12]})"
        if self.exit_code is None:
            outcome = f"{where}: no exit code"
        else:
            outcome = f"{where} exited with code {self.exit_code}"
        outcome += ", removed" if self.removed else ""
        lines = [("ok" if self.ok else "error", outcome)]
        if self.lines_dropped:
            lines.append(("info", f"{self.lines_dropped} earlier output lines were shown but not kept "
                                  f"(.stdout/.stderr keep the last {KEEP_LINES} lines of each)"))
        lines += [("info", note) for note in self.notes]
        return views.LinesView("run", lines)


def parse_env(items: Iterable[str] | None, environ: dict[str, str] | None = None) -> dict[str, str]:
    """`-e K=V` as given; `-e K` takes K from the kernel's environment, or is dropped (like the CLI)."""
    environ = os.environ if environ is None else environ
    env: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not key:
            raise UsageError(f"-e {item!r}: expected KEY=VALUE or KEY", "%docker run")
        if sep:
            env[key] = value
        elif key in environ:
            env[key] = environ[key]
    return env


def default_network(engine: Engine) -> tuple[str | None, str | None]:
    """(network mode, note): `none` when the engine has no default bridge network, as on ours."""
    if engine.has_default_bridge():
        return None, None
    return "none", "network: none (this engine has no default bridge network)"


_START_NOISE = re.compile(r"^(?:failed to create shim task: )?(?:OCI runtime \w+ failed: )?"
                          r"(?:runc \w+ failed: )?(?:unable to start container process: )?")


def start_failure(message: str) -> tuple[str, int]:
    """The engine's start error without the runtime's preamble, and the CLI's exit code for it."""
    text = _START_NOISE.sub("", message.strip()).removesuffix(": unknown").strip()
    if "executable file not found" in text or "no such file or directory" in text:
        return text, 127
    if "permission denied" in text:
        return text, 126
    return text, 125


def run_container(engine: Engine, image: str, command: list[str] | None = None, *, rm: bool = False,
                  name: str | None = None, env: Iterable[str] | None = None, workdir: str | None = None,
                  entrypoint: str | None = None, user: str | None = None, network: str | None = None,
                  interactive: bool = False, tty: bool = False,
                  detach: bool = False) -> RunResult | DetachedRun:
    """`docker run [-d] [--rm] [--name] [-e]… [-w] [--entrypoint] [-u] [--network] [-i] [-t] IMAGE [CMD…]`.

    Output streams to sys.stdout / sys.stderr as it arrives; a non-zero exit raises CommandFailed
    with the result; an interrupt stops the container and raises RunInterrupted. With `detach`
    the container is started and left running: its id is returned (a DetachedRun).
    """
    check_image_argument(image)
    environment = parse_env(env)
    notes: list[str] = []
    if (interactive or tty) and not detach:
        print(TTY_NOTE, flush=True)
    elif interactive or tty:
        notes.append(TTY_NOTE.split(" (output")[0])
    mode = network
    if mode is None:
        mode, note = default_network(engine)
        if note:
            notes.append(note)
    kwargs: dict[str, Any] = dict(
        command=list(command) if command else None, name=name, environment=environment or None,
        working_dir=workdir or None, user=user or None, network_mode=mode,
        stdin_open=False, tty=False,
    )
    if entrypoint is not None:
        # The CLI passes --entrypoint as one word (not split); "" resets the image's entrypoint.
        kwargs["entrypoint"] = [entrypoint]
    if detach:
        return _run_detached(engine, image, kwargs, rm, notes)
    created = _create(engine, image, kwargs)
    cid = created["Id"]
    notes += [f"warning: {w}" for w in created.get("Warnings") or []]
    try:
        shown = engine.inspect_container(cid).get("Name", "")
    except EngineError:
        shown = ""
    result = RunResult(cid, shown.lstrip("/") or cid[:12], image, notes=notes)
    try:
        _attach_and_wait(engine, result)
    except KeyboardInterrupt:
        raise _interrupted(engine, result, rm) from None
    finally:
        if rm and not result.removed:
            result.removed = _remove_quietly(engine, cid)
    if result.exit_code != 0:
        raise CommandFailed(f"container {result.name} ({image}) exited with code {result.exit_code}",
                            result)
    return result


@dataclass
class DetachedRun(Result):
    """`%docker run -d`: the container's full id, as the CLI prints it (`str()` is the id alone,
    so `$(docker run -d …)` substitutes it); the container keeps running."""

    container_id: str
    name: str
    image: str
    auto_remove: bool = False
    notes: list[str] = field(default_factory=list)

    def view(self) -> views.LinesView:
        return views.LinesView("run", [("ok", self.container_id)])

    def __str__(self) -> str:
        return self.container_id


def _run_detached(engine: Engine, image: str, kwargs: dict[str, Any], rm: bool,
                  notes: list[str]) -> DetachedRun:
    """Create and start, attach nothing: `--rm` becomes the engine's AutoRemove, as in the CLI,
    because nobody is there to remove the container when it exits."""
    created = _create(engine, image, dict(kwargs, auto_remove=rm))
    cid = created["Id"]
    for warning in created.get("Warnings") or []:  # the CLI prints these to stderr too
        print(f"WARNING: {warning}", file=sys.stderr, flush=True)
    try:
        shown = engine.inspect_container(cid).get("Name", "").lstrip("/")
    except EngineError:
        shown = ""
    try:
        engine.start_container(cid)
    except EngineError as err:
        message, code = start_failure(str(err))
        if rm:  # the engine removes an AutoRemove container whose start failed; make sure
            _remove_quietly(engine, cid)
        raise CommandFailed(f"container {shown or cid[:12]} ({image}) could not start: {message} "
                            f"(exit code {code})") from None
    return DetachedRun(cid, shown or cid[:12], image, auto_remove=rm, notes=notes)


def _create(engine: Engine, image: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Create the container; an image that is not here is pulled first, like the CLI does."""
    try:
        return engine.create_container(image, **kwargs)
    except EngineError as err:
        if status_code(err) != 404 or "No such image" not in str(err):
            raise
    print(f"Unable to find image '{image}' locally", file=sys.stderr, flush=True)
    registry.pull_image(engine, image)  # pulling is the registry module's job
    return engine.create_container(image, **kwargs)


def _attach_and_wait(engine: Engine, result: RunResult) -> None:
    """Attach before starting (so no output is missed), start, stream until exit."""
    cid = result.container_id
    frames = engine.attach_container(cid)

    def frames_then_exit() -> Iterator[tuple[str, Any]]:
        yield from (("frame", frame) for frame in frames)
        # No timeout: the stream ended, so the container is exiting; it may take a moment.
        yield "exit", engine.wait_container(cid)

    events = pumped(frames_then_exit(), POLL_SECONDS, f"nbdocker-run-{cid[:12]}")
    out, err_ = StreamTail(), StreamTail()
    try:
        try:
            engine.start_container(cid)
        except EngineError as err:
            message, code = start_failure(str(err))
            result.exit_code = code
            raise CommandFailed(f"container {result.name} ({result.image}) could not start: "
                                f"{message} (exit code {code})", result) from None
        while True:
            try:
                event = next(events)
            except StopIteration:
                break
            except Exception as err:  # noqa: BLE001 - the stream broke: translated below
                _raise_stream_error(engine, result, err)
            if event is None:  # a tick: nothing arrived
                continue
            kind, value = event
            if kind == "frame":
                stdout_bytes, stderr_bytes = value
                if stdout_bytes:
                    _write(sys.stdout, out.feed(stdout_bytes))
                if stderr_bytes:
                    _write(sys.stderr, err_.feed(stderr_bytes))
            else:
                result.exit_code = value.get("StatusCode")
                break
        _write(sys.stdout, out.finish())
        _write(sys.stderr, err_.finish())
    finally:  # an interrupted or broken run keeps what it printed so far
        events.close()
        frames.close()  # the attach connection: closing it also ends the reader thread
        result.stdout, result.stderr = out.text, err_.text
        result.lines_dropped = out.dropped + err_.dropped


def _raise_stream_error(engine: Engine, result: RunResult, err: BaseException) -> None:
    """An error of the output stream, translated (the SDK's own SocketError is not a DockerException)."""
    try:
        with engine.translated("attach"):
            raise err
    except NbDockerError:
        raise
    except Exception as other:  # noqa: BLE001 - anything else that broke the stream
        raise EngineError(f"lost the output of container {result.name}: {other}") from other


def _write(stream: TextIO, text: str) -> None:
    if text:
        stream.write(text)
        stream.flush()


def _interrupted(engine: Engine, result: RunResult, rm: bool) -> RunInterrupted:
    """Stop the container the interrupted cell was running; say what became of it."""
    cid = result.container_id
    try:
        engine.stop_container(cid, STOP_GRACE_SECONDS)
        stopped = True
    except NbDockerError:
        stopped = False
    if rm:
        result.removed = _remove_quietly(engine, cid)
    what = f"container {result.name} ({cid[:12]})"
    if not stopped:
        return RunInterrupted(f"{what} may still be running: stop it with %docker rm -f {result.name}",
                              result)
    done = " and removed" if result.removed else ""
    return RunInterrupted(f"{what} stopped{done}", result)


def _remove_quietly(engine: Engine, cid: str) -> bool:
    """--rm: remove after exit, failure or interrupt; True when the container is gone."""
    try:
        engine.remove_container(cid, force=True)
        return True
    except EngineError as err:
        return status_code(err) == 404
    except NbDockerError:
        return False


# ---------------------------------------------------------------- ps


@dataclass
class ContainerList(Result):
    """`%docker ps`: containers as the CLI lists them (newest first)."""

    containers: list[dict[str, Any]]
    no_trunc: bool = False

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.containers

    @property
    def ids(self) -> IdList:
        return IdList(c["Id"] if self.no_trunc else c["Id"][:12] for c in self.containers)

    def view(self) -> views.TableView:
        columns = [
            views.Column("id", "CONTAINER ID"), views.Column("image", "IMAGE"),
            views.Column("command", "COMMAND"),
            views.Column("created", "CREATED", sort_key="created_ts"),
            views.Column("status", "STATUS"), views.Column("ports", "PORTS"),
            views.Column("names", "NAMES"),
        ]
        rows = [container_row(c, self.no_trunc) for c in self.containers]
        footer = f"{len(rows)} container{'' if len(rows) == 1 else 's'}"
        return views.TableView("ps", columns, rows, footer=footer)


def container_row(c: dict[str, Any], no_trunc: bool = False) -> dict[str, Any]:
    """One `docker ps` row, formatted like the CLI's container formatter."""
    command = c.get("Command") or ""
    return {
        "id": c["Id"] if no_trunc else c["Id"][:12], "full_id": c["Id"],
        "image": display_image(c.get("Image") or "", c.get("ImageID") or "", no_trunc),
        "command": _go_quote(command if no_trunc else truncate(command, 20)),
        "command__title": command,
        "created": ago(c.get("Created")), "created_ts": c.get("Created") or 0,
        "status": c.get("Status") or "", "state": c.get("State") or "",
        "ports": display_ports(c.get("Ports") or []),
        "names": display_names(c.get("Names") or [], no_trunc),
    }


def display_image(image: str, image_id: str, no_trunc: bool) -> str:
    """The CLI shows an id-only image short, and drops a digest unless --no-trunc."""
    if not image:
        return "<no image>"
    if no_trunc:
        return image
    if image.startswith("sha256:") or image == image_id:
        return image.split(":", 1)[-1][:12]
    return image.split("@", 1)[0] if "@" in image else image


def display_names(names: list[str], no_trunc: bool) -> str:
    """Names without the leading '/'; the CLI hides link names (`/other/alias`) unless --no-trunc."""
    stripped = [n[1:] if n.startswith("/") else n for n in names]
    if not no_trunc:
        plain = [n for n in stripped if "/" not in n]
        stripped = plain[:1] or stripped
    return ",".join(stripped)


def display_ports(ports: list[dict[str, Any]]) -> str:
    """`0.0.0.0:8080->80/tcp, 443/tcp`."""
    shown = []
    for p in sorted(ports, key=lambda p: (p.get("PrivatePort") or 0, p.get("Type") or "")):
        private = f"{p.get('PrivatePort')}/{p.get('Type') or 'tcp'}"
        if p.get("PublicPort"):
            shown.append(f"{p.get('IP') or '0.0.0.0'}:{p['PublicPort']}->{private}")
        else:
            shown.append(private)
    return ", ".join(dict.fromkeys(shown))


def _go_quote(text: str) -> str:
    """Go's strconv.Quote for the COMMAND column (the CLI shows it in double quotes)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def parse_filters(items: Iterable[str] | None, prog: str) -> dict[str, list[str]]:
    """`--filter K=V`… as the engine's filter map."""
    filters: dict[str, list[str]] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--filter {item!r}: expected KEY=VALUE", prog)
        filters.setdefault(key, []).append(value)
    return filters


def list_containers(engine: Engine, *, all: bool = False, quiet: bool = False, no_trunc: bool = False,
                    filters: list[str] | None = None) -> ContainerList | IdList:
    """`docker ps [-a] [-q] [--no-trunc] [-f K=V]…`."""
    found = engine.list_containers(all=all, filters=parse_filters(filters, "%docker ps"))
    result = ContainerList(found, no_trunc=no_trunc)
    return result.ids if quiet else result


# ---------------------------------------------------------------- rm


@dataclass
class ContainerRemovals(Result):
    """`%docker rm`: per argument, removed or why not."""

    removed: list[str]
    errors: dict[str, str]

    @property
    def ok(self) -> bool:
        return not self.errors

    def view(self) -> views.LinesView:
        lines = [("ok", name) for name in self.removed]
        lines += [("error", f"Error: {message}") for message in self.errors.values()]
        return views.LinesView("rm", lines)


def remove_containers(engine: Engine, containers: list[str], *, force: bool = False,
                      volumes: bool = False) -> ContainerRemovals:
    """`docker rm [-f] [-v] CONTAINER…`: each argument tried; fails if any failed."""
    removed, errors = [], {}
    for name in containers:
        try:
            engine.remove_container(name, force=force, volumes=volumes)
        except EngineError as err:
            errors[name] = explain_removal(name, str(err), status_code(err))
            continue
        removed.append(name)
    report = ContainerRemovals(removed, errors)
    if errors:
        raise CommandFailed(f"could not remove {', '.join(errors)} (see above)", report)
    return report


def explain_removal(name: str, message: str, code: int | None) -> str:
    """The engine's refusal in words that say what to do."""
    if code == 404:
        return f"No such container: {name}"
    if code == 409 and "cannot remove a running container" in message:
        return (f"{name} is running: stop it first, or use %docker rm -f {name} to stop and remove "
                "it in one go")
    return message


# ---------------------------------------------------------------- logs

_TIMESTAMP = re.compile(rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z ")


def merge_logs(stdout: bytes, stderr: bytes, *, timestamps: bool = False) -> list[tuple[int, str]]:
    """Two timestamped log texts (one per stream) merged in time order: [(1 or 2, text)].

    The engine's `logs` endpoint multiplexes both streams, but the SDK returns them mixed; asking
    for each stream alone with timestamps and merging keeps them apart and in order.
    """
    entries: list[tuple[tuple[bytes, int], int, int, str]] = []
    for stream, data in ((1, stdout), (2, stderr)):
        key: tuple[bytes, int] = (b"", 0)
        for raw in data.splitlines(keepends=True):
            match = _TIMESTAMP.match(raw)
            if match:
                fraction = (match.group(2) or b"0")[:9].ljust(9, b"0")
                key = (match.group(1), int(fraction))
                if not timestamps:
                    raw = raw[match.end():]
            text = raw.decode("utf-8", "replace")
            entries.append((key, stream, len(entries), text))
    entries.sort(key=lambda e: (e[0], e[2]))  # a line without a timestamp stays after its entry
    return [(stream, text) for _, stream, _, text in entries]


def tail_lines(tail: str | None) -> int | None:
    """`--tail N`: a number of lines, or None for all (`all`, or a negative number, as the CLI)."""
    if tail in (None, "all"):
        return None
    try:
        lines = int(tail)
    except ValueError:
        raise UsageError(f"--tail {tail!r}: expected a number of lines or 'all'", "%docker logs") from None
    return lines if lines >= 0 else None


def show_logs(engine: Engine, container: str, *, timestamps: bool = False,
              tail: str | None = None, follow: bool = False) -> None:
    """`docker logs [-f] [-t] [--tail N] CONTAINER`: prints stdout and stderr, each to its own stream."""
    if follow:
        return follow_logs(engine, container, timestamps=timestamps, tail=tail)
    kwargs: dict[str, Any] = dict(timestamps=True, stream=False, follow=False)
    lines = tail_lines(tail)
    if lines is not None:
        kwargs["tail"] = lines
    try:
        out = engine.container_logs(container, stdout=True, stderr=False, **kwargs)
        err = engine.container_logs(container, stdout=False, stderr=True, **kwargs)
    except EngineError as error:
        if status_code(error) == 404:
            raise EngineError(f"No such container: {container}") from None
        raise
    entries = merge_logs(out, err, timestamps=timestamps)
    if "tail" in kwargs:
        entries = entries[len(entries) - kwargs["tail"]:] if kwargs["tail"] > 0 else []
    output = CoalescedOutput()  # one write per run of a stream, not one IOPub message per line
    for stream, text in entries:
        output.add(stream, text)
    output.flush()


class LogsInterrupted(NbDockerError):
    """The cell was interrupted while following logs: following stopped, the container did not."""

    prefix = "interrupted"


class CoalescedOutput:
    """Text for stdout and stderr, written at most once per `interval` seconds, in arrival order.

    A chatty container sends thousands of frames a second; a flush per frame is an IOPub message
    per frame, which frontends drop. The order across the two streams is kept: consecutive pieces
    of one stream are joined, a change of stream starts a new write.
    """

    def __init__(self, interval: float = POLL_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval, self.clock = interval, clock
        self._pending: list[tuple[int, str]] = []
        self._last = float("-inf")
        self.writes = 0  # flushes that wrote something (for tests)

    def add(self, stream: int, text: str) -> None:
        """Queue `text` for stream 1 (stdout) or 2 (stderr); write if the interval has passed."""
        if text:
            self._pending.append((stream, text))
        self.tick()

    def tick(self) -> None:
        """Write what is pending if the last write was at least `interval` ago."""
        if self._pending and self.clock() - self._last >= self.interval:
            self.flush()

    def flush(self) -> None:
        """Write everything pending now."""
        if not self._pending:
            return
        groups: list[tuple[int, list[str]]] = []
        for stream, text in self._pending:
            if groups and groups[-1][0] == stream:
                groups[-1][1].append(text)
            else:
                groups.append((stream, [text]))
        self._pending = []
        self._last = self.clock()
        for stream, texts in groups:  # looked up now: the kernel (and tests) replace sys.stdout
            _write(sys.stdout if stream == 1 else sys.stderr, "".join(texts))
        self.writes += 1


def follow_logs(engine: Engine, container: str, *, timestamps: bool = False,
                tail: str | None = None) -> None:
    """`docker logs -f`: the output so far, then live output until the container exits.

    An interrupt (Ctrl-C, the notebook's stop button) stops following and never the container:
    it raises LogsInterrupted, one line.
    """
    lines = tail_lines(tail)
    try:
        tty = bool((engine.inspect_container(container).get("Config") or {}).get("Tty"))
        stream = engine.follow_logs(container, tty=tty, timestamps=timestamps, tail=lines)
    except EngineError as error:
        if status_code(error) == 404:
            raise EngineError(f"No such container: {container}") from None
        raise
    decoders = {n: codecs.getincrementaldecoder("utf-8")("replace") for n in (1, 2)}
    output = CoalescedOutput()
    events = pumped(stream, POLL_SECONDS, f"nbdocker-logs-{container[:40]}")
    interrupted = False
    try:
        for frame in events:
            if frame is None:  # a tick: nothing arrived for a while
                output.tick()
                continue
            for number, data in zip((1, 2), frame):
                if data:
                    output.add(number, decoders[number].decode(data))
        for number, decoder in decoders.items():
            output.add(number, decoder.decode(b"", final=True))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        events.close()
        stream.close()  # shuts the connection: the reader thread ends, the container runs on
        output.flush()
    if interrupted:
        raise LogsInterrupted(f"stopped following the logs of {container}; the container keeps running")


# ---------------------------------------------------------------- the parser tree



def register(sub: Any, image_sub: Any) -> None:
    """`run`, `ps`, `rm`, `logs` (and `container ls/rm/logs/run`, the CLI's long forms)."""
    add_run(sub)
    add_ps(sub)
    add_rm(sub)
    add_logs(sub)
    container = cli.add_command(sub, "container", lambda session, a: (container.print_help(), None)[1],
                                "Manage containers (container run, ls, rm, logs)")
    container_sub = container.add_subparsers(dest="container_command", metavar="COMMAND",
                                             parser_class=cli.ArgumentParser)
    add_run(container_sub, "run", "%docker container run")
    add_ps(container_sub, "ls", "%docker container ls", aliases=("list", "ps"))
    add_rm(container_sub, "rm", "%docker container rm", aliases=("remove",))
    add_logs(container_sub, "logs", "%docker container logs")


def add_run(sub: Any, name: str = "run", prog: str | None = None) -> None:
    p = cli.add_command(sub, name, _run_run, "Create and run a new container from an image", prog=prog)
    p.add_argument("-d", "--detach", action="store_true",
                   help="Run container in background and print container ID")
    p.add_argument("--rm", action="store_true", help="Automatically remove the container when it exits")
    p.add_argument("--name", help="Assign a name to the container")
    p.add_argument("-e", "--env", action="append", metavar="KEY=VALUE", help="Set environment variables")
    p.add_argument("-w", "--workdir", help="Working directory inside the container")
    p.add_argument("--entrypoint", help="Overwrite the default ENTRYPOINT of the image")
    p.add_argument("-u", "--user", help="Username or UID (format: <name|uid>[:<group|gid>])")
    p.add_argument("--network", help="Connect a container to a network (default: bridge, or none "
                                     "when the engine has no bridge)")
    p.add_argument("-i", "--interactive", action="store_true",
                   help="Accepted, ignored: a notebook cell has no stdin for the container")
    p.add_argument("-t", "--tty", action="store_true",
                   help="Accepted, ignored: a notebook cell has no terminal")
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="[COMMAND] [ARG...]",
                   help="Command and arguments (flags after IMAGE belong to the command)")


def _run_run(session: cli.Session, a: argparse.Namespace) -> Any:
    return run_container(session.engine, a.image, a.command, rm=a.rm, name=a.name, env=a.env,
                         workdir=a.workdir, entrypoint=a.entrypoint, user=a.user, network=a.network,
                         interactive=a.interactive, tty=a.tty, detach=a.detach)


def add_ps(sub: Any, name: str = "ps", prog: str | None = None, aliases: tuple[str, ...] = ()) -> None:
    p = cli.add_command(sub, name, _run_ps, "List containers", aliases, prog=prog)
    p.add_argument("-a", "--all", action="store_true", help="Show all containers (default shows just running)")
    p.add_argument("-q", "--quiet", action="store_true", help="Only display container IDs (returns a list)")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("-f", "--filter", action="append", metavar="KEY=VALUE",
                   help="Filter output based on conditions provided (name=…, status=exited, ancestor=…)")


def _run_ps(session: cli.Session, a: argparse.Namespace) -> Any:
    return list_containers(session.engine, all=a.all, quiet=a.quiet, no_trunc=a.no_trunc, filters=a.filter)


def add_rm(sub: Any, name: str = "rm", prog: str | None = None, aliases: tuple[str, ...] = ()) -> None:
    p = cli.add_command(sub, name, _run_rm, "Remove one or more containers", aliases, prog=prog)
    p.add_argument("-f", "--force", action="store_true", help="Force the removal of a running container")
    p.add_argument("-v", "--volumes", action="store_true", help="Remove anonymous volumes of the container")
    p.add_argument("containers", nargs="+", metavar="CONTAINER")


def _run_rm(session: cli.Session, a: argparse.Namespace) -> Any:
    return remove_containers(session.engine, a.containers, force=a.force, volumes=a.volumes)


def add_logs(sub: Any, name: str = "logs", prog: str | None = None) -> None:
    p = cli.add_command(sub, name, _run_logs, "Fetch the logs of a container", prog=prog)
    p.add_argument("-f", "--follow", action="store_true",
                   help="Follow log output until the container exits (interrupt to stop following; "
                        "the container keeps running)")
    p.add_argument("-t", "--timestamps", action="store_true", help="Show timestamps")
    p.add_argument("-n", "--tail", metavar="N", help="Number of lines to show from the end (default all)")
    p.add_argument("container", metavar="CONTAINER")


def _run_logs(session: cli.Session, a: argparse.Namespace) -> Any:
    return show_logs(session.engine, a.container, timestamps=a.timestamps, tail=a.tail,
                     follow=a.follow)
