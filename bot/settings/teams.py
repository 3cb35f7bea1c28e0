"""The Microsoft Teams channel's settings (``ITBOT_TEAMS_*``), a base of :class:`Settings`."""

from __future__ import annotations

import dataclasses

from bot.settings import parsers
from bot.settings.declare import setting
from bot.settings.email import EmailSettings
from bot.settings.values import Secret


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
