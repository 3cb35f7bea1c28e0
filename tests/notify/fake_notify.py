"""A fake GOV.UK Notify over real HTTP: checks the bearer JWT like Notify does and keeps
what it was sent.

It verifies the HS256 signature with the service's secret (written here independently of
the adapter), that ``iss`` is the service id and that ``iat`` is within 30 seconds of now,
and checks each body against the documented shape. ``fail_next`` queues answers (status
codes) to give before the normal 201, for 400/403/429/500 tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"itbot_test-{SERVICE_ID}-{SECRET}"
SMS_TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"
EMAIL_TEMPLATE = "217a419e-6a7d-482a-9596-718b889dffce"

ERRORS = {
    400: ("BadRequestError", "phone_number Not a UK mobile number"),
    403: ("AuthError", "Invalid token: signature, api token not found"),
    429: (
        "RateLimitError",
        "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds",
    ),
    500: ("Exception", "Internal server error"),
}


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def check_token(header: str, *, secret: str = SECRET, service_id: str = SERVICE_ID) -> str | None:
    """``None`` if the bearer token is one Notify accepts, else why not."""
    if not header.startswith("Bearer "):
        return "Unauthorized: authentication token must be provided"
    token = header.removeprefix("Bearer ")
    try:
        head, payload, signature = token.split(".")
        if json.loads(_unb64(head)) != {"typ": "JWT", "alg": "HS256"}:
            return "Invalid token: header"
        expected = hmac.new(secret.encode(), f"{head}.{payload}".encode(), hashlib.sha256)
        if not hmac.compare_digest(_unb64(signature), expected.digest()):
            return "Invalid token: signature, api token not found"
        claims = json.loads(_unb64(payload))
    except (ValueError, json.JSONDecodeError):
        return "Invalid token: not a JWT"
    if claims.get("iss") != service_id:
        return "Invalid token: service not found"
    if not isinstance(claims.get("iat"), int) or abs(time.time() - claims["iat"]) > 30:
        return "Error: Your system clock must be accurate to within 30 seconds"
    return None


@dataclass
class FakeNotify:
    """What the fake received, and the failures it has been told to give."""

    url: str = ""
    #: the bodies of accepted notifications, with their type ("sms" or "email")
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: every request body, accepted or not
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    retry_after: str | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v2/notifications/{kind}", self._notify)
        return app

    async def _notify(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        why = check_token(request.headers.get("Authorization", ""))
        if why is not None:
            return _error(403, "AuthError", why)
        body = await request.json()
        self.requests.append(body)
        if self.fail_next:
            status = self.fail_next.pop(0)
            headers = {"Retry-After": self.retry_after} if self.retry_after else None
            return _error(status, *ERRORS[status], headers=headers)
        problem = _check_body(kind, body)
        if problem is not None:
            return _error(400, "ValidationError", problem)
        self.sent.append((kind, body))
        content: dict[str, Any] = {"body": body["personalisation"]["body"]}
        if kind == "sms":
            content["from_number"] = "GOVUK"
        else:
            content |= {"subject": body["personalisation"]["subject"], "from_email": "x@notify"}
        notification_id = str(uuid.uuid4())
        return web.json_response(
            {
                "id": notification_id,
                "reference": body.get("reference"),
                "content": content,
                "uri": f"{self.url}/v2/notifications/{notification_id}",
                "template": {"id": body["template_id"], "version": 1, "uri": "..."},
            },
            status=201,
        )


def _check_body(kind: str, body: dict[str, Any]) -> str | None:
    fields = {"sms": ("phone_number", SMS_TEMPLATE), "email": ("email_address", EMAIL_TEMPLATE)}
    if kind not in fields:
        return f"{kind} is not a notification type"
    address, template = fields[kind]
    allowed = {address, "template_id", "personalisation", "reference"}
    if set(body) - allowed:
        return f"Additional properties are not allowed ({sorted(set(body) - allowed)})"
    if not isinstance(body.get(address), str) or not body[address]:
        return f"{address} is a required property"
    if body.get("template_id") != template:
        return "template_id Template not found"
    wanted = {"body"} if kind == "sms" else {"subject", "body"}
    personalisation = body.get("personalisation")
    if not isinstance(personalisation, dict) or set(personalisation) != wanted:
        return f"Missing personalisation: {', '.join(sorted(wanted))}"
    if "reference" in body and not isinstance(body["reference"], str):
        return "reference is not a string"
    return None


def _error(
    status: int, error: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        {"status_code": status, "errors": [{"error": error, "message": message}]},
        status=status,
        headers=headers,
    )


@asynccontextmanager
async def serving() -> AsyncIterator[FakeNotify]:
    """The fake on 127.0.0.1, on a random port."""
    fake = FakeNotify()
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()
