"""`nbdocker grade` / `nbdocker build` end to end on the real engine: scores, bad submissions,
untrusted Dockerfiles over their limits, the JSON report, cleanup (also on Ctrl-C)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from nbdocker import console
from nbdocker.engine import sandbox
from nbdocker.engine.client import Engine

pytestmark = pytest.mark.engine
HERE = os.path.join(os.path.dirname(__file__), "grading")
CHECKS = os.path.join(HERE, "checks.yml")
SOLUTION = 'FROM busybox:latest\nRUN echo "hello, docker" > /greeting && chmod 644 /greeting\nUSER 1000\nCMD ["cat", "/greeting"]\n'
OVER_LIMIT = {  # each must end within the build timeout as "over limit", the engine unharmed
    "fork_bomb": "RUN bomb() { bomb | bomb & }; bomb; sleep 3600",
    "endless_loop": "RUN while :; do :; done",
    "write_10gb": "RUN dd if=/dev/zero of=/big bs=1M count=10240",
    "prints_forever": 'RUN yes "all work and no play"',
    "memory_hog": 'RUN a=x; while :; do a="$a$a"; done',
}


def notebook(path, *bodies: str, line: str = "-t hello") -> str:
    cells = [new_markdown_cell("# hello, docker")]
    cells += [new_code_cell(f"%%dockerfile {line}\n{body}") for body in bodies]
    nbformat.write(new_notebook(cells=cells), str(path))
    return str(path)


def leftovers(api, run_ids: set[str]) -> list[str]:
    found = []
    for run_id in run_ids:
        found += [c["Id"] for c in api.containers(all=True, filters={"label": f"{sandbox.LABEL}={run_id}"})]
        found += [i["Id"] for i in api.images(filters={"label": f"{sandbox.LABEL}={run_id}"})]
        found += [t for i in api.images() for t in i.get("RepoTags") or [] if t.startswith(f"nbdgrade-{run_id}-")]
    return found


@pytest.fixture(scope="module")
def capsys_module():
    """What the module's grading run wrote to stderr (pytest's capsys is per test)."""
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stderr(buffer):
        yield buffer.getvalue
    sys.stderr.write(buffer.getvalue())


@pytest.fixture(scope="module")
def graded(tmp_path_factory, capsys_module, api):
    """Two runs: every kind of submission (--jobs 2), then the over-limit ones with a 6 s build
    timeout (--jobs 3; a loaded machine must not push a good build over a short timeout)."""
    folder = tmp_path_factory.mktemp("submissions")
    over = tmp_path_factory.mktemp("over_limit")
    notebook(folder / "a_correct.ipynb", SOLUTION)
    notebook(folder / "a_copied.ipynb", SOLUTION)  # same image id as a_correct's (the build cache)
    notebook(folder / "b_partly_wrong.ipynb", 'FROM busybox:latest\nRUN echo "hello docker" > /greeting\nCMD cat /greeting\n')
    notebook(folder / "c_two_cells.ipynb", "FROM busybox:latest\nRUN echo 'hello, docker' > /greeting\n",
             'FROM hello\nRUN chmod 644 /greeting\nUSER 1000\nCMD ["cat", "/greeting"]\n')
    notebook(folder / "d_does_not_build.ipynb", "FROM busybox:latest\nRUN exit 3\n")
    notebook(folder / "e_stub.ipynb", "# YOUR CODE HERE\nraise NotImplementedError()")
    nbformat.write(new_notebook(cells=[new_code_cell("print('no Dockerfile here')")]), str(folder / "f_no_cell.ipynb"))
    (folder / "g_not_a_notebook.ipynb").write_text("{ this is not json")
    for name, run in OVER_LIMIT.items():
        notebook(over / f"x_{name}.ipynb", f"FROM busybox:latest\n{run}\n")
    # An untagged image of someone else's whose layers the submissions' builds use as cache:
    # grading must not prune it with the intermediate images it removes.
    theirs = subprocess.run(["docker", "build", "-q", "--network", "none", "-"], input=SOLUTION.encode(),
                            check=True, capture_output=True, env={**os.environ, "DOCKER_BUILDKIT": "0"}
                            ).stdout.decode().strip()
    report, report_over = folder / "grades.json", over / "grades.json"
    assert console.main(["grade", str(folder), "--spec", CHECKS, "--jobs", "2", "--report", str(report)]) == 0
    assert console.main(["grade", str(over), "--spec", CHECKS, "--jobs", "3", "--timeout", "6",
                         "--memory", "128m", "--report", str(report_over)]) == 0
    run_ids = {part.split(":")[0] for part in capsys_module().split("(run ")[1:]}
    try:
        assert api.inspect_image(theirs)["Id"] == theirs
    finally:
        subprocess.run(["docker", "rmi", theirs], capture_output=True)
    subs = [s for r in (report, report_over) for s in json.loads(r.read_text())["submissions"]]
    return {**{os.path.basename(s["path"]).split(".")[0]: s for s in subs}, "run": run_ids}


def test_scores(graded):
    scores = {name: (s["score"], s["max_score"]) for name, s in graded.items() if name != "run"}
    assert scores["a_correct"] == scores["a_copied"] == (7, 7)
    assert scores["c_two_cells"] == (7, 7)  # FROM an earlier cell's tag, in its own namespace
    assert scores["b_partly_wrong"] == (2, 7)  # only the base image and the file's permissions
    for name in ("d_does_not_build", "e_stub", "f_no_cell", "g_not_a_notebook", *(f"x_{n}" for n in OVER_LIMIT)):
        assert scores[name] == (0, 7), name


def test_report_shape_and_messages_for_students(graded):
    wrong = graded["b_partly_wrong"]
    assert set(wrong) == {"path", "score", "max_score", "checks"}
    assert all(set(c) == {"name", "passed", "points", "message"} for c in wrong["checks"])
    messages = {c["name"]: c["message"] for c in wrong["checks"]}
    assert messages["greets"] == "/greeting should hold the line: hello, docker"
    assert messages["not root"] == "the image runs as root: add a USER instruction"
    assert "JSONArgsRecommended" in messages["exec-form CMD"]


def test_bad_submissions_are_graded_failures_with_a_reason(graded):
    assert graded["f_no_cell"]["reason"] == "no %%dockerfile cell"
    assert graded["g_not_a_notebook"]["reason"].startswith("not a notebook")
    assert "exit code 3" in graded["d_does_not_build"]["reason"]
    assert "nbgrader stub" in graded["e_stub"]["reason"]


@pytest.mark.parametrize("name", sorted(OVER_LIMIT))
def test_untrusted_builds_end_over_limit(graded, name):
    assert "over limit" in graded[f"x_{name}"]["reason"]


def test_nothing_is_left_and_the_engine_is_healthy(graded, api):
    assert api.ping()
    assert len(graded["run"]) == 2 and leftovers(api, graded["run"]) == []


def test_headless_build(tmp_path, api):
    tag = f"nbdtest-grading-build-{uuid.uuid4().hex[:8]}"
    good = notebook(tmp_path / "good.ipynb", "FROM busybox:latest\nLABEL ok=1\n", line=f"-t {tag}")
    bad = notebook(tmp_path / "bad.ipynb", "FROM busybox:latest\nRUN exit 4\n")
    try:
        assert console.main(["build", good]) == 0
        assert api.inspect_image(tag)["Config"]["Labels"] == {"ok": "1"}
        assert console.main(["build", good, bad]) == 1
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)


def test_bad_spec_is_one_line(tmp_path, capsys):
    spec = tmp_path / "bad.yml"
    spec.write_text("commandTests:\n  - name: x\n    command: ls\n    exitCode: '0'\n")
    assert console.main(["grade", str(tmp_path), "--spec", str(spec)]) == 2
    assert capsys.readouterr().err == "grading spec: commandTests[0].exitCode: expected an integer, got '0'\n"


def test_ctrl_c_removes_everything(tmp_path, api):
    """SIGINT while a check's command runs: exit 130, and nothing of the run is left."""
    marker = uuid.uuid4().hex
    spec = tmp_path / "slow.yml"
    spec.write_text(f"commandTests:\n  - name: slow\n    command: sh\n    args: ['-c', 'sleep 300; echo {marker}']\n"
                    "    timeout: 300\n")
    notebook(tmp_path / "one.ipynb", SOLUTION)
    notebook(tmp_path / "two.ipynb", SOLUTION)
    proc = subprocess.Popen([sys.executable, "-m", "nbdocker.console", "grade", str(tmp_path), "--spec",
                             str(spec), "--jobs", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    run_ids: set[str] = set()
    try:
        deadline = time.time() + 60
        while len(run_ids) < 1 and time.time() < deadline:  # wait for the engine to show our box
            for c in api.containers(filters={"label": sandbox.LABEL}):
                if marker in " ".join(api.inspect_container(c["Id"])["Args"]):
                    run_ids.add(c["Labels"][sandbox.LABEL])
            time.sleep(0.2)
        assert run_ids, "the slow check never started"
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130 and b"interrupted" in err
        assert leftovers(api, run_ids) == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
        engine = Engine()
        for run_id in run_ids:
            sandbox.remove_labelled(engine, run_id)
            sandbox.remove_labelled_images(engine, run_id)
        engine.close()
