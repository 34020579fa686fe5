"""`%docker push / pull / login / logout`: the progress model and credential lookup pure, then the
real engine with the two local registries (127.0.0.1:5000 open, 127.0.0.1:5001 with htpasswd).

Images pushed here are built with content unique to this module (so removing them by id can never
remove another engineer's image) and pushed under repositories named with the test prefix.
Every test runs with DOCKER_CONFIG pointing at an empty folder unless it writes its own config.
"""
from __future__ import annotations

import getpass
import json
import os
import subprocess
import time

import pytest

import conftest
from conftest import docker_cli
from nbdocker import cli
from nbdocker.magics import COMMANDS
from nbdocker.commands import registry
from nbdocker.views import render as views
from nbdocker.errors import EngineUnavailable, UsageError
from nbdocker.commands.registry import (CredentialError, LiveDisplay, LoginFailed, PullResult, PushResult, Transfer,
                               TransferFailed, TransferProgress)
from test_views import EVIL, assert_script_free

OPEN = "127.0.0.1:5000"
AUTH = "127.0.0.1:5001"
NOBODY = "127.0.0.1:5999"  # nothing listens here
USER = os.environ.get("NBDOCKER_REGISTRY_USER", "nbdocker")
PASSWORD = os.environ.get("NBDOCKER_REGISTRY_PASSWORD", "nbdocker-test-password")

# A real push and pull as the engine (20.10) streamed them (decoded JSON messages).
PUSH_STREAM = [
    {"status": "The push refers to repository [127.0.0.1:5000/nbdprobe/z]"},
    {"status": "Preparing", "progressDetail": {}, "id": "47a35e25e3f4"},
    {"status": "Preparing", "progressDetail": {}, "id": "8342d9eca3e0"},
    {"status": "Pushing", "progressDetail": {"current": 33280, "total": 3000000},
     "progress": "[>     ]  33.28kB/3MB", "id": "47a35e25e3f4"},
    {"status": "Mounted from nbdprobe/y", "progressDetail": {}, "id": "8342d9eca3e0"},
    {"status": "Pushing", "progressDetail": {"current": 3001856, "total": 3000000},
     "progress": "[=====>]  3.002MB", "id": "47a35e25e3f4"},
    {"status": "Pushed", "progressDetail": {}, "id": "47a35e25e3f4"},
    {"status": "1: digest: sha256:0e12ecdd466f88f44cadf53790f9025ebb37cec182cc67b51e6e9e312ca1db23 size: 739"},
    {"progressDetail": {}, "aux": {"Tag": "1", "Size": 739,
                                   "Digest": "sha256:0e12ecdd466f88f44cadf53790f9025ebb37cec182cc67b51e6e9e312ca1db23"}},
]
PULL_STREAM = [
    {"status": "Pulling from nbdprobe/z", "id": "1"},
    {"status": "Already exists", "progressDetail": {}, "id": "6877a0845fbf"},
    {"status": "Pulling fs layer", "progressDetail": {}, "id": "4626a262d46b"},
    {"status": "Downloading", "progressDetail": {"current": 36445, "total": 3001120}, "id": "4626a262d46b"},
    {"status": "Verifying Checksum", "progressDetail": {}, "id": "4626a262d46b"},
    {"status": "Download complete", "progressDetail": {}, "id": "4626a262d46b"},
    {"status": "Extracting", "progressDetail": {"current": 32768, "total": 3001120}, "id": "4626a262d46b"},
    {"status": "Extracting", "progressDetail": {"current": 3001120, "total": 3001120}, "id": "4626a262d46b"},
    {"status": "Pull complete", "progressDetail": {}, "id": "4626a262d46b"},
    {"status": "Digest: sha256:0e12ecdd466f88f44cadf53790f9025ebb37cec182cc67b51e6e9e312ca1db23"},
    {"status": "Status: Downloaded newer image for 127.0.0.1:5000/nbdprobe/z:1"},
]
DIGEST = "sha256:0e12ecdd466f88f44cadf53790f9025ebb37cec182cc67b51e6e9e312ca1db23"

