"""notebooks/grading.ipynb, the instructor's workflow, executed by nbclient against the engine."""
from __future__ import annotations

import os
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.engine
NOTEBOOK = os.path.join(os.path.dirname(__file__), "..", "notebooks", "grading.ipynb")


def test_grading_notebook_runs(tmp_path):
    shutil.copy(NOTEBOOK, tmp_path)
    nb = nbformat.read(str(tmp_path / "grading.ipynb"), as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = "\n".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                     for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "score 7/7" in text and "score 2/7" in text
    assert "commandTests[0].exitcode: unknown key" in text
    assert "submitted/carol.ipynb   0/7" in text and "over limit" in text
    assert sorted(os.listdir(tmp_path)) == ["grading.ipynb"]  # the notebook cleans up after itself
