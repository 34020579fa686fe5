"""Housekeeping: `image prune`, `system prune` and `system df`.

`docker image prune` and `docker system prune` ask "Are you sure?" on a terminal; a notebook cell
cannot answer, so here `-f` is the answer: without it nbdocker lists what prune would remove and
removes nothing.
"""
from __future__ import annotations

import argparse
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from nbdocker import cli
from nbdocker.views import render as views
from nbdocker.engine.client import Engine
from nbdocker.errors import UsageError
from nbdocker.views.results import Result
from nbdocker.units import ago, human_size, short_id

PRUNE_FILTERS = ("until", "label", "label!")
DF_TIMEOUT = 60.0  # seconds

# ---------------------------------------------------------------- filters (pure)

_GO_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_until(value: str, now: float) -> float:
    """The engine's `until` value: a Go duration before now (`24h`, `1h30m`), a unix timestamp, or
    an RFC 3339 date/time (`2024-01-02`, `2024-01-02T15:04:05Z`)."""
    text = value.strip()
    if text and _GO_DURATION.sub("", text) == "" and _GO_DURATION.match(text):
        seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in _GO_DURATION.findall(text))
        return now - seconds
    try:
        return float(text)
    except ValueError:
        pass
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f",
                "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(text.replace("Z", "+00:00"), fmt)
        except ValueError:
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()
    raise UsageError(f"--filter until={value!r}: expected a duration (24h, 90m), a unix timestamp "
                     "or a date (2024-01-31, 2024-01-31T12:00:00Z)", "%docker image prune")


def parse_prune_filters(items: Iterable[str] | None, prog: str = "%docker image prune") -> dict[str, list[str]]:
    """`--filter K=V`… for prune; only until, label and label! mean something there."""
    filters: dict[str, list[str]] = {}
    what = prog.split()[-2]  # "image" or "system"
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--filter {item!r}: expected KEY=VALUE (until=24h, label=KEY[=VALUE], "
                             "label!=KEY[=VALUE])", prog)
        if key not in PRUNE_FILTERS:
            raise UsageError(f"--filter {key}: {what} prune filters by {', '.join(PRUNE_FILTERS)} "
                             "(-a prunes all unused images, not only dangling ones)", prog)
        filters.setdefault(key, []).append(value)
    return filters


def match_labels(wanted: list[str], labels: dict[str, str]) -> bool:
    """The engine's MatchKVList: every `KEY` present and every `KEY=VALUE` equal."""
    for item in wanted:
        key, sep, value = item.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    return True


def prune_candidates(images: list[dict[str, Any]], containers: list[dict[str, Any]], *, all: bool,
                     filters: dict[str, list[str]], now: float) -> list[dict[str, Any]]:
    """The images `image prune` would remove, from the image and container lists.

    Mirrors the engine (daemon/images/image_prune.go): dangling images only unless -a; never an
    image a container (running or not) was created from; `until` keeps images created after it;
    all `label` filters must match and, when given, not all `label!` filters may match. `images`
    is the default image list (tagged images and untagged heads, no intermediate layers).
    """
    used = {c.get("ImageID") for c in containers}
    until = min((parse_until(v, now) for v in filters.get("until", [])), default=None)
    chosen = []
    for image in images:
        tags = [t for t in image.get("RepoTags") or [] if t != "<none>:<none>"]
        digests = [d for d in image.get("RepoDigests") or [] if d != "<none>@<none>"]
        if not all and (tags or digests):
            continue
        if image["Id"] in used:
            continue
        if until is not None and (image.get("Created") or 0) > until:
            continue
        labels = image.get("Labels") or {}
        if filters.get("label") and not match_labels(filters["label"], labels):
            continue
        if filters.get("label!") and match_labels(filters["label!"], labels):
            continue
        chosen.append(image)
    chosen.sort(key=lambda i: (i.get("Created") or 0, i["Id"]), reverse=True)
    return chosen


# ---------------------------------------------------------------- image prune


