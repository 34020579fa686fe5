"""Grade reports: per check pass/fail, points and a message for the student; per run, a table.

`GradeReport` is one image's (one submission's) result, shown as text and escaped HTML like every
nbdocker result. `write_report` writes many of them as JSON, CSV or HTML. Messages and names come
from student images and specs: they are escaped by the renderers, never inserted raw.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from nbdocker.grading.spec import SpecError
from nbdocker.views import render as views
from nbdocker.views.results import Result


@dataclass
class CheckResult:
    """One check's verdict: earned points of `max_points`, and a message written for a student."""

    name: str
    passed: bool
    points: float
    max_points: float
    message: str
    kind: str = ""  # "command", "file", "content", "metadata", "image", "lint", "waste", "build"
    problems: list[str] = field(default_factory=list)


@dataclass
class GradeReport(Result):
    """Every check run on one image or submission."""

    target: str
    checks: list[CheckResult]
    path: str = ""  # the submission notebook, when there is one
    reason: str = ""  # why nothing could be checked (no notebook, no Dockerfile cell, build failed)

    @property
    def score(self) -> float:
        """Points earned."""
        return sum(c.points for c in self.checks)

    @property
    def max_score(self) -> float:
        """Points there were to earn."""
        return sum(c.max_points for c in self.checks)

    @property
    def passed(self) -> bool:
        """Every check passed (and something was checked)."""
        return all(c.passed for c in self.checks) and not self.reason

    @property
    def failures(self) -> list[CheckResult]:
        """The checks that failed, in order."""
        return [c for c in self.checks if not c.passed]

    def view(self) -> views.TableView:
        """One row per check: name, pass/FAIL, points, the student's message."""
        rows = [{"check": c.name, "result": "pass" if c.passed else "FAIL",
                 "points": f"{_num(c.points)}/{_num(c.max_points)}", "message": c.message}
                for c in self.checks]
        columns = [views.Column("check", "CHECK"), views.Column("result", "RESULT"),
                   views.Column("points", "POINTS", numeric=True), views.Column("message", "MESSAGE")]
        footer = f"score {_num(self.score)}/{_num(self.max_score)}"
        if self.reason:
            footer += f" — {self.reason}"
        return views.TableView("grade", columns, rows, title=self.path or self.target, footer=footer,
                               empty="no checks")

    def as_dict(self) -> dict[str, Any]:
        """The issue's JSON shape for one submission."""
        return {"path": self.path or self.target, "score": self.score, "max_score": self.max_score,
                "checks": [{"name": c.name, "passed": c.passed, "points": c.points, "message": c.message}
                           for c in self.checks], **({"reason": self.reason} if self.reason else {})}


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass
class RunReport(Result):
    """A grading run: one row per submission (the summary table the console prints)."""

    submissions: list[GradeReport]

    def view(self) -> views.TableView:
        """One row per submission: score, failed checks, reason."""
        rows = [{"path": r.path or r.target, "score": f"{_num(r.score)}/{_num(r.max_score)}",
                 "failed": "all" if r.reason else (", ".join(c.name for c in r.failures) or "-"),
                 "reason": r.reason} for r in self.submissions]
        columns = [views.Column("path", "SUBMISSION"), views.Column("score", "SCORE", numeric=True),
                   views.Column("failed", "FAILED CHECKS"), views.Column("reason", "REASON")]
        passed = sum(r.passed for r in self.submissions)
        return views.TableView("grade-run", columns, rows,
                               footer=f"{len(self.submissions)} submissions, {passed} passed every check")

    def as_dict(self) -> dict[str, Any]:
        """The issue's JSON shape for the whole run."""
        return {"submissions": [r.as_dict() for r in self.submissions]}


def report_json(run: RunReport) -> str:
    """`{"submissions": [{"path", "score", "max_score", "checks": [{"name", "passed", "points", "message"}]}]}`."""
    return json.dumps(run.as_dict(), indent=2, ensure_ascii=False)


def report_csv(run: RunReport) -> str:
    """One row per check: path, check, passed, points, max_points, message."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["path", "check", "passed", "points", "max_points", "message"])
    for r in run.submissions:
        if not r.checks:
            writer.writerow([r.path or r.target, "", False, 0, 0, r.reason])
        for c in r.checks:
            writer.writerow([r.path or r.target, c.name, c.passed, c.points, c.max_points,
                             _no_formula(c.message)])
    return out.getvalue()


def _no_formula(text: str) -> str:
    # A spreadsheet runs a cell starting with = + - @ as a formula: student text must not be one.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def report_html(run: RunReport) -> str:
    """A standalone page: the summary, then each submission's checks (all escaped)."""
    parts = [views.render_html(run.view())] + [views.render_html(r.view()) for r in run.submissions]
    return ("<!doctype html><html><head><meta charset='utf-8'><title>grades</title></head><body>"
            + "\n".join(parts) + "</body></html>")


def write_report(run: RunReport, path: str) -> str:
    """Write the run as .json, .csv or .html (chosen by the file's extension)."""
    kinds = {".json": report_json, ".csv": report_csv, ".html": report_html}
    ext = path[path.rfind("."):].lower() if "." in path else ""
    if ext not in kinds:
        raise SpecError(f"--report {path}: expected a .json, .csv or .html file")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(kinds[ext](run))
    return path

