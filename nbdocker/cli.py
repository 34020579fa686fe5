"""One parser tree for `%docker` (and `%%dockerfile`), with the docker CLI's words and flags.

Each sub-parser's `run` default is a function `(session, args) -> result`; the magics only call
`run_docker_line`. Parse errors are one line (UsageError); `-h` prints the real help.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from nbdocker.commands import images
from nbdocker.engine.client import Engine
from nbdocker.errors import UsageError
from nbdocker.views.results import IdList


class HelpShown(Exception):
    """`-h` printed the help; the magic returns nothing."""


def _shorter(message: str) -> str:
    """argparse lists every choice after an unknown command: name the word instead."""
    if "invalid choice" in message:
        word = message.split("invalid choice: ", 1)[-1].split(" (", 1)[0]
        return f"unknown command {word}"
    return message


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises one-line UsageErrors instead of exiting the kernel."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("exit_on_error", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{_shorter(message)} (see {self.prog} -h)", self.prog)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        # With exit_on_error=False an ArgumentError (bad choice, missing value) rises through every
        # parser: the innermost one turns it into the UsageError, so the message names its command.
        try:
            return super().parse_known_args(args, namespace)
        except argparse.ArgumentError as err:
            self.error(str(err))

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stdout.write(message)
        raise HelpShown()

    def print_help(self, file: Any = None) -> None:
        sys.stdout.write(self.format_help())


@dataclass
class Session:
    """What a command needs from the kernel: the engine and the magics' settings."""

    engine: Engine
    builder: str = "auto"
    user_ns: dict[str, Any] = field(default_factory=dict)
    # Set by the magics: shows a result now (used for progress and for partial results).
    show: Callable[[Any], None] = lambda result: None


# The session of the last command: views that act later (a widget's "remove" button) use it.
current_session: Session | None = None

Runner = Callable[[Session, argparse.Namespace], Any]
_EXTENSIONS: list[Callable[[Any], None]] = []


def extension(register: Callable[[Any], None]) -> Callable[[Any], None]:
    """Decorator for modules that add sub-commands (build, run, push …) to the tree."""
    _EXTENSIONS.append(register)
    return register


def add_command(sub: Any, name: str, run: Runner, help: str, aliases: tuple[str, ...] = (),
                prog: str | None = None) -> ArgumentParser:
    """A sub-command `name` whose `run(session, args)` makes the result (`prog` names it in errors)."""
    parser = sub.add_parser(name, help=help, description=help, aliases=list(aliases),
                            prog=prog or f"%docker {name}")
    parser.set_defaults(run=run, prog=parser.prog)
    return parser


# ---------------------------------------------------------------- image commands


def add_images(sub: Any, name: str = "images", prog: str | None = None, aliases: tuple[str, ...] = ()) -> None:
    p = add_command(sub, name, _run_images, "List images", aliases, prog)
    p.add_argument("-a", "--all", action="store_true", help="Show all images (default hides intermediate images)")
    p.add_argument("-q", "--quiet", action="store_true", help="Only show image IDs (returns a list)")
    p.add_argument("--digests", action="store_true", help="Show digests")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("-f", "--filter", action="append", metavar="KEY=VALUE",
                   help="Filter output based on conditions provided (dangling=true, label=K, reference=…)")
    p.add_argument("reference", nargs="?", metavar="REPOSITORY[:TAG]")


def _run_images(session: Session, a: argparse.Namespace) -> Any:
    return images.list_images(session.engine, all=a.all, quiet=a.quiet, digests=a.digests,
                              no_trunc=a.no_trunc, filters=a.filter, reference=a.reference)


def add_inspect(sub: Any, name: str = "inspect", prog: str | None = None) -> None:
    p = add_command(sub, name, _run_inspect, "Display detailed information on one or more images",
                    prog=prog)
    p.add_argument("images", nargs="+", metavar="IMAGE")


def _run_inspect(session: Session, a: argparse.Namespace) -> Any:
    return images.inspect_images(session.engine, a.images)


def add_history(sub: Any, name: str = "history", prog: str | None = None) -> None:
    p = add_command(sub, name, _run_history, "Show the history of an image", prog=prog)
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("-q", "--quiet", action="store_true", help="Only show image IDs (returns a list)")
    p.add_argument("image", metavar="IMAGE")


def _run_history(session: Session, a: argparse.Namespace) -> Any:
    result = images.image_history(session.engine, a.image, no_trunc=a.no_trunc, quiet=a.quiet)
    from nbdocker.build import command as build  # layers tied to the Dockerfile lines of builds made in this kernel

    return build.attach_lines(result) if isinstance(result, images.History) else result


def add_tag(sub: Any, name: str = "tag", prog: str | None = None) -> None:
    p = add_command(sub, name, _run_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
                    prog=prog)
    p.add_argument("source", metavar="SOURCE_IMAGE[:TAG]")
    p.add_argument("target", metavar="TARGET_IMAGE[:TAG]")


def _run_tag(session: Session, a: argparse.Namespace) -> Any:
    return images.tag_image(session.engine, a.source, a.target)


def add_rmi(sub: Any, name: str = "rmi", prog: str | None = None, aliases: tuple[str, ...] = ()) -> None:
    p = add_command(sub, name, _run_rmi, "Remove one or more images", aliases, prog)
    p.add_argument("-f", "--force", action="store_true", help="Force removal of the image")
    p.add_argument("--no-prune", action="store_true", help="Do not delete untagged parents")
    p.add_argument("images", nargs="+", metavar="IMAGE")


