"""Wasted space, computed exactly as dive 0.13 computes it (dive/filetree/efficiency.go), plus the
reclaimable bytes dive means to report (dive issue 684) and dive's CI rules.

dive, over every leaf path p of every layer (a path with no child in that layer's own tree):
s = its tar size (a whiteout counts the size of the directory it hides, or 0 for a file);
cum[p] += s, min[p] = min(s), count[p] += 1. efficiency = Σmin / Σcum (1 when Σcum is 0);
wasted = Σ cum[p] over count ≥ 2 (which counts the copy that must stay); user wasted percent =
wasted / Σ sizes of layers 1..n. dive drops opaque markers, and stacks trees without them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nbdocker.errors import NbDockerError
from nbdocker.layers.model import SortedPaths
from nbdocker.layers.reader import DIR, Entry, LayerFiles

RULE_DEFAULTS = {"lowestEfficiency": 0.9, "highestWastedBytes": None, "highestUserWastedPercent": 0.1}


@dataclass
class PathWaste:
    """A path written by more than one layer: dive's fileReference, with the layers that wrote it."""

    path: str
    count: int
    cumulative: int
    minimum: int
    layers: list[int] = field(default_factory=list)

    @property
    def reclaimable(self) -> int:
        """The bytes beyond the one copy that must stay (dive issue 684)."""
        return self.cumulative - self.minimum


@dataclass
class Waste:
    """dive's numbers for one image."""

    efficiency: float
    wasted_bytes: int
    user_wasted_percent: float
    reclaimable_bytes: int
    size_bytes: int
    layer_sizes: list[int]
    references: list[PathWaste]  # biggest cumulative size first, as dive's JSON lists them


def layer_size(files: LayerFiles) -> int:
    """A layer's size as dive counts it: the tar sizes of its entries."""
    return sum(e.size for e in files.entries)


def compute_waste(layers: list[LayerFiles]) -> Waste:
    """dive's efficiency, wasted bytes and user wasted percent, and the reclaimable bytes."""
    stacked: dict[str, Entry] = {}  # dive's stacked tree
    cum: dict[str, int] = {}
    low: dict[str, int] = {}
    first: dict[str, int] = {}  # the first layer that wrote each path
    again: dict[str, list[int]] = {}  # paths written more than once: every layer that wrote them
    for index, files in enumerate(layers):
        for path, size in _leaf_sizes(files, stacked).items():
            if path in cum:
                cum[path] += size
                if size < low[path]:
                    low[path] = size
                seen = again.get(path)
                if seen is None:
                    again[path] = [first[path], index]
                else:
                    seen.append(index)
            else:
                cum[path] = low[path] = size
                first[path] = index
        _stack(stacked, files)
    total_cum = sum(cum.values())
    total_min = sum(low.values())
    refs = [PathWaste(p, len(seen), cum[p], low[p], seen) for p, seen in again.items()]
    refs.sort(key=lambda r: (-r.cumulative, r.path))
    sizes = [layer_size(f) for f in layers]
    wasted = sum(r.cumulative for r in refs)
    user = sum(sizes[1:])
    return Waste(
        efficiency=total_min / total_cum if total_cum else 1.0,
        wasted_bytes=wasted,
        user_wasted_percent=wasted / user if user else 0.0,
        reclaimable_bytes=sum(r.reclaimable for r in refs),
        size_bytes=sum(sizes),
        layer_sizes=sizes,
        references=refs,
    )


def _leaf_sizes(files: LayerFiles, stacked: dict[str, Entry]) -> dict[str, int]:
    """The leaves of one layer's own tree (as dive builds it) and the size dive gives each."""
    nodes: dict[str, int] = {e.path: e.size for e in files.entries}
    for directory in files.opaque:  # dive drops the marker but has made its directory
        nodes.setdefault(directory, 0)
    order = SortedPaths(stacked)
    for path in files.whiteouts:
        previous = stacked.get(path)
        size = 0
        if previous is not None and previous.kind == DIR:
            size = previous.size + sum(stacked[p].size for p in order.below(path))
        nodes[path] = size
    parents: set[str] = set()
    for path in nodes:
        parent = path[: path.rfind("/")]
        while parent and parent not in parents:
            parents.add(parent)
            parent = parent[: parent.rfind("/")]
    return {p: s for p, s in nodes.items() if p not in parents}


def _stack(stacked: dict[str, Entry], files: LayerFiles) -> None:
    """Apply a layer to dive's stacked tree: whiteouts remove, opaque markers are ignored."""
    order = SortedPaths(stacked)
    for path in files.whiteouts:
        for p in list(order.below(path)):
            del stacked[p]
        stacked.pop(path, None)
    stacked.update((e.path, e) for e in files.entries)


# ---------------------------------------------------------------- the CI gate


class DiveConfigError(NbDockerError):
    """A `.dive-ci` file whose rules do not parse."""

    prefix = ".dive-ci"


def parse_bytes(text: str) -> int:
    """A size as dive's config reads it (go-humanize: `20MB` = 20·10⁶, `20MiB` = 20·2²⁰)."""
    value = text.strip().replace(" ", "")
    units = {"": 1, "B": 1, "KB": 1000, "K": 1000, "MB": 10**6, "M": 10**6, "GB": 10**9, "G": 10**9,
             "TB": 10**12, "T": 10**12, "KIB": 1024, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}
    number = value.rstrip("BbKkMmGgTtIi")
    unit = value[len(number):].upper()
    if unit not in units or not number:
        raise DiveConfigError(f"not a size: {text!r}")
    return int(float(number) * units[unit])


def read_dive_ci(path: str | Path) -> dict[str, float | int | None]:
    """The `rules:` of a `.dive-ci` file (flat YAML); `disabled` turns a rule off."""
    rules = dict(RULE_DEFAULTS)
    in_rules = False
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line.startswith((" ", "\t")):
            in_rules = line.strip() == "rules:"
            continue
        if not in_rules:
            continue
        key, _, value = line.strip().partition(":")
        value = value.strip().strip("'\"")
        if key not in rules:
            raise DiveConfigError(f"unknown rule {key!r} (known: {', '.join(RULE_DEFAULTS)})")
        if value.lower() == "disabled" or not value:
            rules[key] = None
        elif key == "highestWastedBytes":
            rules[key] = parse_bytes(value)
        else:
            try:
                rules[key] = float(value)
            except ValueError:
                raise DiveConfigError(f"{key}: not a number: {value!r}") from None
    return rules


def failed_rules(waste: Waste, rules: dict[str, float | int | None]) -> list[str]:
    """Each failing rule, named as dive names it, with the measured value and the limit."""
    failures = []
    lowest = rules.get("lowestEfficiency")
    if lowest is not None and waste.efficiency < lowest:
        failures.append(f"lowestEfficiency: image efficiency {waste.efficiency:.4f} is lower than {lowest}")
    most = rules.get("highestWastedBytes")
    if most is not None and waste.wasted_bytes > most:
        failures.append(f"highestWastedBytes: {waste.wasted_bytes} wasted bytes, more than {int(most)}")
    percent = rules.get("highestUserWastedPercent")
    if percent is not None and waste.user_wasted_percent > percent:
        failures.append(f"highestUserWastedPercent: {waste.user_wasted_percent:.4f} of the user layers "
                        f"is wasted, more than {percent}")
    return failures
