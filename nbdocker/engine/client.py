"""The engine boundary: the only module that imports the docker SDK.

It owns one low-level client, created on first use (`docker.from_env()` and friends contact the
engine in their constructor, and `%load_ext nbdocker` must never do that), puts a timeout on every
metadata call, and turns every SDK, requests and urllib3 failure into an nbdocker error naming the
endpoint and what to do.
"""
from __future__ import annotations

import contextlib
import os
import queue
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import docker
import docker.errors
import requests.exceptions
import urllib3.exceptions

from nbdocker.engine.endpoint import (TLSFiles, endpoint_settings, is_podman, locate_endpoint, open_client,
                                      transport_reason)
from nbdocker.errors import EngineError, EngineUnavailable

T = TypeVar("T")

class Engine:
    """A lazily connected engine: `api` creates the docker SDK client on first use."""

    def __init__(self, base_url: str | None = None, timeout: float = 5.0,
                 tls_files: TLSFiles | None = None) -> None:
        self.endpoint = locate_endpoint(base_url, tls_files)  # an unknown context is refused here
        self.base_url, self.tls = self.endpoint.base_url, self.endpoint.tls
        self.env_host = endpoint_settings()  # `%env DOCKER_HOST=…` later makes a new Engine
        self.timeout = timeout
        self._api: docker.APIClient | None = None

    @property
    def sdk(self) -> docker.APIClient:
        """The SDK's low-level client; connecting asks the engine its API version (timed out)."""
        if self._api is None:
            with self.translated("connect"):
                self._api = open_client(self.endpoint, self.timeout)  # engine's CA wins; tcp warns
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
        if reason.startswith("TLS"):  # it answered: the reason says what to fix
            return f"cannot reach the engine at {self.endpoint.describe()}: {reason}"
        return f"cannot reach the engine at {self.endpoint.describe()}: {reason}; {hint}"

    # ------------------------------------------------------------ builds

    def offers_buildkit(self) -> bool:
        """BuildKit through the API: Linux engines from API 1.39 (Engine 18.09) on."""
        info = self.call("version", self.sdk.version)
        if is_podman(info):  # Podman ignores version=2 and builds with Buildah: classic-style stream
            return False
        major, minor = (int(x) for x in str(info.get("ApiVersion", "0.0")).split(".")[:2])
        return info.get("Os") == "linux" and (major, minor) >= (1, 39)

    def has_default_bridge(self) -> bool:
        """False on engines started with --bridge=none (RUN and run then need network none)."""
        # The engine's `name` filter matches substrings ("my-bridge-net"): compare exactly.
        networks = self.call("list networks", self.sdk.networks, names=["bridge"])
        return any(n.get("Name") == "bridge" for n in networks or [])

    def build_stream(self, context: Any, params: dict[str, Any]) -> tuple[Any, Iterator[dict[str, Any]]]:
        """POST /build with the context tar; returns (response, decoded messages).

        The SDK's `build()` cannot send `version` (BuildKit) or several tags, so the request is made
        here. No timeout on the stream: a build may be silent for minutes. The caller must close
        the response in `finally` — closing it is what cancels the build engine-side.
        """
        api = self.sdk
        with self.translated("build"):
            response = api._post(api._url("/build"), params=params, data=context, stream=True,
                                 timeout=None, headers={"Content-Type": "application/x-tar"})
            api._raise_for_status(response)
        return response, self._messages(response)

    def _messages(self, response: Any) -> Iterator[dict[str, Any]]:
        try:
            with self.translated("build stream"):
                yield from self.sdk._stream_helper(response, decode=True)
        except EngineUnavailable as err:
            # Mid-stream the endpoint answered before: it went away (killed, restarted, the socket
            # closed). urllib3 says "Connection broken: IncompleteRead(0 bytes read)".
            cause = err.__cause__
            broken = isinstance(cause, (urllib3.exceptions.ProtocolError,
                                        requests.exceptions.ChunkedEncodingError,
                                        requests.exceptions.ConnectionError, ConnectionError))
            reason = "the connection broke" if broken else transport_reason(cause or err, self.timeout)
            raise EngineUnavailable(
                f"the engine at {self.base_url} went away during the build ({reason}); nothing was "
                "tagged. Start it again (or point %config DockerMagics.base_url at one) and re-run "
                "the cell") from cause

    @staticmethod
    def cancel_stream(response: Any) -> None:
        """Close a streaming response at once, even while another thread is blocked reading it.

        `response.close()` alone waits for the reader's buffered-IO lock, i.e. until the engine
        sends more (a `sleep 30` step: 30 s). Shutting the socket down wakes the reader and the
        engine sees the connection gone, which cancels the build.
        """
        sock = None
        with contextlib.suppress(Exception):
            sock = response.raw._connection.sock
        if sock is None:
            with contextlib.suppress(Exception):
                sock = response.raw._fp.fp.raw._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            response.close()

    def close(self) -> None:
        """Drop the client (a new one is made on next use)."""
        if self._api is not None:
            self._api.close()
            self._api = None


def pumped(source: Iterable[T], poll: float, name: str = "nbdocker-stream") -> Iterator[T | None]:
    """The items of a blocking `source`, read on a daemon thread; None after `poll` s of silence.

    All blocking happens on that thread: the kernel's thread only waits on a queue with a short
    timeout, so a KeyboardInterrupt reaches it at once even while the engine says nothing, and the
    caller can redraw on the None ticks. An exception of the source is raised here. Closing the
    generator stops the forwarding; to unblock the thread, close the source's connection too.
    """
    inbox: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=10_000)
    stop = threading.Event()

    def put(kind: str, value: Any) -> None:
        while not stop.is_set():  # never block forever on a full queue nobody reads any more
            try:
                inbox.put((kind, value), timeout=poll)
                return
            except queue.Full:
                continue

    def read() -> None:
        try:
            for item in source:
                if stop.is_set():
                    return
                put("item", item)
        except BaseException as err:  # noqa: BLE001 - handed to the kernel's thread
            put("error", err)
        finally:
            put("end", None)

    threading.Thread(target=read, name=name, daemon=True).start()
    try:
        while True:
            try:
                kind, value = inbox.get(timeout=poll)
            except queue.Empty:
                yield None
                continue
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()


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
