"""Image archives read in one streaming pass: our own tar header reader, no layer held in memory.

Python's `tarfile` in stream mode spends about 27 µs per member before reading any content, which
alone is slower than dive's whole run (DESIGN.md, "Image archives and dive"). So the 512-byte
ustar/pax/GNU headers are read here, straight from buffered chunks, and each file's content is
only run through `zlib.crc32` (3 GB/s): dive's numbers need sizes, and "modified or identical?"
needs one comparison of content, not a cryptographic digest.

Three archive shapes arrive in different orders: the legacy docker-archive (`<id>/layer.tar`,
`manifest.json` at the end), Docker 25+ saves (OCI `blobs/sha256/…` plus `manifest.json`) and pure
OCI layouts (`index.json` last). So every layer is summarised as it passes, small JSON members are
kept, and the order is resolved at the end.
"""
from __future__ import annotations

import json
import os
import posixpath
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from nbdocker.errors import NbDockerError

BLOCK = 512
CHUNK = 1 << 20
ZERO_BLOCK = bytes(BLOCK)
JSON_LIMIT = 16 << 20  # configs, manifests, indexes: larger members are not metadata
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"

# Entry kinds, from the tar type flag.
FILE, DIR, SYMLINK, HARDLINK, OTHER = "file", "dir", "symlink", "hardlink", "other"
_KINDS = {48: FILE, 0: FILE, 55: FILE, 53: DIR, 50: SYMLINK, 49: HARDLINK, 51: "char", 52: "block",
          54: "fifo"}


class ArchiveError(NbDockerError):
    """An archive that cannot be read as an image (truncated, corrupt, not an image, missing layer)."""

    prefix = "image archive"


@dataclass(slots=True)
class Entry:
    """One tar entry of a layer: a path with what the layer wrote there."""

    path: str  # "/etc/passwd": absolute, never resolved (".." stays text)
    kind: str
    size: int
    mode: int
    uid: int
    gid: int
    link: str = ""  # symlink or hardlink target, as written (never followed)
    crc: int = 0  # crc32 of the content (files only)
    offset: int = -1  # ≥ 0: the content's offset in the archive file, its crc not read yet

    def same_as(self, other: Entry, content: Callable[[Entry], int] | None = None) -> bool:
        """Same kind, content and metadata (mtime aside: a rewrite with the same bytes is the same).

        Content is compared last, and only then read (`content`) when it was skipped in the pass.
        """
        if not (self.kind == other.kind and self.size == other.size and self.mode == other.mode
                and self.uid == other.uid and self.gid == other.gid and self.link == other.link):
            return False
        if content is not None and (self.offset >= 0 or other.offset >= 0):
            return content(self) == content(other)
        return self.crc == other.crc


@dataclass
class LayerFiles:
    """What one layer tar holds: entries, whiteouts (paths it removes) and opaque directories."""

    name: str
    entries: list[Entry] = field(default_factory=list)
    whiteouts: list[str] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)
    marks: list[Entry] = field(default_factory=list)  # the whiteout entries as written (dive lists them)
    compressed_size: int = 0
    compression: str = "none"


@dataclass
class Archive:
    """An image read from an archive: its layers in order, its config, and where they came from."""

    layers: list[LayerFiles]
    config: dict[str, Any]
    config_name: str
    tags: list[str]
    layer_ids: list[str]
    format: str  # "docker-archive", "docker-archive+oci", "oci"


# ---------------------------------------------------------------- buffered byte stream


class Stream:
    """Bytes from `read(n)` with a buffer: exact takes, CRCs and skips, counting what was consumed."""

    __slots__ = ("_read", "_buf", "_view", "_pos", "_base", "_seek", "chunk")

    def __init__(self, read: Callable[[int], bytes], seek: Callable[[int], Any] | None = None,
                 chunk: int = CHUNK) -> None:
        self._read, self._seek, self.chunk = read, seek, chunk
        self._buf, self._view, self._pos, self._base = b"", memoryview(b""), 0, 0

    @property
    def consumed(self) -> int:
        """Bytes taken so far."""
        return self._base + self._pos

    def _fill(self, n: int) -> bool:
        """Make `n` bytes available at the position; False when the source ends first."""
        rest = self._buf[self._pos:]
        parts, have = [rest], len(rest)
        while have < n:
            data = self._read(max(self.chunk, n - have))
            if not data:
                break
            parts.append(data)
            have += len(data)
        self._base += self._pos
        self._buf = b"".join(parts) if len(parts) > 1 else rest
        self._view, self._pos = memoryview(self._buf), 0
        return have >= n

    def take(self, n: int) -> bytes:
        """The next `n` bytes; ArchiveError when the source ends before."""
        pos = self._pos
        end = pos + n
        if end > len(self._buf):
            if not self._fill(n):
                raise ArchiveError("the archive is truncated (it ends in the middle of an entry)")
            pos, end = 0, n
        self._pos = end
        return self._buf[pos:end]

    def at_end(self) -> bool:
        """True when nothing is left."""
        return self._pos >= len(self._buf) and not self._fill(1)

    def peek(self, n: int) -> bytes:
        """Up to `n` next bytes, not consumed."""
        if self._pos + n > len(self._buf):
            self._fill(n)
        return self._buf[self._pos:self._pos + n]

    def crc(self, n: int, padded: int) -> int:
        """crc32 of the next `n` bytes, then skip to `padded` bytes in all; never holds more than a chunk."""
        value = 0
        left = padded
        while left:
            if self._pos >= len(self._buf) and not self._fill(min(left, CHUNK)):
                raise ArchiveError("the archive is truncated (it ends in the middle of a file)")
            step = min(left, len(self._buf) - self._pos)
            if n > 0:
                value = zlib.crc32(self._view[self._pos:self._pos + min(step, n)], value)
                n -= step
            self._pos += step
            left -= step
        return value

    def read_some(self, n: int) -> bytes:
        """At most `n` bytes: buffered ones first, else straight from the source (no second copy)."""
        if self._pos < len(self._buf):
            data = self._buf[self._pos:self._pos + n]
            self._pos += len(data)
            return data
        data = self._read(n)
        self._base += len(data)
        return data

    def skip(self, n: int) -> None:
        """Consume `n` bytes; seeks when the source can."""
        step = min(n, len(self._buf) - self._pos)
        self._pos += step
        n -= step
        if n and self._seek is not None:
            self._seek(n)
            self._base += n
            return
        while n:
            data = self._read(min(n, CHUNK))
            if not data:
                raise ArchiveError("the archive is truncated (it ends in the middle of an entry)")
            self._base += len(data)
            n -= len(data)


# ---------------------------------------------------------------- tar headers


@dataclass(slots=True)
class Header:
    """A tar member's header, with pax / GNU long names applied."""

    name: str
    type: int
    size: int
    mode: int
    uid: int
    gid: int
    link: str


def _number(field: bytes) -> int:
    if field and field[0] & 0x80:  # base-256 (GNU) for large values
        return int.from_bytes(field[1:], "big")
    text = field.split(b"\0", 1)[0].strip()
    return int(text, 8) if text else 0


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _checksum_ok(block: bytes) -> bool:
    try:
        stored = _number(block[148:156])
    except ValueError:
        return False
    return stored == sum(block[:148]) + 256 + sum(block[156:])


def _pax(data: bytes) -> dict[str, str]:
    """Records `LEN key=value\\n` of a pax extended header."""
    out, pos = {}, 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        length = int(data[pos:space])
        if length <= 0:
            break
        key, _, value = data[space + 1:pos + length - 1].partition(b"=")
        out[_text(key)] = _text(value)
        pos += length
    return out


