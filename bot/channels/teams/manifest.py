"""The Teams app package: ``manifest.json`` and its two icons, zipped, for upload to Teams.

The icons are drawn here (a chat bubble), so the package needs no image files or image
library: ``color.png`` 192×192 on the accent colour, ``outline.png`` 32×32 white on
transparent, as Teams asks.

>>> data = package("https://itbot.example.gov.uk", app_id="00000000-0000-4000-8000-000000000001",
...                name="IT help", desk="Joint ICT Service Desk")
>>> data[:2]
b'PK'
"""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

MANIFEST_VERSION = "1.17"
SCHEMA = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"
ACCENT = (0x1D, 0x4F, 0x91)
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

Pixel = tuple[int, int, int, int]


class ManifestError(ValueError):
    """The URL or app id can't be used in a Teams app package."""


def manifest(url: str, *, app_id: str, name: str, desk: str) -> dict[str, Any]:
    """``manifest.json`` for the bot at ``url`` (the public ``https://`` address of
    ``itbot serve``; Teams posts to ``{url}/api/messages``, set in the Azure Bot)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ManifestError(f"--url must be the bot's public https:// address (got {url!r})")
    if not _GUID.fullmatch(app_id or ""):
        raise ManifestError("ITBOT_TEAMS_APP_ID must be the Azure Bot's Microsoft App ID (a GUID)")
    base = url.rstrip("/")
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": "1.0.0",
        "id": app_id,
        "developer": {
            "name": desk[:32],
            "websiteUrl": base,
            "privacyUrl": base,
            "termsOfUseUrl": base,
        },
        "name": {"short": name[:30], "full": f"{name} — {desk}"[:100]},
        "description": {
            "short": "Answers, resets and tickets from the IT service desk."[:80],
            "full": (
                f"Ask the {desk} bot how to fix common IT problems, reset your password or "
                "unlock your account, raise a ticket and hear back on it, here in Teams."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal", "team", "groupChat"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {
                        "scopes": ["personal"],
                        "commands": [
                            {"title": "help", "description": "What I can do"},
                            {"title": "reset my password", "description": "Reset your password"},
                            {"title": "my tickets", "description": "Your tickets and their status"},
                        ],
                    }
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [parts.hostname],
    }


def package(url: str, *, app_id: str, name: str, desk: str) -> bytes:
    """The zipped app package: ``manifest.json``, ``color.png`` and ``outline.png``."""
    data = manifest(url, app_id=app_id, name=name, desk=desk)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(data, indent=2, ensure_ascii=False))
        archive.writestr("color.png", color_icon())
        archive.writestr("outline.png", outline_icon())
    return buffer.getvalue()


def color_icon(size: int = 192) -> bytes:
    """A white chat bubble on the accent colour, ``size``×``size``."""
    white: Pixel = (255, 255, 255, 255)
    accent: Pixel = (*ACCENT, 255)
    return png(size, size, lambda x, y: white if _bubble(x / size, y / size) else accent)


def outline_icon(size: int = 32) -> bytes:
    """The chat bubble's outline, white on transparent, ``size``×``size``."""
    white: Pixel = (255, 255, 255, 255)
    clear: Pixel = (0, 0, 0, 0)
    edge = 1.5 / size

    def pixel(x: int, y: int) -> Pixel:
        u, v = x / size, y / size
        inside = _bubble(u, v)
        near = any(not _bubble(u + du, v + dv) for du in (-edge, edge) for dv in (-edge, edge))
        return white if inside and near else clear

    return png(size, size, pixel)


def _bubble(u: float, v: float) -> bool:
    """Whether (u, v) in the unit square is on the bubble: a box with a tail below left."""
    box = 0.2 <= u <= 0.8 and 0.25 <= v <= 0.65
    tail = 0.3 <= u <= 0.45 and 0.65 <= v <= 0.8 and (v - 0.65) <= (0.45 - u)
    return box or tail


def png(width: int, height: int, pixel: Callable[[int, int], Pixel]) -> bytes:
    """An RGBA PNG of ``width``×``height`` whose pixels ``pixel(x, y)`` gives."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )
