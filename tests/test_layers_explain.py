"""`explain(build, analysis)`: what each Dockerfile line made, and the learner's trap, in words.

Runtime: about 3 s (one small build in a real shell, against the real engine).
"""
from __future__ import annotations

import subprocess
import uuid

import pytest

from nbdocker.layers.explain import explain

BODY = """FROM busybox
RUN head -c 5000000 /dev/zero > /data.bin && echo hi > /hello
RUN rm /data.bin
ENV GREETING=hi
RUN echo hi > /hello
CMD ["cat", "/hello"]
"""


@pytest.fixture(scope="module")
def made(ip, api):
    tag = f"nbdtest-explain-{uuid.uuid4().hex[:8]}:v1"
    ip.run_line_magic("config", "DockerMagics.display = 'text'")
    ip.run_cell_magic("dockerfile", f"-q -t {tag} --out explained_build", BODY)
    analysis = ip.run_line_magic("docker", f"layers {tag}")
    yield ip.user_ns["explained_build"], analysis
    subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)


def test_each_line_says_what_it_made(made):
    build, analysis = made
    result = explain(build, analysis)
    by_line = {s.line: s for s in result.steps}
    assert by_line["1"].made.startswith("the base image: 1 layer")
    assert "a layer of 5MB adding 2 files (/data.bin 5MB, /hello 3B)" in by_line["2"].made
    assert "removing 1 file (/data.bin)" in by_line["3"].made
    assert by_line["4"].made == "a config change: sets environment variables"
    assert by_line["6"].made == "a config change: sets the command a container runs by default"


def test_names_the_classic_trap_and_the_identical_rewrite(made):
    build, analysis = made
    result = explain(build, analysis)
    by_line = {s.line: s for s in result.steps}
    assert by_line["3"].trap.startswith("this freed nothing: 5MB written by line 2 are still in the image's layers")
    assert by_line["5"].trap == "1 file rewritten with the same bytes: 3B stored a second time."
    assert not by_line["2"].trap
    text = str(result)
    assert "! this freed nothing" in text and "line 3: RUN rm /data.bin" in text


def test_a_rebuild_says_cache_hit(ip, made):
    build, analysis = made
    ip.run_cell_magic("dockerfile", f"-q -t {build.tags[0]} --out rebuilt", BODY)
    result = explain(ip.user_ns["rebuilt"], analysis)
    assert {s.line for s in result.steps if s.made.startswith("a cache hit")} >= {"2", "3", "5"}


def test_explain_build_reads_the_image_and_ties_lines(ip, made):
    from nbdocker.layers.command import explain_build

    build, _ = made
    magics = ip.magics_manager.registry["DockerMagics"]
    result = explain_build(magics.session, build)
    assert any(s.trap.startswith("this freed nothing: 5MB written by line 2") for s in result.steps)
