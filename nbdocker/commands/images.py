"""Image commands with the docker CLI's meanings: images, inspect, history, tag, rmi."""
from __future__ import annotations

import argparse
import fnmatch
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from nbdocker import cli
from nbdocker.views import render as views
from nbdocker.masking import mask_json, mask_text
from nbdocker.engine.client import Engine, status_code
from nbdocker.errors import CommandFailed, EngineError, InvalidReference, UsageError
from nbdocker.references import check_image_argument, looks_like_id, parse_reference
from nbdocker.views.results import IdList, Result
from nbdocker.units import ago, counted, human_size, short_id

# ---------------------------------------------------------------- images


@dataclass
class ImageRow:
    """One row of `docker images`: an image under one repository:tag (or <none>)."""

    repository: str
    tag: str
    digest: str
    id: str  # full "sha256:…"
    created: int
    size: int
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def short_id(self) -> str:
        return short_id(self.id)

    @property
    def dangling(self) -> bool:
        return self.repository == "<none>" and self.tag == "<none>"


def _familiar(name: str) -> str:
    """docker.io/library/busybox → busybox, docker.io/you/x → you/x (reference.FamiliarName)."""
    for prefix in ("docker.io/", "index.docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            return name[len("library/"):] if name.startswith("library/") and name.count("/") == 1 else name
    return name


def image_rows(summary: dict[str, Any], with_digests: bool) -> list[ImageRow]:
    """Expand one engine image summary into CLI rows (imageFormatTaggedAndDigest)."""
    tags = [t for t in summary.get("RepoTags") or [] if t != "<none>:<none>"]
    digests = [d for d in summary.get("RepoDigests") or [] if d != "<none>@<none>"]
    base = dict(id=summary["Id"], created=summary.get("Created") or 0, size=summary.get("Size") or 0,
                labels=summary.get("Labels") or {})
    if not tags and not digests:
        return [ImageRow("<none>", "<none>", "<none>", **base)]
    repo_tags: dict[str, list[str]] = {}
    for ref in tags:
        repo, _, tag = ref.rpartition(":")
        repo_tags.setdefault(_familiar(repo), []).append(tag)
    repo_digests: dict[str, list[str]] = {}
    for ref in digests:
        repo, _, digest = ref.partition("@")
        repo_digests.setdefault(_familiar(repo), []).append(digest)
    rows = []
    for repo, repo_tag_list in repo_tags.items():
        shown = repo_digests.pop(repo, []) if with_digests else (repo_digests.pop(repo, None) and [])
        for tag in repo_tag_list:
            for digest in shown or ["<none>"]:
                rows.append(ImageRow(repo, tag, digest, **base))
    for repo, repo_digest_list in repo_digests.items():
        for digest in repo_digest_list if with_digests else [""]:
            rows.append(ImageRow(repo, "<none>", digest, **base))
    return rows


@dataclass
class ImageList(Result):
    """`%docker images`: rows as the CLI prints them."""

    rows: list[ImageRow]
    digests: bool = False
    no_trunc: bool = False

    @property
    def ids(self) -> IdList:
        return IdList(r.id if self.no_trunc else r.short_id for r in self.rows)

    def view(self) -> views.TableView:
        columns = [views.Column("repository", "REPOSITORY"), views.Column("tag", "TAG")]
        if self.digests:
            columns.append(views.Column("digest", "DIGEST"))
        columns += [
            views.Column("id", "IMAGE ID"),
            views.Column("created", "CREATED", sort_key="created_ts"),
            views.Column("size", "SIZE", numeric=True, sort_key="size_bytes"),
        ]
        rows = [
            {
                "repository": r.repository, "tag": r.tag, "digest": r.digest,
                "id": r.id if self.no_trunc else r.short_id, "full_id": r.id,
                "created": ago(r.created), "created_ts": r.created,
                "size": human_size(r.size), "size_bytes": r.size, "dangling": r.dangling,
            }
            for r in self.rows
        ]
        unique = {r.id: r.size for r in self.rows}
        footer = f"{counted(len(unique), 'image')}, {human_size(sum(unique.values()))}"
        return views.TableView("images", columns, rows, footer=footer)


def _matches(row: ImageRow, reference: str) -> bool:
    """Whether a row is one `docker images REFERENCE` lists (the engine's `reference` filter)."""
    with_tag = ":" in reference.rsplit("/", 1)[-1]
    name = f"{row.repository}:{row.tag}" if with_tag else row.repository
    return fnmatch.fnmatchcase(name, reference) or fnmatch.fnmatchcase(name, _familiar(reference))


def list_images(engine: Engine, *, all: bool = False, quiet: bool = False, digests: bool = False,
                no_trunc: bool = False, filters: list[str] | None = None,
                reference: str | None = None) -> ImageList | IdList:
    """`docker images [-a] [-q] [--digests] [--no-trunc] [-f K=V]… [REPOSITORY[:TAG]]`."""
    filter_map: dict[str, list[str]] = {}
    for item in filters or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--filter {item!r}: expected KEY=VALUE (e.g. dangling=true, label=app)",
                             "%docker images")
        filter_map.setdefault(key, []).append(value)
    if reference:
        filter_map.setdefault("reference", []).append(reference)
    summaries = engine.list_images(all=all, filters=filter_map)
    # The engine sends newest first; the CLI keeps its order, ties included (a stable sort does too).
    summaries.sort(key=lambda s: s.get("Created") or 0, reverse=True)
    rows = [row for s in summaries for row in image_rows(s, digests)]
    if reference and "@" not in reference:  # Podman returns every tag of a matching image
        rows = [r for r in rows if _matches(r, reference)]
    result = ImageList(rows, digests=digests, no_trunc=no_trunc)
    return result.ids if quiet else result


