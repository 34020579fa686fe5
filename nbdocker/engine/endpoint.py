"""Where the engine is and why it cannot be reached: endpoints, TLS settings, transport reasons.

Reads settings and files only; never contacts the engine.
"""
from __future__ import annotations

import contextlib
import os
from typing import Any

import docker
import requests.exceptions
import urllib3.exceptions

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


def transport_reason(err: BaseException, timeout: float) -> str:
    """The root cause of a connection failure, in a few words."""
    chain: list[BaseException] = []
    pending: list[BaseException | None] = [err]
    while pending:
        cause = pending.pop(0)
        if cause is None or any(cause is seen for seen in chain):
            continue
        chain.append(cause)
        pending += [cause.__cause__ or cause.__context__, getattr(cause, "reason", None)]
    # The OS error decides: urllib3's NewConnectionError ("connection refused") is a subclass of its
    # ConnectTimeoutError, so a timeout higher up the chain must not win over what lies beneath.
    for kind, reason in ((FileNotFoundError, "no socket there (file not found)"),
                         (PermissionError, "permission denied on the socket"),
                         (ConnectionRefusedError, "connection refused")):
        if any(isinstance(cause, kind) for cause in chain):
            return reason
    timeouts = (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)
    if any(isinstance(cause, timeouts) and not isinstance(cause, urllib3.exceptions.NewConnectionError)
           for cause in chain):
        return f"no answer within {timeout:g} s"
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
