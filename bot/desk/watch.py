"""The desk's watch: records at-risk and breached alerts as their moments pass, and
expires approval requests nobody decided in time.

Every ``every`` seconds it asks :meth:`Desk.sla_sweep` for the alerts now due; each is
recorded once on the ticket with an ``sla_alert`` outbox row (the triage channel posts
it) and the dashboard highlights the ticket. In the same pass, pending approvals past
their expiry are marked expired (:meth:`Approvals.expire_due`), which announces
``approval_decided`` with outcome ``expired``. Several replicas may run it: the sweep
skips tickets and approvals another replica holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from bot.desk.service import Desk
from bot.storage import Database
from bot.storage.models import utcnow

log = logging.getLogger(__name__)


async def sweep_once(db: Database, desk: Desk, *, now: datetime, limit: int = 200) -> int:
    """One pass; returns how many tickets got alerts plus how many approvals expired."""
    return (await _sweep(db, desk, now=now, limit=limit))[0]


async def _sweep(
    db: Database,
    desk: Desk,
    *,
    now: datetime,
    limit: int,
    count: Callable[[str], None] = lambda alert: None,
) -> tuple[int, bool]:
    """(tickets alerted + approvals expired, whether more may be due now); ``count`` is
    told each alert recorded (``response_breached``, ...)."""
    async with db.session() as session, session.begin():
        alerted, examined = await desk.sla_sweep(session, now=now, limit=limit)
    for ref, alerts in alerted:
        log.info("sla alert %s: %s", ref, ", ".join(alerts))
        for alert in alerts:
            count(alert)
    async with db.session() as session, session.begin():
        expired = await desk.approvals.expire_due(session, now=now, limit=limit)
        expired_ids = [approval.id for approval in expired]
    for approval_id in expired_ids:
        log.info("approval %d expired: nobody decided it in time", approval_id)
    return len(alerted) + len(expired_ids), examined >= limit or len(expired_ids) >= limit


async def watch_sla(
    db: Database,
    desk: Desk,
    stop: asyncio.Event,
    *,
    every: float = 30.0,
    clock: Callable[[], datetime] = utcnow,
    on_alert: Callable[[], None] = lambda: None,
    count: Callable[[str], None] = lambda alert: None,
    limit: int = 50,
    catch_up_pause: float = 1.0,
) -> None:
    """Sweep until ``stop`` is set; ``on_alert`` is called after a pass that alerted,
    ``count`` with each alert (for ``/metrics``).

    A backlog (after downtime) is worked through ``limit`` tickets per pass with
    ``catch_up_pause`` seconds between passes, so it never starves the web server.
    """
    while not stop.is_set():
        alerted, more = 0, False
        try:
            alerted, more = await _sweep(db, desk, now=clock(), limit=limit, count=count)
        except Exception:
            log.exception("SLA watch pass failed; trying again shortly")
        if alerted:
            on_alert()
        # more are due (after downtime): carry on soon, leaving the server room to serve
        pause = catch_up_pause if more else every
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=pause)
