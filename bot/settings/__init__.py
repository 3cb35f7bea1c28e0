"""The one settings object.

Everything the bot can be configured with is declared here, once per setting (variable,
parser, default, one-line doc, group: see :mod:`bot.settings.declare`), and read from an
environ mapping (``ITBOT_*`` plus Slack's standard ``SLACK_*`` variables) and optionally a
TOML file named by ``ITBOT_CONFIG``. Environment variables win over the file. Nothing
else in the code base reads ``os.environ``.

>>> s = Settings.from_environ({"ITBOT_PORT": "9000"})
>>> s.port, s.council_for_email("sam.taylor@dacorum.gov.uk").key
(9000, 'dacorum')
"""

# setting() is the field specifier of Settings: it returns dataclasses.field(...), evaluated once
# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.settings import parsers
from bot.settings.declare import Setting, declared, markdown_table, read, setting
from bot.settings.teams import TeamsSettings
from bot.settings.values import (
    DEFAULT_COUNCILS,
    Council,
    Secret,
    SemanticMode,
    ServiceDeskKind,
)

__all__ = [
    "DEFAULT_COUNCILS",
    "SETTINGS",
    "SETTINGS_DOC",
    "Council",
    "Secret",
    "SemanticMode",
    "ServiceDeskKind",
    "Setting",
    "Settings",
    "settings_table_markdown",
]


def _councils_text(councils: tuple[Council, ...]) -> str:
    return json.dumps([dataclasses.asdict(c) for c in councils])


def _address_text(value: tuple[str, int] | None) -> str:
    return f"{value[0]}:{value[1]}" if value else ""


