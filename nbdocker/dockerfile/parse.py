"""Dockerfile parsing: instructions with their line spans, read the way Docker's own parser reads them.

This module follows BuildKit's parser (`moby/buildkit/frontend/dockerfile/parser`, which the classic
builder vendors too) rule for rule: parser directives, the escape character, line continuations that
skip comment and blank lines, heredocs, exec (JSON) form versus shell form, `--flag=value` prefixes,
stages. On top of the parse it runs the checks Docker runs before building (`instructions/parse.go`),
so a learner gets "line 3: unknown instruction "FORM" (did you mean FROM?)" before anything is sent.

Where Engine 20.10 (the engine nbdocker is tested on) and current BuildKit differ, the docstrings say
which one is followed and why. Pure: no engine, no IPython.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from nbdocker.errors import DockerfileError

__all__ = [
    "KEYWORDS",
    "Dockerfile",
    "Heredoc",
    "Instruction",
    "Stage",
    "buildkit_only_features",
    "parse_dockerfile",
    "step_instruction",
]

KEYWORDS = (
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
    "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
)


# ----------------------------------------------------------------------------------- data model


@dataclass(frozen=True)
class Heredoc:
    """One `<<NAME` document attached to a RUN, COPY or ADD instruction.

    `body` is what the script or file receives: every body line with its "\\n" (CRLF normalised to
    "\\n"), leading tabs already removed when `strip_tabs` (`<<-NAME`). `quoted` is true for
    `<<"NAME"` / `<<'NAME'`, where Docker does not expand variables in the body. Body lines are
    `line_start .. line_end - 1`; `line_end` holds the terminator.
    """

    name: str
    body: str
    strip_tabs: bool
    quoted: bool
    line_start: int = 0
    line_end: int = 0


@dataclass(frozen=True)
class Instruction:
    """One instruction and where it sits in the file.

    `arguments` is the text after the keyword and the flags, continuations joined as Docker joins
    them. `flags` maps a flag name to its value; a bare boolean flag (`--link`) is "true", and a flag
    that may repeat (`--mount`, `--exclude`) has its values joined with "\\n". `stage` is the 0-based
    index of the FROM stage; an ARG before the first FROM belongs to no stage (None). `stage_name` is
    lower case, as Docker normalises it. `exec_form` is the parsed JSON array when the arguments are
    one (for HEALTHCHECK: the array after CMD). `original` is the source lines exactly as written
    (line endings removed, joined with "\\n"), continuation comments and heredoc bodies included.
    `text` is the single line Docker builds from them, which the classic builder prints after
    `Step N/M :`.
    """

    keyword: str
    arguments: str
    flags: dict[str, str] = field(hash=False)
    line_start: int
    line_end: int
    stage: int | None
    stage_name: str | None
    exec_form: list[str] | None = field(hash=False)
    heredocs: tuple[Heredoc, ...]
    original: str
    text: str = ""

    def __str__(self) -> str:
        return self.text or f"{self.keyword} {self.arguments}".strip()


@dataclass(frozen=True)
class Stage:
    """A build stage: the FROM that starts it. `base` is written as in the file (ARGs unexpanded)."""

    index: int
    name: str | None
    base: str
    line: int
    platform: str | None


@dataclass
class Dockerfile:
    """A parsed Dockerfile: its instructions in order, its stages, its parser directives.

    `directives` maps lower-case directive names (`syntax`, `escape`, `check`) to their values;
    `escape` is the escape character in effect (backslash or backtick). `warnings` holds what Docker
    only warns about (empty continuation lines), as (line, message).
    """

    instructions: list[Instruction]
    stages: list[Stage]
    directives: dict[str, str]
    escape: str
    warnings: list[tuple[int, str]] = field(default_factory=list)

    def stage_named(self, name_or_index: str | int) -> Stage | None:
        """The stage called this (case-insensitive, as `COPY --from` resolves it), or at this index."""
        if isinstance(name_or_index, int) or name_or_index.isdigit():
            index = int(name_or_index)
            return self.stages[index] if 0 <= index < len(self.stages) else None
        wanted = name_or_index.lower()
        return next((s for s in self.stages if s.name == wanted), None)

    def instruction_at(self, line: int) -> Instruction | None:
        """The instruction whose span covers this 1-based line, if any."""
        return next((i for i in self.instructions if i.line_start <= line <= i.line_end), None)


# ---------------------------------------------------------------------------------- parsing


def parse_dockerfile(text: str) -> Dockerfile:
    """Parse Dockerfile text; raise `DockerfileError(message, line)` for what Docker would refuse."""
    lines = _split_lines(text)
    reader = _Reader(lines)
    nodes = reader.read_nodes()
    if not nodes:
        raise DockerfileError("the Dockerfile is empty: write at least FROM <image>")
    instructions, stages = _check_and_place(nodes, reader.escape)
    return Dockerfile(instructions, stages, reader.directives, reader.escape, reader.warnings)


def _split_lines(text: str) -> list[str]:
    """Lines as Docker's scanner sees them: split on "\\n" only, trailing "\\r" dropped, BOM removed."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the text ended with a newline: that is not one more (empty) line
    # Only "\n" ends a line (not str.splitlines' \v, \f, \x1c …); "\r" before it is part of the ending.
    return [line.rstrip("\r") for line in lines]


