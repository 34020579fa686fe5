"""Build contexts: what goes into the tar sent to the engine, decided as the docker CLI decides."""
from __future__ import annotations

import posixpath

# A name for the cell's Dockerfile inside a --context tar that no real file is likely to have.
CELL_DOCKERFILE = ".nbdocker.Dockerfile"


def read_dockerignore(text: str) -> list[str]:
    """Patterns of a .dockerignore, read as moby's ignorefile.ReadAll reads them.

    A UTF-8 BOM on the first line is dropped; a line is a comment only when `#` is its very first
    character (before trimming — "  # x" is a pattern); `!` negates; paths are cleaned and made
    relative to the context.
    """
    patterns = []
    for number, line in enumerate(text.splitlines()):
        if number == 0:
            line = line.removeprefix("\ufeff")
        if line.startswith("#"):
            continue
        pattern = line.strip()
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip()
        if pattern:
            if pattern.startswith("//"):  # Go's filepath.Clean folds them; posixpath keeps two
                pattern = "/" + pattern.lstrip("/")
            pattern = posixpath.normpath(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        patterns.append(f"!{pattern}" if invert else pattern)
    return patterns