# ---------------------------------------------------------------- progress model (pure)


def test_push_stream_gives_the_cli_lines_the_digest_and_the_layers():
    t = Transfer("push", "127.0.0.1:5000/nbdprobe/z:1")
    printed = [line for m in PUSH_STREAM for line in t.feed(m)]
    t.finish()
    assert printed == t.lines == [
        "The push refers to repository [127.0.0.1:5000/nbdprobe/z]",
        "47a35e25e3f4: Preparing", "8342d9eca3e0: Preparing",
        "8342d9eca3e0: Mounted from nbdprobe/y", "47a35e25e3f4: Pushed",
        f"1: digest: {DIGEST} size: 739",
    ]  # progress ticks are not lines: the CLI prints them only on a terminal
    assert (t.digest, t.size, t.error, t.state) == (DIGEST, 739, None, "done")
    assert [(l.id, l.status, l.done) for l in t.layers.values()] == [
        ("47a35e25e3f4", "Pushed", True), ("8342d9eca3e0", "Mounted from nbdprobe/y", True)]


def test_progress_fractions_grow_to_one():
    t = Transfer("pull", "x")
    seen = []
    for m in PULL_STREAM:
        t.feed(m)
        seen.append(round(t.fraction, 3))
    known = seen[2:]  # once every layer has been announced, the overall bar only grows
    assert known == sorted(known) and seen[-1] == 1.0 and known[0] == 0.5
    half = Transfer("push", "x")
    for m in PUSH_STREAM[:4]:
        half.feed(m)
    assert 0 < half.fraction < 0.5  # one layer at ~1 %, the other not started
    assert half.bytes == (33280, 3000000)
    assert half.summary() == "push x — 0/2 layers, 33.3kB / 3MB"


def test_pull_stream_gives_digest_and_status():
    t = Transfer("pull", "127.0.0.1:5000/nbdprobe/z:1")
    for m in PULL_STREAM:
        t.feed(m)
    assert t.digest == DIGEST
    assert t.status == "Downloaded newer image for 127.0.0.1:5000/nbdprobe/z:1"
    assert t.lines[0] == "1: Pulling from nbdprobe/z"
    assert "4626a262d46b: Pull complete" in t.lines and "6877a0845fbf: Already exists" in t.lines


@pytest.mark.parametrize("message, expected", [
    ({"errorDetail": {"message": "no basic auth credentials"}, "error": "no basic auth credentials"},
     "no basic auth credentials"),
    ({"error": "first line\n  second line"}, "first line second line"),
    ({"errorDetail": {"message": "detail wins"}, "error": "short"}, "detail wins"),
    ({"status": "Pushed", "id": "x"}, None),
    ({"status": "error is a word here"}, None),
])
def test_in_band_errors_are_found_and_made_one_line(message, expected):
    assert registry.stream_error(message) == expected


def test_an_in_band_error_fails_the_transfer():
    t = Transfer("push", "x")
    t.feed(PUSH_STREAM[0])
    t.feed({"errorDetail": {"message": "denied"}, "error": "denied"})
    assert t.state == "failed" and t.error == "denied"
    assert "error: denied" in registry.render_transfer_text(t)


def test_text_bars():
    assert registry.text_bar(0) == "[>" + " " * 19 + "]"
    assert registry.text_bar(0.5) == "[" + "=" * 10 + ">" + " " * 9 + "]"
    assert registry.text_bar(1.5) == "[" + "=" * 20 + "]"


def test_progress_renders_text_and_escaped_html():
    t = Transfer("push", "127.0.0.1:5000/nbdprobe/z:1")
    for m in PUSH_STREAM[:4]:
        t.feed(m)
    text = registry.render_transfer_text(t)
    assert text.splitlines()[0].startswith("[")
    assert "47a35e25e3f4  Pushing" in text and "33.3kB/3MB" in text
    bundle = TransferProgress(t)._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"} and bundle["text/plain"] == text
    assert 'style="width:1%"' in bundle["text/html"]
    assert TransferProgress(t)._repr_mimebundle_(include=["text/plain"]).keys() == {"text/plain"}


