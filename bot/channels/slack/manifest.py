"""The Slack app manifest (``manifest.yml`` beside this module), with the request URLs filled in.

>>> text = manifest("https://itbot.example.gov.uk")
>>> "https://itbot.example.gov.uk/slack/events" in text
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

MANIFEST = Path(__file__).with_name("manifest.yml")
PLACEHOLDER = "https://YOUR-HOST"


class ManifestError(ValueError):
    """The URL given for the manifest can't be used by Slack."""


def manifest(url: str | None = None, *, socket_mode: bool = False) -> str:
    """The manifest as YAML: request URLs under ``url`` (HTTP mode) or Socket Mode on.

    Slack only calls ``https://`` URLs; ``url`` is the public address of ``itbot serve``.
    """
    text = MANIFEST.read_text(encoding="utf-8")
    if socket_mode:
        data: dict[str, Any] = yaml.safe_load(text)
        data["settings"]["socket_mode_enabled"] = True
        data["settings"]["event_subscriptions"].pop("request_url", None)
        data["settings"]["interactivity"].pop("request_url", None)
        for command in data["features"].get("slash_commands", []):
            command.pop("url", None)
        header = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
        return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    if url is None:
        raise ManifestError(
            "give the public URL of `itbot serve`, e.g. https://itbot.example.gov.uk"
        )
    return text.replace(PLACEHOLDER, base(url))


def base(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise ManifestError(f"Slack only sends requests to https:// URLs (got {url!r})")
    if parts.query or parts.fragment:
        raise ManifestError(f"give the URL without ?query or #fragment (got {url!r})")
    return f"https://{parts.netloc}{parts.path.rstrip('/')}"
