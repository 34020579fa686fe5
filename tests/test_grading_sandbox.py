"""Engine operations for grading (nbdocker.engine.sandbox) against the real engine."""
from __future__ import annotations

import pytest

from nbdocker.engine import sandbox
from nbdocker.engine.client import Engine

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def box():
    eng = Engine()
    run_id = sandbox.new_run_id()
    eng.run_id = run_id
    yield eng
    # Nothing of ours may be left, whatever a test did.
    assert sandbox.remove_labelled(eng, run_id) == 0
    eng.close()


def test_command_outcome_and_streams(box):
    run = sandbox.run_command(box, "busybox:latest", ["sh", "-c", "echo out; echo err >&2; exit 3"],
                              run_id=box.run_id)
    assert (run.exit_code, run.stdout, run.stderr, run.timed_out) == (3, "out\n", "err\n", False)


def test_command_has_no_network_and_limits(box):
    run = sandbox.run_command(box, "busybox:latest",
                              ["sh", "-c", "ls /sys/class/net; cat /sys/fs/cgroup/pids/pids.max"],
                              run_id=box.run_id, limits=sandbox.Limits(pids=32))
    assert run.stdout.split() == ["lo", "32"]


def test_endless_command_is_killed_at_its_timeout(box):
    run = sandbox.run_command(box, "busybox:latest", ["sh", "-c", "while :; do :; done"],
                              run_id=box.run_id, limits=sandbox.Limits(timeout=1))
    assert run.timed_out


def test_fork_bomb_stops_at_the_pids_limit(box):
    run = sandbox.run_command(box, "busybox:latest",
                              ["sh", "-c", "for i in $(seq 200); do sleep 5 & done; wait"],
                              run_id=box.run_id, limits=sandbox.Limits(pids=16, timeout=20))
    assert "can't fork" in run.stderr or "Resource temporarily unavailable" in run.stderr


def test_files_are_read_from_an_unstarted_container(box):
    with sandbox.file_reader(box, "busybox:latest", box.run_id) as files:
        link = files.stat("/bin/sh")
        root = files.stat("/")  # a directory's archive is its whole tree: only the header is read
        missing = files.stat("/no/such/file")
        busybox = files.read("/bin/sh", max_bytes=4)
    assert (link.kind, link.link_target, link.mode) == ("symlink", "busybox", 0o777)
    assert (root.kind, root.uid, root.gid) == ("dir", 0, 0)
    assert missing is None
    assert busybox.content == b"\x7fELF" and busybox.truncated and busybox.kind == "file"
