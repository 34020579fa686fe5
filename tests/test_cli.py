"""The `%docker` parser tree, pure: words and flags as the docker CLI has them, errors in one line."""
from __future__ import annotations

import pytest

from nbdocker import cli
from nbdocker.commands import images
from nbdocker.magics import COMMANDS
from nbdocker.errors import NbDockerError, UsageError


def parse(line: str):
    return COMMANDS.parser.parse_args(cli.split_line(line))


class NoEngine:
    """A session whose engine must never be reached by the words tested here."""

    def __getattr__(self, name):
        raise AssertionError(f"the engine was reached ({name})")


SESSION = cli.Session(engine=NoEngine())  # type: ignore[arg-type]
RUN = lambda words: COMMANDS.run_words(SESSION, words)  # noqa: E731


@pytest.mark.parametrize("line", ["images", "image ls", "image list"])
def test_images_flags(line):
    a = parse(f"{line} -a -q --digests --no-trunc -f dangling=true --filter label=x busybox:1")
    assert (a.all, a.quiet, a.digests, a.no_trunc) == (True, True, True, True)
    assert a.filter == ["dangling=true", "label=x"]
    assert a.reference == "busybox:1"
    assert a.run is images._run_images
    b = parse(f"{line}")
    assert (b.all, b.quiet, b.digests, b.no_trunc, b.filter, b.reference) == (
        False, False, False, False, None, None)


def test_combined_short_flags_and_equals_forms_like_the_cli():
    a = parse("images -aq --filter=reference=busy*")
    assert a.all and a.quiet and a.filter == ["reference=busy*"]
    assert parse("images --all --quiet").quiet


@pytest.mark.parametrize("line", ["history", "image history"])
def test_history_flags(line):
    a = parse(f"{line} --no-trunc -q busybox")
    assert (a.no_trunc, a.quiet, a.image) == (True, True, "busybox")
    assert a.run is images._run_history


@pytest.mark.parametrize("line", ["inspect", "image inspect"])
def test_inspect_takes_several_images(line):
    assert parse(f"{line} a b:1 c").images == ["a", "b:1", "c"]


@pytest.mark.parametrize("line", ["tag", "image tag"])
def test_tag_takes_source_and_target(line):
    a = parse(f"{line} busybox my/app:1")
    assert (a.source, a.target, a.run) == ("busybox", "my/app:1", images._run_tag)


@pytest.mark.parametrize("line", ["rmi", "image rm", "image remove"])
def test_rmi_flags(line):
    a = parse(f"{line} -f --no-prune a b")
    assert (a.force, a.no_prune, a.images, a.run) == (True, True, ["a", "b"], images._run_rmi)
    assert parse(f"{line} --force a").force


def test_a_trailing_semicolon_reaches_the_magic_and_is_dropped():
    assert cli.split_line("images -q ;") == ["images", "-q"]
    assert cli.split_line("rmi 'a b' c") == ["rmi", "a b", "c"]
    with pytest.raises(UsageError, match="cannot split"):
        cli.split_line("rmi 'unclosed")


@pytest.mark.parametrize("line, prog, words", [
    ("bogus", "%docker", "unknown command 'bogus'"),
    ("image bogus", "%docker image", "unknown command 'bogus'"),
    ("images --bogus", "%docker images", "unrecognized arguments: --bogus"),
    ("images -x", "%docker images", "unrecognized arguments: -x"),
    ("image ls --bogus", "%docker image ls", "unrecognized arguments: --bogus"),
    ("rmi", "%docker rmi", "required: IMAGE"),
    ("image rm", "%docker image rm", "required: IMAGE"),
    ("tag busybox", "%docker tag", "required: TARGET_IMAGE"),
    ("history a b", "%docker history", "unrecognized arguments: b"),
    ("images a b", "%docker images", "unrecognized arguments: b"),
    ("images -f", "%docker images", "expected one argument"),
])
def test_usage_errors_are_one_line_naming_the_command(line, prog, words):
    with pytest.raises(UsageError) as info:
        COMMANDS.run_words(SESSION, cli.split_line(line))
    rendered = info.value._render_traceback_()
    assert len(rendered) == 1 and "\n" not in rendered[0]
    assert rendered[0].startswith(f"{prog}: "), rendered
    assert words in rendered[0]
    assert "-h)" in rendered[0]  # says where the help is
    assert "choose from" not in rendered[0]  # no wall of choices
    assert isinstance(info.value, NbDockerError)


