"""``ITBOT_LOG_FORMAT``: ``itbot chat`` in a real subprocess, a password reset and a ticket,
its log on standard error read line by line.

JSON lines each parse, carry the turn's context (turn id, channel, council, ticket) and
never the one-time code or the temporary password; text lines stay readable. On SQLite
and on the local PostgreSQL server.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import itbot_command, sent_messages

SAM = "sam.taylor@dacorum.gov.uk"
SAM_MOBILE = "07700 900123"


def chat(folder: Path, database_url: str, lines: list[str], log_format: str) -> tuple[str, str]:
    """One ``itbot chat --as`` session typing ``lines``: (what it printed, its log)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "ITBOT_LOG_LEVEL")}
    result = subprocess.run(
        [*itbot_command(), "chat", "-vv", "--as", SAM],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        cwd=folder,
        env={
            **environ,
            "ITBOT_SEMANTIC": "off",
            "ITBOT_DATABASE_URL": database_url,
            "ITBOT_DIRECTORY": "demo",
            "ITBOT_NOTIFY": f"file:{folder / 'notify.jsonl'}",
            "ITBOT_LOG_FORMAT": log_format,
        },
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout, result.stderr


def last_code(folder: Path) -> str:
    codes = [m for m in sent_messages(folder / "notify.jsonl") if m["purpose"] == "code"]
    assert codes, "no code was sent"
    return str(codes[-1]["text"][:6])


def test_json_lines_carry_the_turn_and_never_a_secret(tmp_path: Path, database_url: str) -> None:
    _, log1 = chat(tmp_path, database_url, ["I forgot my password"], "json")
    code = last_code(tmp_path)
    printed, log2 = chat(tmp_path, database_url, [code], "json")
    found = re.search(r"temporary password is:\s+(\S+)", printed)
    assert found, printed
    password = found.group(1)
    _, log3 = chat(
        tmp_path,
        database_url,
        [
            "I want to raise a ticket",
            "The printer by the lift prints blank pages",
            "laptop, phone or printer",
            "I can work around it for now",
            "yes",
        ],
        "json",
    )
    log = log1 + log2 + log3
    records: list[dict[str, Any]] = [json.loads(line) for line in log.splitlines() if line]
    assert len(records) > 10
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    assert any(record["level"] == "DEBUG" for record in records)  # -vv: every level is JSON

    turns = [r for r in records if r["message"].startswith("turn channel=terminal")]
    assert len(turns) == 7
    assert all(r["channel"] == "terminal" and r["council"] == "dacorum" for r in turns)
    assert len({r["turn"] for r in turns}) == 7  # each turn its own id
    raised = [r for r in turns if "outcome=ticket_raised" in r["message"]]
    assert len(raised) == 1 and re.fullmatch(r"JSD-\d+", raised[0]["ticket"])
    # records of the start-up and shutdown carry no turn's context
    assert any("turn" not in r for r in records)

    for secret in (code, password):
        assert secret not in log, f"{secret!r} is in the log"
        assert re.search(rf"(?<![\d.]){re.escape(secret)}(?!\d)", log) is None


def test_text_lines_stay_readable_with_their_context(tmp_path: Path, database_url: str) -> None:
    _, log = chat(tmp_path, database_url, ["how do I share my calendar"], "text")
    turn = [line for line in log.splitlines() if " turn channel=terminal" in line]
    assert len(turn) == 1
    assert re.match(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ INFO bot\.conversation\.engine turn channel=terminal"
        r" .* \[turn=[0-9a-f]{16} channel=terminal council=dacorum\]$",
        turn[0],
    ), turn[0]
    assert not any(line.startswith("{") for line in log.splitlines())


def test_a_scripted_command_logs_migrations_only_when_they_run(tmp_path: Path) -> None:
    """`itbot report` on a new database says which migrations it applied; run again, its
    stderr is empty (Alembic's per-start "Context impl ..." lines are dropped)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("ITBOT_LOG_LEVEL",)}
    environ |= {"ITBOT_SEMANTIC": "off", "ITBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"}

    def report() -> str:
        result = subprocess.run(
            [*itbot_command(), "report", "--format", "json"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=environ,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert json.loads(result.stdout)
        return result.stderr

    first = report()
    assert "Running upgrade" in first and "Context impl" not in first
    again = report()
    assert "Context impl" not in again and "Running upgrade" not in again
