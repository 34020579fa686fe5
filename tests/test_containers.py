"""`%docker run / ps / rm / logs`: pure parts first, then through a real shell on the real engine.

Every container is named with the test's `unique` prefix (conftest removes leftovers); only
`busybox:latest` is used as an image and it is never modified.
"""
from __future__ import annotations

import _thread
import threading
import time

import pytest

from conftest import docker_cli
from nbdocker import cli
from nbdocker.magics import COMMANDS
from nbdocker.commands import containers
from nbdocker.commands.containers import ContainerList, ContainerRemovals, RunInterrupted, RunResult, StreamTail
from nbdocker.errors import CommandFailed, EngineError, UsageError
from nbdocker.views.results import IdList
from nbdocker.views import render as views
from test_views import EVIL, assert_script_free

# ---------------------------------------------------------------- parsing (pure)


def parse(line: str):
    return COMMANDS.parser.parse_args(cli.split_line(line))


def test_run_flags_before_the_image_and_the_command_after_it_untouched():
    a = parse("run --rm --name n -e A=1 -e B -w /tmp --entrypoint sh -u nobody --network none "
              "busybox grep -i -e x --rm")
    assert (a.rm, a.name, a.env, a.workdir, a.entrypoint, a.user, a.network) == \
        (True, "n", ["A=1", "B"], "/tmp", "sh", "nobody", "none")
    assert a.image == "busybox"
    assert a.command == ["grep", "-i", "-e", "x", "--rm"]  # the command's own flags pass through


@pytest.mark.parametrize("flags", ["-it", "-ti", "-i -t", "--interactive --tty"])
def test_interactive_and_tty_are_accepted(flags):
    a = parse(f"run {flags} busybox sh")
    assert a.interactive and a.tty and a.command == ["sh"]


def test_run_without_a_command_uses_the_image_default():
    assert parse("run busybox").command == []


@pytest.mark.parametrize("line", ["ps", "container ls", "container ps", "container list"])
def test_ps_flags(line):
    a = parse(f"{line} -a -q --no-trunc -f name=x")
    assert (a.all, a.quiet, a.no_trunc, a.filter) == (True, True, True, ["name=x"])


@pytest.mark.parametrize("line", ["rm", "container rm"])
def test_rm_flags(line):
    a = parse(f"{line} -f a b")
    assert a.force and a.containers == ["a", "b"]


def test_logs_flags():
    a = parse("logs -t --tail 5 c")
    assert a.timestamps and a.tail == "5" and a.container == "c"


def test_parse_env_takes_a_bare_key_from_the_kernel_environment():
    env = containers.parse_env(["A=1", "B=", "C", "MISSING"], environ={"C": "from-kernel"})
    assert env == {"A": "1", "B": "", "C": "from-kernel"}
    with pytest.raises(UsageError):
        containers.parse_env(["=x"])


def test_start_failures_lose_the_runtime_preamble_and_get_the_cli_exit_codes():
    message = ('failed to create shim task: OCI runtime create failed: runc create failed: unable to '
               'start container process: exec: "nope": executable file not found in $PATH: unknown')
    assert containers.start_failure(message) == ('exec: "nope": executable file not found in $PATH', 127)
    assert containers.start_failure("exec: permission denied")[1] == 126
    assert containers.start_failure("something else")[1] == 125


# ---------------------------------------------------------------- output capture (pure)


def test_stream_tail_decodes_characters_split_across_chunks():
    tail = StreamTail()
    data = "héllo wörld\n".encode()
    printed = "".join(tail.feed(data[i:i + 1]) for i in range(len(data))) + tail.finish()
    assert printed == tail.text == "héllo wörld\n"


def test_stream_tail_keeps_the_last_lines_and_counts_the_rest():
    tail = StreamTail(limit=3)
    tail.feed(b"1\n2\n3\n4\n5")
    tail.finish()
    assert tail.dropped == 2 and tail.text == "3\n4\n5"  # the unfinished last line is kept too


def test_merge_logs_puts_both_streams_in_time_order_without_timestamps():
    out = b"2024-01-01T00:00:00.1Z o1\n2024-01-01T00:00:00.300000001Z o2\n"
    err = b"2024-01-01T00:00:00.2Z e1\n2024-01-01T00:00:01Z e2\n"
    assert containers.merge_logs(out, err) == [(1, "o1\n"), (2, "e1\n"), (1, "o2\n"), (2, "e2\n")]
    stamped = containers.merge_logs(out, b"", timestamps=True)
    assert stamped[0] == (1, "2024-01-01T00:00:00.1Z o1\n")


