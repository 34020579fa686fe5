"""`%docker save`, `%docker load` and `%docker layers` (and `image save` / `image load`).

save and load stream (the kernel holds one chunk, whatever the image's size) and show their
progress, coalesced; `save -o` writes a temporary file beside the target and renames it at the
end, so a failure leaves nothing partial behind. `layers` reads the image from the engine or an
archive in one pass and returns the Analysis; `--ci` is dive's gate, `--json` dive's JSON.
"""
from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from nbdocker import cli
from nbdocker.engine.archives import load_archive, save_chunks
from nbdocker.errors import CommandFailed, NbDockerError, UsageError
from nbdocker.layers.analysis import Analysis
from nbdocker.layers.explain import Explanation, explain
from nbdocker.layers.source import analyze_archive, analyze_image
from nbdocker.layers.waste import RULE_DEFAULTS, failed_rules, parse_bytes, read_dive_ci
from nbdocker.units import human_size
from nbdocker.views import render as views
from nbdocker.views.results import Result

PROGRESS_INTERVAL = 0.25  # seconds between progress redraws


class GateFailed(NbDockerError):
    """`%docker layers --ci`: one or more of dive's rules failed (the analysis is shown above)."""

    prefix = "layers --ci"

    def __init__(self, message: str, result: object = None) -> None:
        self.result = result
        super().__init__(message)


# ---------------------------------------------------------------- progress


@dataclass
class Meter(Result):
    """How far a transfer is: bytes so far, of how many when known."""

    what: str
    done: int = 0
    total: int | None = None
    finished: bool = False

    def view(self) -> views.LinesView:
        """The report lines."""
        total = f" of {human_size(self.total)}" if self.total else ""
        state = "done" if self.finished else "…"
        return views.LinesView("progress", [("info", f"{self.what}: {human_size(self.done)}{total} {state}")])


class MeterDisplay:
    """A Meter shown in one output, redrawn at most every PROGRESS_INTERVAL seconds."""

    def __init__(self, meter: Meter, live: bool) -> None:
        self.meter, self.live, self._handle, self._last = meter, live, None, 0.0

    def __call__(self, done: int, total: int | None = None) -> None:
        self.meter.done, self.meter.total = done, total if total is not None else self.meter.total
        now = time.monotonic()
        if self.live and now - self._last >= PROGRESS_INTERVAL:
            self._last = now
            self._show()

    def _show(self) -> None:
        from IPython.display import display  # the kernel's display, for a redraw in place

        if self._handle is None:
            self._handle = display(self.meter, display_id=True)
        else:
            self._handle.update(self.meter)

    def close(self) -> None:
        """Show the final state where progress was shown."""
        self.meter.finished = True
        if self._handle is not None:
            self._handle.update(self.meter)


def _live() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


# ---------------------------------------------------------------- save / load


@dataclass
class Saved(Result):
    """`%docker save -o FILE IMAGE…`: what was written where."""

    path: Path
    images: list[str]
    size: int

    def view(self) -> views.LinesView:
        """The report lines."""
        return views.LinesView("save", [("ok", f"Saved {', '.join(self.images)} to {self.path} "
                                                f"({human_size(self.size)})")])


def save_images(engine: Any, images: list[str], output: str | os.PathLike[str],
                progress: Callable[[int, int | None], None] | None = None) -> Saved:
    """`docker save -o FILE IMAGE…`, streamed to a temporary file renamed at the end."""
    target = Path(output)
    if target.is_dir():
        raise UsageError(f"{target} is a directory: give a file name", "%docker save")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    written = 0
    try:
        with open(partial, "wb") as out:
            chunks = save_chunks(engine, images)
            try:
                for chunk in chunks:
                    out.write(chunk)
                    written += len(chunk)
                    if progress is not None:
                        progress(written, None)
            finally:
                chunks.close()
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return Saved(target, images, written)


@dataclass
class Loaded(Result):
    """`%docker load -i FILE`: the engine's lines (`Loaded image: NAME`)."""

    path: Path
    lines: list[str] = field(default_factory=list)

    @property
    def images(self) -> list[str]:
        """The names (or ids) the engine loaded."""
        return [l.split(": ", 1)[1] for l in self.lines if l.startswith(("Loaded image: ", "Loaded image ID: "))]

    def view(self) -> views.LinesView:
        """The report lines."""
        return views.LinesView("load", [("ok", line) for line in self.lines])


