"""The queue page, ``/desk/``: filters in the query string, 50 tickets a page, most urgent
first, each row with its SLA state in words and a symbol as well as colour. A ticket
reference typed in the search box opens that ticket.

The response's ``Server-Timing`` header says where the server's time went (``auth``,
``db``, ``render`` and ``total``, in milliseconds), so browser dev tools and the
benchmark can read it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Container
from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web

from bot.desk import queries as tickets_repo
from bot.desk.queue import QueueFilter
from bot.desk.sla import PRIORITIES
from bot.desk.tickets import OPEN_STATUSES, STATUSES
from bot.web import keys
from bot.web.desk import listing, pages
from bot.web.desk.user import STARTED, DeskUser, now, user

#: the status choices: "" is the working queue (new, open, pending)
STATUS_FILTERS: dict[str, tuple[str, ...]] = {
    "": OPEN_STATUSES,
    **{s: (s,) for s in STATUSES},
    "any": STATUSES,
}
ASSIGNEE_FILTERS = ("anyone", "me", "unassigned")
SLA_FILTERS = ("", "at_risk", "breached")
MAX_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class QueueForm:
    """What the filter form says, checked: anything unknown falls back to the default."""

    council: str = ""
    status: str = ""
    priority: str = ""
    assignee: str = "anyone"
    sla: str = ""
    q: str = ""
    page: int = 1

    @classmethod
    def parse(cls, request: web.Request) -> QueueForm:
        query = request.query
        councils = {c.key for c in request.config_dict[keys.SETTINGS].councils}

        def pick(name: str, allowed: Container[str], default: str = "") -> str:
            value = query.get(name, default).strip()
            return value if value in allowed else default

        try:
            page = min(max(int(query.get("page", "1")), 1), MAX_PAGE)
        except ValueError:
            page = 1
        return cls(
            council=pick("council", councils),
            status=pick("status", STATUS_FILTERS),
            priority=pick("priority", PRIORITIES),
            assignee=pick("assignee", ASSIGNEE_FILTERS, "anyone"),
            sla=pick("sla", SLA_FILTERS),
            q=" ".join(query.get("q", "").split())[:100],
            page=page,
        )

    def to_filter(self, agent: DeskUser) -> QueueFilter:
        return QueueFilter(
            council=self.council or None,
            statuses=STATUS_FILTERS[self.status],
            priority=self.priority or None,
            assignee_id=agent.staff_id if self.assignee == "me" else None,
            unassigned=self.assignee == "unassigned",
            sla=self.sla or None,
            text=self.q or None,
        )

    def url(self, **changes: str | int) -> str:
        """This view's address with ``changes`` (default values left out)."""
        values = {name: getattr(self, name) for name in _FIELDS} | changes
        params = {name: v for name, v in values.items() if v != getattr(_DEFAULT, name)}
        return "/desk/" + ("?" + urlencode(params) if params else "")


_FIELDS = ("council", "status", "priority", "assignee", "sla", "q", "page")
_DEFAULT = QueueForm()


async def queue(request: web.Request) -> web.Response:
    agent = user(request)
    form = QueueForm.parse(request)
    moment = now()
    offset = (form.page - 1) * listing.PAGE_SIZE
    services = request.config_dict[keys.SERVICES]
    started_db = time.perf_counter()
    async with services.db.session() as session:
        is_ref = re.fullmatch(rf"{re.escape(services.desk.prefix)}-\d+", form.q, re.IGNORECASE)
        if is_ref and await tickets_repo.ref_exists(session, form.q):
            # a reference typed in the search box: go there
            raise web.HTTPSeeOther(f"/desk/tickets/{form.q.upper()}")
        page = await listing.queue_page(
            session, form.to_filter(agent), now=moment, limit=listing.PAGE_SIZE, offset=offset
        )
        outages = await services.desk.spikes.unpublished(session, now=moment)
    started_render = time.perf_counter()
    response = pages.render(
        request,
        "queue.html",
        form=form,
        page=page,
        now=moment,
        priorities=PRIORITIES,
        status_filters=[s for s in STATUS_FILTERS if s],
        outages=outages,
    )
    done = time.perf_counter()
    response.headers["Server-Timing"] = ", ".join(
        f"{name};dur={ms:.1f}"
        for name, ms in (
            ("auth", (started_db - request[STARTED]) * 1000),
            ("db", (started_render - started_db) * 1000),
            ("render", (done - started_render) * 1000),
            ("total", (done - request[STARTED]) * 1000),
        )
    )
    return response
