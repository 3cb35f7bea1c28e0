"""The demo notifiers: printed in the terminal (labelled) and written to a JSON-lines file."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import stat
from pathlib import Path

import pytest

from integrations.notify.base import Message
from integrations.notify.console import ConsoleSender
from integrations.notify.file import FileSender

CODE = "481516"


async def test_console_prints_a_labelled_demo_message_and_logs_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    out = io.StringIO()
    sender = ConsoleSender(out)
    await sender.send(
        Message("07700 900123", "sms", f"Your code is {CODE}", purpose="code", secret=True)
    )
    await sender.send(
        Message(
            "sam.taylor@dacorum.gov.uk",
            "email",
            "Your password was reset.\nIf this wasn't you, call the desk.",
            subject="Your password was changed",
            purpose="access_changed",
        )
    )
    await sender.aclose()
    lines = out.getvalue().splitlines()
    assert lines[0] == f"[demo notifier — not sent] text to 07700 900123: Your code is {CODE}"
    assert lines[1].startswith(
        "[demo notifier — not sent] email to sam.taylor@dacorum.gov.uk "
        "(subject: Your password was changed): Your password was reset."
    )
    assert lines[2] == "    If this wasn't you, call the desk."
    assert sender.channels == {"sms", "email"}
    assert not any(CODE in r.getMessage() for r in caplog.records)


async def test_file_writes_one_json_line_per_message_readable_by_its_owner_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sent.jsonl"
    sender = FileSender(path)
    await sender.send(Message("07700 900123", "sms", f"Your code is {CODE}", purpose="code"))
    await sender.send(
        Message("sam@dacorum.gov.uk", "email", "Hello", subject="Hi", purpose="notice")
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first, second = (json.loads(line) for line in path.read_text().splitlines())
    assert first["to"] == "07700 900123" and first["channel"] == "sms"
    assert first["text"] == f"Your code is {CODE}" and first["purpose"] == "code"
    assert first["sent_at"].endswith("+00:00")
    assert second == {**second, "channel": "email", "subject": "Hi", "text": "Hello"}


async def test_concurrent_sends_keep_every_line_whole(tmp_path: Path) -> None:
    path = tmp_path / "sent.jsonl"
    senders = [FileSender(path), FileSender(path)]  # two senders on one file, like two replicas
    long = "x" * 5000  # longer than a pipe buffer: a torn write would show
    await asyncio.gather(
        *(
            senders[i % 2].send(Message(f"0770090{i:04d}", "sms", f"{i} {long}", purpose="code"))
            for i in range(200)
        )
    )
    lines = path.read_text().splitlines()
    assert len(lines) == 200
    numbers = sorted(int(json.loads(line)["text"].split()[0]) for line in lines)
    assert numbers == list(range(200))


async def test_a_file_that_cannot_be_written_is_a_send_error_without_the_text(
    tmp_path: Path,
) -> None:
    from integrations.notify.base import SendError

    sender = FileSender(tmp_path / "no-such-folder" / "sent.jsonl")
    with pytest.raises(SendError) as caught:
        await sender.send(Message("07700 900123", "sms", f"Your code is {CODE}"))
    assert CODE not in str(caught.value) and not caught.value.retryable
