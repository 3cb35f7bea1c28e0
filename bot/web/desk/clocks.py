"""The state of a ticket's two SLA clocks, from the due and at-risk instants stored on it.

The stored instants are the ones the queue's "breached" and "at risk" filters compare
with, so what a row shows and what the filters select always agree (and no working-time
arithmetic runs per row).

>>> from datetime import UTC, datetime, timedelta
>>> t0 = datetime(2026, 11, 25, 9, tzinfo=UTC)
>>> clock_state(due=t0, risk_at=t0 - timedelta(hours=1), done_at=None, running=True,
...             now=t0 - timedelta(minutes=30))
'at_risk'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.desk.sla import ClockState
from bot.desk.tickets import OPEN_STATUSES

#: how each state reads on the page: a word and a symbol, never colour alone
LABELS: dict[str, str] = {
    "ok": "On track",
    "at_risk": "At risk",
    "breached": "Breached",
    "met": "Met",
    "stopped": "Stopped",
    "paused": "Paused: waiting for the requester",
}
SYMBOLS: dict[str, str] = {
    "at_risk": "⚠",
    "breached": "✖",
    "met": "✓",
    "ok": "",
    "stopped": "",
    "paused": "⏸",
}


class HasClocks(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def response_due(self) -> datetime: ...
    @property
    def response_risk_at(self) -> datetime: ...
    @property
    def first_response_at(self) -> datetime | None: ...
    @property
    def resolution_due(self) -> datetime: ...
    @property
    def resolution_risk_at(self) -> datetime: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def sla_paused_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class Clock:
    name: str
    due: datetime
    state: ClockState
    done_at: datetime | None

    @property
    def label(self) -> str:
        return LABELS[self.state]

    @property
    def symbol(self) -> str:
        return SYMBOLS[self.state]


def clock_state(
    *,
    due: datetime,
    risk_at: datetime,
    done_at: datetime | None,
    running: bool,
    now: datetime,
    paused_at: datetime | None = None,
) -> ClockState:
    if done_at is not None:
        return "met" if done_at <= due else "breached"
    if paused_at is not None:  # pending: the clock stands, unless it had already run out
        return "breached" if paused_at >= due else "paused"
    if not running:
        return "stopped"
    if now >= due:
        return "breached"
    if now >= risk_at:
        return "at_risk"
    return "ok"


def clocks(ticket: HasClocks, now: datetime) -> tuple[Clock, Clock]:
    """(response, resolution) clocks of ``ticket`` at ``now``."""
    running = ticket.status in OPEN_STATUSES
    paused = ticket.sla_paused_at if ticket.status == "pending" else None
    response = clock_state(
        due=ticket.response_due,
        risk_at=ticket.response_risk_at,
        done_at=ticket.first_response_at,
        running=running,
        now=now,
        paused_at=paused,
    )
    resolution = clock_state(
        due=ticket.resolution_due,
        risk_at=ticket.resolution_risk_at,
        done_at=ticket.resolved_at,
        running=running,
        now=now,
        paused_at=paused,
    )
    return (
        Clock("Response", ticket.response_due, response, ticket.first_response_at),
        Clock("Resolution", ticket.resolution_due, resolution, ticket.resolved_at),
    )


def attention(ticket: HasClocks, now: datetime) -> ClockState:
    """What the queue highlights: the worse of the clocks still running on an open ticket,
    else how the resolution clock ended."""
    response, resolution = clocks(ticket, now)
    if ticket.status not in OPEN_STATUSES:
        return resolution.state
    running = {c.state for c in (response, resolution) if c.done_at is None}
    if "breached" in running:
        return "breached"
    if "at_risk" in running:
        return "at_risk"
    return "ok"
