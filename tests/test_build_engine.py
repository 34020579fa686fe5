"""`%%dockerfile` and `%docker build` against the real engine, on both builders. No mocks.

Everything is built with the `unique` prefix and removed by id afterwards. Other people build on
the same engine at the same time, so "no container left" is checked for the containers and
processes that carry a marker only this test puts in its RUN command.
"""
from __future__ import annotations

import _thread
import os
import re
import shutil
import subprocess
import threading
import time
import tracemalloc
from pathlib import Path

import docker.errors
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

import nbdocker.build.command
from nbdocker.views import render as views
from nbdocker.build.command import BuildResult
from nbdocker.build.context import CELL_DOCKERFILE
from nbdocker.errors import BuildCancelled, BuildFailed, DockerfileError, NbDockerError

pytestmark = pytest.mark.engine

BUILDERS = ("buildkit", "classic")
NOWHERE = "unix:///nonexistent.sock"


def dockerfile(ip, line: str, body: str):
    return ip.run_cell_magic("dockerfile", line, body)


@pytest.fixture
def made(api):
    """Image ids a test made; removed (with their untagged parents) when it ends."""
    ids: list[str] = []
    yield ids
    base = api.inspect_image("busybox")["Id"]
    for image_id in reversed(ids):
        if image_id and image_id != base:
            try:
                api.remove_image(image_id, force=True)
            except docker.errors.NotFound:
                pass


@pytest.fixture
def nowhere(ip):
    """Point nbdocker at a socket that does not exist: any engine contact fails loudly."""
    ip.run_line_magic("config", f"DockerMagics.base_url = '{NOWHERE}'")
    yield
    ip.run_line_magic("config", "DockerMagics.base_url = None")


def containers_with(api, marker: str) -> list[dict]:
    return [c for c in api.containers(all=True) if marker in (c.get("Command") or "")]