# ---------------------------------------------------------------- ps rows and views (pure)

PS_ENTRY = {
    "Id": "b188ac4c72a5315d4fa81be2cad931985f13c60a95bc9a5dcc8fa1b022d4caf6",
    "Names": ["/web", "/other/alias"], "Image": "busybox",
    "ImageID": "sha256:ae12487c27f97a2598daef5e2bdb68bc9ccea427a802fe62d8fe316a42ee38d7",
    "Command": "sh -c 'echo a long command line here'", "Created": 0, "State": "running",
    "Status": "Up 2 seconds",
    "Ports": [{"PrivatePort": 80, "Type": "tcp", "PublicPort": 8080, "IP": "0.0.0.0"},
              {"PrivatePort": 443, "Type": "tcp"}],
}


def test_ps_row_is_formatted_like_the_cli():
    row = containers.container_row(PS_ENTRY)
    assert row["id"] == "b188ac4c72a5"
    assert row["command"] == '"sh -c \'echo a long …"'  # 19 characters and …, quoted like Go
    assert row["names"] == "web"
    assert row["ports"] == "0.0.0.0:8080->80/tcp, 443/tcp"
    full = containers.container_row(PS_ENTRY, no_trunc=True)
    assert full["id"] == PS_ENTRY["Id"] and full["names"] == "web,other/alias"
    assert full["command"] == '"sh -c \'echo a long command line here\'"'


def test_ps_image_column_shortens_ids_and_drops_digests():
    assert containers.display_image("sha256:" + "a" * 64, "sha256:" + "a" * 64, False) == "a" * 12
    assert containers.display_image("x/y@sha256:" + "b" * 64, "", False) == "x/y"
    assert containers.display_image("", "", False) == "<no image>"


def test_ps_and_run_views_escape_engine_strings():
    evil = dict(PS_ENTRY, Names=[f"/{EVIL}"], Image=EVIL, Command=EVIL, Status=EVIL)
    html = views.render_html(ContainerList([evil], no_trunc=True).view())
    assert_script_free(html)
    run = RunResult("c" * 64, EVIL, EVIL, exit_code=1, notes=[EVIL])
    assert_script_free(views.render_html(run.view()))


# ---------------------------------------------------------------- run (real engine)


def _gone(api, name: str) -> bool:
    return not api.containers(all=True, filters={"name": f"^/{name}$"})


def test_run_streams_stdout_and_stderr_apart_and_returns_the_result(ip, engine, unique, capsys):
    r = ip.run_line_magic("docker", f"run --rm --name {unique} busybox sh -c "
                                    "'echo out1; echo err1 >&2; echo out2; printf héllo'")
    out, err = capsys.readouterr()
    assert "out1\nout2\nhéllo" in out and "err1" not in out
    assert "err1\n" in err and "out1" not in err
    assert isinstance(r, RunResult)
    assert (r.exit_code, r.stdout, r.stderr, r.name) == (0, "out1\nout2\nhéllo", "err1\n", unique)
    assert len(r.container_id) == 64 and r.removed
    assert _gone(engine, unique)
    text = str(r)
    assert f"container {unique}" in text and "exited with code 0" in text


def test_run_without_a_network_flag_uses_none_on_an_engine_without_bridge(ip, engine, unique, capsys):
    r = ip.run_line_magic("docker", f"run --rm --name {unique} busybox cat /proc/net/dev")
    assert "eth0" not in r.stdout and "lo:" in r.stdout  # network none: loopback only
    assert any("network: none" in n for n in r.notes)
    assert "network" not in capsys.readouterr().out  # a note on the result, nothing printed


def test_run_passes_env_workdir_user_and_entrypoint(ip, engine, unique):
    r = ip.run_line_magic("docker", f"run --rm --name {unique} -e A=1 -e 'B=two words' -w /tmp "
                                    "-u nobody --entrypoint sh busybox -c 'echo $A $B; pwd; id -u'")
    assert r.stdout == "1 two words\n/tmp\n65534\n"


def test_non_zero_exit_fails_the_cell_naming_the_code(ip, engine, unique, capsys):
    with pytest.raises(CommandFailed) as info:
        ip.run_line_magic("docker", f"run --rm --name {unique} busybox sh -c 'echo partial; exit 3'")
    assert "exited with code 3" in str(info.value) and unique in str(info.value)
    assert info.value._render_traceback_() == [f"docker: {info.value}"]
    result = info.value.result
    assert result.exit_code == 3 and result.stdout == "partial\n" and result.removed
    assert "partial" in capsys.readouterr().out
    assert _gone(engine, unique)


