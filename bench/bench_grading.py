"""Grading benchmark: `nbdocker grade --jobs 2` against a shell script running `docker build` then
`container-structure-test test` per submission, on the same engine, in one run.

    .venv/bin/python bench/bench_grading.py [--submissions 20] [--jobs 2] [--out bench/results-grading.md]

Workload: N notebooks, each one `%%dockerfile` cell (a small build: FROM busybox, one RUN writing a
file, USER, CMD) and the same 6 checks, a CST 2.0.0 config both sides read unchanged (3 command
tests, 2 file existence tests, 1 file content test; no metadata test, so both count 6). Each side
builds its own unique Dockerfiles (a nonce in the RUN), so neither finds the other's cache. Both
use the classic builder with `--network none` (the builder that enforces limits on RUN, which
`nbdocker grade` uses by default). One run each, the peer first; every image made is removed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
SPEC = """schemaVersion: 2.0.0
commandTests:
  - name: greets
    command: cat
    args: [/greeting]
    expectedOutput: ["^hello, docker"]
  - name: runs as 1000
    command: id
    args: ["-u"]
    expectedOutput: ["1000"]
  - name: shell works
    command: sh
    args: ["-c", "exit 3"]
    exitCode: 3
fileExistenceTests:
  - name: greeting readable
    path: /greeting
    permissions: "-rw-r--r--"
  - name: no secrets
    path: /root/.ssh
    shouldExist: false
fileContentTests:
  - name: greeting content
    path: /greeting
    expectedContents: ["hello"]
"""


def dockerfile(nonce: str, n: int) -> str:
    return (f'FROM busybox:latest\nRUN echo "hello, docker" > /greeting && chmod 644 /greeting && : {nonce}-{n}\n'
            'USER 1000\nCMD ["cat", "/greeting"]\n')


def notebook(path: Path, body: str) -> None:
    cell = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
            "source": "%%dockerfile -t hello\n" + body}
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}))


def run_peer(work: Path, n: int, nonce: str) -> float:
    """The shell script an instructor would write: build, test, remove, one submission at a time."""
    for i in range(n):
        (work / f"Dockerfile.{i}").write_text(dockerfile(nonce, i))
    script = work / "grade.sh"
    script.write_text(f"""#!/bin/sh
export DOCKER_BUILDKIT=0
for i in $(seq 0 {n - 1}); do
  docker build -q --network none -t {nonce}-peer-$i -f {work}/Dockerfile.$i {work}/empty >/dev/null 2>&1 || echo "build $i failed"
  {BIN}/container-structure-test test --image {nonce}-peer-$i --config {work}/spec.yml --output json > {work}/cst-$i.json 2>/dev/null
  docker rmi -f {nonce}-peer-$i >/dev/null
done
""")
    (work / "empty").mkdir()
    started = time.perf_counter()
    subprocess.run(["sh", str(script)], check=True)
    elapsed = time.perf_counter() - started
    passed = [json.loads((work / f"cst-{i}.json").read_text())["Pass"] for i in range(n)]
    assert passed == [6] * n, passed
    return elapsed


def run_ours(work: Path, n: int, jobs: int, nonce: str) -> float:
    folder = work / "submissions"
    folder.mkdir()
    for i in range(n):
        notebook(folder / f"s{i:02d}.ipynb", dockerfile(nonce, i))
    report = work / "grades.json"
    started = time.perf_counter()
    subprocess.run([str(BIN / "nbdocker"), "grade", str(folder), "--spec", str(work / "spec.yml"),
                    "--jobs", str(jobs), "--report", str(report)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    scores = [s["score"] for s in json.loads(report.read_text())["submissions"]]
    assert scores == [6] * n, scores
    return elapsed


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--submissions", type=int, default=20)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", default=str(HERE / "results-grading.md"))
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nbdbench-grading-"))
    try:
        (work / "spec.yml").write_text(SPEC)
        peer = run_peer(work, args.submissions, f"nbdbench-{uuid.uuid4().hex[:8]}")
        ours = run_ours(work, args.submissions, args.jobs, f"nbdbench-{uuid.uuid4().hex[:8]}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()[0]
    version = subprocess.run(["docker", "version", "-f", "{{.Server.Version}}"], capture_output=True,
                             text=True).stdout.strip()
    lines = [
        "# Grading benchmark", "",
        f"`bench/bench_grading.py`: {args.submissions} submissions, each a small classic build "
        "(`--network none`) and the same 6 CST checks; one run each, same engine "
        f"(Engine {version}, {os.cpu_count()} cores, load average {load:.1f} when it ended).", "",
        "| | time | per submission |", "|---|---|---|",
        f"| shell script: `docker build` + `container-structure-test test` per submission | {peer:.1f} s | {peer / args.submissions:.2f} s |",
        f"| `nbdocker grade --jobs {args.jobs}` | {ours:.1f} s | {ours / args.submissions:.2f} s |",
        "", f"Ratio nbdocker / peer: **{ours / peer:.2f}** (target ≤ 1.0).", "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
