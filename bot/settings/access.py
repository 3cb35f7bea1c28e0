"""Settings for proving identity and resetting access: the directory, the notifier, limits.

They are a base class of :class:`bot.settings.Settings` so the settings module stays small;
they are read, checked and documented exactly like every other setting.
"""

# setting() is the field specifier: it returns dataclasses.field(...), evaluated once
# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Literal

from bot.settings import parsers
from bot.settings.declare import setting
from bot.settings.values import Secret

DirectoryKind = Literal["demo", "ldap", "graph", "google"]
LdapFlavour = Literal["openldap", "ad"]
SmtpSecurity = Literal["starttls", "tls", "none"]


def directory(raw: str) -> DirectoryKind:
    value = raw.strip().lower()
    for kind in ("demo", "ldap", "graph", "google"):
        if value == kind:
            return kind
    raise ValueError(f"must be demo, ldap, graph or google (got {raw!r})")


def ldap_flavour(raw: str) -> LdapFlavour:
    value = raw.strip().lower()
    if value == "openldap":
        return "openldap"
    if value in ("ad", "activedirectory", "active-directory"):
        return "ad"
    raise ValueError(f"must be openldap or ad (got {raw!r})")


def ldap_url(raw: str) -> str:
    value = raw.strip()
    if not value.startswith(("ldap://", "ldaps://")):
        raise ValueError(f"must be an ldap:// or ldaps:// URL (got {raw!r})")
    return value


def group_dns(raw: str) -> tuple[str, ...]:
    """Group DNs separated by commas (a new DN starts at ``cn=``), semicolons or new lines.

    >>> group_dns("cn=admins,ou=groups,dc=x, cn=helpdesk,ou=groups,dc=x")
    ('cn=admins,ou=groups,dc=x', 'cn=helpdesk,ou=groups,dc=x')
    """
    parts = re.split(r"[;\n]|,\s*(?=cn=)", raw, flags=re.IGNORECASE)
    found = tuple(p.strip() for p in parts if p.strip())
    for dn in found:
        if "=" not in dn:
            raise ValueError(f"{dn!r} is not a distinguished name (cn=...,dc=...)")
    return found


def ids(raw: str) -> tuple[str, ...]:
    """Comma-separated identifiers (object ids, keys)."""
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def minutes_upto_10(raw: str) -> int:
    value = parsers.positive_int(raw)
    if value > 10:
        raise ValueError(f"must be from 1 to 10 minutes (got {raw!r})")
    return value


def seconds_upto_10(raw: str) -> float:
    value = parsers.positive_float(raw)
    if value > 10:
        raise ValueError(f"must be above 0 and at most 10 seconds (got {raw!r})")
    return value


def notify(raw: str) -> str:
    """``console``, ``file:PATH``, ``govuk-notify`` or ``smtp``."""
    value = raw.strip()
    if value in ("console", "govuk-notify", "smtp"):
        return value
    if value.startswith("file:") and len(value) > len("file:"):
        return value
    raise ValueError(f"must be console, file:PATH, govuk-notify or smtp (got {raw!r})")


def smtp_security(raw: str) -> SmtpSecurity:
    value = raw.strip().lower()
    if value == "starttls":
        return "starttls"
    if value == "tls":
        return "tls"
    if value == "none":
        return "none"
    raise ValueError(f"must be starttls, tls or none (got {raw!r})")