# ---------------------------------------------------------------- inspect


def inspect_summary(attrs: dict[str, Any]) -> list[tuple[str, str]]:
    """The facts a learner looks for first, as (label, text) pairs."""
    config = attrs.get("Config") or {}
    layers = (attrs.get("RootFS") or {}).get("Layers") or []

    def show(value: Any) -> str:
        if value in (None, "", [], {}):
            return "—"
        if isinstance(value, list):
            return " ".join(str(v) for v in value) if all(" " not in str(v) for v in value) else str(value)
        if isinstance(value, dict):
            return ", ".join(f"{k}={v}" if v not in ({}, None, "") else str(k) for k, v in value.items())
        return str(value)

    return [
        ("Tags", show(attrs.get("RepoTags"))),
        ("Id", str(attrs.get("Id", ""))),
        ("Created", str(attrs.get("Created", ""))),
        ("OS/Arch", f"{attrs.get('Os', '?')}/{attrs.get('Architecture', '?')}"
         + (f"/{attrs['Variant']}" if attrs.get("Variant") else "")),
        ("Size", human_size(attrs.get("Size") or 0)),
        ("Layers", str(len(layers))),
        ("Cmd", show(config.get("Cmd"))),
        ("Entrypoint", show(config.get("Entrypoint"))),
        ("Env", show(config.get("Env"))),
        ("WorkingDir", show(config.get("WorkingDir"))),
        ("User", show(config.get("User"))),
        ("ExposedPorts", show(config.get("ExposedPorts"))),
        ("Labels", show(config.get("Labels"))),
    ]


@dataclass
class InspectResult(Result):
    """`%docker inspect`: the engine's JSON, whole, for each image."""

    items: list[dict[str, Any]]

    @property
    def attrs(self) -> dict[str, Any]:
        """The JSON of the (first) image."""
        return self.items[0] if self.items else {}

    def __getitem__(self, key: str | int) -> Any:
        return self.items[key] if isinstance(key, int) else self.attrs[key]

    def view(self) -> views.InspectView:
        # `.attrs` stays the engine's JSON whole; every view masks secret build args in it.
        items = [mask_json(i) for i in self.items]
        return views.InspectView("inspect", items, [inspect_summary(i) for i in items])


