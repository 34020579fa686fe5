"""notebooks/layers.ipynb runs with nbclient: with no engine (as on Binder: the shipped archive
is explored, the engine cells say so) and with the real engine (the fresh image is built,
explained and removed).

Runtime: about 15 s (two kernels, one small build).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOK = NOTEBOOKS / "layers.ipynb"


def _text(cell) -> str:
    parts = []  # stream pieces joined as they are: the kernel may split one printed line in two
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        if "data" in out:
            parts.append("\n" + out["data"].get("text/plain", "") + "\n")
        if out.get("output_type") == "error":
            parts.append(f"\n{out.get('ename')}: {out.get('evalue')}\n")
    return "".join(parts)


def _run(tmp_path: Path, env: dict[str, str]) -> list:
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)
    shutil.copytree(NOTEBOOKS / "data", tmp_path / "data")
    nb = nbformat.read(tmp_path / NOTEBOOK.name, as_version=4)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    return [c for c in nb.cells if c.cell_type == "code"]


def _archive_part(cells) -> None:
    texts = "\n".join(_text(c) for c in cells[:6])
    assert "efficiency   66.5%" in texts
    assert "/data/download.bin     written by layer 1, layer 2: 1,000,000 bytes" in texts
    assert "removed /data/download.bin 1,000,000 bytes hidden, written by layer 1" in texts
    assert "in the final image: False" in texts
    assert "unchanged  /app/main.py" in texts and "modified   /app/README" in texts
    assert "CI gate:" in texts and "lowestEfficiency" in texts


def test_without_an_engine_the_archive_is_explored(tmp_path):
    cells = _run(tmp_path, {"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    _archive_part(cells)
    assert "no engine here" in _text(cells[6])
    for cell in cells[7:]:
        assert "cannot reach the engine" in _text(cell) or "NameError" in _text(cell)


def test_with_the_engine_a_fresh_build_is_tied_to_its_lines(api, tmp_path):
    cells = _run(tmp_path, {})
    _archive_part(cells)
    assert "engine ready" in _text(cells[6])
    for cell in cells[7:]:
        assert not [o for o in cell.outputs if o.get("output_type") == "error"], _text(cell)
    layers_text = _text(cells[8])
    assert "line 4" in layers_text and "line 2" in layers_text
    explained = _text(cells[9])
    assert "line 4: RUN rm /data/download.bin" in explained and "freed nothing" in explained
    assert "a config change: sets the working directory" in explained
    assert api.images(filters={"label": "nbdocker.layersnb=1"}) == []
