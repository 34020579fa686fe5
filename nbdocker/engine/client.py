"""The engine boundary: the only module that imports the docker SDK.

It owns one low-level client, created on first use (`docker.from_env()` and friends contact the
engine in their constructor, and `%load_ext nbdocker` must never do that), puts a timeout on every
metadata call, and turns every SDK, requests and urllib3 failure into an nbdocker error naming the
endpoint and what to do.
"""
from __future__ import annotations

import codecs
import contextlib
import json
import queue
import re
import socket
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any, TypeVar

from typing import TYPE_CHECKING

from nbdocker.engine.endpoint import (TLSFiles, classic_from_buildah, endpoint_settings, is_podman,
                                      locate_endpoint, open_client, transport_reason)
from nbdocker.errors import EngineError, EngineUnavailable, UsageError
from nbdocker.references import check_image_argument

if TYPE_CHECKING:
    import docker

T = TypeVar("T")
# Calls that make the engine work (start a container, delete its filesystem) rather than answer
# from memory get this long; metadata calls keep `Engine.timeout` (5 s by default).
WORK_TIMEOUT = 60.0

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
            # The engine path-cleans a URL with a 301 (`/containers/../../volumes/x` becomes
            # `/volumes/x`) and requests would follow it with the same method: a DELETE meant
            # for a container would remove a volume. Names are checked before they reach a URL,
            # and no engine call follows a redirect.
            self._api.max_redirects = 0
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
        except Exception as err:  # noqa: BLE001 - sorted below; anything else goes on unchanged
            translated = self._translation(what, err)
            if translated is None:
                raise
            raise translated from err

    def _translation(self, what: str, err: Exception) -> Exception | None:
        """The nbdocker error for an SDK or transport failure; None for anything else.

        The SDK is imported only by the first engine call (`%load_ext` stays cheap), so its error
        types are looked up here, when an error has already happened.
        """
        docker_errors, requests_exceptions, urllib3_exceptions = sdk_error_modules()
        if isinstance(err, docker_errors.APIError):
            return EngineError(api_error_message(err), err.status_code)
        if isinstance(err, requests_exceptions.TooManyRedirects):
            where = getattr(getattr(err, "response", None), "headers", {}).get("Location", "elsewhere")
            return EngineError(f"{what}: the engine redirected the request to {where!r}; nbdocker "
                               "never follows a redirect from the engine")
        if isinstance(err, (docker_errors.DockerException, requests_exceptions.RequestException,
                            urllib3_exceptions.HTTPError, OSError)):
            return EngineUnavailable(self.unreachable_message(err))
        return None

    def describe(self) -> str:
        """Where this engine is, in one line (endpoint, context or setting, TLS or not)."""
        return self.endpoint.describe()

    def unreachable_message(self, err: BaseException) -> str:
        """One line: which endpoint, what went wrong, what to do."""
        reason = transport_reason(err, self.timeout)
        hint = "start the Docker engine, or point DOCKER_HOST (or %config DockerMagics.base_url) at one"
        if "permission denied" in reason:
            hint = "run as a user in the 'docker' group, or point DOCKER_HOST at an engine you may use"
        if reason.startswith(("TLS", "API")):  # it answered: the reason says what to fix
            return f"cannot reach the engine at {self.endpoint.describe()}: {reason}"
        return f"cannot reach the engine at {self.endpoint.describe()}: {reason}; {hint}"

    # ------------------------------------------------------------ images

    def list_images(self, all: bool = False, filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """GET /images/json: the engine's image summaries."""
        return self.call("list images", self.sdk.images, all=all, filters=filters or None)

    def inspect_image(self, name: str) -> dict[str, Any]:
        """GET /images/{name}/json."""
        return self.call("inspect", self.sdk.inspect_image, checked_image(name))

    def image_history(self, name: str) -> list[dict[str, Any]]:
        """GET /images/{name}/history."""
        return self.call("history", self.sdk.history, checked_image(name))

    def tag_image(self, source: str, repository: str, tag: str) -> None:
        """POST /images/{source}/tag."""
        self.call("tag", self.sdk.tag, checked_image(source), repository, tag)

    def remove_image(self, name: str, force: bool = False, no_prune: bool = False) -> list[dict[str, Any]]:
        """DELETE /images/{name}: the engine's Untagged/Deleted entries."""
        return self.call("remove image", self.sdk.remove_image, checked_image(name),
                         force=force, noprune=no_prune) or []

    def prune_images(self, filters: dict[str, Any]) -> dict[str, Any]:
        """POST /images/prune."""
        return self.call("prune images", self.sdk.prune_images, filters=filters) or {}

    def disk_usage(self, timeout: float) -> dict[str, Any]:
        """GET /system/df: the engine sizes every layer and container, so it gets `timeout` s."""
        api = self.sdk
        with self.translated("disk usage"):
            return api._result(api._get(api._url("/system/df"), timeout=timeout), True)

    def version(self) -> dict[str, Any]:
        """GET /version."""
        return self.call("version", self.sdk.version)

    # ------------------------------------------------------------ containers

    def list_containers(self, all: bool = False, filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """GET /containers/json."""
        return self.call("list containers", self.sdk.containers, all=all, filters=filters or None)

    def inspect_container(self, name: str) -> dict[str, Any]:
        """GET /containers/{name}/json."""
        return self.call("inspect container", self.sdk.inspect_container, checked_container(name))

    def create_container(self, image: str, *, network_mode: str | None = None,
                         auto_remove: bool = False, **config: Any) -> dict[str, Any]:
        """POST /containers/create; `config` takes the SDK's names (command, environment …).

        `auto_remove` is the engine's HostConfig.AutoRemove (`run -d --rm`): the engine removes
        the container when it exits, with nobody attached."""
        api = self.sdk
        with self.translated("create container"):
            host_config = api.create_host_config(network_mode=network_mode, auto_remove=auto_remove)
            return api.create_container(checked_image(image), host_config=host_config, **config)

    def attach_container(self, cid: str) -> ClosingStream:
        """POST /containers/{id}/attach: (stdout, stderr) frames, logs included; close() it after.

        Not the SDK's `attach(stream=True)`: its generator owns the upgraded socket and nothing
        closes it (a socket left open per `%docker run`). Containers are made without a TTY here.
        """
        api = self.sdk
        params = {"logs": 1, "stdout": 1, "stderr": 1, "stream": 1}
        headers = {"Connection": "Upgrade", "Upgrade": "tcp"}
        with self.translated("attach"):
            response = api._post(api._url("/containers/{0}/attach", checked_container(cid)),
                                 headers=headers, params=params, stream=True)
            frames = api._read_from_socket(response, stream=True, tty=False, demux=True)
        return ClosingStream(frames, response)

    def wait_container(self, cid: str) -> dict[str, Any]:
        """POST /containers/{id}/wait, with no timeout: the caller knows the container is ending."""
        api = self.sdk
        with self.translated("wait"):
            return api._result(api._post(api._url("/containers/{0}/wait", checked_container(cid)),
                                         timeout=None), True)

    def start_container(self, cid: str) -> None:
        """POST /containers/{id}/start: work, not metadata, so it may take longer than `timeout`."""
        api = self.sdk
        with self.translated("start"):
            api._raise_for_status(api._post(api._url("/containers/{0}/start", checked_container(cid)),
                                            timeout=max(self.timeout, WORK_TIMEOUT)))

    def stop_container(self, cid: str, grace: float) -> None:
        """POST /containers/{id}/stop, killing after `grace` seconds."""
        self.call("stop", self.sdk.stop, checked_container(cid), timeout=grace)

    def remove_container(self, name: str, force: bool = False, volumes: bool = False) -> None:
        """DELETE /containers/{name}: work (a big filesystem to delete), given `WORK_TIMEOUT`."""
        api = self.sdk
        params = {"v": volumes, "force": force, "link": False}
        with self.translated("remove container"):
            api._raise_for_status(api._delete(api._url("/containers/{0}", checked_container(name)),
                                              params=params, timeout=max(self.timeout, WORK_TIMEOUT)))

    def container_logs(self, name: str, stdout: bool, stderr: bool, **options: Any) -> bytes:
        """GET /containers/{name}/logs, not following."""
        return self.call("logs", self.sdk.logs, checked_container(name), stdout=stdout,
                         stderr=stderr, **options)

    def follow_logs(self, name: str, *, tty: bool = False, timestamps: bool = False,
                    tail: int | None = None) -> ClosingStream:
        """GET /containers/{name}/logs?follow=1: (stdout, stderr) frames, in the engine's order,
        until the container exits. No read timeout (a container may be silent for hours);
        close() stops following (the container is not touched)."""
        api = self.sdk
        params = {"stdout": 1, "stderr": 1, "follow": 1, "timestamps": int(timestamps),
                  "tail": "all" if tail is None else str(tail)}
        with self.translated("logs"):
            response = api._get(api._url("/containers/{0}/logs", checked_container(name)),
                                params=params, stream=True, timeout=None)
            try:
                api._raise_for_status(response)
            except BaseException:
                response.close()  # a 404 must not leave the connection open
                raise

        def translated() -> Iterator[tuple[bytes | None, bytes | None]]:
            with self.translated("logs"):
                yield from log_frames(response, tty)
        return ClosingStream(translated(), response)

    def prune_containers(self, filters: dict[str, Any]) -> dict[str, Any]:
        """POST /containers/prune: every stopped container the filters match."""
        return self.call("prune containers", self.sdk.prune_containers, filters=filters) or {}

    def list_volumes(self, filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """GET /volumes."""
        found = self.call("list volumes", self.sdk.volumes, filters=filters or None) or {}
        return found.get("Volumes") or []

    def prune_volumes(self, filters: dict[str, Any]) -> dict[str, Any]:
        """POST /volumes/prune: every volume no container uses that the filters match."""
        return self.call("prune volumes", self.sdk.prune_volumes, filters=filters) or {}

    def list_networks(self, filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """GET /networks (their `Containers` are empty here: inspect_network has them)."""
        return self.call("list networks", self.sdk.networks, filters=filters or None) or []

    def inspect_network(self, network_id: str) -> dict[str, Any]:
        """GET /networks/{id}: with the containers attached to it."""
        return self.call("inspect network", self.sdk.inspect_network, checked_container(network_id))

    def prune_networks(self, filters: dict[str, Any]) -> dict[str, Any]:
        """POST /networks/prune: every network no container uses that the filters match."""
        return self.call("prune networks", self.sdk.prune_networks, filters=filters) or {}

    def prune_build_cache(self, filters: dict[str, Any], all: bool = False,
                          timeout: float | None = None) -> dict[str, Any]:
        """POST /build/prune (BuildKit's cache; `all` also takes internal and frontend
        records). The engine deletes the records as it answers: work, given `timeout`."""
        api = self.sdk
        params: dict[str, Any] = {"filters": convert_filters(filters)} if filters else {}
        if all:
            params["all"] = "1"
        with self.translated("prune build cache"):
            return api._result(api._post(api._url("/build/prune"), params=params,
                                         timeout=timeout or max(self.timeout, WORK_TIMEOUT)), True)

    # ------------------------------------------------------------ registries

    def authenticate(self, payload: dict[str, str], timeout: float) -> dict[str, Any]:
        """POST /auth. Not `APIClient.login`: that loads the config file, may run a credential
        helper without a timeout, and keeps the password in the SDK client."""
        api = self.sdk
        with self.translated("login"):
            response = api._post_json(api._url("/auth"), data=payload, timeout=timeout)
            return api._result(response, json=True)

    def push_stream(self, repository: str, tag: str | None, auth: dict[str, str] | None) -> Any:
        """POST /images/{name}/push: decoded progress messages, with no read timeout (a big layer
        may upload in silence); close() it to stop the push. `tag` None pushes every tag of the
        repository (`push --all-tags`), one after the other in one stream."""
        api = self.sdk
        headers = {"X-Registry-Auth": encode_header(auth)} if auth else {}
        with self.translated("push"):
            response = api._post_json(api._url("/images/{0}/push", checked_image(repository)), None,
                                      headers=headers, stream=True, params={"tag": tag} if tag else {},
                                      timeout=None)
            api._raise_for_status(response)
        return ClosingStream(self._decoded(response, "push"), response)

    def pull_stream(self, repository: str, tag: str, auth: dict[str, str] | None) -> Any:
        """POST /images/create: decoded progress messages, no read timeout; close() to stop."""
        api = self.sdk
        headers = {"X-Registry-Auth": encode_header(auth)} if auth else {}
        with self.translated("pull"):
            response = api._post(api._url("/images/create"), headers=headers, stream=True, timeout=None,
                                 params={"fromImage": checked_image(repository), "tag": tag})
            api._raise_for_status(response)
        return ClosingStream(self._decoded(response, "pull"), response)

    def _decoded(self, response: Any, what: str) -> Iterator[dict[str, Any]]:
        """A push or pull stream's messages, decoded as builds' are (see `json_messages`)."""
        try:
            with self.translated(what):
                yield from json_messages(self.sdk._stream_helper(response, decode=False))
        except TruncatedStream as err:
            raise EngineError(f"the {what} stream from the engine at {self.base_url} ended inside a "
                              f"message ({err}): run the {what} again") from None

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

    def build_stream(self, context: Any, params: dict[str, Any],
                     auth_configs: dict[str, dict[str, str]] | None = None) -> tuple[Any, Iterator[dict[str, Any]]]:
        """POST /build with the context tar; returns (response, decoded messages).

        The SDK's `build()` cannot send `version` (BuildKit) or several tags, so the request is made
        here. No timeout on the stream: a build may be silent for minutes. The caller must close
        the response in `finally` — closing it is what cancels the build engine-side.
        `auth_configs` (server address → auth config) go in `X-Registry-Config`, as the CLI sends
        them: what the engine pulls private bases with.
        """
        api = self.sdk
        headers = {"Content-Type": "application/x-tar"}
        if auth_configs:
            headers["X-Registry-Config"] = encode_header(auth_configs)
        with self.translated("build"):
            response = api._post(api._url("/build"), params=params, data=context, stream=True,
                                 timeout=None, headers=headers)
            api._raise_for_status(response)
        messages = self._messages(response)
        if is_podman(self.version()):  # Buildah frames its steps in words of its own
            messages = classic_from_buildah(messages)
        return response, messages

    def _messages(self, response: Any) -> Iterator[dict[str, Any]]:
        try:
            with self.translated("build stream"):
                # Raw chunks, decoded here: docker-py decodes each chunk's UTF-8 on its own.
                yield from json_messages(self.sdk._stream_helper(response, decode=False))
        except TruncatedStream as err:
            raise EngineError(
                f"the build stream from the engine at {self.base_url} ended inside a message "
                f"({err}); the build's outcome is unknown and nothing is reported as built: build "
                "again") from None
        except EngineUnavailable as err:
            # Mid-stream the endpoint answered before: it went away (killed, restarted, the socket
            # closed). urllib3 says "Connection broken: IncompleteRead(0 bytes read)".
            cause = err.__cause__
            _, requests_exceptions, urllib3_exceptions = sdk_error_modules()
            broken = isinstance(cause, (urllib3_exceptions.ProtocolError,
                                        requests_exceptions.ChunkedEncodingError,
                                        requests_exceptions.ConnectionError, ConnectionError))
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
        if sock is not None:  # an upgraded (attach) connection is not closed by the response
            with contextlib.suppress(OSError):
                sock.close()

    def close(self) -> None:
        """Drop the client (a new one is made on next use)."""
        if self._api is not None:
            self._api.close()
            self._api = None


class TruncatedStream(ValueError):
    """A JSON stream that ended inside a value (docker-py raises a bare StreamParseError)."""


_JSON_SPACE = " \t\r\n"


def json_messages(chunks: Iterable[bytes | str]) -> Iterator[Any]:
    """The JSON values of a stream of concatenated JSON texts, however it was cut into chunks.

    docker-py decodes each HTTP chunk as UTF-8 on its own, so a character cut between two chunks
    became two or three U+FFFD (a `€`: three); here the bytes are decoded incrementally. A stream
    that ends inside a value raises `TruncatedStream`. Decoding is tried only when a chunk holds a
    `}` (the engine sends objects), so a message of megabytes in 4 KiB chunks stays linear.
    """
    utf8 = codecs.getincrementaldecoder("utf-8")("replace")
    pending: list[str] = []
    for chunk in chunks:
        text = utf8.decode(chunk) if isinstance(chunk, bytes) else chunk
        pending.append(text)
        if "}" in text:
            rest = yield from _json_values("".join(pending))
            pending = [rest] if rest else []
    rest = yield from _json_values("".join(pending) + utf8.decode(b"", final=True))
    rest = rest.strip(_JSON_SPACE)
    if rest:
        raise TruncatedStream(f"{len(rest.encode('utf-8', 'replace')):,} bytes of an unfinished "
                              f"message: {rest[:40]!r}")


_JSON = json.JSONDecoder()


def _json_values(buffered: str) -> Generator[Any, None, str]:
    """Yield the complete JSON values at the start of `buffered`; return what is left."""
    pos, end = 0, len(buffered)
    while True:
        while pos < end and buffered[pos] in _JSON_SPACE:
            pos += 1
        if pos >= end:
            return ""
        try:
            value, pos_after = _JSON.raw_decode(buffered, pos)
        except json.JSONDecodeError:
            return buffered[pos:]  # an unfinished value: wait for the next chunk
        yield value
        pos = pos_after


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


def log_frames(response: Any, tty: bool) -> Iterator[tuple[bytes | None, bytes | None]]:
    """(stdout, stderr) pieces of a logs response as they arrive.

    Unlike attach, logs come as an HTTP body (chunked), so the frames are read through the
    response, not the raw socket. Without a TTY each frame has an 8-byte header: stream (1 stdout,
    2 stderr), three zero bytes, a big-endian length; with a TTY the body is plain stdout.
    """
    if tty:
        for chunk in response.iter_content(chunk_size=None):
            yield chunk, None
        return
    raw = response.raw
    while True:
        header = raw.read(8)
        if len(header) < 8:
            return
        length = int.from_bytes(header[4:8], "big")
        data = raw.read(length) if length else b""
        if length and not data:
            return
        yield (data, None) if header[0] != 2 else (None, data)


def sdk_error_modules() -> tuple[Any, Any, Any]:
    """docker.errors, requests.exceptions and urllib3.exceptions, imported on first need."""
    import docker.errors
    import requests.exceptions
    import urllib3.exceptions

    return docker.errors, requests.exceptions, urllib3.exceptions


def convert_filters(filters: dict[str, Any]) -> str:
    """Filters as the engine's JSON query value, as the SDK writes them."""
    import docker.utils

    return docker.utils.convert_filters(filters)


def encode_header(auth: dict[str, Any]) -> str:
    """An X-Registry-Auth/-Config header value, as the SDK encodes it."""
    import docker.auth

    return docker.auth.encode_header(auth)


def api_error_message(err: docker.errors.APIError) -> str:
    """The engine's own explanation (its JSON `message`), without the SDK's URL decoration."""
    explanation = err.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", "replace")
    return str(explanation or err).strip()


def status_code(err: BaseException) -> int | None:
    """The HTTP status of the engine error behind an EngineError, if any."""
    return getattr(err, "status", None)


_CONTAINER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")


def checked_container(name: str) -> str:
    """A container name or id, before it reaches a URL (the CLI's `/name` form accepted).

    Container names are `[a-zA-Z0-9][a-zA-Z0-9_.-]*`: anything else (`../../volumes/x`) would
    address another resource once the engine cleans the path.
    """
    bare = name[1:] if name.startswith("/") else name
    if not isinstance(name, str) or not _CONTAINER_NAME.fullmatch(bare):
        raise UsageError(f"{name!r} is not a container name or id (names are letters, digits "
                         "and _ . - only)", "%docker")
    return bare


def checked_image(name: str) -> str:
    """An image id (prefix) or a valid reference, before it reaches a URL."""
    return check_image_argument(name)


class ClosingStream:
    """An iterator over a streaming response that `close()` ends, closing the connection."""

    def __init__(self, items: Iterator[Any], response: Any) -> None:
        self._items, self._response = items, response

    def __iter__(self) -> Iterator[Any]:
        return self._items

    def __next__(self) -> Any:
        return next(self._items)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._items.close()  # type: ignore[attr-defined]
        Engine.cancel_stream(self._response)


# docker-py private helpers this module relies on (public API cannot send what we need: several
# tags and `version` on a build, no read timeout on a push, POST /auth without the config file).
# tests/test_engine_sdk.py fails loudly when a docker-py release drops one.
PRIVATE_SDK_HELPERS = ("_post", "_post_json", "_get", "_delete", "_url", "_result",
                       "_raise_for_status", "_stream_helper", "_read_from_socket",
                       "_get_raw_response_socket", "_retrieve_server_version")
