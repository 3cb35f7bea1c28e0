"""Every CLI command and every setting appears in the README (as datasette's test_docs)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli import build_parser

README = (Path(__file__).parents[2] / "README.md").read_text()


def _commands(parser: argparse.ArgumentParser, prefix: list[str]) -> list[str]:
    found: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = _commands(sub, [*prefix, name])
                found.extend(nested or [" ".join([*prefix, name])])
    return found


def test_every_command_is_in_the_readme() -> None:
    commands = _commands(build_parser(), ["itbot"])
    assert len(commands) >= 15
    missing = [c for c in commands if f"`{c}" not in README]
    assert not missing, f"commands missing from the README: {missing}"


def test_the_readme_configuration_table_is_the_generated_one() -> None:
    """The README's settings tables are what ``itbot settings --markdown`` prints."""
    from bot.settings import settings_table_markdown

    start = README.index("<!-- settings table:")
    start = README.index("\n\n", start) + 2
    end = README.index("\n<!-- end of settings table -->")
    assert README[start:end] == settings_table_markdown(), (
        "README.md's configuration table differs from the declarations in bot/settings/: "
        "paste the output of `itbot settings --markdown` between its markers"
    )
