"""Which directory the bot resets accounts in: the adapter ``ITBOT_DIRECTORY`` names,
built from the settings.

>>> from bot.settings import Settings
>>> open_directory(Settings.from_environ({"ITBOT_DIRECTORY": "ldap"}), None)
Traceback (most recent call last):
...
bot.errors.SettingsError: ITBOT_LDAP_URL must be set when ITBOT_DIRECTORY is ldap
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import SettingsError
from bot.settings import Secret, Settings
from integrations.identity.base import Directory
from integrations.identity.demo import DemoDirectory

T = TypeVar("T")


def open_directory(settings: Settings, engine: AsyncEngine | None) -> Directory:
    """The configured directory; ``engine`` is the bot's database (the demo directory's
    home). Missing settings raise :class:`SettingsError` naming the variable.

    Each vendor's adapter is imported only when it is the one configured: a bot on the
    demo directory (or Graph) never loads ``ldap3`` or Google's libraries, which every
    ``itbot`` command that opens the services would otherwise pay for at start.
    """
    kind = settings.directory
    if kind == "demo":
        if engine is None:
            raise SettingsError("ITBOT_DATABASE_URL", "is needed by the demo directory")
        return DemoDirectory(engine)
    if kind == "ldap":
        from integrations.identity.ldap import LdapDirectory

        url = _needed(settings.ldap_url, "ITBOT_LDAP_URL", kind)
        if settings.ldap_flavour == "ad" and not url.startswith("ldaps://"):
            raise SettingsError(
                "ITBOT_LDAP_URL",
                "must be ldaps:// for Active Directory, which takes new passwords only over "
                "an encrypted connection",
            )
        return LdapDirectory(
            url=url,
            base=_needed(settings.ldap_base, "ITBOT_LDAP_BASE", kind),
            bind_dn=_needed(settings.ldap_bind_dn, "ITBOT_LDAP_BIND_DN", kind),
            bind_password=_secret(settings.ldap_bind_password, "ITBOT_LDAP_BIND_PASSWORD", kind),
            flavour=settings.ldap_flavour,
            privileged_groups=settings.ldap_privileged_groups,
            mail_attribute=settings.ldap_mail_attribute,
            mobile_attribute=settings.ldap_mobile_attribute,
            personal_email_attribute=settings.ldap_personal_email_attribute,
            ca_file=settings.ldap_ca_file,
        )
    if kind == "graph":
        from integrations.identity.graph import GraphDirectory

        return GraphDirectory(
            tenant=_needed(settings.graph_tenant, "ITBOT_GRAPH_TENANT", kind),
            client_id=_needed(settings.graph_client_id, "ITBOT_GRAPH_CLIENT_ID", kind),
            client_secret=_secret(settings.graph_client_secret, "ITBOT_GRAPH_CLIENT_SECRET", kind),
            privileged_groups=settings.graph_privileged_groups,
            graph_url=settings.graph_url,
            login_url=settings.graph_login_url,
        )
    from integrations.identity.google import GoogleDirectory

    credentials = _needed(settings.google_credentials, "ITBOT_GOOGLE_CREDENTIALS", kind)
    try:
        return GoogleDirectory(
            credentials=credentials,
            admin=_needed(settings.google_admin, "ITBOT_GOOGLE_ADMIN", kind),
            api_url=settings.google_url,
            token_url=settings.google_token_url,
        )
    except ValueError as exc:
        raise SettingsError("ITBOT_GOOGLE_CREDENTIALS", f"is not usable: {exc}") from exc


def _needed(value: T | None, variable: str, kind: str) -> T:
    if value is None or value == "":
        raise SettingsError(variable, f"must be set when ITBOT_DIRECTORY is {kind}")
    return value


def _secret(value: Secret | None, variable: str, kind: str) -> str:
    return _needed(value, variable, kind).reveal()
