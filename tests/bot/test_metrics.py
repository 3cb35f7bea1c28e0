"""``/metrics``: scraped over HTTP after real turns, a reset and a ticket in the web chat.

The figures are read with prometheus-client's own parser, so a malformed page fails too.
Each test runs on SQLite and on the local PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path

import aiohttp
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.app import create_app, open_services
from bot.desk.tickets import OutboxMessage
from bot.desk.watch import watch_sla
from bot.metrics import Metrics
from bot.settings import Settings
from bot.settings.values import Secret
from bot.storage import Database
from bot.storage.models import utcnow
from tests.access.support import SAM, ResetBot, models, reset_bot
from tests.conftest import free_port
from tests.desk.listening import listening_desk
from tests.desk.test_sla_alerts import _at, _raise

SAM_MOBILE = "07700 900123"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(page: str) -> Samples:
    """Every sample on the page: (name, sorted labels) → value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(bot: ResetBot, headers: dict[str, str] | None = None) -> tuple[int, str]:
    assert bot.server is not None
    async with (
        aiohttp.ClientSession() as http,
        http.get(bot.server.make_url("/metrics"), headers=headers or {}) as response,
    ):
        return response.status, await response.text()


async def test_the_figures_move_with_turns_resets_and_tickets(
    settings: Settings, tmp_path: Path
) -> None:
    async with reset_bot(settings, tmp_path, channel="web") as bot:
        status, page = await scrape(bot)
        assert status == 200
        before = parse(page)
        assert value(before, "itbot_turns_total", channel="web", outcome="answered") == 0

        await bot.say(SAM, "how do I share my calendar")
        await bot.say(SAM, "I forgot my password")
        printed = await bot.say(SAM, bot.last_code(SAM_MOBILE))
        assert "temporary password is" in printed
        for line in (
            "I want to raise a ticket",
            "The printer by the lift prints blank pages",
            "laptop, phone or printer",
            "I can work around it for now",
            "yes",
        ):
            printed = await bot.say(SAM, line)
        assert "Done: JSD-" in printed

        status, page = await scrape(bot)
        assert status == 200
        after = parse(page)
    assert value(after, "itbot_turns_total", channel="web", outcome="answered") == 1
    assert value(after, "itbot_answer_decisions_total", decision="answer") >= 1
    assert value(after, "itbot_intents_total", intent="reset_password") == 1
    assert value(after, "itbot_resets_total", flow="reset_password", outcome="code_sent") == 1
    assert value(after, "itbot_resets_total", flow="reset_password", outcome="password_reset") == 1
    assert value(after, "itbot_tickets_raised_total", channel="web") == 1
    # requests by route pattern, with a latency histogram
    chats = {"method": "POST", "route": "/api/chat"}
    assert value(after, "itbot_http_requests_total", **chats, status="200") == 8
    assert (
        value(after, "itbot_http_request_duration_seconds_count", method="POST", route="/api/chat")
        == 8
    )
    assert value(after, "itbot_http_requests_total", method="GET", route="/metrics", status="200")
    # the gauges read from the database are on the page (their values vary as the worker runs)
    assert "itbot_notifications_kept" in page
    assert value(after, "itbot_turns_failed_total", channel="web") == 0


async def test_raw_paths_stay_out_of_the_labels(settings: Settings, tmp_path: Path) -> None:
    async with reset_bot(settings, tmp_path, channel="web") as bot:
        assert bot.server is not None
        async with aiohttp.ClientSession() as http:
            for n in range(3):
                async with http.get(bot.server.make_url(f"/kb/no-such-article-{n}")) as r:
                    assert r.status == 404
                async with http.get(bot.server.make_url(f"/nowhere/{n}")) as r:
                    assert r.status == 404
        page = (await scrape(bot))[1]
    samples = parse(page)
    assert "no-such-article" not in page and "/nowhere" not in page
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value(samples, "itbot_http_requests_total", **unmatched) == 3
    assert any(
        dict(labels).get("route", "").startswith("/kb/{")
        for (name, labels) in samples
        if name == "itbot_http_requests_total"
    )


async def test_outbox_backlog_per_destination_is_read_at_scrape_time(
    settings: Settings, tmp_path: Path
) -> None:
    async with reset_bot(settings, tmp_path, channel="web") as bot:
        later = utcnow() + timedelta(days=1)  # not due: the app's worker leaves them be
        async with bot.services.db.session() as session, session.begin():
            for destination in ("external", "external", "slack"):
                session.add(
                    OutboxMessage(kind="test_waiting", destination=destination, available_at=later)
                )
        samples = parse((await scrape(bot))[1])
        assert value(samples, "itbot_outbox_backlog", destination="external") == 2
        assert value(samples, "itbot_outbox_backlog", destination="slack") == 1
        # delivered rows leave the backlog
        async with bot.services.db.session() as session, session.begin():
            query = sa.select(OutboxMessage).where(OutboxMessage.destination == "slack")
            for row in (await session.execute(query)).scalars():
                row.sent_at = utcnow()
        samples = parse((await scrape(bot))[1])
        assert value(samples, "itbot_outbox_backlog", destination="slack") == 0
        assert value(samples, "itbot_outbox_backlog", destination="external") == 2


async def test_a_token_is_required_when_set(settings: Settings, tmp_path: Path) -> None:
    token = "metrics-token-0123456789"
    async with reset_bot(settings, tmp_path, channel="web", metrics_token=Secret(token)) as bot:
        assert (await scrape(bot))[0] == 401
        assert (await scrape(bot, {"Authorization": "Bearer wrong-token-0123456"}))[0] == 401
        assert (await scrape(bot, {"Authorization": token}))[0] == 401
        status, page = await scrape(bot, {"Authorization": f"Bearer {token}"})
        assert status == 200 and "itbot_turns_total" in page
        assert token not in page


async def test_a_separate_address_moves_the_page(settings: Settings) -> None:
    port = free_port()
    settings = dataclasses.replace(settings, metrics_address=("127.0.0.1", port))
    knowledge, detector = models(settings)
    async with open_services(settings, knowledge=knowledge, detector=detector) as services:
        app = create_app(settings, services=services, watch_knowledge=False)
        async with TestClient(TestServer(app)) as client:
            assert (await client.get("/metrics")).status == 404
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"http://127.0.0.1:{port}/metrics") as response,
            ):
                assert response.status == 200
                page = await response.text()
            assert "itbot_http_requests_total" in page
            # the bot's own 404 for /metrics was counted, on the page served apart
            samples = parse(page)
            assert value(
                samples, "itbot_http_requests_total", method="GET", route="unmatched", status="404"
            )


async def test_sla_alerts_are_counted_by_the_watch(db: Database) -> None:
    desk = listening_desk()
    await _raise(db, desk)
    await _raise(db, desk)
    metrics = Metrics()
    stop, alerted = asyncio.Event(), asyncio.Event()
    watch = asyncio.create_task(
        watch_sla(
            db,
            desk,
            stop,
            every=60,
            clock=lambda: _at(25, 14, 1),  # past the response deadline: at risk and breached
            on_alert=alerted.set,
            count=metrics.sla_alert,
        )
    )
    await alerted.wait()
    stop.set()
    await watch
    samples = parse(metrics.render().decode())
    assert value(samples, "itbot_sla_alerts_total", alert="response_at_risk") == 2
    assert value(samples, "itbot_sla_alerts_total", alert="response_breached") == 2
