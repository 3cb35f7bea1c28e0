"""The ticket page, ``/desk/tickets/<ref>``, and the agent's actions on it.

Each action is a small POST form (claim, assign, priority, status, reply or internal
note) that calls the desk's domain API in one transaction, so the change, its event, the
audit entry and the outbox rows commit together. On success the browser is sent back to
the ticket page (POST-redirect-GET); a refusal from the domain is shown on the page.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk import activity
from bot.desk.errors import InvalidChange, NotAllowed
from bot.desk.service import Actor, Desk
from bot.desk.sla import PRIORITIES, PRIORITY_MEANING
from bot.desk.tickets import Ticket
from bot.storage import staff as staff_repo
from bot.storage.models import Staff
from bot.web import keys
from bot.web.desk import clocks, pages
from bot.web.desk.present import EVENT_LABELS, event_text, transcript_lines
from bot.web.desk.user import now, user

log = logging.getLogger(__name__)

AGENT_STATUSES = ("open", "pending", "resolved", "closed")
MAX_COMMENT = 10_000
#: what the page says after each successful action
DONE = {
    "claim": "You have taken this ticket.",
    "assign": "The ticket has been assigned.",
    "priority": "Priority changed; the SLA clocks were recalculated.",
    "status": "Status changed.",
    "reply": "Your reply was sent to the requester.",
    "note": "Internal note added. The requester does not see it.",
}

Form = MultiDictProxy[Any]
Action = Callable[[AsyncSession, Desk, Ticket, Staff, Form, datetime], Awaitable[str]]


async def ticket_page(request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
    ref = request.match_info["ref"]
    services = request.config_dict[keys.SERVICES]
    desk = services.desk
    async with services.db.session() as session:
        ticket = await desk.get(session, ref)
        if ticket is None:
            return pages.problem(request, 404, "No such ticket", f"There is no ticket {ref}.")
        comments = await desk.comments(session, ticket)
        events = await desk.events(session, ticket)
        agents = await staff_repo.agents(session)
    moment = now()
    return pages.render(
        request,
        "ticket.html",
        status=status,
        ticket=ticket,
        clocks=clocks.clocks(ticket, moment),
        attention=clocks.attention(ticket, moment),
        comments=comments,
        events=events,
        event_labels=EVENT_LABELS,
        event_text=event_text,
        transcript=transcript_lines(ticket.transcript),
        agents=agents,
        priorities=PRIORITIES,
        priority_meaning=PRIORITY_MEANING,
        agent_statuses=AGENT_STATUSES,
        done=DONE.get(request.query.get("done", ""), ""),
        error=error,
    )


async def show(request: web.Request) -> web.Response:
    return await ticket_page(request)


async def _claim(
    s: AsyncSession, desk: Desk, t: Ticket, agent: Staff, form: Form, at: datetime
) -> str:
    await desk.claim(s, t, Actor.of(agent), now=at)
    return "claim"


async def _assign(
    s: AsyncSession, desk: Desk, t: Ticket, agent: Staff, form: Form, at: datetime
) -> str:
    raw = str(form.get("assignee", ""))
    assignee = await staff_repo.get(s, int(raw)) if raw.isdigit() else None
    if assignee is None:
        raise InvalidChange("Choose an agent to assign the ticket to.")
    await desk.assign(s, t, Actor.of(agent), assignee, now=at)
    return "assign"


async def _priority(
    s: AsyncSession, desk: Desk, t: Ticket, agent: Staff, form: Form, at: datetime
) -> str:
    await desk.set_priority(s, t, Actor.of(agent), str(form.get("priority", "")), now=at)
    return "priority"


async def _status(
    s: AsyncSession, desk: Desk, t: Ticket, agent: Staff, form: Form, at: datetime
) -> str:
    status = str(form.get("status", ""))
    if status not in AGENT_STATUSES:
        raise InvalidChange(f"Status must be one of {', '.join(AGENT_STATUSES)}.")
    minutes = _minutes(form)
    await desk.set_status(s, t, Actor.of(agent), status, now=at)
    _log_time(s, t, agent, minutes, at)
    return "status"


async def _comment(
    s: AsyncSession, desk: Desk, t: Ticket, agent: Staff, form: Form, at: datetime
) -> str:
    body = str(form.get("body", ""))
    if len(body) > MAX_COMMENT:
        raise InvalidChange(f"Please keep a comment under {MAX_COMMENT:,} characters.")
    public = form.get("visibility") == "public"
    minutes = _minutes(form)
    await desk.comment(s, t, Actor.of(agent), body, now=at, public=public, via="desk")
    _log_time(s, t, agent, minutes, at)
    return "reply" if public else "note"


def _minutes(form: Form) -> int | None:
    """The optional "time spent" of a reply or status change: whole minutes, or nothing."""
    raw = str(form.get("minutes", "")).strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) <= activity.MAX_MINUTES:
        raise InvalidChange(f"Time spent should be whole minutes from 1 to {activity.MAX_MINUTES}.")
    return int(raw)


def _log_time(s: AsyncSession, t: Ticket, agent: Staff, minutes: int | None, at: datetime) -> None:
    if minutes is not None:
        activity.time_spent(
            s, t, agent_id=agent.id, agent_email=agent.email, minutes=minutes, now=at
        )


ACTIONS: dict[str, Action] = {
    "claim": _claim,
    "assign": _assign,
    "priority": _priority,
    "status": _status,
    "comment": _comment,
}


async def act(request: web.Request) -> web.StreamResponse:
    """Run one action on the ticket for the signed-in agent."""
    action = ACTIONS.get(request.match_info["action"])
    if action is None:
        raise web.HTTPNotFound()
    ref = request.match_info["ref"]
    agent_user = user(request)
    services = request.config_dict[keys.SERVICES]
    form = await request.post()
    try:
        async with services.db.session() as session, session.begin():
            ticket = await services.desk.get(session, ref)
            agent = await staff_repo.get(session, agent_user.staff_id)
            if ticket is None or agent is None:
                return pages.problem(request, 404, "No such ticket", f"There is no ticket {ref}.")
            done = await action(session, services.desk, ticket, agent, form, now())
            ref = ticket.ref or ref
    except NotAllowed as exc:
        return await ticket_page(request, error=str(exc), status=403)
    except InvalidChange as exc:
        return await ticket_page(request, error=str(exc), status=409)
    log.info("desk: %s did %s on %s", agent_user.email, done, ref)
    raise web.HTTPSeeOther(f"/desk/tickets/{ref}?done={done}")
