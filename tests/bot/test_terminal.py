"""``itbot chat`` in a real subprocess, as a person would run it."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from tests.conftest import itbot_command

#: what a line of the log looks like (``2026-01-05 09:00:00,123 INFO bot.app ...``)
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ([A-Z]+) ", re.MULTILINE)


def chat(tmp_path: Path, typed: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``itbot chat`` with ``typed`` as its input, piped as a script would, in ``tmp_path``."""
    environ = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "ITBOT_LOG_LEVEL")}
    return subprocess.run(
        [*itbot_command(), "chat", *args],
        input=typed,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**environ, "ITBOT_SEMANTIC": "off", **env},
        timeout=120,
        check=False,
    )


def test_greeting_and_answer_then_exit_at_end_of_input(tmp_path: Path) -> None:
    result = chat(tmp_path, "hi\nhow do i share my calendar\n", "--as", "someone@dacorum.gov.uk")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "bot> Hello Someone!" in out
    assert "== Share your calendar" in out
    assert "/kb/calendar/share-your-calendar" in out
    assert (tmp_path / "itbot.db").exists()


def test_a_foreign_address_is_refused_naming_the_domains_to_use(tmp_path: Path) -> None:
    result = chat(tmp_path, "", "--as", "x@example.com")
    assert result.returncode == 2
    assert result.stderr == (
        "itbot: --as must be a council email address (@aylesburyvaledc.gov.uk or @dacorum.gov.uk)\n"
    )
    # the domains are the settings' own
    councils = [
        {"key": "north", "name": "North Council", "domains": ["north.gov.uk", "n.gov.uk"],
         "desk_phone": "01632 960 300", "desk_email": "desk@north.gov.uk"},
        {"key": "south", "name": "South Council", "domains": ["south.gov.uk"],
         "desk_phone": "01632 960 400", "desk_email": "desk@south.gov.uk"},
    ]  # fmt: skip
    result = chat(tmp_path, "", "--as", "x@example.com", ITBOT_COUNCILS=json.dumps(councils))
    assert result.returncode == 2
    assert "(@north.gov.uk, @n.gov.uk or @south.gov.uk)" in result.stderr


def test_an_article_reads_as_text_with_full_links_and_no_log_lines(tmp_path: Path) -> None:
    result = chat(
        tmp_path,
        "how do i share my calendar\n",
        "--as",
        "someone@dacorum.gov.uk",
        ITBOT_PUBLIC_URL="https://itdesk.example.gov.uk",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "== Share your calendar with colleagues ==" in out
    # markdown rendered, not shown: no **bold**, no heading marks, no relative .md links
    assert "**" not in out and "## " not in out and "../" not in out and ".md" not in out
    assert "Select Share." in out
    # a link to another article is that article's public address
    assert "(https://itdesk.example.gov.uk/kb/calendar/give-someone-delegate-access)" in out
    assert "Full guide: https://itdesk.example.gov.uk/kb/calendar/share-your-calendar" in out
    assert "\x1b[" not in out  # piped: plain text, no colour codes
    # no log line among the replies; on standard error, warnings only by default (the demo
    # directory's), no INFO
    assert not LOG_LINE.search(out)
    assert set(LOG_LINE.findall(result.stderr)) <= {"WARNING"}, result.stderr


def test_v_puts_the_log_on_standard_error(tmp_path: Path) -> None:
    verbose = chat(tmp_path, "hi\n", "-v", "--as", "someone@dacorum.gov.uk")
    assert verbose.returncode == 0, verbose.stderr
    assert "INFO bot.conversation.engine turn channel=terminal" in verbose.stderr
    assert "DEBUG" not in verbose.stderr
    assert not LOG_LINE.search(verbose.stdout)
    assert "bot> Hello Someone!" in verbose.stdout

    debug = chat(tmp_path, "hi\n", "-vv", "--as", "someone@dacorum.gov.uk")
    assert debug.returncode == 0, debug.stderr
    assert " DEBUG " in debug.stderr
    assert not LOG_LINE.search(debug.stdout)
