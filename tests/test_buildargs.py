"""Secret build args stay out of what nbdocker displays (pure)."""
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
