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


# ---------------------------------------------------------------- push -a (pure)

OPEN = "127.0.0.1:5000"
D1 = "sha256:97e66ec71cfac5d46b16e9a561802c24203451cee03e094c0d0b5357046cfdd9"
D2 = "sha256:" + "1" * 64
# Recorded from Engine 20.10 pushing two tags (`a`, then `b`) in one stream (progress ticks left out).
PUSH_ALL_STREAM = [
    {"status": "The push refers to repository [127.0.0.1:5000/nbdprobe/z]"},
    {"status": "Preparing", "progressDetail": {}, "id": "49f36654f69b"},
    {"status": "Preparing", "progressDetail": {}, "id": "ee7f708866f4"},
    {"status": "Mounted from nbdprobe/docker", "progressDetail": {}, "id": "ee7f708866f4"},
    {"status": "Pushing", "progressDetail": {"current": 512, "total": 1024}, "id": "49f36654f69b"},
    {"status": "Pushed", "progressDetail": {}, "id": "49f36654f69b"},
    {"status": f"a: digest: {D1} size: 735"},
    {"progressDetail": {}, "aux": {"Tag": "a", "Digest": D1, "Size": 735}},
    {"status": "Preparing", "progressDetail": {}, "id": "ee7f708866f4"},
    {"status": "Layer already exists", "progressDetail": {}, "id": "ee7f708866f4"},
    {"status": f"b: digest: {D2} size: 527"},
    {"progressDetail": {}, "aux": {"Tag": "b", "Digest": D2, "Size": 527}},
]


def test_push_all_tags_parses_a_and_all_tags():
    for line in ("push -a r/x", "push --all-tags r/x", "image push -a r/x"):
        a = parse(line)
        assert a.all_tags and a.name == "r/x"
    assert not parse("push r/x:1").all_tags


def test_an_all_tags_stream_gives_each_tag_its_digest_and_its_layers():
    from nbdocker.commands.registry import Transfer, render_transfer_html, render_transfer_text

    t = Transfer("push", "127.0.0.1:5000/nbdprobe/z", per_tag=True, expected_tags=2)
    t.feed(PUSH_ALL_STREAM[0])
    t.feed(PUSH_ALL_STREAM[1])
    assert "tag 1 of 2" in t.summary()
    printed = [line for m in PUSH_ALL_STREAM[2:] for line in t.feed(m)]
    t.finish()
    assert [(p.tag, p.digest, p.size) for p in t.tags] == [("a", D1, 735), ("b", D2, 527)]
    assert [(l.id, l.status) for l in t.tags[0].layers] == [
        ("49f36654f69b", "Pushed"), ("ee7f708866f4", "Mounted from nbdprobe/docker")]
    assert [(l.id, l.status) for l in t.tags[1].layers] == [("ee7f708866f4", "Layer already exists")]
    assert f"a: digest: {D1} size: 735" in printed and f"b: digest: {D2} size: 527" in printed
    assert t.summary() == "push 127.0.0.1:5000/nbdprobe/z: done — 2 tags"
    text = render_transfer_text(t)
    assert f"a: digest: {D1} size: 735" in text and f"b: digest: {D2} size: 527" in text
    assert_script_free(render_transfer_html(t), D2)


def test_an_all_tags_stream_that_fails_in_the_second_tag_keeps_the_first():
    from nbdocker.commands.registry import Transfer

    t = Transfer("push", "r", per_tag=True, expected_tags=2)
    for m in PUSH_ALL_STREAM[:8] + [{"errorDetail": {"message": EVIL}, "error": EVIL}]:
        t.feed(m)
    assert [p.tag for p in t.tags] == ["a"] and t.state == "failed" and t.error == " ".join(EVIL.split())


# ---------------------------------------------------------------- push -a (real registry)


@pytest.fixture
def no_credentials(tmp_path, monkeypatch):
    """No credentials from this machine's docker config (the open registry needs none)."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))


def _manifest_digest(repository: str, tag: str) -> str | None:
    """The digest the registry serves for repository:tag (None when it has no such tag)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"http://{OPEN}/v2/{repository}/manifests/{tag}", method="HEAD",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers["Docker-Content-Digest"]
    except urllib.error.HTTPError as err:
        if err.code == 404:
            return None
        raise


def test_push_a_pushes_every_tag_of_the_repository_and_nothing_else(ip, api, unique, capsys,
                                                                   no_credentials):
    from test_registry import build_unique

    repo = f"{OPEN}/{unique}/all"
    made = [f"{repo}:a", f"{repo}:b", f"{repo}:c", f"{OPEN}/{unique}/other:x"]
    try:
        build_unique(api, made[0])
        api.tag(made[0], repo, "b")
        api.tag("busybox:latest", repo, "c")  # another image: its own digest
        api.tag(made[0], f"{OPEN}/{unique}/other", "x")  # another repository: not pushed
        r = ip.run_line_magic("docker", f"push -a {repo}")
        assert [t.tag for t in r.tags] == ["a", "b", "c"]
        assert r.digests["a"] == r.digests["b"] != r.digests["c"]
        for pushed in r.tags:  # each tag: its progress finished, its digest what the registry serves
            assert pushed.layers and all(layer.done for layer in pushed.layers)
            assert _manifest_digest(f"{unique}/all", pushed.tag) == pushed.digest
        assert _manifest_digest(f"{unique}/other", "x") is None
        out = capsys.readouterr().out
        for tag, digest in r.digests.items():
            assert f"{tag}: digest: {digest}" in out and f"{tag}: digest: {digest}" in str(r)
    finally:
        for ref in made:
            docker_cli("rmi", ref, check=False)


def test_push_a_with_a_tag_or_without_any_tag_is_one_line(ip, engine, unique, no_credentials):
    from nbdocker.commands.registry import TransferFailed

    with pytest.raises(UsageError, match="tag can't be used with --all-tags/-a"):
        ip.run_line_magic("docker", f"push -a {OPEN}/{unique}/x:1")
    with pytest.raises(TransferFailed) as info:
        ip.run_line_magic("docker", f"push --all-tags {OPEN}/{unique}/nothing")
    assert info.value._render_traceback_() == [f"push failed: {OPEN}/{unique}/nothing: no tag of this "
                                               "repository is here (tag an image with that name first: "
                                               "%docker tag IMAGE NAME:TAG)"]