def headers(stream: Stream, verify: int = 1) -> Any:
    """Each member's Header, for the caller to consume its `size` bytes (padded) before the next.

    The first `verify` headers have their checksum checked (a file that is not a tar fails at
    once); later ones are trusted for speed, and a garbled number still fails to parse.
    """
    pax: dict[str, str] = {}
    glob: dict[str, str] = {}
    long_name = long_link = None
    checked = 0
    while True:
        if stream.at_end():
            return  # no end-of-archive blocks: some writers stop right after the last member
        block = stream.take(BLOCK)
        if block == ZERO_BLOCK:
            return
        if checked < verify:
            if not _checksum_ok(block):
                raise ArchiveError("not a tar archive (bad header checksum)")
            checked += 1
        try:
            size = _number(block[124:136])
            mode, uid, gid = _number(block[100:108]), _number(block[108:116]), _number(block[116:124])
        except ValueError:
            raise ArchiveError("the archive is corrupt (a tar header does not parse)") from None
        kind = block[156]
        padded = (size + BLOCK - 1) & ~(BLOCK - 1)
        if kind in (120, 103, 76, 75):  # x, g: pax records; L, K: GNU long name / link
            data = stream.take(padded)[:size]
            if kind == 120:
                pax = _pax(data)
            elif kind == 103:
                glob.update(_pax(data))
            elif kind == 76:
                long_name = _text(data.split(b"\0", 1)[0])
            else:
                long_link = _text(data.split(b"\0", 1)[0])
            continue
        name = block[:100].split(b"\0", 1)[0]
        if block[257:263] == b"ustar\0" and block[345]:
            name = block[345:500].split(b"\0", 1)[0] + b"/" + name
        header = Header(long_name or _text(name), kind, size, mode, uid, gid,
                        long_link or _text(block[157:257].split(b"\0", 1)[0]))
        if pax or glob:
            _apply_pax(header, {**glob, **pax})
            pax = {}
        long_name = long_link = None
        yield header


def _apply_pax(header: Header, records: dict[str, str]) -> None:
    if "path" in records:
        header.name = records["path"]
    if "linkpath" in records:
        header.link = records["linkpath"]
    for key in ("size", "uid", "gid"):
        if key in records:
            setattr(header, key, int(records[key]))


def clean_path(name: str) -> str:
    """A member name as an absolute path: `./a/b/` → `/a/b`; `..` is kept as text, never resolved."""
    while name.startswith("./"):
        name = name[2:]
    name = name.strip("/")
    return "/" + name if name not in ("", ".") else "/"


# ---------------------------------------------------------------- one layer


def read_layer(stream: Stream, name: str, base: int | None = None) -> LayerFiles:
    """Summarise one layer tar: entries, whiteouts, opaque directories.

    With `base` (the layer's offset in a seekable archive file) file contents are skipped, their
    offsets kept: only a path rewritten with the same size and metadata needs its bytes compared,
    later. Else each content is run through crc32 as it passes.
    """
    layer = LayerFiles(name)
    entries, kinds, take, lazy = layer.entries, _KINDS, stream.take, base is not None
    extra: dict[str, Any] = {}
    while not stream.at_end():
        block = take(BLOCK)
        if block[0] == 0 and block == ZERO_BLOCK:
            break
        try:  # the usual octal fields, NUL-terminated; anything else takes the careful path
            size, mode = int(block[124:135], 8), int(block[100:107], 8)
            uid, gid = int(block[108:115], 8), int(block[116:123], 8)
        except ValueError:
            size, mode, uid, gid = _numbers(block)
        kind_flag = block[156]
        padded = (size + 511) & ~511
        if kind_flag in (120, 103, 76, 75):
            _extended(kind_flag, stream.take(padded)[:size], extra)
            continue
        raw = block[:100]
        cut = raw.find(0)
        if cut >= 0:
            raw = raw[:cut]
        if block[345] and block[257:263] == b"ustar\0":
            raw = block[345:500].split(b"\0", 1)[0] + b"/" + raw
        path = raw.decode("utf-8", "surrogateescape")
        link = block[157:257].split(b"\0", 1)[0].decode("utf-8", "surrogateescape") if block[157] else ""
        if extra:
            path, link, size = extra.pop("path", path), extra.pop("linkpath", link), int(extra.pop("size", size))
            padded = (size + 511) & ~511
            extra.clear()
        kind = kinds.get(kind_flag, OTHER)
        offset, crc = -1, 0
        if padded:
            if lazy and kind == FILE:
                offset = base + stream.consumed  # type: ignore[operator]
                stream.skip(padded)
            else:
                crc = stream.crc(size, padded)
        path = "/" + path.strip("/") if path[:1] != "." else clean_path(path)
        if ".wh." in path:
            if _whiteout(layer, path, Entry(path, kind, size, mode & 0o7777, uid, gid)):
                continue
        if path == "/":
            continue
        if kind == HARDLINK:
            link = clean_path(link)
        entries.append(Entry(path, kind, size, mode & 0o7777, uid, gid, link, crc, offset))
    return layer