@dataclass
class PruneReport(Result):
    """`%docker image prune`: what would go (without -f) or what went (with -f)."""

    candidates: list[dict[str, Any]]
    all: bool = False
    removed: bool = False
    deleted: list[str] = field(default_factory=list)
    untagged: list[str] = field(default_factory=list)
    space_reclaimed: int = 0

    @property
    def ids(self) -> list[str]:
        """The ids of the images listed (would go, or were considered when -f ran)."""
        return [c["Id"] for c in self.candidates]

    def view(self) -> views.TableView | views.LinesView:
        if self.removed:
            lines: list[tuple[str, str]] = []
            if self.deleted or self.untagged:
                lines.append(("info", "Deleted Images:"))
                lines += [("ok", f"untagged: {u}") for u in self.untagged]
                lines += [("ok", f"deleted: {d}") for d in self.deleted]
                lines.append(("info", ""))
            lines.append(("info", f"Total reclaimed space: {human_size(self.space_reclaimed, 4)}"))
            return views.LinesView("prune", lines)
        kind = "unused images (no container uses them)" if self.all else "dangling images"
        rows = []
        for image in self.candidates:
            tags = [t for t in image.get("RepoTags") or [] if t != "<none>:<none>"]
            repo, _, tag = (tags[0].rpartition(":") if tags else ("<none>", "", "<none>"))
            rows.append({
                "repository": repo, "tag": tag, "id": short_id(image["Id"]), "full_id": image["Id"],
                "created": ago(image.get("Created")), "created_ts": image.get("Created") or 0,
                "size": human_size(image.get("Size") or 0), "size_bytes": image.get("Size") or 0,
                "tags": ", ".join(tags),
            })
        columns = [
            views.Column("repository", "REPOSITORY"), views.Column("tag", "TAG"),
            views.Column("id", "IMAGE ID"), views.Column("created", "CREATED", sort_key="created_ts"),
            views.Column("size", "SIZE", numeric=True, sort_key="size_bytes"),
        ]
        footer = (f"{len(rows)} {kind} would go, with the untagged layers below them — "
                  "nothing removed: add -f to remove these")
        return views.TableView("prune", columns, rows, title=f"image prune would remove these {kind}",
                               footer=footer, empty=f"no {kind} to remove: nothing removed")


def prune_images(engine: Engine, *, all: bool = False, force: bool = False,
                 filters: list[str] | None = None) -> PruneReport:
    """`docker image prune [-a] [-f] [--filter K=V]…`: without -f, only lists what would go."""
    filter_map = parse_prune_filters(filters)
    images = engine.list_images(all=False, filters={"dangling": ["true"]} if not all else None)
    containers = engine.list_containers(all=True)
    candidates = prune_candidates(images, containers, all=all, filters=filter_map, now=time.time())
    if not force:
        return PruneReport(candidates, all=all)
    sent = {"dangling": ["false" if all else "true"], **filter_map}
    outcome = engine.prune_images(sent)
    report = PruneReport(candidates, all=all, removed=True,
                         space_reclaimed=outcome.get("SpaceReclaimed") or 0)
    for entry in outcome.get("ImagesDeleted") or []:
        if entry.get("Untagged"):
            report.untagged.append(entry["Untagged"])
        if entry.get("Deleted"):
            report.deleted.append(entry["Deleted"])
    return report


# ---------------------------------------------------------------- system prune

PREDEFINED_NETWORKS = ("bridge", "host", "none", "default")  # the engine never prunes these
STOPPED_STATES = ("created", "exited", "dead")  # what container prune removes: not running, not paused
KEPT_CACHE_TYPES = ("internal", "frontend")  # BuildKit keeps these records unless -a
SHOWN_PER_SECTION = 50  # a listing names this many per kind, then counts the rest


def parse_rfc3339(text: str | None) -> float:
    """The engine's RFC 3339 times (`2024-01-02T03:04:05.123456789Z`) as unix seconds; 0 if unknown."""
    if not text:
        return 0.0
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?", text)
    if not match:
        return 0.0
    stamp = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S")
    zone = match.group(3) or "Z"
    offset = 0 if zone == "Z" else (1 if zone[0] == "+" else -1) * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    fraction = float("0." + match.group(2)) if match.group(2) else 0.0
    return stamp.replace(tzinfo=timezone.utc).timestamp() - offset + fraction


