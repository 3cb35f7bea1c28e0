"""Working time on a UK calendar, for SLA clocks.

Working hours are wall-clock times in Europe/London (default Monday–Friday
08:30–17:00), so they stay 08:30–17:00 across the BST/GMT changes; arithmetic is
done in UTC. England & Wales bank holidays come from the ``holidays`` package
(kept up to date by its maintainers, including one-off days such as coronations);
council closure days (e.g. 27–31 December) are configured.

>>> cal = WorkingCalendar()
>>> friday_half_4 = datetime(2026, 11, 27, 16, 30, tzinfo=LONDON)
>>> cal.add(friday_half_4, timedelta(hours=1)).isoformat()   # 1h of working time
'2026-11-30T09:00:00+00:00'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

_DAY = re.compile(r"^(?:(\d{4})-)?(\d{2})-(\d{2})$")


def parse_closures(spec: str) -> tuple[str, ...]:
    """Validate a closure list: ``MM-DD`` (every year) or ``YYYY-MM-DD``, ranges with ``..``.

    >>> parse_closures("12-27..12-31, 2027-04-06, 12-30..01-02")
    ('12-27..12-31', '2027-04-06', '12-30..01-02')
    """
    items = tuple(part.strip() for part in spec.split(",") if part.strip())
    for item in items:
        ends = item.split("..")
        if len(ends) > 2 or not all(_DAY.match(end) for end in ends):
            raise ValueError(f"{item!r} is not MM-DD, YYYY-MM-DD or a range A..B of those")
        for end in ends:
            match = _DAY.match(end)
            assert match is not None
            year = int(match.group(1) or 2000)  # 2000 is a leap year: 02-29 is allowed
            try:
                date(year, int(match.group(2)), int(match.group(3)))
            except ValueError:
                raise ValueError(f"{item!r} is not a real date ({end})") from None
        if len(ends) == 2 and all(len(end) == 10 for end in ends) and ends[0] > ends[1]:
            raise ValueError(f"{item!r} ends before it starts")
    return items


@dataclass(frozen=True)
class WorkingCalendar:
    """When the service desk is working, and how much working time lies between instants."""

    tz: ZoneInfo = LONDON
    opens: time = time(8, 30)
    closes: time = time(17, 0)
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    closures: tuple[str, ...] = ("12-27..12-31",)
    bank_holidays: bool = True
    _cache: dict[int, frozenset[date]] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def day_length(self) -> timedelta:
        """One working day (``P2: 1 working day`` means this much working time)."""
        return datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)

    def holidays_in(self, year: int) -> frozenset[date]:
        if year not in self._cache:
            days: set[date] = set()
            if self.bank_holidays:
                import holidays

                days.update(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())
            days.update(_closure_days(self.closures, year))
            self._cache[year] = frozenset(days)
        return self._cache[year]

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.workdays and day not in self.holidays_in(day.year)

    def why_closed(self, day: date) -> str | None:
        """Why a weekday is not a working day: the bank holiday's name, or ``"closure"`` for
        a configured closure day; ``None`` for a working day or a day off every week.

        >>> cal = WorkingCalendar()
        >>> cal.why_closed(date(2026, 12, 25)), cal.why_closed(date(2026, 12, 29))
        ('Christmas Day', 'closure')
        """
        if day.weekday() not in self.workdays or day not in self.holidays_in(day.year):
            return None
        if self.bank_holidays:
            import holidays

            name = holidays.country_holidays("GB", subdiv="ENG", years=day.year).get(day)
            if name:
                return str(name)
        return "closure"

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` falls in working hours."""
        if at.tzinfo is None:
            raise ValueError("at must be timezone-aware")
        day = at.astimezone(self.tz).date()
        if not self.is_working_day(day):
            return False
        opens, closes = self._window(day)
        return opens <= at < closes

    def next_opening(self, at: datetime) -> datetime:
        """When working time next starts at or after ``at``, in the calendar's time zone
        (``at`` itself while open): bank holidays and closure days skipped.

        >>> cal = WorkingCalendar()
        >>> cal.next_opening(datetime(2026, 12, 24, 17, 5, tzinfo=LONDON)).isoformat()
        '2027-01-04T08:30:00+00:00'
        """
        return self.add(at, timedelta(0)).astimezone(self.tz)

    def _window(self, day: date) -> tuple[datetime, datetime]:
        start = datetime.combine(day, self.opens, tzinfo=self.tz).astimezone(UTC)
        end = datetime.combine(day, self.closes, tzinfo=self.tz).astimezone(UTC)
        return start, end

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant when ``duration`` of working time has passed after ``start`` (UTC)."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        remaining = duration
        cursor = start.astimezone(UTC)
        day = cursor.astimezone(self.tz).date()
        for _ in range(3660):  # ten years of days: a bound, never reached in practice
            if self.is_working_day(day):
                opens, closes = self._window(day)
                if cursor < opens:
                    cursor = opens
                if cursor < closes:
                    available = closes - cursor
                    if remaining <= available:
                        return cursor + remaining
                    remaining -= available
            day += timedelta(days=1)
            cursor = max(cursor, self._window(day)[0])
        raise ValueError("no working time found within ten years; check the calendar settings")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end`` (zero if ``end`` is not later)."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware")
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while day <= last:
            if self.is_working_day(day):
                opens, closes = self._window(day)
                lo, hi = max(opens, start), min(closes, end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def working_days(self, count: int) -> timedelta:
        return self.day_length * count

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """``start`` plus whole working days: the same time of day, ``days`` working days later."""
        return self.add(start, self.working_days(days))


def _closure_days(items: Iterable[str], year: int) -> set[date]:
    """The closure days that fall in ``year``. A range may cross the new year
    (``12-29..01-02`` every year, or ``2026-12-24..2027-01-04``)."""
    days: set[date] = set()
    for item in items:
        ends = item.split("..")
        for start_year in (year - 1, year):  # a range begun last year may reach into this one
            first = _resolve(ends[0], start_year)
            if first is None:
                continue
            last = _resolve(ends[-1], first.year)
            if last is None or last < first:  # the range crosses the new year
                last = _resolve(ends[-1], first.year + 1)
            if last is None or last < first:
                continue
            day = max(first, date(year, 1, 1))
            while day <= min(last, date(year, 12, 31)):
                days.add(day)
                day += timedelta(days=1)
    return days


def _resolve(spec: str, year: int) -> date | None:
    match = _DAY.match(spec)
    if match is None:
        return None
    if match.group(1) and int(match.group(1)) != year:
        return None
    month, day = int(match.group(2)), int(match.group(3))
    if (month, day) == (2, 29) and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        return None
    return date(year, month, day)