def _numbers(block: bytes) -> tuple[int, int, int, int]:
    try:
        return (_number(block[124:136]), _number(block[100:108]), _number(block[108:116]),
                _number(block[116:124]))
    except ValueError:
        raise ArchiveError("the archive is corrupt (a tar header does not parse)") from None


def _extended(flag: int, data: bytes, extra: dict[str, Any]) -> None:
    """pax records (x; g is folded in too) and GNU long names (L) and links (K), for the next entry."""
    if flag in (120, 103):
        records = _pax(data)
        extra.update({k: v for k, v in records.items() if k in ("path", "linkpath", "size")})
    elif flag == 76:
        extra["path"] = _text(data.split(b"\0", 1)[0])
    else:
        extra["linkpath"] = _text(data.split(b"\0", 1)[0])


def _whiteout(layer: LayerFiles, path: str, mark: Entry) -> bool:
    """Record a `.wh.` marker (True), or leave a path that only contains `.wh.` mid-name (False)."""
    parent, _, base = path.rpartition("/")
    if not base.startswith(WHITEOUT):
        return False
    if base == OPAQUE:
        layer.opaque.append(parent or "/")
    else:
        layer.whiteouts.append(f"{parent}/{base[len(WHITEOUT):]}")
        layer.marks.append(mark)
    return True


def content_crc(fd: int) -> Callable[[Entry], int]:
    """Fill in a skipped entry's crc from the archive file (read with pread, a chunk at a time)."""

    def crc(entry: Entry) -> int:
        if entry.offset >= 0:
            value, pos, left = 0, entry.offset, entry.size
            while left:
                data = os.pread(fd, min(left, CHUNK), pos)
                if not data:
                    raise ArchiveError("the archive file changed while it was read")
                value = zlib.crc32(data, value)
                pos += len(data)
                left -= len(data)
            entry.crc, entry.offset = value, -1
        return entry.crc

    return crc


def _bounded(outer: Stream, size: int) -> Callable[[int], bytes]:
    """A reader of exactly the next `size` bytes of `outer` (a member's content)."""
    left = size

    def read(n: int) -> bytes:
        nonlocal left
        if left <= 0:
            return b""
        data = outer.read_some(min(n, left))
        if not data:
            raise ArchiveError("the archive is truncated (it ends inside a layer)")
        left -= len(data)
        return data

    read.left = lambda: left  # type: ignore[attr-defined]
    return read


def _gunzip(source: Callable[[int], bytes]) -> Callable[[int], bytes]:
    """Decompress gzip (members concatenated too), at most a few MB per call: a bomb stays small."""
    state = {"d": zlib.decompressobj(47), "tail": b""}

    def read(n: int) -> bytes:
        while True:
            d = state["d"]
            data = state["tail"] or source(CHUNK)
            state["tail"] = b""
            if not data:
                if not d.eof:
                    raise ArchiveError("a gzip layer is truncated")
                return b""
            try:
                out = d.decompress(data, max(n, CHUNK))
            except zlib.error as err:
                raise ArchiveError(f"a gzip layer is corrupt ({err})") from None
            state["tail"] = d.unconsumed_tail
            if d.eof and d.unused_data:
                state["d"], state["tail"] = zlib.decompressobj(47), d.unused_data
            if out:
                return out

    return read


def _unzstd(source: Callable[[int], bytes]) -> Callable[[int], bytes]:
    try:
        import zstandard
    except ImportError:
        raise ArchiveError("this image has zstd-compressed layers: `pip install zstandard` "
                           "to read them") from None

    class _Raw:
        def read(self, n: int = -1) -> bytes:
            return source(CHUNK if n is None or n < 0 else n)

    reader = zstandard.ZstdDecompressor().stream_reader(_Raw(), read_across_frames=True)

    def read(n: int) -> bytes:
        try:
            return reader.read(n)
        except zstandard.ZstdError as err:
            raise ArchiveError(f"a zstd layer is corrupt ({err})") from None

    return read