def inspect_images(engine: Engine, images: list[str]) -> InspectResult:
    """`docker image inspect IMAGE…`; missing ones are reported after the found ones are shown."""
    found, missing = [], []
    for name in images:
        check_image_argument(name)
        try:
            found.append(engine.inspect_image(name))
        except EngineError as err:
            if status_code(err) != 404:
                raise
            missing.append(name)
    result = InspectResult(found)
    if missing:
        raise CommandFailed("No such image: " + ", ".join(missing), result if found else None)
    return result


# ---------------------------------------------------------------- history

_NOP = re.compile(r"^/bin/sh -c #\(nop\)\s*")
# Classic builder: `|1 A=b /bin/sh -c echo`; BuildKit: `RUN |1 A=b /bin/sh -c echo # buildkit`.
_SHELL = re.compile(r"^(?:RUN )?(?:\|\d+ (?:\S+=\S* )*)?/bin/sh -c ")


def clean_created_by(created_by: str) -> str:
    """`/bin/sh -c #(nop)  CMD ["sh"]` → `CMD ["sh"]`; `/bin/sh -c echo` → `RUN echo` (both builders)."""
    text = created_by.replace("\t", " ").strip().removesuffix(" # buildkit")
    if _NOP.match(text):
        return _NOP.sub("", text).strip()
    if _SHELL.match(text):
        return "RUN " + _SHELL.sub("", text).strip()
    return text


