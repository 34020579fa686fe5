"""The reliability checklist's data-loss findings, reproduced against the real engine.

Each test failed before its fix: nothing is deleted that the user did not name, on the engine the
user named, and no secret build arg shows in any view.
"""
from __future__ import annotations

import json
import os
import subprocess

import docker.errors
import pytest
from IPython.utils.capture import capture_output

from nbdocker import cli
from nbdocker.commands import images
from nbdocker.engine.client import Engine
from nbdocker.errors import EngineError, NbDockerError, UsageError
from nbdocker.views import widgets

pytestmark = pytest.mark.engine


@pytest.fixture
def volume(api, unique):
    name = f"{unique}-precious"
    api.create_volume(name)
    yield name
    try:
        api.remove_volume(name, force=True)
    except docker.errors.APIError:
        pass


def build(tag: str, body: str, builder: str = "classic", *args: str) -> str:
    env = dict(os.environ, DOCKER_BUILDKIT="1" if builder == "buildkit" else "0")
    done = subprocess.run(["docker", "build", "--network", "none", "-q", "-t", tag, *args, "-"],
                          input=body, capture_output=True, text=True, env=env, timeout=180)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


# ---------------------------------------------------------------- 1. names reach no other resource


@pytest.mark.parametrize("word", ["../../volumes/{volume}", "..%2F..%2Fvolumes%2F{volume}",
                                  "/../../volumes/{volume}"])
def test_rm_of_a_path_never_reaches_a_volume(ip, api, volume, word):
    with pytest.raises(UsageError, match="not a container name"):
        ip.run_line_magic("docker", f"rm {word.format(volume=volume)}")
    assert api.inspect_volume(volume)["Name"] == volume  # still there


def test_rm_of_a_path_never_untags_an_image(ip, api, unique):
    victim = f"{unique}-victim:1"
    api.tag("busybox:latest", f"{unique}-victim", "1")
    for word in (f"../../images/{victim}", f"../images/{victim}"):
        with pytest.raises(UsageError, match="not a container name"):
            ip.run_line_magic("docker", f"rm -f {word}")
    assert victim in api.inspect_image(victim)["RepoTags"]
    api.remove_image(victim)


@pytest.mark.parametrize("line", ["rmi ../../volumes/{volume}", "inspect ../../volumes/{volume}",
                                  "history ../../volumes/{volume}", "logs ../../volumes/{volume}",
                                  "tag ../../volumes/{volume} x:1"])
def test_no_command_takes_a_path_for_a_name(ip, api, volume, line):
    with capture_output():
        with pytest.raises(NbDockerError):
            ip.run_line_magic("docker", line.format(volume=volume))
    assert api.inspect_volume(volume)["Name"] == volume


def test_a_redirect_from_the_engine_is_never_followed(api, volume):
    """Past the name checks, the transport itself refuses the engine's path-cleaning 301."""
    ours = Engine()
    api_client = ours.sdk
    url = api_client._url("/containers/") + f"../../volumes/{volume}"
    with pytest.raises(EngineError, match="redirect"):
        with ours.translated("remove container"):
            api_client._raise_for_status(api_client._delete(url))
    assert api.inspect_volume(volume)["Name"] == volume


# ---------------------------------------------------------------- 2. a stale list removes what it showed


def test_a_stale_image_row_removes_the_image_it_showed_not_the_rebuilt_one(ip, api, unique):
    name = f"{unique}-wapp"
    old = build(f"{name}:latest", f"FROM busybox\nRUN echo old-{unique} > /v\n")
    session = cli.Session(Engine())
    listed = images.list_images(session.engine, reference=name)
    widget = widgets.ImageListWidget(listed.view(), actions=images.row_actions(session))
    new = build(f"{name}:latest", f"FROM busybox\nRUN echo new-{unique} > /v\n")
    assert new != old
    rows = json.loads(widget.data)["rows"]
    (index,) = [i for i, r in enumerate(rows) if r["full_id"] == old]
    answer = widget.answer({"t": "remove", "row": index, "id": old, "req": "r"})
    assert answer["status"] == "ok", answer
    with pytest.raises(docker.errors.NotFound):
        api.inspect_image(old)  # the image the row showed is gone
    assert api.inspect_image(f"{name}:latest")["Id"] == new  # the rebuilt one is untouched
    lines = [text for _, text in answer["view"]["lines"]]
    assert any(f"{name}:latest now names {new.split(':')[1][:12]}" in text for text in lines)
    api.remove_image(new)


