"""What builds in this kernel made: each image's Dockerfile, so its layers show their lines.

Bounded (the newest builds are kept) and holding no build-arg value: history and inspect views
mask secret-named build args from the image's own record (`nbdocker.masking`).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

from nbdocker.dockerfile.parse import Dockerfile

KEEP_BUILDS = 200


class ImageMemory:
    """Image id → (Dockerfile, target) of the builds this kernel ran, newest kept."""

    def __init__(self, keep: int = KEEP_BUILDS) -> None:
        self.keep = keep
        self._built: OrderedDict[str, tuple[Dockerfile, str | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._built)

    def remember(self, image_id: str, dockerfile: Dockerfile, target: str | None) -> None:
        """Keep what a finished build made (the oldest goes past `keep`)."""
        self._built[image_id] = (dockerfile, target)
        self._built.move_to_end(image_id)
        while len(self._built) > self.keep:
            self._built.popitem(last=False)

    def attach_lines(self, history: Any) -> Any:
        """Tie each layer of an image built in this kernel to the Dockerfile line that made it."""
        top = history.layers[0].id if history.layers else None
        built = self._built.get(top) if top else None
        if built is None:
            return history
        dockerfile, target = built
        chain = stage_chain(dockerfile, target)
        instructions = [i for i in chain if i.keyword != "FROM"]
        base = next((i for i in chain if i.keyword == "FROM"), None)
        # Match newest layer to last instruction, walking down; an instruction that left no history
        # entry (ARG under BuildKit, say) is skipped when the layer does not look like it.
        pending = list(reversed(instructions))
        for layer in history.layers:
            while pending and not made_by(layer.created_by, pending[0]):
                if len(pending) > 1 and made_by(layer.created_by, pending[1]):
                    pending.pop(0)
                else:
                    break
            if pending and made_by(layer.created_by, pending[0]):
                layer.instruction = pending.pop(0)
            else:
                layer.instruction = base
        return history


def stage_chain(dockerfile: Dockerfile, target: str | None) -> list[Any]:
    """Instructions of the target stage, preceded by those of the stages it is built FROM."""
    stage = dockerfile.stage_named(target) if target else (dockerfile.stages[-1] if dockerfile.stages else None)
    if stage is None:
        return []
    own = [i for i in dockerfile.instructions if i.stage == stage.index]
    parent = dockerfile.stage_named(stage.base) if stage.base else None
    if parent is not None and parent.index != stage.index:
        parent_name = parent.name or str(parent.index)
        return stage_chain(dockerfile, parent_name) + [i for i in own if i.keyword != "FROM"]
    return own


def made_by(created_by: str, instruction: Any) -> bool:
    text = " ".join(created_by.split())
    keyword = instruction.keyword
    if keyword == "RUN":
        command = " ".join((instruction.exec_form and " ".join(instruction.exec_form)
                            or instruction.arguments).split())
        return "#(nop)" not in text and (command[:40] in text or text.startswith("RUN "))
    return (f"#(nop) {keyword}" in text or text.startswith(f"{keyword} ")
            or (keyword in ("COPY", "ADD") and f"{keyword} " in text))
