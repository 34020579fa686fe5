"""Build-event decoding, replayed from streams captured on a real engine (tests/streams/).

The fixtures are what `docker.APIClient().build(..., decode=True)` yielded on Engine 20.10 for the
scenarios of tests/capture_streams.py (which re-captures them). No engine is needed here.
"""
from __future__ import annotations

import base64
import json
import random
import re
import tracemalloc
from pathlib import Path

import pytest

from nbdocker.build.events import (
    BUILD_KEY,
    BuildKitDecoder,
    ClassicDecoder,
    ErrorEvent,
    Event,
    ImageIdEvent,
    LogEvent,
    ProtobufError,
    StepEvent,
    WarningEvent,
    decode_build_stream,
    decode_status_response,
    decode_timestamp,
    decode_trace,
    decoder_for,
    is_internal_step,
    iter_fields,
    parse_exit_code,
    read_varint,
)

STREAMS = Path(__file__).parent / "streams"
BUILDERS = ("classic", "buildkit")
FIXTURES = sorted(path.stem for path in STREAMS.glob("*.jsonl"))


def clock() -> float:
    return 1000.0


def load(name: str) -> list[dict]:
    with (STREAMS / f"{name}.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def decode(name: str, messages: list[dict] | None = None) -> list[Event]:
    builder = name.rsplit("-", 1)[1]
    return decode_build_stream(load(name) if messages is None else messages, builder, now=clock)


def final_steps(events: list[Event]) -> dict[str, StepEvent]:
    """The last StepEvent of each key, in order of first appearance."""
    steps: dict[str, StepEvent] = {}
    for event in events:
        if isinstance(event, StepEvent):
            steps[event.key] = event
    return steps


def user_steps(events: list[Event]) -> list[StepEvent]:
    return [step for step in final_steps(events).values() if not is_internal_step(step.name)]


def logs(events: list[Event]) -> list[tuple[str, int, str]]:
    return [(e.key, e.stream, e.text) for e in events if isinstance(e, LogEvent)]


def of_type(events: list[Event], kind: type) -> list:
    return [event for event in events if isinstance(event, kind)]


def aux_ids(name: str) -> list[str]:
    """The image ids the raw stream carried in aux messages, in order."""
    return [m["aux"]["ID"] for m in load(name) if isinstance(m.get("aux"), dict) and "ID" in m["aux"]]


def error_text(name: str) -> str:
    [message] = [m for m in load(name) if "errorDetail" in m]
    return message["errorDetail"]["message"]


# ---------------------------------------------------------------------------------------------
# Fixtures, one scenario at a time
# ---------------------------------------------------------------------------------------------
def test_every_scenario_was_captured_for_both_builders():
    names = set(FIXTURES)
    for scenario in ("simple", "cached", "failing", "multistage", "multistagefail", "manylines",
                     "unicode", "fakesuccess", "warning"):
        for builder in BUILDERS:
            assert f"{scenario}-{builder}" in names
    # The classic builder refuses a Dockerfile parse error with HTTP 400: no stream to record.
    assert "parseerror-buildkit" in names


def test_simple_classic():
    events = decode("simple-classic")
    steps = final_steps(events)
    assert [s.name for s in steps.values()] == [
        "Step 1/3 : FROM busybox",
        "Step 2/3 : RUN echo hi && echo err >&2",
        'Step 3/3 : CMD ["echo","hello"]',
    ]
    assert list(steps) == ["step-1", "step-2", "step-3"]
    assert {s.state for s in steps.values()} == {"done"}
    assert all(s.started == clock() and s.completed == clock() for s in steps.values())
    # stdout and stderr are separate pipes: their relative order is not kept, by either builder
    assert sorted(logs(events)) == [("step-2", 1, "hi"), ("step-2", 2, "err")]
    assert of_type(events, ImageIdEvent) == [ImageIdEvent(aux_ids("simple-classic")[-1])]
    assert not of_type(events, ErrorEvent)
    assert not of_type(events, WarningEvent)


def test_simple_buildkit():
    events = decode("simple-buildkit")
    steps = user_steps(events)
    assert [s.name for s in steps] == ["[1/2] FROM docker.io/library/busybox", "[2/2] RUN echo hi && echo err >&2"]
    run = steps[1]
    assert run.key.startswith("sha256:") and run.state == "done"
    assert steps[0].state in ("done", "cached")  # a local base image shows as either
    assert run.started is not None and run.completed is not None
    assert 0 <= run.completed - run.started < 60
    assert run.started > 1.6e9  # epoch seconds, not nanoseconds
    assert sorted(logs(events)) == [(run.key, 1, "hi"), (run.key, 2, "err")]
    assert of_type(events, ImageIdEvent) == [ImageIdEvent(aux_ids("simple-buildkit")[-1])]
    assert not of_type(events, ErrorEvent)


def test_buildkit_internal_vertexes_are_steps_too():
    steps = final_steps(decode("simple-buildkit")).values()
    internal = [s.name for s in steps if is_internal_step(s.name)]
    assert "exporting to image" in internal
    assert any(name.startswith("[internal] load metadata for ") for name in internal)
    assert all(s.state in ("done", "cached") for s in steps)


def test_buildkit_emits_a_step_event_only_when_the_state_changes():
    events = decode("simple-buildkit")
    trace_messages = sum(1 for m in load("simple-buildkit") if m.get("id") == "moby.buildkit.trace")
    step_events = of_type(events, StepEvent)
    assert len(step_events) < trace_messages + 5
    for key in final_steps(events):
        states = [e.state for e in step_events if e.key == key]
        assert all(a != b for a, b in zip(states, states[1:])), (key, states)
    run = user_steps(events)[1]
    assert [e.state for e in step_events if e.key == run.key] == ["queued", "running", "done"]


@pytest.mark.parametrize("builder", BUILDERS)
def test_second_run_is_cached(builder):
    events = decode(f"cached-{builder}")
    steps = user_steps(events)
    if builder == "classic":
        assert [s.state for s in steps] == ["done", "cached", "cached"]
    else:
        assert steps[-1].name == "[2/2] RUN echo hi && echo err >&2"
        assert steps[-1].state == "cached"
    assert logs(events) == []  # a cached RUN does not run
    [image] = of_type(events, ImageIdEvent)
    assert image.image_id == aux_ids(f"cached-{builder}")[-1] == aux_ids(f"simple-{builder}")[-1]


def test_failing_classic():
    events = decode("failing-classic")
    steps = final_steps(events)
    assert steps["step-1"].state == "done"
    failed = steps["step-2"]
    message = "The command '/bin/sh -c echo before; exit 3' returned a non-zero code: 3"
    assert (failed.name, failed.state, failed.error) == ("Step 2/3 : RUN echo before; exit 3", "failed", message)
    assert "step-3" not in steps
    assert logs(events) == [("step-2", 1, "before")]
    assert of_type(events, ErrorEvent) == [ErrorEvent(message, exit_code=3, key="step-2")]
    assert events[-1] == ErrorEvent(message, exit_code=3, key="step-2")
    assert not of_type(events, ImageIdEvent)


def test_failing_buildkit():
    events = decode("failing-buildkit")
    run = user_steps(events)[-1]
    message = error_text("failing-buildkit")
    assert run.name == "[2/2] RUN echo before; exit 3"
    assert run.state == "failed"
    assert "exit code: 3" in run.error and run.error in message
    assert logs(events) == [(run.key, 1, "before")]
    [error] = of_type(events, ErrorEvent)
    assert error == ErrorEvent(message, exit_code=3, key=run.key)
    assert not of_type(events, ImageIdEvent)


def test_multistage_classic_reports_only_the_final_image():
    events = decode("multistage-classic")
    steps = final_steps(events)
    assert [s.name for s in steps.values()] == [
        "Step 1/5 : FROM busybox AS builder",
        "Step 2/5 : RUN echo built > /artifact.txt",
        "Step 3/5 : FROM busybox",
        "Step 4/5 : COPY --from=builder /artifact.txt /artifact.txt",
        "Step 5/5 : RUN cat /artifact.txt",
    ]
    assert {s.state for s in steps.values()} == {"done"}
    assert logs(events) == [("step-5", 1, "built")]
    ids = aux_ids("multistage-classic")
    assert len(ids) == 2  # the engine sends one aux id per stage
    assert of_type(events, ImageIdEvent) == [ImageIdEvent(ids[-1])]


def test_multistage_buildkit():
    events = decode("multistage-buildkit")
    names = [s.name for s in user_steps(events)]
    assert names == [
        "[builder 1/2] FROM docker.io/library/busybox",
        "[builder 2/2] RUN echo built > /artifact.txt",
        "[stage-1 2/3] COPY --from=builder /artifact.txt /artifact.txt",
        "[stage-1 3/3] RUN cat /artifact.txt",
    ]
    last = user_steps(events)[-1]
    assert logs(events) == [(last.key, 1, "built")]
    assert of_type(events, ImageIdEvent) == [ImageIdEvent(aux_ids("multistage-buildkit")[-1])]


def test_multistage_failure_classic_has_no_image_id_despite_a_stage_aux():
    events = decode("multistagefail-classic")
    assert len(aux_ids("multistagefail-classic")) == 1  # the finished first stage's
    assert not of_type(events, ImageIdEvent)
    steps = final_steps(events)
    assert steps["step-2"].state == "done"
    assert steps["step-4"].state == "failed"
    assert ("step-4", 2, "broken") in logs(events)
    [error] = of_type(events, ErrorEvent)
    assert (error.exit_code, error.key) == (4, "step-4")


def test_multistage_failure_buildkit_names_the_failed_vertex_not_the_cancelled_one():
    events = decode("multistagefail-buildkit")
    steps = {s.name: s for s in user_steps(events)}
    broken = steps["[broken 2/2] RUN echo broken >&2; exit 4"]
    slow = steps["[slow 2/2] RUN sleep 2 && echo slow"]
    assert broken.state == "failed" and "exit code: 4" in broken.error
    assert slow.state == "failed" and "context canceled" in slow.error  # cancelled, not its fault
    [error] = of_type(events, ErrorEvent)
    assert (error.exit_code, error.key) == (4, broken.key)
    assert (broken.key, 2, "broken") in logs(events)
    assert not of_type(events, ImageIdEvent)


@pytest.mark.parametrize("builder", BUILDERS)
def test_two_thousand_lines(builder):
    events = decode(f"manylines-{builder}")
    lines = logs(events)
    run = user_steps(events)[-1]
    assert lines == [(run.key, 1, str(i)) for i in range(1, 2001)]
    assert len(load(f"manylines-{builder}")) < 100  # far fewer messages than lines


@pytest.mark.parametrize("builder", BUILDERS)
def test_unicode_and_carriage_returns(builder):
    events = decode(f"unicode-{builder}")
    steps = user_steps(events)
    korean, rewrites, unterminated = steps[-3:]
    assert korean.name.endswith("RUN echo 안녕하세요 && echo 오류 >&2")
    lines = logs(events)
    assert (korean.key, 1, "안녕하세요") in lines
    assert (korean.key, 2, "오류") in lines
    # `a\rb` keeps its last rewrite; so does a progress line
    assert [line for line in lines if line[0] == rewrites.key] == [
        (rewrites.key, 1, "b"),
        (rewrites.key, 1, "progress 100%"),
    ]
    assert [line for line in lines if line[0] == unterminated.key] == [(unterminated.key, 1, "no trailing newline")]
    # the unterminated line is flushed when its step ends, before the step reports it
    position = events.index(LogEvent(unterminated.key, 1, "no trailing newline"))
    assert any(isinstance(e, StepEvent) and e.key == unterminated.key and e.state == "done" for e in events[position:])


@pytest.mark.parametrize("builder", BUILDERS)
def test_image_id_only_from_aux_not_from_log_text(builder):
    events = decode(f"fakesuccess-{builder}")
    run = user_steps(events)[-1]
    assert logs(events) == [
        (run.key, 1, "Successfully built deadbeef"),
        (run.key, 1, "Successfully tagged fake:latest"),
    ]
    images = of_type(events, ImageIdEvent)
    assert images == [ImageIdEvent(aux_ids(f"fakesuccess-{builder}")[-1])]
    assert "deadbeef" not in images[0].image_id


def test_builder_summary_lines_are_not_log_lines():
    for name in FIXTURES:
        for key, _stream, text in logs(decode(name)):
            assert not (key == BUILD_KEY and text.startswith("Successfully")), name
            assert not text.startswith((" ---> ", "Step ", "Removing intermediate")), name


def test_classic_stream_warnings():
    events = decode("warning-classic")
    assert of_type(events, WarningEvent) == [
        WarningEvent("Empty continuation line found in:", "RUN echo one     && echo two"),
        WarningEvent("Empty continuation lines will become errors in a future release."),
    ]
    assert [text for _key, _stream, text in logs(events)] == ["one", "two"]


def test_buildkit_error_before_any_step():
    events = decode("parseerror-buildkit")
    [error] = of_type(events, ErrorEvent)
    assert "unknown instruction: FOO" in error.message
    assert (error.exit_code, error.key) == (None, None)
    assert not of_type(events, ImageIdEvent)
    assert not user_steps(events)


# ---------------------------------------------------------------------------------------------
# Messages are not lines: any split of the output gives the same events
# ---------------------------------------------------------------------------------------------
_CLASSIC_BUILDER_MESSAGE = re.compile(
    r"Step \d+/\d+ : [^\n]*|\n| ---> [^\n]*\n|Remov(?:ing|ed) intermediate container \w+\n"
    r"|Successfully (?:built|tagged) [^\n]*\n"
)
ESC_STDERR, ESC_RESET = "\x1b[91m", "\x1b[0m"


def split_points(length: int, rng: random.Random | None) -> list[int]:
    if rng is None:  # every single character / byte on its own
        return list(range(1, length))
    return sorted(rng.sample(range(1, length), min(length - 1, rng.randint(1, 6)))) if length > 1 else []


def pieces(data, rng):
    cuts = [0, *split_points(len(data), rng), len(data)]
    return [data[a:b] for a, b in zip(cuts, cuts[1:])]


def rechunk_classic(messages: list[dict], rng: random.Random | None) -> list[dict]:
    """Split RUN output messages (never the builder's own single-write lines), as smaller writes
    of the container would have come. A stderr write stays wrapped in its colour markers."""
    out = []
    for message in messages:
        text = message.get("stream")
        if not isinstance(text, str) or _CLASSIC_BUILDER_MESSAGE.fullmatch(text):
            out.append(message)
            continue
        wrapped = text.startswith(ESC_STDERR) and text.endswith(ESC_RESET)
        body = text[len(ESC_STDERR) : -len(ESC_RESET)] if wrapped else text
        for piece in pieces(body, rng):
            out.append({"stream": f"{ESC_STDERR}{piece}{ESC_RESET}" if wrapped else piece})
    return out


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_field(number: int, value: int | bytes) -> bytes:
    if isinstance(value, int):
        return encode_varint(number << 3) + encode_varint(value)
    return encode_varint(number << 3 | 2) + encode_varint(len(value)) + value


def trace(payload: bytes) -> dict:
    return {"id": "moby.buildkit.trace", "aux": base64.b64encode(payload).decode()}


def rechunk_buildkit(messages: list[dict], rng: random.Random | None) -> list[dict]:
    """Split every VertexLog's bytes (through multibyte characters too) over several messages."""
    out = []
    for message in messages:
        if message.get("id") != "moby.buildkit.trace":
            out.append(message)
            continue
        fields = list(iter_fields(base64.b64decode(message["aux"])))
        if not fields or any(number != 3 for number, _wire, _value in fields):
            out.append(message)  # logs travel in trace messages of their own
            continue
        for _number, _wire, log in fields:
            parts = dict((n, v) for n, _w, v in iter_fields(log) if n != 4)
            msg = b"".join(v for n, _w, v in iter_fields(log) if n == 4)
            for piece in pieces(msg, rng):
                entry = encode_field(1, parts[1]) + encode_field(2, parts[2]) + encode_field(3, parts[3])
                out.append(trace(encode_field(3, entry + encode_field(4, piece))))
    return out


@pytest.mark.parametrize("name", FIXTURES)
@pytest.mark.parametrize("seed", [None, 1, 2, 3])
def test_rechunked_streams_give_the_same_events(name, seed):
    messages = load(name)
    rng = None if seed is None else random.Random(seed)
    if name.endswith("-classic"):
        rechunked = rechunk_classic(messages, rng)
    else:
        rechunked = rechunk_buildkit(messages, rng)
    if seed is None and any(isinstance(e, LogEvent) for e in decode(name)):
        assert len(rechunked) > len(messages)
    assert decode(name, rechunked) == decode(name)


def test_multibyte_character_split_across_buildkit_logs():
    digest = b"sha256:" + b"a" * 64
    data = "안녕\n".encode()
    decoder = BuildKitDecoder()
    events = []
    for i in range(len(data)):  # one byte per message
        log = encode_field(1, digest) + encode_field(3, 1) + encode_field(4, data[i : i + 1])
        events += decoder.feed(trace(encode_field(3, log)))
    assert events == [LogEvent(digest.decode(), 1, "안녕")]


def test_invalid_utf8_is_replaced_not_raised():
    digest = b"sha256:" + b"b" * 64
    log = encode_field(1, digest) + encode_field(3, 2) + encode_field(4, b"bad \xff byte\n")
    assert BuildKitDecoder().feed(trace(encode_field(3, log))) == [LogEvent(digest.decode(), 2, "bad \ufffd byte")]


# ---------------------------------------------------------------------------------------------
# Line assembly details
# ---------------------------------------------------------------------------------------------
def classic_run(*outputs: str) -> list[Event]:
    decoder = ClassicDecoder(now=clock)
    events = []
    for text in ("Step 1/1 : RUN x", "\n", " ---> Running in 0123456789ab\n", *outputs,
                 "Removing intermediate container 0123456789ab\n", " ---> ba9876543210\n"):
        events += decoder.feed({"stream": text})
    return events + decoder.close()


def test_carriage_return_rewrites_across_messages():
    events = classic_run("progress 1%\r", "progress 2%", "\rdone", "\n", "crlf line\r", "\n", "\r\n", "tail\r")
    assert [e.text for e in of_type(events, LogEvent)] == ["done", "crlf line", "", "tail"]


def test_an_endless_progress_bar_does_not_grow_memory():
    decoder = ClassicDecoder(now=clock)
    for text in ("Step 1/1 : RUN x", "\n", " ---> Running in 0123456789ab\n"):
        decoder.feed({"stream": text})
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(100_000):
            assert decoder.feed({"stream": f"downloading {i:>6} of 100000 …\r"}) == []
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 100_000
    events = decoder.feed({"stream": "\n"})
    assert events == [LogEvent("step-1", 1, "downloading  99999 of 100000 …")]


def test_unterminated_output_is_flushed_before_the_builder_line():
    events = classic_run("no newline", f"{ESC_STDERR}err no newline{ESC_RESET}")
    assert logs(events) == [("step-1", 1, "no newline"), ("step-1", 2, "err no newline")]
    assert final_steps(events)["step-1"].state == "done"


def test_output_that_looks_like_builder_lines_stays_output():
    events = classic_run("Step 9/9 : RUN fake\n", "Removing intermediate container ffffffffffff\n",
                         "Successfully built deadbeef\n", "[WARNING]: not the builder\n")
    assert [e.text for e in of_type(events, LogEvent)] == [
        "Step 9/9 : RUN fake",
        "Removing intermediate container ffffffffffff",
        "Successfully built deadbeef",
        "[WARNING]: not the builder",
    ]
    assert list(final_steps(events)) == ["step-1"]
    assert not of_type(events, WarningEvent)


def test_classic_steps_use_the_injected_clock():
    times = iter([10.0, 12.5])
    decoder = ClassicDecoder(now=lambda: next(times))
    events = decoder.feed({"stream": "Step 1/1 : FROM busybox"}) + decoder.feed({"stream": "\n"})
    events += decoder.feed({"stream": " ---> ae12487c27f9\n"})
    assert of_type(events, StepEvent) == [
        StepEvent("step-1", "Step 1/1 : FROM busybox", "running", 10.0, None),
        StepEvent("step-1", "Step 1/1 : FROM busybox", "done", 10.0, 12.5),
    ]


def test_classic_stream_cut_short_fails_the_running_step():
    decoder = ClassicDecoder(now=clock)
    for text in ("Step 1/1 : RUN sleep 9", "\n", " ---> Running in 0123456789ab\n", "partial"):
        decoder.feed({"stream": text})
    events = decoder.close()
    assert events[0] == LogEvent("step-1", 1, "partial")
    assert events[1].state == "failed" and "ended" in events[1].error
    assert decoder.close() == []
    with pytest.raises(ValueError):
        decoder.feed({"stream": "late\n"})


def test_buildkit_stream_cut_short_fails_the_running_vertex():
    digest = b"sha256:" + b"c" * 64
    started = encode_field(5, encode_field(1, 1_700_000_000))
    decoder = BuildKitDecoder()
    [running] = decoder.feed(trace(encode_field(1, encode_field(1, digest) + encode_field(3, b"[1/1] RUN x") + started)))
    assert running.state == "running" and running.started == 1_700_000_000
    [failed] = decoder.close()
    assert failed.state == "failed" and failed.key == digest.decode()


def test_error_shapes():
    assert ClassicDecoder().feed({"message": "conflict: unable to build"}) == [
        ErrorEvent("conflict: unable to build", None, None)
    ]
    assert BuildKitDecoder().feed({"error": "only error"}) == [ErrorEvent("only error")]
    assert ClassicDecoder().feed({"errorDetail": {"code": 7, "message": "oops"}, "error": "oops"}) == [
        ErrorEvent("oops", exit_code=7)
    ]


def test_unknown_messages_produce_nothing():
    for decoder in (ClassicDecoder(), BuildKitDecoder()):
        assert decoder.feed({"status": "Pulling from library/busybox", "id": "latest"}) == []
        assert decoder.feed({"aux": {"Digest": "sha256:x"}}) == []
        assert decoder.feed({}) == []


def test_undecodable_trace_is_a_warning_not_a_crash():
    decoder = BuildKitDecoder()
    [warning] = decoder.feed({"id": "moby.buildkit.trace", "aux": "not base64!"})
    assert isinstance(warning, WarningEvent)
    [warning] = decoder.feed(trace(b"\x0a\x05ab"))  # length runs past the end
    assert isinstance(warning, WarningEvent)


def test_buildkit_warnings_become_warning_events():
    digest = b"sha256:" + b"d" * 64
    warning = (encode_field(1, digest) + encode_field(2, 1) + encode_field(3, b"JSONArgsRecommended")
               + encode_field(4, b"line one") + encode_field(4, b"line two") + encode_field(5, b"https://x"))
    events = BuildKitDecoder().feed(trace(encode_field(4, warning)))
    assert events == [WarningEvent("JSONArgsRecommended", "line one\nline two", digest.decode())]


def test_buildkit_image_id_after_an_error_is_ignored():
    decoder = BuildKitDecoder()
    decoder.feed({"errorDetail": {"message": "boom"}, "error": "boom"})
    assert decoder.feed({"id": "moby.image.id", "aux": {"ID": "sha256:feed"}}) == []


def test_decoder_for():
    assert isinstance(decoder_for("classic"), ClassicDecoder)
    assert isinstance(decoder_for("buildkit"), BuildKitDecoder)
    with pytest.raises(ValueError):
        decoder_for("kaniko")


@pytest.mark.parametrize(
    ("name", "internal"),
    [
        ("[internal] load build definition from Dockerfile", True),
        ("[internal] load .dockerignore", True),
        ("[internal] load metadata for docker.io/library/busybox:latest", True),
        ("[internal] load remote build context", True),
        ("copy /context /", True),
        ("exporting to image", True),
        ("[auth] library/busybox:pull token for registry-1.docker.io", True),
        ("[1/3] FROM docker.io/library/busybox", False),
        ("[2/3] RUN echo hi", False),
        ("[builder 2/2] RUN make", False),
        ("[linux/amd64 stage-1 3/3] COPY . .", False),
        ("Step 2/3 : RUN echo hi", False),
    ],
)
def test_is_internal_step(name, internal):
    assert is_internal_step(name) is internal


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("The command '/bin/sh -c exit 3' returned a non-zero code: 3", 3),
        ("executor failed running [/bin/sh -c exit 3]: exit code: 3", 3),
        ('process "/bin/sh -c exit 3" did not complete successfully: exit code: 3', 3),
        ("failed to compute cache key: not found", None),
    ],
)
def test_parse_exit_code(message, code):
    assert parse_exit_code(message) == code


