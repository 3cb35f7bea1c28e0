"""The audit log page, ``/desk/audit``: who did what, when, newest first, with filters.

Filters live in the query string (actor, action, subject contains, from and to dates in
UK time), 50 entries a page. Everything shown is text from the log, escaped by the
templates; the log itself is append-only and holds no secrets. The query is
:func:`bot.storage.audit.search`'s (pages build no SQL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.desk.calendar import LONDON
from bot.storage import audit
from bot.web import keys
from bot.web.desk import pages

PAGE_SIZE = 50
MAX_PAGE = 10_000


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class AuditForm:
    """What the filter form says, checked: a date that isn't ``YYYY-MM-DD`` is set aside
    with a note in ``problems``."""

    actor: str = ""
    action: str = ""
    subject: str = ""
    since: str = ""
    until: str = ""
    page: int = 1
    problems: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def parse(cls, request: web.Request) -> AuditForm:
        query = request.query
        problems: list[str] = []
        days: dict[str, str] = {}
        for name, label in (("since", "From"), ("until", "To")):
            raw = query.get(name, "").strip()
            if raw and _day(raw) is None:
                problems.append(f"{label} should be a date like 2026-11-27; it was left out.")
                raw = ""
            days[name] = raw
        try:
            page = min(max(int(query.get("page", "1")), 1), MAX_PAGE)
        except ValueError:
            page = 1
        return cls(
            actor=query.get("actor", "").strip()[:320],
            action=query.get("action", "").strip()[:64],
            subject=" ".join(query.get("subject", "").split())[:100],
            since=days["since"],
            until=days["until"],
            page=page,
            problems=tuple(problems),
        )

    def to_filter(self) -> audit.AuditFilter:
        """The repository's filter: whole days in UK time, ``until`` included."""
        since, until = _day(self.since), _day(self.until)
        return audit.AuditFilter(
            actor=self.actor,
            action=self.action,
            subject=self.subject,
            since=datetime.combine(since, time(0), tzinfo=LONDON) if since else None,
            before=(
                datetime.combine(until + timedelta(days=1), time(0), tzinfo=LONDON)
                if until
                else None
            ),
        )

    def url(self, **changes: str | int) -> str:
        """This view's address with ``changes`` (empty values left out)."""
        values: dict[str, Any] = {name: getattr(self, name) for name in _FIELDS} | changes
        params = {k: v for k, v in values.items() if v and not (k == "page" and v == 1)}
        return "/desk/audit" + ("?" + urlencode(params) if params else "")


_FIELDS = ("actor", "action", "subject", "since", "until", "page")


def details_text(details: dict[str, Any]) -> list[tuple[str, str]]:
    """An entry's details as (name, value) pairs, in words."""
    return [(str(k).replace("_", " "), _value(v)) for k, v in details.items()]


def _value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value)
    return str(value)


async def audit_page(request: web.Request) -> web.Response:
    form = AuditForm.parse(request)
    services = request.config_dict[keys.SERVICES]
    offset = (form.page - 1) * PAGE_SIZE
    async with services.db.session() as session:
        entries = await audit.search(session, form.to_filter(), limit=PAGE_SIZE + 1, offset=offset)
        actions = await audit.actions(session)
    if form.action and form.action not in actions:
        actions = sorted([*actions, form.action])
    return pages.render(
        request,
        "audit.html",
        form=form,
        entries=entries[:PAGE_SIZE],
        has_next=len(entries) > PAGE_SIZE,
        first=offset + 1,
        actions=actions,
        details_text=details_text,
    )