def _display_width(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def truncate(text: str, width: int) -> str:
    """The CLI's `formatter.Ellipsis`: cut to `width` display columns, the last one an ellipsis."""
    if sum(_display_width(c) for c in text) <= width:
        return text
    kept, used = [], 0
    for char in text:
        used += _display_width(char)
        if used > width - 1:
            break
        kept.append(char)
    return "".join(kept) + "…"


@dataclass
class Layer:
    """One history entry: a layer or an empty (metadata-only) step."""

    id: str  # "sha256:…" or "<missing>"
    created: int
    created_by: str  # raw, as the engine stores it
    size: int
    comment: str
    tags: list[str]
    instruction: Any = None  # the Dockerfile instruction that made it, when built in this kernel

    @property
    def display_created_by(self) -> str:
        return mask_text(clean_created_by(self.created_by))

    @property
    def empty(self) -> bool:
        return self.size == 0


@dataclass
class History(Result):
    """`%docker history IMAGE`: newest layer first, like the CLI."""

    image: str
    layers: list[Layer]
    no_trunc: bool = False
    # Build-arg values known to be secret (images built in this kernel): masked wherever they
    # appear, spaces and all, not only in the `NAME=value` form.
    secrets: dict[str, str] = field(default_factory=dict)

    @property
    def rows(self) -> list[Layer]:
        return self.layers

    def view(self) -> views.TableView:
        columns = [
            views.Column("id", "IMAGE"),
            views.Column("created", "CREATED", sort_key="created_ts"),
            views.Column("created_by", "CREATED BY"),
            views.Column("size", "SIZE", numeric=True, sort_key="size_bytes"),
            views.Column("comment", "COMMENT"),
        ]
        has_lines = any(layer.instruction is not None for layer in self.layers)
        if has_lines:
            columns.insert(3, views.Column("line", "LINE"))
        rows = []
        cumulative = 0
        for layer in reversed(self.layers):  # cumulative size grows from the base up
            cumulative += layer.size
            missing = layer.id == "<missing>"
            shown = mask_text(clean_created_by(layer.created_by), self.secrets)
            row = {
                "id": layer.id if missing or self.no_trunc else short_id(layer.id),
                "id__title": ("<missing>: this layer was built elsewhere (or by BuildKit) and has no "
                              "local image id; its content is still part of the image") if missing else "",
                "created": ago(layer.created), "created_ts": layer.created,
                "created_by": shown if self.no_trunc else truncate(shown, 45),
                "created_by__title": shown, "created_by_raw": mask_text(layer.created_by, self.secrets),
                "size": human_size(layer.size), "size_bytes": layer.size,
                "cumulative": human_size(cumulative), "cumulative_bytes": cumulative,
                "comment": layer.comment, "empty": layer.empty,
            }
            if has_lines:
                ins = layer.instruction
                row["line"] = _lines_label(ins) if ins is not None else ""
                row["source"] = ins.original if ins is not None else ""
            rows.append(row)
        rows.reverse()
        total = sum(layer.size for layer in self.layers)
        footer = (f"{counted(len(self.layers), 'entry', 'entries')}, "
                  f"{sum(not l.empty for l in self.layers)} with content, {human_size(total)}")
        # A build with no tag names its image by id: the CLI's 12 characters, not 71.
        name = short_id(self.image) if looks_like_id(self.image) and len(self.image) > 20 else self.image
        return views.TableView("history", columns, rows, title=f"history of {name}",
                               footer=footer, bar="size_bytes")


def _lines_label(instruction: Any) -> str:
    start, end = instruction.line_start, instruction.line_end
    return f"{start}" if start == end else f"{start}-{end}"


def image_history(engine: Engine, image: str, *, no_trunc: bool = False,
                  quiet: bool = False) -> History | IdList:
    """`docker history [--no-trunc] [-q] IMAGE`."""
    check_image_argument(image)
    entries = engine.image_history(image)
    layers = [
        Layer(e.get("Id") or "<missing>", e.get("Created") or 0, e.get("CreatedBy") or "",
              e.get("Size") or 0, e.get("Comment") or "", e.get("Tags") or [])
        for e in entries
    ]
    if quiet:
        return IdList(l.id if l.id == "<missing>" or no_trunc else short_id(l.id) for l in layers)
    return History(image, layers, no_trunc=no_trunc)


# ---------------------------------------------------------------- tag


@dataclass
class Report(Result):
    """Lines saying what a command did (tag, rmi …), with per-line levels."""

    kind: str
    lines: list[tuple[str, str]]

    def view(self) -> views.LinesView:
        return views.LinesView(self.kind, self.lines)


def tag_image(engine: Engine, source: str, target: str) -> Report:
    """`docker tag SOURCE TARGET` (TARGET's tag defaults to latest)."""
    check_image_argument(source)
    ref = parse_reference(target, allow_digest=False)
    engine.tag_image(source, ref.repository, ref.tag or "latest")
    shown = str(ref) if ref.tag else f"{ref}:latest"
    return Report("tag", [("ok", f"Tagged {source} as {shown}")])


# ---------------------------------------------------------------- rmi


@dataclass
class Removal:
    """What happened to one `rmi` argument."""

    argument: str
    untagged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)  # what -f did beyond the lines above


@dataclass
class RemovalReport(Result):
    """`%docker rmi`: per argument, what the engine really did."""

    removals: list[Removal]

    @property
    def ok(self) -> bool:
        return all(r.error is None for r in self.removals)

    @property
    def deleted(self) -> list[str]:
        return [d for r in self.removals for d in r.deleted]

    @property
    def untagged(self) -> list[str]:
        return [u for r in self.removals for u in r.untagged]

    def view(self) -> views.LinesView:
        lines: list[tuple[str, str]] = []
        for r in self.removals:
            lines += [("ok", f"Untagged: {u}") for u in r.untagged]
            lines += [("ok", f"Deleted: {d}") for d in r.deleted]
            lines += [("info", f"Note: {n}") for n in r.notes]
            if r.error:
                lines.append(("error", f"Error: {r.error}"))
        return views.LinesView("rmi", lines)


