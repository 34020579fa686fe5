"""The architecture, checked: no import cycles (imports inside functions included), one engine
boundary, one widget module. Pure: reads the source."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "nbdocker"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def _resolve(name: str) -> str | None:
    """The nbdocker module an imported name refers to (a module, or the module holding a name)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> dict[str, set[str]]:
    """Every nbdocker module `module` imports, anywhere in its body, with the kinds of other imports."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    third_party: set[str] = set()
    for node in _executed_nodes(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            # `from pkg import sub` imports the module pkg.sub; `from pkg import name`, pkg itself.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        for target in targets:
            if target.split(".")[0] == "nbdocker":
                resolved = _resolve(target)
                if resolved and resolved != module and resolved != "nbdocker":
                    found.add(resolved)
            else:
                third_party.add(target.split(".")[0])
    return {"nbdocker": found, "other": third_party}


def _executed_nodes(tree: ast.AST):
    """Every node, except those under `if TYPE_CHECKING:` (annotations only, never run)."""
    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                pending.extend(child.orelse)
                continue
            pending.append(child)


GRAPH = {m: imports_of(m)["nbdocker"] for m in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles_not_even_inside_functions():
    assert cycles(GRAPH) == []


def test_only_the_engine_layer_imports_the_docker_sdk():
    users = {m for m in MODULES if {"docker", "requests", "urllib3"} & imports_of(m)["other"]}
    assert users and all(m.startswith("nbdocker.engine.") for m in users), sorted(users)


def test_only_the_widget_module_imports_anywidget():
    users = {m for m in MODULES if {"anywidget", "ipywidgets"} & imports_of(m)["other"]}
    assert users == {"nbdocker.views.widgets"}, sorted(users)


def test_the_parser_framework_knows_no_command():
    assert not {m for m in GRAPH["nbdocker.cli"] if m.startswith(("nbdocker.commands", "nbdocker.build"))}


def test_nothing_outside_the_engine_layer_touches_the_raw_client():
    offenders = []
    for module, path in MODULES.items():
        if module.startswith("nbdocker.engine"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if ".sdk" in line or "._post(" in line or ".api." in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders
