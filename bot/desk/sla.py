"""SLA targets per priority and the state of a ticket's clocks.

>>> policy = SlaPolicy.default()
>>> policy.targets["P1"].response
datetime.timedelta(seconds=1800)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.desk.calendar import WorkingCalendar

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