# ---------------------------------------------------------------------------------------------
# The protobuf reader, on hand-made bytes
# ---------------------------------------------------------------------------------------------
def test_read_varint():
    assert read_varint(b"\x00", 0) == (0, 1)
    assert read_varint(b"\x96\x01", 0) == (150, 2)
    assert read_varint(b"\xff\x7f", 0) == (16383, 2)
    assert read_varint(b"xx\xac\x02", 2) == (300, 4)
    assert read_varint(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 0) == (2**64 - 1, 10)
    with pytest.raises(ProtobufError):
        read_varint(b"\x96", 0)
    with pytest.raises(ProtobufError):
        read_varint(b"\xff" * 11, 0)


def test_iter_fields_every_wire_type():
    data = (
        b"\x08\x96\x01"  # field 1, varint 150
        + b"\x11" + bytes(range(8))  # field 2, fixed64
        + b"\x1a\x03abc"  # field 3, bytes
        + b"\x25" + b"\x01\x02\x03\x04"  # field 4, fixed32
        + b"\xf8\x07\x01"  # field 127, varint 1 (two-byte tag)
    )
    assert list(iter_fields(data)) == [
        (1, 0, 150),
        (2, 1, bytes(range(8))),
        (3, 2, b"abc"),
        (4, 5, b"\x01\x02\x03\x04"),
        (127, 0, 1),
    ]
    assert list(iter_fields(b"")) == []


