"""Cookie helpers shared by the web chat and ``/desk``: signing, and whether we're on https.

The dashboard signs its session token with :class:`CookieSigner`; the web chat's cookie is
a random id of a ``web_sessions`` row (see :mod:`bot.storage.web_sessions`). Both cookies
are ``Secure`` when :func:`is_https` says the browser reached us over https.

>>> signer = CookieSigner(b"k" * 32)
>>> signer.verify(signer.sign("sam.taylor@dacorum.gov.uk"))
'sam.taylor@dacorum.gov.uk'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import time
from pathlib import Path

from aiohttp import web

log = logging.getLogger(__name__)

MAX_AGE = 60 * 60 * 24 * 30  # thirty days: what a signature alone vouches for at most


def is_https(request: web.Request) -> bool:
    """Whether the browser reached us over https: directly, or through a reverse proxy
    that says so in ``X-Forwarded-Proto`` (so cookies set behind it are ``Secure``)."""
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


class CookieSigner:
    def __init__(self, key: bytes, *, max_age: int = MAX_AGE) -> None:
        self._key = key
        self.max_age = max_age

    def sign(self, value: str, *, now: float | None = None) -> str:
        issued = str(int(now if now is not None else time.time()))
        payload = base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")
        mac = self._mac(f"{payload}.{issued}")
        return f"{payload}.{issued}.{mac}"

    def verify(self, cookie: str, *, now: float | None = None) -> str | None:
        try:
            payload, issued, mac = cookie.split(".")
            if not hmac.compare_digest(mac, self._mac(f"{payload}.{issued}")):
                return None
            age = (now if now is not None else time.time()) - int(issued)
            if age < 0 or age > self.max_age:
                return None
            return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None

    def _mac(self, message: str) -> str:
        digest = hmac.new(self._key, message.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def load_or_create_key(path: Path) -> bytes:
    """The signing key kept in ``path`` (created with mode 0600 on first start)."""
    try:
        key = path.read_bytes().strip()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    log.info("created a session signing key in %s (set ITBOT_SECRET_KEY for replicas)", path)
    return key
