"""Decode the Engine's build stream, from either builder, into one event model.

`docker.APIClient().build(..., decode=True)` yields JSON messages. Their shape depends on the
builder the request chose:

* classic (`version=1`): text in `{"stream": …}` messages that are not lines (a `Step` line and its
  newline arrive apart; 100k output lines came as ~18.5k messages), RUN stderr wrapped in
  `ESC[91m…ESC[0m`, the image id in `{"aux": {"ID": …}}` (one per stage of a multi-stage build).
* BuildKit (`version=2`): `{"id": "moby.buildkit.trace", "aux": "<base64>"}`, each a protobuf
  `StatusResponse` (buildkit's control.proto), read here by a small wire-format reader; the image id
  in `{"id": "moby.image.id", "aux": {"ID": …}}`.

Both end with an in-band `{"errorDetail": …, "error": …}` on failure. `ClassicDecoder` and
`BuildKitDecoder` turn messages into `StepEvent`, `LogEvent`, `WarningEvent`, `ImageIdEvent` and
`ErrorEvent`. Pure: no docker, no IPython; feed it messages, read events back.

Log lines, both builders:
* a line ends at `\\n`; `\\r\\n` counts as `\\n`;
* a lone `\\r` is a progress-bar rewrite: the line keeps only its last rewrite (`"a\\rb"` → `"b"`),
  which is what the line means, rather than what a terminal would paint (`"abc\\rx"` paints `xbc`);
  a partial line drops its overwritten text as soon as it is seen, so an endless progress bar does
  not grow memory;
* a partial line is flushed when its step ends and by `close()`;
* a line longer than `LINE_MEMORY_CHARS` is never held whole: its beginning leaves as `LogPart`
  events as soon as it exceeds the bound, and the `LogEvent` that ends it carries only its last
  piece (the build log joins them on disk). Rewrites by `\\r` then apply only to that last piece.
"""
from __future__ import annotations

import base64
import binascii
import codecs
import re
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Literal, Union

StepState = Literal["queued", "running", "cached", "done", "failed"]

#: Key of log lines that belong to no step (builder text outside any step).
BUILD_KEY = ""

#: Characters of one unfinished line a decoder keeps; past it the line leaves in `LogPart`s
#: (a RUN printing a 10 MB line without a newline must not hold 10 MB, or 40 as a str).
LINE_MEMORY_CHARS = 64 * 1024


# --------------------------------------------------------------------------------------------
# The event model
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepEvent:
    """A step (classic) or vertex (BuildKit) changed state.

    `key` is the vertex digest (BuildKit) or `step-N` (classic); `name` is the builder's own label
    (`[2/3] RUN echo hi`, `Step 2/3 : RUN echo hi`); times are epoch seconds.
    """

    key: str
    name: str
    state: StepState
    started: float | None
    completed: float | None
    error: str | None = None


@dataclass(frozen=True, slots=True)  # slots: a third cheaper to make, and one is made per line
class LogEvent:
    """One complete output line of a step (no newline); stream 1 is stdout, 2 stderr."""

    key: str
    stream: int
    text: str


@dataclass(frozen=True, slots=True)
class LogPart:
    """The beginning (or a further piece) of a line longer than `LINE_MEMORY_CHARS`.

    Sent before the line ends, so that no line is held whole; the `LogEvent` (or the first text
    of the `LogLines`) of the same step and stream that follows ends that line.
    """

    key: str
    stream: int
    text: str


@dataclass(frozen=True, slots=True)
class LogLines:
    """Several complete output lines of one step and stream, from one message.

    Only a bulk decoder (`decoder_for(..., bulk=True)`, what the build loop uses) sends these, for
    a message carrying more than one line: the same as a `LogEvent` per line, without an object
    per line (a RUN printing 100,000 lines). `events()` gives those LogEvents.
    """

    key: str
    stream: int
    texts: tuple[str, ...]

    def events(self) -> list[LogEvent]:
        return [LogEvent(self.key, self.stream, text) for text in self.texts]


@dataclass(frozen=True)
class WarningEvent:
    """A warning from the builder (BuildKit warnings, classic `[WARNING]:` lines)."""

    message: str
    detail: str = ""
    key: str | None = None