@dataclass
class _Node:
    """An instruction as the first (syntax) pass sees it, before stages and argument checks."""

    keyword: str  # upper case; may be unknown here, the second pass reports it
    word: str  # the keyword as written
    text: str
    flag_words: list[str]
    arguments: str
    exec_form: list[str] | None
    heredocs: tuple[Heredoc, ...]
    line_start: int
    line_end: int
    original: str


_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
# `check` is current BuildKit's; Engine 20.10 knows only syntax and escape, and there an unknown
# directive ends the directive block. Following current BuildKit changes nothing for files whose
# directives Engine 20.10 reads.
_KNOWN_DIRECTIVES = ("syntax", "escape", "check")
_KEYWORD_SPLIT = re.compile(r"[\t\v\f\r ]+")


class _Reader:
    """The first pass: lines into instruction nodes, like `parser.Parse` in BuildKit."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.pos = 0  # index of the next unread line; the line number of the last read one
        self.directives: dict[str, str] = {}
        self.escape = "\\"
        self._continuation = _continuation_regex(self.escape)
        self._directives_done = False
        self.warnings: list[tuple[int, str]] = []

    def read_nodes(self) -> list[_Node]:
        nodes = []
        while self.pos < len(self.lines):
            raw = self.lines[self.pos]
            self.pos += 1
            token = raw.lstrip()
            self._maybe_directive(token)
            if _is_comment(token):
                token = ""
            body, ended = self._trim_continuation(token)
            if ended and body == "":
                continue  # blank or comment line between instructions
            start = self.pos
            parts = [body]
            blank_continuation = False
            while not ended and self.pos < len(self.lines):
                raw = self.lines[self.pos]
                self.pos += 1
                # Docker skips comment lines and blank lines inside a continued instruction.
                if _is_comment(raw):
                    continue
                if raw.strip() == "":
                    blank_continuation = True
                    continue
                body, ended = self._trim_continuation(raw)
                parts.append(body)
            joined = "".join(parts)
            if blank_continuation:
                self.warnings.append(
                    (self.pos, "empty continuation line (Docker warns these will become errors)"))
            nodes.append(self._node(joined, start))
        return nodes

    def _maybe_directive(self, token: str) -> None:
        """Directives count only at the very top: the first other line (even blank) ends them."""
        if self._directives_done:
            return
        match = _DIRECTIVE.match(token)
        name = match.group(1).lower() if match else None
        if name not in _KNOWN_DIRECTIVES:
            self._directives_done = True  # a plain comment, a blank line or an instruction
            return
        if name in self.directives:
            raise DockerfileError(f'only one "# {name}=" parser directive is allowed', self.pos)
        value = match.group(2)
        if name == "escape":
            if value not in ("\\", "`"):
                raise DockerfileError(
                    f'the escape directive accepts \\ or ` (backtick), not "{value}"', self.pos)
            self.escape = value
            self._continuation = _continuation_regex(value)
        self.directives[name] = value

    def _trim_continuation(self, line: str) -> tuple[str, bool]:
        """Remove a trailing escape character (plus spaces/tabs); say whether the instruction ended."""
        match = self._continuation.search(line)
        if match is None:
            return line, True
        return line[: match.start()] + (match.group(1) or ""), False

    def _node(self, joined: str, start: int) -> _Node:
        word, flag_words, arguments = _split_command(joined)
        keyword = word.upper()
        exec_form = _exec_form_of(keyword, arguments, start)
        heredocs: tuple[Heredoc, ...] = ()
        if "<<" in joined and _can_contain_heredoc(keyword, arguments, exec_form):
            heredocs = self._read_heredocs(joined, start)
        return _Node(keyword=keyword, word=word, text=joined.strip(), flag_words=flag_words,
                     arguments=arguments, exec_form=exec_form, heredocs=heredocs, line_start=start,
                     line_end=self.pos, original="\n".join(self.lines[start - 1:self.pos]))

    def _read_heredocs(self, joined: str, start: int) -> tuple[Heredoc, ...]:
        """Read each heredoc body in order; they follow the instruction line, one after another."""
        docs = []
        instruction_end = self.pos
        for name, strip_tabs, quoted in _heredoc_words(joined):
            body_start = self.pos + 1
            body = []
            while self.pos < len(self.lines):
                raw = self.lines[self.pos]
                self.pos += 1
                line = raw.lstrip("\t") if strip_tabs else raw
                if line == name:
                    break
                body.append(line + "\n")
            else:
                raise DockerfileError(
                    f"heredoc <<{name} is never closed: end it with a line that is exactly {name}",
                    self._line_mentioning(name, start, instruction_end))
            docs.append(Heredoc(name, "".join(body), strip_tabs, quoted, body_start, self.pos))
        return tuple(docs)

    def _line_mentioning(self, name: str, start: int, end: int) -> int:
        """The line of the instruction where `<<NAME` is written (it may be a continuation line)."""
        pattern = re.compile(r"<<-?['\"]?" + re.escape(name))
        for number in range(start, end + 1):
            if pattern.search(self.lines[number - 1]):
                return number
        return start


def _continuation_regex(escape: str) -> re.Pattern[str]:
    # BuildKit's rule: the escape character ends a line (spaces and tabs may follow) unless another
    # escape character precedes it; alone on a line it also continues.
    e = re.escape(escape)
    return re.compile(rf"([^{e}]){e}[ \t]*\Z|^{e}[ \t]*\Z")


def _first_word(text: str) -> tuple[str, str]:
    """The first whitespace-separated word and the rest ("" when missing)."""
    parts = text.split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) == 2 else ""


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _split_command(line: str) -> tuple[str, list[str], str]:
    """Keyword, `--flag` words and the remaining arguments (BuildKit's `splitCommand`)."""
    parts = _KEYWORD_SPLIT.split(line.strip(), maxsplit=1)
    if len(parts) < 2:
        return parts[0], [], ""
    rest, flag_words = _extract_flags(parts[1])
    return parts[0], flag_words, rest.strip()


def _extract_flags(line: str) -> tuple[str, list[str]]:
    """Leading `--name[=value]` words (quotes and backslashes processed) and the text after them.

    A transcription of BuildKit's `extractBuilderFlags`: flags are recognised only before the first
    word that does not start with `--`; a lone `--` ends them.
    """
    words: list[str] = []
    word: list[str] = []
    in_word = in_quote = False
    quote = ""
    blank_ok = False
    pos, n = 0, len(line)
    while pos <= n:
        ch = line[pos] if pos < n else ""
        if not in_word and not in_quote:
            if pos == n:
                break
            if ch.isspace():
                pos += 1
                continue
            if ch != "-" or pos + 1 == n or line[pos + 1] != "-":
                return line[pos:], words
            in_word = True
        if pos == n:
            text = "".join(word)
            if text != "--" and (blank_ok or text):
                words.append(text)
            break
        if in_quote:
            if ch == quote:
                in_quote, in_word = False, True
                pos += 1
                continue
            if ch == "\\":
                if pos + 1 == n:
                    in_quote, in_word = False, True
                    pos += 1
                    continue
                pos += 1
                ch = line[pos]
            word.append(ch)
            pos += 1
            continue
        if ch.isspace():
            text = "".join(word)
            if text == "--":
                return line[pos:], words
            if blank_ok or text:
                words.append(text)
            word, blank_ok, in_word = [], False, False
            pos += 1
            continue
        if ch in "'\"":
            quote, blank_ok, in_quote, in_word = ch, True, True, False
            pos += 1
            continue
        if ch == "\\":
            if pos + 1 == n:
                pos += 1
                continue
            pos += 1
            ch = line[pos]
        word.append(ch)
        pos += 1
    return "", words


# Instructions whose arguments Docker tries to read as a JSON array first.
_MAYBE_JSON = ("RUN", "CMD", "ENTRYPOINT", "SHELL", "ADD", "COPY", "VOLUME")


class _NotStrings(Exception):
    """A JSON array with something other than strings: Docker refuses it (it does not fall back)."""


def _exec_form_of(keyword: str, arguments: str, start: int) -> list[str] | None:
    if keyword == "HEALTHCHECK":
        _, arguments = _first_word(arguments)  # HEALTHCHECK CMD ["…"]: the array follows the type
    elif keyword not in _MAYBE_JSON:
        return None
    try:
        return _json_array(arguments)
    except _NotStrings:
        raise DockerfileError(
            'a JSON array (exec form) may contain only strings: quote every element, '
            'for example ["sleep", "5"]', start) from None


def _reject_constant(name: str) -> None:
    raise ValueError(name)  # Go's JSON has no NaN/Infinity: such text is not JSON for Docker


def _json_array(arguments: str) -> list[str] | None:
    """The JSON string array these arguments start with, or None when they are shell form.

    Like Engine 20.10's parser, only the first JSON value is read: `RUN ["echo", "hi"] extra`
    runs `echo hi` (checked on the engine). Invalid JSON is shell form, never an error.
    """
    rest = arguments.lstrip()
    if not rest.startswith("["):
        return None
    try:
        value, _ = json.JSONDecoder(parse_constant=_reject_constant).raw_decode(rest)
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(item, str) for item in value):
        raise _NotStrings
    return value


