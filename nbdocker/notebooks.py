"""Execute a notebook headless against the engine (nbclient) and export it to HTML.

`python -m nbdocker.notebooks IN.ipynb OUT.ipynb` — the README's first command runs the quickstart
this way. The kernel runs in the notebook's directory, so relative paths in it work.
"""
from __future__ import annotations

import os
import sys


def execute_notebook(source: str, target: str, timeout: int = 600) -> str:
    """Run every cell of `source`, write the executed notebook to `target`, and its HTML beside it."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(source, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": os.path.dirname(os.path.abspath(source))}})
    client.execute()
    nbformat.write(nb, target)
    html_path = os.path.splitext(target)[0] + ".html"
    try:
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter().from_notebook_node(nb)
        with open(html_path, "w", encoding="utf-8") as f:
            f.write(body)
    except ImportError:
        pass
    return target


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m nbdocker.notebooks IN.ipynb OUT.ipynb", file=sys.stderr)
        return 2
    execute_notebook(argv[1], argv[2])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
