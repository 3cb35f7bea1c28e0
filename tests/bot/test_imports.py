"""The house's arrows point one way (``../shared/ARCHITECTURE.md``): a walk of every import.

Reads each module of the four packages with :mod:`ast` (imports inside functions and
``TYPE_CHECKING`` blocks count too: they are dependencies all the same) and fails on an
import circle or on an arrow that runs back up the layers.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "intents", "knowledge", "integrations")
MAX_LINES = 450


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts and "versions" in path.parts:
                continue  # migrations are plain Alembic scripts: sqlalchemy and alembic only
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _imported(name: str, path: Path) -> Iterator[str]:
    """Every project module ``name`` imports (``from a import b`` counts ``a.b`` if it's
    a module, else ``a``)."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from pkg import mod`` depends on the submodule; ``from pkg import name`` on pkg
            subs = [f"{base}.{alias.name}" for alias in node.names]
            targets = [t for t in subs if t in MODULES] or [base]
            if any(t not in MODULES for t in subs):
                targets.append(base)
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


GRAPH = {name: set(_imported(name, path)) for name, path in MODULES.items()}


def _within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _arrows(source: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{name} -> {target}"
        for name, targets in GRAPH.items()
        if _within(name, *source)
        for target in targets
        if _within(target, *forbidden)
    )


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(GRAPH[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return found


def test_the_walk_sees_the_project() -> None:
    assert "bot.desk.service" in GRAPH and "bot.conversation.engine" in GRAPH
    assert "bot.desk.tickets" in GRAPH["bot.desk.service"]


def test_no_import_circle() -> None:
    assert _cycles() == []


def test_intents_and_knowledge_import_nothing_of_the_bot() -> None:
    assert _arrows(("intents", "knowledge"), ("bot", "integrations")) == []


def test_integrations_import_no_bot_code() -> None:
    assert _arrows(("integrations",), ("bot",)) == []


def test_the_desk_imports_no_engine_flow_channel_or_page() -> None:
    above = ("bot.conversation", "bot.flows", "bot.channels", "bot.web", "bot.app", "bot.cli")
    assert _arrows(("bot.desk",), above) == []


def test_storage_imports_no_channel_engine_or_page() -> None:
    above = ("bot.conversation", "bot.flows", "bot.channels", "bot.web", "bot.app", "bot.cli")
    # storage/metadata.py collects the desk's tables for Alembic; nothing else in storage does
    assert _arrows(("bot.storage",), above) == []
    domain = _arrows(("bot.storage",), ("bot.desk", "bot.access"))
    assert all(arrow.startswith("bot.storage.metadata ->") for arrow in domain), domain


def test_access_imports_no_engine_flow_channel_or_page_and_the_desk_not_access() -> None:
    above = ("bot.conversation", "bot.flows", "bot.channels", "bot.web", "bot.app", "bot.cli")
    assert _arrows(("bot.access",), above) == []
    assert _arrows(("bot.desk",), ("bot.access",)) == []


def test_the_engine_and_flows_import_no_channel_or_page() -> None:
    above = ("bot.channels", "bot.web", "bot.app", "bot.cli")
    assert _arrows(("bot.conversation", "bot.flows", "bot.services"), above) == []


def test_no_slack_outbox_kind_or_slack_table_in_the_desk() -> None:
    slack_words = ("slack", "triage_post", "triage_update", "relay_to_agents", "SlackTicket")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for name, path in MODULES.items()
        if _within(name, "bot.desk")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(word in line for word in slack_words)
        and not line.lstrip().startswith(("#", '"', "``"))
        and "slack_group" not in line
    ]
    assert found == []


def test_no_module_is_over_the_size_limit() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in MODULES.values()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
