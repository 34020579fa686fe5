"""Build arguments: parsing `K=V` pairs (`--build-arg`, `--label`).

Secret-looking build args are masked in every view by `nbdocker.masking`.
"""
from __future__ import annotations

from nbdocker.errors import UsageError


def parse_pairs(pairs: list[str] | None, flag: str) -> dict[str, str]:
    """`K=V` arguments of `flag` as a dict; a pair without '=' is a usage error naming it."""
    result: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not key or not sep:
            raise UsageError(f"{flag} {pair!r}: expected KEY=VALUE")
        result[key] = value
    return result