def test_progress_html_escapes_everything_from_the_engine():
    t = Transfer("push", EVIL)
    t.feed({"status": EVIL, "id": EVIL, "progressDetail": {"current": 1, "total": 2}})
    t.feed({"status": f"Digest: {EVIL}"})
    t.feed({"error": EVIL})
    markup = registry.render_transfer_html(t)
    assert_script_free(markup)
    assert markup.count(views.esc(EVIL)) >= 4


def test_live_display_coalesces_updates_to_ten_a_second():
    now = [0.0]
    shown = []

    class Handle:
        def update(self, obj):
            shown.append(("update", now[0]))

    def display(obj, display_id=False):
        assert display_id is True
        shown.append(("display", now[0]))
        return Handle()

    live = LiveDisplay(object(), clock=lambda: now[0], display=display)
    for i in range(1000):  # 1000 changes over one second
        now[0] = i / 1000
        live.refresh()
    live.close()
    assert shown[0] == ("display", 0.0)
    assert 10 <= len(shown) <= 12  # ~10 a second, plus the final state
    assert shown[-1] == ("update", 0.999)
    gaps = [b[1] - a[1] for a, b in zip(shown, shown[1:-1])]
    assert min(gaps) >= 0.0999


# ---------------------------------------------------------------- credentials (pure, and real helpers)


@pytest.mark.parametrize("text, key", [
    (None, "docker.io"), ("https://index.docker.io/v1/", "docker.io"), ("docker.io", "docker.io"),
    ("127.0.0.1:5001", "127.0.0.1:5001"), ("http://127.0.0.1:5001/v2/", "127.0.0.1:5001"),
    ("Registry.Example.com", "registry.example.com"),
])
def test_registry_keys(text, key):
    assert registry.registry_key(text) == key


def test_config_auths_entries_are_decoded():
    import base64

    config = {"auths": {"http://127.0.0.1:5001/v2/": {"auth": base64.b64encode(b"me:pw:with:colons").decode()},
                        "example.org": {"identitytoken": "tok"}}}
    assert registry.config_auth("127.0.0.1:5001", config) == {
        "username": "me", "password": "pw:with:colons", "serveraddress": "127.0.0.1:5001"}
    assert registry.config_auth("example.org", config) == {"identitytoken": "tok", "serveraddress": "example.org"}
    assert registry.config_auth("other:1", config) is None


def _helper(folder, name: str, body: str) -> None:
    path = folder / f"docker-credential-{name}"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