def processes_with(marker: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(pid)
        except OSError:
            continue
    return found


def tag_exists(api, tag: str) -> bool:
    try:
        api.inspect_image(tag)
        return True
    except docker.errors.NotFound:
        return False


def bundle(result) -> dict:
    """What the notebook receives for a result (the display formatter, not our own call)."""
    from IPython import get_ipython

    data, _ = get_ipython().display_formatter.format(result)
    return data


# ---------------------------------------------------------------- success


@pytest.mark.parametrize("builder", BUILDERS)
def test_a_build_succeeds_with_steps_tags_and_layers_tied_to_lines(ip, api, made, unique, builder):
    body = ("FROM busybox\n"
            f"RUN echo {unique} > /one\n"
            "RUN echo two \\\n"
            "    > /two\n"
            'CMD ["cat", "/one"]\n')
    result = dockerfile(ip, f"--builder {builder} -q -t {unique}:a -t {unique}:b", body)
    made.append(result.image_id)
    assert isinstance(result, BuildResult) and result.ok and result.builder == builder
    assert result.image_id.startswith("sha256:")
    assert result.tags == [f"{unique}:a", f"{unique}:b"]
    for tag in result.tags:
        assert api.inspect_image(tag)["Id"] == result.image_id
    lines = {s.instruction.keyword + " " + s.lines for s in result.steps}
    assert {"FROM 1", "RUN 2", "RUN 3-4"} <= lines
    if builder == "classic":
        assert "CMD 5" in lines  # the classic builder makes a step of every instruction
    assert all(s.state == "done" or (s.cached and s.instruction.keyword == "FROM") for s in result.steps)
    assert [s.instruction.line_start for s in result.steps] == sorted(s.instruction.line_start for s in result.steps)
    # layers in result.history, newest first, each tied to the line that made it
    layers = result.history.layers
    assert result.history.image == f"{unique}:a"
    made_by = [(layer.instruction.line_start if layer.instruction else None) for layer in layers]
    assert made_by[:3] == [5, 3, 2]
    assert set(made_by[3:]) == {1}  # the base image's layers belong to FROM
    text = bundle(result)["text/plain"]
    assert "line 3-4: " in text and "LINE" in text and f"tagged {unique}:a" in text
    # %docker history of an image built in this kernel shows the lines too
    history = ip.run_line_magic("docker", f"history {unique}:b")
    assert [layer.instruction.line_start for layer in history.layers[:3]] == [5, 3, 2]


@pytest.mark.parametrize("builder", BUILDERS)
def test_a_second_build_reports_its_cached_steps(ip, api, made, unique, builder):
    body = f"FROM busybox\nRUN echo {unique}-{builder} > /f\nRUN echo second > /g\n"
    first = dockerfile(ip, f"--builder {builder} -q -t {unique}:first", body)
    made.append(first.image_id)
    assert [s.lines for s in first.cached_steps if s.instruction.keyword == "RUN"] == []
    second = dockerfile(ip, f"--builder {builder} -q -t {unique}:second", body)
    made.append(second.image_id)
    assert second.image_id == first.image_id
    assert [s.lines for s in second.cached_steps if s.instruction.keyword == "RUN"] == ["2", "3"]
    assert f"{second.progress.cached} cached" in str(second)
    # --no-cache really rebuilds
    third = dockerfile(ip, f"--builder {builder} -q --no-cache", body)
    made.append(third.image_id)
    assert [s for s in third.cached_steps if s.instruction.keyword == "RUN"] == []
    assert third.image_id != first.image_id


# ---------------------------------------------------------------- failures before the engine


@pytest.mark.parametrize("body, line", [
    ("FROM busybox\nRUN echo hi\nFORM x\n", 3),
    ("FROM busybox\nCOPY\n", 2),
    ("# no FROM\nRUN echo hi\n", 2),  # a Dockerfile without FROM crashes Engine 20.10: never sent
    ("ARG V=1\n", None),
])
def test_a_dockerfile_error_names_its_line_and_sends_nothing(ip, nowhere, body, line):
    # The engine endpoint does not exist: reaching for it would raise EngineUnavailable instead.
    with pytest.raises(DockerfileError) as caught:
        dockerfile(ip, "", body)
    if line is not None:
        assert caught.value.line == line and f"line {line}:" in str(caught.value)
    (rendered,) = caught.value._render_traceback_()
    assert "\n" not in rendered


@pytest.mark.parametrize("body", ["\n\n", "# only a comment\n", "   \n# x\n"])
def test_an_empty_body_is_a_one_line_error(ip, nowhere, body):
    with pytest.raises(DockerfileError, match="empty"):
        dockerfile(ip, "", body)


def test_a_cell_with_no_body_at_all_fails_in_one_line(ip, nowhere):
    # IPython refuses an empty cell magic body itself, before nbdocker runs.
    with capture_output() as captured:
        cell = ip.run_cell("%%dockerfile -t x\n")
    assert isinstance(cell.error_in_exec, UsageError) and "body is empty" in str(cell.error_in_exec)
    assert "Traceback" not in captured.stdout + captured.stderr


def test_an_nbgrader_stub_raises_not_implemented_without_contacting_the_engine(ip, nowhere):
    body = "# YOUR CODE HERE\nraise NotImplementedError()\n"
    with pytest.raises(NotImplementedError):
        dockerfile(ip, "-t whatever", body)
    # as a cell: the cell fails with NotImplementedError, as nbgrader expects
    with capture_output():
        cell = ip.run_cell(f"%%dockerfile\n{body}")
    assert isinstance(cell.error_in_exec, NotImplementedError)


def test_a_bad_target_is_refused_before_the_engine(ip, nowhere):
    with pytest.raises(DockerfileError, match="no such stage"):
        dockerfile(ip, "--target nope", "FROM busybox AS one\nRUN true\n")


# ---------------------------------------------------------------- failures in the engine


@pytest.mark.parametrize("builder", BUILDERS)
def test_a_failing_run_fails_the_cell_with_line_and_exit_code(ip, api, made, unique, builder):
    marker = f"{unique}-fail"
    body = f"FROM busybox\n# a comment\nRUN echo {marker} \\\n    && exit 3\nCMD true\n"
    tag = f"{unique}:failed"
    before = {c["Id"] for c in api.containers(all=True)}
    with pytest.raises(BuildFailed) as caught:
        dockerfile(ip, f"--builder {builder} -q -t {tag}", body)
    message = str(caught.value)
    assert message.startswith("line 3-4: RUN echo ") and "exit code 3" in message
    (rendered,) = caught.value._render_traceback_()
    assert rendered.startswith("build failed: line 3-4") and "\n" not in rendered
    result = caught.value.result
    assert result.state == "failed" and result.image_id is None and result.tags == []
    failed = [s for s in result.steps if s.state == "failed"]
    assert [s.lines for s in failed] == ["3-4"]
    assert result.step_log(failed[0]) == f"{marker}\n"
    assert not tag_exists(api, tag)
    # no container left behind by the failed step (docker-py's default rm=False would leave one)
    assert containers_with(api, marker) == []
    new = [c for c in api.containers(all=True) if c["Id"] not in before]
    assert [c for c in new if marker in (c.get("Command") or "")] == []
    # the notebook's view: the cell fails, one line, no traceback
    with capture_output() as captured:
        cell = ip.run_cell(f"%%dockerfile --builder {builder} -t {tag}\n{body}")
    assert isinstance(cell.error_in_exec, BuildFailed)
    assert "Traceback" not in captured.stdout + captured.stderr
    assert [line for line in captured.stdout.splitlines() if line.startswith("build failed:")] == [rendered]
    assert not tag_exists(api, tag)


@pytest.mark.parametrize("builder", BUILDERS)
def test_copy_without_context_says_to_pass_context(ip, api, unique, builder):
    with pytest.raises(BuildFailed, match="pass --context DIR"):
        dockerfile(ip, f"--builder {builder} -q -t {unique}:copy", "FROM busybox\nCOPY app.py /app/\n")
    assert not tag_exists(api, f"{unique}:copy")


# ---------------------------------------------------------------- --context and .dockerignore

IGNORE = (
    "\ufeff# a comment on the first line, after a BOM\n"
    "*.md\n"
    "!README.md\n"
    "docs\n"
    "!docs/keep.md\n"
    "**/*.pyc\n"
    "!src/keep.pyc\n"
    "build/\n"
    "  # a pattern, not a comment (only column 0 starts a comment)\n"
    "\\#hash\n"            # a backslash escapes the '#'
    "/secrets/.env\n"      # a leading slash is the context root
    "tmp/*/cache\n"
    "./dot/../cleaned\n"
    "\n"
    "#nothing\n"
)
FILES = [
    "a.txt", "b.md", "README.md", "docs/keep.md", "docs/drop.md", "docs/sub/x.md", "src/m.py",
    "src/m.pyc", "src/keep.pyc", "src/deep/n.pyc", "build/out.bin", "#hash", "#nothing",
    "  # a pattern, not a comment (only column 0 starts a comment)", "secrets/.env", "secrets/ok",
    "tmp/a/cache", "tmp/a/keep", "tmp/a/b/cache", "cleaned", "dot/cleaned", "sp ace.txt",
]
LISTING = "FROM busybox\nCOPY . /ctx\nRUN find /ctx -exec stat -c '%n %u:%g %a %s' {} + | sort\n"


def make_context(root: Path, ignore: str) -> Path:
    for name in FILES:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name * 3)
    os.chmod(root / "a.txt", 0o640)
    os.chown(root / "src" / "m.py", 1234, 1234)  # the CLI sends everything as 0:0
    (root / ".dockerignore").write_text(ignore, encoding="utf-8")
    return root