@dataclasses.dataclass(frozen=True, slots=True)
class Settings(TeamsSettings):
    """Typed, frozen configuration. Build it with :meth:`from_environ`."""

    # core
    database_url: str = setting(
        "ITBOT_DATABASE_URL",
        parsers.database_url,
        "sqlite+aiosqlite:///itbot.db",
        "SQLAlchemy URL. PostgreSQL: `postgresql+asyncpg://user:pass@host:5432/db`.",
        group="core",
    )
    log_level: str = setting(
        "ITBOT_LOG_LEVEL",
        parsers.log_level,
        "INFO",
        "Python logging level (`itbot chat` logs warnings only unless given `-v` or `-vv`).",
        group="core",
    )
    log_format: str = setting(
        "ITBOT_LOG_FORMAT",
        parsers.log_format,
        "text",
        "`text` (one readable line per record) or `json` (one JSON object per line, with the "
        "turn's id, channel, council and ticket reference).",
        group="core",
    )
    councils: tuple[Council, ...] = setting(
        "ITBOT_COUNCILS",
        parsers.councils_json,
        DEFAULT_COUNCILS,
        'JSON list of councils: `[{"key", "name", "domains", "desk_phone", "desk_email"}]` '
        "(in the TOML file: `[[councils]]` tables).",
        group="core",
        shown="both councils",
        text=_councils_text,
        from_file=parsers.councils,
    )
    flow_timeout_minutes: int = setting(
        "ITBOT_FLOW_TIMEOUT_MINUTES",
        parsers.positive_int,
        30,
        "Idle time after which a flow waiting for an answer gives up.",
        group="core",
    )
    retention_days: int = setting(
        "ITBOT_RETENTION_DAYS",
        parsers.positive_int,
        180,
        "Days what people typed is kept (turns, ticket transcripts, feedback, delivered "
        "notifications); `itbot serve` purges older texts, as `itbot privacy purge` does.",
        group="core",
    )
    purge_every_seconds: int = setting(
        "ITBOT_PURGE_EVERY_SECONDS",
        parsers.positive_int,
        3600,
        "How often `itbot serve` runs the retention purge (the first run this long after the "
        "start).",
        group="core",
    )
    # web
    host: str = setting(
        "ITBOT_HOST", parsers.text, "127.0.0.1", "Address `itbot serve` listens on.", group="web"
    )
    port: int = setting(
        "ITBOT_PORT", parsers.port, 8080, "Port `itbot serve` listens on.", group="web"
    )
    public_url: str | None = setting(
        "ITBOT_PUBLIC_URL",
        parsers.url,
        None,
        "Address people reach the bot at (behind a proxy): used in links to guides and in "
        "the OIDC redirect URI.",
        group="web",
        shown="`http://HOST:PORT`",
    )
    secret_key: Secret | None = setting(
        "ITBOT_SECRET_KEY",
        parsers.secret(16),
        None,
        "Key that signs the dashboard's session cookies and CSRF tokens (at least 16 "
        "characters). Set it when running several replicas.",
        group="web",
        shown="generated into `.itbot-secret-key`",
    )
    web_session_hours: int = setting(
        "ITBOT_WEB_SESSION_HOURS",
        parsers.positive_int,
        8,
        "Hours a web chat sign-in lasts (signing out ends it at once).",
        group="web",
    )
    metrics_token: Secret | None = setting(
        "ITBOT_METRICS_TOKEN",
        parsers.secret(16),
        None,
        "When set, `/metrics` answers only requests with `Authorization: Bearer <token>` "
        "(at least 16 characters).",
        group="web",
        shown="none: open",
    )
    metrics_address: tuple[str, int] | None = setting(
        "ITBOT_METRICS_ADDRESS",
        parsers.address,
        None,
        "`host:port` of a separate listener for `/metrics`; the bot's own address then "
        "has no `/metrics`.",
        group="web",
        shown="the bot's own address",
        text=_address_text,
    )
    trusted_email_header: str | None = setting(
        "ITBOT_TRUSTED_EMAIL_HEADER",
        parsers.text,
        None,
        "Header set by your SSO proxy with the signed-in user's email (e.g. "
        "`X-Forwarded-Email`); the web chat then does not ask for an email.",
        group="web",
    )
    # knowledge
    kb_path: Path | None = setting(
        "ITBOT_KB_PATH",
        parsers.existing_dir,
        None,
        "Folder of markdown articles to serve instead of the bundled knowledge base.",
        group="knowledge",
        shown="bundled articles",
    )
    cache_dir: Path = setting(
        "ITBOT_CACHE_DIR",
        parsers.path,
        Path(".itbot-cache"),
        "Where the embedding cache lives.",
        group="knowledge",
    )
    semantic: SemanticMode = setting(
        "ITBOT_SEMANTIC",
        parsers.semantic,
        "auto",
        "`auto` uses sentence embeddings when the model is installed (the quick start "
        "does), `on` requires them, `off` is lexical-only.",
        group="knowledge",
    )
    # Slack
    slack_bot_token: Secret | None = setting(
        "SLACK_BOT_TOKEN",
        parsers.secret(1),
        None,
        "Slack bot token (`xoxb-...`); Slack is off without it.",
        group="slack",
    )
    slack_signing_secret: Secret | None = setting(
        "SLACK_SIGNING_SECRET",
        parsers.secret(1),
        None,
        "Slack signing secret, for HTTP events.",
        group="slack",
    )
    slack_app_token: Secret | None = setting(
        "SLACK_APP_TOKEN",
        parsers.secret(1),
        None,
        "Slack app-level token (`xapp-...`): use Socket Mode.",
        group="slack",
    )
    slack_api_url: str = setting(
        "ITBOT_SLACK_API_URL",
        parsers.url,
        "https://slack.com/api/",
        "Base URL of Slack's Web API.",
        group="slack",
    )
    slack_triage_channel: str | None = setting(
        "ITBOT_SLACK_TRIAGE_CHANNEL",
        parsers.slack_id("CG"),
        None,
        "Channel id (`C...`) where agents triage tickets: one message per ticket, replies in "
        "its thread reach the requester. Invite the bot to it.",
        group="slack",
    )
    slack_agent_group: str | None = setting(
        "ITBOT_SLACK_AGENT_GROUP",
        parsers.slack_id("S"),
        None,
        "Slack user group id (`S...`) whose members are service desk agents.",
        group="slack",
    )
    # the built-in desk
    desk_name: str = setting(
        "ITBOT_DESK_NAME",
        parsers.text,
        "Joint ICT Service Desk",
        "Name of the service desk in replies.",
        group="desk",
    )
    desk_agents: tuple[str, ...] = setting(
        "ITBOT_DESK_AGENTS",
        parsers.emails,
        (),
        "Comma-separated emails of service desk agents (in Slack and on the dashboard's "
        "assignee lists), besides the user group and `itbot desk add-agent`.",
        group="desk",
    )
    ticket_prefix: str = setting(
        "ITBOT_TICKET_PREFIX",
        parsers.prefix,
        "JSD",
        "Prefix of ticket references (`JSD-000123`), 2 to 8 letters; the bot recognises it "
        "in messages.",
        group="desk",
    )
    working_hours: tuple[str, str] = setting(
        "ITBOT_WORKING_HOURS",
        parsers.hours,
        ("08:30", "17:00"),
        "Desk hours, Monday to Friday, Europe/London: SLA clocks only run then, and the bot "
        '("talk to a person" out of hours) and articles (`{{ desk.hours }}`) state them.',
        group="desk",
        text="-".join,
    )
    closure_days: tuple[str, ...] = setting(
        "ITBOT_CLOSURE_DAYS",
        parsers.closures,
        ("12-27..12-31",),
        "Days the desk is closed besides England & Wales bank holidays: `MM-DD` every year or "
        "`YYYY-MM-DD`, ranges with `..`, comma-separated (`{{ desk.closures }}` in articles).",
        group="desk",
    )
    spike_reports: int = setting(
        "ITBOT_SPIKE_REPORTS",
        parsers.positive_int,
        5,
        "Similar reports from this many different people within `ITBOT_SPIKE_MINUTES` make "
        "an outage alert (once per spike) in the triage channel and on the dashboard.",
        group="desk",
    )
    spike_minutes: int = setting(
        "ITBOT_SPIKE_MINUTES",
        parsers.positive_int,
        15,
        "The window, in minutes, in which similar reports count towards an outage alert.",
        group="desk",
    )
    signin_address_limit: int = setting(
        "ITBOT_SIGNIN_ADDRESS_LIMIT",
        parsers.positive_int,
        20,
        "Failed dashboard sign-ins allowed from one network address, whatever the emails, "
        "within 15 minutes (password spraying); 5 per email + address besides.",
        group="desk",
    )
    outbox_per_destination: int = setting(
        "ITBOT_OUTBOX_PER_DESTINATION",
        parsers.positive_int,
        4,
        "Outbox rows delivered at once to each destination (Slack, the external desk, email): "
        "a slow one never holds up the others.",
        group="desk",
    )
    notice_hours: int = setting(
        "ITBOT_NOTICE_HOURS",
        parsers.positive_int,
        4,
        "Hours a service notice stands by default before it expires (editable when published).",
        group="desk",
    )
    # an external desk
    servicedesk: ServiceDeskKind | None = setting(
        "ITBOT_SERVICEDESK",
        parsers.servicedesk,
        None,
        "Mirror tickets to an external desk: `rt` (Request Tracker 5), `jira` (Jira Service "
        "Management) or `servicenow`.",
        group="external",
        shown="(none: built-in desk only)",
    )
    servicedesk_url: str | None = setting(
        "ITBOT_SERVICEDESK_URL",
        parsers.url,
        None,
        "Base URL of the external desk.",
        group="external",
    )
    servicedesk_user: str = setting(
        "ITBOT_SERVICEDESK_USER",
        parsers.text,
        "itbot",
        "The bot's user there (RT user name, Jira account email, ServiceNow user).",
        group="external",
    )
    servicedesk_token: Secret | None = setting(
        "ITBOT_SERVICEDESK_TOKEN",
        parsers.secret(1),
        None,
        "Its credential (RT auth token, Jira API token, ServiceNow password).",
        group="external",
    )
    servicedesk_webhook_secret: Secret | None = setting(
        "ITBOT_SERVICEDESK_WEBHOOK_SECRET",
        parsers.secret(16),
        None,
        "Shared secret (16+ characters) that signs webhooks to `/desk/webhooks/<system>`; "
        "without it webhooks are refused.",
        group="external",
    )
    servicedesk_options: Mapping[str, Any] = setting(
        "ITBOT_SERVICEDESK_OPTIONS",
        parsers.json_object,
        {},
        'JSON object of connector options, e.g. RT `{"queue": "IT"}`, Jira '
        '`{"service_desk_id": "1", "request_type_id": "10", "project_key": "HELP"}`, '
        'ServiceNow `{"assignment_group": "..."}`.',
        group="external",
    )
    servicedesk_timeout: float = setting(
        "ITBOT_SERVICEDESK_TIMEOUT",
        parsers.positive_float,
        10.0,
        "Seconds (decimals allowed) before a call to the external desk is abandoned and "
        "retried later.",
        group="external",
    )
    servicedesk_poll_seconds: int = setting(
        "ITBOT_SERVICEDESK_POLL_SECONDS",
        parsers.positive_int,
        60,
        "How often remote changes are polled (webhooks make it immediate).",
        group="external",
    )

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Read settings from ``environ`` (and the TOML file ``ITBOT_CONFIG`` names).

        A bad value raises :class:`~bot.errors.SettingsError`, one line naming the variable.
        """
        return cls(**read(SETTINGS, environ))

    def council(self, key: str) -> Council:
        for council in self.councils:
            if council.key == key:
                return council
        raise KeyError(key)

    def council_for_email(self, email: str) -> Council | None:
        """The council whose staff domain ``email`` is on, or ``None``."""
        for council in self.councils:
            if council.owns(email):
                return council
        return None

    @property
    def base_url(self) -> str:
        """Where people reach the bot: ``public_url``, else the address it listens on."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None and (
            self.slack_signing_secret is not None or self.slack_app_token is not None
        )


#: Every setting, ``ITBOT_CONFIG`` first, then the fields in the README's group order.
SETTINGS: tuple[Setting[Any], ...] = declared(dataclasses.fields(Settings))

#: (variable, default as shown, what it does) for every setting, derived from :data:`SETTINGS`.
SETTINGS_DOC: tuple[tuple[str, str, str], ...] = tuple(
    (s.env, s.shown_default, s.doc) for s in SETTINGS
)


def settings_table_markdown() -> str:
    """The README's configuration tables, generated from the declarations.

    >>> print(settings_table_markdown().splitlines()[4])
    | `ITBOT_CONFIG` | (none) | Path of an optional TOML file with the settings below ...
    """
    return markdown_table(SETTINGS)