@pytest.fixture
def helpers(tmp_path, monkeypatch):
    """A folder on PATH for fake `docker-credential-*` programs (real subprocesses)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return folder


def test_credential_helpers_are_asked_and_missing_entries_fall_back_to_auths(helpers):
    _helper(helpers, "good", 'read server; printf \'{"ServerURL":"%s","Username":"u","Secret":"s"}\' "$server"\n')
    _helper(helpers, "none", 'echo "credentials not found in native keychain"; exit 1\n')
    _helper(helpers, "broken", 'echo "boom" >&2; exit 3\n')
    assert registry.config_auth("r:1", {"credsStore": "good"}) == {
        "username": "u", "password": "s", "serveraddress": "r:1"}
    assert registry.config_auth("r:1", {"credsStore": "none", "credHelpers": {"r:1": "good"}})["username"] == "u"
    import base64

    auths = {"auths": {"r:1": {"auth": base64.b64encode(b"a:b").decode()}}}
    assert registry.config_auth("r:1", {"credsStore": "none", **auths})["username"] == "a"
    with pytest.raises(CredentialError, match="docker-credential-broken failed for r:1: boom"):
        registry.config_auth("r:1", {"credsStore": "broken"})
    with pytest.raises(CredentialError, match="docker-credential-absent .*not on PATH"):
        registry.config_auth("r:1", {"credsStore": "absent"})


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] not in "ZX"
    except FileNotFoundError:
        return False


def test_a_hanging_credential_helper_is_stopped_after_the_timeout(helpers, tmp_path, monkeypatch):
    pidfile = tmp_path / "sleep.pid"
    _helper(helpers, "hang", f"sleep 30 &\necho $! > {pidfile}\nwait\n")  # a child that keeps the pipes
    monkeypatch.setattr(registry, "CREDENTIAL_HELPER_TIMEOUT", 1.0)
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"credsStore": "hang"}))
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    started = time.monotonic()
    with pytest.raises(CredentialError) as info:
        registry.auth_config_for(AUTH)
    assert time.monotonic() - started < 5
    message = str(info.value)
    assert "docker-credential-hang" in message and "within 1 s" in message and str(config) in message
    assert "\n" not in message
    # The helper's whole process group was killed. SIGKILL takes effect when the process is next
    # scheduled, which on a loaded machine is not at once: wait for it, within bounds.
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


# ---------------------------------------------------------------- parsing


def parse(line: str):
    return COMMANDS.parser.parse_args(cli.split_line(line))


@pytest.mark.parametrize("line", ["push", "image push", "pull", "image pull"])
def test_push_and_pull_take_a_name_and_q(line):
    a = parse(f"{line} -q 127.0.0.1:5000/x/y:1")
    assert a.quiet and a.name == "127.0.0.1:5000/x/y:1"


@pytest.mark.parametrize("line", ["login -p hunter2 r:1", "login --password=hunter2 r:1",
                                  "login -phunter2 r:1", "login -u me --password hunter2"])
def test_a_password_on_the_line_is_refused_without_echoing_it(line):
    with pytest.raises(UsageError) as info:
        parse(line)
    assert "hidden prompt" in str(info.value) and "hunter2" not in str(info.value)
    assert "not supported" in str(info.value)


def test_password_stdin_is_refused():
    with pytest.raises(UsageError, match="no stdin"):
        parse("login --password-stdin r:1")


# ---------------------------------------------------------------- the real registries


@pytest.fixture(autouse=True)
def empty_docker_config(tmp_path, monkeypatch):
    """No credentials from this machine's config; and no login left behind by a test."""
    folder = tmp_path / "docker-config"
    folder.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(folder))
    yield folder
    registry._LOGINS.clear()


def build_unique(api, tag: str) -> str:
    """Build an image whose content names `tag` (so no other image can share its id); its id."""
    done = subprocess.run(["docker", "build", "--network", "none", "-q", "-t", tag, "-"],
                          input=f"FROM busybox\nRUN echo {tag} > /f\n", capture_output=True, text=True,
                          env=dict(os.environ, DOCKER_BUILDKIT="0"), timeout=180)
    assert done.returncode == 0, done.stderr
    return api.inspect_image(tag)["Id"]


@pytest.fixture(scope="module")
def image(api):
    """An image only this module has (unique content); removed, with all its tags, at the end."""
    name = f"{conftest.PREFIX}-{conftest.RUN_ID}-{next(conftest._counter)}"
    image_id = build_unique(api, f"{name}:base")
    yield image_id
    try:
        api.remove_image(image_id, force=True)
    except Exception:  # noqa: BLE001 - a test removed it already
        pass


@pytest.fixture
def tagged(api, image, unique):
    """`image` tagged as REGISTRY/<unique>/x:1 for a given registry."""
    made = []

    def tag(host: str) -> str:
        ref = f"{host}/{unique}/x:1"
        api.tag(image, f"{host}/{unique}/x", "1")
        made.append(ref)
        return ref

    yield tag
    for ref in made:
        docker_cli("rmi", ref, check=False)


