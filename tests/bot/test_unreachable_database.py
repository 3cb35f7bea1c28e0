"""A database that can't be reached: every command that opens it says so in one line.

Run as a person runs them, in a real process: the line names the database and its host,
never its password, and the command exits non-zero without a traceback.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import itbot_command

PASSWORD = "s3cret-Pw"
UNREACHABLE = f"postgresql+asyncpg://itbot:{PASSWORD}@127.0.0.1:1/itdesk"


@pytest.mark.parametrize(
    "command",
    [
        ["serve", "--port", "1"],  # never listens: the database is opened first
        ["chat", "--as", "sam.taylor@dacorum.gov.uk"],
        ["db", "upgrade"],
        ["db", "current"],
        ["desk", "list"],
        ["audit", "list"],
        ["kb", "gaps"],
    ],
    ids=" ".join,
)
def test_one_clear_line_naming_the_host_never_the_password(
    tmp_path: Path, command: list[str]
) -> None:
    result = subprocess.run(
        [*itbot_command(), *command],
        input="hello\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "ITBOT_DATABASE_URL": UNREACHABLE, "ITBOT_SEMANTIC": "off"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if " INFO " not in line]
    assert errors == [
        "itbot: cannot reach the database itdesk on 127.0.0.1:1: connection refused. "
        "Check ITBOT_DATABASE_URL and that the database server is running and accepts "
        "connections."
    ], result.stderr
    assert PASSWORD not in result.stderr


def test_a_sqlite_file_that_cannot_be_created_is_one_line_too(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'itbot.db'}"
    result = subprocess.run(
        [*itbot_command(), "db", "upgrade"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "ITBOT_DATABASE_URL": url},
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "cannot reach the SQLite database" in result.stderr
    assert "its folder exists and can be written to" in result.stderr