def cli_listing(context: Path, dockerfile_path: Path, buildkit: bool) -> list[str]:
    """What `docker build` (the CLI) puts in /ctx, read from its RUN step's output."""
    iid = context.parent / "iid"
    if buildkit:  # the docker.io 20.10 CLI builds with BuildKit without buildx
        command = ["/usr/bin/docker", "build", "--progress", "plain"]
        env = dict(os.environ, DOCKER_BUILDKIT="1")
    else:
        command = ["docker", "build"]
        env = dict(os.environ, DOCKER_BUILDKIT="0")
    done = subprocess.run([*command, "--network", "none", "--no-cache", "--iidfile", str(iid), "-f",
                           str(dockerfile_path), str(context)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    image_id = iid.read_text().strip()
    iid.unlink()
    subprocess.run(["docker", "rmi", image_id], capture_output=True, check=True)
    out = done.stdout + done.stderr
    if buildkit:
        return sorted(m.group(1) for m in re.finditer(r"^#\d+ [\d.]+ (/ctx.*)$", out, re.M))
    return sorted(line for line in out.splitlines() if line.startswith("/ctx"))


@pytest.fixture
def context_dir():
    root = Path("/tmp") / f"nbd-ctx-{os.getpid()}-{time.monotonic_ns()}"
    root.mkdir()
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("ignore", [IGNORE, IGNORE + ".dockerignore\n"], ids=["plain", "self-listed"])
@pytest.mark.parametrize("builder", BUILDERS)
def test_context_with_dockerignore_matches_the_cli(ip, made, context_dir, builder, ignore):
    ctx = make_context(context_dir / "ctx", ignore)
    outside = context_dir / "Dockerfile"
    outside.write_text(LISTING)
    result = dockerfile(ip, f"--builder {builder} -q --no-cache --context {ctx}", LISTING)
    made.append(result.image_id)
    ours = sorted(line for line in result.log.splitlines() if line.startswith("/ctx"))
    assert result.step_log(result.steps[-1]).splitlines() == ours  # the RUN step's own log
    names = {line.split()[0] for line in ours}
    assert {"/ctx/a.txt", "/ctx/README.md", "/ctx/docs/keep.md", "/ctx/src/keep.pyc"} <= names
    assert not names & {"/ctx/b.md", "/ctx/docs/drop.md", "/ctx/src/m.pyc", "/ctx/#hash", "/ctx/build"}
    classic_cli = cli_listing(ctx, outside, buildkit=False)
    if builder == "classic":
        # Exactly the CLI's, but for the size of the .dockerignore the engine got: the CLI appends
        # its `.dockerfile.<20 hex>` name to it, nbdocker its own (shorter) name.
        assert [_sizeless_ignore(line) for line in ours] == [_sizeless_ignore(line) for line in classic_cli]
        sizes = [int(line.split()[-1]) for listing in (classic_cli, ours)
                 for line in listing if line.startswith("/ctx/.dockerignore ")]
        if sizes:
            assert sizes[0] - sizes[1] == len(".dockerfile.") + 20 - len(CELL_DOCKERFILE)
    else:
        # BuildKit through the API copies the tar whole: the cell's Dockerfile, which the engine
        # reads from the tar, is the one file COPY . cannot be kept from.
        ours_without = [line for line in ours if not line.startswith(f"/ctx/{CELL_DOCKERFILE} ")]
        assert len(ours_without) == len(ours) - 1
        if os.path.exists("/usr/bin/docker"):
            assert ours_without == cli_listing(ctx, outside, buildkit=True)
        # The classic CLI sends its .dockerignore with the Dockerfile's name appended: same files.
        assert [_sizeless_ignore(line) for line in ours_without] == [_sizeless_ignore(line) for line in classic_cli]


def _sizeless_ignore(line: str) -> str:
    return line.rsplit(" ", 1)[0] if line.startswith("/ctx/.dockerignore ") else line


@pytest.mark.parametrize("builder", BUILDERS)
def test_docker_build_with_f_file_and_path(ip, api, made, context_dir, unique, builder):
    (context_dir / "files").mkdir()
    (context_dir / "files" / "hello.txt").write_text(f"hello {unique}\n")
    (context_dir / "sub").mkdir()
    (context_dir / "sub" / "build.df").write_text(
        "FROM busybox\nCOPY files/hello.txt /hello.txt\nRUN cat /hello.txt\n")
    (context_dir / ".dockerignore").write_text("sub\n")  # the Dockerfile is excluded, still sent
    tag = f"{unique}:fromfile"
    result = ip.run_line_magic(
        "docker", f"build --builder {builder} -q -t {tag} -f {context_dir}/sub/build.df {context_dir}")
    made.append(result.image_id)
    assert isinstance(result, BuildResult) and result.ok
    assert api.inspect_image(tag)["Id"] == result.image_id
    assert f"hello {unique}" in result.step_log(result.steps[-1])
    assert [s.lines for s in result.steps] == ["1", "2", "3"]
    # a Dockerfile outside PATH is sent as the CLI sends it
    outside = context_dir.parent / f"{context_dir.name}.df"
    outside.write_text("FROM busybox\nCOPY files/hello.txt /h\nRUN cat /h\n")
    try:
        again = ip.run_line_magic("docker", f"image build --builder {builder} -q -f {outside} {context_dir}")
    finally:
        outside.unlink()
    made.append(again.image_id)
    assert f"hello {unique}" in again.step_log(again.steps[-1])


def test_docker_build_refuses_a_missing_path_or_file(ip, tmp_path):
    with pytest.raises(NbDockerError, match="not a directory"):
        ip.run_line_magic("docker", f"build {tmp_path}/missing")
    with pytest.raises(NbDockerError, match="cannot read the Dockerfile"):
        ip.run_line_magic("docker", f"build {tmp_path}")


def test_a_bad_dockerignore_pattern_is_one_line(ip, context_dir):
    (context_dir / ".dockerignore").write_text("ok\n[\n")
    with pytest.raises(NbDockerError, match=r"\.dockerignore: '\[': syntax error"):
        dockerfile(ip, f"-q --context {context_dir}", "FROM busybox\nCOPY . /x\n")


# ---------------------------------------------------------------- options


@pytest.mark.parametrize("builder", BUILDERS)
def test_build_args_are_used_and_secret_ones_masked_everywhere(ip, api, made, unique, builder, capsys):
    secret = f"s3cr3t-{unique}"
    body = ("FROM busybox\n"
            "ARG GREETING\n"
            "ARG API_TOKEN\n"
            'RUN echo "greeting=$GREETING" && echo "the token is $API_TOKEN" && echo "$API_TOKEN" > /t\n')
    tag = f"{unique}:args"
    result = dockerfile(ip, f"--builder {builder} -t {tag} --build-arg GREETING=hello-{unique} "
                            f"--build-arg API_TOKEN={secret}", body)
    made.append(result.image_id)
    live = capsys.readouterr().out
    log = result.log
    assert f"greeting=hello-{unique}" in log  # the value was used
    assert "the token is ****" in log
    assert any("API_TOKEN" in w and "looks secret" in w for w in result.warnings)
    shown = bundle(result)
    assert set(shown) >= {"text/plain", "text/html"}
    assert "looks secret" in shown["text/plain"] and "looks secret" in shown["text/html"]
    history = result.history
    history_shown = bundle(history)
    cli_history = ip.run_line_magic("docker", f"history --no-trunc {tag}")
    everything = [live, log, shown["text/plain"], shown["text/html"], history_shown["text/plain"],
                  history_shown["text/html"], str(cli_history), bundle(cli_history)["text/html"]]
    for text in everything:
        assert secret not in text
    # ...while the engine does keep it in clear text: what the warning is about
    raw = " ".join(e["CreatedBy"] for e in api.history(tag))
    assert f"API_TOKEN={secret}" in raw


@pytest.mark.parametrize("builder", BUILDERS)
def test_target_builds_that_stage_and_not_the_later_ones(ip, api, made, unique, builder):
    body = ("FROM busybox AS base\n"
            "RUN echo base > /base\n"
            "FROM base AS mid\n"
            f"RUN echo {unique} > /mid\n"
            "FROM mid AS final\n"
            "RUN echo final > /final\n")
    result = dockerfile(ip, f"--builder {builder} -q --target mid -t {unique}:mid", body)
    made.append(result.image_id)
    created_by = " ".join(e["CreatedBy"] for e in api.history(result.image_id))
    assert f"echo {unique} > /mid" in created_by and "echo base > /base" in created_by
    assert "/final" not in created_by
    assert all(s.instruction.line_start <= 4 for s in result.steps)  # nothing of stage "final"
    assert "RUN 4" in {s.instruction.keyword + " " + s.lines for s in result.steps}
    assert result.history.layers[0].instruction.line_start == 4


@pytest.mark.parametrize("builder", BUILDERS)
def test_labels_are_set(ip, api, made, unique, builder):
    result = dockerfile(ip, f"--builder {builder} -q --label org.example.run={unique} --label two=2",
                        "FROM busybox\nLABEL inline=yes\n")
    made.append(result.image_id)
    labels = api.inspect_image(result.image_id)["Config"]["Labels"]
    assert labels["org.example.run"] == unique and labels["two"] == "2" and labels["inline"] == "yes"


def test_out_stores_the_result_even_when_the_build_fails(ip, made, unique):
    result = dockerfile(ip, f"-q --out built_{unique.replace('-', '_')}", "FROM busybox\nRUN true\n")
    made.append(result.image_id)
    assert ip.user_ns[f"built_{unique.replace('-', '_')}"] is result
    name = f"failed_{unique.replace('-', '_')}"
    with pytest.raises(BuildFailed):
        dockerfile(ip, f"-q --out {name}", "FROM busybox\nRUN exit 7\n")
    assert ip.user_ns[name].state == "failed" and ip.user_ns[name].progress.error.exit_code == 7
    with pytest.raises(NbDockerError, match="not a Python variable name"):
        dockerfile(ip, "--out 1x", "FROM busybox\n")


def test_quiet_prints_nothing_while_the_default_shows_steps(ip, made, unique, capsys):
    body = f"FROM busybox\nRUN echo {unique}-quiet\n"
    quiet = dockerfile(ip, "-q --no-cache", body)
    made.append(quiet.image_id)
    assert capsys.readouterr().out == ""
    assert quiet.ok
    loud = dockerfile(ip, "--no-cache", body)
    made.append(loud.image_id)
    out = capsys.readouterr().out
    assert "line 2: " in out and "done" in out


def test_help_prints_usage_and_builds_nothing(ip, capsys):
    assert dockerfile(ip, "-h", "FROM busybox\n") is None
    out = capsys.readouterr().out
    assert "--context" in out and "--build-arg" in out


# ---------------------------------------------------------------- interrupt


@pytest.mark.parametrize("builder", BUILDERS)
def test_interrupt_cancels_the_build_and_leaves_nothing(ip, api, unique, builder):
    marker = f"{unique}-sleeper"
    tag = f"{unique}:interrupted"
    timer = threading.Timer(2, _thread.interrupt_main)
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(BuildCancelled) as caught:
            dockerfile(ip, f"--builder {builder} -q --no-cache -t {tag}",
                       f"FROM busybox\nRUN echo {marker} && sleep 30\n")
    finally:
        timer.cancel()
    took = time.monotonic() - start
    assert 2 <= took < 2 + 3, took
    (rendered,) = caught.value._render_traceback_()
    assert rendered.startswith("build cancelled:")
    # the build container (classic) or runc process (BuildKit) goes with the build
    deadline = time.monotonic() + 3
    while (containers_with(api, marker) or processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert containers_with(api, marker) == [] and processes_with(marker) == []
    assert not tag_exists(api, tag)
    # and the kernel goes on: the next magic and the next build run
    assert ip.run_line_magic("docker", "images -q busybox")
    after = dockerfile(ip, f"--builder {builder} -q", "FROM busybox\n")
    assert after.ok


# ---------------------------------------------------------------- 100,000 lines


class CountingSink:
    """The live view's job each update (render text and HTML of the current view), counted."""

    def __init__(self) -> None:
        self.updates = 0
        self.largest = 0

    def update(self, progress, silent) -> None:
        self.updates += 1
        view = progress.view("running")
        self.largest = max(self.largest, len(views.render_html(view)) + len(views.render_text(view)))

    def finish(self, result) -> None:
        pass


# BuildKit on Engine 20.10 drops a step's output past 200 KiB/s ("[output clipped, log limit
# 200KiB/s reached]"): 100,000 lines of `seq` are 589 KB, so they are printed over four seconds.
MANY_LINES = {
    "classic": "RUN seq 1 100000",
    "buildkit": "RUN for i in 0 1 2 3; do seq $((i * 25000 + 1)) $((i * 25000 + 25000)); sleep 1; done",
}


@pytest.mark.parametrize("builder", BUILDERS)
def test_a_100000_line_build_keeps_memory_and_updates_bounded(ip, made, monkeypatch, builder):
    sinks: list[CountingSink] = []
    monkeypatch.setattr(nbdocker.build.command, "_sink", lambda session, quiet: sinks.append(CountingSink()) or sinks[-1])
    started_tracing = not tracemalloc.is_tracing()
    if started_tracing:
        tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        start = time.monotonic()
        result = dockerfile(ip, f"--builder {builder} --no-cache", f"FROM busybox\n{MANY_LINES[builder]}\n")
        duration = time.monotonic() - start
        growth = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        if started_tracing:
            tracemalloc.stop()
    made.append(result.image_id)
    print(f"\n{builder}: 100,000 lines in {duration:.1f} s, peak memory growth {growth / 1e6:.1f} MB, "
          f"{sinks[0].updates} live updates, largest update {sinks[0].largest / 1e3:.0f} kB")
    assert growth < 25e6  # half the 50 MB budget
    lines = result.step_log(result.steps[-1]).splitlines()
    assert len(lines) == 100_000 and lines == [str(i) for i in range(1, 100_001)]
    assert result.log.count("\n") >= 100_000
    (sink,) = sinks
    assert 1 <= sink.updates <= nbdocker.build.command.UPDATES_PER_SECOND * duration + 3
    assert sink.largest < 100e3  # each update carries log tails, never the whole log


# ---------------------------------------------------------------- --lint, --explain, lint warnings


LINTED = "FROM busybox:latest\nRUN cd /tmp && echo hi > f\nWORKDIR tmp\n"


def test_lint_only_lints_and_never_reaches_the_engine(ip, nowhere):
    report = dockerfile(ip, "--lint", LINTED)
    found = {(f.code, f.line) for f in report.findings}
    assert {("DL3007", 1), ("WorkdirRelativePath", 3)} <= found
    assert "DL3007" in str(report)


@pytest.mark.parametrize("builder", BUILDERS)
def test_a_build_shows_lint_findings_as_warnings_and_succeeds(ip, made, unique, builder):
    with capture_output():
        result = dockerfile(ip, f"-q --builder {builder} -t {unique}:lint", LINTED)
    made.append(result.image_id)
    assert result.ok
    assert any(w.startswith("line 1: DL3007") for w in result.warnings)
    assert any(w.startswith("line 3: WorkdirRelativePath") for w in result.warnings)


def test_explain_says_what_each_line_made_and_names_the_trap(ip, made, unique):
    body = "FROM busybox\nRUN head -c 300000 /dev/zero > /big\nRUN rm /big\nCMD [\"true\"]\n"
    with capture_output() as captured:
        result = dockerfile(ip, f"-q --explain --builder classic -t {unique}:explain", body)
    made.append(result.image_id)
    (shown,) = [o.data["text/plain"] for o in captured.outputs if "line 2" in o.data["text/plain"]]
    assert "line 2" in shown and "line 3" in shown and "line 4" in shown
    assert "freed nothing" in shown or "frees nothing" in shown