class _Counting:
    """A file read by the engine's upload, counting bytes for the progress."""

    def __init__(self, file: BinaryIO, progress: Callable[[int, int | None], None] | None, total: int) -> None:
        self.file, self.progress, self.total, self.done = file, progress, total, 0

    def read(self, n: int = -1) -> bytes:
        """The next bytes of the file, counted."""
        data = self.file.read(n if n and n > 0 else 1 << 20)
        self.done += len(data)
        if self.progress is not None:
            self.progress(self.done, self.total)
        return data

    def __iter__(self) -> Any:  # requests streams an iterable body in chunks, never the whole file
        while data := self.read(1 << 20):
            yield data


def load_images(engine: Any, path: str | os.PathLike[str],
                progress: Callable[[int, int | None], None] | None = None) -> Loaded:
    """`docker load -i FILE`, the file streamed to the engine."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"open {file}: no such file", "%docker load")
    with open(file, "rb") as f:
        messages = load_archive(engine, _Counting(f, progress, file.stat().st_size))
    errors = [m.get("errorDetail", {}).get("message") or m.get("error") for m in messages
              if "error" in m or "errorDetail" in m]
    result = Loaded(file, [str(m["stream"]).strip() for m in messages if str(m.get("stream", "")).strip()])
    if errors:
        raise CommandFailed(f"load {file}: {errors[0]}", result)
    return result


# ---------------------------------------------------------------- layers


@dataclass
class _HistoryEntry:
    """What the kernel's build memory reads to tie a history entry to its Dockerfile line."""

    id: str
    created_by: str
    instruction: Any = None


@dataclass
class _History:
    layers: list[_HistoryEntry]


def tie_lines(analysis: Analysis, built: Any) -> Analysis:
    """Give each layer its Dockerfile line when this kernel built the image (else its created_by)."""
    if built is None or not analysis.history:
        return analysis
    entries = [_HistoryEntry("<missing>", str(h.get("created_by") or "")) for h in reversed(analysis.history)]
    if entries:
        entries[0].id = analysis.image_id  # the build memory knows images by id (newest entry)
    built.attach_lines(_History(entries))
    with_layers = [e for e, h in zip(entries, reversed(analysis.history)) if not h.get("empty_layer")]
    for layer, entry in zip(analysis.layers, reversed(with_layers)):
        ins = entry.instruction
        if ins is not None and getattr(ins, "keyword", "") != "FROM":
            layer.instruction = ins
            start, end = ins.line_start, ins.line_end
            layer.line = f"{start}" if start == end else f"{start}-{end}"
    return analysis


def explain_build(session: cli.Session, build: Any) -> Explanation:
    """For `%%dockerfile --explain`: read the image a build made (streamed from the engine), tie its
    layers to the Dockerfile's lines, and say per line what it made."""
    analysis = tie_lines(analyze_image(session.engine, build.image_id), session.built)
    return explain(build, analysis)


def gate_rules(args: argparse.Namespace) -> dict[str, Any]:
    """dive's CI rules: defaults, then the `.dive-ci` file (when given or present), then flags."""
    config = args.ci_config or (".dive-ci" if Path(".dive-ci").is_file() else None)
    rules = read_dive_ci(config) if config else dict(RULE_DEFAULTS)
    if args.lowest_efficiency is not None:
        rules["lowestEfficiency"] = _rule(args.lowest_efficiency, float)
    if args.highest_wasted_bytes is not None:
        rules["highestWastedBytes"] = _rule(args.highest_wasted_bytes, parse_bytes)
    if args.highest_user_wasted_percent is not None:
        rules["highestUserWastedPercent"] = _rule(args.highest_user_wasted_percent, float)
    return rules


def _rule(value: str, parse: Callable[[str], Any]) -> Any:
    if value.lower() == "disabled":
        return None
    try:
        return parse(value)
    except ValueError:
        raise UsageError(f"not a rule value: {value!r}", "%docker layers") from None


