"""Grading specs: container-structure-test's schema 2.0.0, read strictly, plus a few keys of ours.

An existing CST config works unchanged: `commandTests`, `fileExistenceTests`, `fileContentTests`,
`metadataTest` with CST's key names and defaults (`shouldExist` true, `uid`/`gid` -1 = unchecked,
`exitCode` 0). Our additions, which CST ignores: `points` and `message` on every test, `timeout`,
`memory` and `pids` on command tests, and the top-level lists `imageTests` (size, layers, base
image, not root), `lintTests` (forbidden lint codes) and `wasteTests` (the layers explorer's gate).

Unlike CST, a key we do not know, a value of the wrong type or a regex CST (Go's RE2) cannot
compile is an error naming the key: a typo must not silently pass every student.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nbdocker.errors import NbDockerError


class SpecError(NbDockerError):
    """A grading spec that cannot be used; names the key (`commandTests[1].exitCode`)."""

    prefix = "grading spec"


@dataclass
class EnvVar:
    """A `{key, value, isRegex}` pair (CST's envVars and labels)."""

    key: str
    value: str
    is_regex: bool = False


@dataclass
class Test:
    """What every check has: a name, points, and the message a student sees on failure."""

    name: str = ""
    points: float = 1.0
    message: str = ""


@dataclass
class CommandTest(Test):
    """Run `command args…` in a fresh container; check exit code and output regexes."""

    command: str = ""
    args: list[str] = field(default_factory=list)
    setup: list[list[str]] = field(default_factory=list)
    teardown: list[list[str]] = field(default_factory=list)
    env_vars: list[EnvVar] = field(default_factory=list)
    exit_code: int = 0
    expected_output: list[str] = field(default_factory=list)
    excluded_output: list[str] = field(default_factory=list)
    expected_error: list[str] = field(default_factory=list)
    excluded_error: list[str] = field(default_factory=list)
    timeout: float = 30.0  # generous: a loaded machine starts containers slowly
    memory: str = "256m"
    pids: int = 128


@dataclass
class FileExistenceTest(Test):
    """A path exists (or not), with permissions like `-rw-r--r--`, owner, executable bits."""

    path: str = ""
    should_exist: bool = True
    permissions: str = ""
    uid: int = -1
    gid: int = -1
    is_executable_by: str = ""


@dataclass
class FileContentTest(Test):
    """A file's content matches (or excludes) regexes."""

    path: str = ""
    expected_contents: list[str] = field(default_factory=list)
    excluded_contents: list[str] = field(default_factory=list)


@dataclass
class MetadataTest(Test):
    """The image config: env, ports, entrypoint, cmd, workdir, volumes, labels, user."""

    env_vars: list[EnvVar] = field(default_factory=list)
    exposed_ports: list[str] = field(default_factory=list)
    unexposed_ports: list[str] = field(default_factory=list)
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    workdir: str = ""
    volumes: list[str] = field(default_factory=list)
    unmounted_volumes: list[str] = field(default_factory=list)
    labels: list[EnvVar] = field(default_factory=list)
    user: str = ""


@dataclass
class ImageTest(Test):
    """Ours: size and layer bounds, the base image, a user that is not root."""

    max_size: int | None = None
    min_size: int | None = None
    max_layers: int | None = None
    min_layers: int | None = None
    base_image: str = ""
    not_root: bool = False


@dataclass
class LintTest(Test):
    """Ours: lint findings (hadolint / Docker build-check codes) the Dockerfile must not have."""

    forbid: list[str] = field(default_factory=list)


@dataclass
class WasteTest(Test):
    """Ours: the layers explorer's gate, with dive's CI rule names (percent is a fraction, 0.1)."""

    lowest_efficiency: float | None = None
    highest_wasted_bytes: int | None = None
    highest_user_wasted_percent: float | None = None


@dataclass
class Spec:
    """Every test of a spec, in the order they are run and reported."""

    tests: list[Test]
    global_env_vars: list[EnvVar] = field(default_factory=list)

    @property
    def max_score(self) -> float:
        """The points of every test together."""
        return sum(t.points for t in self.tests)


# ---------------------------------------------------------------- value readers


def _str(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise SpecError(f"{where}: expected a string, got {_shown(value)}")
    return str(value)


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{where}: expected an integer, got {_shown(value)}")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"{where}: expected a number, got {_shown(value)}")
    return float(value)


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"{where}: expected true or false, got {_shown(value)}")
    return value


def _strs(value: Any, where: str) -> list[str]:
    if not isinstance(value, list):
        raise SpecError(f"{where}: expected a list of strings, got {_shown(value)}")
    return [_str(v, f"{where}[{i}]") for i, v in enumerate(value)]


def _regexes(value: Any, where: str) -> list[str]:
    items = _strs(value, where)
    for i, pattern in enumerate(items):
        check_regex(pattern, f"{where}[{i}]")
    return items


def _argvs(value: Any, where: str) -> list[list[str]]:
    if not isinstance(value, list):
        raise SpecError(f"{where}: expected a list of commands (each a list of strings), got {_shown(value)}")
    argvs = [_strs(v, f"{where}[{i}]") for i, v in enumerate(value)]
    for i, argv in enumerate(argvs):
        if not argv:
            raise SpecError(f"{where}[{i}]: an empty command")
    return argvs


def _pairs(value: Any, where: str) -> list[EnvVar]:
    if not isinstance(value, list):
        raise SpecError(f"{where}: expected a list of {{key, value}} items, got {_shown(value)}")
    pairs = []
    for i, item in enumerate(value):
        got = _fields(item, f"{where}[{i}]", _PAIR_FIELDS, EnvVar(key="", value=""))
        if not got.key:
            raise SpecError(f"{where}[{i}].key: must not be empty")
        if got.is_regex:
            check_regex(got.value, f"{where}[{i}].value")
        pairs.append(got)
    return pairs


def _optional_strs(value: Any, where: str) -> list[str] | None:
    return None if value is None else _strs(value, where)


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)(i?)[bB]?\s*$")


