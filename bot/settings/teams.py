"""The Microsoft Teams channel's settings (``ITBOT_TEAMS_*``), a base of :class:`Settings`."""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import urlsplit

from bot.errors import SettingsError
from bot.settings import parsers
from bot.settings.declare import setting
from bot.settings.email import EmailSettings
from bot.settings.values import Secret

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
#: a Teams channel's conversation id: ``19:…@thread.tacv2`` (``@thread.skype`` in old teams)
_CHANNEL_ID = re.compile(r"19:[^;\s]+@thread\.[a-z0-9]+")


def allowed(service_url: str, hosts: tuple[str, ...]) -> bool:
    """Whether the bot may send to ``service_url``: https on a listed host (``*.`` for
    subdomains); plain http only to a loopback host that is listed (a local test fake).

    >>> allowed("https://smba.trafficmanager.net/uk/", ("smba.trafficmanager.net",))
    True
    >>> allowed("https://evil.example/", ("smba.trafficmanager.net",))
    False
    """
    try:
        parts = urlsplit(service_url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("https", "http") or not host:
        return False
    if parts.scheme == "http" and host not in _LOOPBACK:
        return False
    names = {host, f"{host}:{port}"} if port else {host}
    for entry in hosts:
        if entry in names:
            return True
        if entry.startswith("*.") and host.endswith(entry[1:]):
            return True
    return False


def channel_id(raw: str) -> str:
    """A Teams channel's conversation id (its thread id, without ``;messageid=``).

    >>> channel_id(" 19:a1b2c3@thread.tacv2 ")
    '19:a1b2c3@thread.tacv2'
    """
    value = raw.strip()
    if not _CHANNEL_ID.fullmatch(value):
        raise ValueError(
            "must be a Teams channel's id, like 19:…@thread.tacv2 (in Teams: the channel's "
            f"⋯ menu → Get link to channel, the part after /channel/, URL-decoded; got {raw!r})"
        )
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class TeamsSettings(EmailSettings):
    """Where the Teams channel's Azure Bot, tokens and Bot Connector are."""

    teams_app_id: str | None = setting(
        "ITBOT_TEAMS_APP_ID",
        parsers.text,
        None,
        "The Azure Bot's Microsoft App ID; Teams is off without it (and its password).",
        group="teams",
    )
    teams_app_password: Secret | None = setting(  # noqa: RUF009 - Secret is frozen
        "ITBOT_TEAMS_APP_PASSWORD",
        parsers.secret(1),
        None,
        "The app registration's client secret, for replies through the Bot Connector.",
        group="teams",
    )
    teams_tenant_id: str | None = setting(
        "ITBOT_TEAMS_TENANT_ID",
        parsers.text,
        None,
        "Your Entra tenant id (single-tenant bots); its token endpoint is the default.",
        group="teams",
    )
    teams_openid_url: str = setting(
        "ITBOT_TEAMS_OPENID_URL",
        parsers.endpoint,
        "https://login.botframework.com/v1/.well-known/openidconfiguration",
        "OpenID metadata whose keys sign the Bot Connector's tokens (other clouds differ).",
        group="teams",
    )
    teams_token_url: str | None = setting(
        "ITBOT_TEAMS_TOKEN_URL",
        parsers.endpoint,
        None,
        "Token endpoint for the bot's replies (default: the tenant's Entra token endpoint, "
        "or Bot Framework's without a tenant).",
        group="teams",
    )
    teams_service_hosts: tuple[str, ...] = setting(
        "ITBOT_TEAMS_SERVICE_HOSTS",
        parsers.hosts,
        (
            "smba.trafficmanager.net",
            "smba.infra.gov.teams.microsoft.us",
            "smba.infra.dod.teams.microsoft.us",
        ),
        "Hosts the bot sends replies to (an activity's `serviceUrl` must be on one), "
        "comma-separated; `*.` allows subdomains.",
        group="teams",
    )

    teams_triage_channel: str | None = setting(
        "ITBOT_TEAMS_TRIAGE_CHANNEL",
        channel_id,
        None,
        "The agents' triage channel in Teams (its id, `19:…@thread.tacv2`): a card per new "
        "ticket with Claim / Assign / Resolve, thread replies become comments. Off when unset.",
        group="teams",
    )
    teams_triage_service_url: str = setting(
        "ITBOT_TEAMS_TRIAGE_SERVICE_URL",
        parsers.endpoint,
        "https://smba.trafficmanager.net/teams/",
        "The Bot Connector's service URL the triage cards are posted through (its host must "
        "be on `ITBOT_TEAMS_SERVICE_HOSTS`; government clouds have their own).",
        group="teams",
    )

    def __post_init__(self) -> None:
        # the email and sign-in settings' checks first (named, not super(): a slotted
        # dataclass is a new class, which breaks super()'s implicit __class__ on 3.11)
        EmailSettings.__post_init__(self)
        if self.teams_triage_channel is None:
            return
        if not self.teams_enabled:
            raise SettingsError(
                "ITBOT_TEAMS_TRIAGE_CHANNEL",
                "needs Teams on: set ITBOT_TEAMS_APP_ID and ITBOT_TEAMS_APP_PASSWORD too",
            )
        if not allowed(self.teams_triage_service_url, self.teams_service_hosts):
            raise SettingsError(
                "ITBOT_TEAMS_TRIAGE_SERVICE_URL",
                f"its host must be on ITBOT_TEAMS_SERVICE_HOSTS "
                f"(got {self.teams_triage_service_url!r})",
            )

    @property
    def teams_triage_enabled(self) -> bool:
        """Whether Teams has an agents' triage channel to post to."""
        return self.teams_enabled and self.teams_triage_channel is not None

    @property
    def teams_enabled(self) -> bool:
        return bool(self.teams_app_id) and self.teams_app_password is not None

    @property
    def teams_token_endpoint(self) -> str:
        """Where the bot gets its Bot Connector token (client credentials)."""
        if self.teams_token_url:
            return self.teams_token_url
        tenant = self.teams_tenant_id or "botframework.com"
        return f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
