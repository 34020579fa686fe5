"""Image commands against the real engine, and what the docker CLI prints for the same images.

Every image here is built with content unique to the test (`RUN echo <unique name>`), so no build
cache can hand us an image another engineer also tags: removing "our" image by id can never remove
theirs. Containers are made with the docker CLI and removed after; `busybox:latest` is only read.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import datetime, timezone

import docker.errors
import pytest
from IPython.utils.capture import capture_output

import conftest
from conftest import docker_cli
from nbdocker.errors import CommandFailed, EngineError, UsageError
from nbdocker.commands.images import History, ImageList, InspectResult, RemovalReport, Report, clean_created_by, \
    truncate
from nbdocker.views.results import IdList
from nbdocker.units import human_size, short_id
from test_views import assert_script_free, tabwriter

pytestmark = pytest.mark.engine  # every test here runs against the engine

LEGACY_CLI = "/usr/bin/docker"  # docker.io 20.10: DOCKER_BUILDKIT=1 works without buildx


def build(tag: str, dockerfile: str, buildkit: bool = False) -> str:
    """Build with the docker CLI (classic builder, or BuildKit through the 20.10 CLI); the image id."""
    cli = "docker"
    if buildkit:
        if not os.path.exists(LEGACY_CLI):
            conftest.skip_or_fail("no docker CLI that builds with BuildKit without buildx")
        cli = LEGACY_CLI
    env = dict(os.environ, DOCKER_BUILDKIT="1" if buildkit else "0")
    done = subprocess.run([cli, "build", "--network", "none", "-q", "-t", tag, "-"], input=dockerfile,
                          capture_output=True, text=True, env=env, timeout=180)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def simple(unique: str, extra: str = "") -> str:
    return f'FROM busybox\nRUN echo {unique} > /f\n{extra}CMD ["echo","hello"]\n'


def module_unique() -> str:
    return f"{conftest.PREFIX}-{conftest.RUN_ID}-{next(conftest._counter)}"


def table_cells(text: str, first_title: str) -> list[list[str]]:
    """Cut a CLI-style table into cells at the offsets of its header titles (no title, no footer)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first_title))
    header = lines[start]
    titles = [t for t in header.split("   ") if t.strip()]
    offsets = [header.index(t.strip()) for t in titles]
    return [[line[a:b].strip() for a, b in zip(offsets, offsets[1:] + [None])]
            for line in lines[start:] if line.strip()]


