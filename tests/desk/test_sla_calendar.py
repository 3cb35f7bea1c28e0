"""Working time on the UK calendar: hours, weekends, bank holidays, closures, BST/GMT."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.desk.calendar import LONDON, WorkingCalendar, parse_closures

CAL = WorkingCalendar()


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def test_within_one_day() -> None:
    assert CAL.add(london(2026, 11, 25, 9, 0), timedelta(minutes=30)) == london(2026, 11, 25, 9, 30)


def test_before_opening_starts_at_opening() -> None:
    assert CAL.add(london(2026, 11, 25, 6, 0), timedelta(hours=1)) == london(2026, 11, 25, 9, 30)


def test_rolls_over_the_weekend() -> None:
    friday = london(2026, 11, 27, 16, 30)
    assert CAL.add(friday, timedelta(hours=1)) == london(2026, 11, 30, 9, 0)
    assert CAL.between(friday, london(2026, 11, 30, 9, 0)) == timedelta(hours=1)


def test_skips_bank_holidays_and_christmas_closure() -> None:
    # Wed 23 Dec 2026 16:00 + 4h: Thu 24th, then 25/26 Christmas and Boxing Day (28 is the
    # substitute day) and the 27-31 closure; 1 Jan is New Year's Day; back Mon 4 Jan 2027.
    start = london(2026, 12, 23, 16, 0)
    assert CAL.add(start, timedelta(hours=4)) == london(2026, 12, 24, 11, 30)
    assert CAL.add(start, timedelta(hours=10)) == london(2027, 1, 4, 9, 0)
    assert not CAL.is_working_day(date(2026, 12, 29))
    assert not CAL.is_working_day(date(2027, 1, 1))
    assert not CAL.is_working_day(date(2026, 8, 31))  # summer bank holiday (England)
    assert CAL.is_working_day(date(2026, 8, 3))  # Scotland's summer holiday is not ours


def test_correct_across_the_clock_change() -> None:
    # BST ends Sunday 25 Oct 2026. Friday 16:00 BST (15:00 UTC) + 2h working time
    # = Monday 09:30 GMT (09:30 UTC): the clock shift must not leak into working time.
    friday = london(2026, 10, 23, 16, 0)
    due = CAL.add(friday, timedelta(hours=2))
    assert due == datetime(2026, 10, 26, 9, 30, tzinfo=UTC)
    assert due.astimezone(LONDON).hour == 9
    # and into BST: Friday 27 Mar 2026 16:00 GMT + 2h = Monday 30 Mar 09:30 BST (08:30 UTC)
    assert CAL.add(london(2026, 3, 27, 16, 0), timedelta(hours=2)) == datetime(
        2026, 3, 30, 8, 30, tzinfo=UTC
    )


def test_working_days() -> None:
    monday_10 = london(2026, 11, 23, 10, 0)
    assert CAL.add_working_days(monday_10, 3) == london(2026, 11, 26, 10, 0)
    assert CAL.add_working_days(monday_10, 5) == london(2026, 11, 30, 10, 0)


def test_between_is_the_inverse_of_add() -> None:
    start = london(2026, 12, 22, 11, 17)
    for minutes in (1, 29, 510, 2000, 6000):
        due = CAL.add(start, timedelta(minutes=minutes))
        assert CAL.between(start, due) == timedelta(minutes=minutes)


def test_closures_are_validated() -> None:
    assert parse_closures("12-27..12-31,2027-04-06") == ("12-27..12-31", "2027-04-06")
    for bad in ("27-12", "12-32", "2027-02-30", "1..2..3"):
        with pytest.raises(ValueError, match="is not"):
            parse_closures(bad)


def test_a_closure_may_cross_the_new_year() -> None:
    """Every year's 29 Dec to 2 Jan, and one dated range from 2026 into 2027."""
    for closures in (("12-29..01-02",), ("2026-12-29..2027-01-02",)):
        cal = WorkingCalendar(closures=closures)
        assert cal.why_closed(date(2026, 12, 29)) == "closure"
        assert cal.why_closed(date(2026, 12, 31)) == "closure"
        assert str(cal.why_closed(date(2027, 1, 1))).startswith("New Year")
        assert not cal.is_working_day(date(2027, 1, 2))  # a Saturday
        # Thursday 24 Dec 16:00 + 2 working hours: the rest of the 24th, then (Christmas,
        # the Boxing Day substitute, the closure, New Year's Day) Monday 4 January
        at = cal.add(london(2026, 12, 24, 16, 0), timedelta(hours=2))
        assert at == london(2027, 1, 4, 9, 30)
    with pytest.raises(ValueError, match="ends before it starts"):
        parse_closures("2027-01-02..2026-12-29")


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add(datetime(2026, 1, 5, 9, 0), timedelta(hours=1))