@dataclass
class SystemPrunePlan:
    """What `system prune` would remove, kind by kind (None: that kind is not considered)."""

    containers: list[dict[str, Any]]
    networks: list[dict[str, Any]]
    volumes: list[dict[str, Any]] | None  # None without --volumes
    images: list[dict[str, Any]]
    build_cache: list[dict[str, Any]] | None  # None with a label filter: cache entries have no labels


def _labels_match(filters: dict[str, list[str]], labels: dict[str, str] | None) -> bool:
    labels = labels or {}
    if filters.get("label") and not match_labels(filters["label"], labels):
        return False
    return not (filters.get("label!") and match_labels(filters["label!"], labels))


def plan_system_prune(containers: list[dict[str, Any]], networks: list[dict[str, Any]],
                      volumes: list[dict[str, Any]] | None, images: list[dict[str, Any]],
                      cache: list[dict[str, Any]] | None, *, all: bool,
                      filters: dict[str, list[str]], now: float) -> SystemPrunePlan:
    """The engine's prune rules, in the CLI's order: containers go first, so an image or volume
    that only a pruned container used goes too. `networks` carry their `Containers` (inspected)."""
    until = min((parse_until(v, now) for v in filters.get("until", [])), default=None)

    def older(created: float) -> bool:  # the engine's `until`: made before that moment
        return until is None or created < until

    going = [c for c in containers if (c.get("State") or "") in STOPPED_STATES
             and older(c.get("Created") or 0) and _labels_match(filters, c.get("Labels"))]
    gone = {c["Id"] for c in going}
    staying = [c for c in containers if c["Id"] not in gone]
    nets = [n for n in networks if n.get("Name") not in PREDEFINED_NETWORKS and n.get("Scope") != "swarm"
            and not n.get("Containers") and older(parse_rfc3339(n.get("Created")))
            and _labels_match(filters, n.get("Labels"))]
    vols = None
    if volumes is not None:
        used = {m.get("Name") for c in staying for m in c.get("Mounts") or [] if m.get("Type") == "volume"}
        vols = [v for v in volumes if v.get("Name") not in used and _labels_match(filters, v.get("Labels"))]
    unused = prune_candidates(images, staying, all=all, filters=filters, now=now)
    entries = None
    if cache is not None:
        entries = [e for e in cache if not e.get("InUse") and (all or e.get("Type") not in KEPT_CACHE_TYPES)
                   and older(parse_rfc3339(e.get("LastUsedAt") or e.get("CreatedAt")))]
    return SystemPrunePlan(going, nets, vols, unused, entries)


def _listing(title: str, items: list[str]) -> list[tuple[str, str]]:
    lines = [("info", title)] + [("info", f"  {item}") for item in items[:SHOWN_PER_SECTION]]
    if len(items) > SHOWN_PER_SECTION:
        lines.append(("info", f"  … and {len(items) - SHOWN_PER_SECTION} more (the result's lists "
                              "hold them all)"))
    return lines


def _plan_lines(plan: SystemPrunePlan, all: bool) -> list[tuple[str, str]]:
    lines = _listing(f"stopped containers: {len(plan.containers)}", [
        f"{c['Id'][:12]}  {','.join(n.lstrip('/') for n in c.get('Names') or [])}  "
        f"({c.get('Image') or ''}, {c.get('Status') or c.get('State') or ''})" for c in plan.containers])
    lines += _listing(f"networks not used by any container: {len(plan.networks)}",
                      [f"{n.get('Name')}  ({n.get('Driver') or ''})" for n in plan.networks])
    if plan.volumes is not None:
        lines += _listing(f"volumes not used by any container: {len(plan.volumes)}",
                          [str(v.get("Name")) for v in plan.volumes])
    kind = "images without a container" if all else "dangling images"
    lines += _listing(f"{kind}: {len(plan.images)}", [
        f"{short_id(i['Id'])}  {', '.join(t for t in i.get('RepoTags') or [] if t != '<none>:<none>') or '<none>'}"
        f"  {human_size(i.get('Size') or 0)}" for i in plan.images])
    if plan.build_cache is None:
        lines.append(("info", "build cache: not considered with a label filter (its entries carry no labels)"))
    else:
        size = sum(e.get("Size") or 0 for e in plan.build_cache)
        lines += _listing(f"build cache entries: {len(plan.build_cache)} ({human_size(size, 4)})", [
            f"{str(e.get('ID'))[:12]}  {e.get('Type') or ''}  {truncate_text(e.get('Description') or '', 50)}"
            f"  {human_size(e.get('Size') or 0)}" for e in plan.build_cache])
    return lines


