"""Image references, checked as the engine checks them: a pure table, then a cross-check on the engine."""
from __future__ import annotations

import pytest

from nbdocker.errors import InvalidReference, NbDockerError
from nbdocker.references import (
    Reference,
    check_image_argument,
    looks_like_id,
    parse_reference,
    split_repository_tag,
)

from conftest import docker_cli

HEX64 = "0123456789abcdef" * 4

# text → (domain, path, tag, digest)
VALID = {
    "busybox": (None, "busybox", None, None),
    "busybox:latest": (None, "busybox", "latest", None),
    "busybox:V1_x.y-z": (None, "busybox", "V1_x.y-z", None),
    "busybox:_ok": (None, "busybox", "_ok", None),
    "busybox:" + "a" * 128: (None, "busybox", "a" * 128, None),
    "library/busybox": (None, "library/busybox", None, None),
    "you/app/sub": (None, "you/app/sub", None, None),
    "a.b": (None, "a.b", None, None),
    "a__b": (None, "a__b", None, None),
    "a--b": (None, "a--b", None, None),
    "a-b_c.d": (None, "a-b_c.d", None, None),
    "ubuntu:22.04": (None, "ubuntu", "22.04", None),
    # a colon after the last slash is a tag, before it a port
    "localhost:5000": (None, "localhost", "5000", None),
    "localhost/app": ("localhost", "app", None, None),
    "localhost:5000/app:1": ("localhost:5000", "app", "1", None),
    "LOCALHOST:5000/app": ("LOCALHOST:5000", "app", None, None),  # hosts are case-insensitive
    "127.0.0.1:5000/app": ("127.0.0.1:5000", "app", None, None),
    "my.reg-1.example.com:443/a/b/app": ("my.reg-1.example.com:443", "a/b/app", None, None),
    # accepted by newer engines (Engine 20.10 refuses them with its own message): not ours to block
    "[::1]:5000/app": ("[::1]:5000", "app", None, None),
    "Registry/app": ("Registry", "app", None, None),
    f"busybox@sha256:{HEX64}": (None, "busybox", None, f"sha256:{HEX64}"),
    f"busybox:1@sha256:{HEX64}": (None, "busybox", "1", f"sha256:{HEX64}"),
    f"busybox@sha512:{HEX64 * 2}": (None, "busybox", None, f"sha512:{HEX64 * 2}"),
    HEX64[:63]: (None, HEX64[:63], None, None),  # 63 hex digits are a name, 64 are an id
    "a/" + "b" * 253: (None, "a/" + "b" * 253, None, None),  # 255 characters
}

# text → a word the message must contain
INVALID = {
    "": "empty",
    "   ": "empty",
    "busybox ": "white space",
    "bu sybox": "white space",
    "Busybox": "lowercase",
    "BUSYBOX:tag": "lowercase",
    "you/App": "lowercase",
    "localhost:5000/App": "lowercase",
    ":tag": "no repository name",
    "busybox:": "tag ''",
    "busybox:-bad": "tag",
    "busybox:.bad": "tag",
    "busybox:a:b": "name part",
    "busybox:tÄg": "tag",  # Go's \w is ASCII
    "busybox:" + "a" * 129: "tag",
    "/busybox": "name part",
    "busybox/": "name part",
    "a//b": "name part",
    "-busybox": "name part",
    "busybox-": "name part",
    "_busybox": "name part",
    "a___b": "name part",
    "a..b": "name part",
    "a._b": "name part",
    "ébusybox": "name part",
    "localhost:abc/app": "registry host",
    "-reg.com/app": "registry host",
    "reg-.com/app": "registry host",
    "busybox@": "not a digest",
    "busybox@sha256:": "not a digest",
    f"busybox@sha256:{HEX64.upper()}": "not a digest",
    f"busybox@sha256:{HEX64[:32]}": "not a digest",
    f"busybox@md5:{HEX64[:32]}": "not a digest",
    f"busybox@{HEX64}": "not a digest",
    HEX64: "image id",
    "b" * 256: "longer than 255",
}


@pytest.mark.parametrize("text", VALID)
def test_valid_references_parse_into_their_parts(text):
    domain, path, tag, digest = VALID[text]
    ref = parse_reference(text)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (domain, path, tag, digest)
    assert str(ref) == text
    assert ref.repository == (f"{domain}/{path}" if domain else path)


@pytest.mark.parametrize("text", INVALID)
def test_invalid_references_say_what_is_wrong(text):
    with pytest.raises(InvalidReference) as info:
        parse_reference(text)
    message = str(info.value)
    assert INVALID[text] in message
    assert "\n" not in message
    # one line, prefixed, through the exception family's renderer
    assert info.value._render_traceback_() == [f"invalid reference: {message}"]
    assert isinstance(info.value, NbDockerError)


def test_a_digest_can_be_refused_where_it_makes_no_sense():
    with pytest.raises(InvalidReference, match="digest"):
        parse_reference(f"busybox@sha256:{HEX64}", allow_digest=False)
    assert parse_reference("busybox:1", allow_digest=False).tag == "1"


