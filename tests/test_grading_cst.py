"""Verdicts equal container-structure-test's own, on the same image and config (real engine, real CST)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest

from nbdocker import grading
from nbdocker.engine import sandbox
from nbdocker.engine.client import Engine

pytestmark = pytest.mark.engine
HERE = os.path.join(os.path.dirname(__file__), "grading")
CST = shutil.which("container-structure-test") or os.path.join(os.path.dirname(sys.executable),
                                                               "container-structure-test")
PREFIXES = {"command": "Command Test: ", "file": "File Existence Test: ", "content": "File Content Test: ",
            "metadata": ""}


@pytest.fixture(scope="module")
def image():
    """The fixture image, built with the docker CLI (classic builder, no network), removed after."""
    tag = f"nbdtest-grading-cst-{uuid.uuid4().hex[:8]}"
    subprocess.run(["docker", "build", "-q", "--network", "none", "-t", tag, "-f",
                    os.path.join(HERE, "cst_image.Dockerfile"), HERE],
                   check=True, capture_output=True, env={**os.environ, "DOCKER_BUILDKIT": "0"})
    engine = Engine()
    run_id = sandbox.new_run_id()
    yield tag, engine, run_id
    assert sandbox.remove_labelled(engine, run_id) == 0
    subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)
    engine.close()


def cst_verdicts(tag: str, config: str) -> dict[str, bool]:
    out = subprocess.run([CST, "test", "--image", tag, "--config", config, "--output", "json"],
                         capture_output=True, text=True, timeout=300)
    return {r["Name"]: r["Pass"] for r in json.loads(out.stdout)["Results"]}


@pytest.mark.parametrize("config", ["cst_spec.yml", "cst_spec_failing_meta.yml"])
def test_verdicts_equal_cst(image, config):
    tag, engine, run_id = image
    path = os.path.join(HERE, config)
    ours = grading.grader.grade_image(tag, grading.load_spec(path), engine, run_id)
    mine = {PREFIXES[c.kind] + c.name: c.passed for c in ours.checks}
    theirs = cst_verdicts(tag, path)
    assert mine == theirs
    assert set(mine.values()) == ({True, False} if config == "cst_spec.yml" else {False})


def test_relative_symlinks_are_followed_where_cst_reads_the_wrong_path(image):
    """The one deliberate difference: CST reads a relative link's target from / (a 404)."""
    tag, engine, run_id = image
    spec = {"fileContentTests": [{"name": "link", "path": "/app/link", "expectedContents": ["grader"]}]}
    assert grading.grader.grade_image(tag, spec, engine, run_id).passed


def test_lint_and_waste_checks(image, tmp_path, api):
    """Ours, beyond CST: forbidden lint codes on the Dockerfile's lines, and the layers gate."""
    tag, engine, run_id = image
    wasteful = f"{tag}-waste"
    subprocess.run(["docker", "build", "-q", "--network", "none", "-t", wasteful, "-"], check=True,
                   capture_output=True, env={**os.environ, "DOCKER_BUILDKIT": "0"},
                   input=b"FROM busybox:latest\nRUN head -c 300000 /dev/zero > /blob\nRUN rm /blob\n")
    spec = {"lintTests": [{"name": "pinned", "forbid": ["DL3007"], "message": "pin the base image"},
                          {"name": "json cmd", "forbid": ["JSONArgsRecommended"]}],
            "wasteTests": [{"name": "lean", "highestWastedBytes": "100kB", "points": 2}]}
    try:
        with open(os.path.join(HERE, "cst_image.Dockerfile")) as f:
            clean = grading.grader.grade_image(tag, spec, engine, run_id, f.read())
        waste = grading.grader.grade_image(wasteful, spec, engine, run_id, "FROM busybox:1.36\nCMD [\"sh\"]\n")
    finally:
        api.remove_image(wasteful, force=True)
    assert [(c.name, c.passed) for c in clean.checks] == [("pinned", False), ("json cmd", True), ("lean", True)]
    assert clean.checks[0].message == "pin the base image" and clean.checks[0].problems[0].startswith("line 1: DL3007")
    assert [(c.name, c.passed) for c in waste.checks] == [("pinned", True), ("json cmd", True), ("lean", False)]
    assert "highestWastedBytes" in waste.checks[2].message and waste.score == 2
