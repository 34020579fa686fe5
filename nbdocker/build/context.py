"""Build contexts: what goes into the tar sent to the engine, decided as the docker CLI decides.

`.dockerignore` is read as moby's `ignorefile.ReadAll` reads it and matched as moby's
`fileutils.PatternMatcher` (Engine/CLI 20.10) matches: Go regexp semantics, `**`, `\\` escapes,
`!` exceptions, parent directories; the directory walk follows `archive.TarWithOptions`. The tar
is written the way the CLI writes it (owner 0:0, whole-second mtimes), with one constraint of our
own: Engine 20.10's BuildKit decides whether the body is a tar from its first 1,024 bytes only,
so the first member must have a plain header (no PAX record): Python's default PAX records for
float mtimes made BuildKit read the tar as a Dockerfile ("unknown instruction: ././@PAXHEADER").
"""
from __future__ import annotations

import io
import os
import re
import stat
import tarfile
import tempfile
from dataclasses import dataclass
from typing import IO

# A name for the cell's Dockerfile inside a --context tar that no real file is likely to have.
CELL_DOCKERFILE = ".nbdocker.Dockerfile"
DOCKERIGNORE = ".dockerignore"
#: A context tar larger than this gets a warning before it is sent (a 1 GB one went silently).
CONTEXT_WARN_BYTES = 100 * 1024 * 1024

# Go's strings.TrimSpace trims unicode.IsSpace characters; Python's str.strip also trims
# \x1c-\x1f, which Go keeps.
_GO_SPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c not in "\x1c\x1d\x1e\x1f")


def go_clean(path: str) -> str:
    """Go's `filepath.Clean` on a slash-separated path (posixpath.normpath keeps a leading `//`)."""
    if path == "":
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for element in path.split("/"):
        if element in ("", "."):
            continue
        if element == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(element)
    cleaned = "/".join(parts)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


def read_dockerignore(text: str) -> list[str]:
    """Patterns of a .dockerignore, read as moby's ignorefile.ReadAll reads them.

    Lines end at `\\n` only (a `\\r` before it is dropped, as bufio.ScanLines does); a UTF-8 BOM
    on the first line is dropped; a line is a comment only when `#` is its very first character
    (before trimming — "  # x" is a pattern); `!` negates; paths are cleaned and made relative to
    the context.
    """
    patterns = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines):
        line = line.removesuffix("\r")
        if number == 0:
            line = line.removeprefix("\ufeff")
        if line.startswith("#"):
            continue
        pattern = line.strip(_GO_SPACE)
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip(_GO_SPACE)
        if pattern:
            pattern = go_clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        patterns.append(f"!{pattern}" if invert else pattern)
    return patterns


# ---------------------------------------------------------------- matching


class PatternError(ValueError):
    """A .dockerignore pattern the docker CLI refuses (it fails the build the same way)."""


@dataclass
class Pattern:
    """One compiled pattern: moby's `fileutils.Pattern`."""

    cleaned: str
    exclusion: bool
    dirs: list[str]
    regex: re.Pattern[str]


def _check_syntax(pattern: str) -> None:
    """Go's `filepath.Match(pattern, ".")` error check: malformed `[...]` or a trailing `\\`."""
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= n:
                raise PatternError("syntax error in pattern (a trailing \\)")
            i += 2
            continue
        if ch != "[":
            i += 1
            continue
        i += 1
        if i < n and pattern[i] == "^":
            i += 1
        ranges = 0
        while True:
            if i < n and pattern[i] == "]" and ranges > 0:
                i += 1
                break
            i = _class_char(pattern, i)
            if pattern[i] == "-":
                i = _class_char(pattern, i + 1)
            ranges += 1


def _class_char(pattern: str, i: int) -> int:
    """Go's getEsc: one (possibly escaped) character of a class; something must follow it."""
    n = len(pattern)
    if i >= n or pattern[i] in "-]":
        raise PatternError("syntax error in pattern (a malformed [...] class)")
    if pattern[i] == "\\":
        i += 1
        if i >= n:
            raise PatternError("syntax error in pattern (a trailing \\)")
    i += 1
    if i >= n:
        raise PatternError("syntax error in pattern (an unclosed [...] class)")
    return i


