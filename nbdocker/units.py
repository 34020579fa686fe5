"""Sizes, durations and ids written the way the docker CLI writes them (go-units), pure."""
from __future__ import annotations

import time

_DECIMAL_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def human_size(size: float, precision: int = 3) -> str:
    """`units.HumanSizeWithPrecision(size, 3)`: decimal units, three significant digits."""
    size = float(size)
    unit = 0
    while size >= 1000.0 and unit < len(_DECIMAL_UNITS) - 1:
        size /= 1000.0
        unit += 1
    return f"{size:.{precision}g}{_DECIMAL_UNITS[unit]}"


def counted(n: int, word: str, plural: str | None = None) -> str:
    """`1 image`, `2 images`, `1 entry`, `3 entries`."""
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def human_duration(seconds: float) -> str:
    """`units.HumanDuration`: "Less than a second", "About a minute", "3 weeks" …"""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def ago(timestamp: float | None, now: float | None = None) -> str:
    """A creation time as the CLI shows it: "5 minutes ago" ("N/A" when unknown)."""
    if not timestamp or timestamp <= 0:
        return "N/A"
    return human_duration((now if now is not None else time.time()) - timestamp) + " ago"


def short_id(image_id: str) -> str:
    """The 12-character id the CLI prints (`sha256:` dropped)."""
    return image_id.split(":", 1)[-1][:12]
