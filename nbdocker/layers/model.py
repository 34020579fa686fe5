"""The model of an image's layers: what each layer added, modified, left as it was and removed,
and the merged tree with, for each path, the layer that last wrote it.

Unlike dive, opaque directories (`.wh..wh..opq`, what `RUN rm -rf /d && mkdir /d` makes) hide
everything the lower layers had below them, as overlayfs does. Paths are text: a `..` in a name or
an absolute link target is shown, never followed.
"""
from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from nbdocker.layers.reader import DIR, Entry, LayerFiles

ADDED, MODIFIED, UNCHANGED, REMOVED = "added", "modified", "unchanged", "removed"


@dataclass(slots=True)
class Change:
    """One path a layer changed: added, modified, unchanged (rewritten identically) or removed."""

    path: str
    action: str
    size: int  # bytes written; for a removal, the bytes it hid (still in lower layers)
    kind: str
    files: int = 1  # for a removed directory: how many paths it hid
    link: str = ""
    opaque: bool = False  # removed by an opaque directory marker
    sources: tuple[int, ...] = ()  # for a removal: the layers that had written what it hides


@dataclass
class Layer:
    """One layer of the image, in order from the base, tied to the history entry that made it."""

    index: int
    id: str
    digest: str
    size: int  # Σ tar sizes of its entries, as dive counts a layer
    created_by: str
    files: LayerFiles
    changes: list[Change] = field(default_factory=list)
    instruction: Any = None  # the Dockerfile instruction, for images built in this kernel
    line: str = ""  # "3" or "3-5"

    @property
    def command(self) -> str:
        """The history's created_by without the shell prefix and `#(nop)` noise, as dive shows it."""
        text = self.created_by
        for prefix in ("/bin/sh -c #(nop) ", "/bin/sh -c "):
            if text.startswith(prefix):
                return text[len(prefix):].strip()
        return text.strip()

    def count(self, action: str) -> int:
        """How many changes of one kind (added, modified, unchanged, removed)."""
        return sum(1 for c in self.changes if c.action == action)


class SortedPaths:
    """The keys of a path dict in order, to find a directory's descendants without a full scan."""

    def __init__(self, tree: dict[str, Any]) -> None:
        self.tree, self.keys = tree, None

    def below(self, path: str) -> Iterator[str]:
        """The paths under `path` still in the tree (not `path` itself)."""
        if self.keys is None:
            self.keys = sorted(self.tree)
        prefix = path.rstrip("/") + "/"
        start = bisect.bisect_left(self.keys, prefix)
        for key in self.keys[start:]:
            if not key.startswith(prefix):
                break
            if key in self.tree:
                yield key

    def added(self) -> None:
        """Keys were added: rebuild on next use."""
        self.keys = None


def merge(layers: list[LayerFiles], content: Callable[[Entry], int] | None = None
          ) -> tuple[dict[str, tuple[int, Entry]], list[list[Change]]]:
    """Stack the layers: the final tree (path → (layer index, entry)) and each layer's changes.

    `content` gives a skipped entry's crc (read from the archive) when a comparison needs it.
    """
    tree: dict[str, tuple[int, Entry]] = {}
    all_changes = []
    for index, files in enumerate(layers):
        changes: list[Change] = []
        order = SortedPaths(tree)
        for directory in files.opaque:
            _remove(tree, order, directory, changes, opaque=True, keep_self=True)
        for path in files.whiteouts:
            _remove(tree, order, path, changes, opaque=False, keep_self=False)
        get, append = tree.get, changes.append
        for entry in files.entries:
            path = entry.path
            lower = get(path)
            if lower is None:
                action = ADDED
            else:
                action = UNCHANGED if entry.same_as(lower[1], content) else MODIFIED
            append(Change(path, action, entry.size, entry.kind, 1, entry.link))
            tree[path] = (index, entry)
        all_changes.append(changes)
    return tree, all_changes


def _remove(tree: dict[str, tuple[int, Entry]], order: SortedPaths, path: str, changes: list[Change],
            opaque: bool, keep_self: bool) -> None:
    own = tree.get(path)
    gone = list(order.below(path)) if own is None or own[1].kind == DIR else []
    hidden = sum(tree[p][1].size for p in gone)
    sources = {tree[p][0] for p in gone if tree[p][1].size} | ({own[0]} if own is not None and not keep_self else set())
    for p in gone:
        del tree[p]
    if own is not None and not keep_self:
        hidden += own[1].size
        del tree[path]
    if own is None and not gone:
        return  # a whiteout of nothing below (dive shows it; the image lost nothing)
    kind = own[1].kind if own is not None else DIR
    changes.append(Change(path, REMOVED, hidden, kind, len(gone) + (0 if keep_self or own is None else 1),
                          opaque=opaque, sources=tuple(sorted(sources))))
