"""HTTP plumbing shared by the Entra (Graph) and Google adapters: one aiohttp session, an
OAuth access token kept until shortly before it expires, and the house rules for errors.

========================= ==================================================================
answer                    what :meth:`ApiClient.call` does
========================= ==================================================================
2xx, or a status the      returns ``(status, decoded JSON or None)``
caller accepts
401                       fetches a new token once and tries again; a second 401 is an error
403                       :class:`DirectoryError`, not retryable (the app lacks a permission)
429, 5xx, timeout,        waits (``Retry-After`` when given, else exponential backoff) and
connection failure        tries again, at most ``retries`` times; then a retryable error
other 4xx                 :class:`DirectoryError`, not retryable, with the service's message
========================= ==================================================================

Nothing here logs or raises a token, a secret or a request body: debug lines carry the
method, the path, the status and the time taken.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp

from .base import DirectoryError

log = logging.getLogger(__name__)

#: ``(access token, seconds it lives)`` from a token endpoint
TokenFetcher = Callable[[aiohttp.ClientSession], Awaitable[tuple[str, float]]]
Sleep = Callable[[float], Awaitable[None]]

#: a token is renewed this many seconds before it expires
EARLY = 120.0


class ApiClient:
    """JSON over HTTPS to one service, with a bearer token from ``fetch_token``.

    ``timeout`` bounds one request in seconds; ``retries`` bounds the extra attempts after
    429, 5xx and network failures; a ``Retry-After`` longer than ``longest_wait`` seconds
    is not waited for (the bot tells the person to try later instead).
    """

    def __init__(
        self,
        *,
        service: str,
        base_url: str,
        fetch_token: TokenFetcher,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        longest_wait: float = 10.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.service = service
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.retries = retries
        self.backoff = backoff
        self.longest_wait = longest_wait
        self._fetch_token = fetch_token
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None
        self._token: str | None = None
        self._expires = 0.0
        self._token_lock = asyncio.Lock()

    def session(self) -> aiohttp.ClientSession:
        """The session, created on first use inside the running event loop."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                trust_env=False,
                raise_for_status=False,
                headers={"Accept": "application/json"},
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def _bearer(self, *, renew: bool = False) -> str:
        async with self._token_lock:
            if renew or self._token is None or time.monotonic() >= self._expires:
                self._token = None
                token, lifetime = await self._fetch_token(self.session())
                self._token = token
                self._expires = time.monotonic() + max(0.0, lifetime - EARLY)
            return self._token

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: object = None,
        accept: tuple[int, ...] = (),
        what: str,
    ) -> tuple[int, Any]:
        """Send one request (``path`` relative to the base URL); ``what`` names it in errors."""
        renewed = False
        attempt = 0
        while True:
            token = await self._bearer(renew=False)
            started = time.monotonic()
            try:
                async with self.session().request(
                    method,
                    self.base_url + path,
                    params=params,
                    json=body,
                    headers={"Authorization": f"Bearer {token}"},
                ) as response:
                    status = response.status
                    text = await response.text(errors="replace")
                    wait = retry_after(response.headers.get("Retry-After"))
            except (TimeoutError, aiohttp.ClientError) as exc:
                if attempt >= self.retries:
                    raise DirectoryError(
                        f"cannot reach {self.service} to {what} ({type(exc).__name__})",
                        retryable=True,
                    ) from exc
                await self._sleep(self.backoff * 2**attempt)
                attempt += 1
                continue
            log.debug(
                "%s %s %s -> %s in %.0f ms",
                self.service,
                method,
                path,
                status,
                (time.monotonic() - started) * 1000,
            )
            data = decode(text)
            if 200 <= status < 300 or status in accept:
                return status, data
            said = vendor_message(data, text)
            if status == 401 and not renewed:
                renewed = True
                await self._bearer(renew=True)
                continue
            if status == 429 or status >= 500:
                delay = wait if wait is not None else self.backoff * 2**attempt
                if attempt >= self.retries or delay > self.longest_wait:
                    raise DirectoryError(
                        f"{self.service} answered {status} to {what} ({said}); try again later",
                        retryable=True,
                    )
                await self._sleep(delay)
                attempt += 1
                continue
            if status in (401, 403):
                raise DirectoryError(
                    f"{self.service} refused to {what} ({status}: {said}); check the app's "
                    "credentials and permissions"
                )
            raise DirectoryError(f"{self.service} refused to {what} ({status}: {said})")


async def fetch_token(
    session: aiohttp.ClientSession, *, service: str, url: str, form: Mapping[str, str]
) -> tuple[str, float]:
    """POST an OAuth token request (``form``); the token and its lifetime in seconds."""
    try:
        async with session.post(url, data=dict(form)) as response:
            status = response.status
            text = await response.text(errors="replace")
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise DirectoryError(
            f"cannot reach {service}'s token endpoint ({type(exc).__name__})", retryable=True
        ) from exc
    data = decode(text)
    if status == 200 and isinstance(data, dict) and isinstance(data.get("access_token"), str):
        lifetime = data.get("expires_in", 3600)
        return data["access_token"], float(lifetime) if str(lifetime).isdigit() else 3600.0
    said = vendor_message(data, text)
    if status == 429 or status >= 500 or status == 200:
        raise DirectoryError(
            f"{service}'s token endpoint answered {status} ({said}); try again later",
            retryable=True,
        )
    raise DirectoryError(
        f"{service}'s token endpoint refused the bot's credentials ({status}: {said})"
    )


def decode(text: str) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def vendor_message(data: Any, text: str) -> str:
    """The human part of an error from Graph, Entra's token endpoint or Google.

    >>> vendor_message({"error": {"code": "Forbidden", "message": "Insufficient privileges"}}, "")
    'Forbidden: Insufficient privileges'
    >>> vendor_message({"error": "invalid_client", "error_description": "AADSTS7000215"}, "")
    'invalid_client: AADSTS7000215'
    """
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            parts = [str(error.get(k)) for k in ("code", "message") if error.get(k)]
            return ": ".join(parts) or "no details"
        if isinstance(error, str):
            detail = data.get("error_description")
            first = str(detail).splitlines()[0] if detail else ""
            return f"{error}: {first}" if first else error
    return " ".join(text.split())[:200] or "no details"


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