def test_push_then_pull_back_gives_the_same_digest(ip, api, engine, unique, capsys):
    ref = f"{OPEN}/{unique}/own:1"
    build_unique(api, ref)  # its own image: this test removes it entirely
    pushed = ip.run_line_magic("docker", f"push {ref}")
    assert isinstance(pushed, PushResult)
    assert pushed.digest.startswith("sha256:") and len(pushed.digest) == 71
    assert pushed.layers and all(layer.done for layer in pushed.layers)
    out = capsys.readouterr().out  # terminal IPython: the CLI's lines as they come
    assert f"1: digest: {pushed.digest}" in out
    assert f"digest: {pushed.digest}" in str(pushed)
    # Remove the image entirely, so that the pull really downloads our layer.
    image_id = api.inspect_image(ref)["Id"]
    api.remove_image(image_id, force=True)
    pulled = ip.run_line_magic("docker", f"pull {ref}")
    assert isinstance(pulled, PullResult) and pulled.digest == pushed.digest
    assert "Pull complete" in {layer.status for layer in pulled.layers}
    assert pulled.status == f"Downloaded newer image for {ref}"
    repo = ref.rsplit(":", 1)[0]
    assert f"{repo}@{pushed.digest}" in api.inspect_image(ref)["RepoDigests"]
    assert api.inspect_image(ref)["Id"] == image_id
    again = ip.run_line_magic("docker", f"image pull -q {ref}")
    assert again.status.startswith("Image is up to date") and str(again).endswith(ref)
    api.remove_image(image_id, force=True)


def test_progress_is_shown_through_one_display_handle(ip, api, tagged, monkeypatch):
    ref = tagged(OPEN)
    calls = []

    class Handle:
        def update(self, obj):
            calls.append(("update", obj._repr_mimebundle_()))

    def display(obj, display_id=False):
        calls.append(("display", obj._repr_mimebundle_()))
        return Handle()

    import IPython.display

    monkeypatch.setattr(registry, "live_updates_supported", lambda: True)
    monkeypatch.setattr(IPython.display, "display", display)
    started = time.monotonic()
    pushed = ip.run_line_magic("docker", f"push {ref}")
    took = time.monotonic() - started
    assert calls[0][0] == "display" and all(kind == "update" for kind, _ in calls[1:])
    assert len(calls) <= took * 10 + 3
    final = calls[-1][1]
    assert "100%" in final["text/plain"] and ": done" in final["text/plain"]
    assert pushed.digest in final["text/plain"]
    assert_script_free(final["text/html"], data=pushed.digest)


def test_push_to_the_auth_registry_without_login_fails_in_band(ip, tagged):
    ref = tagged(AUTH)
    with pytest.raises(TransferFailed) as info:
        ip.run_line_magic("docker", f"push {ref}")
    line = info.value._render_traceback_()
    assert line == [f"push failed: {ref}: no basic auth credentials (log in first: %docker login {AUTH})"]


def test_push_where_no_registry_listens_fails_with_one_line(ip, tagged):
    ref = tagged(NOBODY)
    with pytest.raises(TransferFailed) as info:
        ip.run_line_magic("docker", f"push {ref}")
    [line] = info.value._render_traceback_()
    assert line.startswith(f"push failed: {ref}: ") and "connection refused" in line
    assert line.endswith(f"(no registry answers at {NOBODY})")


@pytest.mark.engine
def test_push_of_a_name_that_is_not_here_says_tag_it(ip, unique):
    with pytest.raises(TransferFailed) as info:
        ip.run_line_magic("docker", f"push {OPEN}/{unique}/never:1")
    assert "does not exist" in str(info.value) and "%docker tag" in str(info.value)


@pytest.mark.engine
def test_pull_errors_are_one_line(ip, unique):
    with pytest.raises(TransferFailed) as info:
        ip.run_line_magic("docker", f"pull {OPEN}/{unique}/never:1")
    assert "manifest unknown" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(TransferFailed) as info:
        ip.run_line_magic("docker", f"pull {NOBODY}/{unique}/never:1")
    assert "no registry answers" in str(info.value)


def test_an_unreachable_engine_is_translated(ip, tagged):
    ip.run_line_magic("config", "DockerMagics.base_url = 'unix:///nonexistent/docker.sock'")
    with pytest.raises(EngineUnavailable) as info:
        ip.run_line_magic("docker", f"push {OPEN}/x/y:1")
    [line] = info.value._render_traceback_()
    assert line.startswith("docker engine: cannot reach the engine at unix:///nonexistent/docker.sock")


