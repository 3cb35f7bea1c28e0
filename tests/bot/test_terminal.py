"""``itbot chat`` in a real subprocess, as a person would run it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def _itbot() -> list[str]:
    found = shutil.which("itbot")
    return [found] if found else [sys.executable, "-m", "bot"]


def test_greeting_and_answer_then_exit_at_end_of_input(tmp_path: Path) -> None:
    result = subprocess.run(
        [*_itbot(), "chat", "--as", "someone@dacorum.gov.uk"],
        input="hi\nhow do i share my calendar\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "ITBOT_SEMANTIC": "off"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "bot> Hello Someone!" in out
    assert "== Share your calendar" in out
    assert "/kb/calendar/share-your-calendar" in out
    assert (tmp_path / "itbot.db").exists()


def test_a_foreign_address_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [*_itbot(), "chat", "--as", "x@example.com"],
        input="",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--as must be a council email address" in result.stderr