def _can_contain_heredoc(keyword: str, arguments: str, exec_form: list[str] | None) -> bool:
    if keyword == "ONBUILD":  # ONBUILD RUN <<EOF: the heredoc belongs to the trigger
        trigger, rest = _first_word(arguments)
        keyword = trigger.upper()
        exec_form = _json_array(rest) if keyword in _MAYBE_JSON else None
    return keyword in ("RUN", "COPY", "ADD") and exec_form is None


_HEREDOC_WORD = re.compile(r"^(\d*)<<(-?)([^<]*)$")


def _heredoc_words(line: str) -> list[tuple[str, bool, bool]]:
    """(name, strip_tabs, quoted) for each `<<NAME` word of the line, in order (`heredocsFromLine`)."""
    found = []
    for word in _shell_words(line, raw=True):
        match = _HEREDOC_WORD.match(word)
        if not match or not match.group(3):
            continue
        rest = match.group(3)
        unquoted = _shell_words(rest, raw=False)
        if len(unquoted) != 1:
            continue  # `<<` followed by more than one word is not a heredoc
        name = unquoted[0]
        # BuildKit's test: if removing quotes changed the word, part of it was quoted.
        quoted = _quote_count(name) != _quote_count(_shell_words(rest, raw=True)[0])
        found.append((name, match.group(2) == "-", quoted))
    return found


