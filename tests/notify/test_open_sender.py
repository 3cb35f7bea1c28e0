"""``ITBOT_NOTIFY`` picks the sender; a missing setting fails with the variable's name."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.access.senders import open_sender
from bot.errors import SettingsError
from bot.settings import Settings
from integrations.notify.base import Message
from integrations.notify.console import ConsoleSender
from integrations.notify.file import FileSender
from integrations.notify.govuk_notify import GovukNotifySender
from integrations.notify.smtp import SmtpSender
from tests.notify.fake_notify import API_KEY, SMS_TEMPLATE, serving


def _settings(**environ: str) -> Settings:
    return Settings.from_environ(environ)


async def test_console_is_the_default_and_prints_to_the_stream_given() -> None:
    out = io.StringIO()
    sender = open_sender(_settings(), stream=out)
    assert isinstance(sender, ConsoleSender)
    await sender.send(Message("07700 900123", "sms", "Your code is 123456"))
    assert out.getvalue().startswith("[demo notifier — not sent] text to 07700 900123")


async def test_file_path(tmp_path: Path) -> None:
    path = tmp_path / "codes.jsonl"
    sender = open_sender(_settings(ITBOT_NOTIFY=f"file:{path}"))
    assert isinstance(sender, FileSender)
    await sender.send(Message("07700 900123", "sms", "Your code is 123456"))
    assert json.loads(path.read_text())["to"] == "07700 900123"


async def test_govuk_notify_from_settings_sends_through_the_configured_url() -> None:
    async with serving() as fake:
        sender = open_sender(
            _settings(
                ITBOT_NOTIFY="govuk-notify",
                ITBOT_NOTIFY_API_KEY=API_KEY,
                ITBOT_NOTIFY_SMS_TEMPLATE=SMS_TEMPLATE,
                ITBOT_NOTIFY_URL=fake.url,
            )
        )
        assert isinstance(sender, GovukNotifySender) and sender.channels == {"sms"}
        try:
            await sender.send(Message("07700 900123", "sms", "Your code is 123456"))
        finally:
            await sender.aclose()
        assert len(fake.sent) == 1


def test_smtp_from_settings() -> None:
    sender = open_sender(
        _settings(ITBOT_NOTIFY="smtp", ITBOT_SMTP_HOST="mail.example", ITBOT_SMTP_PORT="25",
                  ITBOT_SMTP_SECURITY="none")
    )  # fmt: skip
    assert isinstance(sender, SmtpSender)
    assert (sender.host, sender.port, sender.security) == ("mail.example", 25, "none")
    assert sender.channels == {"email"}


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"ITBOT_NOTIFY": "govuk-notify"}, "ITBOT_NOTIFY_API_KEY"),
        ({"ITBOT_NOTIFY": "govuk-notify", "ITBOT_NOTIFY_API_KEY": API_KEY},
         "ITBOT_NOTIFY_SMS_TEMPLATE"),
        ({"ITBOT_NOTIFY": "govuk-notify", "ITBOT_NOTIFY_API_KEY": "k-" + "x" * 80,
          "ITBOT_NOTIFY_SMS_TEMPLATE": SMS_TEMPLATE}, "ITBOT_NOTIFY_API_KEY"),
        ({"ITBOT_NOTIFY": "smtp"}, "ITBOT_SMTP_HOST"),
        ({"ITBOT_NOTIFY": "smtp", "ITBOT_SMTP_HOST": "mail.example",
          "ITBOT_SMTP_PASSWORD": "pw"}, "ITBOT_SMTP_USER"),
    ],
)  # fmt: skip
def test_missing_settings_name_the_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as caught:
        open_sender(_settings(**environ))
    assert caught.value.variable == variable
    assert "x" * 20 not in str(caught.value)  # never the key itself
