"""Builds: `%%dockerfile` and `%docker build` (placeholder until the builds issue lands)."""
from __future__ import annotations

from typing import Any

from .cli import ArgumentParser


def dockerfile_parser() -> ArgumentParser:
    return ArgumentParser(prog="%%dockerfile")


def attach_lines(history: Any) -> Any:
    return history


def run_dockerfile_cell(session: Any, line: str, cell: str) -> Any:
    raise NotImplementedError
