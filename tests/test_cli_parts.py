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
from nbdocker.commands import containers, system
from nbdocker.commands.containers import CoalescedOutput, DetachedRun, LogsInterrupted
from nbdocker.commands.system import SystemPrunePlan, SystemPruneReport
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


# ---------------------------------------------------------------- system prune (pure)

NOW = 1_800_000_000.0


def _container(cid, state, labels=None, image_id="sha256:used", created=NOW - 3600, volumes=()):
    return {"Id": cid, "Names": [f"/{cid}"], "State": state, "Status": state, "Image": "img",
            "ImageID": image_id, "Labels": labels or {}, "Created": created,
            "Mounts": [{"Type": "volume", "Name": v} for v in volumes]}


def _image(iid, tags=None, labels=None, created=NOW - 3600):
    return {"Id": iid, "RepoTags": tags or ["<none>:<none>"], "RepoDigests": [], "Labels": labels,
            "Created": created, "Size": 1000}


def test_system_prune_flags():
    a = parse("system prune -a -f --volumes --filter label=x --filter until=1h")
    assert (a.all, a.force, a.volumes, a.filter) == (True, True, True, ["label=x", "until=1h"])
    a = parse("system prune")
    assert not (a.all or a.force or a.volumes) and a.filter is None


def test_the_plan_follows_the_engine_and_the_cli_order():
    containers = [_container("stopped", "exited", image_id="sha256:d1", volumes=["v1"]),
                  _container("created", "created"), _container("running", "running", volumes=["v2"]),
                  _container("paused", "paused")]
    networks = [{"Name": "bridge", "Containers": {}}, {"Name": "mine", "Containers": {},
                                                      "Created": "2020-01-01T00:00:00Z"},
                {"Name": "busy", "Containers": {"x": {}}, "Created": "2020-01-01T00:00:00Z"}]
    volumes = [{"Name": "v1"}, {"Name": "v2"}, {"Name": "v3"}]
    images = [_image("sha256:d1"), _image("sha256:d2"), _image("sha256:t", tags=["t:1"])]
    cache = [{"ID": "c1", "Type": "regular", "InUse": False, "LastUsedAt": "2020-01-01T00:00:00Z"},
             {"ID": "c2", "Type": "internal", "InUse": False}, {"ID": "c3", "Type": "regular", "InUse": True}]
    plan = system.plan_system_prune(containers, networks, volumes, images, cache, all=False, filters={},
                                    now=NOW)
    assert [c["Id"] for c in plan.containers] == ["stopped", "created"]  # never running or paused
    assert [n["Name"] for n in plan.networks] == ["mine"]  # never predefined, never in use
    assert [v["Name"] for v in plan.volumes] == ["v1", "v3"]  # v1: only a pruned container used it
    assert sorted(i["Id"] for i in plan.images) == ["sha256:d1", "sha256:d2"]  # d1 freed, same way
    assert [e["ID"] for e in plan.build_cache] == ["c1"]  # internal records only with -a, in use never
    every = system.plan_system_prune(containers, networks, None, images, cache, all=True, filters={}, now=NOW)
    assert every.volumes is None and "sha256:t" in {i["Id"] for i in every.images}
    assert [e["ID"] for e in every.build_cache] == ["c1", "c2"]


def test_the_plan_honours_label_and_until_filters():
    containers = [_container("a", "exited", {"k": "go"}), _container("b", "exited", {"k": "stay"}),
                  _container("c", "exited"), _container("new", "exited", {"k": "go"}, created=NOW - 10)]
    networks = [{"Name": "n1", "Labels": {"k": "go"}, "Created": "2020-01-01T00:00:00Z"},
                {"Name": "n2", "Labels": None, "Created": "2020-01-01T00:00:00Z"}]
    plan = system.plan_system_prune(containers, networks, [{"Name": "v", "Labels": {"k": "go"}}, {"Name": "w"}],
                                    [], None, all=False, filters={"label": ["k=go"], "until": ["1m"]}, now=NOW)
    assert [c["Id"] for c in plan.containers] == ["a"]
    assert [n["Name"] for n in plan.networks] == ["n1"] and [v["Name"] for v in plan.volumes] == ["v"]
    assert plan.build_cache is None
    unlabelled = system.plan_system_prune(containers, [], None, [], [], all=False,
                                          filters={"label!": ["k"]}, now=NOW)
    assert [c["Id"] for c in unlabelled.containers] == ["c"]


def test_engine_times_are_read_with_their_zone():
    assert system.parse_rfc3339("2020-01-01T01:00:00+01:00") == system.parse_rfc3339("2020-01-01T00:00:00Z")
    assert system.parse_rfc3339("2020-01-01T00:00:00.5Z") == system.parse_rfc3339("2020-01-01T00:00:00Z") + 0.5
    assert system.parse_rfc3339(None) == system.parse_rfc3339("junk") == 0.0


