"""The one settings object.

Everything the bot can be configured with is read here, from an environ mapping
(``ITBOT_*`` plus Slack's standard ``SLACK_*`` variables) and optionally a TOML
file named by ``ITBOT_CONFIG``. Environment variables win over the file.
Nothing else in the code base reads ``os.environ``.

>>> s = Settings.from_environ({"ITBOT_PORT": "9000"})
>>> s.port, s.council_for_email("sam.taylor@dacorum.gov.uk").key
(9000, 'dacorum')
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from bot.errors import SettingsError

T = TypeVar("T")

SemanticMode = Literal["auto", "on", "off"]


@dataclass(frozen=True, slots=True)
class Secret:
    """A value that must never be printed or logged: ``repr`` and ``str`` hide it."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def reveal(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Council:
    """One council of the partnership: its key, display name, staff domains, desk contact."""

    key: str
    name: str
    domains: tuple[str, ...]
    desk_phone: str
    desk_email: str

    def owns(self, email: str) -> bool:
        domain = email.rpartition("@")[2].lower()
        return any(domain == d or domain.endswith("." + d) for d in self.domains)


DEFAULT_COUNCILS: tuple[Council, ...] = (
    Council(
        key="aylesbury-vale",
        name="Aylesbury Vale District Council",
        domains=("aylesburyvaledc.gov.uk",),
        desk_phone="01632 960 100",
        desk_email="ictservicedesk@aylesburyvaledc.gov.uk",
    ),
    Council(
        key="dacorum",
        name="Dacorum Borough Council",
        domains=("dacorum.gov.uk",),
        desk_phone="01632 960 200",
        desk_email="ictservicedesk@dacorum.gov.uk",
    ),
)


