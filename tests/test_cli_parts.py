"""The CLI parts users expect (issue 11): `run -d`, `logs -f`, `push -a`, `system prune`.

Pure parts first (parsers, coalescing, the per-tag push model, the prune plan), then through a real
shell against the real engine and the open registry on 127.0.0.1:5000. Every container and image
is named with the test's `unique` prefix and removed afterwards; `system prune` runs only with a
label filter unique to the test, so nothing another test or engineer made can match.
"""
from __future__ import annotations

import _thread
import io
import sys
import threading

import pytest

from conftest import docker_cli
from nbdocker import cli
from nbdocker.commands import containers
from nbdocker.commands.containers import CoalescedOutput, DetachedRun, LogsInterrupted
from nbdocker.errors import CommandFailed, EngineError, UsageError
from nbdocker.magics import COMMANDS
from nbdocker.views import render as views
from test_views import EVIL, assert_script_free


def parse(line: str):
    return COMMANDS.parser.parse_args(cli.split_line(line))


# ---------------------------------------------------------------- run -d / logs -f (pure)


@pytest.mark.parametrize("line", ["run -d --rm --name n -e A=1 busybox sleep 5",
                                  "container run --detach --rm --name n -e A=1 busybox sleep 5"])
def test_run_d_flags(line):
    a = parse(line)
    assert (a.detach, a.rm, a.name, a.env, a.image, a.command) == \
        (True, True, "n", ["A=1"], "busybox", ["sleep", "5"])


def test_logs_f_flags():
    a = parse("logs -f -t --tail 3 c")
    assert (a.follow, a.timestamps, a.tail, a.container) == (True, True, "3", "c")
    assert parse("container logs --follow c").follow


@pytest.mark.parametrize("tail, lines", [(None, None), ("all", None), ("0", 0), ("5", 5), ("-1", None)])
def test_tail_values(tail, lines):
    assert containers.tail_lines(tail) == lines


def test_a_bad_tail_is_a_usage_error():
    with pytest.raises(UsageError, match="--tail 'x'"):
        containers.tail_lines("x")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_coalesced_output_writes_at_most_once_per_interval_in_arrival_order(monkeypatch):
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    clock = FakeClock()
    output = CoalescedOutput(interval=0.1, clock=clock)
    output.add(1, "a\n")  # the first piece goes at once
    for i in range(1000):  # a flood within one interval is held back
        output.add(1 if i % 2 else 2, f"{i}\n")
    assert output.writes == 1 and out.getvalue() == "a\n" and err.getvalue() == ""
    clock.now = 0.05
    output.tick()
    assert output.writes == 1
    clock.now = 0.1
    output.tick()
    assert output.writes == 2
    assert out.getvalue() == "a\n" + "".join(f"{i}\n" for i in range(1, 1000, 2))
    assert err.getvalue() == "".join(f"{i}\n" for i in range(0, 1000, 2))
    output.flush()  # nothing pending: no write
    assert output.writes == 2


def test_detached_run_is_its_id_in_every_form():
    r = DetachedRun("c" * 64, EVIL, EVIL, notes=[EVIL])
    assert str(r) == "c" * 64
    bundle = r._repr_mimebundle_()
    assert bundle["text/plain"] == "c" * 64
    assert_script_free(bundle["text/html"], "c" * 64)


# ---------------------------------------------------------------- run -d (real engine)


def _state(api, name: str) -> dict | None:
    found = api.containers(all=True, filters={"name": f"^/{name}$"})
    return api.inspect_container(found[0]["Id"])["State"] if found else None


def test_run_d_prints_the_id_and_leaves_the_container_running(ip, engine, unique):
    try:
        r = ip.run_line_magic("docker", f"run -d --name {unique} -e GREETING=hi busybox "
                                        "sh -c 'echo $GREETING; exec sleep 60'")
        assert isinstance(r, DetachedRun)
        info = engine.inspect_container(unique)
        assert r.container_id == info["Id"] and str(r) == info["Id"] and r.name == unique
        assert info["State"]["Running"] and not info["HostConfig"]["AutoRemove"]
        # `$(docker run -d …)` gives the id, as in a shell
        ids = ip.run_line_magic("docker", f"ps -q --no-trunc --filter name=^/{unique}$")
        assert list(ids) == [r.container_id]
    finally:
        docker_cli("rm", "-f", unique, check=False)