def our_table_lines(text: str, first_title: str) -> list[str]:
    """Our text/plain without the title and footer lines the CLI does not print."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first_title))
    table = [lines[start]]
    for line in lines[start + 1:]:
        if "   " not in line:  # the footer ("2 images, 3.97MB") has no column gaps
            break
        table.append(line)
    return table


# ---------------------------------------------------------------- images made once for the fidelity tests


@pytest.fixture(scope="module")
def made(api):
    """A repository with a BuildKit image, and a classic image under two tags (built 1 s later, so
    the engine's newest-first order has no ties)."""
    repo = module_unique()
    ids = {}
    ids["bk"] = build(f"{repo}:bk", simple(repo + "-bk"), buildkit=True)
    time.sleep(1.1)
    ids["classic"] = build(f"{repo}:classic", simple(repo + "-classic"))
    docker_cli("tag", f"{repo}:classic", f"{repo}:second")
    yield repo, ids
    for tag in ("bk", "classic", "second"):
        docker_cli("rmi", f"{repo}:{tag}", check=False)


# ---------------------------------------------------------------- images


def test_images_q_is_an_id_list_like_the_cli(ip, made):
    repo, ids = made
    ours = ip.run_line_magic("docker", f"images -q {repo}")
    assert type(ours) is IdList
    cli = docker_cli("images", "-q", repo).stdout.split()
    # one id per row, as the CLI: the two-tag image's id appears twice
    assert list(ours) == cli
    assert ours.count(short_id(ids["classic"])) == 2 and ours.count(short_id(ids["bk"])) == 1
    assert list(ip.run_line_magic("docker", f"images -q --no-trunc {repo}")) == \
        docker_cli("images", "-q", "--no-trunc", repo).stdout.split()


@pytest.mark.parametrize("flags", ["", "--digests", "--no-trunc"])
def test_images_rows_match_the_cli(ip, made, flags):
    repo, _ = made
    result = ip.run_line_magic("docker", f"images {flags} {repo}".replace("  ", " "))
    assert isinstance(result, ImageList)
    cli_text = docker_cli("images", *flags.split(), repo).stdout
    ours = table_cells("\n".join(our_table_lines(result._repr_mimebundle_()["text/plain"],
                                                 "REPOSITORY")), "REPOSITORY")
    theirs = table_cells(cli_text, "REPOSITORY")
    created = theirs[0].index("CREATED")
    # the same rows, in the same order, cell for cell — but CREATED, since time passes
    assert [r[:created] + r[created + 1:] for r in ours] == [r[:created] + r[created + 1:] for r in theirs]
    assert all(r[created].endswith(" ago") for r in ours[1:])
    assert [r[1] for r in ours[1:]] == ["classic", "second", "bk"]  # newest first, tags in order


def test_the_cli_table_is_what_the_tabwriter_model_makes(made):
    repo, _ = made
    for args in (("images", repo), ("history", f"{repo}:classic"), ("history", f"{repo}:bk")):
        cli_text = docker_cli(*args).stdout.rstrip("\n")
        cells = table_cells(cli_text, "REPOSITORY" if args[0] == "images" else "IMAGE")
        assert "\n".join(line.rstrip() for line in tabwriter(cells).splitlines()) == \
            "\n".join(line.rstrip() for line in cli_text.splitlines())


@pytest.mark.parametrize("args", ["images", "history"])
def test_our_text_table_is_laid_out_like_the_cli(ip, made, args):
    repo, _ = made
    # `bk` alone makes the TAG column narrower than the tabwriter's 10-column minimum
    line = f"images {repo}:bk" if args == "images" else f"history {repo}:classic"
    title = "REPOSITORY" if args == "images" else "IMAGE"
    text = ip.run_line_magic("docker", line)._repr_mimebundle_()["text/plain"]
    ours = "\n".join(our_table_lines(text, title))
    cells = table_cells(ours, title)
    assert ours == "\n".join(line.rstrip() for line in tabwriter(cells).splitlines())


def test_images_all_shows_intermediate_images(ip, made, engine):
    repo, ids = made
    parent = engine.inspect_image(ids["classic"])["Parent"]  # the classic builder's RUN step
    assert parent
    assert short_id(parent) in ip.run_line_magic("docker", "images -a -q")
    assert short_id(parent) not in ip.run_line_magic("docker", "images -q")
    assert short_id(parent) in docker_cli("images", "-a", "-q").stdout.split()


def test_images_filters(ip, made):
    repo, ids = made
    q = ip.run_line_magic("docker", f"images -q -f reference={repo}:bk")
    assert list(q) == [short_id(ids["bk"])] == docker_cli("images", "-q", "-f",
                                                          f"reference={repo}:bk").stdout.split()
    both = ip.run_line_magic("docker", f"images -q -f reference={repo}:classic -f reference={repo}:bk")
    assert sorted(set(both)) == sorted({short_id(ids["bk"]), short_id(ids["classic"])})
    with pytest.raises(UsageError, match="KEY=VALUE"):
        ip.run_line_magic("docker", "images -f dangling")
    with pytest.raises(EngineError, match="(?i)invalid filter"):
        ip.run_line_magic("docker", "images -f nonsense=1")


def test_image_ls_is_images(ip, made):
    repo, _ = made
    assert list(ip.run_line_magic("docker", f"image ls -q {repo}")) == \
        list(ip.run_line_magic("docker", f"images -q {repo}"))


def test_images_data_is_kept(ip, made, engine):
    repo, ids = made
    result = ip.run_line_magic("docker", f"images {repo}")
    row = next(r for r in result.rows if r.tag == "bk")
    attrs = engine.inspect_image(ids["bk"])
    assert (row.repository, row.id, row.size) == (repo, ids["bk"], attrs["Size"])
    assert row.short_id == short_id(ids["bk"]) and not row.dangling


# ---------------------------------------------------------------- history


def cli_history_json(image: str) -> list[dict]:
    out = docker_cli("history", "--no-trunc", "--format", "{{json .}}", image).stdout
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize("tag", ["classic", "bk"])
def test_history_data_matches_the_cli(ip, made, tag):
    repo, _ = made
    result = ip.run_line_magic("docker", f"history {repo}:{tag}")
    assert isinstance(result, History)
    cli = cli_history_json(f"{repo}:{tag}")
    assert len(result.layers) == len(cli)
    for layer, row in zip(result.layers, cli):
        assert layer.id == row["ID"]
        assert human_size(layer.size) == row["Size"]
        assert layer.created_by == row["CreatedBy"]  # raw, kept
        assert layer.comment == row["Comment"]
        assert datetime.fromtimestamp(layer.created, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") == \
            row["CreatedAt"]
    # the display is cleaned, the same way for both builders
    shown = [layer.display_created_by for layer in result.layers]
    assert shown[:2] == ['CMD ["echo" "hello"]', f"RUN echo {repo}-{tag} > /f"]
    if tag == "bk":
        assert [layer.id for layer in result.layers][1:] == ["<missing>", "<missing>"]


@pytest.mark.parametrize("tag", ["classic", "bk"])
def test_history_table_rows_match_the_cli_table(ip, made, tag):
    repo, _ = made
    text = ip.run_line_magic("docker", f"history {repo}:{tag}")._repr_mimebundle_()["text/plain"]
    ours = table_cells("\n".join(our_table_lines(text, "IMAGE")), "IMAGE")
    theirs = table_cells(docker_cli("history", f"{repo}:{tag}").stdout, "IMAGE")
    raw = [row["CreatedBy"] for row in cli_history_json(f"{repo}:{tag}")]
    assert ours[0] == theirs[0] == ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]
    assert len(ours) == len(theirs) == len(raw) + 1
    for mine, cli, created_by in zip(ours[1:], theirs[1:], raw):
        assert (mine[0], mine[3], mine[4]) == (cli[0], cli[3], cli[4])  # id, size, comment
        assert mine[1].endswith(" ago") and cli[1].endswith(" ago")
        # the CLI cuts the raw text at 45 columns; we cut the cleaned text the same way
        assert cli[2] == truncate(created_by, 45)
        assert mine[2] == truncate(clean_created_by(created_by), 45)


def test_history_no_trunc_and_quiet_match_the_cli(ip, made):
    repo, _ = made
    for tag in ("classic", "bk"):
        image = f"{repo}:{tag}"
        assert list(ip.run_line_magic("docker", f"history -q {image}")) == \
            docker_cli("history", "-q", image).stdout.split()
        assert list(ip.run_line_magic("docker", f"history -q --no-trunc {image}")) == \
            docker_cli("history", "-q", "--no-trunc", image).stdout.split()
    full = ip.run_line_magic("docker", f"history --no-trunc {repo}:classic")
    row = full.view().rows[0]
    assert row["id"].startswith("sha256:") and len(row["id"]) == 71


def test_history_truncates_like_the_cli_ellipsis():
    assert truncate("a" * 45, 45) == "a" * 45
    assert truncate("a" * 46, 45) == "a" * 44 + "…"
    assert truncate("漢" * 30, 45) == "漢" * 22 + "…"  # wide characters count twice, as in the CLI
    assert clean_created_by("/bin/sh -c #(nop)  CMD [\"sh\"]") == 'CMD ["sh"]'
    assert clean_created_by("|1 A=b /bin/sh -c echo $A") == "RUN echo $A"
    assert clean_created_by("RUN |1 A=b /bin/sh -c echo $A # buildkit") == "RUN echo $A"
    assert clean_created_by("RUN /bin/sh -c echo hi > /f # buildkit") == "RUN echo hi > /f"
    assert clean_created_by("COPY a /b # buildkit") == "COPY a /b"
    assert clean_created_by("WORKDIR /x") == "WORKDIR /x"


def test_history_of_a_missing_image_is_one_line(ip, unique):
    with pytest.raises(EngineError) as info:
        ip.run_line_magic("docker", f"history {unique}:nope")
    assert info.value._render_traceback_() == [f"docker: No such image: {unique}:nope"]


# ---------------------------------------------------------------- inspect


def test_inspect_attrs_are_the_engines_json(ip, made):
    repo, _ = made
    result = ip.run_line_magic("docker", f"inspect {repo}:classic")
    assert isinstance(result, InspectResult)
    cli = json.loads(docker_cli("image", "inspect", f"{repo}:classic").stdout)
    assert result.attrs == cli[0]
    assert result["Id"] == cli[0]["Id"] and result[0] == cli[0]
    several = ip.run_line_magic("docker", f"image inspect {repo}:classic {repo}:bk")
    assert several.items == json.loads(docker_cli("image", "inspect", f"{repo}:classic",
                                                  f"{repo}:bk").stdout)
    assert json.loads(several._repr_mimebundle_()["text/plain"]) == several.items


def test_inspect_shows_what_it_found_then_fails_for_the_rest(ip, made, unique):
    repo, _ = made
    with capture_output() as captured:
        result = ip.run_cell(f"%docker inspect {repo}:bk {unique}:nope")
    assert isinstance(result.error_in_exec, CommandFailed)
    assert f"No such image: {unique}:nope" in captured.stdout
    assert len(captured.outputs) == 1  # the found image was shown first
    assert repo in captured.outputs[0].data["text/plain"]


# ---------------------------------------------------------------- tag


def test_tag_creates_the_target(ip, made, engine):
    repo, ids = made
    try:
        report = ip.run_line_magic("docker", f"tag {repo}:bk {repo}-tagged:v1")
        assert isinstance(report, Report)
        assert str(report) == f"Tagged {repo}:bk as {repo}-tagged:v1"
        assert engine.inspect_image(f"{repo}-tagged:v1")["Id"] == ids["bk"]
        report = ip.run_line_magic("docker", f"image tag {short_id(ids['bk'])} localhost:5000/{repo}")
        assert str(report).endswith(f"localhost:5000/{repo}:latest")
        assert f"localhost:5000/{repo}:latest" in engine.inspect_image(ids["bk"])["RepoTags"]
    finally:
        docker_cli("rmi", f"{repo}-tagged:v1", f"localhost:5000/{repo}:latest", check=False)


def test_tag_errors_are_one_line(ip, unique):
    with pytest.raises(EngineError) as info:
        ip.run_line_magic("docker", f"tag {unique}:nope {unique}:x")
    assert len(info.value._render_traceback_()) == 1
    assert "No such image" in str(info.value)


# ---------------------------------------------------------------- HTML snapshots of engine data


EVIL = "<script>alert(1)</script>"
EVIL_LABEL = "<img src=x onerror=alert(2)>"


def test_html_escapes_labels_and_history(ip, unique):
    dockerfile = (f"FROM busybox\nLABEL evil=\"{EVIL_LABEL}\"\n"
                  f"RUN echo '{EVIL}' > /x && echo {unique}\n")
    build(f"{unique}:evil", dockerfile)
    try:
        for line in (f"history {unique}:evil", f"history --no-trunc {unique}:evil",
                     f"inspect {unique}:evil", f"images {unique}"):
            bundle = ip.run_line_magic("docker", line)._repr_mimebundle_()
            markup = bundle["text/html"]
            assert "<script>" not in markup and "<img" not in markup, line
            assert_script_free(markup, data="")
            if line.startswith("history --no-trunc"):
                assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
                assert EVIL in bundle["text/plain"]  # the text form is text: kept as it is
            if line.startswith("inspect"):
                assert "&lt;img src=x onerror=alert(2)&gt;" in markup
    finally:
        docker_cli("rmi", f"{unique}:evil", check=False)


# ---------------------------------------------------------------- rmi: every case of DESIGN.md's removal list


@pytest.fixture
def containers():
    """Names of containers a test makes with the docker CLI; removed after."""
    names: list[str] = []
    yield names
    if names:
        docker_cli("rm", "-f", *names, check=False)


def rmi(ip, line: str) -> tuple[RemovalReport, BaseException | None, list[str]]:
    """Run `%docker rmi …` as a cell; the report (shown on failure too), the error, output lines."""
    with capture_output() as captured:
        result = ip.run_cell(f"%docker {line}")
    err = result.error_in_exec
    if err is None:
        report = result.result
    else:
        assert isinstance(err, CommandFailed), err
        report = err.result
        # the report was displayed before the one-line error
        assert [o.data["text/plain"] for o in captured.outputs] == [str(report)]
        (error_line,) = captured.stdout.strip().splitlines()
        assert error_line.startswith("docker: could not remove")
    assert isinstance(report, RemovalReport)
    return report, err, str(report).splitlines()


def exists(engine, ref: str) -> bool:
    try:
        engine.inspect_image(ref)
    except docker.errors.NotFound:
        return False
    return True


def test_rmi_by_id_with_several_tags_must_be_forced(ip, engine, unique):
    image = build(f"{unique}:a", simple(unique))
    docker_cli("tag", f"{unique}:a", f"{unique}:b")
    report, err, lines = rmi(ip, f"rmi {short_id(image)}")
    assert err is not None and not report.ok
    (line,) = lines
    assert "several names" in line and f"{unique}:a" in line and f"{unique}:b" in line
    assert "-f" in line and "removes every one of those names" in line
    assert engine.inspect_image(image)["RepoTags"] == [f"{unique}:a", f"{unique}:b"]  # untouched

    report, err, lines = rmi(ip, f"rmi -f {short_id(image)}")
    assert err is None and report.ok
    assert sorted(report.untagged) == [f"{unique}:a", f"{unique}:b"]
    assert image in report.deleted
    assert sorted(lines[:2]) == [f"Untagged: {unique}:a", f"Untagged: {unique}:b"]
    assert f"Deleted: {image}" in lines
    assert not exists(engine, image)


def test_rmi_by_tag_with_other_tags_only_untags(ip, engine, unique):
    image = build(f"{unique}:a", simple(unique))
    docker_cli("tag", f"{unique}:a", f"{unique}:b")
    report, err, lines = rmi(ip, f"rmi {unique}:a")
    assert err is None
    assert lines == [f"Untagged: {unique}:a"] and report.deleted == []
    assert engine.inspect_image(image)["RepoTags"] == [f"{unique}:b"]
    docker_cli("rmi", f"{unique}:b")


def test_rmi_last_tag_with_a_stopped_container(ip, engine, unique, containers):
    image = build(f"{unique}:a", simple(unique))
    docker_cli("create", "--name", f"{unique}-c", f"{unique}:a", "true")
    containers.append(f"{unique}-c")
    report, err, lines = rmi(ip, f"rmi {unique}:a")
    assert err is not None
    (line,) = lines
    assert f"stopped container {unique}-c" in line
    assert "Remove the container first" in line and "or use -f" in line
    assert "container stays" in line
    assert engine.inspect_image(image)["RepoTags"] == [f"{unique}:a"]

    report, err, lines = rmi(ip, f"rmi -f {unique}:a")
    assert err is None
    assert lines[0] == f"Untagged: {unique}:a" and f"Deleted: {image}" in lines
    assert not exists(engine, image)
    container = engine.inspect_container(f"{unique}-c")
    assert container["Image"] == image  # still there, pointing at an image that is gone


def test_rmi_by_id_with_a_stopped_container(ip, engine, unique, containers):
    image = build(f"{unique}:a", simple(unique))
    docker_cli("create", "--name", f"{unique}-c", image, "true")
    containers.append(f"{unique}-c")
    report, err, lines = rmi(ip, f"rmi {short_id(image)}")
    assert err is not None
    (line,) = lines
    assert f"stopped container {unique}-c" in line and "or use -f" in line
    assert exists(engine, image)

    report, err, lines = rmi(ip, f"rmi -f {short_id(image)}")
    assert err is None
    assert lines[0] == f"Untagged: {unique}:a" and f"Deleted: {image}" in lines
    assert not exists(engine, image)
    assert engine.inspect_container(f"{unique}-c")["Image"] == image
    # -f is not silent about the container it leaves behind, pointing at a deleted image
    (note,) = [line for line in lines if line.startswith("Note: ")]
    assert f"container {unique}-c (stopped)" in note and "no longer exists" in note


def run_detached(unique: str, image: str, containers: list[str]) -> str:
    name = f"{unique}-r"
    docker_cli("run", "-d", "--network", "none", "--name", name, image, "sleep", "300")
    containers.append(name)
    return name


def test_rmi_force_by_tag_while_a_container_runs_only_untags(ip, engine, unique, containers):
    image = build(f"{unique}:a", simple(unique))
    name = run_detached(unique, f"{unique}:a", containers)
    # without -f: the engine's "must force" conflict, explained with what -f would (not) do
    report, err, lines = rmi(ip, f"rmi {unique}:a")
    assert err is not None
    (line,) = lines
    assert f"running container {name}" in line
    assert "-f would only remove the tag" in line and "stays, untagged" in line
    # with -f: untagged only; the image stays, dangling, and the container runs on
    report, err, lines = rmi(ip, f"rmi -f {unique}:a")
    assert err is None
    assert lines[0] == f"Untagged: {unique}:a" and report.deleted == []
    # and not silent about the image it keeps: a running container holds it, now as <none>
    assert len(lines) == 2 and lines[1].startswith(f"Note: image {short_id(image)} was not deleted")
    assert f"{unique}-r (running)" in lines[1] and "<none>" in lines[1]
    assert engine.inspect_image(image)["RepoTags"] == []
    dangling = [i["Id"] for i in engine.images(filters={"dangling": True})]
    assert image in dangling
    assert engine.inspect_container(name)["State"]["Running"]
    docker_cli("rm", "-f", name)
    docker_cli("rmi", image)


@pytest.mark.parametrize("force", ["", "-f "])
def test_rmi_by_id_while_a_container_runs_cannot_be_forced(ip, engine, unique, containers, force):
    image = build(f"{unique}:a", simple(unique))
    name = run_detached(unique, image, containers)
    report, err, lines = rmi(ip, f"rmi {force}{short_id(image)}")
    assert err is not None
    (line,) = lines
    assert f"running container {name}" in line
    assert "not even with -f" in line and f"%docker rm -f {name}" in line
    assert engine.inspect_image(image)["RepoTags"] == [f"{unique}:a"]
    assert engine.inspect_container(name)["State"]["Running"]


@pytest.mark.parametrize("force", ["", "-f "])
def test_rmi_with_child_images_cannot_be_forced(ip, engine, unique, force):
    parent = build(f"{unique}:parent", simple(unique))
    child = build(f"{unique}:child", f"FROM {unique}:parent\nRUN echo child-{unique} > /g\n")
    try:
        report, err, lines = rmi(ip, f"rmi {force}{short_id(parent)}")
        assert err is not None
        (line,) = lines
        assert "child images" in line and "-f cannot help" in line
        assert engine.inspect_image(parent)["RepoTags"] == [f"{unique}:parent"]
    finally:
        docker_cli("rmi", f"{unique}:child", f"{unique}:parent", check=False)
    assert not exists(engine, child)


def test_rmi_no_prune_keeps_untagged_parents(ip, engine, unique):
    image = build(f"{unique}:a", simple(unique))
    parent = engine.inspect_image(image)["Parent"]
    assert parent  # the classic builder's intermediate image
    try:
        report, err, lines = rmi(ip, f"rmi --no-prune {unique}:a")
        assert err is None
        assert report.deleted == [image]
        assert exists(engine, parent)
    finally:
        docker_cli("rmi", parent, check=False)


def test_rmi_without_no_prune_removes_untagged_parents(ip, engine, unique):
    image = build(f"{unique}:a", simple(unique))
    parent = engine.inspect_image(image)["Parent"]
    report, err, lines = rmi(ip, f"image rm {unique}:a")
    assert err is None
    assert report.deleted[0] == image and parent in report.deleted
    assert not exists(engine, parent)


def test_one_failing_argument_does_not_stop_the_others(ip, engine, unique):
    first = build(f"{unique}:a", simple(unique + "-a"))
    second = build(f"{unique}:b", simple(unique + "-b"))
    report, err, lines = rmi(ip, f"rmi {unique}:a {unique}:nope BAD {unique}:b")
    assert isinstance(err, CommandFailed)
    assert str(err) == f"could not remove {unique}:nope, BAD (see above)"
    assert [r.argument for r in report.removals] == [f"{unique}:a", f"{unique}:nope", "BAD", f"{unique}:b"]
    assert f"Error: No such image: {unique}:nope" in lines
    assert any(line.startswith("Error: 'BAD'") and "lowercase" in line for line in lines)
    assert f"Untagged: {unique}:a" in lines and f"Untagged: {unique}:b" in lines
    assert not exists(engine, first) and not exists(engine, second)
    # the HTML form marks the errors
    markup = report._repr_mimebundle_()["text/html"]
    assert markup.count('class="nbd-error"') == 2


def test_rmi_of_substituted_ids(ip, engine, unique):
    image = build(f"{unique}:only", simple(unique))
    report, err, lines = rmi(ip, f"rmi $(docker images -q {unique})")
    assert err is None
    assert report.removals[0].argument == short_id(image)
    assert not exists(engine, image)


def test_rmi_of_substituted_ids_of_a_multi_tag_image(ip, engine, unique):
    """`images -q` repeats an id once per tag (as the CLI does); rmi takes the repeats once."""
    image = build(f"{unique}:a", simple(unique))
    docker_cli("tag", f"{unique}:a", f"{unique}:b")
    assert list(ip.run_line_magic("docker", f"images -q {unique}")) == [short_id(image)] * 2
    report, err, lines = rmi(ip, f"rmi -f $(docker images -q {unique})")
    assert err is None
    assert [r.argument for r in report.removals] == [short_id(image)]
    assert sorted(report.untagged) == [f"{unique}:a", f"{unique}:b"] and image in report.deleted
    assert not exists(engine, image)
