"""Interactive views (anywidget): the only module that imports anywidget/ipywidgets."""
from __future__ import annotations

from typing import Any


def widget_bundle(view: Any, required: bool = False) -> dict[str, Any]:
    """The widget's mimebundle entries for a view model; empty where no widget applies."""
    return {}


def build_sink() -> Any:
    """A live build widget, or None where the display-handle view serves."""
    return None
