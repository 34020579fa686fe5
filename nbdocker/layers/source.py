"""Where an analysis reads its image from: an archive file, or the engine (a streamed save)."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from nbdocker.engine.archives import save_chunks
from nbdocker.engine.client import Engine
from nbdocker.layers.analysis import Analysis, from_archive
from nbdocker.layers.reader import ArchiveError, content_crc, read_archive

Progress = Callable[[int, int | None], None]


class ChunkReader:
    """A file-like `read(n)` over an iterator of byte chunks (the engine's save stream)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks, self._rest = chunks, b""

    def read(self, n: int = -1) -> bytes:
        """Up to `n` bytes; b"" at the end."""
        if not self._rest:
            self._rest = next(self._chunks, b"")
        data, self._rest = self._rest[:n], self._rest[n:]
        return data

    def seekable(self) -> bool:
        """Streams cannot seek."""
        return False


def analyze_archive(path: str | os.PathLike[str], image: str | None = None,
                    progress: Progress | None = None) -> Analysis:
    """Analyse the image in an archive file (`image` picks one when it holds several)."""
    file = Path(path)
    if not file.is_file():
        raise ArchiveError(f"no such archive file: {file}")
    total = file.stat().st_size
    with open(file, "rb") as f:
        archive = read_archive(f, image, (lambda n: progress(n, total)) if progress else None)
        return from_archive(archive, image or str(path), content=content_crc(f.fileno()))


def analyze_image(engine: Engine, image: str, progress: Progress | None = None) -> Analysis:
    """Analyse a local image, streaming the engine's save of it (nothing written to disk)."""
    engine.inspect_image(image)  # a missing image is "No such image: NAME", before any transfer
    chunks = save_chunks(engine, [image])
    try:
        archive = read_archive(ChunkReader(chunks), None,  # type: ignore[arg-type]
                               (lambda n: progress(n, None)) if progress else None)
    finally:
        chunks.close()  # closes the engine's response, also when the reading failed
    return from_archive(archive, image, "engine")


def analyze(image_or_archive: str | os.PathLike[str], engine: Engine | None = None,
            progress: Progress | None = None, **kwargs: Any) -> Analysis:
    """An image name (read from the engine) or an archive path (read from the file): its Analysis."""
    text = os.fspath(image_or_archive)
    if isinstance(image_or_archive, os.PathLike) or os.path.isfile(text):
        return analyze_archive(text, progress=progress, **kwargs)
    return analyze_image(engine or Engine(), text, progress)
