"""What the bot counts for its operators, in Prometheus' text format (``/metrics``).

One :class:`Metrics` per running bot (made with its :class:`~bot.services.Services`), each
with its own ``CollectorRegistry`` rather than the process-wide default, so tests that run
several apps in one process never see each other's figures. Every label takes values from
a bounded set: route *patterns* (``/kb/{article_id}``, never the raw path), channels,
intents, turn outcomes and SLA alert kinds, all named in the code.

Counters move as things happen in this process; the gauges that describe shared state
(the outbox backlog per destination, notifications kept for later) are set from the
database when the page is scraped, so every replica reports the same backlog.

It lives at the root of the package, like :mod:`bot.redaction`, so the conversation, the
desk's watch and the web layer count into the same object without importing each other.

>>> m = Metrics()
>>> m.turn(channel="web", flow="answer", outcome="answered", intent="question",
...        decision="answer")
>>> b'itbot_turns_total{channel="web",outcome="answered"} 1.0' in m.render()
True
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

#: the flows that reset something in the directory (see ``bot.flows.reset``)
RESET_FLOWS = frozenset({"reset_password", "unlock_account", "reset_mfa"})

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """The bot's counters, histograms and gauges, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "itbot_http_requests",
            "HTTP requests handled, by method, route pattern and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "itbot_http_request_duration_seconds",
            "Time to handle an HTTP request, by method and route pattern.",
            ["method", "route"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.requests_in_flight = Gauge(
            "itbot_http_requests_in_flight", "HTTP requests being handled now.", registry=r
        )
        #: set while no request is in flight: awaited by the graceful shutdown (``bot.app.drain``)
        self.idle = asyncio.Event()
        self.idle.set()
        self._in_flight = 0
        self.turns = Counter(
            "itbot_turns",
            "Conversation turns finished, by channel and outcome.",
            ["channel", "outcome"],
            registry=r,
        )
        self.failed_turns = Counter(
            "itbot_turns_failed", "Turns that failed with an error.", ["channel"], registry=r
        )
        self.decisions = Counter(
            "itbot_answer_decisions",
            "What the knowledge base search decided for a question (answer, choose, decline).",
            ["decision"],
            registry=r,
        )
        self.intents = Counter(
            "itbot_intents", "Intents detected in turns that had text.", ["intent"], registry=r
        )
        self.resets = Counter(
            "itbot_resets",
            "Turns of the reset flows (password, unlock, MFA), by flow and outcome.",
            ["flow", "outcome"],
            registry=r,
        )
        self.tickets = Counter(
            "itbot_tickets_raised", "Tickets raised in conversations.", ["channel"], registry=r
        )
        self.sla_alerts = Counter(
            "itbot_sla_alerts",
            "SLA alerts recorded by this process's watch (response/resolution at risk or "
            "breached).",
            ["alert"],
            registry=r,
        )
        self.outbox_backlog = Gauge(
            "itbot_outbox_backlog",
            "Outbox rows not yet delivered, by destination (read from the database).",
            ["destination"],
            registry=r,
        )
        self.outbox_failing = Gauge(
            "itbot_outbox_failing",
            "Undelivered outbox rows flagged after repeated failures, by destination.",
            ["destination"],
            registry=r,
        )
        self.notifications_kept = Gauge(
            "itbot_notifications_kept",
            "Ticket news kept for people until their next turn (read from the database).",
            registry=r,
        )

    # -- counting -------------------------------------------------------------------------

    def started(self) -> None:
        self._in_flight += 1
        self.requests_in_flight.inc()
        self.idle.clear()

    def finished(self) -> None:
        self._in_flight -= 1
        self.requests_in_flight.dec()
        if self._in_flight == 0:
            self.idle.set()

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def turn(
        self,
        *,
        channel: str,
        flow: str | None,
        outcome: str,
        intent: str | None,
        decision: str | None,
    ) -> None:
        """One finished turn: its outcome, its intent, an answer's decision, a reset's step."""
        self.turns.labels(channel, outcome or "none").inc()
        if intent:
            self.intents.labels(intent).inc()
        if decision:
            self.decisions.labels(decision).inc()
        if flow in RESET_FLOWS:
            self.resets.labels(flow, outcome or "none").inc()
        if outcome == "ticket_raised":
            self.tickets.labels(channel).inc()

    def sla_alert(self, alert: str) -> None:
        self.sla_alerts.labels(alert).inc()

    # -- the page -------------------------------------------------------------------------

    def set_backlog(self, waiting: Mapping[str, tuple[int, int]], kept: int) -> None:
        """The gauges read from the database: (undelivered, failing) rows per destination."""
        self.outbox_backlog.clear()
        self.outbox_failing.clear()
        for destination, (count, failing) in waiting.items():
            self.outbox_backlog.labels(destination or "none").set(count)
            self.outbox_failing.labels(destination or "none").set(failing)
        self.notifications_kept.set(kept)

    def render(self) -> bytes:
        return generate_latest(self.registry)