_CONFLICT_CONTAINER = re.compile(r"container (\w+) is using its referenced image (\w+)")
_RUNNING = re.compile(r"being used by running container (\w+)")
_STOPPED = re.compile(r"being used by stopped container (\w+)")


def explain_conflict(engine: Engine, argument: str, message: str, force: bool) -> str:
    """Turn a 409 from the engine into what is in the way and what -f would do."""
    if "referenced in multiple repositories" in message:
        tags = _tags_of(engine, argument)
        listed = f" ({', '.join(tags)})" if tags else ""
        return (f"{argument} is one image under several names{listed}: removing it by id needs -f, "
                "which removes every one of those names; or remove the names one by one.")
    if "has dependent child images" in message:
        return (f"other images are built on top of {argument} (child images): remove them first; "
                "-f cannot help here.")
    running = _RUNNING.search(message)
    if running:
        who = _container_words(engine, running.group(1))
        return (f"{who} uses {argument}, and an image cannot be deleted while a container runs from it "
                f"(not even with -f). Stop and remove the container first (%docker rm -f "
                f"{_container_name(engine, running.group(1))}). Note: -f by a tag name only removes "
                "that tag while the container runs; the image stays, untagged.")
    stopped = _CONFLICT_CONTAINER.search(message) or _STOPPED.search(message)
    if stopped:
        cid = stopped.group(1)
        who = _container_words(engine, cid)
        if _is_running(engine, cid):
            return (f"{who} uses {argument}. Remove the container first (%docker rm -f "
                    f"{_container_name(engine, cid)}); -f would only remove the tag {argument} — "
                    "the image stays, untagged, while the container runs.")
        return (f"{who} uses {argument}. Remove the container first (%docker rm "
                f"{_container_name(engine, cid)}), or use -f: it removes the tag and the image, and "
                "the container stays, pointing at an image that no longer exists.")
    return message


def _container(engine: Engine, cid: str) -> dict[str, Any] | None:
    try:
        found = engine.list_containers(all=True, filters={"id": cid})
    except EngineError:
        return None
    return found[0] if found else None


def _container_name(engine: Engine, cid: str) -> str:
    c = _container(engine, cid)
    return c["Names"][0].lstrip("/") if c and c.get("Names") else cid[:12]


def _is_running(engine: Engine, cid: str) -> bool:
    c = _container(engine, cid)
    return bool(c and c.get("State") == "running")


def _container_words(engine: Engine, cid: str) -> str:
    c = _container(engine, cid)
    if not c:
        return f"container {cid[:12]}"
    state = "running" if c.get("State") == "running" else "stopped"
    return f"{state} container {_container_name(engine, cid)} ({cid[:12]})"


def _tags_of(engine: Engine, image: str) -> list[str]:
    try:
        return engine.inspect_image(image).get("RepoTags") or []
    except EngineError:
        return []


def _users_of(engine: Engine, name: str) -> tuple[list[dict[str, Any]], str | None]:
    """The containers made from the image `name` names, and its id (before a forced removal)."""
    try:
        image_id = engine.inspect_image(name)["Id"]
        containers = engine.list_containers(all=True)
    except EngineError:
        return [], None
    return [c for c in containers if c.get("ImageID") == image_id], image_id


