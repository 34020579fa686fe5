"""The parser framework for `%docker` (and `%%dockerfile`): the docker CLI's words and flags.

It knows no command. Command modules register their sub-parsers (`register(sub, image_sub)`);
`CommandTree` assembles the tree from the modules it is given (the glue passes the table in
`nbdocker.commands.table`). Each sub-parser's `run` default is a function `(session, args) ->
result`. Parse errors are one line (UsageError); `-h` prints the real help.
"""
from __future__ import annotations

import argparse
import importlib
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from nbdocker.errors import UsageError

if TYPE_CHECKING:  # annotations only: the framework imports no layer below it at run time
    from nbdocker.engine.client import Engine


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
    # What builds in this kernel made (an `ImageMemory`): history ties layers to Dockerfile lines.
    built: Any = None


Runner = Callable[[Session, argparse.Namespace], Any]


def add_command(sub: Any, name: str, run: Runner, help: str, aliases: tuple[str, ...] = (),
                prog: str | None = None) -> ArgumentParser:
    """A sub-command `name` whose `run(session, args)` makes the result (`prog` names it in errors)."""
    parser = sub.add_parser(name, help=help, description=help, aliases=list(aliases),
                            prog=prog or f"%docker {name}")
    parser.set_defaults(run=run, prog=parser.prog)
    return parser


# ---------------------------------------------------------------- the tree


class CommandTree:
    """The `%docker` tree, assembled once from command modules that each define `register`."""

    def __init__(self, modules: Sequence[str]) -> None:
        self.modules = tuple(modules)
        self._parser: ArgumentParser | None = None

    @property
    def parser(self) -> ArgumentParser:
        if self._parser is None:
            parser = ArgumentParser(prog="%docker", description="Docker image commands in the "
                                    "notebook, with the docker CLI's words and flags.", add_help=True)
            sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
            image = sub.add_parser("image", help="Manage images (image ls, inspect, history, tag, rm …)",
                                   prog="%docker image")
            image_sub = image.add_subparsers(dest="image_command", metavar="COMMAND",
                                             parser_class=ArgumentParser)
            image.set_defaults(run=lambda session, a: (image.print_help(), None)[1], parser=image)
            for name in self.modules:
                importlib.import_module(name).register(sub, image_sub)
            self._parser = parser
        return self._parser

    def run_words(self, session: Session, words: list[str]) -> Any:
        """Parse the words and run the command; returns its result (None after help)."""
        if not words:
            self.parser.print_help()
            return None
        try:
            args, extra = self.parser.parse_known_args(words)
        except HelpShown:
            return None
        except argparse.ArgumentError as err:
            raise UsageError(f"{_shorter(str(err))} (see %docker -h)") from None
        prog = getattr(args, "prog", "%docker")
        if extra:
            raise UsageError(f"unrecognized arguments: {' '.join(extra)} (see {prog} -h)", prog)
        if getattr(args, "run", None) is None:
            self.parser.print_help()
            return None
        return args.run(session, args)

    def run_line(self, session: Session, line: str) -> Any:
        """The whole `%docker` line: substitutions, words, command."""
        expanded = expand_substitutions(line, lambda words: self.run_words(session, words))
        return self.run_words(session, split_line(expanded))

    def help_text(self) -> str:
        """`%docker?`: the usage of every command."""
        parts = [self.parser.format_help()]
        for action in self.parser._subparsers._group_actions:  # type: ignore[union-attr]
            for name, sub in action.choices.items():
                if name in ("image",) or sub.prog.split()[-1] != name:
                    continue
                parts.append(sub.format_usage().replace("usage: ", "  "))
        return "\n".join(parts)


def split_line(line: str) -> list[str]:
    """Shell-like words; a trailing `;` (IPython passes it through) is dropped."""
    line = line.strip()
    if line.endswith(";"):
        line = line[:-1]
    try:
        return shlex.split(line)
    except ValueError as err:
        raise UsageError(f"cannot split the line: {err}") from None


def expand_substitutions(line: str, run: Callable[[list[str]], Any]) -> str:
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
                value = run(words[1:])
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
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return str(value).split()
