"""The knowledge gaps page, ``/desk/knowledge``: what staff asked that no article answered.

The same report as ``itbot kb gaps`` (:mod:`bot.conversation.gaps`), for the agents and
editors who work from the dashboard: the last 7, 30 or 90 days, both councils or one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web

from bot.conversation.gaps import gap_report
from bot.web import keys
from bot.web.desk import pages
from bot.web.desk.user import now

PERIODS = (7, 30, 90)
#: Topics and articles shown.
SHOWN = 50


@dataclass(frozen=True, slots=True)
class GapsForm:
    days: int = 30
    council: str = ""

    @classmethod
    def parse(cls, request: web.Request) -> GapsForm:
        councils = {c.key for c in request.config_dict[keys.SETTINGS].councils}
        council = request.query.get("council", "").strip()
        try:
            days = int(request.query.get("days", "30"))
        except ValueError:
            days = 30
        return cls(
            days=days if days in PERIODS else 30,
            council=council if council in councils else "",
        )


async def gaps(request: web.Request) -> web.Response:
    form = GapsForm.parse(request)
    services = request.config_dict[keys.SERVICES]
    moment = now()
    async with services.db.session() as session:
        report = await gap_report(
            session,
            services.knowledge.kb,
            since=moment - timedelta(days=form.days),
            council=form.council or None,
            now_for=SHOWN,
        )
    return pages.render(
        request, "knowledge.html", form=form, report=report, periods=PERIODS, shown=SHOWN
    )
