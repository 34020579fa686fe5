"""BuildLog: bounded memory per step, every line still readable from its spool file."""
from __future__ import annotations

import gc
import json
import tracemalloc
from pathlib import Path

import pytest

from nbdocker.build.events import ImageIdEvent, LogEvent, StepEvent, decode_build_stream
from nbdocker.build.log import BuildLog

STREAMS = Path(__file__).parent / "streams"


def test_tail_count_and_full_text():
    with BuildLog(tail_lines=3) as log:
        for i in range(5):
            log.append(LogEvent("a", 1, f"a{i}"))
        log.append(LogEvent("b", 2, "b0"))
        assert log.keys() == ["a", "b"]
        assert log.line_count() == 6
        assert (log.line_count("a"), log.line_count("b"), log.line_count("nope")) == (5, 1, 0)
        assert [e.text for e in log.tail("a")] == ["a2", "a3", "a4"]  # bounded to tail_lines
        assert [e.text for e in log.tail("a", 2)] == ["a3", "a4"]
        assert log.tail("a", 0) == [] and log.tail("nope") == []
        assert log.tail("b") == [LogEvent("b", 2, "b0")]
        # but the whole log is still there
        assert log.full_text("a") == "a0\na1\na2\na3\na4\n"
        assert log.full_text() == "a0\na1\na2\na3\na4\nb0\n"
        assert list(log.iter_lines("b")) == [LogEvent("b", 2, "b0")]
        assert len(list(log.iter_lines())) == 6


def test_empty_log():
    log = BuildLog()
    assert (log.line_count(), log.keys(), log.full_text(), list(log.iter_lines())) == (0, [], "", [])
    log.close()


def test_awkward_text_round_trips():
    texts = ["tab\there", "back\\slash\\t not a tab", "cr\rinside", "nl\nescaped", "안녕하세요 🐳", "", "\\"]
    with BuildLog() as log:
        for text in texts:
            log.append(LogEvent("key\twith\\tab", 2, text))
        assert [e.text for e in log.iter_lines()] == texts
        assert {e.key for e in log.iter_lines()} == {"key\twith\\tab"}
        assert {e.stream for e in log.iter_lines("key\twith\\tab")} == {2}


def test_reading_while_appending():
    with BuildLog(spool_bytes=1024) as log:  # a tiny threshold: on disk almost at once
        for i in range(1000):
            log.append(LogEvent("s", 1, f"line {i}"))
        reader = log.iter_lines()
        first = [next(reader) for _ in range(10)]
        log.append(LogEvent("s", 1, "appended while reading"))
        rest = list(reader)
        lines = [e.text for e in first + rest]
        assert lines[:2] == ["line 0", "line 1"]
        assert lines[-1] == "appended while reading"
        assert len(lines) == 1001
        assert log.full_text().count("\n") == 1001


def test_extend_takes_only_log_events():
    with BuildLog() as log:
        log.extend([StepEvent("s", "Step 1/1 : RUN x", "running", 1.0, None), LogEvent("s", 1, "x"),
                    ImageIdEvent("sha256:abc")])
        assert log.line_count() == 1


def test_close():
    log = BuildLog()
    log.append(LogEvent("s", 1, "kept in memory"))
    assert not log.closed
    log.close()
    log.close()  # twice is fine
    assert log.closed
    assert log.tail("s") == [LogEvent("s", 1, "kept in memory")]
    assert log.line_count() == 1
    with pytest.raises(ValueError):
        list(log.iter_lines())
    with pytest.raises(ValueError):
        log.append(LogEvent("s", 1, "late"))
    assert "closed" in repr(log)


def test_a_decoded_fixture_fills_the_log():
    messages = [json.loads(line) for line in (STREAMS / "manylines-buildkit.jsonl").read_text(encoding="utf-8").splitlines()]
    with BuildLog() as log:
        log.extend(decode_build_stream(messages, "buildkit"))
        [key] = log.keys()
        assert log.line_count(key) == 2000
        assert [e.text for e in log.tail(key)] == [str(i) for i in range(1801, 2001)]
        assert log.full_text(key) == "".join(f"{i}\n" for i in range(1, 2001))


def test_memory_does_not_grow_with_lines():
    lines = 100_000
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        log = BuildLog()
        for i in range(lines):
            log.append(LogEvent("sha256:" + "f" * 64, 1 + i % 2, f"line {i:06d} " + "x" * 60))
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    try:
        # 100k lines are ~7.5 MB of text: memory holds the 200-line tail and the spool buffer only.
        assert peak - baseline < 2_000_000, peak - baseline
        assert current - baseline < 1_000_000, current - baseline
        assert log.line_count() == lines
        assert len(log.tail("sha256:" + "f" * 64)) == 200
        count = 0
        for count, event in enumerate(log.iter_lines(), start=1):
            pass
        assert count == lines
        assert event == LogEvent("sha256:" + "f" * 64, 2, f"line {lines - 1:06d} " + "x" * 60)
    finally:
        log.close()
