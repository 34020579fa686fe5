"""Grading submissions: a student's notebook → its `%%dockerfile` cells built untrusted → checks.

Each submission gets its own tag namespace (`nbdgrade-<run>-<n>/<tag>`; FROM lines naming an
earlier cell's tag are rewritten to match), its builds run with no network, a timeout and the
limits the builder honours, every image and container it made carries the run's label and is
removed when it is graded. The image graded is the last `%%dockerfile` cell's. A submission that
is not a notebook, has no `%%dockerfile` cell or does not build is a graded failure with a reason.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from nbdocker import cli
from nbdocker.build.args import parse_pairs
from nbdocker.build.command import (
    BuildRequest,
    dockerfile_parser,
    is_nbgrader_stub,
    run_build,
)
from nbdocker.dockerfile.parse import parse_dockerfile
from nbdocker.engine import sandbox
from nbdocker.engine.client import Engine
from nbdocker.errors import NbDockerError
from nbdocker.grading import spec as s
from nbdocker.grading.grader import grade_image
from nbdocker.grading.report import CheckResult, GradeReport


@dataclass
class BuildLimits:
    """What an untrusted build may use. The classic builder enforces memory, CPU and ulimits
    through the API; BuildKit (Engine 20.10, through the API) enforces none: only the timeout."""

    timeout: float = 120.0
    memory: int = 512 << 20
    cpus: float = 1.0
    nproc: int = 2048  # RLIMIT_NPROC counts the uid's processes host-wide: a fork bomb stops here
    nofile: int = 1024
    builder: str = "classic"

    def params(self) -> dict[str, str]:
        """The Engine API's build parameters for these limits (the classic builder's)."""
        if self.builder != "classic":
            return {}
        return {"memory": str(self.memory), "memswap": str(self.memory),  # no swap on top
                "cpuperiod": "100000", "cpuquota": str(int(self.cpus * 100000)),
                "ulimits": json.dumps([{"Name": "nproc", "Soft": self.nproc, "Hard": self.nproc},
                                       {"Name": "nofile", "Soft": self.nofile, "Hard": self.nofile}])}


@dataclass
class Cell:
    """One `%%dockerfile` cell: its index in the notebook, its magic line, its body."""

    index: int
    line: str
    body: str


@dataclass
class Built:
    """What building a submission's cells made."""

    image_id: str | None = None
    dockerfile: str | None = None
    tags: list[str] = field(default_factory=list)  # removed by tag: identical builds share ids
    reason: str = ""


def dockerfile_cells(path: str) -> list[Cell]:
    """The `%%dockerfile` cells of a notebook; NbDockerError when it is not a notebook."""
    # Plain JSON, not nbformat: importing nbformat (jsonschema's format checkers) costs ~2 s.
    try:
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
        raw = nb["cells"] if "cells" in nb else [c for w in nb["worksheets"] for c in w["cells"]]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
        raise NbDockerError(f"not a notebook ({type(err).__name__}: {str(err)[:120]})") from None
    cells = []
    for i, cell in enumerate(raw):
        source = cell.get("source", "") if isinstance(cell, dict) else ""
        source = "".join(source) if isinstance(source, list) else str(source)
        if cell.get("cell_type") == "code" and source.lstrip().startswith("%%dockerfile"):
            head, _, body = source.lstrip().partition("\n")
            cells.append(Cell(i, head[len("%%dockerfile"):].strip(), body))
    return cells


def namespaced(tag: str, namespace: str) -> str:
    """`web:1` → `nbdgrade-run-3/web:1`: one submission's tags never meet another's."""
    return f"{namespace}/{tag.lower().replace('/', '-')}"


def _rewrite_from(text: str, tags: dict[str, str]) -> str:
    """FROM (and COPY --from=) lines naming an earlier cell's tag use its namespaced tag."""
    def swap(match: re.Match[str]) -> str:
        name = match.group(2)
        key = name if name in tags else (name + ":latest" if name + ":latest" in tags else None)
        return match.group(1) + (tags[key] if key else name)

    text = re.sub(r"(?im)^(\s*FROM\s+(?:--\S+\s+)*)(\S+)", swap, text)
    return re.sub(r"(?i)(--from=)(\S+)", swap, text)