def forced_removal_notes(removal: Removal, users: list[dict[str, Any]], image_id: str | None,
                         kept: set[str] | None = None) -> list[str]:
    """What `rmi -f` did not say: a container left pointing at a deleted image, or an image kept.

    Docker answers `-f` quietly: by id with a stopped container it deletes the image and the
    container stays; by tag while a container runs it only untags, and the image stays as <none>.
    Podman removes the image's containers too: `kept` (the containers left) tells which it did.
    """
    if image_id is None or not users:
        return []
    gone = [c for c in users if kept is not None and c["Id"] not in kept]
    if gone:
        names = ", ".join((c.get("Names") or ["/" + c["Id"][:12]])[0].lstrip("/") for c in gone)
        return [f"the engine also removed container {names}, which was made from {short_id(image_id)} "
                "(Podman does this; Docker keeps the container)"]
    names = ", ".join(f"{(c.get('Names') or ['/' + c['Id'][:12]])[0].lstrip('/')} "
                      f"({'running' if c.get('State') == 'running' else 'stopped'})" for c in users)
    short = short_id(image_id)
    if image_id in removal.deleted:
        return [f"container {names} was made from {short}, which is now deleted: it stays, "
                f"pointing at an image that no longer exists (%docker rm it when done)"]
    if removal.untagged:
        return [f"image {short} was not deleted: container {names} uses it, so -f only removed "
                f"the name; the image stays as <none>. Remove the container, then %docker rmi {short}"]
    return []


def remove_row_image(engine: Engine, image_id: str, label: str) -> RemovalReport:
    """Remove the image a list row showed: `image_id`, exactly, even when `label` moved since.

    By its name while that name still means the image (so the CLI's untag-or-delete rules hold),
    else by id: a rebuilt `app:latest` names a new image, which the old row never showed.
    """
    if label == image_id or looks_like_id(label):
        return remove_images(engine, [image_id])
    try:
        current = engine.inspect_image(label)["Id"]
    except EngineError:
        current = None
    if current == image_id:
        return remove_images(engine, [label])
    report = remove_images(engine, [image_id])
    moved = f"now names {short_id(current)}" if current else "no longer exists"
    report.removals[0].notes.append(f"{label} {moved}; that was left alone and {short_id(image_id)}, "
                                    "the image this row showed, was removed by id")
    return report


def remove_images(engine: Engine, images: list[str], *, force: bool = False,
                  no_prune: bool = False) -> RemovalReport:
    """`docker rmi [-f] [--no-prune] IMAGE…`: each argument tried; fails if any failed."""
    removals = []
    # `rmi $(docker images -q)` names an image once per row, i.e. once per name it has: the CLI
    # then fails on the repeats ("No such image"). The same word twice means the same image, once.
    for name in dict.fromkeys(images):
        removal = Removal(name)
        removals.append(removal)
        try:
            check_image_argument(name)
            users = _users_of(engine, name) if force else ([], None)
            outcome = engine.remove_image(name, force=force, no_prune=no_prune)
        except EngineError as err:
            code = status_code(err)
            if code == 409:
                removal.error = explain_conflict(engine, name, str(err), force)
            elif code == 404:
                removal.error = f"No such image: {name}"
            else:
                removal.error = str(err)
            continue
        except InvalidReference as err:  # reported for this argument only; an unreachable engine stops all
            removal.error = str(err)
            continue
        for entry in outcome or []:
            if "Untagged" in entry:
                removal.untagged.append(_familiar(entry["Untagged"]))  # Podman says docker.io/library/…
            if "Deleted" in entry:
                removal.deleted.append(entry["Deleted"])
        if force and users[0]:
            kept = {c["Id"] for c in engine.list_containers(all=True)}
            removal.notes += forced_removal_notes(removal, *users, kept=kept)
    report = RemovalReport(removals)
    if not report.ok:
        failed = [r.argument for r in removals if r.error]
        raise CommandFailed(f"could not remove {', '.join(failed)} (see above)", report)
    return report


# ---------------------------------------------------------------- the commands


def register(sub: Any, image_sub: Any) -> None:
    """`images`, `inspect`, `history`, `tag`, `rmi`, and their `image …` long forms."""
    _add_images(sub)
    _add_inspect(sub)
    _add_history(sub)
    _add_tag(sub)
    _add_rmi(sub)
    _add_images(image_sub, "ls", "%docker image ls", aliases=("list",))
    _add_inspect(image_sub, "inspect", "%docker image inspect")
    _add_history(image_sub, "history", "%docker image history")
    _add_tag(image_sub, "tag", "%docker image tag")
    _add_rmi(image_sub, "rm", "%docker image rm", aliases=("remove",))


