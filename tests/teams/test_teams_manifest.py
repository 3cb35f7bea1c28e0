"""``itbot teams manifest``: the Teams app package, in a real ``itbot`` subprocess."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

from tests.conftest import itbot_command

APP_ID = "00000000-0000-4000-8000-00000000a11d"


def _run(tmp_path: Path, *argv: str, app_id: str = APP_ID) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ITBOT_TEAMS_APP_ID": app_id,
        "ITBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
    }
    return subprocess.run(
        [*itbot_command(), "teams", "manifest", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
        timeout=120,
    )


def _png_size(data: bytes) -> tuple[int, int, int]:
    """(width, height, colour type) of a PNG, after checking its chunks' CRCs."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, kinds = 8, []
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        kinds.append(kind)
        offset += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    width, height, _, colour = struct.unpack(">IIBB", data[16:26])
    return width, height, colour


def test_the_package_holds_the_manifest_and_both_icons(tmp_path: Path) -> None:
    out = tmp_path / "teams.zip"
    done = _run(tmp_path, "--url", "https://itbot.example.gov.uk/", "--out", str(out))
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        color = archive.read("color.png")
        outline = archive.read("outline.png")
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}
    assert manifest["validDomains"] == ["itbot.example.gov.uk"]
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80
    assert _png_size(color) == (192, 192, 6)
    assert _png_size(outline) == (32, 32, 6)


def test_a_plain_http_url_or_a_missing_app_id_is_refused(tmp_path: Path) -> None:
    done = _run(tmp_path, "--url", "http://itbot.example.gov.uk")
    assert done.returncode == 2 and "https://" in done.stderr
    done = _run(tmp_path, "--url", "https://itbot.example.gov.uk", app_id="not-a-guid")
    assert done.returncode == 2 and "ITBOT_TEAMS_APP_ID" in done.stderr
    assert not (tmp_path / "itbot-teams.zip").exists()
