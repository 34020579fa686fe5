"""Issue 11, the build pipeline's reliability findings: each test fails without its fix.

Pure tests (decoders, the log, sinks, the context) run without an engine; the others build on the
real engine (classic builder and BuildKit) with unique names, and remove what they made: images
by id, BuildKit cache entries that appeared during the test.
"""
from __future__ import annotations

import json
import os
import subprocess
import tracemalloc

import docker.errors
import pytest

import nbdocker.build.log as buildlog
from nbdocker.build.command import TextSink
from nbdocker.build.events import (LogEvent, LogPart, StepEvent, WarningEvent,
                                   decode_build_stream, decoder_for)
from nbdocker.build.log import LINE_SHOWN_CHARS, BuildLog, LogSpoolError
from nbdocker.build.progress import BuildProgress
from nbdocker.errors import BuildFailed, NbDockerError
from nbdocker.views import render as views

CID = "b3202e183d54"


def framed(run_output: list[str], end: list[dict] | None = None) -> list[dict]:
    """A classic stream as Engine 20.10 sends it: FROM, a RUN whose output is `run_output`
    (one message per write), then a LABEL step; `end` replaces what follows the RUN's output."""
    start = [{"stream": "Step 1/3 : FROM busybox"}, {"stream": "\n"}, {"stream": " ---> ae12487c27f9\n"},
             {"stream": "Step 2/3 : RUN ./print"}, {"stream": "\n"},
             {"stream": f" ---> Running in {CID}\n"}]
    ok = [{"stream": f"Removing intermediate container {CID}\n"}, {"stream": " ---> db0a228bb845\n"},
          {"stream": "Step 3/3 : LABEL a=b"}, {"stream": "\n"}, {"stream": " ---> Running in e3b32765c8cd\n"},
          {"stream": "Removing intermediate container e3b32765c8cd\n"}, {"stream": " ---> 731af93bdbcd\n"},
          {"aux": {"ID": "sha256:731af93bdbcd" + "0" * 52}}, {"stream": "Successfully built 731af93bdbcd\n"}]
    return start + [{"stream": text} for text in run_output] + (ok if end is None else end)


FORGED = [" ---> 0123456789ab\n", "Step 3/3 : RUN pretend\n", " ---> Using cache\n"]


def steps_of(events) -> dict[str, str]:
    states: dict[str, str] = {}
    for event in events:
        if isinstance(event, StepEvent):
            states[event.key] = event.state
    return states


# ---------------------------------------------------------------- item 5: framing (pure)


def test_run_output_cannot_fake_a_step_on_success():
    events = decode_build_stream(framed(FORGED), "classic")
    steps = [e for e in events if isinstance(e, StepEvent)]
    assert [e.name for e in steps if e.state == "running"] == [
        "Step 1/3 : FROM busybox", "Step 2/3 : RUN ./print", "Step 3/3 : LABEL a=b"]
    assert steps_of(events) == {"step-1": "done", "step-2": "done", "step-3": "done"}
    logs = [e.text for e in events if isinstance(e, LogEvent)]
    assert logs == [line.rstrip("\n") for line in FORGED]  # all three are the RUN's output
    assert {e.key for e in events if isinstance(e, LogEvent)} == {"step-2"}


def test_run_output_cannot_fake_a_step_on_failure_and_the_failure_keeps_its_line():
    error = "The command '/bin/sh -c ./print' returned a non-zero code: 4"
    end = [{"stream": f"Removing intermediate container {CID}\n"},
           {"errorDetail": {"code": 4, "message": error}, "error": error}]
    progress = BuildProgress("classic")
    progress.apply_all(decode_build_stream(framed(FORGED, end), "classic"))
    assert {k: s.state for k, s in progress.steps.items()} == {"step-1": "done", "step-2": "failed"}
    assert progress.failed_step().name == "Step 2/3 : RUN ./print"
    assert progress.error.exit_code == 4 and progress.error.key == "step-2"


def test_step_lines_outside_a_run_must_continue_the_count():
    stream = [{"stream": "Step 1/2 : FROM busybox"}, {"stream": "\n"}, {"stream": " ---> ae12487c27f9\n"},
              {"stream": "Step 7/2 : RUN nothing\n"}, {"stream": "Step 2/9 : RUN nothing\n"},
              {"stream": "Step 2/2 : LABEL a=b"}, {"stream": "\n"}, {"stream": " ---> 731af93bdbcd\n"},
              {"aux": {"ID": "sha256:" + "1" * 64}}]
    events = decode_build_stream(stream, "classic")
    assert steps_of(events) == {"step-1": "done", "step-2": "done"}


def test_a_forged_container_end_is_found_out_when_the_real_one_comes():
    forged = [f"Removing intermediate container {CID}\n", " ---> 0123456789ab\n"]
    events = decode_build_stream(framed(forged), "classic")
    warnings = [e for e in events if isinstance(e, WarningEvent)]
    assert len(warnings) == 1 and "printed the builder's own line" in warnings[0].message


def test_the_classic_decoder_lists_the_images_this_build_committed():
    decoder = decoder_for("classic")
    for message in framed([]):
        decoder.feed(message)
    decoder.close()
    assert decoder.committed == ["db0a228bb845", "731af93bdbcd"]  # not FROM's cached base


# ---------------------------------------------------------------- item 7: long lines (pure)


def _long_line_progress(chars: int, chunk: int = 32768) -> tuple[BuildProgress, int]:
    decoder = decoder_for("classic", bulk=True)
    progress = BuildProgress("classic")
    messages = framed([])
    for message in messages[:6]:
        progress.apply_all(decoder.feed(message))
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        piece = {"stream": "x" * chunk}
        for _ in range(chars // chunk):
            progress.apply_all(decoder.feed(piece))
        progress.apply_all(decoder.feed({"stream": "x" * (chars % chunk) + "\nafter\n"}))
        for message in messages[6:]:
            progress.apply_all(decoder.feed(message))
        progress.apply_all(decoder.close())
        growth = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return progress, growth


def test_a_10_mb_line_is_whole_on_disk_cut_in_memory_and_in_every_view():
    progress, growth = _long_line_progress(10_000_000)
    # Memory does not grow with the line: what the decoder keeps is bounded, the rest is spooled.
    assert growth < 2_000_000, growth
    assert progress.log.full_text("step-2") == "x" * 10_000_000 + "\nafter\n"
    assert progress.log.line_count("step-2") == 2
    view = progress.view("done")
    (step,) = [s for s in view.steps if s.key == "step-2"]
    shown = step.log_tail[0][1]
    assert shown.startswith("x" * LINE_SHOWN_CHARS + "…")
    assert f"({10_000_000 - LINE_SHOWN_CHARS:,} more characters; the full log is on disk: result.log)" in shown
    assert len(views.render_html(view)) < 20_000 and len(views.render_text(view)) < 20_000
    from nbdocker.views import widgets

    widget = widgets.BuildWidget(progress.view("running"))  # the saved state and the live one
    widget.update_live(view)
    assert len(widget.head) + len(widget.steps) + len(widget.tails) < 20_000


def test_memory_does_not_grow_with_line_length():
    _, small = _long_line_progress(1_000_000)
    _, large = _long_line_progress(20_000_000)
    assert large < small + 500_000, (small, large)


def test_line_pieces_leave_the_decoder_as_they_come():
    decoder = decoder_for("buildkit")
    assembler_events = decoder._log("v", 1, [])  # noqa: SLF001 - nothing in, nothing out
    assert assembler_events == []
    from nbdocker.build.events import _LineAssembler

    lines = _LineAssembler(cap=10)
    out = lines.feed("a" * 25)
    assert [type(x).__name__ for x in out] == ["_Piece"] and out[0] == "a" * 25
    assert lines.feed("bb\nc") == ["bb"] and lines.flush() == ["c"]


def test_an_interleaved_line_ends_the_long_record_and_both_are_kept():
    with BuildLog() as log:
        log.append_part("s", 1, "y" * 5000)
        log.append(LogEvent("s", 2, "err"))
        log.append_part("s", 1, "z" * 10)
        log.append(LogEvent("s", 1, "end"))
        assert [(e.stream, e.text) for e in log.iter_lines()] == [
            (1, "y" * 5000), (2, "err"), (1, "z" * 10 + "end")]
        assert [len(e.text) < 2100 for e in log.tail("s")] == [True, True, True]


# ---------------------------------------------------------------- item 8: a spool that fails


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs: writes past it fail with ENOSPC, as on a full disk."""
    where = tmp_path / "full"
    where.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)],
                          capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    old = buildlog.SPOOL_DIR
    buildlog.SPOOL_DIR = str(where)
    yield where
    buildlog.SPOOL_DIR = old
    subprocess.run(["umount", "-l", str(where)], check=False)


def test_enospc_in_the_spool_is_one_line_once(full_disk):
    log = BuildLog(spool_bytes=1024)
    with pytest.raises(LogSpoolError) as caught:
        for _ in range(200):
            log.append_lines("s", 1, ["x" * 1000] * 100)
    (line,) = caught.value._render_traceback_()
    assert "No space left on device" in line and str(full_disk) in line and "\n" not in line
    log.append_lines("s", 1, ["later"])  # said once: the build's tails go on
    assert log.tail("s", 1)[0].text == "later"
    log.close()


# ---------------------------------------------------------------- item 11: silence in a terminal


def test_the_silence_note_is_printed_once_per_silence_then_rarely(capsys):
    sink = TextSink()
    progress = BuildProgress("classic")
    for tenth in range(150, 600):  # 15 s to 60 s of silence, ten updates a second
        sink.update(progress, tenth / 10)
    sink.update(progress, None)  # output came
    sink.update(progress, 16.0)
    notes = [line for line in capsys.readouterr().out.splitlines() if "no output" in line]
    assert notes == ["  (no output for 15 s)", "  (no output for 45 s)", "  (no output for 16 s)"]


# ---------------------------------------------------------------- item 11: a character cut in two


def test_a_character_cut_between_two_chunks_is_decoded_whole():
    from nbdocker.engine.client import json_messages

    data = json.dumps({"stream": "price: 5 €\n"}, ensure_ascii=False).encode("utf-8")
    cut = data.index("€".encode()) + 1  # inside the three bytes of €
    assert list(json_messages([data[:cut], data[cut:]])) == [{"stream": "price: 5 €\n"}]
    # byte by byte, several messages, and a non-chunked body (one str) too
    two = data + b"\r\n" + json.dumps({"aux": {"ID": "sha256:1"}}).encode()
    assert list(json_messages([two[i:i + 1] for i in range(len(two))])) == [
        {"stream": "price: 5 €\n"}, {"aux": {"ID": "sha256:1"}}]
    assert list(json_messages([two.decode()])) == [{"stream": "price: 5 €\n"}, {"aux": {"ID": "sha256:1"}}]


def test_a_truncated_stream_is_one_line_not_a_stream_parse_error():
    from nbdocker.engine.client import TruncatedStream, json_messages

    with pytest.raises(TruncatedStream) as caught:
        list(json_messages([b'{"stream": "a"}\n{"stream": "Step 2/3 : RU']))
    assert "unfinished message" in str(caught.value) and "\n" not in str(caught.value)


# ---------------------------------------------------------------- against the engine


def dockerfile(ip, line: str, body: str):
    return ip.run_cell_magic("dockerfile", line, body)


def _build_cache(client) -> list[dict]:
    """The engine's BuildKit cache entries. Engine 20.10 answers 500 "a disk usage operation is
    already running" while another df runs (other tests call it too): wait for that one to end."""
    import time

    for _ in range(120):
        try:
            return client.df().get("BuildCache") or []
        except docker.errors.APIError as err:
            if "disk usage operation is already running" not in str(err):
                raise
            time.sleep(0.5)
    raise AssertionError("the engine's disk usage stayed busy for a minute")


@pytest.fixture
def made(api):
    """Image ids a test made, and the BuildKit cache entries that appeared while it ran: removed."""
    ids: list[str] = []
    with docker.APIClient(version="auto", timeout=300) as patient:  # df sizes every image: slow
        cache_before = {entry["ID"] for entry in _build_cache(patient)}
    yield ids
    base = api.inspect_image("busybox")["Id"]
    # Removal is work (a 120-layer image, an engine others load too): no 10 s metadata timeout.
    with docker.APIClient(version="auto", timeout=300) as patient:
        for image_id in reversed(ids):
            if image_id and image_id != base:
                try:
                    patient.remove_image(image_id, force=True)
                except docker.errors.NotFound:
                    pass
        for entry in _build_cache(patient):
            if entry["ID"] not in cache_before:
                try:
                    patient.prune_builds(filters={"id": [entry["ID"]]})
                except docker.errors.APIError:
                    pass


def containers_with(api, marker: str) -> list[dict]:
    return [c for c in api.containers(all=True) if marker in (c.get("Command") or "")]


FAKER = "echo ' ---> 0123456789ab'; echo 'Step 3/3 : RUN pretend'; echo ' ---> Using cache'"


def test_engine_run_output_cannot_fake_steps_on_success(ip, api, made, unique):
    body = f"FROM busybox\nRUN echo {unique}; {FAKER}\nLABEL done=yes\n"
    result = dockerfile(ip, f"--builder classic -q -t {unique}:fake", body)
    made.append(result.image_id)
    assert [(s.lines, s.state) for s in result.steps] == [("1", "done"), ("2", "done"), ("3", "done")]
    assert result.cached_steps == []
    assert result.step_log(result.steps[1]) == f"{unique}\n ---> 0123456789ab\nStep 3/3 : RUN pretend\n ---> Using cache\n"


def test_engine_run_output_cannot_fake_steps_on_failure(ip, api, made, unique):
    body = f"FROM busybox\nRUN echo {unique}; {FAKER}; exit 4\nLABEL done=yes\n"
    with pytest.raises(BuildFailed) as caught:
        dockerfile(ip, f"--builder classic -q -t {unique}:fakefail", body)
    assert str(caught.value).startswith(f"line 2: RUN echo {unique}") and "exit code 4" in str(caught.value)
    result = caught.value.result
    assert [(s.lines, s.state) for s in result.steps] == [("1", "done"), ("2", "failed")]
    assert containers_with(api, unique) == []


def test_engine_a_10_mb_line_stays_on_disk_and_out_of_every_view(ip, api, made, unique):
    from IPython import get_ipython

    body = f'FROM busybox\nRUN echo {unique}; head -c 10000000 /dev/zero | tr "\\0" x; echo; echo after\n'
    result = dockerfile(ip, f"--builder classic -q -t {unique}:long", body)
    made.append(result.image_id)
    log = result.step_log(result.steps[1])
    assert log == f"{unique}\n" + "x" * 10_000_000 + "\nafter\n"
    data, _ = get_ipython().display_formatter.format(result)
    assert sum(len(v) for v in data.values() if isinstance(v, str)) < 100_000
    assert "(9,998,000 more characters; the full log is on disk: result.log)" in data["text/html"]
    assert max(len(text) for _, text in result.view().steps[1].log_tail) < 2100


def test_engine_a_full_disk_under_the_log_fails_the_build_in_one_line(ip, api, made, unique, full_disk):
    from IPython.utils.capture import capture_output

    marker = f"{unique}-enospc"
    body = f"FROM busybox\nRUN echo {marker}; i=0; while [ $i -lt 3000 ]; do echo line-$i-{'y' * 100}; i=$((i+1)); done; sleep 5\n"
    with capture_output() as captured:
        cell = ip.run_cell(f"%%dockerfile --builder classic --out r -t {unique}:nospace\n{body}")
    assert isinstance(cell.error_in_exec, NbDockerError)
    assert "Traceback" not in captured.stdout + captured.stderr
    (line,) = [x for x in captured.stdout.splitlines() if "No space left on device" in x]
    assert str(full_disk) in line
    # the live view ends: the step that was running is shown failed, not left running
    assert [x for x in captured.stdout.splitlines() if x.startswith("[1/2] failed   line 2: Step 2/2 : RUN")]
    assert containers_with(api, marker) == []


def _deep_image(api, tag: str, layers: int) -> str:
    """Load an image of `layers` tiny layers (docker load: seconds, where 120 COPYs take minutes)."""
    import hashlib
    import io
    import tarfile

    def tar_of(files: dict[str, bytes]) -> bytes:
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return out.getvalue()

    members: dict[str, bytes] = {}
    diff_ids = []
    for i in range(layers):
        layer = tar_of({f"l{i}": f"{tag} {i}\n".encode()})
        members[f"l{i}/layer.tar"] = layer
        diff_ids.append("sha256:" + hashlib.sha256(layer).hexdigest())
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    members["config.json"] = config
    members["manifest.json"] = json.dumps(
        [{"Config": "config.json", "RepoTags": [tag], "Layers": [f"l{i}/layer.tar" for i in range(layers)]}]).encode()
    with docker.APIClient(version="auto", timeout=300) as patient:  # a load is work, not metadata
        patient.load_image(tar_of(members))
    return api.inspect_image(tag)["Id"]


def test_engine_max_depth_is_explained_and_its_intermediate_images_removed(ip, api, made, unique, tmp_path):
    base = f"{unique}-deep:1"
    made.append(_deep_image(api, base, 120))
    (tmp_path / "a").write_text(unique)
    body = f"FROM {base}\n" + "".join(f"COPY a /a{i}\n" for i in range(12))
    with pytest.raises(BuildFailed) as caught:
        dockerfile(ip, f"--builder classic -q --context {tmp_path}", body)
    made.extend(caught.value.result.progress.committed)  # gone already, unless the fix is missing
    message = str(caught.value)
    assert "max depth exceeded" in message and "at most about 125 layers" in message
    assert "combine instructions" in message
    committed = caught.value.result.progress.committed
    assert len(committed) >= 2
    assert f"the {len(committed)} intermediate images this build made were removed" in message
    for image_id in committed:
        with pytest.raises(docker.errors.NotFound):
            api.inspect_image(image_id)
    assert api.inspect_image(base)  # what it did not make stays


# ---------------------------------------------------------------- item 11: a big context


def test_a_context_is_measured_while_packing(tmp_path, monkeypatch):
    import nbdocker.build.context as context

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "big.bin").write_bytes(b"\0" * 3_000_000)
    (tmp_path / "model.pt").write_bytes(b"\1" * 1_500_000)
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    packed = context.pack_context(str(tmp_path), "Dockerfile", None, "classic")
    try:
        assert packed.size == len(packed.file.read()) and packed.size > 4_500_000
        assert packed.largest(2) == [("data/", 3_000_000), ("model.pt", 1_500_000)]
        assert packed.warning(str(tmp_path)) is None  # under 100 MB: nothing to say
        monkeypatch.setattr(context, "CONTEXT_WARN_BYTES", 1_000_000)
        warning = packed.warning(str(tmp_path))
        assert warning == (f"the build context {tmp_path} is 5 MB (over 1 MB), all sent to the engine "
                           f"before the build starts: list what the build does not need in "
                           f"{tmp_path}/.dockerignore (the largest: data/ (3 MB), model.pt (2 MB), "
                           "Dockerfile (0 MB))")
    finally:
        packed.file.close()


def test_engine_a_big_context_is_warned_about_before_it_is_sent(ip, api, made, unique, tmp_path,
                                                                 monkeypatch, capsys):
    import nbdocker.build.context as context

    monkeypatch.setattr(context, "CONTEXT_WARN_BYTES", 1_000_000)
    (tmp_path / "big.bin").write_bytes(os.urandom(2_000_000))
    (tmp_path / "Dockerfile").write_text(f"FROM busybox\nLABEL {unique.replace('-', '_')}=1\n")
    result = ip.run_line_magic("docker", f"build --builder classic -t {unique}:big {tmp_path}")
    made.append(result.image_id)
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith(f"warning: the build context {tmp_path} is 2 MB (over 1 MB)")
    assert "big.bin (2 MB)" in first and any("big.bin" in w for w in result.warnings)


# ---------------------------------------------------------------- item 10: CLI fidelity


@pytest.mark.parametrize("builder", ("classic", "buildkit"))
def test_engine_build_f_reads_the_file_from_the_current_directory_as_the_cli_does(
        ip, api, made, unique, tmp_path, monkeypatch, builder):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile.x").write_text(f"FROM busybox\nLABEL which=context-{unique}\n")
    (tmp_path / "Dockerfile.x").write_text(f"FROM busybox\nLABEL which=cwd-{unique}\n")
    monkeypatch.chdir(tmp_path)
    cli = subprocess.run(["docker", "build", "-q", "-f", "Dockerfile.x", "ctx"], capture_output=True,
                         text=True, env={**os.environ, "DOCKER_BUILDKIT": "0"}, timeout=120, check=True)
    made.append(cli.stdout.strip())
    theirs = api.inspect_image(cli.stdout.strip())["Config"]["Labels"]["which"]
    result = ip.run_line_magic("docker", f"build --builder {builder} -q -f Dockerfile.x ctx")
    made.append(result.image_id)
    ours = api.inspect_image(result.image_id)["Config"]["Labels"]["which"]
    assert ours == theirs == f"cwd-{unique}"


AUTH = "127.0.0.1:5001"
USER = os.environ.get("NBDOCKER_REGISTRY_USER", "nbdocker")
PASSWORD = os.environ.get("NBDOCKER_REGISTRY_PASSWORD", "nbdocker-test-password")


@pytest.fixture
def private_base(api, unique, tmp_path, monkeypatch):
    """busybox pushed to the htpasswd registry as a unique name, and not kept locally."""
    import nbdocker.commands.registry as registry

    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))  # no machine credentials
    repository = f"{AUTH}/{unique}/base"
    api.tag("busybox:latest", repository, "1")
    try:
        for message in api.push(repository, "1", stream=True, decode=True,
                                auth_config={"username": USER, "password": PASSWORD}):
            assert "error" not in message, message
    except docker.errors.APIError as err:
        api.remove_image(f"{repository}:1")
        pytest.skip(f"the htpasswd registry at {AUTH} does not answer: {err}")
    api.remove_image(f"{repository}:1")  # only the tag: the build has to pull it
    yield f"{repository}:1"
    registry._LOGINS.pop(AUTH, None)
    try:
        api.remove_image(f"{repository}:1")
    except docker.errors.NotFound:
        pass


@pytest.mark.parametrize("builder", ("classic", "buildkit"))
def test_engine_a_build_pulls_a_private_base_after_login(ip, api, made, unique, private_base, monkeypatch,
                                                         builder):
    import getpass

    body = f"FROM {private_base}\nLABEL private=yes-{builder}\n"
    with pytest.raises(BuildFailed) as caught:  # before login: the registry says no
        dockerfile(ip, f"--builder {builder} -q", body)
    assert any(words in str(caught.value) for words in ("no basic auth credentials", "no active sessions"))
    if builder == "buildkit":
        assert str(caught.value).endswith("the registry asks for credentials: %docker login REGISTRY, "
                                          "then build again (nbdocker then pulls the base first)")
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": PASSWORD)
    ip.run_line_magic("docker", f"login -u {USER} {AUTH}")
    result = dockerfile(ip, f"--builder {builder} -q", body)
    made.append(result.image_id)
    assert result.ok and api.inspect_image(result.image_id)["Config"]["Labels"]["private"] == f"yes-{builder}"


@pytest.mark.parametrize("builder", ("classic", "buildkit"))
def test_engine_copy_dot_and_the_cells_dockerfile(ip, api, made, unique, tmp_path, builder):
    """Classic: the added Dockerfile stays out of `COPY .` (a .dockerignore entry the engine
    honours). BuildKit through the API cannot keep it out (no session, no .dockerignore): the
    build says so, on the line that copies the context."""
    from nbdocker.build.context import CELL_DOCKERFILE

    (tmp_path / "app.txt").write_text(unique)
    body = f"FROM busybox\nLABEL t={unique}\nCOPY . /ctx\n"
    result = dockerfile(ip, f"--builder {builder} -q --context {tmp_path}", body)
    made.append(result.image_id)
    container = api.create_container(result.image_id, command=["true"])
    try:
        api.get_archive(container, "/ctx/app.txt")
        if builder == "classic":
            with pytest.raises(docker.errors.NotFound):
                api.get_archive(container, f"/ctx/{CELL_DOCKERFILE}")
            assert not any("copies the whole context" in w for w in result.warnings)
        else:
            api.get_archive(container, f"/ctx/{CELL_DOCKERFILE}")  # the engine's limit, said:
            assert [w for w in result.warnings if w.startswith("line 3 copies the whole context")]
    finally:
        api.remove_container(container, force=True)


