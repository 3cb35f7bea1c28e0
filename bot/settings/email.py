"""Settings for the email channel: the desk's mailbox (IMAP to read, SMTP to send).

A base class of :class:`bot.settings.Settings` (over the sign-in settings), read, checked
and documented like every other setting. The channel is on when the address is set
(:attr:`EmailSettings.email_enabled`); then both servers and the password (or, with
``graph``, the tenant and the app's id and secret) must be set too, or the start fails
naming the variable that is missing.
"""

# setting() is the field specifier: it returns dataclasses.field(...), evaluated once
# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses
from typing import Literal

from bot.errors import SettingsError
from bot.settings import parsers
from bot.settings.declare import setting
from bot.settings.signin import SignInSettings
from bot.settings.values import Secret

MailTls = Literal["on", "starttls", "off"]
MailProvider = Literal["imap", "graph"]


def mail_provider(raw: str) -> MailProvider:
    """``imap`` (IMAP to read, SMTP to send) or ``graph`` (Microsoft Graph mail)."""
    value = raw.strip().lower()
    if value == "imap":
        return "imap"
    if value == "graph":
        return "graph"
    raise ValueError(f"must be imap or graph (got {raw!r})")


def mail_tls(raw: str) -> MailTls:
    """``on`` (TLS from the start), ``starttls`` (upgrade a plain connection) or ``off``.

    >>> mail_tls(" STARTTLS ")
    'starttls'
    """
    value = raw.strip().lower()
    if value == "on":
        return "on"
    if value == "starttls":
        return "starttls"
    if value == "off":
        return "off"
    raise ValueError(f"must be on, starttls or off (got {raw!r})")


