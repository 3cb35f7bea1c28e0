"""Facts about the desk that articles state through placeholders, filled in from the settings.

A guide writes ``{{ desk.hours }}`` instead of "Monday to Friday, 08:30 to 17:00", so
changing ``ITBOT_WORKING_HOURS`` changes every guide that states the hours, as it changes
the bot's own replies. Facts are filled in per council when an article is shown (a chat's
answer card, the article page, ``itbot kb preview``); the knowledge package only finds
and fills the placeholders, and ``itbot kb check`` reports a name not in :data:`NAMES`.

>>> facts = DeskFacts.of(Settings.from_environ({"ITBOT_WORKING_HOURS": "09:00-16:00"}))
>>> facts.render("Call {{ desk.phone }} ({{ desk.hours }}).", "dacorum")
'Call 01632 960 200 (Monday to Friday, 09:00 to 16:00).'
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import wording
from bot.desk.calendar import WorkingCalendar
from bot.desk.hours import calendar_for
from bot.settings import Settings
from knowledge import Article
from knowledge.placeholders import fill

#: what a placeholder may name, and what it says
NAMES: dict[str, str] = {
    "desk.name": "the service desk's name (ITBOT_DESK_NAME)",
    "desk.hours": "its hours, e.g. Monday to Friday, 08:30 to 17:00 (ITBOT_WORKING_HOURS)",
    "desk.closures": "the days it is closed besides weekends (bank holidays, ITBOT_CLOSURE_DAYS)",
    "desk.phone": "the reader's council's desk phone (ITBOT_COUNCILS)",
    "desk.email": "the reader's council's desk email address (ITBOT_COUNCILS)",
}


@dataclass(frozen=True, slots=True)
class DeskFacts:
    settings: Settings
    calendar: WorkingCalendar

    @classmethod
    def of(cls, settings: Settings, calendar: WorkingCalendar | None = None) -> DeskFacts:
        """The facts of ``settings`` (``calendar``: the running desk's, when there is one)."""
        return cls(settings, calendar if calendar is not None else calendar_for(settings))

    def values(self, council: str | None) -> dict[str, str]:
        """Each placeholder's text for staff of ``council`` (``None``: every council's)."""
        councils = self.settings.councils
        chosen = [c for c in councils if c.key == council] or list(councils)
        if len(chosen) == 1:
            phone, email = chosen[0].desk_phone, chosen[0].desk_email
        else:
            phone = " or ".join(f"{c.desk_phone} ({c.name})" for c in chosen)
            email = " or ".join(f"{c.desk_email} ({c.name})" for c in chosen)
        return {
            "desk.name": self.settings.desk_name,
            "desk.hours": wording.hours(self.calendar),
            "desk.closures": wording.closures(self.calendar),
            "desk.phone": phone,
            "desk.email": email,
        }

    def render(self, text: str, council: str | None) -> str:
        return fill(text, self.values(council))

    def body(self, article: Article, council: str | None) -> str:
        """The article's markdown as ``council``'s staff see it, facts filled in."""
        return self.render(article.for_council(council), council)