@pytest.mark.parametrize("data", [b"\x1a\x05abc", b"\x11\x00\x00", b"\x25\x00", b"\x0b", b"\x08", b"\x00\x01"])
def test_iter_fields_refuses_malformed_bytes(data):
    with pytest.raises(ProtobufError):
        list(iter_fields(data))


def test_decode_timestamp():
    assert decode_timestamp(encode_field(1, 1_700_000_000) + encode_field(2, 500_000_000)) == 1_700_000_000.5
    assert decode_timestamp(b"") == 0.0
    assert decode_timestamp(encode_field(1, 2**64 - 5)) == -5  # int64 two's complement


def test_decode_status_response_by_hand():
    started = encode_field(1, 1_700_000_000) + encode_field(2, 250_000_000)
    completed = encode_field(1, 1_700_000_002)
    vertex = (
        encode_field(1, b"sha256:v1")
        + encode_field(2, b"sha256:in1")
        + encode_field(2, b"sha256:in2")
        + encode_field(3, "[2/3] RUN echo 안녕".encode())
        + encode_field(4, 1)
        + encode_field(5, started)
        + encode_field(6, completed)
        + encode_field(7, b"boom")
        + encode_field(8, b"\x0a\x02pg")  # progressGroup: ignored
        + b"\x7d\x00\x00\x00\x00"  # unknown field 15, fixed32: skipped
    )
    status = (encode_field(1, b"layer-1") + encode_field(2, b"sha256:v1") + encode_field(3, b"extracting")
              + encode_field(4, 50) + encode_field(5, 100) + encode_field(6, started))
    log = encode_field(1, b"sha256:v1") + encode_field(2, started) + encode_field(3, 2) + encode_field(4, b"out\n")
    warning = encode_field(1, b"sha256:v1") + encode_field(3, b"short") + encode_field(4, b"d1")
    data = (encode_field(1, vertex) + encode_field(2, status) + encode_field(3, log) + encode_field(4, warning)
            + encode_field(99, 7) + b"\x91\x06" + bytes(8))  # unknown varint and fixed64 fields
    response = decode_status_response(data)
    [v] = response.vertexes
    assert v.digest == "sha256:v1"
    assert v.inputs == ("sha256:in1", "sha256:in2")
    assert v.name == "[2/3] RUN echo 안녕"
    assert v.cached is True
    assert (v.started, v.completed, v.error) == (1_700_000_000.25, 1_700_000_002.0, "boom")
    [s] = response.statuses
    assert (s.id, s.vertex, s.name, s.current, s.total) == ("layer-1", "sha256:v1", "extracting", 50, 100)
    [entry] = response.logs
    assert (entry.vertex, entry.timestamp, entry.stream, entry.msg) == ("sha256:v1", 1_700_000_000.25, 2, b"out\n")
    [w] = response.warnings
    assert (w.vertex, w.short, w.detail) == ("sha256:v1", "short", ("d1",))
    assert decode_trace(base64.b64encode(data).decode()) == response