def test_an_image_row_acts_on_the_engine_that_made_the_list(ip, api, unique, monkeypatch):
    """Not the engine of the last command: pointing DOCKER_HOST elsewhere later changes nothing."""
    api.tag("busybox:latest", f"{unique}-here", "1")
    session = cli.Session(Engine())
    listed = images.list_images(session.engine, reference=f"{unique}-here")
    widget = widgets.ImageListWidget(listed.view(), actions=images.row_actions(session))
    monkeypatch.setenv("DOCKER_HOST", "unix:///tmp/nbdocker-nowhere.sock")
    with capture_output():
        with pytest.raises(NbDockerError):
            ip.run_line_magic("docker", "images")  # the kernel's session now points nowhere
    rows = json.loads(widget.data)["rows"]
    answer = widget.answer({"t": "remove", "row": 0, "id": rows[0]["full_id"], "req": "r"})
    assert answer["status"] == "ok", answer
    assert not api.images(name=f"{unique}-here")


def test_an_image_list_made_in_a_shell_carries_its_actions(ip, api, unique):
    api.tag("busybox:latest", f"{unique}-shell", "1")
    listed = ip.run_line_magic("docker", f"images {unique}-shell")
    assert set(listed.actions) == {"inspect", "history", "remove"}
    api.remove_image(f"{unique}-shell:1")


# ---------------------------------------------------------------- 4. secret build args in inspect


SECRET_DOCKERFILE = "FROM busybox\nARG GITHUB_TOKEN\nARG API_KEY\nRUN echo \"$GITHUB_TOKEN $API_KEY\" > /dev/null\n"


@pytest.mark.parametrize("builder", ["classic", "buildkit"])
def test_secret_build_args_never_show_in_inspect_or_history(ip, api, unique, builder):
    token, key = f"ghp_{unique}x", "two words"
    tag = f"{unique}-secret:1"
    with capture_output():
        built = ip.run_cell_magic("dockerfile", f"-q -t {tag} --builder {builder} --build-arg "
                                  f"GITHUB_TOKEN={token} --build-arg 'API_KEY={key}'", SECRET_DOCKERFILE)
    assert built.ok
    raw = json.dumps(api.inspect_image(tag)) + json.dumps(api.history(tag))
    assert token in raw  # the engine keeps them in clear: the views must not show them
    results = [ip.run_line_magic("docker", line)
               for line in (f"inspect {tag}", f"history --no-trunc {tag}", f"image inspect {tag}")]
    for line, result in zip(("inspect", "history", "image inspect", "the build"), [*results, built]):
        bundle = result._repr_mimebundle_()
        texts = [bundle["text/plain"], bundle["text/html"], json.dumps(widgets.view_state(result.view()))]
        for text in texts:
            assert token not in text and "two words" not in text, (line, text[:2000])
    api.remove_image(tag)


# ---------------------------------------------------------------- 10. --out cannot break the kernel


@pytest.mark.parametrize("name", ["__builtins__", "__name__", "class", "print", "len"])
def test_out_refuses_names_that_would_break_the_kernel(ip, name):
    with pytest.raises(UsageError, match="--out"):
        ip.run_cell_magic("dockerfile", f"--out {name}", "FROM busybox\n")
    assert ip.run_cell("x = len([1])").success


# ---------------------------------------------------------------- 6. concurrent builds of one tag


@pytest.mark.parametrize("builder", ["classic", "buildkit"])
def test_a_build_whose_tag_was_taken_by_another_says_so(ip, api, unique, builder, monkeypatch):
    """Two kernels build `-t same:1`; the one that tagged first lost the tag. Reproduced exactly:
    another tagger moves the tag between the end of this build's stream and its result."""
    from nbdocker.build import command

    tag = f"{unique}-same:1"
    real_follow = command._follow

    def follow_then_lose_the_tag(*args, **kwargs):
        state = real_follow(*args, **kwargs)
        api.tag("busybox:latest", f"{unique}-same", "1")  # the other kernel's build, tagged last
        return state

    monkeypatch.setattr(command, "_follow", follow_then_lose_the_tag)
    with capture_output():
        result = ip.run_cell_magic("dockerfile", f"-q --no-cache -t {tag} --builder {builder}",
                                   f"FROM busybox\nRUN echo {unique}-{builder} > /f\n")
    assert result.tags == []
    text = str(result)
    assert f"{tag} now names" in text and "another build took it" in text
    assert "dangling" in text and "tagged" not in text.split("\n")[0]
    assert api.inspect_image(tag)["Id"] != result.image_id
    api.remove_image(result.image_id)
    api.remove_image(tag)
