"""`%%dockerfile --explain`: per instruction, in plain words, what it made in the image.

A layer of N bytes adding or removing K files (the biggest named), a config change, or a cache
hit; and the learner's traps: a later `rm` frees nothing (the bytes stay in the lower layer), a
rewrite stores a second copy.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nbdocker.layers.analysis import Analysis
from nbdocker.layers.model import ADDED, MODIFIED, REMOVED, UNCHANGED, Layer
from nbdocker.units import human_size
from nbdocker.views import render as views
from nbdocker.views.results import Result

BIGGEST = 3
CONFIG_WORDS = {
    "CMD": "sets the command a container runs by default",
    "ENTRYPOINT": "sets the program a container always starts with",
    "ENV": "sets environment variables",
    "WORKDIR": "sets the working directory",
    "USER": "sets the user processes run as",
    "EXPOSE": "documents a port (publishes nothing by itself)",
    "LABEL": "adds labels (metadata)",
    "ARG": "declares a build argument",
    "VOLUME": "declares a volume",
    "HEALTHCHECK": "sets the health check",
    "STOPSIGNAL": "sets the stop signal",
    "SHELL": "sets the shell for later RUN lines",
    "ONBUILD": "adds a trigger for images built FROM this one",
    "MAINTAINER": "sets the author (deprecated: use LABEL)",
}


@dataclass
class Explained:
    """One instruction: its line, its text, what it made, and a trap when it fell in one."""

    line: str
    instruction: str
    made: str
    trap: str = ""


@dataclass
class Explanation(Result):
    """What each line of the Dockerfile made, for the image a build produced."""

    image: str
    steps: list[Explained] = field(default_factory=list)

    @property
    def traps(self) -> list[str]:
        """The traps found, one sentence each."""
        return [s.trap for s in self.steps if s.trap]

    def view(self) -> views.LinesView:
        """Each line's words, traps marked."""
        lines: list[tuple[str, str]] = []
        for s in self.steps:
            lines.append(("info", f"line {s.line}: {_short(s.instruction)}: {s.made}"))
            if s.trap:
                lines.append(("error", f"  ! {s.trap}"))
        return views.LinesView("explain", lines, title=f"what each line made in {self.image}")


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _files(n: int) -> str:
    return f"{n} file" + ("" if n == 1 else "s")


def describe_layer(layer: Layer) -> str:
    """A layer in words: its size, what it added, changed and removed (the biggest named)."""
    added = [c for c in layer.changes if c.action == ADDED and c.kind != "dir"]
    changed = [c for c in layer.changes if c.action in (MODIFIED, UNCHANGED) and c.kind != "dir"]
    removed = [c for c in layer.changes if c.action == REMOVED]
    parts = []
    if added:
        biggest = sorted(added, key=lambda c: -c.size)[:BIGGEST]
        parts.append(f"adding {_files(len(added))} ("
                     + ", ".join(f"{c.path} {human_size(c.size)}" for c in biggest)
                     + (", …" if len(added) > BIGGEST else "") + ")")
    if changed:
        parts.append(f"rewriting {_files(len(changed))}")
    if removed:
        parts.append(f"removing {_files(sum(c.files for c in removed))} ("
                     + ", ".join(c.path for c in removed[:BIGGEST]) + (", …" if len(removed) > BIGGEST else "") + ")")
    what = ", ".join(parts) if parts else "changing no file"
    return f"a layer of {human_size(layer.size)} {what}"


def trap_of(layer: Layer, analysis: Analysis) -> str:
    """The learner's trap in a layer: removals that free nothing, rewrites that store a copy."""
    removed = [c for c in layer.changes if c.action == REMOVED and c.size]
    if removed:
        hidden = sum(c.size for c in removed)
        sources = sorted({i for c in removed for i in c.sources})
        where = ", ".join(analysis.lines_of(sources)) or "a lower layer"
        return (f"this freed nothing: {human_size(hidden)} written by {where} are still in the image's "
                "layers. Remove files in the same RUN that creates them.")
    same = [c for c in layer.changes if c.action == UNCHANGED and c.kind == "file" and c.size]
    if same:
        return (f"{_files(len(same))} rewritten with the same bytes: {human_size(sum(c.size for c in same))} "
                "stored a second time.")
    return ""


def _instructions(build: Any, dockerfile: Any) -> list[tuple[Any, bool]]:
    """(instruction, cache hit) in Dockerfile order: the final stage's instructions when the
    Dockerfile is given (BuildKit numbers only FROM, RUN, COPY, ADD and WORKDIR as steps), else the steps."""
    cached = {s.instruction.line_start for s in build.steps if s.instruction is not None and s.cached}
    if dockerfile is None:
        dockerfile = getattr(getattr(build, "progress", None), "dockerfile", None)
    if dockerfile is not None and getattr(dockerfile, "instructions", None):
        last = max((i.stage for i in dockerfile.instructions if i.stage is not None), default=None)
        return [(i, i.line_start in cached) for i in dockerfile.instructions if i.stage == last]
    return [(s.instruction, s.cached) for s in build.steps if s.instruction is not None]


def explain(build: Any, analysis: Analysis, dockerfile: Any = None) -> Explanation:
    """Per instruction of a build, what it made in the image that `analysis` read.

    `build` has `.image_id`, `.tags` and `.steps` (a BuildResult); `dockerfile` (the parsed
    Dockerfile it built) adds the config-only instructions that BuildKit does not number.
    """
    by_line = {l.instruction.line_start: l for l in analysis.layers if l.instruction is not None}
    base = [l for l in analysis.layers if l.instruction is None]
    tags = getattr(build, "tags", None) or []
    result = Explanation(tags[0] if tags else getattr(build, "image_id", None) or analysis.image)
    for ins, cached in _instructions(build, dockerfile):
        label = f"{ins.line_start}" if ins.line_start == ins.line_end else f"{ins.line_start}-{ins.line_end}"
        text = getattr(ins, "original", "") or f"{ins.keyword} {getattr(ins, 'arguments', '')}"
        keyword = ins.keyword.upper()
        layer = by_line.get(ins.line_start)
        if keyword == "FROM":
            size = sum(l.size for l in base)
            made = f"the base image: {len(base)} layer{'s' * (len(base) != 1)}, {human_size(size)}"
            result.steps.append(Explained(label, text, made))
            continue
        cache = "a cache hit (reused, not run): " if cached else ""
        empty = layer is not None and not layer.size and all(c.action == UNCHANGED for c in layer.changes)
        if empty and keyword in CONFIG_WORDS:  # WORKDIR of an existing directory: a layer, no change
            result.steps.append(Explained(label, text, cache + f"a config change: {CONFIG_WORDS[keyword]}"
                                          " (and an empty layer)"))
        elif layer is not None:
            result.steps.append(Explained(label, text, cache + describe_layer(layer), trap_of(layer, analysis)))
        elif keyword in CONFIG_WORDS:
            result.steps.append(Explained(label, text, cache + f"a config change: {CONFIG_WORDS[keyword]}"))
        else:
            result.steps.append(Explained(label, text, cache + "no layer (nothing written to the file system)"))
    return result