def truncate_text(text: str, width: int) -> str:
    """One line, at most `width` characters (an ellipsis marks the cut)."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[:width - 1] + "…"


@dataclass
class SystemPruneReport(Result):
    """`%docker system prune`: what would go (without -f) or what went (with -f), kind by kind.

    `.plan` holds the engine's objects that were listed; after -f, `.deleted` maps each kind
    (containers, networks, volumes, images, build_cache) to what the engine reported removed."""

    plan: SystemPrunePlan
    all: bool = False
    removed: bool = False
    deleted: dict[str, list[str]] = field(default_factory=dict)
    space_reclaimed: int = 0

    def view(self) -> views.LinesView:
        if not self.removed:
            lines = _plan_lines(self.plan, self.all)
            lines.append(("ok", "nothing removed: add -f to remove these"))
            return views.LinesView("prune", lines, title="system prune would remove:")
        lines = []
        for kind, title in (("containers", "Deleted Containers:"), ("networks", "Deleted Networks:"),
                            ("volumes", "Deleted Volumes:"), ("images", "Deleted Images:"),
                            ("build_cache", "Deleted build cache objects:")):
            if self.deleted.get(kind):
                lines += [("info", title)] + [("ok", item) for item in self.deleted[kind]] + [("info", "")]
        lines.append(("info", f"Total reclaimed space: {human_size(self.space_reclaimed, 4)}"))
        return views.LinesView("prune", lines)


def _survey(engine: Engine, *, all: bool, volumes: bool, filters: dict[str, list[str]]) -> SystemPrunePlan:
    """Ask the engine for everything the plan needs (the build cache only when it is considered)."""
    containers = engine.list_containers(all=True)
    networks = []
    for summary in engine.list_networks():
        if summary.get("Name") in PREDEFINED_NETWORKS or summary.get("Scope") == "swarm":
            continue
        networks.append(engine.inspect_network(summary["Id"]))  # the list leaves Containers empty
    found_volumes = engine.list_volumes() if volumes else None
    images = engine.list_images(all=False, filters={"dangling": ["true"]} if not all else None)
    cache = None
    if not (filters.get("label") or filters.get("label!")):
        cache = engine.disk_usage(timeout=max(engine.timeout, DF_TIMEOUT)).get("BuildCache") or []
    return plan_system_prune(containers, networks, found_volumes, images, cache, all=all,
                             filters=filters, now=time.time())


def _execute(engine: Engine, report: SystemPruneReport, filters: dict[str, list[str]], volumes: bool) -> None:
    """The engine's prunes in the CLI's order; each removes only what its filters match."""
    outcomes: list[tuple[str, dict[str, Any]]] = [
        ("containers", engine.prune_containers(filters)),
        ("networks", engine.prune_networks(filters)),
    ]
    if volumes:
        labels_only = {k: v for k, v in filters.items() if k != "until"}
        outcomes.append(("volumes", engine.prune_volumes(labels_only)))
    outcomes.append(("images", engine.prune_images({"dangling": ["false" if report.all else "true"],
                                                    **filters})))
    if report.plan.build_cache is not None:
        until = {"until": filters["until"]} if filters.get("until") else {}
        outcomes.append(("build_cache", engine.prune_build_cache(until, all=report.all,
                                                                 timeout=max(engine.timeout, DF_TIMEOUT))))
    keys = {"containers": "ContainersDeleted", "networks": "NetworksDeleted",
            "volumes": "VolumesDeleted", "build_cache": "CachesDeleted"}
    for kind, outcome in outcomes:
        report.space_reclaimed += outcome.get("SpaceReclaimed") or 0
        if kind == "images":
            report.deleted[kind] = [f"untagged: {e['Untagged']}" if e.get("Untagged") else f"deleted: {e.get('Deleted')}"
                                    for e in outcome.get("ImagesDeleted") or []]
        else:
            report.deleted[kind] = [str(x) for x in outcome.get(keys[kind]) or []]


def prune_system(engine: Engine, *, all: bool = False, force: bool = False, volumes: bool = False,
                 filters: list[str] | None = None) -> SystemPruneReport:
    """`docker system prune [-a] [-f] [--volumes] [--filter K=V]…`: stopped containers, unused
    networks, dangling (with -a: unused) images and build cache; volumes only with --volumes.

    Without -f, only lists what would go. With a label filter the build cache is left alone: its
    entries carry no labels, so none of them is something the filter asked for.
    """
    prog = "%docker system prune"
    filter_map = parse_prune_filters(filters, prog)
    if volumes and filter_map.get("until"):
        raise UsageError("--filter until cannot be used with --volumes: the engine prunes volumes by "
                         "label only", prog)
    report = SystemPruneReport(_survey(engine, all=all, volumes=volumes, filters=filter_map), all=all)
    if force:
        report.removed = True
        _execute(engine, report, filter_map, volumes)
    return report


# ---------------------------------------------------------------- system df


def _percent(part: int, whole: int) -> str:
    # The CLI divides integers: (reclaimable*100)/total, and shows no percentage for a zero total.
    return f" ({part * 100 // whole}%)" if whole > 0 else ""


def disk_usage_rows(df: dict[str, Any]) -> list[dict[str, Any]]:
    """The four rows of `docker system df`, computed as the CLI computes them (go-units, 4 digits)."""
    size = lambda n: human_size(n, 4)  # noqa: E731 - the CLI's units.HumanSize
    images = df.get("Images") or []
    layers_size = df.get("LayersSize") or 0
    in_use = [i for i in images if (i.get("Containers") or 0) > 0
              and (i.get("Size") or 0) != -1 and (i.get("SharedSize") or 0) != -1]  # -1: not computed
    used = sum((i.get("Size") or 0) - (i.get("SharedSize") or 0) for i in in_use)
    image_reclaimable = layers_size - used

    containers = df.get("Containers") or []
    active = [c for c in containers
              if any(s in (c.get("State") or "") for s in ("running", "paused", "restarting"))]
    container_size = sum(c.get("SizeRw") or 0 for c in containers)
    container_reclaimable = sum(c.get("SizeRw") or 0 for c in containers if c not in active)

    volumes = df.get("Volumes") or []
    usage = [(v.get("UsageData") or {}) for v in volumes]
    volume_size = sum(u.get("Size") or 0 for u in usage if (u.get("Size") or 0) != -1)
    volume_reclaimable = sum(u.get("Size") or 0 for u in usage
                             if u.get("RefCount") == 0 and (u.get("Size") or 0) != -1)

    cache = df.get("BuildCache") or []
    cache_size = sum(c.get("Size") or 0 for c in cache if not c.get("Shared"))
    cache_in_use = sum(c.get("Size") or 0 for c in cache if c.get("InUse") and not c.get("Shared"))

    return [
        {"type": "Images", "total": len(images),
         "active": sum((i.get("Containers") or 0) > 0 for i in images),
         "size": size(layers_size), "size_bytes": layers_size,
         "reclaimable": size(image_reclaimable) + _percent(image_reclaimable, layers_size),
         "reclaimable_bytes": image_reclaimable},
        {"type": "Containers", "total": len(containers), "active": len(active),
         "size": size(container_size), "size_bytes": container_size,
         "reclaimable": size(container_reclaimable) + _percent(container_reclaimable, container_size),
         "reclaimable_bytes": container_reclaimable},
        {"type": "Local Volumes", "total": len(volumes),
         "active": sum((u.get("RefCount") or 0) > 0 for u in usage),
         "size": size(volume_size), "size_bytes": volume_size,
         "reclaimable": size(volume_reclaimable) + _percent(volume_reclaimable, volume_size),
         "reclaimable_bytes": volume_reclaimable},
        {"type": "Build Cache", "total": len(cache), "active": sum(bool(c.get("InUse")) for c in cache),
         "size": size(cache_size), "size_bytes": cache_size,
         "reclaimable": size(cache_size - cache_in_use), "reclaimable_bytes": cache_size - cache_in_use},
    ]


@dataclass
class DiskUsage(Result):
    """`%docker system df`: `.rows` (with byte counts) and the engine's whole answer in `.data`."""

    rows: list[dict[str, Any]]
    data: dict[str, Any] = field(default_factory=dict, repr=False)

    def view(self) -> views.TableView:
        columns = [
            views.Column("type", "TYPE"), views.Column("total", "TOTAL", numeric=True),
            views.Column("active", "ACTIVE", numeric=True),
            views.Column("size", "SIZE", numeric=True, sort_key="size_bytes"),
            views.Column("reclaimable", "RECLAIMABLE", numeric=True, sort_key="reclaimable_bytes"),
        ]
        return views.TableView("df", columns, self.rows)


