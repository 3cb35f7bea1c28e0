"""Is this request from the Bot Connector? The bearer token on every incoming activity.

The Bot Connector signs a JWT (RS256) for each activity it sends. It is accepted when

* its signature checks against a key from the OpenID metadata's ``jwks_uri``
  (``ITBOT_TEAMS_OPENID_URL``; the keys are cached, and fetched again when a token names a
  ``kid`` the cache lacks, at most once every :data:`REFRESH_EVERY` seconds);
* its issuer is the metadata's ``issuer`` and its audience is our app id;
* it has not expired and is already valid (``exp``/``nbf``, with 5 minutes' leeway);
* its ``serviceurl`` claim is the activity's ``serviceUrl`` (so a token for one service
  cannot send replies elsewhere).

Anything else raises :class:`Refused`; the route answers 401.

>>> guard = TokenGuard(session, openid_url=url, app_id="app")   # doctest: +SKIP
>>> claims = await guard.check(request.headers.get("Authorization"), activity["serviceUrl"])
...                                                              # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
import jwt

log = logging.getLogger(__name__)

LEEWAY_SECONDS = 300
#: the key set is fetched again for an unknown ``kid`` at most this often (a flood of
#: tokens with made-up key ids cannot make us hammer the metadata endpoint)
REFRESH_EVERY = 30.0
#: how long fetched keys are trusted before they are fetched again anyway
KEYS_TTL = 24 * 3600.0
_TIMEOUT = aiohttp.ClientTimeout(total=10)


class Refused(Exception):
    """The token is missing or not acceptable; the message says why (no token in it)."""


class TokenGuard:
    """Validates Bot Connector tokens against the OpenID metadata at ``openid_url``."""

    def __init__(self, session: aiohttp.ClientSession, *, openid_url: str, app_id: str) -> None:
        self.session = session
        self.openid_url = openid_url
        self.app_id = app_id
        self._issuer = ""
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def check(self, authorization: str | None, service_url: str) -> dict[str, Any]:
        """The token's claims when it may send this activity; :class:`Refused` otherwise."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Refused("no bearer token")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Refused(f"not a JWT ({type(exc).__name__})") from exc
        if header.get("alg") != "RS256":
            raise Refused(f"algorithm {header.get('alg')!r} is not RS256")
        key = await self._key(str(header.get("kid") or ""))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=["RS256"],
                audience=self.app_id,
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise Refused(f"token rejected: {exc}") from exc
        claimed = str(claims.get("serviceurl") or claims.get("serviceUrl") or "")
        if not service_url or _norm(claimed) != _norm(service_url):
            raise Refused("the token's serviceurl is not the activity's serviceUrl")
        return claims

    async def _key(self, kid: str) -> jwt.PyJWK:
        if not kid:
            raise Refused("the token names no key (kid)")
        key = self._keys.get(kid)
        stale = time.monotonic() - self._fetched_at > KEYS_TTL
        if key is not None and not stale:
            return key
        async with self._lock:
            key = self._keys.get(kid)
            since = time.monotonic() - self._fetched_at
            if (key is None and since > REFRESH_EVERY) or since > KEYS_TTL:
                await self._fetch()
                key = self._keys.get(kid)
        if key is None:
            raise Refused(f"unknown signing key {kid[:40]!r}")
        return key

    async def _fetch(self) -> None:
        """The metadata, then its key set (``_fetched_at`` moves even when this fails)."""
        self._fetched_at = time.monotonic()
        try:
            async with self.session.get(self.openid_url, timeout=_TIMEOUT) as response:
                response.raise_for_status()
                metadata = await response.json(content_type=None)
            jwks_uri = str(metadata["jwks_uri"])
            self._issuer = str(metadata.get("issuer") or "")
            async with self.session.get(jwks_uri, timeout=_TIMEOUT) as response:
                response.raise_for_status()
                jwks = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError, TypeError) as exc:
            log.warning("teams: could not fetch the OpenID keys (%s)", type(exc).__name__)
            return
        keys: dict[str, jwt.PyJWK] = {}
        for data in jwks.get("keys") or []:
            try:
                key = jwt.PyJWK(data)
            except jwt.PyJWTError:
                continue  # a key type we don't use
            if key.key_id:
                keys[key.key_id] = key
        self._keys = keys
        log.info("teams: %d signing keys from %s", len(keys), jwks_uri)


def _norm(url: str) -> str:
    return url.strip().rstrip("/").lower()
