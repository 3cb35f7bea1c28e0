"""``itbot notice list|add|end``: service notices for scripts, with clear one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import itbot_command

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run(database_url: str, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    env = {
        **os.environ,
        "ITBOT_DATABASE_URL": database_url,
        "ITBOT_SEMANTIC": "off",
        "ITBOT_LOG_LEVEL": "WARNING",
    }

    def call(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*itbot_command(), "notice", *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return call


def test_add_list_and_end_a_notice(run: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    call = run
    empty = call("list")
    assert empty.returncode == 0 and "No notices standing." in empty.stdout
    added = call(
        "add", "--text", "There's a known problem with Outlook since 09:40; we're on it.",
        "--councils", "dacorum", "--products", "Outlook", "--hours", "2",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("Notice 1 published until ")
    listed = call("list", "--json")
    assert listed.returncode == 0, listed.stderr
    [notice] = json.loads(listed.stdout)
    assert notice["id"] == 1 and notice["councils"] == ["dacorum"]
    assert notice["products"] == ["Outlook"] and notice["standing"] is True
    ended = call("end", "1")
    assert ended.returncode == 0 and ended.stdout.strip() == "Notice 1 ended."
    assert "No notices standing." in call("list").stdout
    everything = json.loads(call("list", "--all", "--json").stdout)
    assert [n["standing"] for n in everything] == [False]
    again = call("end", "1")
    assert again.returncode == 1 and again.stderr.strip() == (
        "itbot notice: Notice 1 has already ended."
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("add", "--text", "Down", "--councils", "luton"), "unknown council luton"),
        (("add", "--text", "   ", "--councils", "dacorum"), "A notice needs some text"),
        (("add", "--text", "Down", "--councils", "dacorum", "--hours", "0"), "--hours must be"),
        (("end", "seven"), "'seven' is not a notice number"),
        (("end", "99"), "There is no notice 99."),
    ],
)
def test_bad_arguments_get_one_clear_line(run: Run, argv: tuple[str, ...], message: str) -> None:
    result = run(*argv)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("itbot notice: ") and message in lines[0]
    assert "Traceback" not in result.stderr