def test_run_d_rm_lets_the_engine_remove_the_container_when_it_exits(ip, engine, unique):
    r = ip.run_line_magic("docker", f"run -d --rm --name {unique} busybox sh -c 'exec sleep 60'")
    try:
        assert engine.inspect_container(r.container_id)["HostConfig"]["AutoRemove"] is True
        assert r.auto_remove
    finally:
        # The engine removes it on exit: stop it, then wait for the removal (no sleep: the
        # engine's own wait condition answers when the container is gone).
        engine.stop(r.container_id, timeout=1)
        try:
            engine.wait(r.container_id, timeout=30, condition="removed")
        except Exception:  # noqa: BLE001 - already gone before the wait began
            pass
    assert _state(engine, unique) is None


def test_run_d_of_a_command_that_cannot_start_is_one_line(ip, engine, unique):
    with pytest.raises(CommandFailed) as info:
        ip.run_line_magic("docker", f"run -d --rm --name {unique} busybox no-such-program")
    assert "no-such-program" in str(info.value) and "127" in str(info.value)
    assert info.value._render_traceback_() == [f"docker: {info.value}"]
    assert _state(engine, unique) is None


# ---------------------------------------------------------------- logs -f (real engine)


def test_logs_f_streams_both_streams_until_the_container_exits(ip, engine, unique, capsys):
    docker_cli("run", "-d", "--network", "none", "--name", unique, "busybox", "sh", "-c",
               "echo o1; echo e1 >&2; sleep 1; echo o2; printf 'h\\303\\251llo\\n'")
    try:
        assert ip.run_line_magic("docker", f"logs -f {unique}") is None
        out, err = capsys.readouterr()
        assert out == "o1\no2\nhéllo\n" and err == "e1\n"
        assert _state(engine, unique)["Status"] == "exited"
        ip.run_line_magic("docker", f"logs -f --tail 1 -t {unique}")
        out, err = capsys.readouterr()
        assert out.endswith("Z héllo\n") and out.count("\n") == 1 and err == ""
    finally:
        docker_cli("rm", "-f", unique, check=False)


class InterruptOn(io.StringIO):
    """A stdout that interrupts the main thread once `marker` was written (as Ctrl-C would)."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker, self.fired = marker, False

    def write(self, text: str) -> int:
        n = super().write(text)
        if not self.fired and self.marker in self.getvalue():
            self.fired = True
            _thread.interrupt_main()
        return n


def test_interrupting_logs_f_stops_following_and_never_the_container(ip, engine, unique, monkeypatch):
    docker_cli("run", "-d", "--network", "none", "--name", unique, "busybox", "sh", "-c",
               "echo started; exec sleep 60")
    try:
        out = InterruptOn("started\n")
        monkeypatch.setattr(sys, "stdout", out)
        with pytest.raises(LogsInterrupted) as info:
            ip.run_line_magic("docker", f"logs -f {unique}")
        monkeypatch.undo()
        assert info.value._render_traceback_() == [
            f"interrupted: stopped following the logs of {unique}; the container keeps running"]
        assert out.getvalue() == "started\n"
        assert _state(engine, unique)["Running"]
        readers = [t for t in threading.enumerate() if t.name == f"nbdocker-logs-{unique}"]
        for t in readers:  # the connection was shut: the reader ends without more output
            t.join(10)
        assert not any(t.is_alive() for t in readers)
    finally:
        docker_cli("rm", "-f", unique, check=False)


def test_logs_f_of_a_missing_container_is_one_line(ip, engine, unique):
    with pytest.raises(EngineError) as info:
        ip.run_line_magic("docker", f"logs -f {unique}-missing")
    assert str(info.value) == f"No such container: {unique}-missing"
