"""Spike detection: similar reports from several people within minutes mean an outage.

Every ticket raised is checked once it is committed (:meth:`Spikes.observe`, run by the
outbox worker for the desk's ``outages`` destination, :mod:`bot.desk.outages`): the
tickets of its category raised in the last ``minutes`` that look like the same problem —
they name the same product, or their summaries are alike (rapidfuzz) — are counted by
*distinct requesters*. When ``reports`` people are reached a spike is recorded and
``outage_spike`` is announced, once: a later similar report joins the spike (and keeps it
going) without announcing it again.

Everything is in the database, so replicas share it; on PostgreSQL the check of one
category that joins or makes a spike runs under a transaction-scoped advisory lock, so
two replicas checking the fifth and sixth reports at the same moment record one spike.

>>> same_problem("Outlook won't open", "outlook keeps crashing")
True
>>> same_problem("Printer jammed on floor 2", "Outlook won't open")
False
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rapidfuzz import fuzz
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.events import OUTAGE_SPIKE, Events
from bot.desk.outage_tables import OutageSpike, SpikeReport
from bot.desk.tickets import CATEGORIES, Ticket

#: products staff name when something is down, as they are written in a notice
PRODUCTS = (
    "Outlook",
    "Teams",
    "OneDrive",
    "SharePoint",
    "Word",
    "Excel",
    "PowerPoint",
    "Authenticator",
    "VPN",
    "Wi-Fi",
    "printer",
    "phone",
)
#: what a spike is about when no product is named: its category, in words
CATEGORY_PRODUCT = {
    "email": "email",
    "calendar": "calendar",
    "documents": "documents",
    "sign-in": "sign-in",
    "device": "devices",
    "other": "IT",
}
#: summaries at least this alike (rapidfuzz token set ratio, 0-100) are the same problem
SIMILARITY = 70
_WORD = re.compile(r"[a-z0-9]+")
#: advisory lock keys on PostgreSQL: one per category
_LOCK_BASE = 0x5B1CE000


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("wi-fi", "wifi"))


def products_in(text: str) -> list[str]:
    """The products ``text`` names, spelling slips forgiven.

    >>> products_in("outlok and teams are down")
    ['Outlook', 'Teams']
    """
    words = _words(text)
    found = []
    for product in PRODUCTS:
        key = product.lower().replace("-", "")
        if any(w == key or (len(key) > 4 and fuzz.ratio(w, key) >= 85) for w in words):
            found.append(product)
    return found


def same_problem(a: str, b: str, *, similarity: float = SIMILARITY) -> bool:
    """Do two reports look like the same problem? A shared product, or alike summaries."""
    if set(products_in(a)) & set(products_in(b)):
        return True
    return fuzz.token_set_ratio(" ".join(_words(a)), " ".join(_words(b))) >= similarity


def products_of(summaries: Sequence[str], category: str) -> list[str]:
    """What a group of reports is about: the products most of them name, else the category."""
    counts: dict[str, int] = {}
    for summary in summaries:
        for product in products_in(summary):
            counts[product] = counts.get(product, 0) + 1
    named = [p for p, n in sorted(counts.items(), key=lambda c: -c[1]) if 2 * n >= len(summaries)]
    return named or [CATEGORY_PRODUCT.get(category, category)]


@dataclass(frozen=True, slots=True)
class Spikes:
    """The spike check (a part of :class:`bot.desk.service.Desk`)."""

    #: distinct people whose similar reports make a spike (``ITBOT_SPIKE_REPORTS``)
    reports: int = 5
    #: within this many minutes (``ITBOT_SPIKE_MINUTES``)
    minutes: int = 15
    listeners: Events = field(default_factory=Events)

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.minutes)

    async def observe(
        self, session: AsyncSession, ticket: Ticket, *, now: datetime
    ) -> OutageSpike | None:
        """Count ``ticket`` (just raised, flushed) in a spike: the spike it joined or made
        (a new one is announced), ``None`` if it is in none.

        Most reports are no spike: they are checked without a lock and without flushing
        the transaction's pending rows (a ticket's event and outbox rows still go in one
        batch). Only a report that joins or makes a spike takes the category's lock and
        checks again, so a spike is recorded once.
        """
        with session.no_autoflush:
            if await self._check(session, ticket, now=now, write=False) is None:
                return None
        await _serialise(session, ticket.category)
        return await self._check(session, ticket, now=now, write=True)

    async def _check(
        self, session: AsyncSession, ticket: Ticket, *, now: datetime, write: bool
    ) -> OutageSpike | None:
        """The spike ``ticket`` joins or makes (recorded with ``write``), else ``None``.

        One query reads the category's reports of the window with the spike each is in:
        a like report in a spike means joining it; else the like reports in none count.
        """
        since = now - self.window
        rows = await session.execute(
            select(
                Ticket.id,
                Ticket.requester_id,
                Ticket.summary,
                Ticket.created_at,
                Ticket.council,
                SpikeReport.spike_id,
            )
            .outerjoin(SpikeReport, SpikeReport.ticket_id == Ticket.id)
            .where(
                Ticket.category == ticket.category,
                Ticket.created_at >= since,
                Ticket.created_at <= now,
                Ticket.id != ticket.id,
            )
            .order_by(Ticket.created_at)
        )
        alike = [r for r in rows if same_problem(ticket.summary, r.summary)]
        joined = next((r.spike_id for r in reversed(alike) if r.spike_id is not None), None)
        if joined is not None:
            spike = await session.get(OutageSpike, joined)
            if spike is not None and write:
                session.add(SpikeReport(spike_id=spike.id, ticket_id=ticket.id))
                spike.last_at = max(spike.last_at, now)
                if ticket.council not in spike.councils:
                    spike.councils = [*spike.councils, ticket.council]
                await session.flush()
            return spike
        group = [r for r in alike if r.spike_id is None]
        if len({r.requester_id for r in group} | {ticket.requester_id}) < self.reports:
            return None
        spike = OutageSpike(
            category=ticket.category,
            products=products_of([*(r.summary for r in group), ticket.summary], ticket.category),
            councils=_unique([*(r.council for r in group), ticket.council]),
            first_at=min([*(r.created_at for r in group), ticket.created_at]),
            last_at=now,
            detected_at=now,
        )
        if not write:
            return spike
        session.add(spike)
        await session.flush()
        ids = [*(r.id for r in group), ticket.id]
        session.add_all(SpikeReport(spike_id=spike.id, ticket_id=i) for i in ids)
        self.listeners.announce(
            session,
            OUTAGE_SPIKE,
            {"spike_id": spike.id, "category": spike.category, "reports": len(ids)},
            now=now,
        )
        await session.flush()
        return spike

    async def get(self, session: AsyncSession, spike_id: int) -> OutageSpike | None:
        return await session.get(OutageSpike, spike_id)

    async def tickets(self, session: AsyncSession, spike_id: int) -> list[Ticket]:
        """The spike's reports, oldest first."""
        rows = await session.execute(
            select(Ticket)
            .join(SpikeReport, SpikeReport.ticket_id == Ticket.id)
            .where(SpikeReport.spike_id == spike_id)
            .order_by(Ticket.created_at, Ticket.id)
        )
        return list(rows.scalars().unique())

    async def unpublished(
        self, session: AsyncSession, *, now: datetime, within: timedelta = timedelta(days=1)
    ) -> list[OutageSpike]:
        """Spikes of the last day that no notice was published about, newest first."""
        rows = await session.execute(
            select(OutageSpike)
            .where(
                OutageSpike.notice_id.is_(None),
                OutageSpike.dismissed_at.is_(None),
                OutageSpike.last_at >= now - within,
            )
            .order_by(OutageSpike.detected_at.desc())
        )
        return list(rows.scalars())


async def _serialise(session: AsyncSession, category: str) -> None:
    """One spike check per category at a time across replicas (PostgreSQL; SQLite
    serialises writers anyway). Released when the transaction ends."""
    if session.get_bind().dialect.name != "postgresql":
        return
    index = CATEGORIES.index(category) if category in CATEGORIES else len(CATEGORIES)
    await session.execute(select(func.pg_advisory_xact_lock(_LOCK_BASE + index)))


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
