"""Registry commands: push, pull, login, logout.

Push and pull stream the engine's progress messages; a progress view (one bar per layer and one
overall) is updated in place through an IPython display handle, at most ten times a second. The
engine reports registry failures *inside* an HTTP 200 stream (`{"error": …, "errorDetail": …}`), so
every message is checked and such a message fails the cell.

Credentials: those given to `%docker login` (kept in this kernel's memory only: the password is read
at a hidden prompt, never from the cell, so it is in no output and no history), else the docker
config file's `auths`, `credsStore` or `credHelpers`. Credential helpers run with a timeout, so a
helper that waits for a locked keychain cannot hang the kernel. We always pass the engine an explicit
auth config, so the SDK never runs a helper itself (it would, without a timeout).
"""
from __future__ import annotations

import argparse
import base64
import builtins
import contextlib
import getpass
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nbdocker import cli
from nbdocker.views import render as views
from nbdocker.engine.client import Engine
from nbdocker.errors import CommandFailed, EngineError, NbDockerError, UsageError
from nbdocker.references import Reference, parse_reference
from nbdocker.views.display import in_kernel
from nbdocker.views.results import Result
from nbdocker.units import human_size

DOCKER_HUB = "docker.io"
DOCKER_HUB_SERVER = "https://index.docker.io/v1/"  # the server address the CLI uses for Docker Hub
CREDENTIAL_HELPER_TIMEOUT = 10.0  # seconds; a helper may legitimately wait a little for a keychain
LOGIN_TIMEOUT = 30.0  # the engine contacts the registry during /auth
PROGRESS_INTERVAL = 0.1  # at most ten display updates a second (frontends drop floods)


class CredentialError(NbDockerError):
    """A credential helper or the docker config file could not give credentials."""

    prefix = "credentials"


class LoginFailed(NbDockerError):
    """The registry refused the user name and password, or could not be reached."""

    prefix = "login failed"


class TransferFailed(CommandFailed):
    """A push or pull failed: in the stream (in-band) or before it started."""

    def __init__(self, action: str, message: str, result: object = None) -> None:
        self.prefix = f"{action} failed"
        super().__init__(message, result)


class TransferInterrupted(NbDockerError):
    """The cell was interrupted during a push or pull; the stream was closed."""

    prefix = "interrupted"


# ---------------------------------------------------------------- registries and credentials


def registry_key(text: str | None) -> str:
    """A registry as credentials are keyed: `127.0.0.1:5001`, or `docker.io` for Docker Hub."""
    if not text:
        return DOCKER_HUB
    host = text.split("://", 1)[-1].split("/", 1)[0].lower()
    if host in ("index.docker.io", "registry-1.docker.io", "docker.io"):
        return DOCKER_HUB
    return host


def server_address(key: str) -> str:
    """What the CLI sends (and helpers store) as the server: the hub's v1 URL, else host[:port]."""
    return DOCKER_HUB_SERVER if key == DOCKER_HUB else key


def registry_of(ref: Reference) -> str:
    """The registry an image reference lives in."""
    return registry_key(ref.domain)


@dataclass
class Credential:
    """A user name and password for one registry; the password never shows in a repr."""

    username: str
    password: str = field(repr=False)
    server: str = ""

    def auth_config(self) -> dict[str, str]:
        return {"username": self.username, "password": self.password, "serveraddress": self.server}


# `%docker login` credentials, for this kernel only (module state: one kernel, one process).
_LOGINS: dict[str, Credential] = {}


def docker_config_path() -> str:
    """The docker CLI's config file: $DOCKER_CONFIG/config.json, else ~/.docker/config.json."""
    folder = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(folder, "config.json")


def load_docker_config(path: str | None = None) -> dict[str, Any]:
    """The config file as a dict ({} when missing; a broken file is an error naming it)."""
    path = path or docker_config_path()
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        raise CredentialError(f"cannot read {path}: {err}") from None
    return data if isinstance(data, dict) else {}


