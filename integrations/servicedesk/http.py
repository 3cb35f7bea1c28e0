"""HTTP plumbing shared by the connectors: one aiohttp session, timeouts, vendor errors
translated into ours, and the signed-webhook format used where a product has no webhooks
of its own (RT scrips, ServiceNow business rules).

Nothing here logs a credential or a request body: debug lines carry the method, the path,
the status and the time taken.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp

from .base import (
    DeskAuthError,
    DeskRejected,
    DeskUnavailable,
    RemoteChange,
    ServiceDeskError,
    TicketNotFound,
    TicketStatus,
    WebhookRejected,
)

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-ITBot-Signature"


class DeskHttp:
    """A small JSON client for one desk. The session is created on first use, inside the
    running event loop, and closed by :meth:`aclose`.

    ``timeout`` bounds a whole request (connect, send, wait, read) in seconds.
    """

    def __init__(
        self,
        *,
        desk: str,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.desk = desk
        self.base_url = base_url.rstrip("/")
        self._headers = {"Accept": "application/json", **(headers or {})}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                timeout=self._timeout,
                trust_env=False,
                raise_for_status=False,
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: object = None,
        not_found: str | None = None,
    ) -> Any:
        """Send one request; return the decoded JSON (``None`` for an empty body).

        A 404 raises :class:`TicketNotFound` for ``not_found`` (a remote id) when given,
        else :class:`DeskRejected`.
        """
        url = f"{self.base_url}{path}"
        started = time.monotonic()
        try:
            async with self._get_session().request(
                method, url, params=params, json=json_body
            ) as response:
                text = await response.text(errors="replace")
                status = response.status
                retry_after = _retry_after(response.headers.get("Retry-After"))
        except TimeoutError as exc:
            raise DeskUnavailable(
                f"{self.desk} did not answer {method} {path} within "
                f"{self._timeout.total:g} s; it will be retried",
                desk=self.desk,
            ) from exc
        except aiohttp.ClientError as exc:
            raise DeskUnavailable(
                f"cannot reach {self.desk} at {self.base_url} ({type(exc).__name__}: {exc}); "
                "check the URL and that the desk is up, it will be retried",
                desk=self.desk,
            ) from exc
        log.debug(
            "%s %s %s -> %s in %.0f ms",
            self.desk,
            method,
            path,
            status,
            (time.monotonic() - started) * 1000,
        )
        data = _decode(text)
        if 200 <= status < 300:
            if text.strip() and data is _NOT_JSON:
                raise DeskUnavailable(
                    f"{self.desk} answered {method} {path} with something that isn't JSON "
                    "(a proxy or maintenance page?); it will be retried",
                    desk=self.desk,
                    status=status,
                )
            return None if data is _NOT_JSON else data
        raise self._error(method, path, status, data, text, retry_after, not_found)

    def _error(
        self,
        method: str,
        path: str,
        status: int,
        data: Any,
        text: str,
        retry_after: float | None,
        not_found: str | None,
    ) -> ServiceDeskError:
        said = vendor_message(data, text)
        where = f"{self.desk} answered {method} {path} with {status}"
        if status == 429 or status >= 500:
            return DeskUnavailable(
                f"{where}: {said}; it will be retried", desk=self.desk, status=status,
                detail=said, retry_after=retry_after,
            )  # fmt: skip
        if status in (401, 403):
            return DeskAuthError(
                f"{where}: {said}; check the configured credentials and the account's "
                "permissions in the desk",
                desk=self.desk,
                status=status,
                detail=said,
            )
        if status == 404 and not_found is not None:
            return TicketNotFound(
                f"{self.desk} has no ticket {not_found}: {said}",
                desk=self.desk,
                remote_id=not_found,
                status=status,
                detail=said,
            )
        return DeskRejected(
            f"{where}: {said}; the request needs fixing, retrying won't help",
            desk=self.desk,
            status=status,
            detail=said,
        )

    @contextlib.contextmanager
    def parsing(self, what: str) -> Iterator[None]:
        """Turn a response of an unexpected shape into :class:`DeskUnavailable`."""
        try:
            yield
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise DeskUnavailable(
                f"{self.desk} answered {what} in an unexpected shape ({type(exc).__name__}: "
                f"{exc}); is the URL pointing at the right product and version?",
                desk=self.desk,
            ) from exc


def basic_auth(user: str, password: str) -> dict[str, str]:
    """An ``Authorization`` header for HTTP basic auth (UTF-8, as RFC 7617 allows)."""
    pair = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {pair}"}


_NOT_JSON: Any = object()


def _decode(text: str) -> Any:
    if not text.strip():
        return _NOT_JSON
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON


def vendor_message(data: Any, text: str) -> str:
    """The human part of an error body from RT, Jira, JSM or ServiceNow."""
    parts: list[str] = []
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            parts += [str(error[k]) for k in ("message", "detail") if error.get(k)]
        for key in ("errorMessage", "message"):
            if isinstance(data.get(key), str):
                parts.append(data[key])
        if isinstance(data.get("errorMessages"), list):
            parts += [str(m) for m in data["errorMessages"]]
        if isinstance(data.get("errors"), dict):
            parts += [f"{k}: {v}" for k, v in data["errors"].items()]
    elif isinstance(data, list) and all(isinstance(item, str) for item in data):
        parts += data
    message = "; ".join(" ".join(p.split()) for p in parts if p.strip())
    return message or " ".join(text.split())[:200] or "no details"


def _retry_after(value: str | None) -> float | None:
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


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, whatever its case (works on plain dicts too)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def sign(secret: str, body: bytes) -> str:
    """The signature header value for ``body``: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(
    *, desk: str, secret: str | None, body: bytes, signature: str | None, header_name: str
) -> None:
    """Raise :class:`WebhookRejected` unless ``signature`` is ``sign(secret, body)``."""
    if not secret:
        raise WebhookRejected(
            f"{desk} webhooks are not accepted: no webhook secret is configured; set one "
            "in the bot's settings and the same one in the desk",
            desk=desk,
        )
    if not signature:
        raise WebhookRejected(
            f"{desk} webhook without a {header_name} header; configure the secret in the desk",
            desk=desk,
        )
    if not hmac.compare_digest(sign(secret, body), signature.strip()):
        raise WebhookRejected(
            f"{desk} webhook signature does not match; check the secret is the same in the "
            "desk and in the bot's settings",
            desk=desk,
        )