def _quote_count(word: str) -> int:
    return word.count("'") + word.count('"')


def _shell_words(text: str, raw: bool) -> list[str]:
    """Split like BuildKit's shell lexer (escape is always backslash here, as in BuildKit).

    raw=True keeps quotes and backslashes (only the word boundaries matter); raw=False removes them.
    Variables are left as written, as with BuildKit's `SkipUnsetEnv`.
    """
    words: list[str] = []
    word: list[str] = []
    started = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            if started:
                words.append("".join(word))
                word, started = [], False
            i += 1
            continue
        started = True
        if ch == "'":
            end = text.find("'", i + 1)
            end = n if end < 0 else end
            word.append(text[i:end + 1] if raw else text[i + 1:end])
            i = end + 1
        elif ch == '"':
            j = i + 1
            inner = []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n and text[j + 1] in '"$\\':
                    inner.append(text[j:j + 2] if raw else text[j + 1])
                    j += 2
                    continue
                inner.append(text[j])
                j += 1
            body = "".join(inner)
            word.append(f'"{body}"' if raw else body)
            i = j + 1
        elif ch == "\\" and i + 1 < n:
            word.append(text[i:i + 2] if raw else text[i + 1])
            i += 2
        elif ch == "$" and text.startswith("${", i):
            end = text.find("}", i)
            end = n - 1 if end < 0 else end
            word.append(text[i:end + 1])  # ${VAR:-a b} is one unit, its spaces do not split
            i = end + 1
        else:
            word.append(ch)
            i += 1
    if started:
        words.append("".join(word))
    return words


# ----------------------------------------------------------------- checks before building

# The flags each instruction accepts in current BuildKit (stable and labs channels). The kind says
# how Docker reads the value: "str" needs =value, "bool" may stand alone, "strs" may repeat.
_FLAGS: dict[str, dict[str, str]] = {
    "FROM": {"platform": "str"},
    "RUN": {"mount": "strs", "network": "str", "security": "str", "device": "strs"},
    "COPY": {"from": "str", "chown": "str", "chmod": "str", "link": "bool", "parents": "bool",
             "exclude": "strs"},
    "ADD": {"chown": "str", "chmod": "str", "link": "bool", "checksum": "str",
            "keep-git-dir": "bool", "exclude": "strs"},
    "HEALTHCHECK": {"interval": "str", "timeout": "str", "start-period": "str",
                    "start-interval": "str", "retries": "str"},
}

