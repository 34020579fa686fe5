"""The build's one view model while it runs: events folded into steps, counts and log tails.

Pure: both builders' events (`buildevents`) go in, a `views.BuildView` comes out. Memory stays
bounded whatever a step prints: the full log is spooled to disk by `BuildLog`, only tails are kept.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from nbdocker.views import render as views
from nbdocker.masking import MASK, mask_text
from nbdocker.build.events import (ErrorEvent, Event, ImageIdEvent, LogEvent, LogLines, LogPart,
                          StepEvent, WarningEvent, is_internal_step)
from nbdocker.build.log import BuildLog

TAIL_LINES = 40  # log lines per step carried by the view (the widget and the HTML)
_STEP_OF = re.compile(r"(?:Step |\[(?:[^\]]* )?)(\d+)/(\d+)")


@dataclass
class Step:
    """A build step as it stands: state, times, its Dockerfile instruction."""

    key: str
    name: str
    state: str = "queued"
    started: float | None = None
    completed: float | None = None
    error: str | None = None
    instruction: Any = None  # dockerfile.Instruction, when the step maps to one
    internal: bool = False

    @property
    def cached(self) -> bool:
        return self.state == "cached"

    @property
    def seconds(self) -> float | None:
        if self.started is None:
            return None
        return max(0.0, (self.completed or time.time()) - self.started)

    @property
    def lines(self) -> str:
        ins = self.instruction
        if ins is None:
            return ""
        return f"{ins.line_start}" if ins.line_start == ins.line_end else f"{ins.line_start}-{ins.line_end}"


@dataclass
class BuildProgress:
    """Folds build events; `view()` renders the current state as a BuildView."""

    builder: str
    dockerfile: Any = None  # dockerfile.Dockerfile, to tie steps to lines
    secrets: dict[str, str] = field(default_factory=dict)
    steps: dict[str, Step] = field(default_factory=dict)
    log: BuildLog = field(default_factory=BuildLog)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    image_id: str | None = None
    error: ErrorEvent | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    declared_total: int = 0
    committed: list[str] = field(default_factory=list)  # images the classic build made (short ids)

    def apply_all(self, events: list[Event]) -> None:
        """Take the events of one message, in order."""
        for event in events:
            self.apply(event)

    def apply(self, event: Event) -> None:
        """Take one event from either builder's decoder (bulk or not)."""
        if isinstance(event, LogLines):  # most lines of a long log come this way
            self.log.append_lines(event.key, event.stream, event.texts)
        elif isinstance(event, LogEvent):
            self.log.append(event)
        elif isinstance(event, LogPart):  # an overlong line under way: on disk, cut in memory
            self.log.append_part(event.key, event.stream, event.text)
        elif isinstance(event, StepEvent):
            step = self.steps.get(event.key)
            if step is None:
                step = self.steps[event.key] = Step(event.key, event.name,
                                                    internal=is_internal_step(event.name))
                step.instruction = self._instruction_of(event.name)
                match = _STEP_OF.match(event.name)
                if match and event.name.startswith("Step "):
                    self.declared_total = max(self.declared_total, int(match.group(2)))
            step.name, step.state, step.error = event.name, event.state, event.error
            step.started = event.started if event.started is not None else step.started
            step.completed = event.completed
        elif isinstance(event, WarningEvent):
            text = event.message + (f": {event.detail}" if event.detail else "")
            if text not in self.warnings:
                self.warnings.append(text)
        elif isinstance(event, ImageIdEvent):
            self.image_id = event.image_id
        elif isinstance(event, ErrorEvent):
            self.error = event

    def _instruction_of(self, name: str) -> Any:
        if self.dockerfile is None:
            return None
        from nbdocker.dockerfile.parse import step_instruction

        try:
            return step_instruction(self.dockerfile, name)
        except Exception:  # noqa: BLE001 - an unexpected name maps to no line, never fails a build
            return None

    # ------------------------------------------------------------ counts

    def ordered_steps(self) -> list[Step]:
        """Every step in display order: Dockerfile steps by line, internal ones where they appeared.

        BuildKit announces vertices out of Dockerfile order (a running RUN before its cached
        FROM, parallel stages interleaved); the steps are shown in the order a reader expects.
        """
        steps = list(self.steps.values())
        slots = [i for i, s in enumerate(steps) if not s.internal]
        by_line = sorted((steps[i] for i in slots), key=_line_of)  # stable: ties keep arrival order
        for i, step in zip(slots, by_line):
            steps[i] = step
        return steps

    @property
    def dockerfile_steps(self) -> list[Step]:
        return [s for s in self.ordered_steps() if not s.internal]

    @property
    def total(self) -> int:
        return max(self.declared_total, len(self.dockerfile_steps))

    @property
    def done(self) -> int:
        return sum(s.state in ("done", "cached") for s in self.dockerfile_steps)

    @property
    def cached(self) -> int:
        return sum(s.cached for s in self.dockerfile_steps)

    def failed_step(self) -> Step | None:
        """The step that failed (BuildKit marks it; classic: the last one that ran)."""
        if self.error is not None and self.error.key and self.error.key in self.steps:
            return self.steps[self.error.key]
        failed = [s for s in self.steps.values() if s.state == "failed"]
        return failed[-1] if failed else None

    # ------------------------------------------------------------ the view

    def view(self, state: str, tags: list[str] | None = None) -> views.BuildView:
        """The BuildView for `state` ("running", "done", "failed", "cancelled")."""
        shown = []
        for step in self.ordered_steps():
            tail = [(e.stream, self.mask(e.text)) for e in self.log.tail(step.key, TAIL_LINES)]
            source = step.instruction.original if step.instruction is not None else ""
            shown.append(views.StepView(
                key=step.key, name=self.mask(step.name), state=step.state, seconds=step.seconds,
                lines=step.lines, source=self.mask(source), log_tail=tail,
                log_lines=self.log.line_count(step.key),
                error=self.mask(step.error) if step.error else None, internal=step.internal,
            ))
        end = self.finished or time.time()
        return views.BuildView(
            kind="build", builder=self.builder, state=state, steps=shown, done=self.done,
            total=self.total, cached=self.cached, seconds=end - self.started,
            image_id=self.image_id, tags=list(tags or []),
            warnings=[self.mask(w) for w in self.warnings], notes=list(self.notes),
            error=self.mask(self.error.message) if self.error else None,
        )

    def mask(self, text: str) -> str:
        """`text` with this build's secret build-arg values masked (unchanged when it has none)."""
        if not self.secrets:
            return text
        masked = mask_text(text, self.secrets)
        cut = masked.rfind("… (")
        if cut > 0 and masked.endswith("the full log is on disk: result.log)"):
            # A line cut for display may end inside a secret: hide a secret's beginning there too.
            head = masked[:cut]
            for value in self.secrets.values():
                for k in range(min(len(value), len(head)) - 1, 0, -1):
                    if head.endswith(value[:k]):
                        head = head[:-k] + MASK
                        break
            masked = head + masked[cut:]
        return masked


def _line_of(step: Step) -> float:
    return step.instruction.line_start if step.instruction is not None else float("inf")
