"""Parsers from a setting's text to its typed value.

Each takes the raw text and returns the value, or raises :class:`ValueError` whose message
says what is wrong ("must be ..."); :mod:`bot.settings` puts the variable's name in front.

>>> port("8080"), positive_float("2.5"), hours("08:30-17:00")
(8080, 2.5, ('08:30', '17:00'))
>>> port("abc")
Traceback (most recent call last):
ValueError: must be a whole number from 0 to 65535 (got 'abc')
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.settings.values import Council, Secret, SemanticMode, ServiceDeskKind

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def text(raw: str) -> str:
    return raw.strip()


def path(raw: str) -> Path:
    return Path(raw).expanduser()


def existing_dir(raw: str) -> Path:
    found = Path(raw).expanduser()
    if not found.is_dir():
        raise ValueError(f"must be an existing folder (got {raw!r})")
    return found


def port(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise ValueError(f"must be a whole number from 0 to 65535 (got {raw!r})")
    return value


def positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ValueError(f"must be a whole number above 0 (got {raw!r})")
    return value


def positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"must be a number above 0, such as 2.5 (got {raw!r})")
    return value


def semantic(raw: str) -> SemanticMode:
    value = raw.strip().lower()
    if value == "auto":
        return "auto"
    if value == "on":
        return "on"
    if value == "off":
        return "off"
    raise ValueError(f"must be one of auto, on, off (got {raw!r})")


def servicedesk(raw: str) -> ServiceDeskKind:
    value = raw.strip().lower()
    if value == "rt":
        return "rt"
    if value == "jira":
        return "jira"
    if value == "servicenow":
        return "servicenow"
    raise ValueError(f"must be rt, jira or servicenow (got {raw!r})")


def log_level(raw: str) -> str:
    value = raw.strip().upper()
    if value not in LOG_LEVELS:
        raise ValueError(f"must be DEBUG, INFO, WARNING, ERROR or CRITICAL (got {raw!r})")
    return value


def log_format(raw: str) -> str:
    value = raw.strip().lower()
    if value not in {"text", "json"}:
        raise ValueError(f"must be text or json (got {raw!r})")
    return value


def address(raw: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9100`` for IPv6)."""
    host, sep, port_text = raw.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host:
        raise ValueError(f"must be host:port (got {raw!r})")
    return host, port(port_text)


def database_url(raw: str) -> str:
    value = raw.strip()
    if value.startswith(("postgresql://", "postgres://")):
        value = "postgresql+asyncpg://" + value.split("://", 1)[1]
    if value.startswith("sqlite:///"):
        value = "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
    if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ValueError(
            "must be a sqlite+aiosqlite:// or postgresql+asyncpg:// URL "
            f"(got scheme {value.split(':', 1)[0]!r})"
        )
    return value


def url(raw: str) -> str:
    value = raw.strip()
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"must be an http:// or https:// URL (got {raw!r})")
    return value if value.endswith("/") else value + "/"


def endpoint(raw: str) -> str:
    """An http(s) URL kept exactly as given (an OpenID or token endpoint)."""
    value = raw.strip()
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"must be an http:// or https:// URL (got {raw!r})")
    return value


def hosts(raw: str) -> tuple[str, ...]:
    """Comma-separated host names (``*.`` allows subdomains), lower-cased."""
    values = tuple(h.strip().lower() for h in raw.split(",") if h.strip())
    for value in values:
        if not re.fullmatch(r"(\*\.)?[a-z0-9.-]+(:\d+)?", value):
            raise ValueError(f"must be host names separated by commas (got {value!r})")
    if not values:
        raise ValueError("must name at least one host")
    return values


def secret(min_length: int) -> Callable[[str], Secret]:
    """A parser for a secret at least ``min_length`` characters long."""

    def parse(raw: str) -> Secret:
        if len(raw) < min_length:
            raise ValueError(f"must be at least {min_length} characters long")
        return Secret(raw)

    return parse


def slack_id(first: str) -> Callable[[str], str]:
    """A parser for a Slack id starting with one of the letters in ``first``."""

    def parse(raw: str) -> str:
        value = raw.strip()
        if not re.fullmatch(f"[{first}][A-Z0-9]{{2,}}", value):
            kinds = " or ".join(first)
            raise ValueError(f"must be a Slack id starting {kinds} (got {raw!r})")
        return value

    return parse


def emails(raw: str) -> tuple[str, ...]:
    found = tuple(part.strip().lower() for part in raw.split(",") if part.strip())
    for email in found:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise ValueError(f"{email!r} is not an email address")
    return found


def prefix(raw: str) -> str:
    value = raw.strip().upper()
    if not re.fullmatch(r"[A-Z]{2,8}", value):
        raise ValueError(f"must be 2 to 8 letters (got {raw!r})")
    return value


def hours(raw: str) -> tuple[str, str]:
    match = re.fullmatch(r"\s*([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]):([0-5]\d)\s*", raw)
    if not match or match.group(1, 2) >= match.group(3, 4):
        raise ValueError(f"must look like 08:30-17:00, opening first (got {raw!r})")
    return f"{match.group(1)}:{match.group(2)}", f"{match.group(3)}:{match.group(4)}"


def closures(raw: str) -> tuple[str, ...]:
    from bot.desk.calendar import parse_closures

    return parse_closures(raw)


def json_object(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"must be a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError("must be a JSON object")
    return value


def councils_json(raw: str) -> tuple[Council, ...]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"must be a JSON list of councils: {exc}") from None
    return councils(data)


def councils(data: object) -> tuple[Council, ...]:
    """Councils from a list of objects (JSON) or tables (TOML ``[[councils]]``)."""
    if not isinstance(data, list) or not data:
        raise ValueError("must be a non-empty list of councils")
    found: list[Council] = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise ValueError(f"council #{i + 1} must be a table/object")
        try:
            domains = item["domains"]
            if isinstance(domains, str):
                domains = [domains]
            found.append(
                Council(
                    key=str(item["key"]),
                    name=str(item["name"]),
                    domains=tuple(str(d).lower() for d in domains),
                    desk_phone=str(item.get("desk_phone", "")),
                    desk_email=str(item.get("desk_email", "")),
                )
            )
        except KeyError as exc:
            raise ValueError(f"council #{i + 1} is missing {exc.args[0]!r}") from None
    keys = [c.key for c in found]
    if len(set(keys)) != len(keys):
        raise ValueError("council keys must be unique")
    return tuple(found)
