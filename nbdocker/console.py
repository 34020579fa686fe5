"""The `nbdocker` console script: headless builds for CI, and grading a folder of submissions.

    nbdocker build NOTEBOOK.ipynb…
    nbdocker grade SUBMISSION.ipynb|DIR… --spec CHECKS.yml [--jobs N] [--report FILE.json|.csv|.html]

`grade` builds each submission's `%%dockerfile` cells untrusted (no network, a timeout, the limits
the builder honours), runs the spec's checks, prints a summary table and writes the report. Every
image and container it made is removed, also on Ctrl-C (exit status 130).
"""
from __future__ import annotations

import argparse
import re
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import TextIO

from nbdocker import cli
from nbdocker.build.command import run_dockerfile_cell
from nbdocker.engine import sandbox
from nbdocker.engine.client import Engine
from nbdocker.errors import NbDockerError, UsageError
from nbdocker.grading.report import GradeReport, RunReport, write_report
from nbdocker.grading.spec import load_spec
from nbdocker.grading.submissions import (
    BuildLimits,
    dockerfile_cells,
    grade_submission,
    notebook_paths,
)


def parser() -> argparse.ArgumentParser:
    """The console script's arguments."""
    p = argparse.ArgumentParser(prog="nbdocker", description="Dockerfile notebooks, headless.")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="Build every %%dockerfile cell of the notebooks (exit 1 on a failure)")
    b.add_argument("notebooks", nargs="+", metavar="NOTEBOOK.ipynb")
    b.add_argument("--builder", choices=("auto", "buildkit", "classic"), default="auto")
    g = sub.add_parser("grade", help="Build and check submissions against a CST-style spec")
    g.add_argument("submissions", nargs="+", metavar="SUBMISSION.ipynb|DIR")
    g.add_argument("--spec", required=True, metavar="CHECKS.yml")
    g.add_argument("--jobs", type=int, default=1, metavar="N", help="Submissions graded at once")
    g.add_argument("--report", metavar="FILE", help="Write the grades as .json, .csv or .html")
    g.add_argument("--timeout", type=float, default=120.0, metavar="S", help="Seconds per build")
    g.add_argument("--memory", default="512m", metavar="SIZE", help="Memory a RUN may use (classic builder)")
    g.add_argument("--builder", choices=("classic", "buildkit"), default="classic",
                   help="classic enforces memory, CPU and ulimits on RUN; BuildKit only the timeout")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "build":
            return build_notebooks(args.notebooks, args.builder)
        return grade_folder(args)
    except NbDockerError as err:
        print(err._render_traceback_()[0], file=sys.stderr)
        return 2


def build_notebooks(paths: list[str], builder: str, out: TextIO = sys.stdout) -> int:
    """Build each notebook's `%%dockerfile` cells as the magic would; 1 when any fails."""
    engine = Engine()
    session = cli.Session(engine, builder=builder)
    failures = 0
    for path in paths:
        try:
            cells = dockerfile_cells(path)
        except NbDockerError as err:
            print(f"{path}: {err}", file=out)
            failures += 1
            continue
        for cell in cells:
            print(f"{path}: cell {cell.index + 1}", file=out)
            try:
                run_dockerfile_cell(session, cell.line, cell.body)
            except (NbDockerError, NotImplementedError) as err:
                render = getattr(err, "_render_traceback_", None)
                print(f"{path}: cell {cell.index + 1}: {render()[0] if render else err}", file=out)
                failures += 1
                break  # later cells may need this one's image
    engine.close()
    print(f"{len(paths)} notebooks, {failures} failed", file=out)
    return 1 if failures else 0


def docker_bytes(text: str) -> int:
    """A size as docker's --memory reads it: 512m = 512 MiB (b, k, m, g; binary units)."""
    match = re.fullmatch(r"(\d+)([bkmg]?)", text.strip().lower())
    if match is None:
        raise UsageError(f"--memory {text!r}: expected a size like 512m", "nbdocker grade")
    return int(match.group(1)) * 1024 ** "bkmg".index(match.group(2) or "b")


