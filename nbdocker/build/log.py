"""A build's log lines in bounded memory, the whole log kept on disk.

A RUN step that prints 100,000 lines must not grow the kernel's memory with it, yet the full log
has to stay reachable (to show, search or save after the build). `BuildLog` keeps, per step, the
last lines in a `deque(maxlen=…)` and a line count, and spools every line to an anonymous
temporary file that disappears when the log is closed or collected.

Spool format: one UTF-8 line per log line, `key TAB stream TAB text LF`, with backslash, tab,
LF and CR escaped as `\\\\`, `\\t`, `\\n`, `\\r` so that a field never contains a separator.

Long lines: a line arrives in pieces when it is longer than the decoder keeps (`LogPart`s, then
the `LogEvent` that ends it); the pieces are written into one record as they come, so a 10 MB
line is whole on disk and never whole in memory. What memory keeps of any line (the tails every
view shows) is at most `LINE_SHOWN_CHARS`, with a note of how much more there is on disk.
A line of another step or stream arriving while a long line is under way ends its record there
(as a terminal would show the interleaving).

A spool that cannot be written (ENOSPC, EIO …) raises `LogSpoolError`, a one-line error, once;
the tails in memory stay readable.
"""
from __future__ import annotations

import io
import tempfile
import threading
import weakref
from collections import deque
from itertools import repeat
from typing import Iterable, Iterator, Sequence

from nbdocker.build.events import Event, LogEvent, LogLines, LogPart
from nbdocker.errors import NbDockerError
from nbdocker.views.render import LINE_SHOWN_CHARS, truncate_line

DEFAULT_TAIL_LINES = 200
# Small logs stay in memory; past this many bytes the spool moves to a real temporary file.
DEFAULT_SPOOL_BYTES = 256 * 1024
_READ_CHUNK = 64 * 1024
#: Where spools past DEFAULT_SPOOL_BYTES are written: None is the system's temporary directory.
SPOOL_DIR: str | None = None


class LogSpoolError(NbDockerError):
    """The build log could not be written to disk (a full or failing disk)."""


# What memory (and so every view) keeps of one line: views.truncate_line; the rest is on disk.
shown_line = truncate_line

_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


_ESCAPE_TABLE = str.maketrans(_ESCAPES)
_PENDING_BYTES = 64 * 1024  # appended records are written to the spool in batches of about this


def _escape(text: str) -> str:
    # Called twice per log line: the common case (nothing to escape) stays in C.
    if "\\" not in text and "\t" not in text and "\n" not in text and "\r" not in text:
        return text
    return text.translate(_ESCAPE_TABLE)


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            out.append(_UNESCAPES.get(following, following))
        else:
            out.append(char)
    return "".join(out)


