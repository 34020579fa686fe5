"""Image references checked as the engine checks them (distribution/reference grammar), pure.

The engine answers a bad reference with "invalid reference format"; we say what is wrong with it
before anything is sent: an uppercase repository, an empty name, a bad tag, a bad digest.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from nbdocker.errors import InvalidReference

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = re.compile(rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*\Z")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
# A bracketed IPv6 host is refused by Engine 20.10 and accepted by newer engines: we accept it
# (the engine in front of us still answers "invalid reference format"; we must not block newer ones).
_DOMAIN = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?\Z"
)
# Go's \w is ASCII-only: without re.ASCII, Python's would let "tÄg" through.
_TAG = re.compile(r"\w[\w.-]{0,127}\Z", re.ASCII)
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}\Z")
# go-digest then checks the algorithm and the exact length of lowercase hex.
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}
_ID = re.compile(r"(?:sha256:)?[0-9a-f]{1,64}\Z")
_FULL_ID = re.compile(r"[0-9a-f]{64}\Z")
NAME_MAX = 255


@dataclass(frozen=True)
class Reference:
    """A parsed image reference: [domain/]path[:tag][@digest]."""

    domain: str | None
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def repository(self) -> str:
        """The repository name as the engine stores it (domain included when given)."""
        return f"{self.domain}/{self.path}" if self.domain else self.path

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_reference(text: str, *, allow_digest: bool = True) -> Reference:
    """Parse `text` as the engine would, or raise InvalidReference saying what is wrong."""
    if not text or not text.strip():
        raise InvalidReference("the image name is empty")
    if text != text.strip() or any(c.isspace() for c in text):
        raise InvalidReference(f"{text!r} contains white space")
    if _FULL_ID.match(text):
        raise InvalidReference(f"{text!r} is an image id, not a name (64 hex digits cannot be a name)")
    name, at, digest = text.partition("@")
    if at:
        if not allow_digest:
            raise InvalidReference(f"{text!r}: a digest (@…) cannot be used here")
        algorithm, _, hex_part = digest.partition(":")
        if not _DIGEST.match(digest) or len(hex_part) != _DIGEST_HEX_LENGTH.get(algorithm) \
                or hex_part != hex_part.lower():
            raise InvalidReference(
                f"{text!r}: {digest!r} is not a digest (expected sha256: and 64 lowercase hex digits)"
            )
    tag = None
    last = name.rfind(":")
    if last > name.rfind("/"):  # a colon after the last slash starts the tag, not a port
        name, tag = name[:last], name[last + 1 :]
        if not _TAG.match(tag):
            raise InvalidReference(
                f"{text!r}: tag {tag!r} may hold only letters, digits, '_', '.' and '-' "
                "(not first), up to 128 characters"
            )
    if not name:
        raise InvalidReference(f"{text!r} has no repository name")
    domain, path = _split_domain(name)
    if domain is not None and not _DOMAIN.match(domain):
        raise InvalidReference(f"{text!r}: {domain!r} is not a registry host[:port]")
    if path != path.lower():
        # `My/App`: newer engines read `My` as a registry host, but the user most likely meant my/app
        host_like = domain is not None and (any(c in domain for c in ".:") or domain == "localhost")
        suggestion = f"{domain}/{path.lower()}" if host_like else name.lower()
        raise InvalidReference(f"{text!r}: repository name must be lowercase (try {suggestion!r})")
    for component in path.split("/"):
        if not _PATH_COMPONENT.match(component):
            raise InvalidReference(
                f"{text!r}: {component!r} is not a valid name part (lowercase letters, digits, "
                "and single '.', '_', '__' or '-' between them)"
            )
    if len(name) > NAME_MAX:
        raise InvalidReference(f"{text!r}: repository name longer than {NAME_MAX} characters")
    return Reference(domain, path, tag, digest or None)


def _split_domain(name: str) -> tuple[str | None, str]:
    """Split a registry prefix off as the engine does: it has a '.', a ':' or is localhost."""
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        return first, rest
    return None, name


def looks_like_id(text: str) -> bool:
    """An image id or id prefix (`3f1a…`, `sha256:3f1a…`)."""
    return bool(_ID.match(text))


def check_image_argument(text: str) -> str:
    """An argument naming an existing image: an id (prefix) or a valid reference."""
    if looks_like_id(text):
        return text
    parse_reference(text)
    return text


def split_repository_tag(text: str) -> tuple[str, str | None]:
    """(repository, tag) for the engine's tag/push/pull calls; tag None when absent."""
    ref = parse_reference(text)
    if ref.digest:
        return ref.repository, ref.digest
    return ref.repository, ref.tag