def run_credential_helper(helper: str, server: str, timeout: float, source: str = "") -> dict[str, str] | None:
    """`docker-credential-HELPER get` for `server`, bounded by `timeout` seconds.

    Returns an auth config, or None when the helper has no credentials for the server.
    """
    program = f"docker-credential-{helper}"
    where = f" (set in {source})" if source else ""
    exe = shutil.which(program)
    if exe is None:
        raise CredentialError(f"{program}{where} is not installed or not on PATH; install it, remove "
                              "the setting, or use %docker login")
    # Its own session, so that on timeout the whole group goes (a script's children included).
    proc = subprocess.Popen([exe, "get"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(server.encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.kill()
        proc.wait()
        # Not communicate() again: a grandchild that escaped the kill could hold the pipes open.
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        raise CredentialError(f"{program}{where} did not answer within {timeout:g} s for {server} "
                              "(is it waiting for a locked keychain?); fix or remove the helper, or "
                              "use %docker login") from None
    text = (out or err).decode("utf-8", "replace").strip()
    if proc.returncode != 0:
        if "credentials not found" in text.lower():
            return None
        raise CredentialError(f"{program}{where} failed for {server}: {_one_line(text) or 'no message'}")
    try:
        data = json.loads(text)
    except ValueError:
        raise CredentialError(f"{program}{where} answered something that is not JSON") from None
    username, secret = data.get("Username") or "", data.get("Secret") or ""
    if not username and not secret:
        return None
    if username == "<token>":
        return {"identitytoken": secret, "serveraddress": server}
    return {"username": username, "password": secret, "serveraddress": server}


def config_auth(key: str, config: dict[str, Any], *, timeout: float = CREDENTIAL_HELPER_TIMEOUT,
                source: str = "") -> dict[str, str] | None:
    """Credentials for registry `key` from a docker config: credHelpers, credsStore, then auths."""
    server = server_address(key)
    helpers = {registry_key(k): v for k, v in (config.get("credHelpers") or {}).items()}
    helper = helpers.get(key) or config.get("credsStore")
    if helper:
        found = run_credential_helper(helper, server, timeout, source)
        if found:
            return found
    for name, entry in (config.get("auths") or {}).items():
        if registry_key(name) != key or not isinstance(entry, dict):
            continue
        if entry.get("identitytoken"):
            return {"identitytoken": entry["identitytoken"], "serveraddress": server}
        if entry.get("auth"):
            try:
                user, _, password = base64.b64decode(entry["auth"]).decode("utf-8").partition(":")
            except ValueError:
                raise CredentialError(f"the auths entry for {name} in {source or 'the config'} "
                                      "is not valid base64") from None
            return {"username": user, "password": password, "serveraddress": server}
        if entry.get("username"):
            return {"username": entry["username"], "password": entry.get("password", ""),
                    "serveraddress": server}
    return None


def auth_config_for(key: str) -> dict[str, str]:
    """The auth config to send for registry `key` ({} when there is none: anonymous)."""
    if key in _LOGINS:
        return _LOGINS[key].auth_config()
    path = docker_config_path()
    return config_auth(key, load_docker_config(path), timeout=CREDENTIAL_HELPER_TIMEOUT, source=path) or {}


# ---------------------------------------------------------------- login / logout


@dataclass
class LoginResult(Result):
    """`%docker login`: which registry and user (the password is not kept here)."""

    registry: str
    username: str

    def view(self) -> views.LinesView:
        return views.LinesView("login", [
            ("ok", "Login Succeeded"),
            ("info", f"{self.username} at {self.registry}: kept in this kernel's memory only "
                     f"(not written to the docker config); %docker logout {self.registry} forgets it"),
        ])


@dataclass
class LogoutResult(Result):
    """`%docker logout`."""

    registry: str
    was_logged_in: bool

    def view(self) -> views.LinesView:
        if self.was_logged_in:
            return views.LinesView("logout", [("ok", f"Removing login credentials for {self.registry}")])
        return views.LinesView("logout", [("info", f"Not logged in to {self.registry}")])


def _ask(prompt: Callable[[str], str], text: str, what: str) -> str:
    try:
        return prompt(text)
    except (KeyboardInterrupt, EOFError):
        raise UsageError(f"no {what} given", "%docker login") from None
    except Exception as err:  # noqa: BLE001 - e.g. StdinNotImplementedError in a headless run
        raise UsageError(f"cannot ask for the {what} here ({type(err).__name__}): %docker login needs "
                         "an interactive notebook", "%docker login") from None


def login(engine: Engine, registry: str | None = None, username: str | None = None) -> LoginResult:
    """`docker login [-u USER] [REGISTRY]`: the password is read at a hidden prompt and checked by the
    engine against the registry; it is kept in memory for this kernel only."""
    key = registry_key(registry)
    server = server_address(key)
    if not username:
        username = _ask(builtins.input, "Username: ", "user name").strip()
        if not username:
            raise UsageError("no user name given", "%docker login")
    # Looked up at call time: ipykernel (and tests) replace getpass.getpass.
    password = _ask(getpass.getpass, f"Password for {username} at {key}: ", "password")
    if not password:
        raise UsageError("no password given", "%docker login")
    try:
        _authenticate(engine, username, password, server)
    except EngineError as err:
        raise LoginFailed(explain_login_error(key, str(err).replace(password, "***"))) from None
    _LOGINS[key] = Credential(username, password, server)
    return LoginResult(key, username)


def _authenticate(engine: Engine, username: str, password: str, server: str) -> dict[str, Any]:
    """POST /auth. Not `APIClient.login`: it first loads the config file and may run a credential
    helper without a timeout, and it keeps the password in the SDK client."""
    payload = {"username": username, "password": password, "serveraddress": server}
    return engine.authenticate(payload, timeout=LOGIN_TIMEOUT)


def explain_login_error(key: str, message: str) -> str:
    """One line: what the registry said, and what to do."""
    text = _one_line(message)
    if "401" in text or "unauthorized" in text.lower() or "incorrect username or password" in text.lower():
        return f"{key}: wrong user name or password ({text})"
    if "connection refused" in text or "no such host" in text:
        return f"{key}: no registry answers there ({text})"
    return f"{key}: {text}"


def logout(registry: str | None = None) -> LogoutResult:
    """`docker logout [REGISTRY]`: forget what `%docker login` kept (the config file is not touched)."""
    key = registry_key(registry)
    return LogoutResult(key, _LOGINS.pop(key, None) is not None)


# ---------------------------------------------------------------- progress model (pure)

_PUSH_DONE = ("Pushed", "Layer already exists", "Mounted from")
_PULL_DONE = ("Pull complete", "Already exists")


@dataclass
class LayerProgress:
    """One layer's latest state in a push or pull stream."""

    id: str
    status: str = ""
    current: int = 0
    total: int = 0

    @property
    def done(self) -> bool:
        return self.status.startswith(_PUSH_DONE + _PULL_DONE)

    @property
    def fraction(self) -> float:
        """How far this layer is, 0…1 (a pull: download is 80 %, extraction the rest)."""
        if self.done:
            return 1.0
        part = min(self.current / self.total, 1.0) if self.total > 0 else 0.0
        if self.status == "Downloading":
            return 0.8 * part
        if self.status in ("Verifying Checksum", "Download complete"):
            return 0.8
        if self.status == "Extracting":
            return 0.8 + 0.2 * part
        if self.status == "Pushing":
            return part
        return 0.0


def stream_error(message: dict[str, Any]) -> str | None:
    """The in-band error of one stream message, as one line (None when it is not an error)."""
    detail = message.get("errorDetail")
    text = None
    if isinstance(detail, dict) and detail.get("message"):
        text = detail["message"]
    elif message.get("error"):
        text = message["error"]
    return _one_line(str(text)) if text else None


def _one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass
class TagPush:
    """One tag of a `push --all-tags`: its digest, manifest size and the layers it sent."""

    tag: str
    digest: str
    size: int | None
    layers: list[LayerProgress]


@dataclass
class Transfer:
    """The state of a push or pull, built from its stream messages (pure: no engine, no display)."""

    action: str  # "push" or "pull"
    reference: str
    layers: dict[str, LayerProgress] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)  # the CLI's non-terminal output, in order
    digest: str | None = None
    size: int | None = None
    status: str | None = None  # pull: "Downloaded newer image for …" / "Image is up to date for …"
    error: str | None = None
    state: str = "running"  # running, done, failed, interrupted
    # `push --all-tags`: the engine pushes the tags one after the other in one stream, each
    # ending with an aux {Tag, Digest, Size}; the layers seen since the last one are that tag's.
    per_tag: bool = False
    expected_tags: int = 0
    tags: list[TagPush] = field(default_factory=list)

    def feed(self, message: dict[str, Any]) -> list[str]:
        """Take one message; returns the lines the CLI would print without a terminal."""
        error = stream_error(message)
        if error:
            self.error, self.state = error, "failed"
            return []
        aux = message.get("aux")
        if isinstance(aux, dict) and aux.get("Digest"):
            self.digest = aux["Digest"]
            self.size = aux.get("Size", self.size)
            if self.per_tag and aux.get("Tag"):
                self.tags.append(TagPush(str(aux["Tag"]), self.digest, self.size,
                                         list(self.layers.values())))
                self.layers = {}  # the next tag's progress starts afresh
            return []
        status = str(message.get("status") or "")
        ident = message.get("id")
        detail = message.get("progressDetail") or {}
        if ident and not status.startswith("Pulling from"):
            layer = self.layers.setdefault(ident, LayerProgress(ident))
            changed = status != layer.status
            layer.status = status
            if "current" in detail:
                layer.current, layer.total = int(detail.get("current") or 0), int(detail.get("total") or 0)
            elif changed:
                layer.current = layer.total if layer.done else 0
            if "current" in detail or not changed:
                return []  # progress ticks: the CLI prints them only on a terminal
            return self._line(f"{ident}: {status}")
        if not status:
            return []
        if status.startswith("Digest: "):
            self.digest = status.split(" ", 1)[1].strip()
        elif status.startswith("Status: "):
            self.status = status.split(" ", 1)[1].strip()
        elif ": digest: " in status and (self.digest is None or self.per_tag):
            words = status.split()
            self.digest = words[2] if len(words) > 2 else None
            if "size:" in words and words.index("size:") + 1 < len(words):
                with contextlib.suppress(ValueError):
                    self.size = int(words[words.index("size:") + 1])
        return self._line(f"{ident}: {status}" if ident else status)

    def _line(self, text: str) -> list[str]:
        self.lines.append(text)
        return [text]

    def finish(self) -> None:
        if self.state == "running":
            self.state = "done"

    @property
    def fraction(self) -> float:
        if self.state == "done":
            return 1.0
        if not self.layers:
            return 0.0
        return sum(layer.fraction for layer in self.layers.values()) / len(self.layers)

    @property
    def done_layers(self) -> int:
        return sum(layer.done for layer in self.layers.values())

    @property
    def bytes(self) -> tuple[int, int]:
        """(transferred, known total) over the layers that report sizes."""
        current = sum(min(l.current, l.total) for l in self.layers.values() if l.total > 0)
        total = sum(l.total for l in self.layers.values() if l.total > 0)
        return current, total

    def summary(self) -> str:
        """`push 127.0.0.1:5000/x:1 — 2/3 layers, 1.2MB / 4MB`."""
        text = f"{self.action} {self.reference}"
        state = {"done": "done", "failed": "failed", "interrupted": "interrupted"}.get(self.state)
        if state:
            text += f": {state}"
        if self.per_tag:
            count = max(self.expected_tags, len(self.tags))
            if self.state == "running" and len(self.tags) < count:
                text += f" — tag {len(self.tags) + 1} of {count}"
            else:
                text += f" — {len(self.tags)} tag{'' if len(self.tags) == 1 else 's'}"
        if self.layers:
            text += f" — {self.done_layers}/{len(self.layers)} layers"
        current, total = self.bytes
        if total:
            text += f", {human_size(current)} / {human_size(total)}"
        return text


def text_bar(fraction: float, width: int = 20) -> str:
    """`[=========>          ]`, like the CLI's progress bars."""
    fraction = max(0.0, min(fraction, 1.0))
    filled = int(fraction * width)
    if filled >= width:
        return "[" + "=" * width + "]"
    return "[" + "=" * filled + ">" + " " * (width - filled - 1) + "]"


def render_transfer_text(t: Transfer) -> str:
    """The progress as plain text: an overall bar, then one line per layer."""
    lines = [f"{text_bar(t.fraction)} {int(t.fraction * 100):3d}%  {t.summary()}"]
    for layer in t.layers.values():
        size = f"  {human_size(min(layer.current, layer.total))}/{human_size(layer.total)}" \
            if layer.total > 0 and not layer.done else ""
        lines.append(f"  {layer.id}  {layer.status:<22} {text_bar(layer.fraction)}{size}")
    lines += [f"{tag.tag}: digest: {tag.digest} size: {tag.size}" for tag in t.tags]
    if t.digest and not t.per_tag:
        lines.append(f"digest: {t.digest}")
    if t.error:
        lines.append(f"error: {t.error}")
    return "\n".join(lines)


PROGRESS_CSS = """<style>
.nbdocker .nbd-progress{display:inline-block;width:160px;height:8px;background:#e4e4e4;
  vertical-align:middle;margin-right:6px}
.nbdocker .nbd-progress>span{display:block;height:100%;background:#4a90d9}
.nbdocker .nbd-transfer[data-state=failed] .nbd-progress>span{background:#b00020}
</style>"""


def html_bar(fraction: float) -> str:
    """A static bar; the width is a number we computed, never text from the engine."""
    percent = int(max(0.0, min(fraction, 1.0)) * 100)
    return f'<span class="nbd-progress" title="{percent}%"><span style="width:{percent}%"></span></span>'


def render_transfer_html(t: Transfer) -> str:
    """The progress as escaped HTML: an overall bar, then a row per layer."""
    rows = []
    for layer in t.layers.values():
        size = f"{human_size(min(layer.current, layer.total))} / {human_size(layer.total)}" \
            if layer.total > 0 and not layer.done else ""
        rows.append(f"<tr><td>{views.esc(layer.id)}</td>"
                    f"<td>{views.esc(layer.status)}</td><td>{html_bar(layer.fraction)}</td>"
                    f'<td class="num">{views.esc(size)}</td></tr>')
    parts = [f'<div class="nbd-title">{html_bar(t.fraction)}{int(t.fraction * 100)}% '
             f"{views.esc(t.summary())}</div>"]
    if rows:
        parts.append(f"<table>{''.join(rows)}</table>")
    parts += [f'<div class="nbd-muted">{views.esc(tag.tag)}: digest: {views.esc(tag.digest)}</div>'
              for tag in t.tags]
    if t.digest and not t.per_tag:
        parts.append(f'<div class="nbd-muted">digest: {views.esc(t.digest)}</div>')
    if t.error:
        parts.append(f'<div class="nbd-error">{views.esc(t.error)}</div>')
    return (f'{views.CSS}{PROGRESS_CSS}<div class="nbdocker nbd-transfer" data-state="{views.esc(t.state)}">'
            f"{''.join(parts)}</div>")


class TransferProgress:
    """What the display handle shows while a push or pull runs."""

    def __init__(self, transfer: Transfer) -> None:
        self.transfer = transfer

    def _repr_mimebundle_(self, include: Iterable[str] | None = None,
                          exclude: Iterable[str] | None = None) -> dict[str, str]:
        bundle = {"text/plain": render_transfer_text(self.transfer),
                  "text/html": render_transfer_html(self.transfer)}
        if include:
            bundle = {k: v for k, v in bundle.items() if k in set(include)}
        if exclude:
            bundle = {k: v for k, v in bundle.items() if k not in set(exclude)}
        return bundle

    def __repr__(self) -> str:
        return render_transfer_text(self.transfer)


def live_updates_supported() -> bool:
    """A kernel (Jupyter) updates a display in place; terminal IPython would print every update."""
    return in_kernel()


class LiveDisplay:
    """One output updated in place, coalesced to at most one update per `interval` seconds."""

    def __init__(self, obj: Any, *, interval: float = PROGRESS_INTERVAL,
                 clock: Callable[[], float] = time.monotonic,
                 display: Callable[..., Any] | None = None) -> None:
        self.obj, self.interval, self.clock = obj, interval, clock
        if display is None:
            from IPython.display import display
        self._display = display
        self._handle: Any = None
        self._last = float("-inf")
        self._pending = False
        self.updates = 0

    def refresh(self, force: bool = False) -> None:
        """Show the object's current state, unless the last update was less than `interval` ago."""
        now = self.clock()
        if not force and now - self._last < self.interval:
            self._pending = True
            return
        self._last, self._pending = now, False
        if self._handle is None:
            self._handle = self._display(self.obj, display_id=True)
        else:
            self._handle.update(self.obj)
        self.updates += 1

    def close(self) -> None:
        """The final state, always: the object may have changed since the last refresh (a
        transfer marked done after its last message), whatever the coalescing skipped."""
        self.refresh(force=True)


# ---------------------------------------------------------------- push / pull


@dataclass
class TransferResult(Result):
    """A finished push or pull: its digest, its layers and the CLI's lines."""

    action: str
    reference: str
    digest: str | None
    layers: list[LayerProgress]
    lines: list[str]
    size: int | None = None
    status: str | None = None
    tags: list[TagPush] = field(default_factory=list)  # `push --all-tags`: one per tag, in order

    @property
    def digests(self) -> dict[str, str]:
        """`push --all-tags`: each tag's digest."""
        return {t.tag: t.digest for t in self.tags}

    def view(self) -> views.LinesView:
        lines = [("info", line) for line in self.lines]
        if self.action == "pull":
            lines.append(("ok", self.reference))
        return views.LinesView(self.action, lines)


@dataclass
class PushResult(TransferResult):
    """`%docker push`: `.digest` (sha256:…), `.size` of the manifest, `.layers`."""


@dataclass
class PullResult(TransferResult):
    """`%docker pull`: `.digest`, `.layers`, `.status` (downloaded newer / up to date)."""


def explain_transfer_error(key: str, message: str) -> str:
    """The registry's or engine's complaint, and the step that fixes it."""
    text = _one_line(message)
    low = text.lower()
    if "no basic auth credentials" in low or "unauthorized" in low or "authentication required" in low \
            or "denied" in low:
        hint = f"log in first: %docker login {key}" if key not in _LOGINS else \
            f"the registry refused the login kept for {key}: %docker login {key} again"
        return f"{text} ({hint})"
    if "connection refused" in low or "no such host" in low or "i/o timeout" in low:
        return f"{text} (no registry answers at {key})"
    if "server gave http response to https client" in low:
        return f"{text} (the engine must list {key} in its insecure-registries)"
    if "tag does not exist" in low or "does not exist locally" in low:
        return f"{text} (tag an image with that name first: %docker tag IMAGE NAME:TAG)"
    return text


def _transfer(engine: Engine, action: str, ref: Reference, tag: str | None,
              start: Callable[[Any, dict[str, str]], Any], quiet: bool,
              result_type: type[TransferResult], expected_tags: int = 0) -> TransferResult:
    """Run one push or pull stream: progress, in-band errors, interrupts (`tag` None: every tag)."""
    key = registry_of(ref)
    shown = ref.repository if tag is None else \
        f"{ref.repository}{'@' if tag.startswith('sha256:') else ':'}{tag}"
    auth = auth_config_for(key)
    transfer = Transfer(action, shown, per_tag=tag is None, expected_tags=expected_tags)
    live = not quiet and live_updates_supported()
    display = LiveDisplay(TransferProgress(transfer)) if live else None
    try:
        stream = start(auth)
        try:
            for message in stream:
                printed = transfer.feed(message) if isinstance(message, dict) else []
                if transfer.error:
                    break
                if display is not None:
                    display.refresh()
                elif not quiet:
                    for line in printed:
                        print(line, flush=True)
        finally:
            stream.close()  # closing the response stops the engine's transfer
    except KeyboardInterrupt:
        transfer.state = "interrupted"
        if display is not None:
            display.close()
        raise TransferInterrupted(f"{action} of {shown} stopped (the stream was closed)") from None
    except EngineError as err:
        raise TransferFailed(action, f"{shown}: {explain_transfer_error(key, str(err))}") from None
    transfer.finish()
    if display is not None:
        display.close()
    if transfer.error:
        raise TransferFailed(action, f"{shown}: {explain_transfer_error(key, transfer.error)}")
    return result_type(action, shown, transfer.digest, list(transfer.layers.values()), transfer.lines,
                       size=transfer.size, status=transfer.status, tags=transfer.tags)


def local_tags(engine: Engine, repository: str) -> list[str]:
    """The tags this engine holds for `repository` (what `push --all-tags` will send)."""
    found = engine.list_images(filters={"reference": [repository]})
    prefix = repository + ":"
    return sorted({t[len(prefix):] for image in found for t in image.get("RepoTags") or []
                   if t.startswith(prefix)})


def push_all_tags(engine: Engine, name: str, *, quiet: bool = False) -> PushResult:
    """`docker push --all-tags NAME`: every tag of the repository, in one engine stream; the
    result's `.tags` hold each tag's digest, size and layers, `.digests` maps tag to digest."""
    ref = parse_reference(name, allow_digest=False)
    if ref.tag:
        raise UsageError("tag can't be used with --all-tags/-a", "%docker push")
    expected = local_tags(engine, ref.repository)
    if not expected:  # the engine would say "does not exist locally": say which name to tag
        raise TransferFailed("push", f"{ref.repository}: no tag of this repository is here "
                                     "(tag an image with that name first: %docker tag IMAGE NAME:TAG)")

    def start(auth: dict[str, str]) -> Any:
        return engine.push_stream(ref.repository, None, auth)

    result = _transfer(engine, "push", ref, None, start, quiet, PushResult, len(expected))
    assert isinstance(result, PushResult)
    missing = [t for t in expected if t not in result.digests]
    if missing:
        raise TransferFailed("push", f"{result.reference}: the stream ended without a digest for "
                                     f"{', '.join(missing)}", result)
    return result


def push_image(engine: Engine, name: str, *, quiet: bool = False, all_tags: bool = False) -> PushResult:
    """`docker push [-a] NAME[:TAG]` (the tag defaults to latest, as in the CLI since 20.10)."""
    if all_tags:
        return push_all_tags(engine, name, quiet=quiet)
    ref = parse_reference(name, allow_digest=False)
    tag = ref.tag or "latest"

    def start(auth: dict[str, str]) -> Any:
        return engine.push_stream(ref.repository, tag, auth)

    result = _transfer(engine, "push", ref, tag, start, quiet, PushResult)
    assert isinstance(result, PushResult)
    if result.digest is None:
        raise TransferFailed("push", f"{result.reference}: the stream ended without a digest", result)
    return result


def pull_image(engine: Engine, name: str, *, quiet: bool = False) -> PullResult:
    """`docker pull NAME[:TAG|@DIGEST]`."""
    ref = parse_reference(name)
    tag = ref.digest or ref.tag or "latest"

    def start(auth: dict[str, str]) -> Any:
        return engine.pull_stream(ref.repository, tag, auth)

    result = _transfer(engine, "pull", ref, tag, start, quiet, PullResult)
    assert isinstance(result, PullResult)
    return result


# ---------------------------------------------------------------- the parser tree


class _NoPassword(argparse.Action):
    """`-p`/`--password`/`--password-stdin` are refused: a password in a cell is kept forever."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("nargs", 0 if "stdin" in kwargs.get("option_strings", [""])[0] else "?")
        super().__init__(*args, **kwargs)

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: str | None = None) -> None:
        if option_string == "--password-stdin":
            raise UsageError("--password-stdin is not supported: a notebook cell has no stdin; run "
                             "%docker login [-u USER] [REGISTRY] and type the password at the hidden prompt",
                             "%docker login")
        raise UsageError(f"{option_string} is not supported: a password written in a cell stays in the "
                         "notebook and in the kernel's history; run %docker login [-u USER] [REGISTRY] and "
                         "type it at the hidden prompt", "%docker login")



def register(sub: Any, image_sub: Any) -> None:
    """`push`, `pull`, `login`, `logout`, and `image push` / `image pull`."""
    for parent, prefix in ((sub, "%docker"), (image_sub, "%docker image")):
        p = cli.add_command(parent, "push", _run_push, "Upload an image to a registry",
                            prog=f"{prefix} push")
        p.add_argument("-a", "--all-tags", action="store_true",
                       help="Push all tagged images in the repository (NAME without a tag)")
        p.add_argument("-q", "--quiet", action="store_true", help="Suppress the progress output")
        p.add_argument("name", metavar="NAME[:TAG]")
        p = cli.add_command(parent, "pull", _run_pull, "Download an image from a registry",
                            prog=f"{prefix} pull")
        p.add_argument("-q", "--quiet", action="store_true", help="Suppress the progress output")
        p.add_argument("name", metavar="NAME[:TAG|@DIGEST]")
    p = cli.add_command(sub, "login", _run_login,
                        "Log in to a registry: the password is asked at a hidden prompt (there is no "
                        "-p/--password) and kept in memory for this kernel only")
    p.add_argument("-u", "--username", help="Username")
    # Refused with an explanation, and left out of the usage: a password never belongs in a cell.
    p.add_argument("-p", "--password", action=_NoPassword, help=argparse.SUPPRESS)
    p.add_argument("--password-stdin", action=_NoPassword, help=argparse.SUPPRESS)
    p.add_argument("server", nargs="?", metavar="SERVER", help="Registry (default: Docker Hub)")
    p = cli.add_command(sub, "logout", _run_logout, "Forget the credentials that login kept in this kernel")
    p.add_argument("server", nargs="?", metavar="SERVER", help="Registry (default: Docker Hub)")


def _run_push(session: cli.Session, a: argparse.Namespace) -> Any:
    return push_image(session.engine, a.name, quiet=a.quiet, all_tags=a.all_tags)


def _run_pull(session: cli.Session, a: argparse.Namespace) -> Any:
    return pull_image(session.engine, a.name, quiet=a.quiet)


def _run_login(session: cli.Session, a: argparse.Namespace) -> Any:
    return login(session.engine, a.server, a.username)


def _run_logout(session: cli.Session, a: argparse.Namespace) -> Any:
    return logout(a.server)
