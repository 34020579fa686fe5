"""Execute a notebook headless against the engine (nbclient) and export it to HTML.

`python -m nbdocker.notebooks IN.ipynb OUT.ipynb` — the README's first command runs the quickstart
this way. The kernel runs in the notebook's directory, so relative paths in it work.
"""
from __future__ import annotations

import os
import sys
from typing import Any


def execute_notebook(source: str, target: str, timeout: int = 600) -> str:
    """Run every cell of `source`, write the executed notebook to `target`, and its HTML beside it."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(source, as_version=4)
    # The kernel's own start-up warnings ("running over TCP without encryption": it listens on
    # 127.0.0.1 for this one run) are not the notebook's output; its errors still show.
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            extra_arguments=["--IPKernelApp.log_level=ERROR"],
                            resources={"metadata": {"path": os.path.dirname(os.path.abspath(source))}})
    client.execute()
    nbformat.write(nb, target)
    html_path = os.path.splitext(target)[0] + ".html"
    export_html(nb, html_path)
    return target


def export_html(nb: Any, path: str) -> str:
    """Export to HTML showing each nbdocker view's static snapshot.

    nbconvert's default prefers a saved widget view over the text/html beside it, and that view
    needs widget scripts from a CDN: offline, or where scripts do not run, every view would be an
    empty box. `widgets.export_config()` puts our escaped, script-free HTML first.
    """
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    from nbdocker.views.widgets import export_config

    body, _ = HTMLExporter(config=Config(export_config())).from_notebook_node(nb)
    with open(path, "w", encoding="utf-8") as f:
        f.write(body)
    return path


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "--html":  # export an already executed notebook
        import nbformat

        print(export_html(nbformat.read(argv[2], as_version=4), os.path.splitext(argv[2])[0] + ".html"))
        return 0
    if len(argv) != 3:
        print("usage: python -m nbdocker.notebooks IN.ipynb OUT.ipynb\n"
              "       python -m nbdocker.notebooks --html EXECUTED.ipynb", file=sys.stderr)
        return 2
    from nbclient.exceptions import CellExecutionError

    try:
        execute_notebook(argv[1], argv[2])
    except CellExecutionError as err:  # the cell's own error, not nbclient's traceback
        print(f"{argv[1]}: a cell failed:\n{err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
