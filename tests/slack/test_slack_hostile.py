"""Hostile POSTs to /slack/events: the signature is checked on the raw body first; anything
unsigned or malformed gets a 4xx and one log line, never a 5xx or a traceback."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.slack.guard import MAX_BODY_BYTES
from tests.hostile import ANY_TEXT, FAST, JSON, in_thread, runner
from tests.slack.fake_slack import (
    SAM_ID,
    SIGNING_SECRET,
    SlackDriver,
    cached_models,
    fake_slack,
    message_im,
    slack,
)

__all__ = ["cached_models", "fake_slack", "slack"]  # fixtures used below

MALFORMED = (
    b"[1,2,3]",
    b'"x"',
    b"\xff\xfe{\x80}",
    b"payload=%5B%5D",
    b"",
    b"{" * 50_000,
    b'{"type": "event_callback", "event": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
)
HUGE = b'{"type": "event_callback", "pad": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'


def signed(body: bytes) -> dict[str, str]:
    """Slack's headers for raw ``body`` (bytes: it may not even be UTF-8)."""
    stamp = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, "sha256")
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + digest.hexdigest()}


async def post(slack: SlackDriver, body: bytes, headers: dict[str, str]) -> int:
    kind = "application/json" if body[:1] in (b"{", b"[") else "application/x-www-form-urlencoded"
    response = await slack.client.post(
        "/slack/events", data=body, headers={"Content-Type": kind, **headers}
    )
    return response.status


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.channels.slack.guard"]


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    crashed = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not crashed, [r.getMessage() for r in crashed]


async def test_unsigned_malformed_bodies_get_401_and_one_log_line(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    for body in (*MALFORMED, HUGE):
        caplog.clear()
        status = await post(slack, body, {})
        assert status in (401, 413), (body[:20], status)
        assert len(refusals(caplog)) == 1, (body[:20], caplog.text)
        no_tracebacks(caplog)
    forged = {**signed(b"[1,2,3]"), "X-Slack-Signature": "v0=" + "0" * 64}
    assert await post(slack, b"[1,2,3]", forged) == 401


async def test_signed_malformed_bodies_get_a_4xx_and_one_log_line(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    for body in MALFORMED:
        caplog.clear()
        status = await post(slack, body, signed(body))
        assert status == 400, (body[:20], status)
        assert len(refusals(caplog)) == 1, (body[:20], caplog.text)
        no_tracebacks(caplog)
    caplog.clear()
    assert await post(slack, HUGE, signed(HUGE)) == 413
    assert len(refusals(caplog)) == 1
    # the real thing still works after all that
    assert await slack.send(message_im(SAM_ID, "how do I share my calendar?")) is not None
    [answer] = await slack.fake.wait_for("chat.postMessage")
    assert "calendar" in answer.block_text.lower()


SHAPES = st.one_of(
    JSON.map(lambda v: json.dumps(v).encode()),
    JSON.map(lambda v: json.dumps({"type": "event_callback", "event": v}).encode()),
    st.dictionaries(ANY_TEXT, JSON, max_size=4).map(
        lambda d: json.dumps({"type": "event_callback", "event_id": "Ev1", "event": d}).encode()
    ),
    JSON.map(lambda v: urlencode({"payload": json.dumps(v)}).encode()),
    st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=4).map(
        lambda d: urlencode(d, encoding="utf-8", errors="surrogatepass").encode()
    ),
    st.binary(max_size=200),
)


async def test_any_signed_payload_shape_gets_no_5xx(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    run = runner(asyncio.get_running_loop())

    @FAST
    @given(body=SHAPES)
    def check(body: bytes) -> None:
        status = run(post(slack, body, signed(body)))
        assert status < 500, (body[:80], status)

    await in_thread(check)
    await slack.fake.settle(0.3)
    no_tracebacks(caplog)
