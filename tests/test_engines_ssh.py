"""The local engine over SSH: `ssh://root@127.0.0.1:22220` to an sshd started by
`scripts/engine.sh ssh` (a key made by the script), through docker-py's paramiko transport, which
runs `docker system dial-stdio` on the far side. Status, builds on both builders, run and
interrupt work as over the socket; an unknown host key is one line.

paramiko reads `~/.ssh/config` (for the key) and `~/.ssh/known_hosts` (the host key must be known:
docker-py rejects unknown hosts), so the tests point HOME at a folder holding the script's copies,
as a user's own ~/.ssh would.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_engines_legs import assert_interrupt_stops_and_removes, prune_cache_of, start_leg, stop_leg

import nbdocker
from nbdocker.errors import EngineUnavailable

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def ssh_leg():
    pytest.importorskip("paramiko", reason="docker[ssh] (paramiko) is needed for ssh:// engines")
    leg = start_leg("ssh")
    leg.url, leg.state = leg.words[0], Path(leg.words[1])
    yield leg
    stop_leg(leg)


@pytest.fixture
def on_ssh(ip, ssh_leg, tmp_path, monkeypatch):
    ip.run_line_magic("config", "DockerMagics.timeout = 30")  # a loaded CI machine is slow, not stalled
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    shutil.copy(ssh_leg.state / "ssh_config", home / ".ssh" / "config")
    shutil.copy(ssh_leg.state / "known_hosts", home / ".ssh" / "known_hosts")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("DOCKER_HOST", ssh_leg.url)
    ssh_leg.home = home
    return ssh_leg


def test_commands_and_status_over_ssh(ip, on_ssh, api):
    busybox = api.inspect_image("busybox:latest")["Id"]
    assert ip.run_line_magic("docker", "images -q busybox") == [busybox.split(":")[1][:12]]
    found = nbdocker.status()
    assert found.reachable and found.security == "SSH" and on_ssh.url in str(found)


@pytest.mark.parametrize("builder", ["buildkit", "classic"])
def test_builds_over_ssh(ip, on_ssh, api, unique, builder):
    tag = f"{unique}:ssh"
    try:
        result = ip.run_cell_magic("dockerfile", f"--builder {builder} -q -t {tag}",
                                   f"FROM busybox\nRUN echo {unique} > /f\nCMD [\"cat\", \"/f\"]\n")
        assert result.ok and api.inspect_image(tag)["Id"] == result.image_id
    finally:
        api.remove_image(tag, force=True)
        prune_cache_of(api, unique)


def test_run_and_interrupt_over_ssh(ip, on_ssh, api, unique):
    run = ip.run_line_magic("docker", f"run --rm --name {unique} busybox echo over-ssh")
    assert run.stdout == "over-ssh\n"

    assert_interrupt_stops_and_removes(ip, api, f"{unique}-2")


def test_an_unknown_host_key_is_one_line(ip, on_ssh):
    (on_ssh.home / ".ssh" / "known_hosts").write_text("")
    ip.run_line_magic("config", f"DockerMagics.base_url = '{on_ssh.url}'")  # a new client, not a pooled one
    with pytest.raises(EngineUnavailable) as info:
        ip.run_line_magic("docker", "images")
    (line,) = info.value._render_traceback_()
    assert on_ssh.url in line and "known_hosts" in line and "\n" not in line