def mailbox_address(raw: str) -> str:
    """One email address, lower-cased.

    >>> mailbox_address(" ICTServiceDesk@Councils.example ")
    'ictservicedesk@councils.example'
    """
    value = raw.strip().lower()
    local, at, domain = value.partition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in value):
        raise ValueError(f"must be an email address (got {raw!r})")
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class EmailSettings(SignInSettings):
    """The desk's mailbox: where mail to the desk is read and replies are sent from."""

    email_address: str | None = setting(
        "ITBOT_EMAIL_ADDRESS",
        mailbox_address,
        None,
        "The desk's email address: mail to it raises tickets, replies come from it. The "
        "email channel is off without it.",
        group="email",
    )
    email_provider: MailProvider = setting(
        "ITBOT_EMAIL_PROVIDER",
        mail_provider,
        "imap",
        "`imap` (read over IMAP, send over SMTP) or `graph` (Exchange Online through "
        "Microsoft Graph: a delta query on the mailbox's inbox, replies sent through Graph).",
        group="email",
    )
    email_imap_host: str | None = setting(
        "ITBOT_EMAIL_IMAP_HOST",
        parsers.text,
        None,
        "IMAP server the desk's mailbox is read from.",
        group="email",
    )
    email_imap_port: int = setting(
        "ITBOT_EMAIL_IMAP_PORT",
        parsers.port,
        993,
        "Its port (993 with `on`, 143 with `starttls` or `off`).",
        group="email",
    )
    email_imap_tls: MailTls = setting(
        "ITBOT_EMAIL_IMAP_TLS",
        mail_tls,
        "on",
        "`on` (TLS from the start), `starttls` or `off` (a server on a trusted network).",
        group="email",
    )
    email_user: str | None = setting(
        "ITBOT_EMAIL_USER",
        parsers.text,
        None,
        "User name for IMAP and SMTP (default: the address).",
        group="email",
    )
    email_password: Secret | None = setting(
        "ITBOT_EMAIL_PASSWORD",
        parsers.secret(1),
        None,
        "Password for IMAP and SMTP.",
        group="email",
    )
    email_smtp_host: str | None = setting(
        "ITBOT_EMAIL_SMTP_HOST",
        parsers.text,
        None,
        "SMTP server replies are sent through.",
        group="email",
    )
    email_smtp_port: int = setting(
        "ITBOT_EMAIL_SMTP_PORT",
        parsers.port,
        587,
        "Its port (587 with `starttls`, 465 with `on`).",
        group="email",
    )
    email_smtp_tls: MailTls = setting(
        "ITBOT_EMAIL_SMTP_TLS",
        mail_tls,
        "starttls",
        "`on`, `starttls` or `off`; with `off` no login is made.",
        group="email",
    )
    email_poll_seconds: int = setting(
        "ITBOT_EMAIL_POLL_SECONDS",
        parsers.positive_int,
        60,
        "How often the mailbox is read when the server offers no IDLE (with IDLE: how "
        "long one IDLE lasts before it is renewed).",
        group="email",
    )
    email_send_retry_seconds: float = setting(
        "ITBOT_EMAIL_SEND_RETRY_SECONDS",
        parsers.positive_float,
        5.0,
        "A reply the mail server would not take is sent again after this long, doubling at "
        "each attempt (up to 5 minutes; 8 attempts).",
        group="email",
    )
    email_retry_seconds: float = setting(
        "ITBOT_EMAIL_RETRY_SECONDS",
        parsers.positive_float,
        60.0,
        "A mail that could not be acted on is tried again after this long, doubling at "
        "each attempt.",
        group="email",
    )
    email_retry_attempts: int = setting(
        "ITBOT_EMAIL_RETRY_ATTEMPTS",
        parsers.positive_int,
        5,
        "Attempts before such a mail is set aside: flagged and left unread in the mailbox "
        "for a person (a flagged mail is never read by the bot).",
        group="email",
    )

    email_graph_tenant: str | None = setting(
        "ITBOT_EMAIL_GRAPH_TENANT",
        parsers.text,
        None,
        "Entra tenant id of the desk's mailbox (for `graph`).",
        group="email",
    )
    email_graph_client_id: str | None = setting(
        "ITBOT_EMAIL_GRAPH_CLIENT_ID",
        parsers.text,
        None,
        "Application (client) id with the `Mail.ReadWrite` and `Mail.Send` application "
        "permissions (limit it to the desk's mailbox with an application access policy).",
        group="email",
    )
    email_graph_client_secret: Secret | None = setting(
        "ITBOT_EMAIL_GRAPH_CLIENT_SECRET",
        parsers.secret(1),
        None,
        "Its client secret.",
        group="email",
    )
    email_graph_url: str = setting(
        "ITBOT_EMAIL_GRAPH_URL",
        parsers.url,
        "https://graph.microsoft.com/v1.0/",
        "Base URL of Microsoft Graph for mail.",
        group="email",
    )
    email_graph_login_url: str = setting(
        "ITBOT_EMAIL_GRAPH_LOGIN_URL",
        parsers.url,
        "https://login.microsoftonline.com/",
        "Base URL of the Entra token endpoint for mail.",
        group="email",
    )

    def __post_init__(self) -> None:
        # the sign-in settings' checks first (named, not super(): a slotted dataclass
        # is a new class, which breaks super()'s implicit __class__ on Python 3.11)
        SignInSettings.__post_init__(self)
        if self.email_address is None:
            return
        needed = (
            (
                (self.email_graph_tenant, "ITBOT_EMAIL_GRAPH_TENANT"),
                (self.email_graph_client_id, "ITBOT_EMAIL_GRAPH_CLIENT_ID"),
                (self.email_graph_client_secret, "ITBOT_EMAIL_GRAPH_CLIENT_SECRET"),
            )
            if self.email_provider == "graph"
            else (
                (self.email_imap_host, "ITBOT_EMAIL_IMAP_HOST"),
                (self.email_smtp_host, "ITBOT_EMAIL_SMTP_HOST"),
                (self.email_password, "ITBOT_EMAIL_PASSWORD"),
            )
        )
        because = (
            "ITBOT_EMAIL_PROVIDER is graph"
            if self.email_provider == "graph"
            else "ITBOT_EMAIL_ADDRESS is set"
        )
        for value, variable in needed:
            if value is None:
                raise SettingsError(variable, f"must be set when {because}")

    @property
    def email_enabled(self) -> bool:
        """Whether the email channel runs (``ITBOT_EMAIL_ADDRESS`` and its servers set)."""
        return self.email_address is not None

    @property
    def email_login(self) -> str:
        """Who the channel signs in to IMAP and SMTP as."""
        return self.email_user or self.email_address or ""
