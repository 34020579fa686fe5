"""`%docker context ls / use / show`: the docker CLI's contexts, with its meanings.

A context names an engine (its address and TLS files) in the CLI's configuration folder
(`DOCKER_CONFIG`, else `~/.docker`). `use` writes `currentContext` into `config.json`, as the CLI
does, so a terminal and the notebook agree; `DOCKER_CONTEXT` overrides it, and `DOCKER_HOST`
overrides both (then the current context is "default", which stands for `DOCKER_HOST`). The next
`%docker` line connects to the chosen engine.
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from typing import Any

from nbdocker import cli
from nbdocker.engine.endpoint import current_context_name, list_contexts, use_context
from nbdocker.views import render as views
from nbdocker.views.results import IdList, Result

OVERRIDE = ("DOCKER_HOST environment variable overrides the active context. To use {what}, either "
            "unset DOCKER_HOST (%env DOCKER_HOST=) or set DockerMagics.base_url")


@dataclass
class ContextRow:
    """One context as `docker context ls` shows it."""

    name: str
    description: str
    endpoint: str
    current: bool


@dataclass
class ContextList(Result):
    """`%docker context ls`: every context, the current one marked with `*`."""

    rows: list[ContextRow]
    notes: list[str] = field(default_factory=list)

    def view(self) -> views.TableView:
        columns = [views.Column("name", "NAME"), views.Column("description", "DESCRIPTION"),
                   views.Column("endpoint", "DOCKER ENDPOINT")]
        rows = [{"name": f"{r.name} *" if r.current else r.name, "description": r.description,
                 "endpoint": r.endpoint} for r in self.rows]
        return views.TableView("contexts", columns, rows, footer="\n".join(self.notes) or None)


@dataclass
class ContextChange(Result):
    """`%docker context use NAME`: what became current, and what still overrides it."""

    name: str
    notes: list[str] = field(default_factory=list)

    def view(self) -> views.LinesView:
        lines = [("ok", f'Current context is now "{self.name}"')] + [("error", n) for n in self.notes]
        return views.LinesView("context", lines)


def current_context() -> str:
    """The context in effect, by the CLI's rule: DOCKER_HOST, then DOCKER_CONTEXT, then config.json."""
    if os.environ.get("DOCKER_HOST"):
        return "default"
    return os.environ.get("DOCKER_CONTEXT") or current_context_name()


def list_context_rows() -> list[ContextRow]:
    """Every context sorted by name (the CLI's order), the current one marked."""
    current = current_context()
    rows = []
    for entry in list_contexts():
        # "default" stands for DOCKER_HOST when it is set, as in the CLI's listing.
        host = os.environ.get("DOCKER_HOST") or entry.host if entry.name == "default" else entry.host
        rows.append(ContextRow(entry.name, entry.description, host, entry.name == current))
    return sorted(rows, key=lambda r: r.name)


def show_contexts(quiet: bool = False) -> Any:
    """`docker context ls [-q]`."""
    rows = list_context_rows()
    if quiet:
        return IdList(r.name for r in rows)
    notes = ["Warning: " + OVERRIDE.format(what="a context")] if os.environ.get("DOCKER_HOST") else []
    return ContextList(rows, notes)


def switch_context(name: str) -> ContextChange:
    """`docker context use NAME`: refuses an unknown name, listing the known ones."""
    use_context(name)
    notes = []
    if os.environ.get("DOCKER_HOST"):
        notes.append("Warning: " + OVERRIDE.format(what=f'"{name}"'))
    elif os.environ.get("DOCKER_CONTEXT") and os.environ["DOCKER_CONTEXT"] != name:
        notes.append(f"Warning: DOCKER_CONTEXT={os.environ['DOCKER_CONTEXT']} overrides the active "
                     "context; unset it (%env DOCKER_CONTEXT=) to use this one")
    return ContextChange(name, notes)


def register(sub: Any, image_sub: Any) -> None:
    """`context ls`, `context use`, `context show`."""
    context = cli.add_command(sub, "context", lambda session, a: (context.print_help(), None)[1],
                              "Manage contexts (which engine nbdocker talks to)")
    context_sub = context.add_subparsers(dest="context_command", metavar="COMMAND",
                                         parser_class=cli.ArgumentParser)
    p = cli.add_command(context_sub, "ls", _run_ls, "List contexts", aliases=("list",),
                        prog="%docker context ls")
    p.add_argument("-q", "--quiet", action="store_true", help="Only show context names")
    p = cli.add_command(context_sub, "use", _run_use, "Set the current docker context",
                        prog="%docker context use")
    p.add_argument("name", metavar="CONTEXT")
    cli.add_command(context_sub, "show", _run_show, "Print the name of the current context",
                    prog="%docker context show")


def _run_ls(session: cli.Session, a: argparse.Namespace) -> Any:
    return show_contexts(a.quiet)


def _run_use(session: cli.Session, a: argparse.Namespace) -> Any:
    return switch_context(a.name)


def _run_show(session: cli.Session, a: argparse.Namespace) -> Any:
    return IdList([current_context()])
