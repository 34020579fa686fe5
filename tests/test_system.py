"""`%docker image prune` and `%docker system df`: the rules pure, then on the real engine.

`image prune -f` removes every dangling image of the engine, other engineers' included: every
`-f` here carries `--filter label=<this test's unique label>`, and the tests check that an image
with another label survives. Dangling images made here are removed by the tests themselves.
"""
from __future__ import annotations

import os
import subprocess

import pytest

from conftest import docker_cli
from nbdocker import cli
from nbdocker.magics import COMMANDS
from nbdocker.commands import system
from nbdocker.views import render as views
from nbdocker.errors import UsageError
from nbdocker.commands.system import DiskUsage, PruneReport
from test_views import EVIL, assert_script_free

NOW = 1_700_000_000.0


def image(id_: str, created: float = NOW - 3600, tags=None, digests=None, labels=None, size=1000):
    return {"Id": f"sha256:{id_ * 64}"[:71], "Created": int(created), "RepoTags": tags,
            "RepoDigests": digests, "Labels": labels, "Size": size}


# ---------------------------------------------------------------- prune rules (pure)


def ids(found):
    return [i["Id"][7:8] for i in found]


def test_dangling_only_unless_all():
    images = [image("a"), image("b", tags=["x:1"]), image("c", digests=["x@sha256:" + "0" * 64]),
              image("d", tags=["<none>:<none>"], digests=["<none>@<none>"])]
    assert sorted(ids(system.prune_candidates(images, [], all=False, filters={}, now=NOW))) == ["a", "d"]
    assert sorted(ids(system.prune_candidates(images, [], all=True, filters={}, now=NOW))) == ["a", "b", "c", "d"]


def test_images_a_container_uses_are_kept_even_stopped_ones():
    images = [image("a"), image("b", tags=["x:1"])]
    used = [{"ImageID": images[0]["Id"], "State": "exited"}, {"ImageID": images[1]["Id"], "State": "running"}]
    assert system.prune_candidates(images, used, all=True, filters={}, now=NOW) == []


def test_until_keeps_newer_images():
    images = [image("a", created=NOW - 7200), image("b", created=NOW - 60)]
    assert ids(system.prune_candidates(images, [], all=False, filters={"until": ["1h"]}, now=NOW)) == ["a"]
    assert ids(system.prune_candidates(images, [], all=False, filters={"until": [str(int(NOW - 100))]},
                                       now=NOW)) == ["a"]


def test_label_filters_like_the_engine():
    images = [image("a", labels={"team": "x", "keep": "no"}), image("b", labels={"team": "y"}), image("c")]

    def chosen(**filters):
        return sorted(ids(system.prune_candidates(images, [], all=False, filters=filters, now=NOW)))

    assert chosen(label=["team"]) == ["a", "b"]
    assert chosen(label=["team=x"]) == ["a"]
    assert chosen(label=["team", "keep=no"]) == ["a"]
    assert chosen(**{"label!": ["team=x"]}) == ["b", "c"]
    assert chosen(**{"label!": ["team"]}) == ["c"]


@pytest.mark.parametrize("value, expected", [
    ("24h", NOW - 86400), ("1h30m", NOW - 5400), ("90s", NOW - 90), ("1.5h", NOW - 5400),
    ("1700000000", 1_700_000_000.0), ("2023-11-14", 1_699_920_000.0),
    ("2023-11-14T22:13:20Z", NOW), ("2023-11-14T23:13:20+01:00", NOW),
])
def test_until_values(value, expected):
    assert system.parse_until(value, NOW) == pytest.approx(expected)


def test_bad_filters_are_usage_errors():
    with pytest.raises(UsageError, match="expected a duration"):
        system.parse_until("yesterday", NOW)
    with pytest.raises(UsageError, match="filters by until, label, label!"):
        system.parse_prune_filters(["dangling=false"])
    with pytest.raises(UsageError, match="KEY=VALUE"):
        system.parse_prune_filters(["label"])