def test_uppercase_repository_suggests_the_lowercase_name():
    with pytest.raises(InvalidReference, match="try 'my/app'"):
        parse_reference("My/App:1")
    with pytest.raises(InvalidReference, match="try 'busybox'"):
        parse_reference("BusyBox")
    with pytest.raises(InvalidReference, match="try 'localhost:5000/my/app'"):
        parse_reference("localhost:5000/My/App")


def test_image_arguments_accept_ids_and_id_prefixes():
    for text in (HEX64, f"sha256:{HEX64}", HEX64[:12], "3f1a", "sha256:3f1a"):
        assert looks_like_id(text)
        assert check_image_argument(text) == text
    for text in ("busybox", "busybox:latest", f"busybox@sha256:{HEX64}", "localhost:5000/app"):
        assert not looks_like_id(text)
        assert check_image_argument(text) == text
    assert not looks_like_id(HEX64 + "0")  # too long for an id
    for text in ("Busybox", "busybox:", "", "busybox@"):
        with pytest.raises(InvalidReference):
            check_image_argument(text)


def test_split_repository_tag():
    assert split_repository_tag("busybox") == ("busybox", None)
    assert split_repository_tag("localhost:5000/a/b:2") == ("localhost:5000/a/b", "2")
    assert split_repository_tag(f"busybox@sha256:{HEX64}") == ("busybox", f"sha256:{HEX64}")


def test_reference_is_a_plain_value():
    assert parse_reference("a/b:1") == Reference(None, "a/b", "1")
    assert hash(parse_reference("a/b:1")) == hash(Reference(None, "a/b", "1"))


# ---------------------------------------------------------------- against the real engine


def _cross_check_targets(unique: str) -> list[str]:
    """References for `docker tag busybox REF`, every one under this test's unique name."""
    return [
        unique, f"{unique}:v1", f"{unique}:V1_x.y-z", f"{unique}:_ok", f"{unique}:" + "a" * 128,
        f"localhost/{unique}", f"localhost:5000/{unique}:t", f"127.0.0.1:5000/{unique}",
        f"{unique}--x", f"{unique}__x", f"{unique}.x", f"you/{unique}/sub:1",
        # refused
        unique.upper(), f"{unique}:", f"{unique}:-bad", f"{unique}:.bad", f"{unique}:tÄg",
        f"{unique}:" + "a" * 129, f"{unique}:a:b", f"{unique}/", f"/{unique}", f"a//{unique}",
        f"{unique}-", f"_{unique}", f"{unique}___x", f"{unique}..x", f"localhost:abc/{unique}",
        f"-reg.com/{unique}", f"{unique}@", f"{unique}@sha256:{HEX64}", f"{unique} ",
        f"you/{unique.upper()}",
    ]


def _ours_accepts(text: str, allow_digest: bool = True) -> bool:
    try:
        parse_reference(text, allow_digest=allow_digest)
    except InvalidReference:
        return False
    return True


def test_tag_targets_accepted_exactly_when_the_engine_accepts_them(engine, unique):
    created = []
    disagree = []
    try:
        for ref in _cross_check_targets(unique):
            accepted = docker_cli("tag", "busybox", ref, check=False).returncode == 0
            if accepted:
                created.append(ref)
            if accepted != _ours_accepts(ref, allow_digest=False):
                disagree.append((ref, accepted))
    finally:
        for ref in created:
            docker_cli("rmi", ref, check=False)
    assert not disagree, f"(reference, engine accepted) where we disagree: {disagree}"
    assert len(created) == 12


def test_image_arguments_refused_exactly_when_the_engine_refuses_them(engine, unique):
    """`inspect` answers 404 for a valid name it does not know, 400 for an invalid one."""
    import docker.errors

    refs = [unique, f"{unique}:t", f"{unique}@sha256:{HEX64}", f"{unique}:t@sha256:{HEX64}",
            f"{unique}@sha256:{HEX64.upper()}", f"{unique}@sha256:{HEX64[:32]}",
            f"{unique}@md5:{HEX64[:32]}", f"{unique}@", f"localhost:5000/{unique}", unique.upper(),
            f"{unique}:tÄg", f"{unique}:-x", f"{unique}..x"]
    disagree = []
    for ref in refs:
        with pytest.raises(docker.errors.APIError) as info:
            engine.inspect_image(ref)
        engine_accepts = info.value.status_code == 404
        try:
            check_image_argument(ref)
            ours = True
        except InvalidReference:
            ours = False
        if ours != engine_accepts:
            disagree.append((ref, info.value.status_code, info.value.explanation))
    assert not disagree


def test_names_newer_engines_accept_are_left_to_the_engine(ip, engine, unique):
    """`Registry/app` and `[::1]:5000/app` parse for newer engines; 20.10 says no in one line."""
    version = engine.version()["Version"]
    for ref in (f"Registry/{unique}", f"[::1]:5000/{unique}"):
        assert _ours_accepts(ref)
        try:
            ip.run_line_magic("docker", f"tag busybox {ref}")
        except NbDockerError as err:
            assert version.startswith("20.10"), f"{version} refused {ref}: {err}"
            lines = err._render_traceback_()
            assert len(lines) == 1 and "invalid reference format" in lines[0]
        else:
            docker_cli("rmi", ref, check=False)