@dataclass(frozen=True)
class ImageIdEvent:
    """The id of the image the build produced, only ever taken from an `aux` message."""

    image_id: str


@dataclass(frozen=True)
class ErrorEvent:
    """The build failed; `exit_code` when a RUN command's exit status caused it."""

    message: str
    exit_code: int | None = None
    key: str | None = None


Event = Union[StepEvent, LogEvent, LogPart, LogLines, WarningEvent, ImageIdEvent, ErrorEvent]

_TERMINAL_STATES = frozenset({"cached", "done", "failed"})

# A Dockerfile step as the builders name it: BuildKit `[2/3] RUN …`, `[builder 1/2] FROM …`,
# `[linux/amd64 stage-1 2/3] COPY …`; classic `Step 2/3 : RUN …` (`Step 2 : …` on old engines).
_BUILDKIT_STEP_NAME = re.compile(r"\[(?:[^\]]* )?\d+/\d+\] ")
_CLASSIC_STEP_LINE = re.compile(r"Step (\d+)(?:/(\d+))? : ")


def is_internal_step(name: str) -> bool:
    """True for a step the builder adds itself rather than a Dockerfile instruction.

    BuildKit names those `[internal] load …`, `copy /context /` (the context tar, on Engine 20.10),
    `exporting to image`, `[auth] …`: everything not numbered `[i/n]` like a Dockerfile step.
    """
    return not (_BUILDKIT_STEP_NAME.match(name) or _CLASSIC_STEP_LINE.match(name))


# Exit status of a failed RUN, in the wordings seen so far:
#   classic:            The command '/bin/sh -c exit 3' returned a non-zero code: 3
#   BuildKit (20.10):   executor failed running [/bin/sh -c exit 3]: exit code: 3
#   BuildKit (>= 23):   process "/bin/sh -c exit 3" did not complete successfully: exit code: 3
_EXIT_CODE = re.compile(r"(?:returned a non-zero code: |exit code: |exit status )(\d+)")  # last: Podman


def parse_exit_code(message: str) -> int | None:
    """The exit code a builder's error message reports, or None."""
    match = _EXIT_CODE.search(message)
    return int(match.group(1)) if match else None


# --------------------------------------------------------------------------------------------
# Protobuf wire format, just enough for buildkit's StatusResponse
# --------------------------------------------------------------------------------------------
class ProtobufError(ValueError):
    """Bytes that are not a well-formed protobuf message."""


WIRE_VARINT, WIRE_FIXED64, WIRE_BYTES, WIRE_FIXED32 = 0, 1, 2, 5


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """Decode a base-128 varint at `pos`; return (value, position after it)."""
    result = 0
    shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ProtobufError("varint longer than 10 bytes")


def iter_fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield (field number, wire type, value) for each field of one message.

    Varints come as int, length-delimited fields as bytes (a nested message, string or bytes:
    the schema decides), fixed32/fixed64 as their raw little-endian bytes. Groups (wire types 3
    and 4, deprecated and unused by buildkit) are refused.
    """
    pos = 0
    end = len(data)
    while pos < end:
        tag, pos = read_varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise ProtobufError("field number 0")
        if wire == WIRE_VARINT:
            value, pos = read_varint(data, pos)
            yield number, wire, value
        elif wire == WIRE_BYTES:
            size, pos = read_varint(data, pos)
            if pos + size > end:
                raise ProtobufError(f"field {number} runs past the end of the message")
            yield number, wire, data[pos : pos + size]
            pos += size
        elif wire in (WIRE_FIXED64, WIRE_FIXED32):
            size = 8 if wire == WIRE_FIXED64 else 4
            if pos + size > end:
                raise ProtobufError(f"field {number} runs past the end of the message")
            yield number, wire, data[pos : pos + size]
            pos += size
        else:
            raise ProtobufError(f"unsupported wire type {wire} (field {number})")


def _text(value: int | bytes) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else ""


def decode_timestamp(data: bytes) -> float:
    """google.protobuf.Timestamp (1 seconds, 2 nanos) as float epoch seconds."""
    seconds = nanos = 0
    for number, wire, value in iter_fields(data):
        if wire != WIRE_VARINT:
            continue
        if number == 1:
            seconds = value - (1 << 64) if value >= 1 << 63 else value  # int64, two's complement
        elif number == 2:
            nanos = value
    return seconds + nanos / 1e9


@dataclass(frozen=True)
class Vertex:
    """buildkit `Vertex`: one node of the build graph, sent again each time it changes."""

    digest: str
    inputs: tuple[str, ...] = ()
    name: str = ""
    cached: bool = False
    started: float | None = None
    completed: float | None = None
    error: str = ""


@dataclass(frozen=True)
class VertexStatus:
    """buildkit `VertexStatus`: progress of one task of a vertex (a layer pull, an export)."""

    id: str
    vertex: str = ""
    name: str = ""
    current: int = 0
    total: int = 0


@dataclass(frozen=True)
class VertexLog:
    """buildkit `VertexLog`: a chunk of a vertex's output; `msg` is bytes, not lines."""

    vertex: str
    timestamp: float | None = None
    stream: int = 1
    msg: bytes = b""