def _regex(pattern: str) -> re.Pattern[str]:
    """moby's Pattern.compile: `**`, `*`, `?`, `\\` escapes; `.` and `$` escaped; the rest is regexp."""
    out = ["^"]
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            if i < n and pattern[i] == "*":
                i += 1
                if i < n and pattern[i] == "/":
                    i += 1
                out.append(".*" if i >= n else "(.*/)?")
            else:
                out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch in ".$":
            out.append("\\" + ch)
        elif ch == "\\":
            if i < n:
                out.append("\\" + pattern[i])
                i += 1
            else:
                out.append("\\\\")
        else:
            out.append(ch)  # moby hands other characters to the regexp as they are
    try:
        # Go's `$` is the end of the text; Python's also matches before a final newline.
        return re.compile("".join(out) + r"\Z")
    except re.error as err:
        raise PatternError(f"not a valid pattern ({err})") from None


class PatternMatcher:
    """moby's `fileutils.PatternMatcher` (20.10): the last matching pattern decides."""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns: list[Pattern] = []
        for text in patterns:
            p = text.strip(_GO_SPACE)
            if not p:
                continue
            p = go_clean(p)
            exclusion = p.startswith("!")
            if exclusion:
                if len(p) == 1:
                    raise PatternError('illegal exclusion pattern: "!"')
                p = p[1:]
            try:
                _check_syntax(p)
                regex = _regex(p)
            except PatternError as err:
                raise PatternError(f"{text!r}: {err}") from None
            self.patterns.append(Pattern(p, exclusion, p.split("/"), regex))

    @property
    def exclusions(self) -> bool:
        return any(p.exclusion for p in self.patterns)

    def matches(self, path: str) -> bool:
        """True when `path` (relative, slash-separated) is excluded."""
        matched = False
        parent = path.rsplit("/", 1)[0] if "/" in path else "."
        parent_dirs = parent.split("/")
        for pattern in self.patterns:
            match = pattern.regex.search(path) is not None
            if not match and parent != "." and len(pattern.dirs) <= len(parent_dirs):
                match = pattern.regex.search("/".join(parent_dirs[: len(pattern.dirs)])) is not None
            if match:
                matched = not pattern.exclusion
        return matched


def select_files(root: str, patterns: list[str]) -> list[str]:
    """Relative paths under `root` that go into the context, walked as archive.TarWithOptions does.

    An excluded directory is still entered when an exception pattern starts with its path
    (`!dir/keep`); the directory entry itself is left out, as the CLI leaves it out.
    """
    matcher = PatternMatcher(patterns)
    chosen: list[str] = []

    def walk(rel_dir: str) -> None:
        for name in sorted(os.listdir(os.path.join(root, rel_dir))):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            is_dir = stat.S_ISDIR(os.lstat(os.path.join(root, rel)).st_mode)
            if matcher.matches(rel):
                if is_dir and matcher.exclusions and any(
                        p.exclusion and (p.cleaned + "/").startswith(rel + "/") for p in matcher.patterns):
                    walk(rel)
                continue
            chosen.append(rel)
            if is_dir:
                walk(rel)

    walk("")
    return chosen


# ---------------------------------------------------------------- the tar


@dataclass
class PackedContext:
    """A packed context: the tar, its size, and what took the room (measured while packing)."""

    file: IO[bytes]
    size: int
    entries: dict[str, int]  # bytes of the files under each top-level entry of the directory

    def largest(self, n: int = 3) -> list[tuple[str, int]]:
        """The `n` top-level entries that hold the most bytes, largest first."""
        return sorted(self.entries.items(), key=lambda item: -item[1])[:n]

    def warning(self, root: str | None) -> str | None:
        """What to say before sending a context over CONTEXT_WARN_BYTES, else None."""
        if self.size <= CONTEXT_WARN_BYTES or root is None:
            return None
        big = ", ".join(f"{name} ({_megabytes(size)})" for name, size in self.largest() if size)
        return (f"the build context {root} is {_megabytes(self.size)} (over "
                f"{_megabytes(CONTEXT_WARN_BYTES)}), all sent to the engine before the build starts: "
                f"list what the build does not need in {os.path.join(root, DOCKERIGNORE)}"
                + (f" (the largest: {big})" if big else ""))


