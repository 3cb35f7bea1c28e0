"""The configured notification sender (``ITBOT_NOTIFY``), built from the settings.

>>> sender = open_sender(Settings.from_environ({"ITBOT_NOTIFY": "file:/tmp/codes.jsonl"}))
...                                                                        # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from bot.errors import SettingsError
from bot.settings import Settings
from integrations.notify.base import Sender
from integrations.notify.console import ConsoleSender
from integrations.notify.file import FileSender
from integrations.notify.govuk_notify import GovukNotifySender, parse_api_key
from integrations.notify.smtp import SmtpSender


def open_sender(settings: Settings, *, stream: TextIO | None = None) -> Sender:
    """The sender ``ITBOT_NOTIFY`` names; a missing setting raises :class:`SettingsError`.

    ``stream``: where the console notifier prints (standard error when ``None``).
    """
    kind = settings.notify
    if kind == "console":
        return ConsoleSender(stream)
    if kind.startswith("file:"):
        return FileSender(Path(kind.removeprefix("file:")).expanduser())
    if kind == "govuk-notify":
        return _govuk_notify(settings)
    if kind == "smtp":
        return _smtp(settings)
    raise SettingsError("ITBOT_NOTIFY", f"is not a notifier this version knows ({kind!r})")


def _govuk_notify(settings: Settings) -> GovukNotifySender:
    if settings.notify_api_key is None:
        raise SettingsError("ITBOT_NOTIFY_API_KEY", "must be set for ITBOT_NOTIFY=govuk-notify")
    if not settings.notify_sms_template and not settings.notify_email_template:
        raise SettingsError(
            "ITBOT_NOTIFY_SMS_TEMPLATE",
            "or ITBOT_NOTIFY_EMAIL_TEMPLATE must be set for ITBOT_NOTIFY=govuk-notify",
        )
    key = settings.notify_api_key.reveal()
    try:
        parse_api_key(key)
    except ValueError as exc:
        raise SettingsError("ITBOT_NOTIFY_API_KEY", str(exc)) from None
    return GovukNotifySender(
        api_key=key,
        sms_template=settings.notify_sms_template,
        email_template=settings.notify_email_template,
        base_url=settings.notify_url,
    )


def _smtp(settings: Settings) -> SmtpSender:
    if not settings.smtp_host:
        raise SettingsError("ITBOT_SMTP_HOST", "must be set for ITBOT_NOTIFY=smtp")
    if settings.smtp_password is not None and not settings.smtp_user:
        raise SettingsError("ITBOT_SMTP_USER", "must be set with ITBOT_SMTP_PASSWORD")
    return SmtpSender(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        user=settings.smtp_user,
        password=settings.smtp_password.reveal() if settings.smtp_password else None,
        sender=settings.smtp_from,
    )
