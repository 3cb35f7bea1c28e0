"""The approvals page, ``/desk/approvals``: requests waiting for an agent, and recent decisions.

Approve and Deny are small POST forms (with the session's CSRF token, checked by the
dashboard's middleware) that call :meth:`bot.desk.approvals.Approvals.decide` for the
signed-in agent in one transaction, so the decision, its audit entry and its events
commit together. A refusal (their own request, already decided, expired) is written to
the audit log by the desk and shown on the page in words.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime

from aiohttp import web

from bot.desk.actor import Actor
from bot.storage import staff as staff_repo
from bot.web import keys
from bot.web.desk import pages
from bot.web.desk.user import now, user

log = logging.getLogger(__name__)

#: decided requests shown under the pending ones
RECENT = 20
DONE = {
    "approved": "Approved. The change goes ahead and the requester is told.",
    "denied": "Denied. The requester has been told that nothing was changed.",
}
#: the page's status for each reason a decision is refused
REFUSED_STATUS = {"not_found": 404, "not_agent": 403, "own_request": 403}
STATUS_LABELS = {
    "pending": "Waiting",
    "approved": "Approved",
    "denied": "Denied",
    "expired": "Expired",
}
#: where a request was made, in words
ASKED_IN = {"web": "web chat", "slack": "Slack", "terminal": "terminal", "teams": "Teams"}


def expires_in(moment: datetime, at: datetime) -> str:
    """How long until ``moment``, roughly: ``in 35 min``, ``in 2 h 5 min``, ``in 3 days``.

    >>> from datetime import UTC
    >>> friday = datetime(2026, 11, 27, 16, 50, tzinfo=UTC)
    >>> expires_in(datetime(2026, 11, 30, 9, 20, tzinfo=UTC), friday)
    'in 2 days 16 h'
    """
    minutes = math.ceil((moment - at).total_seconds() / 60)
    if minutes <= 0:
        return "now"
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"in {minutes} min"
    if hours < 24:
        return f"in {hours} h {minutes} min" if minutes else f"in {hours} h"
    days, hours = divmod(hours, 24)
    plural = "day" if days == 1 else "days"
    return f"in {days} {plural} {hours} h" if hours else f"in {days} {plural}"


async def approvals_page(
    request: web.Request, *, error: str = "", status: int = 200
) -> web.Response:
    services = request.config_dict[keys.SERVICES]
    moment = now()
    async with services.db.session() as session:
        pending = await services.desk.approvals.pending(session, now=moment)
        recent = await services.desk.approvals.recent(session, limit=RECENT)
    return pages.render(
        request,
        "approvals.html",
        status=status,
        pending=pending,
        recent=recent,
        moment=moment,
        expires_in=expires_in,
        asked_in=ASKED_IN,
        approval_status=STATUS_LABELS,
        done=DONE.get(request.query.get("done", ""), ""),
        error=error,
    )


async def show(request: web.Request) -> web.Response:
    return await approvals_page(request)


async def decide(request: web.Request) -> web.StreamResponse:
    """Approve or deny one request as the signed-in agent."""
    verb, raw = request.match_info["decision"], request.match_info["id"]
    if verb not in ("approve", "deny") or not raw.isdigit():
        raise web.HTTPNotFound()
    me = user(request)
    services = request.config_dict[keys.SERVICES]
    async with services.db.session() as session, session.begin():
        agent = await staff_repo.get(session, me.staff_id)
        if agent is None:
            return pages.problem(request, 403, "Agents only", "Sign in again, please.")
        decision = await services.desk.approvals.decide(
            session,
            int(raw),
            Actor.of(agent),
            approve=verb == "approve",
            now=now(),
            via="dashboard",
        )
    if not decision.ok:
        log.info("desk: %s could not %s approval %s (%s)", me.email, verb, raw, decision.reason)
        status = REFUSED_STATUS.get(decision.reason, 409)
        return await approvals_page(request, error=decision.message, status=status)
    log.info("desk: %s %s approval %s", me.email, decision.outcome, raw)
    raise web.HTTPSeeOther(f"/desk/approvals?done={decision.outcome}")
