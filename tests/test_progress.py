"""BuildProgress, the build's one view model, folding the streams recorded on a real engine.

The streams in tests/streams/ are what Engine 20.10 sent for the scenarios of
tests/capture_streams.py; they are decoded with `decoder_for` and applied one event at a time, as
the build loop does. Pure: no engine, no shell.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from capture_streams import SCENARIOS
from nbdocker.views import render as views
from nbdocker.masking import MASK
from nbdocker.build.events import LogEvent, LogLines, StepEvent, decoder_for
from nbdocker.dockerfile.parse import parse_dockerfile
from nbdocker.build.progress import TAIL_LINES, BuildProgress

STREAMS = Path(__file__).parent / "streams"
BUILDERS = ("classic", "buildkit")
FIXTURES = sorted(path.stem for path in STREAMS.glob("*.jsonl"))


def fold(name: str, secrets: dict[str, str] | None = None, bulk: bool = False) -> BuildProgress:
    """The progress after every message of a recorded stream, then the decoder's close()."""
    scenario, builder = name.rsplit("-", 1)
    text = SCENARIOS[scenario][0]
    dockerfile = None if scenario == "parseerror" else parse_dockerfile(text)
    progress = BuildProgress(builder, dockerfile, secrets=secrets or {})
    decoder = decoder_for(builder, now=lambda: 1000.0, bulk=bulk)
    with (STREAMS / f"{name}.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            progress.apply_all(decoder.feed(json.loads(line)))
    progress.apply_all(decoder.close())
    progress.finished = progress.started
    return progress


def rendered(progress: BuildProgress, state: str) -> str:
    view = progress.view(state)
    return views.render_text(view) + "\n" + views.render_html(view)


# ---------------------------------------------------------------- counts


@pytest.mark.parametrize("builder, total, cached, lines", [
    # The classic builder numbers every instruction (CMD too); BuildKit only what makes a layer.
    ("classic", 3, 0, ["1", "2", "3"]),
    ("buildkit", 2, 1, ["1", "2"]),  # BuildKit reports the base image as cached
])
def test_a_successful_build_counts_every_step_done(builder, total, cached, lines):
    progress = fold(f"simple-{builder}")
    assert (progress.done, progress.total, progress.cached) == (total, total, cached)
    assert [s.lines for s in progress.dockerfile_steps] == lines
    assert progress.image_id and progress.image_id.startswith("sha256:")
    assert progress.error is None and progress.failed_step() is None
    assert f"{total}/{total} steps" in views.render_text(progress.view("done"))


@pytest.mark.parametrize("builder", BUILDERS)
def test_a_second_build_reports_its_cached_steps(builder):
    progress = fold(f"cached-{builder}")
    cached = [s for s in progress.dockerfile_steps if s.cached]
    assert [s.instruction.keyword for s in cached] == (["RUN", "CMD"] if builder == "classic" else ["RUN"])
    assert progress.cached == len(cached) and progress.done == progress.total
    text = views.render_text(progress.view("done"))
    assert f"{progress.cached} cached" in text
    assert "CACHED   line 2: " in text


@pytest.mark.parametrize("builder", BUILDERS)
def test_a_failing_run_names_its_step_line_and_exit_code(builder):
    progress = fold(f"failing-{builder}")
    step = progress.failed_step()
    assert step is not None and step.state == "failed"
    assert step.lines == "2" and step.instruction.original == "RUN echo before; exit 3"
    assert progress.error.exit_code == 3
    assert progress.image_id is None
    assert progress.log.full_text(step.key) == "before\n"  # the step's own output stays with it
    assert progress.done < progress.total
    html = views.render_html(progress.view("failed"))
    assert 'nbd-state-failed">failed<' in html and "before" in html  # the failing log is shown


@pytest.mark.parametrize("builder", BUILDERS)
def test_in_a_failed_multistage_build_the_failing_stage_is_blamed(builder):
    # BuildKit cancels the parallel stage "slow" (it fails as "context canceled"): it is not the
    # failed step. The classic builder had already finished "slow".
    progress = fold(f"multistagefail-{builder}")
    step = progress.failed_step()
    assert step.lines == "4" and "exit 4" in step.name
    assert progress.error.exit_code == 4
    if builder == "buildkit":
        slow = next(s for s in progress.dockerfile_steps if "sleep 2" in s.name)
        assert slow.state == "failed" and "context canceled" in (slow.error or "")
    else:
        assert progress.total == 7  # `Step N/7`: the steps never reached still count


@pytest.mark.parametrize("name", ["multistage-buildkit", "multistagefail-buildkit", "simple-buildkit",
                                  "multistage-classic", "unicode-classic"])
def test_steps_are_shown_in_dockerfile_order(name):
    # BuildKit announces a running RUN before its cached FROM, and parallel stages interleaved.
    progress = fold(name)
    starts = [s.instruction.line_start for s in progress.dockerfile_steps]
    assert starts == sorted(starts)
    shown = [s.lines for s in progress.view("done").steps if not s.internal]
    assert shown == [s.lines for s in progress.dockerfile_steps]


def test_a_multistage_build_maps_every_step_to_its_stage_line():
    classic = fold("multistage-classic")
    assert [s.lines for s in classic.dockerfile_steps] == ["1", "2", "3", "4", "5"]
    buildkit = fold("multistage-buildkit")
    # Both FROM busybox are one vertex in BuildKit (same digest): merged, not counted twice.
    assert [s.lines for s in buildkit.dockerfile_steps] == ["1", "2", "4", "5"]
    assert buildkit.done == buildkit.total == 4


@pytest.mark.parametrize("builder", BUILDERS)
def test_the_view_carries_only_the_tail_of_a_long_log(builder):
    progress = fold(f"manylines-{builder}")
    run = progress.dockerfile_steps[-1]
    assert progress.log.line_count(run.key) == 2000
    view = next(s for s in progress.view("done").steps if s.key == run.key)
    assert view.log_lines == 2000
    assert [t for _, t in view.log_tail] == [str(i) for i in range(2001 - TAIL_LINES, 2001)]
    assert progress.log.full_text(run.key) == "".join(f"{i}\n" for i in range(1, 2001))
    assert f"{2000 - TAIL_LINES} earlier lines" in views.render_html(progress.view("done"))


@pytest.mark.parametrize("builder", BUILDERS)
def test_a_run_printing_successfully_built_is_not_a_result(builder):
    progress = fold(f"fakesuccess-{builder}")
    run = progress.dockerfile_steps[-1]
    assert progress.log.full_text(run.key) == "Successfully built deadbeef\nSuccessfully tagged fake:latest\n"
    assert not progress.image_id.endswith("deadbeef")


def test_a_build_refused_before_any_step_has_no_steps_and_an_error():
    progress = fold("parseerror-buildkit")
    assert progress.dockerfile_steps == [] and progress.total == 0
    assert progress.error is not None and "FOO" in progress.error.message.upper()
    assert progress.failed_step() is None
    assert "error:" in views.render_text(progress.view("failed"))


def test_running_view_counts_steps_as_they_finish():
    # Part-way through the classic stream: step 2 running, step 1 done.
    progress = BuildProgress("classic", parse_dockerfile(SCENARIOS["failing"][0]))
    decoder = decoder_for("classic", now=lambda: 1000.0)
    with (STREAMS / "failing-classic.jsonl").open(encoding="utf-8") as lines:
        messages = [json.loads(line) for line in lines]
    for message in messages[:6]:  # up to " ---> Running in …"
        for event in decoder.feed(message):
            progress.apply(event)
    assert (progress.done, progress.total) == (1, 3)
    assert [s.state for s in progress.dockerfile_steps] == ["done", "running"]
    assert "1/3 steps" in views.render_text(progress.view("running"))


# ---------------------------------------------------------------- secrets


@pytest.mark.parametrize("builder", BUILDERS)
def test_secret_values_are_masked_in_every_rendering(builder):
    # "before" stands for a secret build arg value: it is in the step name, the Dockerfile
    # line, the step's log and the engine's error message of the recorded stream.
    secret = "before"
    plain = fold(f"failing-{builder}")
    assert secret in rendered(plain, "failed")  # the fixture really carries it
    progress = fold(f"failing-{builder}", secrets={"API_TOKEN": secret})
    out = rendered(progress, "failed")
    assert secret not in out and MASK in out
    view = progress.view("failed")
    step = next(s for s in view.steps if s.state == "failed")
    assert secret not in step.name and secret not in step.source
    assert all(secret not in text for _, text in step.log_tail)
    assert secret not in (view.error or "")


def test_secret_looking_pairs_are_masked_even_without_the_value():
    progress = BuildProgress("classic", None, secrets={"API_TOKEN": "s3cr3t-value"})
    progress.apply(StepEvent("step-1", "Step 1/1 : RUN echo DB_PASSWORD=hunter22 s3cr3t-value", "running", 1.0, None))
    progress.apply(LogEvent("step-1", 1, "token s3cr3t-value and API_KEY=abc123"))
    progress.warnings.append("saw DB_PASSWORD=hunter22")
    out = rendered(progress, "running")
    for value in ("s3cr3t-value", "hunter22", "abc123"):
        assert value not in out
    assert "DB_PASSWORD=****" in out and "API_KEY=****" in out


def test_short_secret_values_are_not_masked_everywhere():
    # Masking a value of one or two characters would garble every line; names still mask pairs.
    progress = BuildProgress("classic", None, secrets={"API_TOKEN": "ab"})
    progress.apply(StepEvent("step-1", "Step 1/1 : RUN echo about API_TOKEN=ab", "running", 1.0, None))
    out = rendered(progress, "running")
    assert "about" in out and "API_TOKEN=****" in out


# ---------------------------------------------------------------- bulk log lines (the build loop's way)


@pytest.mark.parametrize("name", FIXTURES)
def test_a_bulk_decoder_folds_to_the_same_progress(name):
    # The build loop asks for LogLines (one event per message, not per line): same result.
    one, bulk = fold(name), fold(name, bulk=True)
    assert bulk.log.full_text() == one.log.full_text()
    assert list(bulk.log.iter_lines()) == list(one.log.iter_lines())
    assert bulk.log.keys() == one.log.keys()
    for key in one.log.keys():
        assert bulk.log.line_count(key) == one.log.line_count(key)
        assert bulk.log.tail(key) == one.log.tail(key)
    assert views.render_text(bulk.view("done")) == views.render_text(one.view("done"))
    assert views.render_html(bulk.view("done")) == views.render_html(one.view("done"))


@pytest.mark.parametrize("builder", BUILDERS)
def test_a_long_log_arrives_in_few_bulk_events(builder):
    messages = [json.loads(line) for line in (STREAMS / f"manylines-{builder}.jsonl").read_text(encoding="utf-8").splitlines()]
    decoder = decoder_for(builder, bulk=True)
    events = [e for m in messages for e in decoder.feed(m)] + decoder.close()
    bulk = [e for e in events if isinstance(e, LogLines)]
    assert sum(len(e.texts) for e in bulk) + sum(isinstance(e, LogEvent) for e in events) == 2000
    assert len(bulk) < 200
    assert [t.text for e in bulk for t in e.events()][:3] == ["1", "2", "3"]


def test_bulk_lines_with_awkward_text_round_trip():
    progress = BuildProgress("classic")
    texts = ("plain", "tab\there", "back\\slash", "cr\rinside", "nl\ninside", "안녕 🐳", "")
    progress.apply(LogLines("step-1", 2, texts))
    progress.apply(LogLines("step-1", 1, ("a", "b")))
    progress.apply(LogEvent("step-2", 1, "c"))
    assert [(e.key, e.stream, e.text) for e in progress.log.iter_lines()] == (
        [("step-1", 2, t) for t in texts] + [("step-1", 1, "a"), ("step-1", 1, "b"), ("step-2", 1, "c")])
    assert progress.log.line_count("step-1") == 9 and progress.log.line_count() == 10
    assert progress.log.tail("step-1", 2) == [LogEvent("step-1", 1, "a"), LogEvent("step-1", 1, "b")]