def sniff(head: bytes) -> str:
    """What a member holds, from its first bytes: gzip, zstd, tar, json or other."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head[:3] == b"BZh" or head.startswith(b"\xfd7zXZ\0"):
        return "unsupported"
    if len(head) >= 263 and head[257:262] == b"ustar":
        return "tar"
    if len(head) == BLOCK and head == ZERO_BLOCK:
        return "tar"  # an empty layer: only the end-of-archive blocks
    if head.lstrip()[:1] in (b"{", b"["):
        return "json"
    return "other"


class PreadCursor:
    """A layer inside an archive file, read by pread at offsets: a skip reads nothing at all.

    It offers what `read_layer` uses of a Stream (`at_end`, `take`, `skip`, `crc`, `consumed`),
    without a buffer: headers are read one block at a time, contents are stepped over.
    """

    __slots__ = ("fd", "pos", "end")

    def __init__(self, fd: int, start: int, size: int) -> None:
        self.fd, self.pos, self.end = fd, start, start + size

    @property
    def consumed(self) -> int:
        """The absolute offset in the file."""
        return self.pos

    def at_end(self) -> bool:
        """True at the member's end."""
        return self.pos >= self.end

    def take(self, n: int) -> bytes:
        """The next `n` bytes."""
        data = os.pread(self.fd, n, self.pos)
        if len(data) < n or self.pos + n > self.end:
            raise ArchiveError("the archive is truncated (it ends inside a layer)")
        self.pos += n
        return data

    def skip(self, n: int) -> None:
        """Step over `n` bytes."""
        self.pos += n
        if self.pos > self.end:
            raise ArchiveError("the archive is truncated (it ends inside a layer)")

    def crc(self, n: int, padded: int) -> int:
        """crc32 of the next `n` bytes (a chunk at a time), stepping over `padded`."""
        value, pos, left = 0, self.pos, n
        while left:
            data = os.pread(self.fd, min(left, CHUNK), pos)
            if not data:
                raise ArchiveError("the archive is truncated (it ends inside a layer)")
            value = zlib.crc32(data, value)
            pos += len(data)
            left -= len(data)
        self.skip(padded)
        return value


def read_member_layer(outer: Stream, name: str, size: int, compression: str,
                      fd: int | None = None) -> LayerFiles:
    """Read a layer member of `size` bytes from the outer stream; always leaves it at the member's end.

    `fd`: the archive is a file that can be read at offsets; a plain layer is then read by pread,
    its file contents skipped (see `read_layer`).
    """
    if fd is not None and compression == "none":
        start = outer.consumed
        layer = read_layer(PreadCursor(fd, start, size), name, base=0)  # type: ignore[arg-type]
        outer.skip(size)
        layer.compressed_size = size
        return layer
    bounded = _bounded(outer, size)
    source = bounded
    if compression == "gzip":
        source = _gunzip(bounded)
    elif compression == "zstd":
        source = _unzstd(bounded)
    layer = read_layer(Stream(source), name)
    layer.compressed_size, layer.compression = size, compression
    left = bounded.left()  # type: ignore[attr-defined]
    if left:
        outer.skip(left)  # trailing padding after the end-of-archive blocks
    return layer


# ---------------------------------------------------------------- the archive


@dataclass
class _Members:
    """What the pass kept: layers summarised, small JSON members, links between members."""

    layers: dict[str, LayerFiles] = field(default_factory=dict)
    json: dict[str, bytes] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)


def read_archive(fileobj: BinaryIO, image: str | None = None,
                 progress: Callable[[int], None] | None = None) -> Archive:
    """Read an image archive (docker-archive, Docker 25+ or OCI) in one pass; `image` picks a tag."""
    seek, fd = None, None
    if getattr(fileobj, "seekable", lambda: False)():
        seek = lambda n: fileobj.seek(n, 1)  # noqa: E731 - skipping plain data without reading it
        try:
            fd = fileobj.fileno()
        except (AttributeError, OSError, ValueError):  # io.BytesIO: seekable, no descriptor
            fd = None
    outer = Stream(fileobj.read, seek)
    members = _Members()
    try:
        for h in headers(outer, verify=1):
            _read_member(outer, h, members, fd)
            if progress is not None:
                progress(outer.consumed)
    except ArchiveError as err:
        if not members.layers and not members.json and "checksum" in str(err):
            raise ArchiveError("not an image archive (not a tar file)") from None
        raise
    return _resolve(members, image)