class BuildLog:
    """Every log line of one build: a bounded tail per step in memory, all lines on disk.

    Memory holds at most `tail_lines` lines per step, whatever the number of lines appended.
    Reading back (`iter_lines`, `full_text`) streams from the spool file.
    """

    def __init__(self, tail_lines: int = DEFAULT_TAIL_LINES, spool_bytes: int = DEFAULT_SPOOL_BYTES) -> None:
        if tail_lines < 0:
            raise ValueError("tail_lines must be >= 0")
        self.tail_lines = tail_lines
        self._tails: dict[str, deque[tuple[int, str]]] = {}  # (stream, text): no object per line
        self._counts: dict[str, int] = {}
        self._total = 0
        self._spool: tempfile.SpooledTemporaryFile[bytes] | None = tempfile.SpooledTemporaryFile(
            max_size=spool_bytes, mode="w+b", prefix="nbdocker-build-log-", dir=SPOOL_DIR
        )
        # Closed when the log is collected, or at exit before tempfile's module is torn down.
        weakref.finalize(self, self._spool.close)
        # The build loop appends while a view may read back; the file has one position, so a
        # read moves it away from the end and the next append moves it back.
        self._lock = threading.Lock()
        self._position_at_end = True
        # Records not yet written: one write per batch, not per line (100k-line builds).
        self._pending: list[str] = []
        self._pending_size = 0
        self._open: tuple[str, int] | None = None  # a long line's record under way
        self._open_head = ""  # what memory keeps of that line
        self._open_length = 0
        self.spool_error: str | None = None  # set once writing failed: the log on disk is cut

    # -- writing -------------------------------------------------------------------------------
    def append(self, event: LogEvent) -> None:
        """Record one log line."""
        self.append_lines(event.key, event.stream, (event.text,))

    def append_part(self, key: str, stream: int, text: str) -> None:
        """Record a piece of a line not yet ended (see `LogPart`): written now, kept only cut."""
        if self._spool is None:
            raise ValueError("the build log is closed")
        stream = int(stream)
        if self._open is not None and self._open != (key, stream):
            self._end_open("")
        if self._open is None:
            self._open = (str(key), stream)
            self._open_head, self._open_length = "", 0
            self._queue(f"{_escape(key)}\t{stream}\t{_escape(text)}")
        else:
            self._queue(_escape(text))
        if len(self._open_head) <= LINE_SHOWN_CHARS:
            self._open_head += text[: LINE_SHOWN_CHARS + 1 - len(self._open_head)]
        self._open_length += len(text)

    def _end_open(self, text: str) -> None:
        """End the long line under way with `text`: its record on disk, its cut form in memory."""
        key, stream = self._open  # type: ignore[misc]
        self._open = None
        head = self._open_head
        if len(head) <= LINE_SHOWN_CHARS:
            head += text[: LINE_SHOWN_CHARS + 1 - len(head)]
        self._queue(_escape(text) + "\n")
        self._keep(key, stream, [shown_line(head, self._open_length + len(text))], cut=True)

    def _keep(self, key: str, stream: int, texts: Sequence[str], cut: bool = False) -> str:
        """Count `texts` and keep the last of them, cut (unless they are), in the step's tail."""
        tail = self._tails.get(key)
        if tail is None:
            key = str(key)  # one string object per step
            tail = self._tails[key] = deque(maxlen=self.tail_lines)
            self._counts[key] = 0
        if self.tail_lines:
            kept = texts[-self.tail_lines:]
            if not cut and any(len(text) > LINE_SHOWN_CHARS for text in kept):
                kept = [shown_line(text) for text in kept]
            tail.extend(zip(repeat(stream), kept))
        self._counts[key] += len(texts)
        self._total += len(texts)
        return key

    def _queue(self, records: str) -> None:
        with self._lock:
            self._pending.append(records)
            self._pending_size += len(records)
            if self._pending_size >= _PENDING_BYTES:
                self._write_pending()

    def append_lines(self, key: str, stream: int, texts: Sequence[str]) -> None:
        """Record lines of one step and stream, in order (a RUN's burst: one call, not thousands)."""
        if self._spool is None:
            raise ValueError("the build log is closed")
        if not texts:
            return
        stream = int(stream)
        if self._open is not None:
            if self._open == (key, stream):  # the first text ends the long line under way
                self._end_open(texts[0])
                texts = texts[1:]
                if not texts:
                    return
            else:
                self._end_open("")
        key = self._keep(key, stream, texts)
        prefix = f"{_escape(key)}\t{stream}\t"
        body = "\n".join(texts)
        if "\\" in body or "\t" in body or "\r" in body or body.count("\n") != len(texts) - 1:
            records = "".join([f"{prefix}{_escape(text)}\n" for text in texts])
        else:  # nothing to escape (the usual case): the records are made in C
            records = prefix + body.replace("\n", "\n" + prefix) + "\n"
        self._queue(records)

    def _flush(self) -> None:
        """Write the pending records at the end of the spool."""
        with self._lock:
            self._write_pending()

    def _write_pending(self) -> None:  # with the lock held
        if not self._pending or self._spool is None:
            return
        data = "".join(self._pending).encode("utf-8", "surrogatepass")
        self._pending.clear()
        self._pending_size = 0
        if self.spool_error is not None:
            return  # said once; the tails in memory go on
        try:
            if not self._position_at_end:
                self._spool.seek(0, io.SEEK_END)
                self._position_at_end = True
            self._spool.write(data)
        except OSError as err:
            where = getattr(self._spool, "name", None)
            where = where if isinstance(where, str) else (SPOOL_DIR or tempfile.gettempdir())
            self.spool_error = f"cannot write the build log to {where}: {err.strerror or err}"
            raise LogSpoolError(f"{self.spool_error}; free some space there (or set "
                                "nbdocker.build.log.SPOOL_DIR to another directory) and build again") from None

    def extend(self, events: Iterable[Event]) -> None:
        """Record the `LogEvent`s and `LogLines` among `events`; other events are ignored."""
        key: str | None = None
        stream = 0
        texts: list[str] = []
        for event in events:
            if isinstance(event, LogPart):
                if texts:
                    self.append_lines(key, stream, texts)  # type: ignore[arg-type]
                    texts = []
                self.append_part(event.key, event.stream, event.text)
            elif isinstance(event, LogEvent):
                if texts and (event.key != key or event.stream != stream):
                    self.append_lines(key, stream, texts)  # type: ignore[arg-type]
                    texts = []
                key, stream = event.key, event.stream
                texts.append(event.text)
            elif isinstance(event, LogLines):
                if texts:
                    self.append_lines(key, stream, texts)  # type: ignore[arg-type]
                    texts = []
                self.append_lines(event.key, event.stream, event.texts)
        if texts:
            self.append_lines(key, stream, texts)  # type: ignore[arg-type]

    # -- reading -------------------------------------------------------------------------------
    def keys(self) -> list[str]:
        """Keys of the steps that logged, in the order of their first line."""
        return list(self._tails)

    def line_count(self, key: str | None = None) -> int:
        """Lines recorded for `key`, or for the whole build."""
        return self._total if key is None else self._counts.get(key, 0)

    def tail(self, key: str, n: int | None = None) -> list[LogEvent]:
        """The last `n` lines of a step still in memory (at most `tail_lines`; all kept if None)."""
        lines = self._tails.get(key)
        if not lines or (n is not None and n <= 0):
            return []
        chosen = list(lines) if n is None or n >= len(lines) else list(lines)[-n:]
        return [LogEvent(key, stream, text) for stream, text in chosen]

    def iter_lines(self, key: str | None = None) -> Iterator[LogEvent]:
        """Every line recorded, in order, read back from disk; only `key`'s when given."""
        spool = self._open_spool()
        offset = 0
        pending = b""
        while True:
            self._flush()  # lines appended since (or while) reading are read too
            with self._lock:
                self._position_at_end = False
                spool.seek(offset)
                chunk = spool.read(_READ_CHUNK)
            if not chunk:
                break
            offset += len(chunk)
            records = (pending + chunk).split(b"\n")
            pending = records.pop()
            for record in records:
                event = self._parse(record)
                if key is None or event.key == key:
                    yield event

    def full_text(self, key: str | None = None) -> str:
        """The whole log (or one step's) as text, each line ending in a newline."""
        return "".join(f"{event.text}\n" for event in self.iter_lines(key))

    @staticmethod
    def _parse(record: bytes) -> LogEvent:
        key, stream, text = record.decode("utf-8", "surrogatepass").split("\t", 2)
        return LogEvent(_unescape(key), int(stream), _unescape(text))

    # -- lifetime ------------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        """True once `close()` has dropped the spool file."""
        return self._spool is None

    def close(self) -> None:
        """Delete the spool file; the in-memory tails and counts stay readable."""
        with self._lock:
            if self._spool is not None:
                self._spool.close()
                self._spool = None
            self._pending.clear()

    def _open_spool(self) -> tempfile.SpooledTemporaryFile[bytes]:
        if self._spool is None:
            raise ValueError("the build log is closed")
        return self._spool

    def __enter__(self) -> BuildLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<BuildLog {self._total} lines, {len(self._tails)} steps, {state}>"