def test_a_command_that_cannot_start_fails_with_127_and_is_removed(ip, engine, unique):
    with pytest.raises(CommandFailed) as info:
        ip.run_line_magic("docker", f"run --rm --name {unique} busybox no-such-program")
    message = str(info.value)
    assert 'exec: "no-such-program": executable file not found' in message and "127" in message
    assert "\n" not in message and "shim" not in message
    assert info.value.result.exit_code == 127
    assert _gone(engine, unique)


def test_without_rm_the_container_stays_like_the_cli(ip, engine, unique):
    r = ip.run_line_magic("docker", f"run --name {unique} busybox true")
    assert not r.removed
    state = engine.inspect_container(unique)["State"]
    assert state["Status"] == "exited" and state["ExitCode"] == 0
    engine.remove_container(unique)


def test_it_is_accepted_with_one_note(ip, engine, unique, capsys):
    r = ip.run_line_magic("docker", f"run --rm -it --name {unique} busybox sh -c 'test -t 0 || echo no-tty'")
    out = capsys.readouterr().out
    assert out.count("note:") == 1 and "no terminal" in out and "stdin closed" in out
    assert r.stdout == "no-tty\n"


def test_output_is_kept_bounded_but_shown_whole(ip, engine, unique, capfd):
    r = ip.run_line_magic("docker", f"run --rm --name {unique} busybox seq 1 10050")
    lines = r.stdout.splitlines()
    assert len(lines) == containers.KEEP_LINES and lines[0] == "51" and lines[-1] == "10050"
    assert r.lines_dropped == 50
    shown = capfd.readouterr().out
    assert "\n1\n" in "\n" + shown and "10050" in shown
    assert "50 earlier output lines" in str(r)


def test_a_missing_image_is_a_one_line_error(ip, engine, unique):
    with pytest.raises(Exception) as info:
        ip.run_line_magic("docker", f"run --rm --name {unique} 127.0.0.1:5999/{unique}/nothing:1 true")
    assert "\n" not in str(info.value)
    assert _gone(engine, unique)


def _interrupt_when_running(api, name: str, delay: float = 0.5) -> threading.Thread:
    """Deliver KeyboardInterrupt to the main thread once the container runs (not before: pytest
    itself would be interrupted)."""

    def watch() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if api.containers(filters={"name": f"^/{name}$", "status": "running"}):
                time.sleep(delay)
                _thread.interrupt_main()
                return
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("rm", [True, False])
def test_interrupt_stops_the_container_and_the_kernel_stays_usable(ip, engine, unique, rm):
    watcher = _interrupt_when_running(engine, unique)
    started = time.monotonic()
    with pytest.raises(RunInterrupted) as info:
        ip.run_line_magic("docker", f"run {'--rm ' if rm else ''}--name {unique} busybox "
                                    "sh -c 'echo before; exec sleep 30'")
    took = time.monotonic() - started
    watcher.join(5)
    assert took < 10  # well before `sleep 30` ends: stop takes at most about a second
    message = info.value._render_traceback_()
    assert len(message) == 1 and message[0].startswith(f"interrupted: container {unique}")
    assert info.value.result.stdout == "before\n"  # what was printed before the interrupt is kept
    if rm:
        assert message[0].endswith("stopped and removed")
        assert _gone(engine, unique)
    else:
        assert message[0].endswith("stopped")
        assert engine.inspect_container(unique)["State"]["Status"] == "exited"
        engine.remove_container(unique)
    # The shell runs the next magic normally.
    again = ip.run_line_magic("docker", f"run --rm --name {unique}-after busybox echo again")
    assert again.stdout == "again\n"


# ---------------------------------------------------------------- ps / rm / logs (real engine)


@pytest.fixture
def sleeper(engine, unique):
    """A running container (made with the docker CLI), removed after the test."""
    docker_cli("run", "-d", "--network", "none", "--name", unique, "busybox", "sleep", "60")
    yield unique
    docker_cli("rm", "-f", unique, check=False)


