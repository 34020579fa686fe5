"""The analysis of one image: its layers with their changes, the merged tree, dive's numbers.

`nbdocker.layers.analyze(...)` returns one; it is a result (text, HTML, widget), a CI gate
(`.check(...)`, dive's rule names and defaults) and dive's JSON (`.write_json(path)`).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbdocker.layers import render
from nbdocker.layers.model import Layer, merge
from nbdocker.layers.reader import Archive, Entry
from nbdocker.layers.waste import RULE_DEFAULTS, PathWaste, Waste, compute_waste, failed_rules, read_dive_ci
from nbdocker.views.results import Result


@dataclass
class Analysis(Result):
    """An image's layers, changes, merged tree and wasted space."""

    image: str  # the name it was asked by, or the archive's path
    image_id: str
    tags: list[str]
    source: str  # "engine" or the archive format
    layers: list[Layer]
    tree: dict[str, tuple[int, Entry]]
    waste: Waste
    history: list[dict[str, Any]] = field(default_factory=list)  # the config's, oldest first
    notes: list[str] = field(default_factory=list)

    @property
    def efficiency(self) -> float:
        """dive's efficiency score (1.0: no path written twice)."""
        return self.waste.efficiency

    @property
    def wasted_bytes(self) -> int:
        """dive's wasted bytes (Σ cumulative size of paths written by more than one layer)."""
        return self.waste.wasted_bytes

    @property
    def user_wasted_percent(self) -> float:
        """dive's wasted bytes over the size of the layers above the base (a fraction)."""
        return self.waste.user_wasted_percent

    @property
    def reclaimable_bytes(self) -> int:
        """Bytes beyond the copy that must stay, per path (cumulative − minimum; dive issue 684)."""
        return self.waste.reclaimable_bytes

    @property
    def size_bytes(self) -> int:
        """Σ layer sizes, as dive counts them."""
        return self.waste.size_bytes

    @property
    def hidden_bytes(self) -> int:
        """Bytes the layers carry that the final image does not show (removed or overwritten)."""
        visible = sum(entry.size for _, entry in self.tree.values())
        return self.size_bytes - visible

    def wasted_files(self) -> list[PathWaste]:
        """The paths written by more than one layer, biggest first, each with the layers that wrote it."""
        return self.waste.references

    def check(self, lowest_efficiency: float | None = 0.9, highest_wasted_bytes: int | None = None,
              highest_user_wasted_percent: float | None = 0.1, config: str | Path | None = None) -> Analysis:
        """dive's CI gate: raises AssertionError naming each failing rule; a `.dive-ci` file overrides.

        Rules as dive names them: lowestEfficiency, highestWastedBytes, highestUserWastedPercent
        (None disables one). Returns the analysis, so `analyze(x).check()` chains.
        """
        rules = read_dive_ci(config) if config is not None else dict(RULE_DEFAULTS)
        if config is None:
            rules.update(lowestEfficiency=lowest_efficiency, highestWastedBytes=highest_wasted_bytes,
                         highestUserWastedPercent=highest_user_wasted_percent)
        failures = failed_rules(self.waste, rules)
        if failures:
            raise AssertionError(f"{self.image}: " + "; ".join(failures))
        return self

    def dive_json(self) -> dict[str, Any]:
        """dive's `--json` shape, so dive tooling reads it."""
        return {
            "layer": [{"index": l.index, "id": l.id, "digestId": l.digest, "sizeBytes": l.size,
                       "command": l.command, "fileList": [_dive_file(e) for e in [*l.files.entries, *l.files.marks]]}
                      for l in self.layers],
            "image": {"sizeBytes": self.size_bytes, "inefficientBytes": self.wasted_bytes,
                      "efficiencyScore": self.efficiency,
                      "fileReference": [{"count": r.count, "sizeBytes": r.cumulative, "file": r.path}
                                        for r in self.waste.references]},
        }

    def write_json(self, path: str | Path) -> Path:
        """Write dive's JSON to `path` (whole, or not at all)."""
        target = Path(path)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_text(json.dumps(self.dive_json(), indent=2), encoding="utf-8")
        partial.replace(target)
        return target

    def lines_of(self, indexes: Iterable[int]) -> list[str]:
        """For layer indexes: the Dockerfile line ("line 3") when known, else the history command."""
        out = []
        for i in indexes:
            layer = self.layers[i]
            out.append(f"line {layer.line}" if layer.line else f"layer {i}")
        return out

    def view(self) -> render.LayersView:
        """The explorer's view model."""
        return render.layers_view(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return render.mimebundle(self.view(), include, exclude)

    def __str__(self) -> str:
        return render.layers_text(self.view())


_TYPE_FLAGS = {"file": 48, "hardlink": 49, "symlink": 50, "char": 51, "block": 52, "dir": 53, "fifo": 54}
# Go's os.FileMode bits, as dive's JSON writes `fileMode` (tar's FileInfo().Mode()).
_GO_MODE = {"dir": 1 << 31, "symlink": 1 << 27, "block": 1 << 26, "char": (1 << 26) | (1 << 21),
            "fifo": 1 << 25}


def _go_mode(e: Entry) -> int:
    mode = (e.mode & 0o777) | _GO_MODE.get(e.kind, 0)
    for bit, flag in ((0o4000, 1 << 23), (0o2000, 1 << 22), (0o1000, 1 << 20)):
        if e.mode & bit:
            mode |= flag
    return mode


def _dive_file(e: Entry) -> dict[str, Any]:
    return {"path": e.path.lstrip("/"), "typeFlag": _TYPE_FLAGS.get(e.kind, 48),
            "linkName": e.link.lstrip("/") if e.kind == "hardlink" else e.link, "size": e.size,
            "fileMode": _go_mode(e), "uid": e.uid, "gid": e.gid, "isDir": e.kind == "dir"}


def from_archive(archive: Archive, image: str, source: str | None = None,
                 content: Callable[[Entry], int] | None = None) -> Analysis:
    """The analysis of an archive's image: layers tied to the config's history entries.

    `content` reads a skipped file's crc from the archive (while it is still open).
    """
    history = [h for h in archive.config.get("history") or [] if not h.get("empty_layer")]
    diff_ids = (archive.config.get("rootfs") or {}).get("diff_ids") or []
    tree, changes = merge(archive.layers, content)
    waste = compute_waste(archive.layers)
    layers = []
    for i, files in enumerate(archive.layers):
        created_by = str(history[i].get("created_by") or "") if i < len(history) else ""
        layers.append(Layer(i, archive.layer_ids[i], diff_ids[i] if i < len(diff_ids) else "",
                            waste.layer_sizes[i], created_by, files, changes[i]))
    image_id = "sha256:" + archive.config_name.rsplit("/", 1)[-1].removesuffix(".json")
    return Analysis(image, image_id, archive.tags, source or archive.format, layers, tree, waste,
                    list(archive.config.get("history") or []))
