"""The layers explorer's pure cores, without an engine: the tar header reader (ustar, pax, GNU long
names, base-256 sizes), gzip layers (concatenated members too), streams that cannot seek, `..` and
absolute link targets kept as text, dive's rules file, and the escaped static views.

Runtime: under 2 s.
"""
from __future__ import annotations

import gzip
import io
import json
import tarfile

import pytest

from nbdocker.layers.analysis import from_archive
from nbdocker.layers.reader import ArchiveError, read_archive
from nbdocker.layers.render import layers_html, layers_text
from nbdocker.layers.source import ChunkReader
from nbdocker.layers.waste import DiveConfigError, parse_bytes, read_dive_ci


def _layer(members: list[tarfile.TarInfo | tuple[str, bytes]], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                tar.addfile(m)
            else:
                info = tarfile.TarInfo(m[0])
                info.size = len(m[1])
                tar.addfile(info, io.BytesIO(m[1]))
    return out.getvalue()


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def _archive(layers: list[bytes], history: list[str] | None = None) -> bytes:
    """A legacy docker-archive holding the given layer blobs (manifest.json last, as the engine writes)."""
    out = io.BytesIO()
    config = json.dumps({"history": [{"created_by": c} for c in history or []],
                         "rootfs": {"diff_ids": [f"sha256:{i:064x}" for i in range(len(layers))]}}).encode()
    manifest = json.dumps([{"Config": "c.json", "RepoTags": ["t:1"],
                            "Layers": [f"l{i}/layer.tar" for i in range(len(layers))]}]).encode()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in [*((f"l{i}/layer.tar", b) for i, b in enumerate(layers)), ("c.json", config),
                           ("manifest.json", manifest)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _analyse(data: bytes, stream: bool = False):
    source = ChunkReader(iter([data[i:i + 7000] for i in range(0, len(data), 7000)])) if stream else io.BytesIO(data)
    return from_archive(read_archive(source), "test")


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
@pytest.mark.parametrize("stream", [False, True])
def test_long_names_links_and_formats(fmt, stream):
    long = "d/" + "x" * 150 + "/file-ünïcode"
    layer = _layer([(long, b"abc"), _link("d/abs", "/etc/passwd"), _link("d/up", "../../../etc/shadow"),
                    ("../../escape", b"no"), _link("d/hard", long, tarfile.LNKTYPE)], fmt)
    a = _analyse(_archive([layer]), stream)
    tree = {p: e for p, (_, e) in a.tree.items()}
    assert tree["/" + long].size == 3
    assert tree["/d/abs"].link == "/etc/passwd" and tree["/d/up"].link == "../../../etc/shadow"
    assert "/../../escape" in tree  # shown as text, never resolved
    assert tree["/d/hard"].kind == "hardlink" and tree["/d/hard"].link == "/" + long


def test_gzip_layers_and_concatenated_members():
    plain = _layer([("a", b"1" * 1000), ("b", b"2" * 10)])
    blob = gzip.compress(plain[:2048]) + gzip.compress(plain[2048:])
    a = _analyse(_archive([blob]))
    assert a.layers[0].files.compression == "gzip"
    assert {p: e.size for p, (_, e) in a.tree.items()} == {"/a": 1000, "/b": 10}
    with pytest.raises(ArchiveError, match="gzip layer is truncated"):
        _analyse(_archive([blob[: len(blob) - 30]]))


def test_identical_rewrite_and_modified_content_streamed():
    base = _layer([("f", b"same"), ("g", b"old!")])
    upper = _layer([("f", b"same"), ("g", b"new!")])
    for stream in (False, True):
        a = _analyse(_archive([base, upper]), stream)
        actions = {c.path: c.action for c in a.layers[1].changes}
        assert actions == {"/f": "unchanged", "/g": "modified"}


def test_base256_size_field():
    layer = bytearray(_layer([("big", b"z" * 600)], tarfile.USTAR_FORMAT))
    layer[124:136] = b"\x80" + (600).to_bytes(11, "big")  # GNU base-256 size
    header = layer[:512]
    header[148:156] = b" " * 8
    layer[148:156] = f"{sum(header):06o}\0 ".encode()
    a = _analyse(_archive([bytes(layer)]))
    assert a.tree["/big"][1].size == 600


def test_dive_ci_rules_file(tmp_path):
    path = tmp_path / ".dive-ci"
    path.write_text("# dive's CI rules\nrules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20MB\n"
                    "  highestUserWastedPercent: disabled\nother:\n  lowestEfficiency: 0.1\n")
    assert read_dive_ci(path) == {"lowestEfficiency": 0.95, "highestWastedBytes": 20_000_000,
                                  "highestUserWastedPercent": None}
    assert parse_bytes("1.5 MiB") == 1_572_864 and parse_bytes("512") == 512
    path.write_text("rules:\n  lowestEfficency: 0.9\n")
    with pytest.raises(DiveConfigError, match="unknown rule 'lowestEfficency'"):
        read_dive_ci(path)


def test_static_views_escape_every_name_and_command():
    evil = "<img src=x onerror=alert(1)>"
    layer = _layer([(f"d/{evil}", b"x" * 50), _link("d/l", f"{evil}")])
    a = _analyse(_archive([_layer([("d/" + evil, b"y" * 80)]), layer], [f"/bin/sh -c echo {evil}", evil]))
    html = layers_html(a.view())
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    text = layers_text(a.view())
    assert f"/d/{evil}" in text and "wasted space" in text