def test_decode_status_response_of_a_real_trace_message():
    first = load("simple-buildkit")[0]
    assert isinstance(first["aux"], str)  # the engine sends the protobuf as base64 text
    [vertex] = decode_trace(first["aux"]).vertexes
    assert vertex.digest.startswith("sha256:") and len(vertex.digest) == 71
    assert vertex.name.startswith("[internal]")


def test_decode_trace_refuses_non_base64():
    with pytest.raises(ProtobufError):
        decode_trace("@@@")


def test_buildkit_error_key_when_the_wording_differs_from_the_vertex_error():
    def vertex(digest: bytes, name: bytes, error: bytes) -> dict:
        started = encode_field(5, encode_field(1, 1_700_000_000))
        body = encode_field(1, digest) + encode_field(3, name) + started + encode_field(7, error)
        return trace(encode_field(1, body))

    decoder = BuildKitDecoder()
    decoder.feed(vertex(b"sha256:aa", b"[a 2/2] RUN sleep 9", b"context canceled"))
    decoder.feed(vertex(b"sha256:bb", b"[b 2/2] RUN exit 5", b"exit code: 5"))
    [error] = decoder.feed({"error": "failed to solve: process did not complete successfully: exit code: 5"})
    assert (error.key, error.exit_code) == ("sha256:bb", 5)
