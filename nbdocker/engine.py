"""The engine boundary: the only module that imports the docker SDK.

It owns one low-level client, created on first use (`docker.from_env()` and friends contact the
engine in their constructor, and `%load_ext nbdocker` must never do that), puts a timeout on every
metadata call, and turns every SDK, requests and urllib3 failure into an nbdocker error naming the
endpoint and what to do.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import docker
import docker.errors
import requests.exceptions
import urllib3.exceptions

from .errors import EngineError, EngineUnavailable

T = TypeVar("T")

DEFAULT_SOCKET = "unix:///var/run/docker.sock"


def resolve_endpoint(base_url: str | None = None) -> tuple[str, Any]:
    """Where the engine is: `%config` base_url, else DOCKER_HOST/TLS variables, else the context.

    Returns (base_url, tls) as the SDK wants them. Reads files only, never contacts the engine.
    """
    if base_url:
        return base_url, False
    if os.environ.get("DOCKER_HOST"):
        kwargs = docker.utils.kwargs_from_env()
        return kwargs["base_url"], kwargs.get("tls", False)
    with contextlib.suppress(Exception):  # a broken ~/.docker/config.json must not break us
        context = docker.ContextAPI.get_current_context()
        if context is not None and context.name != "default" and context.Host:
            return context.Host, context.TLSConfig or False
    return DEFAULT_SOCKET, False


class Engine:
    """A lazily connected engine: `api` creates the docker SDK client on first use."""

    def __init__(self, base_url: str | None = None, timeout: float = 5.0) -> None:
        self.base_url, self.tls = resolve_endpoint(base_url)
        self.timeout = timeout
        self._api: docker.APIClient | None = None

    @property
    def api(self) -> docker.APIClient:
        """The SDK's low-level client; connecting asks the engine its API version (timed out)."""
        if self._api is None:
            with self.translated("connect"):
                self._api = docker.APIClient(
                    base_url=self.base_url, tls=self.tls, version="auto", timeout=self.timeout
                )
        return self._api

    def call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one SDK call (`what` names it for messages) with errors translated."""
        with self.translated(what):
            return fn(*args, **kwargs)

    @contextlib.contextmanager
    def translated(self, what: str) -> Iterator[None]:
        """Translate SDK / transport errors raised inside into nbdocker errors."""
        try:
            yield
        except docker.errors.APIError as err:
            raise EngineError(api_error_message(err)) from err
        except (
            docker.errors.DockerException,
            requests.exceptions.RequestException,
            urllib3.exceptions.HTTPError,
            OSError,
        ) as err:
            raise EngineUnavailable(self.unreachable_message(err)) from err

    def unreachable_message(self, err: BaseException) -> str:
        """One line: which endpoint, what went wrong, what to do."""
        reason = transport_reason(err, self.timeout)
        hint = "start the Docker engine, or point DOCKER_HOST (or %config DockerMagics.base_url) at one"
        if "permission denied" in reason:
            hint = "run as a user in the 'docker' group, or point DOCKER_HOST at an engine you may use"
        return f"cannot reach the engine at {self.base_url}: {reason}; {hint}"

    def close(self) -> None:
        """Drop the client (a new one is made on next use)."""
        if self._api is not None:
            self._api.close()
            self._api = None


def transport_reason(err: BaseException, timeout: float) -> str:
    """The root cause of a connection failure, in a few words."""
    seen: set[int] = set()
    cause: BaseException | None = err
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, FileNotFoundError):
            return "no socket there (file not found)"
        if isinstance(cause, PermissionError):
            return "permission denied on the socket"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)):
            return f"no answer within {timeout:g} s"
        cause = cause.__cause__ or cause.__context__
    text = str(err)
    for needle, reason in (
        ("No such file or directory", "no socket there (file not found)"),
        ("Permission denied", "permission denied on the socket"),
        ("Connection refused", "connection refused"),
        ("timed out", f"no answer within {timeout:g} s"),
        ("Read timed out", f"no answer within {timeout:g} s"),
    ):
        if needle in text:
            return reason
    return text.splitlines()[0] if text else type(err).__name__


def api_error_message(err: docker.errors.APIError) -> str:
    """The engine's own explanation (its JSON `message`), without the SDK's URL decoration."""
    explanation = err.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", "replace")
    return str(explanation or err).strip()


def status_code(err: BaseException) -> int | None:
    """The HTTP status of the engine error behind an EngineError, if any."""
    cause = err.__cause__
    if isinstance(cause, docker.errors.APIError):
        return cause.status_code
    return None
