"""The shared plumbing: vendor answers translated into our errors, signatures, no secrets
in logs – against a small local server over real HTTP."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from integrations.servicedesk import (
    DeskAuthError,
    DeskRejected,
    DeskUnavailable,
    JiraServiceManagement,
    RemoteChange,
    RequestTracker,
    ServiceDesk,
    ServiceNow,
    TicketNotFound,
    WebhookRejected,
)
from integrations.servicedesk.http import (
    SIGNATURE_HEADER,
    DeskHttp,
    parse_signed_webhook,
    sign,
    vendor_message,
)

ANSWERS: dict[str, tuple[int, str, dict[str, str]]] = {
    "/html": (200, "<html>Down for maintenance</html>", {"Content-Type": "text/html"}),
    "/empty": (204, "", {}),
    "/jira-400": (400, json.dumps({"errorMessages": ["Summary is required."]}), {}),
    "/jsm-400": (400, json.dumps({"errorMessage": "The request type does not exist."}), {}),
    "/sn-404": (404, json.dumps({"error": {"message": "No Record found"}}), {}),
    "/rt-403": (403, json.dumps({"message": "Forbidden"}), {}),
    "/busy": (503, "", {}),  # Retry-After: two minutes from now, as an HTTP date
}


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    async def answer(request: web.Request) -> web.Response:
        status, body, headers = ANSWERS[request.path]
        if request.path == "/busy":
            later = datetime.now(UTC) + timedelta(seconds=120)
            headers = {"Retry-After": format_datetime(later, usegmt=True)}
        return web.Response(status=status, text=body, headers=headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    running = TestServer(app)
    await running.start_server()
    yield running
    await running.close()


@pytest.fixture
async def http(server: TestServer) -> AsyncIterator[DeskHttp]:
    client = DeskHttp(
        desk="jira", base_url=str(server.make_url("")), headers={"Authorization": "token s3cr3t"}
    )
    yield client
    await client.aclose()


async def test_answers_become_our_errors(http: DeskHttp) -> None:
    assert await http.request("GET", "/empty") is None
    with pytest.raises(DeskUnavailable, match="isn't JSON"):
        await http.request("GET", "/html")
    with pytest.raises(DeskRejected, match="Summary is required") as rejected:
        await http.request("POST", "/jira-400", json_body={"password": "hunter2"})
    assert not rejected.value.retryable and rejected.value.status == 400
    with pytest.raises(DeskRejected, match="request type does not exist"):
        await http.request("POST", "/jsm-400")
    with pytest.raises(TicketNotFound, match="No Record found") as missing:
        await http.request("GET", "/sn-404", not_found="abc")
    assert missing.value.remote_id == "abc"
    with pytest.raises(DeskRejected):
        await http.request("GET", "/sn-404")
    with pytest.raises(DeskAuthError, match="credentials"):
        await http.request("GET", "/rt-403")
    with pytest.raises(DeskUnavailable) as busy:
        await http.request("GET", "/busy")
    assert busy.value.retry_after is not None and 100 < busy.value.retry_after <= 120


async def test_no_secrets_in_logs_or_errors(
    http: DeskHttp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="integrations.servicedesk")
    with pytest.raises(DeskRejected) as rejected:
        await http.request("POST", "/jira-400", json_body={"password": "hunter2"})

    assert "POST /jira-400 -> 400" in caplog.text
    for secret in ("s3cr3t", "hunter2"):
        assert secret not in caplog.text
        assert secret not in str(rejected.value)


def test_vendor_messages() -> None:
    assert vendor_message({"error": {"message": "No Record found", "detail": "ACL"}}, "") == (
        "No Record found; ACL"
    )
    assert vendor_message({"errorMessages": [], "errors": {"summary": "required"}}, "") == (
        "summary: required"
    )
    assert vendor_message(["Ticket 1: Status 'x' isn't valid"], "") == (
        "Ticket 1: Status 'x' isn't valid"
    )
    assert vendor_message(None, "  <h1>Bad   gateway</h1> ") == "<h1>Bad gateway</h1>"


def event(**changes: object) -> bytes:
    values: dict[str, object] = {
        "id": "41",
        "ticket": "12",
        "reference": "JSD-000123",
        "kind": "comment",
        "body": "Try again now",
        "public": True,
        "author": "Alice Smith",
        "author_id": "alice",
        "at": "2026-11-25T18:13:42Z",
    }
    values.update(changes)
    return json.dumps(values).encode()


def parse(body: bytes, signature: str | None = None) -> list[RemoteChange]:
    headers = {SIGNATURE_HEADER.lower(): signature or sign("secret", body)}
    return parse_signed_webhook(
        desk="rt", secret="secret", headers=headers, body=body,
        to_status=lambda s: "resolved", bot_user="itbot",
    )  # fmt: skip


def test_signed_webhook_format() -> None:
    [change] = parse(event())
    assert change == parse(event())[0]
    assert change.change_id == "rt:comment:41"
    assert change.at == datetime(2026, 11, 25, 18, 13, 42, tzinfo=UTC)
    assert parse(event(author_id="itbot")) == []  # the bot's own action
    assert parse(event(reference=None)) == []  # not one of our tickets
    both = json.dumps(
        [json.loads(event()), json.loads(event(id="43", kind="status", status="resolved"))]
    ).encode()
    assert [c.kind for c in parse(both)] == ["comment", "status"]

    with pytest.raises(WebhookRejected, match="does not match"):
        parse(event(), signature=sign("other secret", event()))
    with pytest.raises(WebhookRejected, match="malformed"):
        parse(b'{"reference": "JSD-1"}')
    with pytest.raises(WebhookRejected, match="not JSON"):
        parse(b"<xml/>")


async def test_connectors_are_service_desks_and_idle_ones_close_cleanly() -> None:
    desks: list[ServiceDesk] = [
        RequestTracker(base_url="http://127.0.0.1:9", username="itbot", token="1-2-x"),
        JiraServiceManagement(
            base_url="http://127.0.0.1:9", email="bot@example.org", api_token="t",
            service_desk_id="1", request_type_id="2", project_key="HELP",
        ),
        ServiceNow(base_url="http://127.0.0.1:9", username="itbot", password="p"),
    ]  # fmt: skip
    for desk in desks:
        assert isinstance(desk, ServiceDesk)
        await desk.aclose()
    assert [d.name for d in desks] == ["rt", "jira", "servicenow"]
    with pytest.raises(ValueError, match="token or a password"):
        RequestTracker(base_url="http://127.0.0.1:9", username="itbot")
    with pytest.raises(ValueError, match="reference_field"):
        JiraServiceManagement(
            base_url="http://127.0.0.1:9", email="e", api_token="t", service_desk_id="1",
            request_type_id="2", project_key="HELP", reference_field="summary",
        )  # fmt: skip