def run_layers(session: cli.Session, args: argparse.Namespace) -> Analysis:
    """`%docker layers IMAGE | --archive FILE [--json FILE] [--ci …] [--out VAR]`."""
    if bool(args.image) == bool(args.archive):
        raise UsageError("give an IMAGE or --archive FILE (one of them)", "%docker layers")
    what = f"reading {args.archive}" if args.archive else f"reading {args.image} from the engine"
    meter = MeterDisplay(Meter(what), _live())
    try:
        if args.archive:
            analysis = analyze_archive(args.archive, args.select, progress=meter)
        else:
            analysis = analyze_image(session.engine, args.image, progress=meter)
    finally:
        meter.close()
    tie_lines(analysis, session.built)
    if args.archive:
        analysis.where = f"archive: {args.archive} (no engine)"
    if args.json:
        analysis.write_json(args.json)
        analysis.notes.append(f"dive's JSON written to {args.json}")
    if args.out:
        session.user_ns[args.out] = analysis
    if args.ci:
        failures = failed_rules(analysis.waste, gate_rules(args))
        if failures:
            session.show(analysis)
            raise GateFailed(f"{analysis.image}: " + "; ".join(failures), analysis)
        analysis.notes.append("CI rules: PASS")
    return analysis


def register(sub: Any, image_sub: Any) -> None:
    """`save`, `load`, `layers`, and `image save` / `image load`."""
    for parent, prefix in ((sub, "%docker"), (image_sub, "%docker image")):
        p = cli.add_command(parent, "save", _run_save, "Save one or more images to a tar archive "
                            "(streamed, with progress)", prog=f"{prefix} save")
        p.add_argument("-o", "--output", metavar="FILE", help="Write to a file (required in a notebook)")
        p.add_argument("images", nargs="+", metavar="IMAGE")
        p = cli.add_command(parent, "load", _run_load, "Load an image from a tar archive",
                            prog=f"{prefix} load")
        p.add_argument("-i", "--input", metavar="FILE", help="Read from tar archive file (required)")
        p.add_argument("-q", "--quiet", action="store_true", help="Suppress the load output")
    p = cli.add_command(sub, "layers", run_layers, "Explore an image's layers: files each line "
                        "added, modified and removed, wasted space (dive's numbers)", prog="%docker layers")
    p.add_argument("image", nargs="?", metavar="IMAGE")
    p.add_argument("--archive", metavar="FILE", help="Read an image archive (docker save, OCI) instead")
    p.add_argument("--image", dest="select", metavar="NAME", help="With --archive: which image of several")
    p.add_argument("--out", metavar="VAR", help="Also store the analysis in this variable")
    p.add_argument("--json", metavar="FILE", help="Write dive's JSON to FILE")
    p.add_argument("--ci", action="store_true", help="Fail the cell when a rule fails (dive's CI mode)")
    p.add_argument("--ci-config", metavar="FILE", help="dive's rules file (default: .dive-ci when present)")
    p.add_argument("--lowest-efficiency", "--lowestEfficiency", metavar="F",
                   help="With --ci: fail below this efficiency (default 0.9; 'disabled')")
    p.add_argument("--highest-wasted-bytes", "--highestWastedBytes", metavar="B",
                   help="With --ci: fail above these wasted bytes, e.g. 20MB (default disabled)")
    p.add_argument("--highest-user-wasted-percent", "--highestUserWastedPercent", metavar="F",
                   help="With --ci: fail above this wasted fraction of the user layers (default 0.1)")


def _run_save(session: cli.Session, args: argparse.Namespace) -> Saved:
    if not args.output:
        raise UsageError("a notebook has no terminal to write the archive to: use -o FILE", args.prog)
    meter = MeterDisplay(Meter(f"saving {', '.join(args.images)}"), _live())
    try:
        return save_images(session.engine, args.images, args.output, progress=meter)
    finally:
        meter.close()


def _run_load(session: cli.Session, args: argparse.Namespace) -> Loaded | None:
    if not args.input:
        raise UsageError("a notebook has no standard input to read the archive from: use -i FILE", args.prog)
    meter = MeterDisplay(Meter(f"loading {args.input}"), _live() and not args.quiet)
    try:
        result = load_images(session.engine, args.input, progress=meter)
    finally:
        meter.close()
    return None if args.quiet else result