def test_bad_password_is_one_line_and_not_echoed(ip, engine, monkeypatch, capsys):
    wrong = "wrong-password-31337"
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": wrong)
    with pytest.raises(LoginFailed) as info:
        ip.run_line_magic("docker", f"login -u {USER} {AUTH}")
    [line] = info.value._render_traceback_()
    assert line.startswith(f"login failed: {AUTH}: wrong user name or password")
    assert wrong not in line
    out, err = capsys.readouterr()
    assert wrong not in out + err
    assert AUTH not in registry._LOGINS


def test_login_then_push_works_and_the_secret_is_in_no_output_nor_history(ip, engine, tagged, monkeypatch,
                                                                          capsys):
    prompts = []

    def ask(prompt=""):
        prompts.append(prompt)
        return PASSWORD

    monkeypatch.setattr(getpass, "getpass", ask)
    cell = f"%docker login -u {USER} {AUTH}"
    outcome = ip.run_cell(cell, store_history=True)
    assert outcome.success, outcome.error_in_exec
    assert prompts == [f"Password for {USER} at {AUTH}: "]
    result = outcome.result
    assert isinstance(result, registry.LoginResult) and (result.registry, result.username) == (AUTH, USER)
    assert "Login Succeeded" in str(result)
    ref = tagged(AUTH)
    pushed = ip.run_line_magic("docker", f"push {ref}")
    assert pushed.digest.startswith("sha256:")
    # Nowhere: printed output, the results and their renderings, the kernel's history.
    out, err = capsys.readouterr()
    assert "Login Succeeded" in out
    for shown in (out, err, repr(result), str(result), json.dumps(result._repr_mimebundle_(), default=str),
                  repr(vars(result)), repr(pushed), json.dumps(pushed._repr_mimebundle_(), default=str),
                  repr(registry._LOGINS)):
        assert PASSWORD not in shown
    history = ip.history_manager
    assert any(cell in entry for entry in history.input_hist_raw)
    assert not any(PASSWORD in entry for entry in history.input_hist_raw + history.input_hist_parsed)
    assert not any(PASSWORD in repr(v) for v in history.output_hist.values())
    # logout forgets it: the next push is refused again.
    assert str(ip.run_line_magic("docker", f"logout {AUTH}")) == f"Removing login credentials for {AUTH}"
    with pytest.raises(TransferFailed, match="no basic auth credentials"):
        ip.run_line_magic("docker", f"push {ref}")
    assert str(ip.run_line_magic("docker", f"logout {AUTH}")) == f"Not logged in to {AUTH}"


def test_credentials_from_a_config_credential_helper_are_used(ip, engine, tagged, helpers,
                                                              empty_docker_config):
    _helper(helpers, "test", f'read server; [ "$server" = "{AUTH}" ] || exit 1\n'
                             f'printf \'{{"ServerURL":"{AUTH}","Username":"{USER}","Secret":"{PASSWORD}"}}\'\n')
    (empty_docker_config / "config.json").write_text(json.dumps({"credHelpers": {AUTH: "test"}}))
    pushed = ip.run_line_magic("docker", f"push {tagged(AUTH)}")
    assert pushed.digest.startswith("sha256:")


def test_run_pulls_an_image_that_is_not_here_like_the_cli(ip, api, unique, capsys):
    ref = f"{OPEN}/{unique}/run:1"
    image_id = build_unique(api, ref)
    ip.run_line_magic("docker", f"push -q {ref}")
    api.remove_image(image_id, force=True)
    try:
        r = ip.run_line_magic("docker", f"run --rm {ref} cat /f")
        assert r.stdout == f"{ref}\n"
        out, err = capsys.readouterr()
        assert f"Unable to find image '{ref}' locally" in err
        assert f"Status: Downloaded newer image for {ref}" in out
    finally:
        api.remove_image(ref, force=True)