@dataclass(frozen=True)
class VertexWarning:
    """buildkit `VertexWarning` (newer engines only; Engine 20.10 sends none)."""

    vertex: str
    level: int = 0
    short: str = ""
    detail: tuple[str, ...] = ()
    url: str = ""


@dataclass(frozen=True)
class StatusResponse:
    """buildkit `StatusResponse`: one trace message."""

    vertexes: tuple[Vertex, ...] = ()
    statuses: tuple[VertexStatus, ...] = ()
    logs: tuple[VertexLog, ...] = ()
    warnings: tuple[VertexWarning, ...] = ()


def _decode_vertex(data: bytes) -> Vertex:
    digest = name = error = ""
    inputs: list[str] = []
    cached = False
    started = completed = None
    for number, wire, value in iter_fields(data):
        if number == 1 and wire == WIRE_BYTES:
            digest = _text(value)
        elif number == 2 and wire == WIRE_BYTES:
            inputs.append(_text(value))
        elif number == 3 and wire == WIRE_BYTES:
            name = _text(value)
        elif number == 4 and wire == WIRE_VARINT:
            cached = bool(value)
        elif number == 5 and wire == WIRE_BYTES:
            started = decode_timestamp(value)
        elif number == 6 and wire == WIRE_BYTES:
            completed = decode_timestamp(value)
        elif number == 7 and wire == WIRE_BYTES:
            error = _text(value)
    return Vertex(digest, tuple(inputs), name, cached, started, completed, error)


def _decode_status(data: bytes) -> VertexStatus:
    fields: dict[int, int | bytes] = {}
    for number, wire, value in iter_fields(data):
        if (number in (1, 2, 3) and wire == WIRE_BYTES) or (number in (4, 5) and wire == WIRE_VARINT):
            fields[number] = value
    return VertexStatus(
        id=_text(fields.get(1, b"")),
        vertex=_text(fields.get(2, b"")),
        name=_text(fields.get(3, b"")),
        current=int(fields.get(4, 0)),  # type: ignore[arg-type]
        total=int(fields.get(5, 0)),  # type: ignore[arg-type]
    )


def _decode_log(data: bytes) -> VertexLog:
    vertex = ""
    timestamp = None
    stream = 1
    chunks: list[bytes] = []
    for number, wire, value in iter_fields(data):
        if number == 1 and wire == WIRE_BYTES:
            vertex = _text(value)
        elif number == 2 and wire == WIRE_BYTES:
            timestamp = decode_timestamp(value)  # type: ignore[arg-type]
        elif number == 3 and wire == WIRE_VARINT:
            stream = value  # type: ignore[assignment]
        elif number == 4 and wire == WIRE_BYTES:
            chunks.append(value)  # type: ignore[arg-type]
    return VertexLog(vertex, timestamp, stream, b"".join(chunks))


def _decode_warning(data: bytes) -> VertexWarning:
    vertex = short = url = ""
    level = 0
    detail: list[str] = []
    for number, wire, value in iter_fields(data):
        if number == 1 and wire == WIRE_BYTES:
            vertex = _text(value)
        elif number == 2 and wire == WIRE_VARINT:
            level = value  # type: ignore[assignment]
        elif number == 3 and wire == WIRE_BYTES:
            short = _text(value)
        elif number == 4 and wire == WIRE_BYTES:
            detail.append(_text(value))
        elif number == 5 and wire == WIRE_BYTES:
            url = _text(value)
    return VertexWarning(vertex, level, short, tuple(detail), url)


