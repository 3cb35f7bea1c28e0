"""Moving a ticket's SLA clocks on by the working time they stood still."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.desk.calendar import LONDON, WorkingCalendar
from bot.desk.sla import SlaPolicy, move_on, next_alert, pause_or_resume, set_clocks
from bot.desk.tickets import Ticket

CAL = WorkingCalendar()


def london(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LONDON)


def _ticket(status: str, *, response: datetime, resolution: datetime) -> Ticket:
    return Ticket(
        status=status,
        response_due=response,
        response_risk_at=response - timedelta(minutes=30),
        resolution_due=resolution,
        resolution_risk_at=resolution - timedelta(hours=1),
        first_response_at=None,
        sla_paused_at=None,
        sla_paused_seconds=0,
        sla_alerts=[],
    )


def test_a_shift_skips_the_weekend() -> None:
    # due on Friday 27 November at 16:00 and 16:30; two working hours later is Monday
    ticket = _ticket("open", response=london(11, 27, 16), resolution=london(11, 27, 16, 30))
    move_on(ticket, timedelta(hours=2), CAL)
    assert ticket.response_due == london(11, 30, 9, 30)  # 1h on Friday, 1h on Monday
    assert ticket.response_risk_at == london(11, 30, 9)
    assert ticket.resolution_due == london(11, 30, 10)
    assert ticket.resolution_risk_at == london(11, 30, 9)


def test_no_time_held_moves_nothing() -> None:
    ticket = _ticket("open", response=london(11, 27, 16), resolution=london(11, 27, 16, 30))
    move_on(ticket, timedelta(0), CAL)
    assert (ticket.response_due, ticket.resolution_due) == (
        london(11, 27, 16),
        london(11, 27, 16, 30),
    )


def test_a_pause_over_a_bank_holiday_weekend_counts_only_working_time() -> None:
    # pending from Friday 22 May 16:00 to Tuesday 26 May 09:30 (Monday 25th is the spring
    # bank holiday): one working hour on Friday and one on Tuesday
    ticket = _ticket("open", response=london(5, 22, 16, 30), resolution=london(5, 22, 16, 30))
    ticket.first_response_at = london(5, 22, 10)  # answered: the response clock is done
    ticket.status = "pending"
    assert pause_or_resume(ticket, "open", london(5, 22, 16), CAL) is None
    assert ticket.sla_paused_at == london(5, 22, 16)
    assert next_alert(ticket) is None  # no alerts while it stands

    ticket.status = "open"
    held = pause_or_resume(ticket, "pending", london(5, 26, 9, 30), CAL)
    assert held == timedelta(hours=2)
    assert ticket.sla_paused_at is None
    assert ticket.sla_paused_seconds == 2 * 3600
    assert ticket.resolution_due == london(5, 26, 10)  # 30 min on Friday, 1h30 on Tuesday
    assert ticket.resolution_risk_at == london(5, 26, 9)
    assert ticket.response_due == london(5, 22, 16, 30)  # answered: not moved
    assert next_alert(ticket) == london(5, 26, 9)


def test_a_clock_breached_before_the_pause_stays_breached() -> None:
    ticket = _ticket("pending", response=london(5, 22, 11), resolution=london(5, 29, 12))
    ticket.sla_paused_at = london(5, 22, 15)  # the response was already late
    held = pause_or_resume(ticket, "pending", london(5, 22, 15), CAL)
    assert held is None  # still pending: nothing resumes
    ticket.status = "open"
    assert pause_or_resume(ticket, "pending", london(5, 26, 9, 30), CAL) == timedelta(hours=3)
    assert ticket.response_due == london(5, 22, 11)
    assert ticket.resolution_due == london(5, 29, 15)


def test_a_new_priority_counts_from_the_start_plus_the_time_held() -> None:
    policy = SlaPolicy.default(CAL)
    opened = london(11, 27, 15)  # Friday 15:00, P1: response due 15:30, resolution 19:00
    ticket = _ticket("open", response=opened, resolution=opened)
    set_clocks(ticket, policy.clocks("P1", opened))
    assert ticket.resolution_due == london(11, 30, 10, 30)  # 2h on Friday, 2h on Monday
    move_on(ticket, timedelta(hours=1), CAL)
    assert ticket.response_due == london(11, 27, 16, 30)
    assert ticket.resolution_due == london(11, 30, 11, 30)