# What the classic builder of Engine 20.10 accepts and applies. Seen on the engine: `COPY --chmod`
# and `RUN --mount` parse but fail their step ("requires BuildKit"); --network, --link, --checksum
# are unknown flags. HEALTHCHECK --start-interval is newer than the classic builder.
_CLASSIC_FLAGS: dict[str, set[str]] = {
    "FROM": {"platform"},
    "COPY": {"from", "chown"},
    "ADD": {"chown"},
    "HEALTHCHECK": {"interval", "timeout", "start-period", "retries"},
}

_STAGE_NAME = re.compile(r"[a-z][a-z0-9_.-]*")


def _check_and_place(nodes: list[_Node], escape: str) -> tuple[list[Instruction], list[Stage]]:
    """The second pass, in file order like Docker's: validate each node, then attach it to a stage."""
    instructions: list[Instruction] = []
    stages: list[Stage] = []
    for node in nodes:
        line = node.line_start
        if node.keyword not in KEYWORDS:
            hint = _closest(node.keyword, KEYWORDS)
            suffix = f" (did you mean {hint}?)" if hint else ""
            raise DockerfileError(f'unknown instruction "{node.word}"{suffix}', line)
        flags = _parse_flags(node.keyword, node.flag_words, line)
        _check_arguments(node, escape)
        if node.keyword == "FROM":
            stages.append(_stage_of(node, flags, stages))
        elif not stages and node.keyword != "ARG":
            raise DockerfileError(
                f"{node.keyword} comes before the first FROM: start with FROM <image> "
                "(only ARG may come before it)", line)
        stage = stages[-1] if stages else None
        source = flags.get("from", "").lower() if node.keyword == "COPY" else ""
        if stage is not None and source and source in (stage.name, str(stage.index)):
            # BuildKit stops with "circular dependency"; the classic builder tries to pull an
            # image of that name instead.
            raise DockerfileError(f"COPY --from={flags['from']} names the stage it is in: a stage "
                                  "can only copy from another stage", line)
        instructions.append(Instruction(
            keyword=node.keyword, arguments=node.arguments, flags=flags, line_start=line,
            line_end=node.line_end, stage=stage.index if stage else None,
            stage_name=stage.name if stage else None, exec_form=node.exec_form,
            heredocs=node.heredocs, original=node.original, text=node.text))
    if not stages:
        # Worth refusing here: Engine 20.10's BuildKit crashes the whole daemon on such a file.
        raise DockerfileError(
            "there is no FROM: a Dockerfile must name its base image with FROM <image>")
    return instructions, stages


def _parse_flags(keyword: str, words: list[str], line: int) -> dict[str, str]:
    """Flag words into a dict, refusing what Docker's `BFlags.Parse` refuses."""
    known = _FLAGS.get(keyword, {})
    flags: dict[str, str] = {}
    for word in words:
        name, has_value, value = word[2:].partition("=")
        kind = known.get(name)
        if kind is None:
            hint = _closest(name, list(known))
            accepted = ", ".join(f"--{f}" for f in known) if known else "no flags"
            suffix = f" (did you mean --{hint}?)" if hint else f" ({keyword} accepts {accepted})"
            raise DockerfileError(f"unknown flag --{name} for {keyword}{suffix}", line)
        if name in flags and kind != "strs":
            raise DockerfileError(f"--{name} is given twice", line)
        if kind == "bool":
            if has_value and value.lower() not in ("true", "false"):
                raise DockerfileError(f'--{name} takes true or false, not "{value}"', line)
            flags[name] = value.lower() if has_value else "true"
        elif not has_value:
            raise DockerfileError(f"--{name} needs a value: write --{name}=<value>", line)
        else:
            flags[name] = f"{flags[name]}\n{value}" if name in flags else value
    return flags