def _megabytes(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


def build_context(root: str | None, dockerfile_name: str, dockerfile_text: str | None,
                  builder: str) -> IO[bytes]:
    """The context tar for one build (see `pack_context`)."""
    return pack_context(root, dockerfile_name, dockerfile_text, builder).file


def pack_context(root: str | None, dockerfile_name: str, dockerfile_text: str | None,
                 builder: str) -> PackedContext:
    """The context tar for one build, as the docker CLI would send it for that builder.

    `dockerfile_text` is None when the Dockerfile is the file `dockerfile_name` inside `root`;
    otherwise (a cell, or `-f` outside the context) it is added under `dockerfile_name`.

    Classic builder (CLI `DOCKER_BUILDKIT=0`): `.dockerignore` and the Dockerfile are always sent
    (the engine drops them from COPY when `.dockerignore` lists them), and an added Dockerfile is
    listed in the `.dockerignore` sent, so `COPY . /dst` does not copy it. BuildKit through the
    API copies the tar as it is: `.dockerignore` is sent only when it does not exclude itself;
    an added Dockerfile cannot be hidden from `COPY .` (the engine reads it from the tar).
    """
    added: list[tuple[str, bytes, int, int]] = []  # name, content, mode, mtime
    if root is None:
        added.append((dockerfile_name, (dockerfile_text or "").encode("utf-8"), 0o600, 0))
        return _write_tar(None, [], added)
    ignore_path = os.path.join(root, DOCKERIGNORE)
    ignore_bytes = None
    if os.path.isfile(ignore_path):
        with open(ignore_path, "rb") as f:
            ignore_bytes = f.read()
    patterns = read_dockerignore(ignore_bytes.decode("utf-8", "surrogateescape")) if ignore_bytes else []
    outside = dockerfile_text is not None
    keep = list(patterns)
    if builder == "classic":  # the CLI's TrimBuildFilesFromExcludes
        for name in [DOCKERIGNORE] + ([] if outside else [dockerfile_name]):
            if PatternMatcher(keep).matches(name):
                keep.append(f"!{name}")
    files = select_files(root, keep)
    if builder != "classic" and not outside and dockerfile_name not in files:
        files.append(dockerfile_name)  # excluded, yet the engine reads it from the tar
    if outside:
        files = [f for f in files if f != dockerfile_name]
        if builder == "classic":
            # The CLI's AddDockerfileToBuildContext: list the added Dockerfile in .dockerignore
            # (keeping the file's own mode and time), or send one that lists itself and it.
            if ignore_bytes is not None:
                st = os.stat(ignore_path)
                added.append((DOCKERIGNORE, ignore_bytes + f"\n{dockerfile_name}\n".encode(),
                              stat.S_IMODE(st.st_mode), int(st.st_mtime)))
            else:
                added.append((DOCKERIGNORE, f"{DOCKERIGNORE}\n{dockerfile_name}\n".encode(), 0o600, 0))
            files = [f for f in files if f != DOCKERIGNORE]
        added.insert(0, (dockerfile_name, dockerfile_text.encode("utf-8"), 0o600, 0))  # type: ignore[union-attr]
    return _write_tar(root, files, added, first=dockerfile_name)


def _write_tar(root: str | None, files: list[str], added: list[tuple[str, bytes, int, int]],
               first: str = "") -> PackedContext:
    """Added files first, then `files`, a member with a plain header leading (see the docstring)."""
    files = sorted(files, key=lambda f: (f != DOCKERIGNORE, f != first, not _plain_name(f)))
    out = tempfile.TemporaryFile()
    try:
        entries = _pack(root, files, added, out)
    except BaseException:  # an unreadable file, a full disk, an interrupt: no temp file left open
        out.close()
        raise
    size = out.tell()  # measured while packing: the directory is walked once
    out.seek(0)
    return PackedContext(out, size, entries)


def _pack(root: str | None, files: list[str], added: list[tuple[str, bytes, int, int]],
          out: IO[bytes]) -> dict[str, int]:
    """Write the tar into `out`: the added members, then the files below `root`, as the CLI does.

    Returns the bytes of the files under each top-level entry (what a warning names)."""
    entries: dict[str, int] = {}
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data, mode, mtime in added:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, mtime
            tar.addfile(info, io.BytesIO(data))
        for rel in files:
            full = os.path.join(root, rel)  # type: ignore[arg-type]
            info = tar.gettarinfo(full, arcname=rel)
            if info is None:  # a socket: the CLI skips those too
                continue
            info.uid = info.gid = 0  # the CLI sends everything as 0:0 (ChownOpts)
            info.uname = info.gname = ""
            info.mtime = int(info.mtime)  # a float mtime would add a PAX record to every member
            if info.isfile():
                with open(full, "rb") as f:
                    tar.addfile(info, f)
                top = rel.split("/", 1)[0] + ("/" if "/" in rel else "")
                entries[top] = entries.get(top, 0) + info.size
            else:
                tar.addfile(info)
    return entries


def _plain_name(name: str) -> bool:
    return name.isascii() and len(name) < 100