def test_filter_without_equals_is_a_usage_error_of_images():
    from nbdocker.commands.images import list_images

    with pytest.raises(UsageError) as info:
        list_images(NoEngine(), filters=["dangling"])  # type: ignore[arg-type]
    assert info.value._render_traceback_()[0].startswith("%docker images: --filter 'dangling'")


@pytest.mark.parametrize("line, first", [
    ("rmi -h", "usage: %docker rmi [-h] [-f] [--no-prune] IMAGE [IMAGE ...]"),
    ("image rm --help", "usage: %docker image rm [-h] [-f] [--no-prune] IMAGE [IMAGE ...]"),
    ("images -h", "usage: %docker images [-h] [-a] [-q] [--digests] [--no-trunc] [-f KEY=VALUE]"),
    ("image ls -h", "usage: %docker image ls [-h] [-a] [-q] [--digests] [--no-trunc]"),
    ("history -h", "usage: %docker history [-h] [--no-trunc] [-q] IMAGE"),
    ("-h", "usage: %docker [-h] COMMAND ..."),
    ("", "usage: %docker [-h] COMMAND ..."),
    ("image", "usage: %docker image [-h] COMMAND ..."),
])
def test_help_is_printed_and_nothing_runs(capsys, line, first):
    assert COMMANDS.run_words(SESSION, cli.split_line(line)) is None
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith(first)


def test_rmi_help_names_every_flag(capsys):
    COMMANDS.run_words(SESSION, ["rmi", "-h"])
    out = capsys.readouterr().out
    for words in ("Remove one or more images", "-f, --force", "--no-prune", "IMAGE"):
        assert words in out


def test_help_text_lists_every_image_command():
    text = COMMANDS.help_text()
    for usage in ("%docker images [-h] [-a] [-q] [--digests] [--no-trunc] [-f KEY=VALUE]",
                  "%docker inspect [-h] IMAGE [IMAGE ...]",
                  "%docker history [-h] [--no-trunc] [-q] IMAGE",
                  "%docker tag [-h] SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
                  "%docker rmi [-h] [-f] [--no-prune] IMAGE [IMAGE ...]"):
        assert " ".join(usage.split()) in " ".join(text.split()), usage
    assert "Manage images" in text


def test_substitutions_only_run_nbdocker_commands():
    assert cli.expand_substitutions("images -q", RUN) == "images -q"
    with pytest.raises(UsageError, match=r"only \$\(docker …\) runs here"):
        cli.expand_substitutions("rmi $(ls /)", RUN)
    with pytest.raises(UsageError, match="unclosed"):
        cli.expand_substitutions("rmi $(docker images -q", RUN)


def test_substitution_splices_the_words_of_a_result():
    # `$(docker …)` with help as the inner command: runs, prints, splices nothing
    assert cli.expand_substitutions("rmi $(docker rmi -h) x", RUN) == "rmi  x"
    assert cli._words_of(["a", "b c"]) == ["a", "b c"]
    assert cli._words_of(None) == []
    assert cli._words_of("a b") == ["a", "b"]


def test_substitutions_respect_quotes():
    # a container's own shell gets `$(…)` inside quotes, untouched
    line = """run busybox sh -c 'echo $(pwd)' "$(date)" """
    assert cli.expand_substitutions(line, RUN) == line
    assert cli.split_line(cli.expand_substitutions(line, RUN))[-2:] == ["echo $(pwd)", "$(date)"]