def _add_images(sub: Any, name: str = "images", prog: str | None = None, aliases: tuple[str, ...] = ()) -> None:
    p = cli.add_command(sub, name, _run_images, "List images", aliases, prog)
    p.add_argument("-a", "--all", action="store_true", help="Show all images (default hides intermediate images)")
    p.add_argument("-q", "--quiet", action="store_true", help="Only show image IDs (returns a list)")
    p.add_argument("--digests", action="store_true", help="Show digests")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("-f", "--filter", action="append", metavar="KEY=VALUE",
                   help="Filter output based on conditions provided (dangling=true, label=K, reference=…)")
    p.add_argument("reference", nargs="?", metavar="REPOSITORY[:TAG]")


def _run_images(session: cli.Session, a: argparse.Namespace) -> Any:
    result = list_images(session.engine, all=a.all, quiet=a.quiet, digests=a.digests,
                         no_trunc=a.no_trunc, filters=a.filter, reference=a.reference)
    if isinstance(result, ImageList):
        result.actions = row_actions(session)
    return result


def _add_inspect(sub: Any, name: str = "inspect", prog: str | None = None) -> None:
    p = cli.add_command(sub, name, _run_inspect, "Display detailed information on one or more images",
                        prog=prog)
    p.add_argument("images", nargs="+", metavar="IMAGE")


def _run_inspect(session: cli.Session, a: argparse.Namespace) -> Any:
    return inspect_images(session.engine, a.images)


def _add_history(sub: Any, name: str = "history", prog: str | None = None) -> None:
    p = cli.add_command(sub, name, _run_history, "Show the history of an image", prog=prog)
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("-q", "--quiet", action="store_true", help="Only show image IDs (returns a list)")
    p.add_argument("image", metavar="IMAGE")


def _run_history(session: cli.Session, a: argparse.Namespace) -> Any:
    result = image_history(session.engine, a.image, no_trunc=a.no_trunc, quiet=a.quiet)
    if isinstance(result, History) and session.built is not None:
        session.built.attach_lines(result)  # layers tied to the lines of builds in this kernel
    return result


def _add_tag(sub: Any, name: str = "tag", prog: str | None = None) -> None:
    p = cli.add_command(sub, name, _run_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
                        prog=prog)
    p.add_argument("source", metavar="SOURCE_IMAGE[:TAG]")
    p.add_argument("target", metavar="TARGET_IMAGE[:TAG]")


def _run_tag(session: cli.Session, a: argparse.Namespace) -> Any:
    return tag_image(session.engine, a.source, a.target)


def _add_rmi(sub: Any, name: str = "rmi", prog: str | None = None, aliases: tuple[str, ...] = ()) -> None:
    p = cli.add_command(sub, name, _run_rmi, "Remove one or more images", aliases, prog)
    p.add_argument("-f", "--force", action="store_true", help="Force removal of the image")
    p.add_argument("--no-prune", action="store_true", help="Do not delete untagged parents")
    p.add_argument("images", nargs="+", metavar="IMAGE")


def _run_rmi(session: cli.Session, a: argparse.Namespace) -> Any:
    return remove_images(session.engine, a.images, force=a.force, no_prune=a.no_prune)


def row_actions(session: cli.Session) -> dict[str, Any]:
    """What an image-list widget may do to one of its rows, bound to the engine that made the list.

    Each action takes the row's full image id — exactly what the row shows — never a name that
    may have moved to another image since the list was made.
    """
    engine = session.engine

    def history(image_id: str, label: str) -> Any:
        result = image_history(engine, image_id)
        if isinstance(result, History):
            result.image = label
            if session.built is not None:
                session.built.attach_lines(result)
        return result

    return {
        "inspect": lambda image_id, label: inspect_images(engine, [image_id]),
        "history": history,
        "remove": lambda image_id, label: remove_row_image(engine, image_id, label),
    }