def test_bad_system_prune_filters_are_one_line(ip):
    with pytest.raises(UsageError, match="system prune filters by until, label, label!"):
        ip.run_line_magic("docker", "system prune --filter dangling=true")
    with pytest.raises(UsageError, match="until cannot be used with --volumes"):
        ip.run_line_magic("docker", "system prune --volumes --filter until=1h")


def test_the_listing_says_nothing_was_removed_and_escapes():
    plan = SystemPrunePlan([_container(EVIL, "exited")], [{"Name": EVIL, "Driver": EVIL}], [{"Name": EVIL}],
                           [_image("sha256:" + "a" * 64, tags=[EVIL])], None)
    report = SystemPruneReport(plan)
    text = str(report)
    assert text.splitlines()[0] == "system prune would remove:"
    assert "nothing removed: add -f to remove these" in text and "carry no labels" in text
    assert_script_free(views.render_html(report.view()))
    done = SystemPruneReport(plan, removed=True, deleted={"containers": ["c" * 64], "images": [f"untagged: {EVIL}"]},
                             space_reclaimed=2_000_000)
    assert str(done) == (f"Deleted Containers:\n{'c' * 64}\n\nDeleted Images:\nuntagged: {EVIL}\n\n"
                         "Total reclaimed space: 2MB")
    assert_script_free(views.render_html(done.view()))


# ---------------------------------------------------------------- system prune (real engine)


def committed_dangling(label: str, value: str) -> str:
    """A dangling image with one label, made by committing a created container (no build, so
    no build cache, and fast); its id. The id is unique: it records the container's."""
    cid = docker_cli("create", "--network", "none", "busybox", "true").stdout.strip()
    try:
        return docker_cli("commit", "--change", f"LABEL {label}={value}", cid).stdout.strip()
    finally:
        docker_cli("rm", "-f", cid, check=False)


@pytest.fixture
def prunable(api, unique):
    """Objects of this test only, labelled `<label>=go` or `=stay`, and some not labelled at all."""
    label = f"nbdtest.sysprune.{unique}"
    go, stay = committed_dangling(label, "go"), committed_dangling(label, "stay")
    tagged = committed_dangling(label, "go-tagged")
    api.tag(tagged, unique, "kept")
    tagged_labels = {label: "go-tagged"}
    made = {"image_go": go, "image_stay": stay, "image_tagged": tagged, "label": label,
            "tagged_labels": tagged_labels}
    docker_cli("create", "--network", "none", "--label", f"{label}=go", "--name", f"{unique}-c", go, "true")
    docker_cli("run", "-d", "--network", "none", "--label", f"{label}=go", "--name", f"{unique}-r",
               "busybox", "sleep", "60")
    docker_cli("create", "--network", "none", "--name", f"{unique}-other", "busybox", "true")
    docker_cli("network", "create", "--label", f"{label}=go", f"{unique}-net")
    docker_cli("volume", "create", "--label", f"{label}=go", f"{unique}-vol")
    made["ids"] = {name: api.inspect_container(f"{unique}-{name}")["Id"] for name in ("c", "r", "other")}
    yield made
    for name in ("c", "r", "other"):
        docker_cli("rm", "-f", f"{unique}-{name}", check=False)
    docker_cli("network", "rm", f"{unique}-net", check=False)
    docker_cli("volume", "rm", f"{unique}-vol", check=False)
    docker_cli("rmi", "-f", f"{unique}:kept", go, stay, tagged, check=False)


def _present(*args: str) -> bool:
    return docker_cli(*args, check=False).returncode == 0


def test_system_prune_without_f_lists_exactly_the_labelled_objects_and_removes_nothing(ip, api, unique,
                                                                                        prunable):
    label = prunable["label"]
    r = ip.run_line_magic("docker", f"system prune --volumes --filter label={label}=go")
    assert isinstance(r, SystemPruneReport) and not r.removed
    assert [c["Id"] for c in r.plan.containers] == [prunable["ids"]["c"]]  # not the running one
    assert [n["Name"] for n in r.plan.networks] == [f"{unique}-net"]
    assert [v["Name"] for v in r.plan.volumes] == [f"{unique}-vol"]
    # the image only the pruned container used goes too; the tagged one only with -a
    assert [i["Id"] for i in r.plan.images] == [prunable["image_go"]]
    assert r.plan.build_cache is None and "carry no labels" in str(r)
    assert "nothing removed: add -f to remove these" in str(r)
    every = ip.run_line_magic("docker", f"system prune -a --filter label={label}")
    assert {i["Id"] for i in every.plan.images} == {prunable["image_go"], prunable["image_stay"],
                                                    prunable["image_tagged"]}
    assert every.plan.volumes is None
    for args in (("container", "inspect", f"{unique}-c"), ("network", "inspect", f"{unique}-net"),
                 ("volume", "inspect", f"{unique}-vol"), ("image", "inspect", prunable["image_go"]),
                 ("image", "inspect", prunable["image_stay"])):
        assert _present(*args), args


