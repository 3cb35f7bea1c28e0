"""SLA targets per priority, the state of a ticket's clocks, and moving them on.

>>> policy = SlaPolicy.default()
>>> policy.targets["P1"].response
datetime.timedelta(seconds=1800)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.desk.calendar import WorkingCalendar
from bot.desk.tickets import RUNNING_STATUSES, Ticket

Priority = Literal["P1", "P2", "P3", "P4"]
PRIORITIES: tuple[Priority, ...] = ("P1", "P2", "P3", "P4")
ClockState = Literal["ok", "at_risk", "breached", "met", "stopped", "paused"]
Alert = Literal[
    "response_at_risk", "response_breached", "resolution_at_risk", "resolution_breached"
]

#: what each priority means, in the words staff are asked in
PRIORITY_MEANING: dict[Priority, str] = {
    "P1": "Many staff or a public-facing service cannot work",
    "P2": "One person cannot work at all, or a team is badly affected",
    "P3": "One person is affected but can work around it",
    "P4": "A request or a question",
}


@dataclass(frozen=True, slots=True)
class Target:
    response: timedelta
    resolution: timedelta


@dataclass(frozen=True, slots=True)
class Clocks:
    response_due: datetime
    resolution_due: datetime
    response_risk_at: datetime
    resolution_risk_at: datetime


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """Targets in working time; a clock is *at risk* once ``at_risk_share`` of it is used."""

    calendar: WorkingCalendar
    targets: dict[str, Target]
    at_risk_share: float = 0.75

    @classmethod
    def default(cls, calendar: WorkingCalendar | None = None) -> SlaPolicy:
        cal = calendar or WorkingCalendar()
        day = cal.day_length
        return cls(
            calendar=cal,
            targets={
                "P1": Target(timedelta(minutes=30), timedelta(hours=4)),
                "P2": Target(timedelta(hours=1), day),
                "P3": Target(timedelta(hours=4), day * 3),
                "P4": Target(day, day * 5),
            },
        )

    def clocks(self, priority: str, opened: datetime) -> Clocks:
        """Due and at-risk instants of both clocks for a ticket opened at ``opened``."""
        target = self.targets[priority]
        cal = self.calendar
        return Clocks(
            response_due=cal.add(opened, target.response),
            resolution_due=cal.add(opened, target.resolution),
            response_risk_at=cal.add(opened, target.response * self.at_risk_share),
            resolution_risk_at=cal.add(opened, target.resolution * self.at_risk_share),
        )

    def due(self, priority: str, opened: datetime) -> tuple[datetime, datetime]:
        """(response due, resolution due) for a ticket opened at ``opened``."""
        target = self.targets[priority]
        return (
            self.calendar.add(opened, target.response),
            self.calendar.add(opened, target.resolution),
        )

    def clock(
        self,
        *,
        opened: datetime,
        due: datetime,
        now: datetime,
        done_at: datetime | None,
    ) -> ClockState:
        """State of one clock (response or resolution) at ``now``."""
        if done_at is not None:
            return "met" if done_at <= due else "breached"
        if now >= due:
            return "breached"
        allowed = self.calendar.between(opened, due)
        used = self.calendar.between(opened, now)
        if allowed and used / allowed >= self.at_risk_share:
            return "at_risk"
        return "ok"


def alert_schedule(
    *,
    response_risk_at: datetime,
    response_due: datetime,
    resolution_risk_at: datetime,
    resolution_due: datetime,
    responded: bool,
) -> list[tuple[datetime, Alert]]:
    """When each SLA alert of a ticket falls due (response alerts only until answered).

    >>> t = datetime(2026, 1, 5, 9)
    >>> [k for _, k in alert_schedule(response_risk_at=t, response_due=t, resolution_risk_at=t,
    ...                                resolution_due=t, responded=True)]
    ['resolution_at_risk', 'resolution_breached']
    """
    schedule: list[tuple[datetime, Alert]] = []
    if not responded:
        schedule += [(response_risk_at, "response_at_risk"), (response_due, "response_breached")]
    schedule += [
        (resolution_risk_at, "resolution_at_risk"),
        (resolution_due, "resolution_breached"),
    ]
    return schedule


def set_clocks(ticket: Ticket, clocks: Clocks) -> None:
    ticket.response_due, ticket.resolution_due = clocks.response_due, clocks.resolution_due
    ticket.response_risk_at = clocks.response_risk_at
    ticket.resolution_risk_at = clocks.resolution_risk_at


def move_on(
    ticket: Ticket,
    held: timedelta,
    calendar: WorkingCalendar,
    *,
    paused_at: datetime | None = None,
) -> None:
    """Move the ticket's due and at-risk times on by ``held`` of working time.

    After a pause that began at ``paused_at``, a clock already breached then stays
    breached, and the response clock stays put once the ticket was answered.
    """
    if not held:
        return
    if paused_at is None or (ticket.first_response_at is None and ticket.response_due > paused_at):
        ticket.response_due = calendar.add(ticket.response_due, held)
        ticket.response_risk_at = calendar.add(ticket.response_risk_at, held)
    if paused_at is None or ticket.resolution_due > paused_at:
        ticket.resolution_due = calendar.add(ticket.resolution_due, held)
        ticket.resolution_risk_at = calendar.add(ticket.resolution_risk_at, held)


def pause_or_resume(
    ticket: Ticket, before: str, now: datetime, calendar: WorkingCalendar
) -> timedelta | None:
    """Stop the clocks when the ticket became pending at ``now``; run them again after.

    On leaving "pending" the clocks move on by the working time the ticket waited
    (added to ``sla_paused_seconds``), which is returned; ``None`` if nothing resumed.
    """
    if ticket.status == "pending" and before != "pending":
        ticket.sla_paused_at = now
        return None
    if before != "pending" or ticket.status == "pending" or not ticket.sla_paused_at:
        return None
    paused_at, ticket.sla_paused_at = ticket.sla_paused_at, None
    held = calendar.between(paused_at, now)
    if held > timedelta(0):
        move_on(ticket, held, calendar, paused_at=paused_at)
        ticket.sla_paused_seconds = (ticket.sla_paused_seconds or 0) + int(held.total_seconds())
    return held


def ticket_alerts(ticket: Ticket) -> list[tuple[datetime, Alert]]:
    """:func:`alert_schedule` for ``ticket``'s clocks."""
    return alert_schedule(
        response_risk_at=ticket.response_risk_at,
        response_due=ticket.response_due,
        resolution_risk_at=ticket.resolution_risk_at,
        resolution_due=ticket.resolution_due,
        responded=ticket.first_response_at is not None,
    )


def due_alerts(ticket: Ticket, now: datetime) -> list[str]:
    """The alerts of ``ticket`` due by ``now`` and not yet sent (none while it stands)."""
    if ticket.status not in RUNNING_STATUSES:
        return []
    sent = set(ticket.sla_alerts or ())
    return [kind for at, kind in ticket_alerts(ticket) if at <= now and kind not in sent]


def next_alert(ticket: Ticket) -> datetime | None:
    """When the ticket's next SLA alert falls due; ``None`` once there are no more."""
    if ticket.status not in RUNNING_STATUSES:  # closed, or paused while pending
        return None
    sent = set(ticket.sla_alerts or ())
    return min((at for at, kind in ticket_alerts(ticket) if kind not in sent), default=None)
