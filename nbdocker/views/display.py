"""Where results show: the display mode (`%config DockerMagics.display`) and whether a kernel is there.

Both the result objects and the widgets read these; neither imports the other for them.
"""
from __future__ import annotations

DISPLAY_MODES = ("auto", "widget", "html", "text")
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"


def in_kernel() -> bool:
    """True in a Jupyter kernel (displays update in place, widgets can show); False in terminal
    IPython or plain Python."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - nbdocker always runs under IPython
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class Display:
    """How results show themselves; set by `%config DockerMagics.display`."""

    mode: str = "auto"