def _size(value: Any, where: str) -> int:
    """Bytes, or "50MB" / "1.5GiB" / "700k" (decimal units, as the docker CLI shows sizes)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.match(value) if isinstance(value, str) else None
    if match is None:
        raise SpecError(f"{where}: expected a size in bytes or like 50MB, got {_shown(value)}")
    number, unit, binary = match.groups()
    base = 1024 if binary else 1000
    return int(float(number) * base ** " kmg".index(unit.lower() or " "))


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


Reader = Callable[[Any, str], Any]

_PAIR_FIELDS: dict[str, tuple[str, Reader]] = {
    "key": ("key", _str), "value": ("value", _str), "isRegex": ("is_regex", _bool)}

_COMMON: dict[str, tuple[str, Reader]] = {
    "name": ("name", _str), "points": ("points", _number), "message": ("message", _str)}

FIELDS: dict[type, dict[str, tuple[str, Reader]]] = {
    CommandTest: {**_COMMON, "command": ("command", _str), "args": ("args", _strs),
                  "setup": ("setup", _argvs), "teardown": ("teardown", _argvs),
                  "envVars": ("env_vars", _pairs), "exitCode": ("exit_code", _int),
                  "expectedOutput": ("expected_output", _regexes),
                  "excludedOutput": ("excluded_output", _regexes),
                  "expectedError": ("expected_error", _regexes),
                  "excludedError": ("excluded_error", _regexes),
                  "timeout": ("timeout", _number), "memory": ("memory", _str), "pids": ("pids", _int)},
    FileExistenceTest: {**_COMMON, "path": ("path", _str), "shouldExist": ("should_exist", _bool),
                        "permissions": ("permissions", _str), "uid": ("uid", _int), "gid": ("gid", _int),
                        "isExecutableBy": ("is_executable_by", _str)},
    FileContentTest: {**_COMMON, "path": ("path", _str),
                      "expectedContents": ("expected_contents", _regexes),
                      "excludedContents": ("excluded_contents", _regexes)},
    MetadataTest: {**_COMMON, "envVars": ("env_vars", _pairs), "exposedPorts": ("exposed_ports", _strs),
                   "unexposedPorts": ("unexposed_ports", _strs),
                   "entrypoint": ("entrypoint", _optional_strs), "cmd": ("cmd", _optional_strs),
                   "workdir": ("workdir", _str), "volumes": ("volumes", _strs),
                   "unmountedVolumes": ("unmounted_volumes", _strs), "labels": ("labels", _pairs),
                   "user": ("user", _str)},
    ImageTest: {**_COMMON, "maxSize": ("max_size", _size), "minSize": ("min_size", _size),
                "maxLayers": ("max_layers", _int), "minLayers": ("min_layers", _int),
                "baseImage": ("base_image", _str), "notRoot": ("not_root", _bool)},
    LintTest: {**_COMMON, "forbid": ("forbid", _strs)},
    WasteTest: {**_COMMON, "lowestEfficiency": ("lowest_efficiency", _number),
                "highestWastedBytes": ("highest_wasted_bytes", _size),
                "highestUserWastedPercent": ("highest_user_wasted_percent", _number)},
}

_LISTS: dict[str, type] = {"commandTests": CommandTest, "fileExistenceTests": FileExistenceTest,
                           "fileContentTests": FileContentTest, "imageTests": ImageTest,
                           "lintTests": LintTest, "wasteTests": WasteTest}
_REQUIRED: dict[type, tuple[str, ...]] = {CommandTest: ("name", "command"),
                                          FileExistenceTest: ("name", "path"),
                                          FileContentTest: ("name", "path"), ImageTest: ("name",),
                                          LintTest: ("name", "forbid"), WasteTest: ("name",)}
TOP_KEYS = ("schemaVersion", "globalEnvVars", "metadataTest", *_LISTS)


def _fields(item: Any, where: str, table: dict[str, tuple[str, Reader]], target: Any) -> Any:
    if not isinstance(item, dict):
        raise SpecError(f"{where}: expected a mapping of keys, got {_shown(item)}")
    for key, value in item.items():
        if key not in table:
            known = ", ".join(table)
            raise SpecError(f"{where}.{key}: unknown key (known: {known})")
        attr, reader = table[key]
        setattr(target, attr, reader(value, f"{where}.{key}"))
    return target


# Constructs Python's `re` accepts and Go's RE2 (CST's regexes) refuses: the verdicts would differ.
_NOT_RE2 = re.compile(r"\(\?[=!]|\(\?<[=!]|\\[1-9]|\(\?P=|\(\?>|[*+?}]\+")


def go_pattern(pattern: str) -> str:
    """The pattern with Go's meaning of `$`: the very end of the text (Python's `$` also matches
    before a final newline, so `^1000$` would pass on `id -u`'s "1000\\n", where CST fails it)."""
    if re.match(r"\(\?[a-zA-Z]*m", pattern):  # (?m): both mean end of line
        return pattern
    out, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":  # Go's \\z (end of text) is Python's \\Z
            out.append("\\Z" if pattern[i:i + 2] == "\\z" else pattern[i:i + 2])
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
        elif c == "]" and in_class:
            in_class = False
        out.append(r"\Z" if c == "$" and not in_class else c)
        i += 1
    return "".join(out)


