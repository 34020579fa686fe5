"""Engine operations for image archives: `GET /images/get` streamed out, `POST /images/load` in.

Both stream: the kernel holds one chunk at a time, whatever the image's size. No timeout on the
transfer itself (a large save is silent between chunks for seconds); the connection itself and
the first answer are bounded by the engine's metadata timeout.
"""
from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any, BinaryIO

from nbdocker.engine.client import Engine

CHUNK = 1 << 20


def save_chunks(engine: Engine, names: list[str]) -> Iterator[bytes]:
    """The tar of `docker save NAME…`, chunk by chunk; the response is closed when iteration ends."""
    api = engine.sdk
    with engine.translated(f"save {' '.join(names)}"):
        response = api._get(api._url("/images/get"), params={"names": names}, stream=True, timeout=None)
        api._raise_for_status(response)
    try:
        with engine.translated("save stream"):
            yield from response.iter_content(CHUNK)
    finally:
        Engine.cancel_stream(response)


def load_archive(engine: Engine, fileobj: BinaryIO, quiet: bool = True) -> list[dict[str, Any]]:
    """`docker load -i FILE`: sends the file as it is read; the engine's messages, decoded.

    An in-band error (a tar that is not an image) arrives as `{"errorDetail": …}` in a 200 answer;
    it is returned with the rest for the caller to raise.
    """
    api = engine.sdk
    with engine.translated("load"):
        response = api._post(api._url("/images/load"), data=fileobj, params={"quiet": quiet},
                             stream=True, timeout=None,
                             headers={"Content-Type": "application/x-tar"})
        api._raise_for_status(response)
    messages = []
    try:
        with engine.translated("load stream"):
            for raw in response.iter_lines():
                if raw.strip():
                    with contextlib.suppress(ValueError):
                        messages.append(json.loads(raw))
    finally:
        response.close()
    return messages

