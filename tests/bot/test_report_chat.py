"""The report after real conversations: ``itbot chat`` (a subprocess) on a fresh database,
three Dacorum people each get one answer and two Aylesbury Vale people each raise one
ticket; then ``itbot report`` counts exactly that, in JSON, CSV and HTML."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import itbot_command

ENV = {**os.environ, "ITBOT_SEMANTIC": "off"}
RAISE = [
    "I want to raise a ticket",
    "The printer by the lift prints blank pages",
    "laptop, phone or printer",
    "I can work around it for now",
    "yes",
]


def _itbot(folder: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*itbot_command(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=folder,
        env=ENV,
        timeout=180,
        check=False,
    )


def _chat(folder: Path, email: str, lines: list[str]) -> str:
    result = _itbot(folder, "chat", "--as", email, stdin="".join(f"{x}\n" for x in lines))
    assert result.returncode == 0, result.stderr
    return result.stdout


def _report(folder: Path, *args: str) -> str:
    result = _itbot(folder, "report", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_three_answers_and_two_tickets_in_the_report(tmp_path: Path) -> None:
    for name, question in (
        ("sam.taylor", "how do I share my calendar"),
        ("priya.shah", "how do I set up an out of office"),
        ("tom.evans", "how do I share my calendar"),
    ):
        said = _chat(tmp_path, f"{name}@dacorum.gov.uk", [question])
        assert "Was this helpful?" in said  # one answer each, left unrated
    for name in ("alex.jones", "jo.brown"):
        said = _chat(tmp_path, f"{name}@aylesburyvaledc.gov.uk", RAISE)
        assert "Done: JSD-" in said

    report: dict[str, Any] = json.loads(_report(tmp_path, "--format", "json"))
    dacorum, vale = report["councils"]["dacorum"], report["councils"]["aylesbury-vale"]
    assert dacorum["conversations"] == 3
    assert dacorum["questions_answered"] == 3
    assert dacorum["tickets_raised"] == 0
    assert dacorum["deflection"] == {"confirmed": 0, "potential": 3, "none": 0}
    assert vale["tickets_raised"] == 2
    assert vale["tickets_by_category"]["device"] == 2
    assert vale["questions_answered"] == 0
    assert vale["cost_share"]["tickets"] == 100.0
    assert report["all"]["conversations"] == 5

    # CSV and HTML carry the same figures as the JSON
    rows = list(csv.reader(io.StringIO(_report(tmp_path, "--format", "csv"))))
    assert rows[0] == ["council", "figure", "value"]
    figures = {(c, f): v for c, f, v in rows[1:]}
    assert figures["dacorum", "deflection.potential"] == "3"
    assert figures["aylesbury-vale", "tickets_raised"] == "2"
    assert figures["all", "questions_answered"] == "3"
    html = _report(tmp_path, "--format", "html", "--council", "dacorum")
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html
    assert 'data-council="dacorum" data-figure="deflection.potential">3<' in html
    assert "aylesbury-vale" not in html.split('id="figures"')[1]

    # subject access: one person's export holds their question and nobody else's
    held = _export(tmp_path, "priya.shah@dacorum.gov.uk")
    assert "how do I set up an out of office" in held
    assert "how do I share my calendar" not in held and "printer by the lift" not in held

    # purging everything up to now leaves no transcript, and the figures still add up
    result = _itbot(tmp_path, "privacy", "purge", "--older-than", "0")
    assert result.returncode == 0, result.stderr
    held = _export(tmp_path, "priya.shah@dacorum.gov.uk")
    assert "out of office" not in held
    turns = [t for c in json.loads(held)["conversations"] for t in c["turns"]]
    assert turns and not any(t["you_said"] or t["bot_replied"] for t in turns)
    for ticket in json.loads(_export(tmp_path, "alex.jones@aylesburyvaledc.gov.uk"))["tickets"]:
        assert not ticket.get("transcript")
    assert json.loads(_report(tmp_path, "--format", "json")) == report


def _export(folder: Path, email: str) -> str:
    result = _itbot(folder, "privacy", "export", "--email", email)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_bad_arguments_are_one_clear_line(tmp_path: Path) -> None:
    for args, says in (
        (("--from", "2026-02-30"), "--from '2026-02-30' is not a date like 2026-11-27"),
        (("--from", "2026-06-02", "--to", "2026-06-01"), "--from 2026-06-02 is after --to"),
        (("--council", "bucks"), "no council 'bucks'"),
        (("--format", "pdf"), "--format must be one of json, csv, html"),
    ):
        result = _itbot(tmp_path, "report", *args)
        assert result.returncode == 2
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and says in lines[0], result.stderr


def test_yes_no_and_a_ticket_after_an_answer_are_honest_outcomes(tmp_path: Path) -> None:
    """Yes is confirmed; No is none; an answer followed by a ticket on its topic is none;
    an answer left unrated is only potential."""
    calendar = "how do I share my calendar"
    said = _chat(tmp_path, "sam.taylor@dacorum.gov.uk", [calendar, "1"])
    assert "glad that helped" in said
    said = _chat(tmp_path, "priya.shah@dacorum.gov.uk", ["how do I set up an out of office", "2"])
    assert "the guide's editors will see it" in said
    _chat(tmp_path, "tom.evans@dacorum.gov.uk", [calendar])
    said = _chat(
        tmp_path,
        "jo.brown@dacorum.gov.uk",
        [
            calendar,
            "I want to raise a ticket",
            "Sharing my calendar fails with an error",
            "2",  # Calendar
            "I can work around it for now",
            "yes",
        ],
    )
    assert "Done: JSD-000001" in said

    dacorum = json.loads(_report(tmp_path))["councils"]["dacorum"]
    assert dacorum["questions_answered"] == 4
    assert dacorum["deflection"] == {"confirmed": 1, "potential": 1, "none": 2}
    assert dacorum["tickets_by_category"]["calendar"] == 1
    assert dacorum["top_articles"][0] == {
        "article": "calendar/share-your-calendar",
        "answers": 3,
        "confirmed": 1,
    }