def decode_status_response(data: bytes) -> StatusResponse:
    """Decode a buildkit `StatusResponse` from protobuf bytes; unknown fields are skipped."""
    vertexes: list[Vertex] = []
    statuses: list[VertexStatus] = []
    logs: list[VertexLog] = []
    warnings: list[VertexWarning] = []
    for number, wire, value in iter_fields(data):
        if wire != WIRE_BYTES:
            continue
        assert isinstance(value, bytes)
        if number == 1:
            vertexes.append(_decode_vertex(value))
        elif number == 2:
            statuses.append(_decode_status(value))
        elif number == 3:
            logs.append(_decode_log(value))
        elif number == 4:
            warnings.append(_decode_warning(value))
    return StatusResponse(tuple(vertexes), tuple(statuses), tuple(logs), tuple(warnings))


def decode_trace(aux: str | bytes) -> StatusResponse:
    """Decode the `aux` of a `moby.buildkit.trace` message (base64 text of a StatusResponse)."""
    try:
        data = base64.b64decode(aux, validate=True)
    except (binascii.Error, ValueError) as err:
        raise ProtobufError(f"trace is not base64: {err}") from err
    return decode_status_response(data)


# --------------------------------------------------------------------------------------------
# Line assembly
# --------------------------------------------------------------------------------------------
class _Piece(str):
    """A piece of a line too long to keep (see `LogPart`); plain strs are complete lines."""

    __slots__ = ()


class _LineAssembler:
    """Turns chunks of one output stream into complete lines (see the module docstring)."""

    def __init__(self, cap: int | None = None) -> None:
        self._partial = ""
        self._cap = LINE_MEMORY_CHARS if cap is None else cap
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")

    def feed_bytes(self, data: bytes) -> list[str]:
        # Incremental: a multibyte character split across two chunks is decoded whole.
        return self.feed(self._utf8.decode(data))

    def feed(self, text: str) -> list[str]:
        """Complete lines of `text` (and `_Piece`s of an overlong line), in order."""
        if "\n" not in text:
            self._partial = _drop_overwritten(self._partial + text)
            return self._spill([])
        pieces = (self._partial + text).split("\n")
        self._partial = _drop_overwritten(pieces.pop())
        if "\r" not in text and "\r" not in pieces[0]:
            return self._spill(pieces)  # no rewrites in this chunk (the usual case): nothing to cut
        return self._spill([_last_rewrite(piece) for piece in pieces])

    def _spill(self, lines: list[str]) -> list[str]:
        """Send the unfinished line on as a `_Piece` once it is longer than the cap."""
        partial = self._partial
        if len(partial) <= self._cap:
            return lines
        keep = "\r" if partial.endswith("\r") else ""  # maybe the first half of \r\n
        self._partial = keep
        lines.append(_Piece(partial[: len(partial) - len(keep)]))
        return lines

    def flush(self) -> list[str]:
        rest = self._partial + self._utf8.decode(b"", final=True)
        self._partial = ""
        return [_last_rewrite(rest)] if rest else []


def _last_rewrite(line: str) -> str:
    """The text after the last `\\r` of a complete line (`\\r\\n` is a plain line end)."""
    line = line.rstrip("\r")
    return line[line.rfind("\r") + 1 :]


def _drop_overwritten(partial: str) -> str:
    """Drop the text of a partial line that a later `\\r` already overwrote.

    A trailing `\\r` is kept: it may be the first half of `\\r\\n`.
    """
    cut = partial.rstrip("\r").rfind("\r")
    return partial[cut + 1 :] if cut >= 0 else partial


# --------------------------------------------------------------------------------------------
# The decoders
# --------------------------------------------------------------------------------------------
_WARNING_LINE = re.compile(r"\[warning\]:?\s*(.*)", re.IGNORECASE)