def grade_folder(args: argparse.Namespace) -> int:
    """`nbdocker grade`: every submission graded, a summary printed, the report written."""
    spec = load_spec(args.spec)
    paths = notebook_paths(args.submissions)
    limits = BuildLimits(timeout=args.timeout, memory=docker_bytes(args.memory), builder=args.builder)
    run_id = sandbox.new_run_id()
    probe = Engine()
    before = sandbox.image_ids(probe)  # parents that existed before the run are someone's: kept
    probe.close()
    stop = threading.Event()
    made: list[str] = []  # the submissions' tags, removed when every submission is done
    results: dict[int, GradeReport] = {}
    bar = ProgressBar(len(paths), sys.stderr, run_id)

    def one(number: int, path: str) -> GradeReport:
        if stop.is_set():
            raise KeyboardInterrupt
        engine = Engine()
        try:
            return grade_submission(engine, path, spec, number, run_id, limits, stop, made)
        finally:
            engine.close()

    pool = ThreadPoolExecutor(max(1, args.jobs), thread_name_prefix="nbdocker-grade")
    futures = {pool.submit(one, n, p): n for n, p in enumerate(paths)}
    try:
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                results[futures[future]] = future.result()
                bar.advance(results[futures[future]])
    except KeyboardInterrupt:
        stop.set()
        _sweep(run_id, pool, before, made)
        print("\ninterrupted: every image and container this run made was removed", file=sys.stderr)
        return 130
    pool.shutdown(wait=True)
    _remove_made(run_id, before, made)
    bar.close()
    run = RunReport([results[n] for n in sorted(results)])
    print(run)
    if args.report:
        print(f"report: {write_report(run, args.report)}")
    return 0


def _sweep(run_id: str, pool: ThreadPoolExecutor, before: set[str], made: list[str]) -> None:
    """Ctrl-C: kill this run's containers (unblocks the workers), let the builds cancel, remove all."""
    engine = Engine()
    sandbox.remove_labelled(engine, run_id)
    pool.shutdown(wait=True, cancel_futures=True)
    sandbox.remove_labelled(engine, run_id)
    engine.close()
    _remove_made(run_id, before, made)


def _remove_made(run_id: str, before: set[str], made: list[str]) -> None:
    """Every image the run's builds made, intermediate ones included; what existed before stays."""
    engine = Engine()
    for tag in reversed(made):
        sandbox.remove_built(engine, tag, before)
    sandbox.remove_labelled_images(engine, run_id, before)
    engine.close()


class ProgressBar:
    """`[#####-----] 5/20 alice.ipynb 7/10` on a terminal (redrawn), one line each otherwise."""

    def __init__(self, total: int, out: TextIO, run_id: str = "") -> None:
        self.total, self.done, self.out, self.run_id = total, 0, out, run_id
        self.tty = getattr(out, "isatty", lambda: False)()
        self.started = time.time()

    def advance(self, report: GradeReport) -> None:
        """One more submission graded."""
        self.done += 1
        width = 20
        filled = width * self.done // max(1, self.total)
        text = (f"[{'#' * filled}{'-' * (width - filled)}] {self.done}/{self.total} "
                f"{report.path}: {report.score:g}/{report.max_score:g}")
        self.out.write(("\r\x1b[K" + text) if self.tty else text + "\n")
        self.out.flush()

    def close(self) -> None:
        """The last line: how many, how long, and the run's label."""
        if self.tty:
            self.out.write("\n")
        self.out.write(f"graded {self.done} submissions in {time.time() - self.started:.1f} s "
                       f"(run {self.run_id}: what it made was labelled {sandbox.LABEL}={self.run_id}, "
                       "and is removed)\n")
        self.out.flush()


if __name__ == "__main__":
    raise SystemExit(main())