def _stage_of(node: _Node, flags: dict[str, str], stages: list[Stage]) -> Stage:
    words = _KEYWORD_SPLIT.split(node.arguments) if node.arguments else []
    if not words:
        raise DockerfileError("FROM needs an image to start from, for example FROM busybox",
                              node.line_start)
    if len(words) not in (1, 3) or len(words) == 3 and words[1].lower() != "as":
        raise DockerfileError('FROM takes an image and an optional stage name: '
                              'write FROM <image> or FROM <image> AS <name>', node.line_start)
    name = words[2].lower() if len(words) == 3 else None
    if name is not None:
        if not _STAGE_NAME.fullmatch(name):
            raise DockerfileError(
                f'stage name "{words[2]}" is not allowed: start it with a letter and use only '
                'letters, digits, "-", "_" and "."', node.line_start)
        earlier = next((s for s in stages if s.name == name), None)
        if earlier is not None:
            # The classic builder stops here ("stage name already used"); BuildKit would silently
            # build only one of them.
            raise DockerfileError(f'stage name "{name}" is already used by the FROM on line '
                                  f'{earlier.line}', node.line_start)
    return Stage(index=len(stages), name=name, base=words[0], line=node.line_start,
                 platform=flags.get("platform"))


_NEEDS = {
    "WORKDIR": "WORKDIR needs a directory, for example WORKDIR /app",
    "USER": "USER needs a user name or id, for example USER nobody",
    "STOPSIGNAL": "STOPSIGNAL needs a signal, for example STOPSIGNAL SIGTERM",
    "MAINTAINER": "MAINTAINER needs a name",
    "EXPOSE": "EXPOSE needs at least one port, for example EXPOSE 8080",
    "VOLUME": "VOLUME needs at least one path, for example VOLUME /data",
    "ARG": "ARG needs a name, for example ARG VERSION or ARG VERSION=1.0",
    "ENV": "ENV needs a name and a value, for example ENV MODE=production",
    "LABEL": 'LABEL needs a key and a value, for example LABEL version="1.0"',
    "HEALTHCHECK": "HEALTHCHECK needs CMD <command> or NONE",
    "ONBUILD": "ONBUILD needs an instruction to run later, for example ONBUILD RUN echo hi",
    "SHELL": 'SHELL needs a JSON array, for example SHELL ["/bin/sh", "-c"]',
    # Docker accepts a bare RUN, but the classic builder then fails ("/bin/sh: -c requires an
    # argument") and BuildKit runs nothing: it is never what the writer meant.
    "RUN": "RUN needs a command to run, for example RUN echo hello",
}


def _check_arguments(node: _Node, escape: str) -> None:
    """The argument rules of BuildKit's `instructions/parse.go`, with messages a learner can act on."""
    keyword, args, line = node.keyword, node.arguments, node.line_start
    if keyword in ("CMD", "ENTRYPOINT", "FROM"):
        return  # CMD and ENTRYPOINT may be empty; FROM is checked with its stage
    if keyword == "SHELL" and args:
        if node.exec_form is None:
            raise DockerfileError('SHELL must be written as a JSON array, for example '
                                  'SHELL ["/bin/sh", "-c"]', line)
        if not node.exec_form:
            raise DockerfileError(_NEEDS["SHELL"], line)
        return
    if not args:
        raise DockerfileError(_NEEDS.get(keyword, f"{keyword} needs arguments"), line)
    if keyword in ("COPY", "ADD"):
        _check_copy(node)
    elif keyword in ("ENV", "LABEL"):
        _check_name_values(keyword, args, escape, line)
    elif keyword == "ARG":
        for word in _parse_words(args, escape):
            if word.startswith("="):
                raise DockerfileError("ARG names cannot be blank: write ARG NAME=value", line)
    elif keyword == "VOLUME" and node.exec_form is not None:
        if not node.exec_form:
            raise DockerfileError(_NEEDS["VOLUME"], line)
        if any(not v.strip() for v in node.exec_form):
            raise DockerfileError('VOLUME cannot be an empty string: remove the "" element', line)
    elif keyword == "HEALTHCHECK":
        _check_healthcheck(args, line)
    elif keyword == "ONBUILD":
        trigger = _first_word(args)[0].upper()
        if trigger in ("ONBUILD", "FROM", "MAINTAINER"):
            raise DockerfileError(f"ONBUILD cannot trigger {trigger}", line)


def _check_copy(node: _Node) -> None:
    sources = node.exec_form if node.exec_form is not None else _KEYWORD_SPLIT.split(node.arguments)
    if len(sources) < 2:
        raise DockerfileError(f"{node.keyword} needs a source and a destination: "
                              f"write {node.keyword} <source>... <destination>", node.line_start)
    heredoc = _HEREDOC_WORD.match(sources[-1])
    if heredoc and heredoc.group(3):
        raise DockerfileError(f"{node.keyword} cannot write to a heredoc: its last argument must "
                              "be the destination path", node.line_start)