class _Decoder:
    """What both builders share: image id, in-band errors, stray text."""

    def __init__(self, bulk: bool = False) -> None:
        self._failed = False
        self._closed = False
        self._bulk = bulk

    def _log(self, key: str, stream: int, lines: list[str]) -> list[Event]:
        """Events for lines of one step: a LogEvent each, or one LogLines in bulk mode; the
        pieces of an overlong line as LogParts."""
        if lines and isinstance(lines[-1], _Piece):  # only ever last: the line under way
            return self._log(key, stream, lines[:-1]) + [LogPart(key, stream, str(lines[-1]))]
        if self._bulk and len(lines) > 1:
            return [LogLines(key, stream, tuple(lines))]
        return [LogEvent(key, stream, line) for line in lines]

    def feed(self, message: dict) -> list[Event]:
        """Events for one decoded JSON message of the build stream."""
        if self._closed:
            raise ValueError("decoder is closed")
        if not isinstance(message, dict):
            return []
        if "errorDetail" in message or "error" in message:
            return self._on_error(_error_text(message), _error_code(message))
        if message.get("id") == "moby.buildkit.trace":
            return self._on_trace(message.get("aux"))
        aux = message.get("aux")
        if isinstance(aux, dict) and isinstance(aux.get("ID"), str):
            return self._on_image_id(aux["ID"])
        stream = message.get("stream")
        if isinstance(stream, str):
            return self._on_stream(stream)
        # A bare {"message": …} is how some failures arrive (an error body instead of a stream).
        if isinstance(message.get("message"), str) and set(message) <= {"message", "code"}:
            return self._on_error(message["message"], None)
        # {"status": …} pull progress and anything unknown: nothing to show.
        return []

    def close(self) -> list[Event]:
        """Events still pending at the end of the stream. Always call it."""
        if self._closed:
            return []
        self._closed = True
        return self._on_close()

    def _on_error(self, text: str, code: int | None) -> list[Event]:
        raise NotImplementedError

    def _on_trace(self, aux: object) -> list[Event]:
        return []

    def _on_image_id(self, image_id: str) -> list[Event]:
        raise NotImplementedError

    def _on_stream(self, text: str) -> list[Event]:
        raise NotImplementedError

    def _on_close(self) -> list[Event]:
        raise NotImplementedError


def _error_text(message: dict) -> str:
    detail = message.get("errorDetail")
    if isinstance(detail, dict) and isinstance(detail.get("message"), str) and detail["message"]:
        return detail["message"]
    error = message.get("error")
    return error if isinstance(error, str) and error else "build failed"


def _error_code(message: dict) -> int | None:
    # The classic builder puts a failed RUN's exit status in errorDetail.code; other errors
    # leave it out. BuildKit never sets it: the code is only in the text.
    detail = message.get("errorDetail")
    code = detail.get("code") if isinstance(detail, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) and code else None


@dataclass
class _Step:
    key: str
    name: str
    state: StepState
    started: float | None = None
    completed: float | None = None
    error: str | None = None

    def event(self) -> StepEvent:
        return StepEvent(self.key, self.name, self.state, self.started, self.completed, self.error)


_STREAM_ENDED = "the build stream ended before this step finished"


