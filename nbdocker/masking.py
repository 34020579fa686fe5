"""Secret-looking values kept out of every view: build args in history, inspect JSON, build logs.

A build arg that a RUN uses is stored in clear text in the image: in its history
(`|2 API_KEY=two words GITHUB_TOKEN=abc /bin/sh -c …`) and, with the classic builder, in
`ContainerConfig.Cmd` (`["|2", "API_KEY=two words", "GITHUB_TOKEN=abc", "/bin/sh", "-c", …]`).
The `|N` says how many assignments follow, so a value with spaces is masked whole without knowing
it. Names are judged by their words (`DB_PASS`, `GH_PAT`, `apiKey`), never by substrings
(`MONKEY`, `AUTHOR` are not secrets).
"""
from __future__ import annotations

import re
from typing import Any

MASK = "****"

# Whole words of a name that mark it secret, and endings of run-together words (`GHTOKEN`).
_SECRET_WORDS = frozenset({
    "TOKEN", "TOKENS", "PASSWORD", "PASSWORDS", "PASSWD", "PASS", "PWD", "PASSPHRASE", "SECRET",
    "SECRETS", "KEY", "KEYS", "APIKEY", "ACCESSKEY", "SECRETKEY", "PRIVATEKEY", "CREDENTIAL",
    "CREDENTIALS", "CREDS", "AUTH", "OAUTH", "PRIVATE", "CERT", "PAT", "DSN",
})
_SECRET_ENDINGS = ("TOKEN", "PASSWORD", "PASSWD", "SECRET", "APIKEY", "CREDENTIALS")
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def name_words(name: str) -> list[str]:
    """`GH_PAT` → [GH, PAT]; `apiKey` → [API, KEY]; `db-password2` → [DB, PASSWORD, 2]."""
    return [w.upper() for w in _WORDS.findall(name)]


def is_secret_name(name: str) -> bool:
    """A name that looks like it holds a secret (API_TOKEN, DB_PASS, GH_PAT, sshKey …)."""
    words = name_words(name)
    return any(w in _SECRET_WORDS or (len(w) > 6 and w.endswith(_SECRET_ENDINGS)) for w in words)


_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")
_COUNT = re.compile(r"\|(\d+) ")
# Where the command starts after the last assignment: a shell (`/bin/sh -c`) or an exec form.
_COMMAND = re.compile(r" (?=/\S*\b(?:sh|bash|ash|dash|zsh) -c\b|\[\")")
# A lone `NAME=value` (one word), e.g. in ENV text or a build's log.
_PAIR = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)=(\S*)")


def mask_text(text: str, secrets: dict[str, str] | None = None) -> str:
    """Mask secret-named values in displayed text, and any value in `secrets` (known during a build)."""
    masked = text
    # Known values first: the longest first, so one that contains another is masked whole.
    for value in sorted((secrets or {}).values(), key=len, reverse=True):
        if value and len(value) >= 3:
            masked = masked.replace(value, MASK)
    masked = _mask_counted(masked)

    def pair(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        return f"{name}={MASK}" if is_secret_name(name) and value and value != MASK else match.group(0)

    return _PAIR.sub(pair, masked)


def _mask_counted(text: str) -> str:
    """`|N A=… B=… cmd`: the N assignments, each value up to the next assignment or the command."""
    out, pos = [], 0
    for count in _COUNT.finditer(text):
        if count.start() < pos:
            continue
        n, start = int(count.group(1)), count.end()
        starts = [m for m in _ASSIGNMENT.finditer(text, start)]
        # The i-th assignment begins where the (i-1)-th value ends: at " NAME=".
        chosen = [starts[0]] if starts and starts[0].start() == start else []
        for m in starts[1:]:
            if len(chosen) == n:
                break
            if text[m.start() - 1] == " ":
                chosen.append(m)
        if len(chosen) != n or n == 0:
            continue
        out.append(text[pos:start])
        for i, m in enumerate(chosen):
            if i + 1 < n:
                end = chosen[i + 1].start() - 1
            else:
                command = _COMMAND.search(text, m.end())
                end = command.start() if command else _word_end(text, m.end())
            value = text[m.end():end]
            out.append(text[m.start():m.end()] + (MASK if is_secret_name(m.group(1)) and value else value))
            out.append(" " if i + 1 < n else "")
            pos = end
    out.append(text[pos:])
    return "".join(out)


def _word_end(text: str, start: int) -> int:
    space = text.find(" ", start)
    return len(text) if space < 0 else space


def mask_json(value: Any) -> Any:
    """A copy of engine JSON (inspect) with secret-named values masked wherever they stand.

    A list that starts with `|N` (a classic build's Cmd) has N whole `NAME=value` items after it;
    any other `NAME=value` string (Env) is one assignment; other strings are masked as text.
    """
    if isinstance(value, dict):
        return {k: mask_json(v) for k, v in value.items()}
    if isinstance(value, list):
        counted = value and isinstance(value[0], str) and re.fullmatch(r"\|\d+", value[0])
        n = int(value[0][1:]) if counted else 0
        return [_mask_item(v, whole=0 < i <= n or _is_assignment(v)) for i, v in enumerate(value)]
    if isinstance(value, str):
        return mask_text(value)
    return value


def _is_assignment(item: Any) -> bool:
    return isinstance(item, str) and bool(re.match(r"[A-Za-z_][A-Za-z0-9_]*=", item))


def _mask_item(item: Any, whole: bool) -> Any:
    if whole and isinstance(item, str):
        name, _, rest = item.partition("=")
        return f"{name}={MASK}" if is_secret_name(name) and rest else item
    return mask_json(item)
