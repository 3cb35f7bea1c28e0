"""Waiting questions in ``itbot chat`` (a real subprocess): typed labels, a new question
mid-way, and a flow left open by an earlier session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def _chat(folder: Path, lines: list[str]) -> str:
    found = shutil.which("itbot")
    command = [found] if found else [sys.executable, "-m", "bot"]
    result = subprocess.run(
        [*command, "chat", "--as", "sam.taylor@dacorum.gov.uk"],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        cwd=folder,
        env={**os.environ, "ITBOT_SEMANTIC": "off"},
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_labels_a_new_question_and_a_flow_left_open_yesterday(tmp_path: Path) -> None:
    first = _chat(
        tmp_path,
        [
            "I want to raise a ticket",
            "The printer by the lift prints blank pages",
            "laptop, phone or printer",  # the button's label, typed
            "how do I share my calendar",  # a clear new question, mid-way
        ],
    )
    assert "How much is this stopping you working?" in first
    assert "== Share your calendar" in first
    assert "carry on raising a ticket (“The printer by the lift prints blank pages”)?" in first
    assert "I'm waiting for" not in first

    # a new session, the ticket still open from the last one
    second = _chat(tmp_path, ["yes", "I can work around it for now", "yes"])
    assert "back to raising a ticket" in second
    assert "Done: JSD-000001" in second

    third = _chat(tmp_path, ["I want to raise a ticket", "Teams keeps freezing"])
    fourth = _chat(tmp_path, ["how do I set up an out of office", "No, drop it"])
    assert "Which of these is it about?" in third
    assert "I'm waiting for" not in fourth and "(out of office)" in fourth
    assert "carry on raising a ticket (“Teams keeps freezing”)?" in fourth
    assert "dropped that" in fourth  # the button's label, typed