def test_system_prune_f_with_a_label_removes_exactly_the_labelled_objects(ip, api, unique, prunable):
    label = prunable["label"]
    listed = ip.run_line_magic("docker", f"system prune --volumes --filter label={label}=go")
    r = ip.run_line_magic("docker", f"system prune -f --volumes --filter label={label}=go")
    assert r.removed
    assert r.deleted["containers"] == [c["Id"] for c in listed.plan.containers] == [prunable["ids"]["c"]]
    assert r.deleted["networks"] == [f"{unique}-net"] and r.deleted["volumes"] == [f"{unique}-vol"]
    # the image, then what went with it (its untagged parents and their layers), nothing else
    deleted = [entry.removeprefix("deleted: ") for entry in r.deleted["images"]]
    assert deleted[0] == prunable["image_go"] and [i["Id"] for i in listed.plan.images] == deleted[:1]
    others = {prunable["image_stay"], prunable["image_tagged"], api.inspect_image("busybox:latest")["Id"]}
    assert not others & set(deleted)
    assert "build_cache" not in r.deleted  # a label filter never touches the build cache
    assert str(r).startswith(f"Deleted Containers:\n{prunable['ids']['c']}\n")
    assert "Total reclaimed space: " in str(r)
    assert not _present("container", "inspect", f"{unique}-c")
    assert not _present("network", "inspect", f"{unique}-net")
    assert not _present("image", "inspect", prunable["image_go"])
    # what the filter did not ask for stays: running, unlabelled, other label value, tagged without -a
    assert api.inspect_container(f"{unique}-r")["State"]["Running"]
    assert _present("container", "inspect", f"{unique}-other")
    assert _present("image", "inspect", prunable["image_stay"])
    assert _present("image", "inspect", f"{unique}:kept")


def test_system_prune_without_a_filter_lists_the_build_cache_too_and_removes_nothing(ip, api, unique):
    docker_cli("create", "--network", "none", "--name", unique, "busybox", "true")
    try:
        cid = api.inspect_container(unique)["Id"]
        r = ip.run_line_magic("docker", "system prune")
        assert not r.removed and isinstance(r.plan.build_cache, list)
        assert "build cache entries: " in str(r) and "nothing removed" in str(r)
        assert cid in {c["Id"] for c in r.plan.containers}
        assert _present("container", "inspect", unique)
    finally:
        docker_cli("rm", "-f", unique, check=False)


# ---------------------------------------------------------------- logs -f in a real kernel


@pytest.fixture(scope="module")
def kernel():
    """A real IPython kernel (ipykernel) with nbdocker loaded: what a notebook talks to."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        _execute(kc, "%load_ext nbdocker")
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _execute(kc, code: str, on_message=None) -> list[dict]:
    """Run `code`; the IOPub messages it caused, until the kernel is idle again."""
    msg_id = kc.execute(code)
    messages = []
    while True:
        message = kc.get_iopub_msg(timeout=120)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(message)
        if on_message is not None:
            on_message(message)
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            return messages


def test_logs_f_in_a_kernel_is_live_coalesced_and_an_interrupt_stops_only_the_following(kernel, engine,
                                                                                        unique):
    km, kc = kernel
    docker_cli("run", "-d", "--network", "none", "--name", unique, "busybox", "sh", "-c",
               "seq 1 20000; echo started; exec sleep 60")
    try:
        interrupted = []

        def interrupt_once_started(message):
            if message["msg_type"] == "stream" and "started" in message["content"]["text"] \
                    and not interrupted:
                interrupted.append(True)
                km.interrupt_kernel()  # what the notebook's stop button sends

        messages = _execute(kc, f"%docker logs -f {unique}", interrupt_once_started)
        streams = [m for m in messages if m["msg_type"] == "stream"]
        text = "".join(m["content"]["text"] for m in streams)
        assert text == "".join(f"{i}\n" for i in range(1, 20001)) + "started\n"
        assert len(streams) < 200  # 20,001 lines, coalesced: not a message per line
        [error] = [m for m in messages if m["msg_type"] == "error"]
        assert error["content"]["traceback"] == [
            f"interrupted: stopped following the logs of {unique}; the container keeps running"]
        assert _state(engine, unique)["Running"]
        again = _execute(kc, "print('next cell runs')")
        assert any(m["msg_type"] == "stream" and m["content"]["text"] == "next cell runs\n" for m in again)
    finally:
        docker_cli("rm", "-f", unique, check=False)