@dataclasses.dataclass(frozen=True, slots=True)
class AccessSettings:
    """Who people are, how codes reach them, and how often they may reset."""

    directory: DirectoryKind = setting(
        "ITBOT_DIRECTORY",
        directory,
        "demo",
        "Where people's accounts live: `demo` (a built-in demo directory in the bot's "
        "database), `ldap` (OpenLDAP or Active Directory), `graph` (Entra ID) or `google` "
        "(Google Workspace).",
        group="access",
    )
    ldap_url: str | None = setting(
        "ITBOT_LDAP_URL",
        ldap_url,
        None,
        "`ldap://` or `ldaps://` URL of the directory.",
        group="access",
    )
    ldap_base: str | None = setting(
        "ITBOT_LDAP_BASE",
        parsers.text,
        None,
        "DN under which people are searched.",
        group="access",
    )
    ldap_bind_dn: str | None = setting(
        "ITBOT_LDAP_BIND_DN",
        parsers.text,
        None,
        "DN the bot binds as (allowed to reset passwords and unlock accounts).",
        group="access",
    )
    ldap_bind_password: Secret | None = setting(
        "ITBOT_LDAP_BIND_PASSWORD",
        parsers.secret(1),
        None,
        "Password of that DN.",
        group="access",
    )
    ldap_flavour: LdapFlavour = setting(
        "ITBOT_LDAP_FLAVOUR",
        ldap_flavour,
        "openldap",
        "`openldap` (ppolicy: Password Modify, `pwdAccountLockedTime`, `pwdReset`) or `ad` "
        "(`unicodePwd` over LDAPS, `lockoutTime`, `pwdLastSet`).",
        group="access",
    )
    ldap_privileged_groups: tuple[str, ...] = setting(
        "ITBOT_LDAP_PRIVILEGED_GROUPS",
        group_dns,
        (),
        "Group DNs whose members the bot never resets (administrators), comma-separated; "
        "`groupOfNames` members or `memberOf`.",
        group="access",
    )
    ldap_mail_attribute: str = setting(
        "ITBOT_LDAP_MAIL_ATTRIBUTE",
        parsers.text,
        "mail",
        "Attribute holding a person's work email.",
        group="access",
    )
    ldap_mobile_attribute: str = setting(
        "ITBOT_LDAP_MOBILE_ATTRIBUTE",
        parsers.text,
        "mobile",
        "Attribute holding the mobile number codes are texted to.",
        group="access",
    )
    ldap_personal_email_attribute: str | None = setting(
        "ITBOT_LDAP_PERSONAL_EMAIL_ATTRIBUTE",
        parsers.text,
        None,
        "Attribute holding a personal email codes may go to when there is no mobile.",
        group="access",
    )
    ldap_ca_file: Path | None = setting(
        "ITBOT_LDAP_CA_FILE",
        parsers.path,
        None,
        "CA certificate file to verify `ldaps://` (the system's store otherwise).",
        group="access",
    )
    graph_tenant: str | None = setting(
        "ITBOT_GRAPH_TENANT",
        parsers.text,
        None,
        "Entra tenant id (for `graph`).",
        group="access",
    )
    graph_client_id: str | None = setting(
        "ITBOT_GRAPH_CLIENT_ID",
        parsers.text,
        None,
        "Application (client) id with `User-PasswordProfile.ReadWrite.All` and "
        "`UserAuthenticationMethod.ReadWrite.All`.",
        group="access",
    )
    graph_client_secret: Secret | None = setting(
        "ITBOT_GRAPH_CLIENT_SECRET",
        parsers.secret(1),
        None,
        "Its client secret.",
        group="access",
    )
    graph_privileged_groups: tuple[str, ...] = setting(
        "ITBOT_GRAPH_PRIVILEGED_GROUPS",
        ids,
        (),
        "Object ids of groups or directory roles whose members the bot never resets, "
        "comma-separated.",
        group="access",
    )
    graph_url: str = setting(
        "ITBOT_GRAPH_URL",
        parsers.url,
        "https://graph.microsoft.com/v1.0/",
        "Base URL of Microsoft Graph.",
        group="access",
    )
    graph_login_url: str = setting(
        "ITBOT_GRAPH_LOGIN_URL",
        parsers.url,
        "https://login.microsoftonline.com/",
        "Base URL of the Entra token endpoint.",
        group="access",
    )
    google_credentials: Path | None = setting(
        "ITBOT_GOOGLE_CREDENTIALS",
        parsers.path,
        None,
        "Service account key file (JSON) with domain-wide delegation (for `google`).",
        group="access",
    )
    google_admin: str | None = setting(
        "ITBOT_GOOGLE_ADMIN",
        parsers.text,
        None,
        "Administrator the service account acts as.",
        group="access",
    )
    google_url: str = setting(
        "ITBOT_GOOGLE_URL",
        parsers.url,
        "https://admin.googleapis.com/",
        "Base URL of Google's Admin SDK.",
        group="access",
    )
    google_token_url: str = setting(
        "ITBOT_GOOGLE_TOKEN_URL",
        parsers.url,
        "https://oauth2.googleapis.com/token/",
        "Google's OAuth token endpoint.",
        group="access",
    )
    notify: str = setting(
        "ITBOT_NOTIFY",
        notify,
        "console",
        "How codes and notices reach people: `console` (printed in the server's terminal, "
        "for demos), `file:PATH` (one JSON line per message), `govuk-notify` or `smtp`.",
        group="access",
    )
    notify_api_key: Secret | None = setting(
        "ITBOT_NOTIFY_API_KEY",
        parsers.secret(74),
        None,
        "GOV.UK Notify API key (`name-serviceid-secret`).",
        group="access",
    )
    notify_sms_template: str | None = setting(
        "ITBOT_NOTIFY_SMS_TEMPLATE",
        parsers.text,
        None,
        "GOV.UK Notify text message template id; its body is `((body))`.",
        group="access",
    )
    notify_email_template: str | None = setting(
        "ITBOT_NOTIFY_EMAIL_TEMPLATE",
        parsers.text,
        None,
        "GOV.UK Notify email template id; subject `((subject))`, body `((body))`.",
        group="access",
    )
    notify_url: str = setting(
        "ITBOT_NOTIFY_URL",
        parsers.url,
        "https://api.notifications.service.gov.uk/",
        "Base URL of GOV.UK Notify.",
        group="access",
    )
    smtp_host: str | None = setting(
        "ITBOT_SMTP_HOST",
        parsers.text,
        None,
        "Mail server for `smtp` (email only).",
        group="access",
    )
    smtp_port: int = setting(
        "ITBOT_SMTP_PORT",
        parsers.port,
        587,
        "Its port.",
        group="access",
    )
    smtp_security: SmtpSecurity = setting(
        "ITBOT_SMTP_SECURITY",
        smtp_security,
        "starttls",
        "`starttls`, `tls` or `none`.",
        group="access",
    )
    smtp_user: str | None = setting(
        "ITBOT_SMTP_USER",
        parsers.text,
        None,
        "User name, if the server wants one.",
        group="access",
    )
    smtp_password: Secret | None = setting(
        "ITBOT_SMTP_PASSWORD",
        parsers.secret(1),
        None,
        "Its password.",
        group="access",
    )
    smtp_from: str = setting(
        "ITBOT_SMTP_FROM",
        parsers.text,
        "ictservicedesk@aylesburyvaledc.gov.uk",
        "Sender address of emails.",
        group="access",
    )
    reset_limit: int = setting(
        "ITBOT_RESET_LIMIT",
        parsers.positive_int,
        3,
        "Resets (password, unlock, MFA) one account may have in 24 hours.",
        group="access",
    )
    code_limit: int = setting(
        "ITBOT_CODE_LIMIT",
        parsers.positive_int,
        5,
        "One-time codes one person may be sent in an hour.",
        group="access",
    )
    code_minutes: int = setting(
        "ITBOT_CODE_MINUTES",
        minutes_upto_10,
        10,
        "Minutes a one-time code stays valid (at most 10).",
        group="access",
    )
    reset_reply_seconds: float = setting(
        "ITBOT_RESET_REPLY_SECONDS",
        seconds_upto_10,
        0.5,
        "Least time a reset's first reply takes, whether a code was sent or the request "
        "refused, so the two can't be told apart by timing: keep it above the directory's "
        "slowest lookup and send.",
        group="access",
    )
    approval_hours: float = setting(
        "ITBOT_APPROVAL_HOURS",
        parsers.positive_float,
        1.0,
        "Working hours an approval request (MFA reset) waits before it expires.",
        group="access",
    )