def test_a_line_cut_inside_a_secret_shows_none_of_it():
    secret = "s3cr3t-value-XYZ"
    progress = BuildProgress("classic", secrets={"API_TOKEN": secret})
    progress.apply(LogEvent("k", 1, "x" * (LINE_SHOWN_CHARS - 6) + secret + "y" * 5000))
    (step_line,) = [progress.mask(e.text) for e in progress.log.tail("k")]
    assert "s3cr3t" not in step_line and "s3cr" not in step_line
    assert step_line.startswith("x" * (LINE_SHOWN_CHARS - 6) + "****… (")


def test_buildkit_long_lines_leave_in_pieces_too():
    import base64

    def field(number: int, value: int | bytes) -> bytes:
        def varint(v: int) -> bytes:
            out = bytearray()
            while True:
                out.append((v & 0x7F) | (0x80 if v >> 7 else 0))
                v >>= 7
                if not v:
                    return bytes(out)
        if isinstance(value, int):
            return varint(number << 3) + varint(value)
        return varint(number << 3 | 2) + varint(len(value)) + value

    digest = b"sha256:" + b"b" * 64
    progress = BuildProgress("buildkit")
    decoder = decoder_for("buildkit", bulk=True)
    chunk = b"z" * 65536
    pieces = 0
    for data in [chunk] * 40 + [b"\n"]:  # a 2.6 MB line
        log = field(1, digest) + field(3, 1) + field(4, data)
        events = decoder.feed({"id": "moby.buildkit.trace",
                               "aux": base64.b64encode(field(3, log)).decode()})
        pieces += sum(isinstance(e, LogPart) for e in events)
        progress.apply_all(events)
    progress.apply_all(decoder.close())
    assert pieces >= 19  # it left as it came (at most two chunks held): never the whole line
    key = digest.decode()
    assert progress.log.full_text(key) == "z" * 65536 * 40 + "\n"
    assert progress.log.tail(key)[0].text.endswith(
        f"({65536 * 40 - LINE_SHOWN_CHARS:,} more characters; the full log is on disk: result.log)")


