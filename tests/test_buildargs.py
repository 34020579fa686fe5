"""Secret build args stay out of what nbdocker displays (pure)."""
import pytest

from nbdocker.views import render as views
from nbdocker.masking import MASK, is_secret_name, mask_text
from nbdocker.commands.images import History, Layer


def test_secret_names():
    assert all(is_secret_name(n) for n in ("API_TOKEN", "db_password", "SSH_KEY", "client_secret"))
    assert not any(is_secret_name(n) for n in ("VERSION", "NAME", "PORT"))


def test_known_values_with_spaces_are_masked_whole():
    text = "|1 API_TOKEN=open sesame now /bin/sh -c echo"
    assert mask_text(text, {"API_TOKEN": "open sesame now"}) == f"|1 API_TOKEN={MASK} /bin/sh -c echo"
    # without the value known, the secret-looking pair is still masked up to the space
    assert "open" not in mask_text(text)


def test_history_view_masks_secrets_of_builds_in_this_kernel():
    layer = Layer("sha256:" + "a" * 64, 0, "|1 API_TOKEN=open sesame now /bin/sh -c echo hi", 0, "", [])
    history = History("x", [layer], no_trunc=True, secrets={"API_TOKEN": "open sesame now"})
    view = history.view()
    for text in (views.render_text(view), views.render_html(view)):
        assert "sesame" not in text


@pytest.mark.parametrize("name", ["DB_PASS", "GH_PAT", "API_KEY", "sshKey", "AWS_SECRET_ACCESS_KEY"])
def test_secret_names_are_recognised(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["MONKEY", "AUTHOR", "PATH", "KEYBOARD", "PASSENGER", "VERSION"])
def test_ordinary_names_are_not_secrets(name):
    assert not is_secret_name(name)


def test_counted_build_args_are_masked_whole_without_knowing_their_values():
    text = "|3 A=1 API_KEY=two words GITHUB_TOKEN=ghp_x /bin/sh -c echo $API_KEY"
    assert mask_text(text) == f"|3 A=1 API_KEY={MASK} GITHUB_TOKEN={MASK} /bin/sh -c echo $API_KEY"
    buildkit = "RUN |2 DB_PASS=a b c X=y /bin/sh -c true # buildkit"
    assert mask_text(buildkit) == f"RUN |2 DB_PASS={MASK} X=y /bin/sh -c true # buildkit"


def test_inspect_json_is_masked_where_build_args_stand():
    from nbdocker.masking import mask_json

    attrs = {"ContainerConfig": {"Cmd": ["|2", "API_KEY=two words", "GITHUB_TOKEN=ghp_x", "/bin/sh", "-c",
                                         "#(nop) CMD"], "Env": ["PATH=/bin", "DB_PASS=a b"]},
             "Comment": "", "Size": 3}
    masked = mask_json(attrs)
    assert masked["ContainerConfig"]["Cmd"][1:3] == [f"API_KEY={MASK}", f"GITHUB_TOKEN={MASK}"]
    assert masked["ContainerConfig"]["Env"] == ["PATH=/bin", f"DB_PASS={MASK}"]
    assert masked["Size"] == 3 and attrs["ContainerConfig"]["Cmd"][1] == "API_KEY=two words"