def build_cells(engine: Engine, cells: list[Cell], namespace: str, run_id: str,
                limits: BuildLimits, stop: Any = None) -> Built:
    """Build each cell untrusted, in order; stop at the first failure (its reason kept)."""
    session = cli.Session(engine, builder=limits.builder)
    built, tags = Built(), {}
    for n, cell in enumerate(cells, 1):
        if is_nbgrader_stub(cell.body):
            built.reason = f"cell {cell.index + 1}: the Dockerfile is still the nbgrader stub"
            return built
        try:
            args = dockerfile_parser().parse_args(cli.split_line(cell.line))
            own = [t if ":" in t.rsplit("/", 1)[-1] else t + ":latest" for t in args.tag]
            tags.update({t: namespaced(t, namespace) for t in own})
            text = _rewrite_from(cell.body, tags)
            request = BuildRequest(
                text, parse_dockerfile(text), tags=[tags[t] for t in own] or [f"{namespace}/cell-{n}"],
                build_args=parse_pairs(args.build_arg, "--build-arg"), target=args.target,
                labels={**parse_pairs(args.label, "--label"), sandbox.LABEL: run_id},
                network="none", builder=limits.builder, quiet=True, timeout=limits.timeout,
                limits=limits.params(), stop=stop)
            result = run_build(session, request)
        except (NbDockerError, cli.HelpShown) as err:
            built.reason = f"cell {cell.index + 1}: {_one_line(err)}"
            if "exit code 137" in built.reason:  # SIGKILL: the memory limit (or the engine) killed it
                built.reason += f" — over limit: killed, most likely out of memory ({limits.memory >> 20} MiB)"
            return built
        built.tags += request.tags
        built.image_id, built.dockerfile = result.image_id, text
    return built


def grade_submission(engine: Engine, path: str, spec: s.Spec, number: int, run_id: str,
                     limits: BuildLimits, stop: Any = None, defer: list[str] | None = None) -> GradeReport:
    """Build and check one submission; the images it made are removed before returning, or their
    tags appended to `defer` for the caller to remove when every submission is done (identical
    submissions built at the same time share intermediate images: removing them mid-run could
    pull a layer from under another build)."""
    namespace = f"nbdgrade-{run_id}-{number}"
    built = Built()
    before = sandbox.image_ids(engine) if defer is None else set()  # older parents are someone's
    try:
        cells = dockerfile_cells(path)
        if not cells:
            return _failed(path, spec, "no %%dockerfile cell")
        built = build_cells(engine, cells, namespace, run_id, limits, stop)
        if built.image_id is None or built.reason:
            return _failed(path, spec, built.reason or "nothing was built")
        report = grade_image(built.image_id, spec, engine, run_id, built.dockerfile)
        report.path = path
        return report
    except NbDockerError as err:
        return _failed(path, spec, _one_line(err))
    finally:
        if stop is not None and stop.is_set():  # Ctrl-C: whatever is still running goes now
            sandbox.remove_labelled(engine, run_id)
        if defer is not None:
            defer.extend(built.tags)
        else:
            for tag in reversed(built.tags):
                sandbox.remove_built(engine, tag, before)
            sandbox.remove_tagged(engine, namespace)


def _failed(path: str, spec: s.Spec, reason: str) -> GradeReport:
    checks = [CheckResult(t.name, False, 0.0, t.points, reason) for t in spec.tests]
    return GradeReport(path, checks, path=path, reason=reason)


def _one_line(err: BaseException) -> str:
    render = getattr(err, "_render_traceback_", None)
    # "build failed: …" says what failed; the bare family prefix ("nbdocker: …") says nothing.
    text = render()[0] if render and type(err) is not NbDockerError else str(err)
    return " ".join(text.split())[:400]


def notebook_paths(paths: list[str]) -> list[str]:
    """The files given, with folders expanded to the .ipynb files inside (sorted)."""
    found = []
    for path in paths:
        if os.path.isdir(path):
            for root, _, files in sorted(os.walk(path)):
                found += sorted(os.path.join(root, f) for f in files if f.endswith(".ipynb")
                                and ".ipynb_checkpoints" not in root)
        else:
            found.append(path)
    return found
