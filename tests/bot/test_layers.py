"""The house keeps its shape: channels and pages call repositories, they never build SQL."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"

#: what builds a statement; any of these imported from sqlalchemy means SQL is written here
SQL_BUILDERS = frozenset({"select", "update", "insert", "delete", "func", "text", "and_", "or_"})
#: what runs one
SQL_RUNNERS = frozenset({"execute", "exec_driver_sql"})

#: modules allowed to build SQL although they sit in channels or pages: none
ALLOWED: frozenset[str] = frozenset()


def sql_in(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, what) for every statement built or run in a module."""
    aliases: set[str] = set()  # names bound to the sqlalchemy package or a submodule
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for name in node.names:
                if name.name.split(".")[0] == "sqlalchemy":
                    aliases.add(name.asname or name.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            for name in node.names:
                if name.name in SQL_BUILDERS or name.name == "*":
                    yield node.lineno, f"imports {name.name} from {node.module}"
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in SQL_BUILDERS
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            yield node.lineno, f"uses {node.value.id}.{node.attr}"
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_RUNNERS
        ):
            yield node.lineno, f"calls .{node.func.attr}()"


def modules(*folders: str) -> Iterator[tuple[str, ast.AST]]:
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            yield name, ast.parse(path.read_text(encoding="utf-8"), filename=name)


def test_no_sql_in_channels_or_pages() -> None:
    found = [
        f"{name}:{line}: {what}"
        for name, tree in modules("bot/channels", "bot/web")
        if name not in ALLOWED
        for line, what in sql_in(tree)
    ]
    assert found == [], "channels and pages call repositories instead:\n" + "\n".join(found)


def test_the_check_sees_sql() -> None:
    source = """
import sqlalchemy as sa
from sqlalchemy import select, func
from sqlalchemy.ext.asyncio import AsyncSession

async def count(session: AsyncSession) -> int:
    await session.execute(sa.delete(T))
    return await session.scalar(select(func.count()))
"""
    assert sorted(sql_in(ast.parse(source))) == [
        (3, "imports func from sqlalchemy"),
        (3, "imports select from sqlalchemy"),
        (7, "calls .execute()"),
        (7, "uses sa.delete"),
    ]


def test_migrations_collect_tables_from_storage_and_desk_only() -> None:
    """Alembic's environment sits in storage: it may import table modules below the
    channels and pages, never anything above them."""
    tree = ast.parse((BOT / "storage/migrations/env.py").read_text(encoding="utf-8"))
    imported = {
        name.name for node in ast.walk(tree) if isinstance(node, ast.Import) for name in node.names
    } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    ours = {m for m in imported if m.split(".")[0] == "bot"}
    assert ours, "env.py should collect the tables' metadata"
    assert all(m.startswith(("bot.storage.", "bot.desk.")) for m in ours), sorted(ours)
