"""nbdocker's one exception family: each error renders as one line a user can act on."""
from __future__ import annotations


class NbDockerError(Exception):
    """Base of every error nbdocker raises on purpose.

    IPython calls `_render_traceback_` instead of printing a traceback, so the user sees one line
    and the cell still fails (a headless run stops there).
    """

    prefix = "nbdocker"

    def _render_traceback_(self) -> list[str]:
        return [f"{self.prefix}: {self}" if self.prefix else str(self)]


class UsageError(NbDockerError):
    """A `%docker` line or flag that does not parse; names the command (`%docker rmi`)."""

    def __init__(self, message: str, prog: str = "%docker") -> None:
        self.prefix = prog
        super().__init__(message)


class InvalidReference(NbDockerError):
    """An image reference the engine would refuse (uppercase repository, bad tag, …)."""

    prefix = "invalid reference"


class EngineUnavailable(NbDockerError):
    """No engine answers at the endpoint (missing socket, refused, permission, timeout)."""

    prefix = "docker engine"


class EngineError(NbDockerError):
    """The engine answered with an error (404, 409, 500 …), translated into plain words.

    `status` is the HTTP status the engine answered with, when there was one.
    """

    prefix = "docker"

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class DockerfileError(NbDockerError):
    """A Dockerfile problem found before anything is sent, naming its line."""

    prefix = "Dockerfile"

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)


class BuildFailed(NbDockerError):
    """A build step failed; the message names the Dockerfile line and the exit code."""

    prefix = "build failed"

    def __init__(self, message: str, result: object = None) -> None:
        self.result = result
        super().__init__(message)


class BuildCancelled(NbDockerError):
    """The build was interrupted; the engine was told to stop it."""

    prefix = "build cancelled"


class CommandFailed(NbDockerError):
    """A command that reports per-argument outcomes (rmi, run) failed in part or whole."""

    prefix = "docker"

    def __init__(self, message: str, result: object = None) -> None:
        self.result = result
        super().__init__(message)