def parse_json_body(desk: str, body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise WebhookRejected(f"{desk} webhook body is not JSON: {exc}", desk=desk) from exc


def parse_time(desk: str, value: str) -> datetime:
    """An ISO-8601 time (``Z``, offsets, or none meaning UTC) as an aware UTC datetime."""
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise DeskUnavailable(f"{desk} sent a time we can't read: {value!r}", desk=desk) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def parse_signed_webhook(
    *,
    desk: str,
    secret: str | None,
    headers: Mapping[str, str],
    body: bytes,
    to_status: Callable[[str], TicketStatus],
    bot_user: str,
) -> list[RemoteChange]:
    """Our own small webhook format, for products without native webhooks.

    The desk POSTs one JSON event (or a list of them), signed with
    ``X-ITBot-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the secret>``::

        {"id": "43", "ticket": "12", "reference": "JSD-000123", "kind": "status",
         "status": "resolved", "author": "Alice Smith", "author_id": "alice",
         "at": "2026-11-25T18:13:42Z"}
        {"id": "41", "ticket": "12", "reference": "JSD-000123", "kind": "comment",
         "body": "Try again now", "public": true, "author": "Alice Smith",
         "author_id": "alice", "at": "..."}

    ``status`` is the product's own status name; ``id`` identifies the event in the product
    the same way polling does (see each connector), so webhook and polling de-duplicate;
    ``author_id`` is the login. Events by ``bot_user`` and events about tickets without a
    reference are dropped.
    """
    verify_signature(
        desk=desk,
        secret=secret,
        body=body,
        signature=header(headers, SIGNATURE_HEADER),
        header_name=SIGNATURE_HEADER,
    )
    data = parse_json_body(desk, body)
    events = data if isinstance(data, list) else [data]
    changes: list[RemoteChange] = []
    try:
        for event in events:
            who = event.get("author_id") or event.get("author")
            if not event.get("reference") or who == bot_user:
                continue
            kind = event["kind"]
            if kind not in ("status", "comment"):
                continue
            changes.append(
                RemoteChange(
                    remote_id=str(event["ticket"]),
                    reference=str(event["reference"]),
                    kind=kind,
                    at=parse_time(desk, str(event["at"])),
                    change_id=f"{desk}:{kind}:{event['id']}",
                    status=to_status(str(event["status"])) if kind == "status" else None,
                    body=str(event.get("body") or "") if kind == "comment" else None,
                    author=str(event.get("author") or "") or None,
                    public=bool(event.get("public")) if kind == "comment" else None,
                )
            )
    except (KeyError, TypeError, AttributeError, DeskUnavailable) as exc:
        raise WebhookRejected(f"{desk} webhook event is malformed: {exc!r}", desk=desk) from exc
    return changes
