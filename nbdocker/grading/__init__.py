"""Grading Dockerfile assignments: container-structure-test's checks (and a few more) on images.

```python
from nbdocker import grading
grading.check(build, '''
commandTests:
  - name: greets
    command: cat
    args: [/greeting]
    expectedOutput: [hello]
''')
```
`check` raises `AssertionError` with a message for the student when a check fails and writes
nothing to stderr (nbgrader scores a test cell 0 when it does); `grade` returns the report.
"""
from __future__ import annotations

from typing import Any

from nbdocker.engine.client import Engine
from nbdocker.grading.grader import grade_image
from nbdocker.grading.report import CheckResult, GradeReport, RunReport, write_report
from nbdocker.grading.spec import Spec, SpecError, load_spec, parse_spec


def grade(image: Any, spec: Spec | str | dict[str, Any], engine: Engine | None = None) -> GradeReport:
    """Run the checks of `spec` (YAML text, a dict, or a Spec) on `image` (a BuildResult, tag or id)."""
    return grade_image(image, spec, engine)


def check(image: Any, spec: Spec | str | dict[str, Any], engine: Engine | None = None) -> GradeReport:
    """For a notebook test cell: the report when every check passes, else AssertionError."""
    report = grade_image(image, spec, engine)
    if report.failures:
        raise AssertionError("\n".join(f"{c.name}: {c.message}" for c in report.failures))
    return report


__all__ = [
    "CheckResult",
    "GradeReport",
    "RunReport",
    "Spec",
    "SpecError",
    "check",
    "grade",
    "load_spec",
    "parse_spec",
    "write_report",
]
