"""nbgrader end to end on the example assignment (notebooks/assignment): generate_assignment, then
autograde of three submissions (correct, partly wrong, malicious) with the expected scores."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid

import nbformat
import pytest

from nbdocker import cli
from nbdocker.build.command import run_dockerfile_cell

pytestmark = pytest.mark.engine
ASSIGNMENT = os.path.join(os.path.dirname(__file__), "..", "notebooks", "assignment")
NAME = "hello-docker"
NBGRADER = os.path.join(os.path.dirname(sys.executable), "nbgrader")
MARKER = f"nbdtest-grading-{uuid.uuid4().hex[:8]}"  # in each RUN and label: what to clean up after
ANSWERS = {
    "alice": ('FROM busybox:latest\nRUN echo "hello, docker" > /greeting && chmod 644 /greeting && : MARK\n'
              'USER 1000\nCMD ["cat", "/greeting"]'),
    "bob": 'FROM busybox:latest\nRUN echo "hello, docker" > /greeting && : MARK\nCMD cat /greeting',
    "mallory": "FROM busybox:latest\nRUN : MARK; while :; do :; done",  # builds forever: the cell times out
}
EXPECTED = {"alice": 5.0, "bob": 2.0, "mallory": 0.0}


def nbgrader(course: str, *args: str) -> subprocess.CompletedProcess:
    # nbgrader runs `alembic` (and the kernel) from PATH: as in an activated virtualenv.
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    out = subprocess.run([NBGRADER, *args], cwd=course, capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    return out


@pytest.fixture(scope="module")
def course(tmp_path_factory, api):
    course = str(tmp_path_factory.mktemp("course"))
    shutil.copytree(ASSIGNMENT, course, dirs_exist_ok=True)
    nbgrader(course, "generate_assignment", NAME, "--force")
    yield course
    # the submissions' images and BuildKit cache entries, only ours
    for image in api.images(filters={"label": f"{MARKER}=1"}):
        api.remove_image(image["Id"], force=True)
    for entry in api.df().get("BuildCache") or []:
        if MARKER in (entry.get("Description") or "") and not entry.get("InUse"):
            api.prune_builds(filters={"id": [entry["ID"]]})


def released(course: str) -> nbformat.NotebookNode:
    return nbformat.read(os.path.join(course, "release", NAME, f"{NAME}.ipynb"), as_version=4)


def test_generate_assignment_stubs_the_dockerfile_and_hides_tests(course):
    nb = released(course)
    cell = next(c for c in nb.cells if c.source.startswith("%%dockerfile"))
    line, _, body = cell.source.partition("\n")
    assert "BEGIN SOLUTION" not in cell.source and "raise NotImplementedError()" in body
    with pytest.raises(NotImplementedError):  # the stub never reaches the engine
        run_dockerfile_cell(cli.Session(engine=None), line[len("%%dockerfile"):], body)
    sources = "\n".join(c.source for c in nb.cells)
    assert "HIDDEN" not in sources and "baseImage" not in sources and "notRoot" in sources


def test_autograde_scores(course):
    for student, answer in ANSWERS.items():
        nb = released(course)
        cell = next(c for c in nb.cells if c.source.startswith("%%dockerfile"))
        cell.source = f"%%dockerfile --out build --label {MARKER}=1\n" + answer.replace("MARK", MARKER)
        if student == "mallory":  # tampering with a test cell: nbgrader restores it from the source
            test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_greets")
            test.source = "pass"
        folder = os.path.join(course, "submitted", student, NAME)
        os.makedirs(folder)
        nbformat.write(nb, os.path.join(folder, f"{NAME}.ipynb"))
    nbgrader(course, "autograde", NAME, "--force", "--ExecutePreprocessor.timeout=25")
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{os.path.join(course, 'gradebook.db')}") as gb:
        scores = {s: gb.find_submission(NAME, s).score for s in ANSWERS}
    assert scores == EXPECTED
    # A passing test cell writes nothing to stderr (nbgrader would score it 0).
    graded = nbformat.read(os.path.join(course, "autograded", "alice", NAME, f"{NAME}.ipynb"), as_version=4)
    streams = [o.get("name") for c in graded.cells for o in c.get("outputs", []) if o.output_type == "stream"]
    assert "stderr" not in streams