def check_regex(pattern: str, where: str) -> None:
    """A regex both Python and CST (Go RE2) accept, or a one-line error naming the key."""
    try:
        re.compile(go_pattern(pattern))
    except re.error as err:
        raise SpecError(f"{where}: bad regex {_shown(pattern)}: {err}") from None
    if _NOT_RE2.search(pattern):
        raise SpecError(f"{where}: regex {_shown(pattern)} uses lookaround, backreferences or "
                        "possessive repeats, which CST's regexes (RE2) do not have")


def parse_spec(source: str | dict[str, Any]) -> Spec:
    """A Spec from YAML text or a dict; every problem is a SpecError naming the key."""
    data = _load(source)
    for key in data:
        if key not in TOP_KEYS:
            raise SpecError(f"{key}: unknown key (known: {', '.join(TOP_KEYS)})")
    version = data.get("schemaVersion", "2.0.0")
    if str(version) != "2.0.0":
        raise SpecError(f"schemaVersion: only 2.0.0 is supported, got {_shown(version)}")
    spec = Spec([], _pairs(data.get("globalEnvVars", []), "globalEnvVars"))
    if data.get("metadataTest") is not None:  # CST reports one "Metadata Test"
        meta = _fields(data["metadataTest"], "metadataTest", FIELDS[MetadataTest],
                       MetadataTest(name="Metadata Test"))
        if meta != MetadataTest(name="Metadata Test", points=meta.points, message=meta.message):
            spec.tests.append(meta)  # CST reports nothing for an empty metadataTest
    for key, kind in _LISTS.items():
        items = data.get(key) or []
        if not isinstance(items, list):
            raise SpecError(f"{key}: expected a list of tests, got {_shown(items)}")
        for i, item in enumerate(items):
            test = _fields(item, f"{key}[{i}]", FIELDS[kind], kind())
            for required in _REQUIRED[kind]:
                if not item.get(required):
                    raise SpecError(f"{key}[{i}].{required}: required")
            _validate(test, f"{key}[{i}]")
            spec.tests.append(test)
    return spec


def _validate(test: Test, where: str) -> None:
    if isinstance(test, FileExistenceTest) and test.is_executable_by not in ("", "any", "owner", "group", "other"):
        raise SpecError(f"{where}.isExecutableBy: one of any, owner, group, other; "
                        f"got {_shown(test.is_executable_by)}")
    if isinstance(test, FileExistenceTest) and test.permissions and not re.fullmatch(
            r"[dalTLDpSugct?-]*[r-][w-][xsS-][r-][w-][xsS-][r-][w-][xtT-]", test.permissions):
        raise SpecError(f"{where}.permissions: expected a mode like -rw-r--r--, got {_shown(test.permissions)}")
    if test.points < 0:
        raise SpecError(f"{where}.points: must not be negative")


def _load(source: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(source, dict):
        return source
    import yaml

    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SpecError(f"not valid YAML{where}: {getattr(err, 'problem', None) or err}") from None
    if not isinstance(data, dict):
        raise SpecError(f"expected a mapping with commandTests, fileExistenceTests …, got {_shown(data)}")
    return data


def load_spec(path: str) -> Spec:
    """A Spec from a YAML file (a CST config works unchanged)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as err:
        raise SpecError(f"cannot read {path}: {err.strerror}") from None
    return parse_spec(text)
