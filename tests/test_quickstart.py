"""The quickstart notebook runs end to end (nbclient) against the real engine and registry,
and with no engine at all shows the panel while the engine-free cells still run."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOK = Path(__file__).parent.parent / "notebooks" / "quickstart.ipynb"


def _outputs_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if "text" in out:
            parts.append(out["text"])
        data = out.get("data", {})
        parts.append(data.get("text/plain", ""))
        if out.get("output_type") == "error":
            parts.append(out.get("ename", "") + ": " + out.get("evalue", ""))
    return "\n".join(parts)


def _execute(tmp_path: Path, env: dict[str, str] | None = None, cells: int | None = None):
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)
    nb = nbformat.read(tmp_path / NOTEBOOK.name, as_version=4)
    if cells is not None:
        nb.cells = nb.cells[:cells]
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        client = NotebookClient(nb, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}})
        client.execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


def test_quickstart_runs_end_to_end(engine, tmp_path):
    try:
        nb = _execute(tmp_path)
    except CellExecutionError as err:
        pytest.fail(f"the quickstart stopped: {str(err)[-2000:]}")
    texts = {i: _outputs_text(c) for i, c in enumerate(nb.cells) if c.cell_type == "code"}
    everything = "\n".join(texts.values())
    assert "engine ready" in everything
    assert "hello, learner" in everything                      # %docker run printed the CMD output
    assert "Untagged: learner/hello:old" in everything         # rmi of one of two names
    refused = [c for c in nb.cells if "raises-exception" in c.get("metadata", {}).get("tags", [])]
    assert refused and "learner-victim-box" in _outputs_text(refused[0])  # which container holds it
    assert "Deleted: sha256:" in everything                   # rmi -f deleted the image
    assert "all images made by this notebook are gone" in everything
    assert not (tmp_path / "hello-context").exists()
    leftovers = engine.images(filters={"label": "nbdocker.quickstart=1"})
    assert leftovers == []
    assert not engine.containers(all=True, filters={"name": "learner-victim-box"})


def test_quickstart_without_engine_shows_the_panel(tmp_path):
    """As on Binder: DOCKER_HOST points nowhere; the first cells (status, --check) still run."""
    nb = _execute(tmp_path, env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"}, cells=6)
    status = _outputs_text(nb.cells[1])
    assert "no Docker engine reachable" in status
    assert "DOCKER_HOST" in status
    check = next(c for c in nb.cells if c.cell_type == "code" and "--check" in c.source)
    out = _outputs_text(check)
    assert "FROM" in out and "CMD" in out and "nothing was built" in out