def _run_rmi(session: Session, a: argparse.Namespace) -> Any:
    return images.remove_images(session.engine, a.images, force=a.force, no_prune=a.no_prune)


# ---------------------------------------------------------------- the tree


def build_parser() -> ArgumentParser:
    """The whole `%docker` tree: top-level commands and the `image` management command."""
    parser = ArgumentParser(prog="%docker", description="Docker image commands in the notebook, "
                            "with the docker CLI's words and flags.", add_help=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    add_images(sub)
    add_inspect(sub)
    add_history(sub)
    add_tag(sub)
    add_rmi(sub)
    image = sub.add_parser("image", help="Manage images (image ls, inspect, history, tag, rm …)",
                           prog="%docker image")
    image_sub = image.add_subparsers(dest="image_command", metavar="COMMAND", parser_class=ArgumentParser)
    image.set_defaults(run=lambda session, a: (image.print_help(), None)[1], parser=image)
    add_images(image_sub, "ls", "%docker image ls", aliases=("list",))
    add_inspect(image_sub, "inspect", "%docker image inspect")
    add_history(image_sub, "history", "%docker image history")
    add_tag(image_sub, "tag", "%docker image tag")
    add_rmi(image_sub, "rm", "%docker image rm", aliases=("remove",))
    for register in _EXTENSIONS:
        register(sub, image_sub)
    return parser


_PARSER: ArgumentParser | None = None


def parser() -> ArgumentParser:
    """The parser tree, built once (extensions register when their module is imported)."""
    global _PARSER
    if _PARSER is None:
        from nbdocker.build import command as build  # noqa: F401  (they register sub-commands)
        from nbdocker.commands import containers  # noqa: F401
        from nbdocker.commands import registry  # noqa: F401
        from nbdocker.commands import system  # noqa: F401

        _PARSER = build_parser()
    return _PARSER


def split_line(line: str) -> list[str]:
    """Shell-like words; a trailing `;` (IPython passes it through) is dropped."""
    line = line.strip()
    if line.endswith(";"):
        line = line[:-1]
    try:
        return shlex.split(line)
    except ValueError as err:
        raise UsageError(f"cannot split the line: {err}") from None


def expand_substitutions(line: str, session: Session) -> str:
    """`$(docker images -q)` runs that nbdocker command (not a shell) and splices its words.

    As in a shell, nothing inside single quotes is substituted. Another `$(…)` inside double quotes
    (`sh -c "echo $(pwd)"` for a container) is left for the command that receives it; unquoted, it
    would be a host shell's job, which this is not: a usage error says so.
    """
    out, i, quoted, double = [], 0, False, False
    while i < len(line):
        char = line[i]
        if char == "'" and not double:
            quoted = not quoted
        elif char == '"' and not quoted:
            double = not double
        elif char == "\\" and not quoted:
            out.append(line[i : i + 2])
            i += 2
            continue
        elif line.startswith("$(", i) and not quoted:
            end = _closing_paren(line, i + 2)
            inner = line[i + 2 : end].strip()
            words = split_line(inner)
            if words and words[0] == "docker":
                value = run_words(session, words[1:])
                out.append(" ".join(shlex.quote(str(v)) for v in _words_of(value)))
                i = end + 1
                continue
            if not double:
                raise UsageError(f"$({inner}): only $(docker …) runs here (nbdocker commands, not a "
                                 "shell); quote it to pass it on to a container's command")
        out.append(char)
        i += 1
    return "".join(out)


def _closing_paren(line: str, start: int) -> int:
    depth = 1
    for j in range(start, len(line)):
        depth += {"(": 1, ")": -1}.get(line[j], 0)
        if depth == 0:
            return j
    raise UsageError(f"unclosed $( in: {line[start - 2:]}")


def _words_of(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, IdList)):
        return [str(v) for v in value]
    return str(value).split()


def run_words(session: Session, words: list[str]) -> Any:
    """Parse the words and run the command; returns its result (None after help)."""
    global current_session
    current_session = session
    if not words:
        parser().print_help()
        return None
    try:
        args, extra = parser().parse_known_args(words)
    except HelpShown:
        return None
    except argparse.ArgumentError as err:
        raise UsageError(f"{_shorter(str(err))} (see %docker -h)") from None
    prog = getattr(args, "prog", "%docker")
    if extra:
        raise UsageError(f"unrecognized arguments: {' '.join(extra)} (see {prog} -h)", prog)
    if getattr(args, "run", None) is None:
        parser().print_help()
        return None
    return args.run(session, args)


def run_docker_line(session: Session, line: str) -> Any:
    """The whole `%docker` line: substitutions, words, command."""
    return run_words(session, split_line(expand_substitutions(line, session)))


def help_text() -> str:
    """`%docker?`: the usage of every command."""
    p = parser()
    parts = [p.format_help()]
    for action in p._subparsers._group_actions:  # type: ignore[union-attr]
        for name, sub in action.choices.items():
            if name in ("image",) or sub.prog.split()[-1] != name:
                continue
            parts.append(sub.format_usage().replace("usage: ", "  "))
    return "\n".join(parts)