def _check_name_values(keyword: str, args: str, escape: str, line: int) -> None:
    """ENV and LABEL take `name=value ...` or the old `name value` (BuildKit's `parseNameVal`)."""
    words = _parse_words(args, escape)
    if "=" not in words[0]:
        if len(_KEYWORD_SPLIT.split(args, maxsplit=1)) < 2:
            raise DockerfileError(f"{keyword} {words[0]} needs a value: write {keyword} "
                                  f"{words[0]}=<value>", line)
        return
    for word in words:
        if "=" not in word:
            raise DockerfileError(f'{keyword} expects name=value pairs, and "{word}" has no "="',
                                  line)
        if word.startswith("="):
            raise DockerfileError(f"{keyword} names cannot be blank: write name=value", line)


def _check_healthcheck(args: str, line: int) -> None:
    kind, rest = _first_word(args)
    kind = kind.upper()
    if kind == "NONE":
        if rest.strip():
            raise DockerfileError("HEALTHCHECK NONE takes no arguments", line)
    elif kind == "CMD":
        if not rest.strip() or _json_array(rest) == []:
            raise DockerfileError("HEALTHCHECK CMD needs a command, for example "
                                  "HEALTHCHECK CMD wget -q -O- http://localhost/", line)
    else:
        raise DockerfileError(f'HEALTHCHECK needs CMD or NONE, not "{kind}"', line)


def _parse_words(rest: str, escape: str) -> list[str]:
    """Whitespace-separated words, quotes kept, escape respected (BuildKit's `parseWords`)."""
    words: list[str] = []
    word: list[str] = []
    phase = "space"
    quote = ""
    blank_ok = False
    i, n = 0, len(rest)
    while i <= n:
        ch = rest[i] if i < n else ""
        if phase == "space":
            if i == n:
                break
            if ch.isspace():
                i += 1
                continue
            phase = "word"
        if i == n:
            if blank_ok or word:
                words.append("".join(word))
            break
        if phase == "word":
            if ch.isspace():
                if blank_ok or word:
                    words.append("".join(word))
                word, blank_ok, phase = [], False, "space"
                i += 1
                continue
            if ch in "'\"":
                quote, blank_ok, phase = ch, True, "quote"
            if ch == escape:
                if i + 1 == n:
                    i += 1
                    continue
                word.append(ch)
                i += 1
                ch = rest[i]
            word.append(ch)
            i += 1
            continue
        if ch == quote:
            phase = "word"
        if ch == escape and quote != "'":
            if i + 1 == n:
                phase = "word"
                i += 1
                continue
            word.append(ch)
            i += 1
            ch = rest[i]
        word.append(ch)
        i += 1
    return words


def _closest(word: str, options: list[str] | tuple[str, ...]) -> str | None:
    """The option within two edits of `word` (case-insensitive), as Docker's "did you mean"."""
    best, best_distance = None, 3
    for option in options:
        distance = _edit_distance(word.lower(), option.lower())
        if distance < best_distance and distance < len(word):
            best, best_distance = option, distance
    return best


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


# ------------------------------------------------------------------ builder compatibility


def buildkit_only_features(df: Dockerfile) -> list[tuple[int, str]]:
    """(line, message) for each use of syntax the classic builder cannot build, in line order.

    Heredocs, and every flag outside what the classic builder of Engine 20.10 applies (`FROM
    --platform`, `COPY --from/--chown`, `ADD --chown`, HEALTHCHECK's timing flags). Parser
    directives are not listed: the classic builder reads `escape` and ignores the others.
    """
    found = []
    for ins in df.instructions:
        if ins.heredocs:
            found.append((ins.line_start, f"heredocs (<<{ins.heredocs[0].name}) need BuildKit"))
        classic = _CLASSIC_FLAGS.get(ins.keyword, set())
        for name in ins.flags:
            if name not in classic:
                found.append((ins.line_start, f"{ins.keyword} --{name} needs BuildKit"))
    return found


# ------------------------------------------------------------------------ build step names

_CLASSIC_STEP = re.compile(r"^Step (\d+)/(\d+) ?: ?(.*)$", re.S)
_BUILDKIT_STEP = re.compile(r"^\[([^\]]*)\] ?(.*)$", re.S)
_POSITION = re.compile(r"^(\d+)/(\d+)$")
_VARIABLE = re.compile(r"\\\$|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")


