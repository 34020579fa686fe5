"""`%docker save / load / layers` through a real IPython shell against the real engine.

Runtime: about 6 s (one small build, a save, a load).
"""
from __future__ import annotations

import json
import subprocess
import tarfile

import pytest

from nbdocker.errors import NbDockerError

BODY = """FROM busybox
RUN head -c 200000 /dev/zero > /big && echo '<b>' > '/a <img src=x onerror=alert(1)>'
RUN rm /big
CMD ["true"]
"""


@pytest.fixture(scope="module")
def built(ip, api):
    """An image built in this kernel (so its layers know their lines), removed afterwards."""
    import uuid

    tag = f"nbdtest-layerscmd-{uuid.uuid4().hex[:8]}:v1"
    ip.run_line_magic("config", "DockerMagics.display = 'text'")
    ip.run_cell_magic("dockerfile", f"-q -t {tag}", BODY)
    yield tag
    subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)


def test_layers_of_an_image_built_here_names_its_lines(ip, built):
    analysis = ip.run_line_magic("docker", f"layers {built} --out found")
    assert ip.user_ns["found"] is analysis
    assert [l.line for l in analysis.layers] == ["", "2", "3"]
    assert analysis.layers[2].instruction.keyword == "RUN"
    text = str(analysis)
    assert "line 2, line 3" in text  # /big: written by line 2, removed by line 3
    html = analysis._repr_mimebundle_()["text/html"]
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_save_load_and_layers_of_the_archive(ip, built, tmp_path):
    out = tmp_path / "img.tar"
    saved = ip.run_line_magic("docker", f"save -o {out} {built}")
    assert saved.size == out.stat().st_size and [p.name for p in tmp_path.iterdir()] == ["img.tar"]
    with tarfile.open(out) as t:
        assert "manifest.json" in t.getnames()
    loaded = ip.run_line_magic("docker", f"image load -i {out}")
    assert loaded.images == [built]
    analysis = ip.run_line_magic("docker", f"layers --archive {out} --json {tmp_path / 'dive.json'}")
    assert analysis.wasted_bytes == 200000
    written = json.loads((tmp_path / "dive.json").read_text())
    assert written["image"]["inefficientBytes"] == 200000


def test_ci_gate_fails_the_cell_with_one_line_naming_rules(ip, built, tmp_path, monkeypatch):
    with pytest.raises(NbDockerError) as err:
        ip.run_line_magic("docker", f"layers {built} --ci")
    lines = err.value._render_traceback_()
    assert len(lines) == 1 and "highestUserWastedPercent" in lines[0]
    passed = ip.run_line_magic("docker", f"layers {built} --ci --highestUserWastedPercent disabled "
                                         "--lowest-efficiency 0.1")
    assert "CI rules: PASS" in passed.notes
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".dive-ci").write_text("rules:\n  lowestEfficiency: 0.1\n  highestUserWastedPercent: 0.99\n"
                                       "  highestWastedBytes: 1KB\n")
    with pytest.raises(NbDockerError, match="highestWastedBytes"):
        ip.run_line_magic("docker", f"layers {built} --ci")


def test_bad_input_is_one_line_and_leaves_nothing(ip, api, tmp_path):
    out = tmp_path / "never.tar"
    for line in (f"save -o {out} nbdtest-missing-image:none", "save busybox", "load",
                 f"load -i {tmp_path / 'none.tar'}", "layers", "layers busybox --archive x.tar",
                 "layers nbdtest-missing-image:none", f"layers --archive {tmp_path / 'none.tar'}"):
        with pytest.raises(NbDockerError) as err:
            ip.run_line_magic("docker", line)
        assert len(err.value._render_traceback_()) == 1, line
    assert list(tmp_path.iterdir()) == []
    junk = tmp_path / "junk.tar"
    with tarfile.open(junk, "w") as t:
        t.add(__file__, "x.py")
    with pytest.raises(NbDockerError) as err:
        ip.run_line_magic("docker", f"load -i {junk}")
    assert len(err.value._render_traceback_()) == 1
    assert ip.run_line_magic("docker", "images -q busybox")  # the kernel is still usable