class ClassicDecoder(_Decoder):
    """Decoder for the classic builder's text stream (`POST /build?version=1`).

    The classic stream mixes the builder's own lines with a RUN's output, in the same kind of
    message: only the engine's framing may move steps. A RUN's output is everything between
    ` ---> Running in <cid>` and the message `Removing intermediate container <cid>` naming that
    same container (nbdocker always sends rm=1, so that message always comes): inside it a
    ` ---> 0123456789ab`, `Step 3/3 : …` or ` ---> Using cache` is output. Outside a RUN, a
    `Step N/M` line moves the steps only when N is the next number and M the build's count.
    A RUN can still name its own container (its hostname is the short id): when the real
    `Removing …` of a container comes a second time, the earlier one was forged, and a warning
    says so. Builder lines are not log lines (so a RUN printing "Successfully built …" is a log
    line, and the builder's own "Successfully built …" is ignored: the image id comes only from
    `aux`).

    `committed` lists the images this build made itself (the ` ---> <id>` that ends a step it
    ran, not a cached one), oldest first: what a failed build leaves dangling.

    A multi-stage build sends an `aux` image id at the end of every stage; only the last is the
    result. The id is therefore held back and released by `close()`, and never after an error:
    at most one `ImageIdEvent` per build, and only for a build that succeeded.
    """

    _RUNNING_IN = re.compile(r" ---> Running in ([0-9a-f]+)")
    _LAYER = re.compile(r" ---> ([0-9a-f]{12,64})")
    _CONTAINER_GONE = re.compile(r"Remov(?:ing|ed) intermediate container ([0-9a-f]+)")
    _STDERR_START, _STDERR_END = "\x1b[91m", "\x1b[0m"

    def __init__(self, now: Callable[[], float] = time.time, bulk: bool = False) -> None:
        super().__init__(bulk)
        self._now = now
        self._step: _Step | None = None
        self._container: str | None = None  # set while a RUN's output is streaming
        self._builder_lines = {1: _LineAssembler(), 2: _LineAssembler()}
        self._output_lines = {1: _LineAssembler(), 2: _LineAssembler()}
        self._warning: list[str] | None = None  # [message, detail lines…] being collected
        self._image_id: str | None = None
        self._number = 0  # the last step number the framing announced
        self._count: int | None = None  # M of `Step N/M`
        self._removed: set[str] = set()  # containers whose end of output was seen
        self.committed: list[str] = []
        self._layers: set[str] = set()

    # -- messages ----------------------------------------------------------------------------
    @property
    def running_container(self) -> str | None:
        """The id of the container running the current RUN step, if one is."""
        return self._container

    def _on_stream(self, text: str) -> list[Event]:
        stream = 1
        # The engine wraps each stderr write whole: ESC[91m + bytes + ESC[0m, in one message.
        if text.startswith(self._STDERR_START) and text.endswith(self._STDERR_END):
            stream = 2
            text = text[len(self._STDERR_START) : -len(self._STDERR_END)]
        events: list[Event] = []
        if self._container is not None:
            if stream == 1 and self._ends_output(text):
                events += self._flush_output()
                self._container = None
            else:
                events += self._log(self._step_key(), stream, self._output_lines[stream].feed(text))
                return events
        for line in self._builder_lines[stream].feed(text):
            if isinstance(line, _Piece):
                events.append(LogPart(self._step_key(), stream, str(line)))
            else:
                events += self._on_builder_line(line, stream)
        return events

    def _ends_output(self, text: str) -> bool:
        # A whole message naming the running container; ` ---> <id>` alone is output (item 5).
        line = text.rstrip("\n")
        if text.count("\n") != 1 or not text.endswith("\n"):
            return False
        gone = self._CONTAINER_GONE.fullmatch(line)
        return bool(gone) and self._container is not None and \
            self._container.startswith(gone.group(1)[:12])

    def _is_next_step(self, line: str) -> bool:
        """`Step N/M : …` that continues the framing: N the next number, M the same count."""
        match = _CLASSIC_STEP_LINE.match(line)
        if match is None or int(match.group(1)) != self._number + 1:
            return False
        count = int(match.group(2)) if match.group(2) else None
        if self._number and count != self._count:
            return False
        self._number, self._count = self._number + 1, count
        return True

    def _on_builder_line(self, line: str, stream: int) -> list[Event]:
        events = self._collect_warning(line)
        if self._warning is not None:
            return events
        if self._is_next_step(line):
            # A later stage began: the aux id seen so far was an intermediate stage's.
            self._image_id = None
            events += self._finish_step("done")
            self._step = _Step(f"step-{self._number}", line, "running", started=self._now())
            events.append(self._step.event())
        elif line == " ---> Using cache":
            events += self._finish_step("cached")
        elif self._RUNNING_IN.fullmatch(line):
            self._container = self._RUNNING_IN.fullmatch(line).group(1)  # type: ignore[union-attr]
        elif self._LAYER.fullmatch(line):
            layer = self._LAYER.fullmatch(line).group(1)  # type: ignore[union-attr]
            # FROM names an image that was there before; so does any id seen already.
            if self._step is not None and self._step.state == "running" and layer not in self._layers \
                    and not self._step.name.split(" : ", 1)[-1].upper().startswith("FROM"):
                self.committed.append(layer)
            self._layers.add(layer)
            events += self._finish_step("done")
        elif self._CONTAINER_GONE.fullmatch(line):
            events += self._on_container_gone(self._CONTAINER_GONE.fullmatch(line).group(1))  # type: ignore[union-attr]
        elif line.startswith(("Successfully built ", "Successfully tagged ")):
            pass  # the builder's own summary; the image id comes from aux
        elif line:
            events.append(LogEvent(self._step_key(), stream, line))
        return events

    def _on_container_gone(self, cid: str) -> list[Event]:
        short = cid[:12]
        if short in self._removed:  # the engine's own, after a RUN printed the same line
            return [WarningEvent(
                f"a RUN step printed the builder's own line 'Removing intermediate container "
                f"{short}': the steps shown after it may not be the builder's")]
        self._removed.add(short)
        return []

    def _collect_warning(self, line: str) -> list[Event]:
        """Group `[WARNING]: message` and the indented lines after it into one WarningEvent."""
        events: list[Event] = []
        if self._warning is not None:
            if line[:1].isspace() and line.strip():
                self._warning.append(line.strip())
                return events
            events += self._release_warning()
        match = _WARNING_LINE.fullmatch(line)
        if match:
            self._warning = [match.group(1)]
        return events

    def _release_warning(self) -> list[Event]:
        if self._warning is None:
            return []
        message, *detail = self._warning
        self._warning = None
        # The builder's own warnings concern the Dockerfile or the build, not the step under way.
        return [WarningEvent(message, "\n".join(detail))]

    def _on_image_id(self, image_id: str) -> list[Event]:
        self._image_id = image_id
        return []

    def _on_error(self, text: str, code: int | None) -> list[Event]:
        events = self._flush_output()
        self._container = None
        events += self._flush_builder()
        self._image_id = None
        self._failed = True
        key = None
        if self._step is not None and self._step.state == "running":
            key = self._step.key
            events += self._finish_step("failed", error=text)
        exit_code = parse_exit_code(text)
        events.append(ErrorEvent(text, exit_code if exit_code is not None else code, key))
        return events

    def _on_close(self) -> list[Event]:
        events = self._flush_output()
        self._container = None
        events += self._flush_builder()
        if self._step is not None and self._step.state == "running":
            if self._image_id is not None:
                events += self._finish_step("done")
            else:
                events += self._finish_step("failed", error=_STREAM_ENDED)
        if self._image_id is not None and not self._failed:
            events.append(ImageIdEvent(self._image_id))
            self._image_id = None
        return events

    # -- helpers -----------------------------------------------------------------------------
    def _step_key(self) -> str:
        return self._step.key if self._step else BUILD_KEY

    def _flush_output(self) -> list[Event]:
        events: list[Event] = []
        for stream, lines in self._output_lines.items():
            events += [LogEvent(self._step_key(), stream, line) for line in lines.flush()]
        return events

    def _flush_builder(self) -> list[Event]:
        events: list[Event] = []
        for stream, lines in self._builder_lines.items():
            for line in lines.flush():
                events += self._on_builder_line(line, stream)
        return events + self._release_warning()

    def _finish_step(self, state: StepState, error: str | None = None) -> list[Event]:
        step = self._step
        if step is None or step.state != "running":
            return []
        step.state = state
        step.completed = self._now()
        step.error = error
        return [step.event()]