def _read_member(outer: Stream, h: Header, members: _Members, fd: int | None) -> None:
    name = clean_path(h.name)[1:]
    padded = (h.size + BLOCK - 1) & ~(BLOCK - 1)
    if h.type in (49, 50):  # the legacy format links repeated layers to their first copy
        target = h.link if h.type == 49 else posixpath.normpath(posixpath.join(posixpath.dirname(name), h.link))
        members.links[name] = clean_path(target)[1:]
        outer.skip(padded)
        return
    if h.type not in (48, 0, 55) or h.size == 0:
        outer.skip(padded)
        return
    kind = sniff(outer.peek(min(h.size, BLOCK)))
    if kind in ("gzip", "zstd", "tar"):
        compression = "none" if kind == "tar" else kind
        members.layers[name] = read_member_layer(outer, name, h.size, compression, fd)
        outer.skip(padded - h.size)
    elif kind == "json" and h.size <= JSON_LIMIT:
        members.json[name] = outer.take(padded)[:h.size]
    elif kind == "unsupported":
        raise ArchiveError(f"{name}: bzip2/xz layers are not supported (gzip, zstd and plain tar are)")
    else:
        outer.skip(padded)


def _json(members: _Members, name: str, what: str) -> Any:
    name = members.links.get(name, name)
    if name not in members.json:
        raise ArchiveError(f"the archive names {what} {name}, which it does not contain")
    try:
        return json.loads(members.json[name])
    except ValueError:
        raise ArchiveError(f"{what} {name} is not valid JSON") from None


def _blob(digest: str) -> str:
    algorithm, _, hexpart = str(digest).partition(":")
    return f"blobs/{algorithm}/{hexpart}"


def _resolve(members: _Members, image: str | None) -> Archive:
    """Order the layers by manifest.json (docker) or index.json → manifest (OCI)."""
    if "manifest.json" in members.json:
        manifest = _json(members, "manifest.json", "the manifest")
        if not isinstance(manifest, list) or not manifest:
            raise ArchiveError("manifest.json lists no image")
        entry = _pick(manifest, image, lambda e: e.get("RepoTags") or [])
        layer_names, config_name = list(entry.get("Layers") or []), str(entry.get("Config"))
        tags = list(entry.get("RepoTags") or [])
        fmt = "docker-archive+oci" if "index.json" in members.json else "docker-archive"
    elif "index.json" in members.json:
        manifest, tags = _oci_manifest(members, image)
        config_name = _blob(manifest.get("config", {}).get("digest", ""))
        layer_names = [_blob(layer.get("digest", "")) for layer in manifest.get("layers") or []]
        fmt = "oci"
    else:
        raise ArchiveError("not an image archive (no manifest.json or index.json)")
    config = _json(members, config_name, "the image config")
    layers = []
    for layer_name in layer_names:
        resolved = members.links.get(layer_name, layer_name)
        if resolved not in members.layers:
            raise ArchiveError(f"the manifest names layer {layer_name}, which the archive does not contain")
        layers.append(members.layers[resolved])
    ids = [n.split("/")[0] if n.endswith("/layer.tar") else n.rsplit("/", 1)[-1] for n in layer_names]
    return Archive(layers, config, config_name, tags, ids, fmt)


def _pick(entries: list[Any], image: str | None, names: Callable[[Any], list[str]]) -> Any:
    if image is None:
        return entries[0]
    for entry in entries:
        if image in names(entry) or f"{image}:latest" in names(entry):
            return entry
    raise ArchiveError(f"the archive holds no image named {image}")


def _oci_manifest(members: _Members, image: str | None) -> tuple[dict[str, Any], list[str]]:
    """Follow index.json (and nested indexes) to one image manifest."""
    index = _json(members, "index.json", "the index")
    tags: list[str] = []
    for _depth in range(4):
        entries = index.get("manifests") or []
        if not entries:
            raise ArchiveError("index.json lists no manifest")
        names = lambda e: [(e.get("annotations") or {}).get("org.opencontainers.image.ref.name", "")]  # noqa: E731
        entry = _pick(entries, image, names) if _depth == 0 else entries[0]
        ref = (entry.get("annotations") or {}).get("org.opencontainers.image.ref.name")
        tags = tags or ([ref] if ref else [])
        document = _json(members, _blob(entry.get("digest", "")), "the manifest")
        if "layers" in document:
            return document, tags
        index = document
    raise ArchiveError("index.json nests too deep")
