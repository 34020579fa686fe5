"""Verdicts: each test judged on plain data (an image config, a tar header, a command's output).

Pure functions, no engine. Each returns the list of problems found (empty = pass), worded as
container-structure-test words them where CST has the check, so that the verdicts are CST's.
"""
from __future__ import annotations

import re
from typing import Any

from nbdocker.grading import spec as s
from nbdocker.units import human_size

# Go's os.FileMode.String(): one letter per type/mode bit in this order, then rwx×3.
_GO_MODE_LETTERS = "dalTLDpSugct?"
_KIND_LETTERS = {"dir": "d", "symlink": "L", "block": "D", "char": "Dc", "fifo": "p"}


def go_mode_string(kind: str, mode: int) -> str:
    """The permission string CST compares (`-rw-r--r--`, `drwxr-xr-x`, `Lrwxrwxrwx`, `urwxr-xr-x`)."""
    letters = set(_KIND_LETTERS.get(kind, ""))
    if mode & 0o4000:
        letters.add("u")
    if mode & 0o2000:
        letters.add("g")
    if mode & 0o1000:
        letters.add("t")
    head = "".join(c for c in _GO_MODE_LETTERS if c in letters) or "-"
    return head + "".join(c if mode & (1 << (8 - i)) else "-" for i, c in enumerate("rwxrwxrwx"))


_VAR = re.compile(r"\$(?:\{([^}]*)\}|([A-Za-z0-9_]+)|([*#$@!?\-]))")


def expand_env(text: str, env: dict[str, str]) -> str:
    """`$NAME` and `${NAME}` replaced from the image's environment (unset: empty), as CST does."""
    return _VAR.sub(lambda m: env.get(m.group(1) or m.group(2) or m.group(3) or "", ""), text)


def env_map(config: dict[str, Any]) -> dict[str, str]:
    """The image config's `Env` list as a dict."""
    pairs = (item.split("=", 1) for item in config.get("Env") or [])
    return {p[0]: (p[1] if len(p) > 1 else "") for p in pairs}


def _matches(pattern: str, text: str) -> bool:
    return re.search(s.go_pattern(pattern), text) is not None


def _regex_problems(expected: list[str], excluded: list[str], text: str, where: str,
                    show_excluded: bool = True) -> list[str]:
    """What `text` lacks of `expected` and holds of `excluded` (CST's regexes), for a student."""
    got = f", got {_clip(text)!r}"
    problems = [f"expected {pattern!r} in {where}{got}" for pattern in expected if not _matches(pattern, text)]
    problems += [f"{pattern!r} must not be in {where}" + (got if show_excluded else "")
                 for pattern in excluded if _matches(pattern, text)]
    return problems


def judge_command(test: s.CommandTest, exit_code: int, stdout: str, stderr: str) -> list[str]:
    """CST's CheckOutput: expected/excluded regexes on stdout and stderr, then the exit code."""
    problems = _regex_problems(test.expected_error, test.excluded_error, stderr, "the error output")
    problems += _regex_problems(test.expected_output, test.excluded_output, stdout, "the output")
    if exit_code != test.exit_code:
        problems.append(f"exited with code {exit_code}, expected {test.exit_code}")
    return problems


def judge_existence(test: s.FileExistenceTest, kind: str | None, mode: int = 0,
                    uid: int = 0, gid: int = 0) -> list[str]:
    """CST's file existence test on a tar header (`kind` None: the path does not exist)."""
    if kind is None:
        return [f"{test.path} should exist but does not"] if test.should_exist else []
    problems = [] if test.should_exist else [f"{test.path} should not exist but does"]
    actual = go_mode_string(kind, mode)
    if test.permissions and actual != test.permissions:
        problems.append(f"{test.path} has permissions {actual}, expected {test.permissions}")
    bits = {"any": 0o111, "owner": 0o100, "group": 0o010, "other": 0o001}.get(test.is_executable_by)
    if bits is not None and not mode & bits:
        problems.append(f"{test.path} is not executable by {test.is_executable_by} ({actual})")
    if test.uid != -1 and uid != test.uid:
        problems.append(f"{test.path} is owned by uid {uid}, expected {test.uid}")
    if test.gid != -1 and gid != test.gid:
        problems.append(f"{test.path} has group id {gid}, expected {test.gid}")
    return problems