def test_prune_flags():
    a = COMMANDS.parser.parse_args(["image", "prune", "-a", "-f", "--filter", "label=x", "--filter", "until=1h"])
    assert a.all and a.force and a.filter == ["label=x", "until=1h"]


def test_the_would_go_list_says_nothing_was_removed_and_escapes():
    report = PruneReport([image("a", labels={"x": EVIL}), image("b", tags=[f"{EVIL}:1"])], all=True)
    text = str(report)
    assert text.splitlines()[-1].endswith("nothing removed: add -f to remove these")
    assert_script_free(views.render_html(report.view()))
    assert "nothing removed" in str(PruneReport([]))


def test_the_removal_report_is_the_cli_text():
    report = PruneReport([], removed=True, deleted=["sha256:1"], untagged=["x:1"], space_reclaimed=1_234_567)
    assert str(report) == "Deleted Images:\nuntagged: x:1\ndeleted: sha256:1\n\nTotal reclaimed space: 1.235MB"
    assert str(PruneReport([], removed=True)) == "Total reclaimed space: 0B"


# ---------------------------------------------------------------- df rows (pure)

DF = {
    "LayersSize": 16_430_000,
    "Images": [
        {"Containers": 1, "Size": 5_000_000, "SharedSize": 1_200_000, "Id": "sha256:a"},
        {"Containers": 0, "Size": 4_000_000, "SharedSize": 1_200_000, "Id": "sha256:b"},
    ],
    "Containers": [{"State": "running", "SizeRw": 100}, {"State": "exited", "SizeRw": 112}],
    "Volumes": [{"UsageData": {"Size": 36, "RefCount": 1}}, {"UsageData": {"Size": 0, "RefCount": 0}}],
    "BuildCache": [{"Size": 1000, "InUse": True, "Shared": False},
                   {"Size": 2_000_000, "InUse": False, "Shared": False},
                   {"Size": 50, "InUse": False, "Shared": True}],
}


def test_df_rows_are_computed_like_the_cli():
    rows = {r["type"]: r for r in system.disk_usage_rows(DF)}
    assert list(rows) == ["Images", "Containers", "Local Volumes", "Build Cache"]
    # reclaimable = LayersSize - (Size - SharedSize of images in use); percent by integer division
    assert (rows["Images"]["total"], rows["Images"]["active"], rows["Images"]["size"],
            rows["Images"]["reclaimable"]) == (2, 1, "16.43MB", "12.63MB (76%)")
    assert (rows["Containers"]["active"], rows["Containers"]["size"], rows["Containers"]["reclaimable"]) == \
        (1, "212B", "112B (52%)")
    assert (rows["Local Volumes"]["active"], rows["Local Volumes"]["reclaimable"]) == (1, "0B (0%)")
    assert (rows["Build Cache"]["total"], rows["Build Cache"]["active"], rows["Build Cache"]["size"],
            rows["Build Cache"]["reclaimable"]) == (3, 1, "2.001MB", "2MB")


def test_df_of_an_empty_engine_has_no_percentages():
    rows = system.disk_usage_rows({})
    assert [r["reclaimable"] for r in rows] == ["0B", "0B", "0B", "0B"]


# ---------------------------------------------------------------- the real engine


def build_dangling(label: str, value: str) -> str:
    """A dangling image (built without a tag) with one label; its id. Content is unique."""
    dockerfile = f'FROM busybox\nLABEL {label}="{value}"\nRUN echo $RANDOM {value} > /r\n'
    done = subprocess.run(["docker", "build", "--network", "none", "-q", "-"], input=dockerfile,
                          capture_output=True, text=True, env=dict(os.environ, DOCKER_BUILDKIT="0"),
                          timeout=180)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture
def dangling(api, unique):
    """Two dangling images of this test: labelled `<unique>=go` and `<unique>=stay`."""
    label = f"nbdtest.prune.{unique}"
    made = {"go": build_dangling(label, "go"), "stay": build_dangling(label, "stay")}
    yield label, made
    for image_id in made.values():
        try:
            api.remove_image(image_id, force=True)
        except Exception:  # noqa: BLE001 - pruned by the test
            pass


def _exists(api, image_id: str) -> bool:
    try:
        api.inspect_image(image_id)
        return True
    except Exception:  # noqa: BLE001
        return False


def test_prune_without_f_lists_and_removes_nothing(ip, api, dangling):
    label, made = dangling
    report = ip.run_line_magic("docker", f"image prune --filter label={label}")
    assert isinstance(report, PruneReport) and not report.removed
    assert sorted(report.ids) == sorted(made.values())
    assert "nothing removed: add -f to remove these" in str(report)
    assert all(_exists(api, i) for i in made.values())
    only_go = ip.run_line_magic("docker", f"image prune --filter label={label}=go")
    assert only_go.ids == [made["go"]]
    assert ip.run_line_magic("docker", f"image prune --filter label={label} --filter until=2000-01-01").ids == []


def test_prune_without_a_matches_only_dangling_and_with_a_tagged_ones_too(ip, api, dangling, unique):
    label, made = dangling
    api.tag(made["stay"], unique, "tagged")
    try:
        assert ip.run_line_magic("docker", f"image prune --filter label={label}").ids == [made["go"]]
        every = ip.run_line_magic("docker", f"image prune -a --filter label={label}")
        assert sorted(every.ids) == sorted(made.values())
        assert "unused images" in str(every)
    finally:
        api.remove_image(f"{unique}:tagged")


def test_prune_f_with_a_label_removes_exactly_those(ip, api, dangling):
    label, made = dangling
    listed = ip.run_line_magic("docker", f"image prune --filter label={label}=go")
    report = ip.run_line_magic("docker", f"image prune -f --filter label={label}=go")
    assert report.removed and listed.ids == [made["go"]]
    assert made["go"] in report.deleted  # what was listed is what went
    assert report.space_reclaimed > 0
    assert not _exists(api, made["go"]) and _exists(api, made["stay"])
    assert str(report).startswith("Deleted Images:\n") and "Total reclaimed space: " in str(report)


def test_system_df_renders_like_the_cli(ip, engine):
    r = ip.run_line_magic("docker", "system df")
    assert isinstance(r, DiskUsage)
    assert [row["type"] for row in r.rows] == ["Images", "Containers", "Local Volumes", "Build Cache"]
    text = str(r).splitlines()
    cli_text = docker_cli("system", "df").stdout.splitlines()
    assert text[0].split() == cli_text[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    assert [line[:16].strip() for line in text[1:]] == [line[:16].strip() for line in cli_text[1:]]
    assert r.rows[0]["total"] > 0 and r.data["LayersSize"] == r.rows[0]["size_bytes"]
    assert_script_free(views.render_html(r.view()), data="Images")


def test_rmi_with_a_docker_images_substitution_removes_only_that_repository(ip, api, unique):
    tags = [f"{unique}:one", f"{unique}:two"]
    for tag in tags:  # two different images in our repository
        subprocess.run(["docker", "build", "--network", "none", "-q", "-t", tag, "-"],
                       input=f"FROM busybox\nRUN echo {tag} > /f\n", capture_output=True, text=True,
                       env=dict(os.environ, DOCKER_BUILDKIT="0"), check=True, timeout=180)
    ours = ip.run_line_magic("docker", f"images -q {unique}")
    assert len(ours) == 2
    outcome = ip.run_cell(f"%docker rmi $(docker images -q {unique})")
    assert outcome.success, outcome.error_in_exec
    assert sorted(outcome.result.untagged) == sorted(f"{tag}" for tag in tags)
    assert {d[7:19] for d in outcome.result.deleted} >= set(ours)
    assert ip.run_line_magic("docker", f"images -q {unique}") == []
    assert _exists(api, "busybox:latest")