def step_instruction(df: Dockerfile, step_name: str) -> Instruction | None:
    """The instruction a build step's display name stands for, from either builder; None if none.

    Classic: `Step N/M : TEXT` numbers every instruction of the file, ARGs before FROM and all
    stages included (seen on Engine 20.10). BuildKit: `[STAGE i/n] TEXT` numbers within a stage
    only the steps that make a layer: FROM (not `FROM scratch`, not FROM an earlier stage), RUN,
    COPY, ADD and WORKDIR (except `WORKDIR /`, which still counts in n); STAGE is the stage name,
    `stage-K` for an unnamed stage, and absent when the file has one stage. BuildKit's TEXT has
    build args expanded, COPY's quotes removed and `FROM busybox` as `FROM
    docker.io/library/busybox`, so the position proposes and the text confirms: a candidate whose
    text does not fit yields to the one instruction whose text does. Internal vertices
    (`[internal] …`, `exporting to image`, `copy /context /`) give None.
    """
    name = step_name.strip()
    classic = _CLASSIC_STEP.match(name)
    if classic:
        number, total, text = int(classic.group(1)), int(classic.group(2)), classic.group(3)
        fits_count = total == len(df.instructions) and 1 <= number <= total
        return _confirm(df.instructions[number - 1] if fits_count else None, df.instructions, text)
    buildkit = _BUILDKIT_STEP.match(name)
    if not buildkit:
        return None
    tokens = buildkit.group(1).split()
    text = buildkit.group(2)
    if not tokens or not _POSITION.match(tokens[-1]) or text.upper().startswith("ONBUILD "):
        return None  # [internal] …, [auth] …, or a trigger inherited from the base image
    index = int(_POSITION.match(tokens[-1]).group(1))
    names = [t for t in tokens[:-1] if "/" not in t]  # a platform prefix (linux/amd64) has a slash
    stage = _buildkit_stage(df, names[-1] if names else None)
    if stage is None:
        return _confirm(None, df.instructions, text)
    members = [i for i in df.instructions if i.stage == stage.index]
    steps = _layer_steps(df, stage, members)
    candidate = steps[index - 1] if 1 <= index <= len(steps) else None
    return _confirm(candidate, members, text)


def _buildkit_stage(df: Dockerfile, token: str | None) -> Stage | None:
    if token is None:
        return df.stages[0] if len(df.stages) == 1 else None
    named = df.stage_named(token)  # a stage may really be called "stage-1"
    if named is not None:
        return named
    match = re.fullmatch(r"stage-(\d+)", token)
    return df.stage_named(match.group(1)) if match else None


def _layer_steps(df: Dockerfile, stage: Stage, members: list[Instruction]) -> list[Instruction]:
    """The instructions of a stage that BuildKit shows as numbered vertices, in order."""
    earlier_names = {s.name for s in df.stages[:stage.index] if s.name}
    steps = []
    for ins in members:
        if ins.keyword == "FROM":
            if stage.base != "scratch" and stage.base.lower() not in earlier_names:
                steps.append(ins)
        elif ins.keyword in ("RUN", "COPY", "ADD"):
            steps.append(ins)
        elif ins.keyword == "WORKDIR" and ins.arguments.strip() != "/":
            steps.append(ins)  # WORKDIR / makes no layer and no vertex
    return steps


def _confirm(candidate: Instruction | None, pool: list[Instruction], text: str) -> Instruction | None:
    """The positional candidate if its text fits; else the one instruction of the pool that fits."""
    same_keyword = [i for i in pool if _same_keyword(i, text)]
    if candidate is not None and candidate in same_keyword and _fits(candidate, text):
        return candidate
    fitting = [i for i in same_keyword if _fits(i, text)]
    if len(fitting) == 1:
        return fitting[0]
    if candidate is not None and candidate in same_keyword:
        return candidate  # the text was rewritten beyond recognition (FROM docker.io/…): trust the count
    return same_keyword[0] if len(same_keyword) == 1 else None  # never a guess among several


def _same_keyword(ins: Instruction, text: str) -> bool:
    return bool(text.strip()) and text.split(None, 1)[0].upper() == ins.keyword


def _fits(ins: Instruction, text: str) -> bool:
    """Equal up to spacing and keyword case, each $VAR of the source standing for its expansion."""
    wanted = _normalise(text)
    return _normalise(ins.text) == wanted or _pattern(ins.text).fullmatch(wanted) is not None


def _normalise(text: str) -> str:
    words = text.split()
    return " ".join([words[0].upper(), *words[1:]]) if words else ""


def _pattern(text: str) -> re.Pattern[str]:
    parts = []
    last = 0
    source = _normalise(text)
    for match in _VARIABLE.finditer(source):
        parts.append(re.escape(source[last:match.start()]))
        parts.append(".*?")
        last = match.end()
    parts.append(re.escape(source[last:]))
    return re.compile("".join(parts), re.S)