def disk_usage(engine: Engine) -> DiskUsage:
    """`docker system df`."""
    # The engine sizes every layer and container to answer: give it longer than a metadata call.
    data = engine.disk_usage(timeout=max(engine.timeout, DF_TIMEOUT))
    return DiskUsage(disk_usage_rows(data), data)


# ---------------------------------------------------------------- the parser tree



def register(sub: Any, image_sub: Any) -> None:
    """`image prune` and `system df`."""
    p = cli.add_command(image_sub, "prune", _run_prune,
                        "Remove unused images (without -f: only list what would be removed)",
                        prog="%docker image prune")
    p.add_argument("-a", "--all", action="store_true",
                   help="Remove all images without a container, not just dangling ones")
    p.add_argument("-f", "--force", action="store_true",
                   help="Really remove them (a notebook cannot ask 'Are you sure?': -f is the yes)")
    p.add_argument("--filter", action="append", metavar="KEY=VALUE",
                   help="Provide filter values (until=24h, label=KEY[=VALUE], label!=KEY[=VALUE])")
    system = cli.add_command(sub, "system", lambda session, a: (system.print_help(), None)[1],
                             "Manage Docker (system df, system prune)")
    system_sub = system.add_subparsers(dest="system_command", metavar="COMMAND",
                                       parser_class=cli.ArgumentParser)
    p = cli.add_command(system_sub, "df", _run_df, "Show docker disk usage", prog="%docker system df")
    p = cli.add_command(system_sub, "prune", _run_system_prune,
                        "Remove stopped containers, unused networks, dangling images and build cache "
                        "(without -f: only list what would be removed)", prog="%docker system prune")
    p.add_argument("-a", "--all", action="store_true",
                   help="Remove all unused images and build cache, not just dangling ones")
    p.add_argument("-f", "--force", action="store_true",
                   help="Really remove them (a notebook cannot ask 'Are you sure?': -f is the yes)")
    p.add_argument("--volumes", action="store_true", help="Prune volumes too (never by default)")
    p.add_argument("--filter", action="append", metavar="KEY=VALUE",
                   help="Provide filter values (until=24h, label=KEY[=VALUE], label!=KEY[=VALUE])")


def _run_prune(session: cli.Session, a: argparse.Namespace) -> Any:
    return prune_images(session.engine, all=a.all, force=a.force, filters=a.filter)


def _run_system_prune(session: cli.Session, a: argparse.Namespace) -> Any:
    return prune_system(session.engine, all=a.all, force=a.force, volumes=a.volumes, filters=a.filter)


def _run_df(session: cli.Session, a: argparse.Namespace) -> Any:
    return disk_usage(session.engine)
