"""GOV.UK Notify: text messages and emails through the UK public sector's notification service.

Each message uses a template set up in Notify whose content is only placeholders: a text
message template ``((body))`` and an email template with subject ``((subject))`` and body
``((body))``. Requests carry a fresh bearer JWT (HS256, ``iss`` the service id, ``iat``
now) signed with the key's secret; Notify refuses tokens more than 30 seconds old.

The API key is ``{key_name}-{service_id}-{secret_key}``: the service id and the secret are
UUIDs, the last 73 characters. Nothing sent to Notify as a ``reference`` (which Notify keeps
and shows) holds the message: it is the purpose and a random id. Errors carry Notify's own
message, never ours; logs carry the channel, purpose, status and Notify's id.

>>> sender = GovukNotifySender(api_key=key, sms_template="f33517ff-...")  # doctest: +SKIP
>>> await sender.send(Message("07700 900123", "sms", "Your code is 123456", purpose="code"))
...                                                                     # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp

from .base import Channel, Message, SendError

log = logging.getLogger(__name__)

DEFAULT_URL = "https://api.notifications.service.gov.uk/"


def parse_api_key(api_key: str) -> tuple[str, str]:
    """The service id and the secret in a Notify API key; ``ValueError`` (never echoing the
    key) when it is not ``name-serviceid-secret``.

    >>> parse_api_key("itbot-" + "1" * 8 + "-1111-1111-1111-" + "1" * 12 + "-" + "2" * 8
    ...               + "-2222-2222-2222-" + "2" * 12)[0]
    '11111111-1111-1111-1111-111111111111'
    """
    key = api_key.strip()
    service_id, dash, secret = key[-73:-37], key[-37:-36], key[-36:]
    try:
        if dash != "-":
            raise ValueError
        uuid.UUID(service_id)
        uuid.UUID(secret)
    except ValueError:
        raise ValueError(
            "is not a GOV.UK Notify API key (name-serviceid-secret, ending in two UUIDs)"
        ) from None
    return service_id, secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def bearer_token(service_id: str, secret: str, now: float) -> str:
    """A JWT as Notify wants it: HS256 over ``{"iss": service_id, "iat": now}``.

    Written by hand (ten lines of :mod:`hmac`) rather than with PyJWT: one algorithm,
    two claims, and no new dependency.
    """
    header = _b64(json.dumps({"typ": "JWT", "alg": "HS256"}, separators=(",", ":")).encode())
    claims = {"iss": service_id, "iat": int(now)}
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = hmac.new(secret.encode("utf-8"), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def reference_for(message: Message) -> str:
    """What Notify keeps as the reference: the purpose and a random id, never the text."""
    purpose = re.sub(r"[^a-z0-9_]+", "_", message.purpose.lower())[:40] or "notice"
    return f"itbot-{purpose}-{secrets.token_hex(6)}"


class GovukNotifySender:
    """Sends through GOV.UK Notify; ``channels`` are those with a template configured.

    ``attempts`` bounds the tries of one message on 429, 5xx, timeouts and connection
    errors, waiting ``backoff * 2**n`` seconds between them (or Notify's ``Retry-After``,
    capped at ``max_wait``).
    """

    name = "govuk-notify"

    def __init__(
        self,
        *,
        api_key: str,
        sms_template: str | None = None,
        email_template: str | None = None,
        base_url: str = DEFAULT_URL,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff: float = 0.5,
        max_wait: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._service_id, self._secret = parse_api_key(api_key)
        self._templates: dict[Channel, str] = {}
        if sms_template:
            self._templates["sms"] = sms_template
        if email_template:
            self._templates["email"] = email_template
        if not self._templates:
            raise ValueError("needs a text message template, an email template or both")
        self.channels: frozenset[Channel] = frozenset(self._templates)
        self.base_url = base_url.rstrip("/") + "/"
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._max_wait = max_wait
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None

    def _request(self, message: Message) -> tuple[str, dict[str, Any]]:
        template = self._templates.get(message.channel)
        if template is None:
            raise SendError(
                f"no GOV.UK Notify template is set up for {message.channel} messages "
                f"(ITBOT_NOTIFY_{message.channel.upper()}_TEMPLATE)",
                retryable=False,
            )
        reference = reference_for(message)
        if message.channel == "sms":
            body = {
                "phone_number": message.to,
                "template_id": template,
                "personalisation": {"body": message.text},
                "reference": reference,
            }
            return "v2/notifications/sms", body
        body = {
            "email_address": message.to,
            "template_id": template,
            "personalisation": {
                "subject": message.subject or "IT service desk",
                "body": message.text,
            },
            "reference": reference,
        }
        return "v2/notifications/email", body

    async def send(self, message: Message) -> None:
        path, body = self._request(message)
        last = "no answer"
        for attempt in range(self._attempts):
            wait = self._backoff * (2**attempt)
            try:
                status, data, retry_after = await self._post(path, body)
            except (TimeoutError, aiohttp.ClientError) as exc:
                last = f"could not reach GOV.UK Notify ({type(exc).__name__})"
            else:
                if status in (200, 201):
                    log.info(
                        "notify sent channel=%s purpose=%s id=%s",
                        message.channel,
                        message.purpose,
                        data.get("id", "-") if isinstance(data, dict) else "-",
                    )
                    return
                said = _notify_error(data, status)
                if status != 429 and status < 500:
                    raise SendError(
                        f"GOV.UK Notify refused the {message.channel} message ({status}): {said}",
                        retryable=False,
                    )
                last = f"GOV.UK Notify answered {status}: {said}"
                if retry_after is not None:
                    wait = retry_after
            log.warning(
                "notify attempt %d/%d failed channel=%s purpose=%s: %s",
                attempt + 1,
                self._attempts,
                message.channel,
                message.purpose,
                last,
            )
            if attempt + 1 < self._attempts:
                await asyncio.sleep(min(wait, self._max_wait))
        raise SendError(f"{last}; gave up after {self._attempts} tries", retryable=True)

    async def _post(self, path: str, body: dict[str, Any]) -> tuple[int, Any, float | None]:
        token = bearer_token(self._service_id, self._secret, self._clock())
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        session = self._get_session()
        async with session.post(self.base_url + path, json=body, headers=headers) as response:
            text = await response.text(errors="replace")
            try:
                data = json.loads(text) if text.strip() else None
            except json.JSONDecodeError:
                data = None
            return response.status, data, _retry_after(response.headers.get("Retry-After"))

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout, trust_env=False)
        return self._session

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


def _notify_error(data: Any, status: int) -> str:
    """Notify's own words: ``{"status_code": 400, "errors": [{"error", "message"}]}``."""
    if isinstance(data, dict) and isinstance(data.get("errors"), list):
        parts = [
            f"{e.get('error', 'Error')}: {e.get('message', '')}".strip()
            for e in data["errors"]
            if isinstance(e, dict)
        ]
        if parts:
            return "; ".join(parts)[:300]
    return f"HTTP {status}"


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
