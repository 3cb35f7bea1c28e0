"""The report page, ``/desk/reports``, and its CSV download, ``/desk/reports.csv``.

Filters live in the query string: ``from`` and ``to`` (whole days in UK time; this month so
far when left out) and ``council`` (a key, or every council). The figures come from
:func:`bot.insight.report.build`, the same function as ``itbot report``, so the page, the
CSV and the JSON agree; the charts are inline SVG drawn on the server
(:mod:`bot.insight.charts`). A date that isn't one is set aside with a note, never a 5xx.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.desk.calendar import LONDON
from bot.insight import formats
from bot.insight.charts import report_charts
from bot.insight.report import Period, PeriodError, build
from bot.render import build_environment
from bot.settings import Settings
from bot.web import keys
from bot.web.desk import pages
from bot.web.desk.user import now


@dataclass(frozen=True, slots=True)
class ReportForm:
    """The filters, checked: what couldn't be used is noted in ``problems``."""

    period: Period
    council: str = ""
    problems: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def parse(cls, request: web.Request, settings: Settings) -> ReportForm:
        query = request.query
        default = Period.this_month(now().astimezone(LONDON).date())
        problems: list[str] = []
        first = query.get("from", "").strip()[:20] or default.first.isoformat()
        last = query.get("to", "").strip()[:20] or default.last.isoformat()
        try:
            period = Period.parse(first, last)
        except PeriodError:
            problems.append(
                "From and To should be dates like 2026-11-27, From not after To; "
                "this month so far is shown instead."
            )
            period = default
        council = query.get("council", "").strip()
        if council and council not in {c.key for c in settings.councils}:
            problems.append("There is no such council; every council is shown.")
            council = ""
        return cls(period=period, council=council, problems=tuple(problems))

    def query(self) -> str:
        params = {"from": self.period.first.isoformat(), "to": self.period.last.isoformat()}
        if self.council:
            params["council"] = self.council
        return urlencode(params)


def figures_context(report: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """What the figures template needs besides the report: names and charts."""
    names = {c.key: c.name for c in settings.councils}
    return {
        "report": report,
        "names": names,
        "charts": report_charts(report, names),
        "rows": list(formats.rows(report)),
    }


def standalone_html(report: dict[str, Any], settings: Settings) -> str:
    """The report as one self-contained HTML page (``itbot report --format html``)."""
    template = build_environment().get_template("desk/report_standalone.html")
    return template.render(desk_name=settings.desk_name, **figures_context(report, settings))


async def _report(request: web.Request) -> tuple[ReportForm, dict[str, Any]]:
    settings = request.config_dict[keys.SETTINGS]
    services = request.config_dict[keys.SERVICES]
    form = ReportForm.parse(request, settings)
    report = await build(
        services.db, settings.councils, form.period, now=now(), council=form.council or None
    )
    return form, report


async def reports_page(request: web.Request) -> web.Response:
    form, report = await _report(request)
    settings = request.config_dict[keys.SETTINGS]
    return pages.render(request, "reports.html", form=form, **figures_context(report, settings))


async def reports_csv(request: web.Request) -> web.Response:
    form, report = await _report(request)
    name = f"itbot-report-{form.period.first}-{form.period.last}"
    if form.council:
        name += f"-{form.council}"
    return web.Response(
        text=formats.to_csv(report),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
