"""Image references checked as the engine checks them (distribution/reference grammar), pure.

The engine answers a bad reference with "invalid reference format"; we say what is wrong with it
before anything is sent: an uppercase repository, an empty name, a bad tag, a bad digest.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidReference

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = re.compile(rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*\Z")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?\Z"
)
_TAG = re.compile(r"[\w][\w.-]{0,127}\Z")
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}\Z")
_ID = re.compile(r"(?:sha256:)?[0-9a-f]{1,64}\Z")
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
    name, _, digest = text.partition("@")
    if digest:
        if not allow_digest:
            raise InvalidReference(f"{text!r}: a digest (@…) cannot be used here")
        if not _DIGEST.match(digest):
            raise InvalidReference(
                f"{text!r}: {digest!r} is not a digest (expected sha256: and 64 hex digits)"
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
        raise InvalidReference(f"{text!r}: repository name must be lowercase (try {path.lower()!r})")
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
