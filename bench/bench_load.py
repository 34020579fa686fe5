"""`%load_ext nbdocker` against a bare `InteractiveShell.instance()`, each in fresh processes.

    .venv/bin/python bench/bench_load.py [--runs 11]

Each run is a new Python process (nothing imported yet) that times, in-process, first
`InteractiveShell.instance()` and then `%load_ext nbdocker`, and lists which heavy modules the
load imported. Reported: medians, the ratio load/shell (the load's cost in units of IPython's own
start), and the target (≤ 100 ms). No engine is contacted. Writes bench/results-load.md.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results-load.md"
TARGET_MS = 100.0
HEAVY = ("docker", "requests", "urllib3", "anywidget", "ipywidgets", "paramiko", "nbclient", "nbconvert")

PROBE = r"""
import json, sys, time
started = time.perf_counter()
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
made = time.perf_counter()
shell.run_line_magic("load_ext", "nbdocker")
loaded = time.perf_counter()
print(json.dumps({"shell": made - started, "load": loaded - made,
                  "heavy": [m for m in HEAVY if m in sys.modules]}))
"""


def one_run() -> dict:
    env_probe = PROBE.replace("HEAVY", repr(HEAVY))
    done = subprocess.run([sys.executable, "-c", env_probe], capture_output=True, text=True, check=True,
                          env={"DOCKER_HOST": "unix:///nonexistent.sock", "PATH": "/usr/bin:/bin"})
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args(argv)
    one_run()  # warm the page cache
    runs = [one_run() for _ in range(args.runs)]
    shell = statistics.median(r["shell"] for r in runs) * 1000
    load = statistics.median(r["load"] for r in runs) * 1000
    heavy = sorted({m for r in runs for m in r["heavy"]})
    lines = [
        "# `%load_ext nbdocker`",
        "",
        f"Medians of {args.runs} fresh processes.",
        "",
        "| bare `InteractiveShell.instance()` | `%load_ext nbdocker` after it | ratio load/shell | target |",
        "|---|---|---|---|",
        f"| {shell:.0f} ms | {load:.0f} ms | {load / shell:.2f} | ≤ {TARGET_MS:.0f} ms |",
        "",
        f"Heavy modules imported by loading: {', '.join(heavy) if heavy else 'none'} "
        f"(checked: {', '.join(HEAVY)}).",
    ]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if load <= TARGET_MS and not heavy else 1


if __name__ == "__main__":
    raise SystemExit(main())
