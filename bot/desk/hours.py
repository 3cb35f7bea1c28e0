"""The desk's working calendar, built from the settings (and from nowhere else).

``ITBOT_WORKING_HOURS`` and ``ITBOT_CLOSURE_DAYS`` with England & Wales bank holidays:
the SLA clocks, approvals and every reply or article that states the desk's hours read
this one calendar.

>>> from bot.settings import Settings
>>> cal = calendar_for(Settings.from_environ({"ITBOT_WORKING_HOURS": "09:00-16:30"}))
>>> cal.opens.isoformat(), cal.closes.isoformat(), cal.closures
('09:00:00', '16:30:00', ('12-27..12-31',))
"""

from __future__ import annotations

from datetime import time

from bot.desk.calendar import WorkingCalendar
from bot.settings import Settings


def calendar_for(settings: Settings) -> WorkingCalendar:
    opens, closes = (time.fromisoformat(t) for t in settings.working_hours)
    return WorkingCalendar(opens=opens, closes=closes, closures=settings.closure_days)