def judge_content(test: s.FileContentTest, content: str | None, why: str = "") -> list[str]:
    """CST's file content test (`content` None: the file could not be read, `why`)."""
    if content is None:
        return [f"cannot read {test.path}: {why or 'not found'}"]
    return _regex_problems(test.expected_contents, test.excluded_contents, content, test.path,
                           show_excluded=False)


def _pair_problems(kind: str, pairs: list[s.EnvVar], actual: dict[str, str]) -> list[str]:
    problems = []
    for pair in pairs:
        if pair.key not in actual:
            problems.append(f"{kind} {pair.key} is not set")
            continue
        value = actual[pair.key]
        ok = _matches(pair.value, value) if pair.is_regex else value == pair.value
        if not ok:
            problems.append(f"{kind} {pair.key} is {value!r}, expected {pair.value!r}")
    return problems


def _ports(config: dict[str, Any]) -> list[str]:
    return [p.split("/")[0] for p in (config.get("ExposedPorts") or {})]


def judge_metadata(test: s.MetadataTest, config: dict[str, Any]) -> list[str]:
    """CST's metadata test on the image's `Config`."""
    problems = _pair_problems("environment variable", test.env_vars, env_map(config))
    problems += _pair_problems("label", test.labels, config.get("Labels") or {})
    for what, expected, actual in (("CMD", test.cmd, config.get("Cmd") or []),
                                   ("ENTRYPOINT", test.entrypoint, config.get("Entrypoint") or [])):
        if expected is not None and list(expected) != list(actual):
            problems.append(f"{what} is {actual}, expected {expected}")
    if test.workdir and test.workdir != (config.get("WorkingDir") or ""):
        problems.append(f"WORKDIR is {config.get('WorkingDir') or '(not set)'!r}, expected {test.workdir!r}")
    if test.user and test.user != (config.get("User") or ""):
        problems.append(f"USER is {config.get('User') or '(not set)'!r}, expected {test.user!r}")
    ports = _ports(config)
    problems += [f"port {p} is not exposed" for p in test.exposed_ports if p not in ports]
    problems += [f"port {p} is exposed but should not be" for p in test.unexposed_ports if p in ports]
    volumes = list(config.get("Volumes") or {})
    problems += [f"volume {v} is not declared" for v in test.volumes if v not in volumes]
    problems += [f"volume {v} is declared but should not be" for v in test.unmounted_volumes if v in volumes]
    return problems


def is_root(user: str) -> bool:
    """An image USER that runs as root (unset, root, 0, root:…, 0:…)."""
    name = (user or "").split(":")[0].strip()
    return name in ("", "root", "0")


def judge_image(test: s.ImageTest, attrs: dict[str, Any], base_layers: list[str] | None) -> list[str]:
    """Ours: size and layer bounds, base image (its layers a prefix of ours), not root."""
    problems = []
    size = int(attrs.get("Size") or 0)
    layers = (attrs.get("RootFS") or {}).get("Layers") or []
    if test.max_size is not None and size > test.max_size:
        problems.append(f"the image is {human_size(size)}, more than {human_size(test.max_size)}")
    if test.min_size is not None and size < test.min_size:
        problems.append(f"the image is {human_size(size)}, less than {human_size(test.min_size)}")
    if test.max_layers is not None and len(layers) > test.max_layers:
        problems.append(f"the image has {len(layers)} layers, more than {test.max_layers}")
    if test.min_layers is not None and len(layers) < test.min_layers:
        problems.append(f"the image has {len(layers)} layers, fewer than {test.min_layers}")
    if test.base_image:
        if base_layers is None:
            problems.append(f"the base image {test.base_image} is not on this engine")
        elif layers[:len(base_layers)] != base_layers:
            problems.append(f"the image is not built FROM {test.base_image}")
    if test.not_root and is_root((attrs.get("Config") or {}).get("User") or ""):
        problems.append("the image runs as root: add a USER instruction")
    return problems


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"
