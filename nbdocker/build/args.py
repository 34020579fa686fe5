"""Build arguments: parsing `K=V`, and keeping secret-looking values out of what we display.

Build args that a RUN uses are stored in clear text in the image history (`|1 TOKEN=abc /bin/sh
-c …`), so a value whose name looks secret is masked in every nbdocker view and warned about.
"""
from __future__ import annotations

import re

from nbdocker.errors import UsageError

_SECRET_WORDS = ("TOKEN", "PASSWORD", "PASSWD", "SECRET", "KEY", "CREDENTIAL", "AUTH", "PRIVATE", "CERT")
MASK = "****"


def is_secret_name(name: str) -> bool:
    """A build-arg name that looks like it holds a secret (API_TOKEN, DB_PASSWORD, SSH_KEY …)."""
    upper = name.upper()
    return any(word in upper for word in _SECRET_WORDS)


def parse_pairs(pairs: list[str] | None, flag: str) -> dict[str, str]:
    """`K=V` arguments of `flag` as a dict; a pair without '=' is a usage error naming it."""
    result: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not key or not sep:
            raise UsageError(f"{flag} {pair!r}: expected KEY=VALUE")
        result[key] = value
    return result


# `|2 A=1 TOKEN=abc /bin/sh -c …` is how the classic builder records the build args a RUN saw.
_PAIR = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(\S*)")


def mask_text(text: str, secrets: dict[str, str] | None = None) -> str:
    """Mask secret-looking `NAME=value` pairs, and any known secret value, in displayed text."""
    def replace(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        return f"{name}={MASK}" if is_secret_name(name) and value else match.group(0)

    masked = text
    # Known values first: a value with spaces would otherwise be only partly masked by the pairs.
    for value in sorted((secrets or {}).values(), key=len, reverse=True):
        if value and len(value) >= 3:
            masked = masked.replace(value, MASK)
    return _PAIR.sub(replace, masked)
