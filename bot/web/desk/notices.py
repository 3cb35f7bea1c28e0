"""The outages page, ``/desk/notices``: outage alerts, and the service notices standing.

Each alert (a spike of similar reports, :mod:`bot.desk.spikes`) shows its reports grouped
with the notice one click publishes (:func:`bot.flows.notices.draft_for`), every field
editable: text, products, councils and hours until it expires. Standing notices can be
ended. Forms carry the session's CSRF token (checked by the dashboard's middleware); a
refusal (no text, no council, already published) is shown on the page in words.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.desk.errors import InvalidChange
from bot.desk.notices import standing
from bot.flows.notices import draft_for
from bot.web import keys
from bot.web.desk import pages
from bot.web.desk.user import now, user

log = logging.getLogger(__name__)

DONE = {
    "published": "Notice published. Staff asking about it are told first.",
    "ended": "Notice ended. Staff are no longer told about it.",
    "dismissed": "Alert dismissed.",
}
MAX_HOURS = 72


async def notices_page(request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
    services = request.config_dict[keys.SERVICES]
    settings = request.config_dict[keys.SETTINGS]
    moment = now()
    alerts: list[dict[str, Any]] = []
    async with services.db.session() as session:
        for spike in await services.desk.spikes.unpublished(session, now=moment):
            tickets = await services.desk.spikes.tickets(session, spike.id)
            draft = draft_for(spike, hours=settings.notice_hours, now=moment)
            people = len({t.requester_id for t in tickets})
            alerts.append({"spike": spike, "tickets": tickets, "draft": draft, "people": people})
        notices = []
        for notice in await services.desk.notices.listing(session, now=moment, ended=True):
            members = await services.desk.notices.members(session, notice.id)
            parent = await services.desk.get_by_id(session, notice.parent_ticket_id)
            notices.append(
                {
                    "notice": notice,
                    "standing": standing(notice, moment),
                    "members": len(members),
                    "parent": parent.ref if parent is not None else "",
                }
            )
    return pages.render(
        request,
        "notices.html",
        status=status,
        alerts=alerts,
        notices=notices,
        hours=settings.notice_hours,
        done=DONE.get(request.query.get("done", ""), ""),
        error=error,
    )


async def show(request: web.Request) -> web.Response:
    return await notices_page(request)


async def publish(request: web.Request) -> web.StreamResponse:
    """Publish a notice (about an alert's spike when the form names one)."""
    me = user(request)
    form = await request.post()
    services = request.config_dict[keys.SERVICES]
    known = {c.key for c in request.config_dict[keys.SETTINGS].councils}
    councils = [str(c) for c in form.getall("council", []) if str(c) in known]
    products = [p for p in str(form.get("products", "")).split(",") if p.strip()][:10]
    raw_hours, raw_spike = str(form.get("hours", "")), str(form.get("spike", ""))
    if not raw_hours.isdigit() or not 1 <= int(raw_hours) <= MAX_HOURS:
        return await notices_page(
            request, error=f"Expiry: a whole number of hours from 1 to {MAX_HOURS}.", status=400
        )
    moment = now()
    try:
        async with services.db.session() as session, session.begin():
            notice = await services.desk.notices.publish(
                session,
                text=str(form.get("text", "")),
                products=products,
                councils=councils,
                expires_at=moment + timedelta(hours=int(raw_hours)),
                by=me.email,
                now=moment,
                spike_id=int(raw_spike) if raw_spike.isdigit() else None,
            )
    except InvalidChange as exc:
        return await notices_page(request, error=str(exc), status=400)
    log.info("desk: %s published notice %s", me.email, notice.id)
    raise web.HTTPSeeOther("/desk/notices?done=published")


async def end(request: web.Request) -> web.StreamResponse:
    me = user(request)
    raw = request.match_info["id"]
    if not raw.isdigit():
        raise web.HTTPNotFound()
    services = request.config_dict[keys.SERVICES]
    try:
        async with services.db.session() as session, session.begin():
            await services.desk.notices.end(session, int(raw), by=me.email, now=now())
    except InvalidChange as exc:
        return await notices_page(request, error=str(exc), status=409)
    log.info("desk: %s ended notice %s", me.email, raw)
    raise web.HTTPSeeOther("/desk/notices?done=ended")


async def dismiss(request: web.Request) -> web.StreamResponse:
    me = user(request)
    raw = request.match_info["id"]
    if not raw.isdigit():
        raise web.HTTPNotFound()
    services = request.config_dict[keys.SERVICES]
    try:
        async with services.db.session() as session, session.begin():
            await services.desk.notices.dismiss_spike(session, int(raw), by=me.email, now=now())
    except InvalidChange as exc:
        return await notices_page(request, error=str(exc), status=404)
    raise web.HTTPSeeOther("/desk/notices?done=dismissed")