def test_ps_lists_running_containers_like_the_cli(ip, sleeper):
    r = ip.run_line_magic("docker", f"ps --filter name={sleeper}")
    assert isinstance(r, ContainerList)
    [row] = r.view().rows
    assert row["names"] == sleeper and row["image"] == "busybox" and row["command"] == '"sleep 60"'
    assert row["status"].startswith("Up")
    text = str(r)
    ours = text.splitlines()[0].split()
    cli_header = docker_cli("ps", "--filter", f"name={sleeper}").stdout.splitlines()[0]
    assert ours == cli_header.split()  # CONTAINER ID IMAGE COMMAND CREATED STATUS PORTS NAMES
    cli_row = docker_cli("ps", "--filter", f"name={sleeper}").stdout.splitlines()[1]
    assert cli_row.split()[:4] == text.splitlines()[1].split()[:4]  # id, image, "sleep 60"


def test_ps_q_returns_ids_and_a_includes_stopped(ip, engine, sleeper, unique):
    stopped = f"{unique}-stopped"
    docker_cli("run", "--network", "none", "--name", stopped, "busybox", "true")
    try:
        ids = ip.run_line_magic("docker", f"ps -q --filter name={unique}")
        assert isinstance(ids, IdList)
        running_id = engine.inspect_container(sleeper)["Id"]
        stopped_id = engine.inspect_container(stopped)["Id"]
        assert ids == [running_id[:12]]
        every = ip.run_line_magic("docker", f"ps -a -q --no-trunc --filter name={unique}")
        assert set(every) == {running_id, stopped_id}
        table = ip.run_line_magic("docker", f"ps -a --filter name={unique}")
        assert {row["names"] for row in table.view().rows} == {sleeper, stopped}
    finally:
        docker_cli("rm", "-f", stopped, check=False)


def test_rm_refuses_a_running_container_and_says_use_f(ip, engine, sleeper):
    with pytest.raises(CommandFailed) as info:
        ip.run_line_magic("docker", f"rm {sleeper}")
    report = info.value.result
    assert isinstance(report, ContainerRemovals) and not report.ok
    assert f"rm -f {sleeper}" in report.errors[sleeper] and "is running" in report.errors[sleeper]
    assert not _gone(engine, sleeper)
    done = ip.run_line_magic("docker", f"rm -f {sleeper}")
    assert done.removed == [sleeper] and str(done) == sleeper
    assert _gone(engine, sleeper)


def test_rm_reports_each_argument_and_fails_if_any_failed(ip, engine, unique):
    docker_cli("create", "--network", "none", "--name", unique, "busybox", "true")
    with pytest.raises(CommandFailed) as info:
        ip.run_line_magic("docker", f"rm {unique} {unique}-missing")
    report = info.value.result
    assert report.removed == [unique]
    assert report.errors == {f"{unique}-missing": f"No such container: {unique}-missing"}
    assert "could not remove" in str(info.value) and "\n" not in str(info.value)
    assert _gone(engine, unique)


def test_logs_prints_stdout_and_stderr_to_their_streams(ip, engine, unique, capsys):
    docker_cli("run", "--network", "none", "--name", unique, "busybox", "sh", "-c",
               "echo o1; sleep 0.1; echo e1 >&2; sleep 0.1; echo o2")
    try:
        assert ip.run_line_magic("docker", f"logs {unique}") is None
        out, err = capsys.readouterr()
        assert out == "o1\no2\n" and err == "e1\n"
        ip.run_line_magic("docker", f"logs --tail 1 {unique}")
        out, err = capsys.readouterr()
        assert out + err == "o2\n"
        ip.run_line_magic("docker", f"logs -t {unique}")
        out, _ = capsys.readouterr()
        assert out.splitlines()[0].endswith("Z o1")
    finally:
        docker_cli("rm", "-f", unique, check=False)


def test_logs_of_a_missing_container_is_one_line(ip, engine, unique):
    with pytest.raises(EngineError) as info:
        ip.run_line_magic("docker", f"logs {unique}-missing")
    assert str(info.value) == f"No such container: {unique}-missing"


def test_a_broken_output_stream_is_an_nbdocker_error():
    class SocketError(Exception):  # what the SDK raises on a short read: not a DockerException
        pass

    result = RunResult("c" * 64, "box", "busybox")
    engine = containers.Engine("unix:///x", timeout=5.0)  # never contacted
    with pytest.raises(EngineError, match="lost the output of container box: Unexpected EOF"):
        containers._raise_stream_error(engine, result, SocketError("Unexpected EOF"))
    with pytest.raises(containers.NbDockerError, match="cannot reach the engine"):
        containers._raise_stream_error(engine, result, ConnectionRefusedError())