# ---------------------------------------------------------------- item 8: a stream cut short


class _CuttingProxy:
    """An HTTP proxy on 127.0.0.1 in front of the real engine that ends a build's response
    cleanly in the middle of a JSON message (as a proxy that gives up would): what docker-py's
    json_stream turned into a StreamParseError traceback. Every other request passes through."""

    def __init__(self, after: bytes) -> None:
        import http.server
        import socket
        import threading

        self.after = after
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _forward(self) -> None:
                import http.client

                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                engine = http.client.HTTPConnection("localhost")
                engine.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                engine.sock.connect("/var/run/docker.sock")
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                    engine.request(self.command, self.path, body=body, headers=headers)
                    answer = engine.getresponse()
                    if "/build" in self.path.split("?")[0]:
                        proxy._cut(self, answer)
                    else:
                        data = answer.read()
                        self.send_response(answer.status)
                        for k, v in answer.getheaders():
                            if k.lower() not in ("transfer-encoding", "content-length", "connection"):
                                self.send_header(k, v)
                        self.send_header("Content-Length", str(len(data)))
                        self.send_header("Connection", "close")
                        self.end_headers()
                        self.wfile.write(data)
                finally:
                    engine.close()
                self.close_connection = True

            do_GET = do_POST = do_DELETE = do_HEAD = _forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"tcp://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _cut(self, handler, answer) -> None:
        handler.send_response(answer.status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.send_header("Connection", "close")
        handler.end_headers()
        seen = b""
        while True:
            data = answer.read1(65536)
            if not data:
                break
            seen += data
            at = seen.find(self.after)
            if at >= 0:  # the rest of that message, then half of the next one, then a clean end
                end = seen.index(b"\n", at) + 1
                data = data[: len(data) - (len(seen) - end)] + b'{"stream":"half a mess'
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            if at >= 0:
                break
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_engine_a_build_stream_cut_inside_a_message_is_one_line_and_ends_the_view(ip, api, unique, capsys):
    from IPython.utils.capture import capture_output

    marker = f"{unique}-cut"
    proxy = _CuttingProxy(after=f"{marker}-first\\n".encode())  # the RUN's output, JSON-escaped
    ip.run_line_magic("config", f"DockerMagics.base_url = '{proxy.url}'")
    try:
        body = f"FROM busybox\nRUN echo {marker}-first; sleep 2; echo {marker}-second\n"
        with capture_output() as captured:
            cell = ip.run_cell(f"%%dockerfile --builder classic -t {unique}:cut\n{body}")
    finally:
        ip.run_line_magic("config", "DockerMagics.base_url = None")
        proxy.close()
    assert isinstance(cell.error_in_exec, NbDockerError)
    out = captured.stdout + captured.stderr
    assert "Traceback" not in out and "StreamParseError" not in out
    (line,) = [x for x in captured.stdout.splitlines() if "ended inside a message" in x]
    assert line.startswith(f"docker: the build stream from the engine at {proxy.url} ended inside a message")
    assert [x for x in captured.stdout.splitlines() if x.startswith("[1/2] failed   line 2: Step 2/2 : RUN")]
    assert containers_with(api, marker) == []
