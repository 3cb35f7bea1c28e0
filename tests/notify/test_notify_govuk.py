"""GOV.UK Notify against a local fake that checks its JWT, the bodies, and gives errors."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from integrations.notify.base import Message, SendError
from integrations.notify.govuk_notify import GovukNotifySender, bearer_token, parse_api_key
from tests.conftest import free_port
from tests.notify.fake_notify import (
    API_KEY,
    EMAIL_TEMPLATE,
    SECRET,
    SERVICE_ID,
    SMS_TEMPLATE,
    FakeNotify,
    check_token,
    serving,
)

CODE = "731942"
TEXT = f"Your Joint ICT code is {CODE}. It expires in 10 minutes."


@pytest.fixture
async def notify() -> AsyncIterator[FakeNotify]:
    async with serving() as fake:
        yield fake


def _sender(url: str, *, api_key: str = API_KEY, **options: object) -> GovukNotifySender:
    return GovukNotifySender(
        api_key=api_key,
        sms_template=SMS_TEMPLATE,
        email_template=EMAIL_TEMPLATE,
        base_url=url,
        backoff=0.01,
        **options,  # type: ignore[arg-type]
    )


def _code(to: str = "07700 900123") -> Message:
    return Message(to, "sms", TEXT, purpose="code", secret=True)


def test_the_api_key_is_read_from_its_last_two_uuids() -> None:
    assert parse_api_key(API_KEY) == (SERVICE_ID, SECRET)
    assert parse_api_key(f"a-b-c-{SERVICE_ID}-{SECRET}") == (SERVICE_ID, SECRET)
    with pytest.raises(ValueError, match=r"not a GOV\.UK Notify API key") as caught:
        parse_api_key("itbot-" + "z" * 73)
    assert "zzz" not in str(caught.value)


def test_our_token_is_one_notify_accepts_and_a_stale_one_is_refused() -> None:
    import time

    assert check_token(f"Bearer {bearer_token(SERVICE_ID, SECRET, time.time())}") is None
    old = bearer_token(SERVICE_ID, SECRET, time.time() - 120)
    assert "clock" in (check_token(f"Bearer {old}") or "")
    forged = bearer_token(SERVICE_ID, "not-the-secret", time.time())
    assert "signature" in (check_token(f"Bearer {forged}") or "")


async def test_a_text_message_reaches_notify_and_the_code_stays_out_of_the_reference(
    notify: FakeNotify, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sender = _sender(notify.url)
    try:
        await sender.send(_code())
    finally:
        await sender.aclose()
    [(kind, body)] = notify.sent
    assert kind == "sms"
    assert body["phone_number"] == "07700 900123"
    assert body["template_id"] == SMS_TEMPLATE
    assert body["personalisation"] == {"body": TEXT}
    assert body["reference"].startswith("itbot-code-") and CODE not in body["reference"]
    assert not any(CODE in r.getMessage() for r in caplog.records)


async def test_an_email_carries_its_subject_and_body(notify: FakeNotify) -> None:
    sender = _sender(notify.url)
    try:
        await sender.send(
            Message(
                "sam.personal@example.com",
                "email",
                "Your password was changed. If this wasn't you, call the desk.",
                subject="Your password was changed",
                purpose="access_changed",
            )
        )
    finally:
        await sender.aclose()
    [(kind, body)] = notify.sent
    assert kind == "email" and body["email_address"] == "sam.personal@example.com"
    assert body["template_id"] == EMAIL_TEMPLATE
    assert body["personalisation"]["subject"] == "Your password was changed"
    assert "wasn't you" not in body["reference"]


@pytest.mark.parametrize("status", [400, 403])
async def test_a_refusal_is_final_and_says_what_notify_said(
    notify: FakeNotify, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    notify.fail_next = [status]
    sender = _sender(notify.url)
    try:
        with pytest.raises(SendError) as caught:
            await sender.send(_code())
    finally:
        await sender.aclose()
    error = caught.value
    assert not error.retryable
    assert str(status) in str(error)
    assert ("Not a UK mobile number" if status == 400 else "Invalid token") in str(error)
    assert CODE not in str(error)
    assert len(notify.requests) == 1  # not tried again
    assert not any(CODE in r.getMessage() for r in caplog.records)


async def test_a_wrong_secret_is_refused_by_the_signature_check(notify: FakeNotify) -> None:
    other = "11111111-2222-3333-4444-555555555555"
    sender = _sender(notify.url, api_key=f"itbot_test-{SERVICE_ID}-{other}")
    try:
        with pytest.raises(SendError, match="signature") as caught:
            await sender.send(_code())
    finally:
        await sender.aclose()
    assert not caught.value.retryable and not notify.sent


@pytest.mark.parametrize("status", [429, 500])
async def test_busy_or_failing_notify_is_retried_then_succeeds(
    notify: FakeNotify, status: int
) -> None:
    notify.fail_next = [status, status]
    notify.retry_after = "0"
    sender = _sender(notify.url, attempts=3)
    try:
        await sender.send(_code())
    finally:
        await sender.aclose()
    assert len(notify.requests) == 3 and len(notify.sent) == 1
    references = {body["reference"] for body in notify.requests}
    assert all(CODE not in reference for reference in references)


async def test_retries_are_bounded_and_end_in_a_retryable_error(notify: FakeNotify) -> None:
    notify.fail_next = [500, 429, 500, 500]
    sender = _sender(notify.url, attempts=3)
    try:
        with pytest.raises(SendError) as caught:
            await sender.send(_code())
    finally:
        await sender.aclose()
    assert caught.value.retryable and "3 tries" in str(caught.value)
    assert len(notify.requests) == 3 and CODE not in str(caught.value)


async def test_timeouts_and_refused_connections_are_retryable() -> None:
    async def slow(request: web.Request) -> web.Response:
        import asyncio

        await asyncio.sleep(5)
        return web.json_response({}, status=201)

    app = web.Application()
    app.router.add_post("/v2/notifications/sms", slow)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    sender = _sender(url, timeout=0.2, attempts=2)
    try:
        with pytest.raises(SendError, match="could not reach") as caught:
            await sender.send(_code())
        assert caught.value.retryable
    finally:
        await sender.aclose()
        await runner.cleanup()

    closed = _sender(f"http://127.0.0.1:{free_port()}", attempts=2)
    try:
        with pytest.raises(SendError) as refused:
            await closed.send(_code())
    finally:
        await closed.aclose()
    assert refused.value.retryable and CODE not in str(refused.value)


async def test_channels_follow_the_templates_set_up(notify: FakeNotify) -> None:
    sms_only = GovukNotifySender(api_key=API_KEY, sms_template=SMS_TEMPLATE, base_url=notify.url)
    assert sms_only.channels == {"sms"}
    with pytest.raises(SendError, match="EMAIL_TEMPLATE"):
        await sms_only.send(Message("sam@example.com", "email", "hello"))
    await sms_only.aclose()
    with pytest.raises(ValueError, match="template"):
        GovukNotifySender(api_key=API_KEY)
