"""How people prove who they are on the web: OIDC for the web chat, and the proxies in front.

Declared apart from the core settings so the web chat's sign-in reads as one block; the
fields join :class:`bot.settings.Settings` by inheritance like :mod:`bot.settings.access`.
"""

# setting() is the field specifier: it returns dataclasses.field(...), evaluated once
# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses
import ipaddress
from urllib.parse import urlsplit

from bot.errors import SettingsError
from bot.settings import parsers
from bot.settings.access import AccessSettings
from bot.settings.declare import setting
from bot.settings.values import Secret

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def oidc_url(raw: str) -> str:
    """An issuer or discovery URL: https (plain http only for this machine, in tests).

    >>> oidc_url("https://login.microsoftonline.com/t/v2.0")
    'https://login.microsoftonline.com/t/v2.0'
    """
    value = raw.strip()
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return value
    if parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS:
        return value
    raise ValueError(f"must be an https:// URL (got {raw!r})")


def scopes(raw: str) -> tuple[str, ...]:
    """Space- or comma-separated OAuth scopes; ``openid`` must be among them.

    >>> scopes("openid email, profile")
    ('openid', 'email', 'profile')
    """
    found = tuple(s for s in raw.replace(",", " ").split() if s)
    if "openid" not in found:
        raise ValueError("must include openid")
    return found


def networks(raw: str) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR blocks (``10.0.0.0/8, 192.0.2.7``).

    >>> [str(n) for n in networks("10.0.0.0/8, 192.0.2.7")]
    ['10.0.0.0/8', '192.0.2.7/32']
    """
    found: list[Network] = []
    for part in raw.split(","):
        if not part.strip():
            continue
        try:
            found.append(ipaddress.ip_network(part.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{part.strip()!r} is not an address or CIDR block") from None
    return tuple(found)


def _scopes_text(value: tuple[str, ...]) -> str:
    return " ".join(value)


@dataclasses.dataclass(frozen=True, slots=True)
class SignInSettings(AccessSettings):
    """The web chat's OIDC sign-in, and which proxies may name the client's address."""

    oidc_issuer: str | None = setting(
        "ITBOT_OIDC_ISSUER",
        oidc_url,
        None,
        "OIDC issuer of the councils' identity provider (Entra ID: "
        "`https://login.microsoftonline.com/<tenant id>/v2.0`); when set, the web chat "
        'offers "Sign in with your council account".',
        group="web",
        shown="none: no OIDC",
    )
    oidc_discovery_url: str | None = setting(
        "ITBOT_OIDC_DISCOVERY_URL",
        oidc_url,
        None,
        "Where the provider's discovery document is, if not at the issuer's "
        "`/.well-known/openid-configuration`.",
        group="web",
        shown="from the issuer",
    )
    oidc_client_id: str | None = setting(
        "ITBOT_OIDC_CLIENT_ID",
        parsers.text,
        None,
        "The bot's client (application) id at the provider; ID tokens must name it as "
        "their audience.",
        group="web",
    )
    oidc_client_secret: Secret | None = setting(
        "ITBOT_OIDC_CLIENT_SECRET",
        parsers.secret(1),
        None,
        "The client secret (a confidential client; PKCE is used as well).",
        group="web",
    )
    oidc_scopes: tuple[str, ...] = setting(
        "ITBOT_OIDC_SCOPES",
        scopes,
        ("openid", "email", "profile"),
        "Scopes asked for (space-separated; must include `openid`).",
        group="web",
        text=_scopes_text,
        shown="`openid email profile`",
    )
    trusted_proxies: tuple[Network, ...] = setting(
        "ITBOT_TRUSTED_PROXIES",
        networks,
        (),
        "Addresses or CIDR blocks of your reverse proxies (comma-separated): only from "
        "these is `X-Forwarded-For` believed, for sign-in limits and logs.",
        group="web",
        shown="none",
    )

    def __post_init__(self) -> None:
        if self.oidc_issuer and not self.oidc_client_id:
            raise SettingsError("ITBOT_OIDC_CLIENT_ID", "must be set when ITBOT_OIDC_ISSUER is")

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)