@dataclass(frozen=True, slots=True)
class Settings:
    """Typed, frozen configuration. Build it with :meth:`from_environ`."""

    database_url: str = "sqlite+aiosqlite:///itbot.db"
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None
    kb_path: Path | None = None
    cache_dir: Path = Path(".itbot-cache")
    semantic: SemanticMode = "auto"
    log_level: str = "INFO"
    secret_key: Secret | None = None
    trusted_email_header: str | None = None
    flow_timeout_minutes: int = 30
    desk_name: str = "Joint ICT Service Desk"
    councils: tuple[Council, ...] = DEFAULT_COUNCILS
    slack_bot_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_app_token: Secret | None = None
    slack_api_url: str = "https://slack.com/api/"
    #: the channel where agents triage tickets (one message per ticket); none: no triage
    slack_triage_channel: str | None = None
    #: the Slack user group whose members are service desk agents
    slack_agent_group: str | None = None
    #: email addresses of service desk agents (besides the group and ``itbot desk add-agent``)
    desk_agents: tuple[str, ...] = ()
    ticket_prefix: str = "JSD"
    working_hours: tuple[str, str] = ("08:30", "17:00")
    closure_days: tuple[str, ...] = ("12-27..12-31",)
    servicedesk: Literal["rt", "jira", "servicenow"] | None = None
    servicedesk_url: str | None = None
    servicedesk_user: str | None = None
    servicedesk_token: Secret | None = None
    servicedesk_webhook_secret: Secret | None = None
    servicedesk_options: Mapping[str, Any] = field(default_factory=dict)
    servicedesk_timeout: float = 10.0
    servicedesk_poll_seconds: int = 60

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Read settings from ``environ`` (and the TOML file ``ITBOT_CONFIG`` names)."""
        values: dict[str, str] = {}
        file_values: dict[str, Any] = {}
        config = environ.get("ITBOT_CONFIG")
        if config:
            file_values = _read_toml(Path(config))
            for key, value in file_values.items():
                if key != "councils":
                    values[_env_name(key)] = value if isinstance(value, str) else json.dumps(value)
        values.update({k: v for k, v in environ.items() if k in _KNOWN})

        d = cls()

        def get(name: str, parse: Callable[[str, str], T], default: T) -> T:
            raw = values.get(name)
            if raw is None or raw == "":
                return default
            return parse(name, raw)

        councils = DEFAULT_COUNCILS
        if "councils" in file_values:
            councils = _parse_councils("ITBOT_CONFIG [[councils]]", file_values["councils"])
        if values.get("ITBOT_COUNCILS"):
            councils = _parse_councils_json("ITBOT_COUNCILS", values["ITBOT_COUNCILS"])

        return cls(
            database_url=get("ITBOT_DATABASE_URL", _database_url, d.database_url),
            host=get("ITBOT_HOST", _text, d.host),
            port=get("ITBOT_PORT", _port, d.port),
            public_url=get("ITBOT_PUBLIC_URL", _url, None),
            kb_path=get("ITBOT_KB_PATH", _existing_dir, None),
            cache_dir=get("ITBOT_CACHE_DIR", _path, d.cache_dir),
            semantic=get("ITBOT_SEMANTIC", _semantic, d.semantic),
            log_level=get("ITBOT_LOG_LEVEL", _log_level, d.log_level),
            secret_key=get("ITBOT_SECRET_KEY", _secret_min(16), None),
            trusted_email_header=get("ITBOT_TRUSTED_EMAIL_HEADER", _text, None),
            flow_timeout_minutes=get("ITBOT_FLOW_TIMEOUT_MINUTES", _positive_int, 30),
            desk_name=get("ITBOT_DESK_NAME", _text, d.desk_name),
            councils=councils,
            slack_bot_token=get("SLACK_BOT_TOKEN", _secret_min(1), None),
            slack_signing_secret=get("SLACK_SIGNING_SECRET", _secret_min(1), None),
            slack_app_token=get("SLACK_APP_TOKEN", _secret_min(1), None),
            slack_api_url=get("ITBOT_SLACK_API_URL", _url, d.slack_api_url),
            slack_triage_channel=get("ITBOT_SLACK_TRIAGE_CHANNEL", _slack_id("CG"), None),
            slack_agent_group=get("ITBOT_SLACK_AGENT_GROUP", _slack_id("S"), None),
            desk_agents=get("ITBOT_DESK_AGENTS", _emails, ()),
            ticket_prefix=get("ITBOT_TICKET_PREFIX", _prefix, d.ticket_prefix),
            working_hours=get("ITBOT_WORKING_HOURS", _hours, d.working_hours),
            closure_days=get("ITBOT_CLOSURE_DAYS", _closures, d.closure_days),
            servicedesk=get("ITBOT_SERVICEDESK", _servicedesk, None),
            servicedesk_url=get("ITBOT_SERVICEDESK_URL", _url, None),
            servicedesk_user=get("ITBOT_SERVICEDESK_USER", _text, None),
            servicedesk_token=get("ITBOT_SERVICEDESK_TOKEN", _secret_min(1), None),
            servicedesk_webhook_secret=get(
                "ITBOT_SERVICEDESK_WEBHOOK_SECRET", _secret_min(16), None
            ),
            servicedesk_options=get("ITBOT_SERVICEDESK_OPTIONS", _json_object, {}),
            servicedesk_timeout=float(get("ITBOT_SERVICEDESK_TIMEOUT", _positive_int, 10)),
            servicedesk_poll_seconds=get("ITBOT_SERVICEDESK_POLL_SECONDS", _positive_int, 60),
        )

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


#: Every setting: environment variable, default shown to people, what it does.
#: The README's configuration table is checked against this list by a test.
SETTINGS_DOC: tuple[tuple[str, str, str], ...] = (
    (
        "ITBOT_CONFIG",
        "(none)",
        "Path of an optional TOML file with the settings below "
        "(lower-case names without the prefix, e.g. `port = 9000`, plus `[[councils]]` tables).",
    ),
    (
        "ITBOT_DATABASE_URL",
        "`sqlite+aiosqlite:///itbot.db`",
        "SQLAlchemy URL. PostgreSQL: `postgresql+asyncpg://user:pass@host:5432/db`.",
    ),
    ("ITBOT_HOST", "`127.0.0.1`", "Address `itbot serve` listens on."),
    ("ITBOT_PORT", "`8080`", "Port `itbot serve` listens on."),
    (
        "ITBOT_PUBLIC_URL",
        "`http://HOST:PORT`",
        "Address people reach the bot at (behind a proxy): used in links to guides.",
    ),
    (
        "ITBOT_KB_PATH",
        "bundled articles",
        "Folder of markdown articles to serve instead of the bundled knowledge base.",
    ),
    ("ITBOT_CACHE_DIR", "`.itbot-cache`", "Where the embedding cache lives."),
    (
        "ITBOT_SEMANTIC",
        "`auto`",
        "`auto` uses sentence embeddings when `itbot[semantic]` is "
        "installed, `on` requires them, `off` is lexical-only.",
    ),
    ("ITBOT_LOG_LEVEL", "`INFO`", "Python logging level."),
    (
        "ITBOT_SECRET_KEY",
        "generated into `.itbot-secret-key`",
        "Key that signs web session "
        "cookies (at least 16 characters). Set it when running several replicas.",
    ),
    (
        "ITBOT_TRUSTED_EMAIL_HEADER",
        "(none)",
        "Header set by your SSO proxy with the signed-in "
        "user's email (e.g. `X-Forwarded-Email`); the web chat then does not ask for an email.",
    ),
    (
        "ITBOT_FLOW_TIMEOUT_MINUTES",
        "`30`",
        "Idle time after which a flow waiting for an answer gives up.",
    ),
    ("ITBOT_DESK_NAME", "`Joint ICT Service Desk`", "Name of the service desk in replies."),
    (
        "ITBOT_COUNCILS",
        "both councils",
        'JSON list of councils: `[{"key", "name", "domains", "desk_phone", "desk_email"}]`.',
    ),
    ("SLACK_BOT_TOKEN", "(none)", "Slack bot token (`xoxb-...`); Slack is off without it."),
    ("SLACK_SIGNING_SECRET", "(none)", "Slack signing secret, for HTTP events."),
    ("SLACK_APP_TOKEN", "(none)", "Slack app-level token (`xapp-...`): use Socket Mode."),
    ("ITBOT_SLACK_API_URL", "`https://slack.com/api/`", "Base URL of Slack's Web API."),
    (
        "ITBOT_SLACK_TRIAGE_CHANNEL",
        "(none)",
        "Channel id (`C...`) where agents triage tickets: one message per ticket, "
        "replies in its thread reach the requester. Invite the bot to it.",
    ),
    (
        "ITBOT_SLACK_AGENT_GROUP",
        "(none)",
        "Slack user group id (`S...`) whose members are service desk agents.",
    ),
    (
        "ITBOT_DESK_AGENTS",
        "(none)",
        "Comma-separated emails of service desk agents (in Slack and on the dashboard's "
        "assignee lists), besides the user group and `itbot desk add-agent`.",
    ),
    ("ITBOT_TICKET_PREFIX", "`JSD`", "Prefix of ticket references (`JSD-000123`)."),
    (
        "ITBOT_WORKING_HOURS",
        "`08:30-17:00`",
        "Desk hours, Monday to Friday, Europe/London; SLA clocks only run then.",
    ),
    (
        "ITBOT_CLOSURE_DAYS",
        "`12-27..12-31`",
        "Days the desk is closed besides England & Wales bank holidays: `MM-DD` every year or "
        "`YYYY-MM-DD`, ranges with `..`, comma-separated.",
    ),
    (
        "ITBOT_SERVICEDESK",
        "(none: built-in desk only)",
        "Mirror tickets to an external desk: "
        "`rt` (Request Tracker 5), `jira` (Jira Service Management) or `servicenow`.",
    ),
    ("ITBOT_SERVICEDESK_URL", "(none)", "Base URL of the external desk."),
    (
        "ITBOT_SERVICEDESK_USER",
        "`itbot`",
        "The bot's user there (RT user name, Jira account email, ServiceNow user).",
    ),
    (
        "ITBOT_SERVICEDESK_TOKEN",
        "(none)",
        "Its credential (RT auth token, Jira API token, ServiceNow password).",
    ),
    (
        "ITBOT_SERVICEDESK_WEBHOOK_SECRET",
        "(none)",
        "Shared secret (16+ characters) that "
        "signs webhooks to `/desk/webhooks/<system>`; without it webhooks are refused.",
    ),
    (
        "ITBOT_SERVICEDESK_OPTIONS",
        "`{}`",
        "JSON object of connector options, e.g. RT "
        '`{"queue": "IT"}`, Jira `{"service_desk_id": "1", "request_type_id": "10", '
        '"project_key": "HELP"}`, ServiceNow `{"assignment_group": "..."}`.',
    ),
    (
        "ITBOT_SERVICEDESK_TIMEOUT",
        "`10`",
        "Seconds before a call to the external desk is abandoned and retried later.",
    ),
    (
        "ITBOT_SERVICEDESK_POLL_SECONDS",
        "`60`",
        "How often remote changes are polled (webhooks make it immediate).",
    ),
)

_KNOWN = frozenset(name for name, _, _ in SETTINGS_DOC)


def _env_name(key: str) -> str:
    key = key.upper()
    return key if key.startswith("SLACK_") and key != "SLACK_API_URL" else f"ITBOT_{key}"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError("ITBOT_CONFIG", f"file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError("ITBOT_CONFIG", f"{path} is not valid TOML: {exc}") from None


def _text(name: str, raw: str) -> str:
    return raw.strip()


def _path(name: str, raw: str) -> Path:
    return Path(raw).expanduser()


def _existing_dir(name: str, raw: str) -> Path:
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise SettingsError(name, f"must be an existing folder (got {raw!r})")
    return path


def _port(name: str, raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise SettingsError(name, f"must be a whole number from 0 to 65535 (got {raw!r})")
    return port


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise SettingsError(name, f"must be a whole number above 0 (got {raw!r})")
    return value


def _semantic(name: str, raw: str) -> SemanticMode:
    value = raw.strip().lower()
    if value == "auto":
        return "auto"
    if value == "on":
        return "on"
    if value == "off":
        return "off"
    raise SettingsError(name, f"must be one of auto, on, off (got {raw!r})")


def _log_level(name: str, raw: str) -> str:
    value = raw.strip().upper()
    if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise SettingsError(name, f"must be DEBUG, INFO, WARNING, ERROR or CRITICAL (got {raw!r})")
    return value


def _database_url(name: str, raw: str) -> str:
    value = raw.strip()
    if value.startswith(("postgresql://", "postgres://")):
        value = "postgresql+asyncpg://" + value.split("://", 1)[1]
    if value.startswith("sqlite:///"):
        value = "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
    if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise SettingsError(
            name,
            "must be a sqlite+aiosqlite:// or postgresql+asyncpg:// URL "
            f"(got scheme {value.split(':', 1)[0]!r})",
        )
    return value


def _url(name: str, raw: str) -> str:
    value = raw.strip()
    if not value.startswith(("http://", "https://")):
        raise SettingsError(name, f"must be an http:// or https:// URL (got {raw!r})")
    return value if value.endswith("/") else value + "/"


def _secret_min(length: int) -> Callable[[str, str], Secret]:
    def parse(name: str, raw: str) -> Secret:
        if len(raw) < length:
            raise SettingsError(name, f"must be at least {length} characters long")
        return Secret(raw)

    return parse


def _slack_id(first: str) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        value = raw.strip()
        if not re.fullmatch(f"[{first}][A-Z0-9]{{2,}}", value):
            kinds = " or ".join(first)
            raise SettingsError(name, f"must be a Slack id starting {kinds} (got {raw!r})")
        return value

    return parse


def _emails(name: str, raw: str) -> tuple[str, ...]:
    emails = tuple(part.strip().lower() for part in raw.split(",") if part.strip())
    for email in emails:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise SettingsError(name, f"{email!r} is not an email address")
    return emails


def _prefix(name: str, raw: str) -> str:
    value = raw.strip().upper()
    if not re.fullmatch(r"[A-Z]{2,8}", value):
        raise SettingsError(name, f"must be 2 to 8 letters (got {raw!r})")
    return value


def _hours(name: str, raw: str) -> tuple[str, str]:
    match = re.fullmatch(r"\s*([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]):([0-5]\d)\s*", raw)
    if not match or match.group(1, 2) >= match.group(3, 4):
        raise SettingsError(name, f"must look like 08:30-17:00, opening first (got {raw!r})")
    return f"{match.group(1)}:{match.group(2)}", f"{match.group(3)}:{match.group(4)}"


def _closures(name: str, raw: str) -> tuple[str, ...]:
    from bot.desk.calendar import parse_closures

    try:
        return parse_closures(raw)
    except ValueError as exc:
        raise SettingsError(name, str(exc)) from None


def _servicedesk(name: str, raw: str) -> Literal["rt", "jira", "servicenow"]:
    value = raw.strip().lower()
    if value == "rt":
        return "rt"
    if value == "jira":
        return "jira"
    if value == "servicenow":
        return "servicenow"
    raise SettingsError(name, f"must be rt, jira or servicenow (got {raw!r})")


def _json_object(name: str, raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError(name, f"must be a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise SettingsError(name, "must be a JSON object")
    return value


def _parse_councils_json(name: str, raw: str) -> tuple[Council, ...]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError(name, f"must be a JSON list of councils: {exc}") from None
    return _parse_councils(name, data)


def _parse_councils(name: str, data: object) -> tuple[Council, ...]:
    if not isinstance(data, list) or not data:
        raise SettingsError(name, "must be a non-empty list of councils")
    councils: list[Council] = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise SettingsError(name, f"council #{i + 1} must be a table/object")
        try:
            domains = item["domains"]
            if isinstance(domains, str):
                domains = [domains]
            councils.append(
                Council(
                    key=str(item["key"]),
                    name=str(item["name"]),
                    domains=tuple(str(d).lower() for d in domains),
                    desk_phone=str(item.get("desk_phone", "")),
                    desk_email=str(item.get("desk_email", "")),
                )
            )
        except KeyError as exc:
            raise SettingsError(name, f"council #{i + 1} is missing {exc.args[0]!r}") from None
    keys = [c.key for c in councils]
    if len(set(keys)) != len(keys):
        raise SettingsError(name, "council keys must be unique")
    return tuple(councils)
