"""`%docker lint FILE`: Docker's build checks and the common hadolint rules, each on its lines.

Not a docker CLI command (the CLI's nearest is `docker build --check`, which needs buildx); the
words follow hadolint's (`hadolint FILE`, `--ignore CODE`). Needs no engine.
"""
from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from nbdocker import cli
from nbdocker.dockerfile.lint import LintReport, lint
from nbdocker.errors import UsageError

PROG = "%docker lint"


def lint_file(path: str, *, hadolint: bool = True, ignore: list[str] | None = None) -> LintReport:
    """Lint the Dockerfile at `path`; a missing or unreadable file is a one-line UsageError."""
    file = Path(path).expanduser()
    if file.is_dir():
        file = file / "Dockerfile"
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file (give the path of a Dockerfile)", PROG) from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a text file (a Dockerfile is UTF-8 text)", PROG) from None
    except OSError as err:
        raise UsageError(f"{path}: cannot be read ({err.strerror or err})", PROG) from None
    report = lint(text, hadolint=hadolint)
    if ignore:
        codes = {code.strip() for item in ignore for code in item.split(",")}
        report = replace(report, findings=[f for f in report.findings if f.code not in codes])
    return report


def register(sub: Any, image_sub: Any) -> None:
    """`lint FILE [--no-hadolint] [--ignore CODE]…`."""
    p = cli.add_command(sub, "lint", _run_lint,
                        "Lint a Dockerfile: Docker's build checks and hadolint's common rules, "
                        "each finding on its line", prog=PROG)
    p.add_argument("file", metavar="FILE", help="The Dockerfile (a directory means DIR/Dockerfile)")
    p.add_argument("--no-hadolint", action="store_true",
                   help="Only nbdocker's own rules, even when a hadolint binary is at hand")
    p.add_argument("--ignore", action="append", metavar="CODE",
                   help="A rule not to report (DL3008, JSONArgsRecommended …); may repeat")


def _run_lint(session: cli.Session, a: argparse.Namespace) -> LintReport:
    return lint_file(a.file, hadolint=not a.no_hadolint, ignore=a.ignore)