class BuildKitDecoder(_Decoder):
    """Decoder for BuildKit trace messages (`POST /build?version=2`).

    The same vertex is sent many times as it changes; each message carries the whole vertex and
    replaces what was known. A `StepEvent` is emitted only when a vertex's state changes. Within
    one trace message, log lines come after the vertex starts and before it finishes. Vertex
    statuses (pull, export progress) produce no events.
    """

    def __init__(self, bulk: bool = False) -> None:
        super().__init__(bulk)
        self._steps: dict[str, _Step] = {}
        self._lines: dict[tuple[str, int], _LineAssembler] = {}
        self._image_id_sent = False

    def _on_trace(self, aux: object) -> list[Event]:
        if not isinstance(aux, (str, bytes)):
            return []
        try:
            response = decode_trace(aux)
        except ProtobufError as err:
            return [WarningEvent("undecodable BuildKit trace message", str(err))]
        events: list[Event] = []
        finishing = []
        for vertex in response.vertexes:
            if _vertex_state(vertex) in _TERMINAL_STATES:
                finishing.append(vertex)
            else:
                events += self._update(vertex)
        for log in response.logs:
            assembler = self._lines.setdefault((log.vertex, log.stream), _LineAssembler())
            events += self._log(log.vertex, log.stream, assembler.feed_bytes(log.msg))
        for vertex in finishing:
            events += self._update(vertex)
        for warning in response.warnings:
            events.append(
                WarningEvent(warning.short, "\n".join(warning.detail), warning.vertex or None)
            )
        return events

    def _update(self, vertex: Vertex) -> list[Event]:
        state = _vertex_state(vertex)
        step = self._steps.get(vertex.digest)
        events: list[Event] = []
        if state in _TERMINAL_STATES:
            events += self._flush_lines(vertex.digest)
        if step is None:
            step = self._steps[vertex.digest] = _Step(vertex.digest, vertex.name, state)
            changed = True
        else:
            changed = step.state != state
            step.state = state
            step.name = vertex.name or step.name
        step.started, step.completed = vertex.started, vertex.completed
        step.error = vertex.error or None
        if changed:
            events.append(step.event())
        return events

    def _flush_lines(self, digest: str, streams: Iterable[int] = (1, 2)) -> list[Event]:
        events: list[Event] = []
        for stream in streams:
            assembler = self._lines.pop((digest, stream), None)
            if assembler is not None:
                events += [LogEvent(digest, stream, line) for line in assembler.flush()]
        return events

    def _on_image_id(self, image_id: str) -> list[Event]:
        if self._failed or self._image_id_sent:
            return []
        self._image_id_sent = True
        return [ImageIdEvent(image_id)]

    def _on_stream(self, text: str) -> list[Event]:
        # With BuildKit the engine only adds "Successfully tagged …" as text; keep anything else.
        events: list[Event] = []
        for line in text.splitlines():
            match = _WARNING_LINE.fullmatch(line)
            if match:
                events.append(WarningEvent(match.group(1)))
            elif line and not line.startswith(("Successfully built ", "Successfully tagged ")):
                events.append(LogEvent(BUILD_KEY, 1, line))
        return events

    def _on_error(self, text: str, code: int | None) -> list[Event]:
        self._failed = True
        events: list[Event] = []
        for digest, _stream in list(self._lines):
            events += self._flush_lines(digest)
        key = self._failed_vertex_for(text)
        exit_code = parse_exit_code(text)
        events.append(ErrorEvent(text, exit_code if exit_code is not None else code, key))
        return events

    def _failed_vertex_for(self, text: str) -> str | None:
        """The vertex whose own error the build error repeats (others fail as 'canceled')."""
        failed = [step for step in self._steps.values() if step.state == "failed" and step.error]
        for step in reversed(failed):
            if step.error in text:  # type: ignore[operator]
                return step.key
        not_cancelled = [step for step in failed if "context canceled" not in (step.error or "")]
        return not_cancelled[0].key if len(not_cancelled) == 1 else None

    def _on_close(self) -> list[Event]:
        events: list[Event] = []
        for digest, _stream in list(self._lines):
            events += self._flush_lines(digest)
        for step in self._steps.values():
            if step.state == "running":
                # Unfinished at the end: finished only if the build still produced its image.
                step.state = "done" if self._image_id_sent else "failed"
                step.error = None if self._image_id_sent else _STREAM_ENDED
                events.append(step.event())
        return events


def _vertex_state(vertex: Vertex) -> StepState:
    if vertex.error:
        return "failed"
    if vertex.cached:
        return "cached"
    if vertex.completed is not None:
        return "done"
    if vertex.started is not None:
        return "running"
    return "queued"


def decoder_for(builder: str, now: Callable[[], float] = time.time,
                bulk: bool = False) -> ClassicDecoder | BuildKitDecoder:
    """A fresh decoder for `builder`: "classic" or "buildkit" (`bulk`: see `LogLines`)."""
    if builder == "classic":
        return ClassicDecoder(now=now, bulk=bulk)
    if builder == "buildkit":
        return BuildKitDecoder(bulk=bulk)
    raise ValueError(f"unknown builder {builder!r}: expected 'classic' or 'buildkit'")


def decode_build_stream(
    messages: Iterable[dict], builder: str, now: Callable[[], float] = time.time
) -> list[Event]:
    """All events of a finished stream (feeds every message, then closes)."""
    decoder = decoder_for(builder, now=now)
    events: list[Event] = []
    for message in messages:
        events += decoder.feed(message)
    return events + decoder.close()
