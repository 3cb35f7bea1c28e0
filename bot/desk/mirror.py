"""Mirroring tickets to an external service desk, and syncing its changes back.

The external desk subscribes to the desk's ``ticket_created``, ``comment_added`` (but
the comments that came from it) and ``status_changed`` (but the changes made there)
events under the destination ``external``; they are delivered through the configured
connector (``integrations.servicedesk``). Creation is
idempotent in the connector (our reference is stored in the remote ticket and looked
up first), so a crash between the remote create and marking the row sent leaves one
remote ticket. Remote changes arrive by webhook (``/desk/webhooks/<system>``) and by
polling; both carry a stable ``change_id`` stored as the comment's external key, so
each is applied once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.events import COMMENT_ADDED, STATUS_CHANGED, TICKET_CREATED, Events
from bot.desk.outbox import Handler, Skip
from bot.desk.service import Actor, Desk
from bot.desk.tickets import OutboxMessage, Ticket, TicketComment
from bot.errors import SettingsError
from bot.redaction import redact
from bot.settings import Settings
from bot.storage import Database
from bot.storage.models import utcnow
from integrations.servicedesk import (
    CommentDraft,
    JiraServiceManagement,
    RemoteChange,
    RequestTracker,
    ServiceDesk,
    ServiceNow,
    TicketDraft,
)

log = logging.getLogger(__name__)

OPTIONS = "ITBOT_SERVICEDESK_OPTIONS"


def build_connector(settings: Settings) -> ServiceDesk | None:
    """The configured external desk, or ``None`` for the built-in desk alone."""
    kind = settings.servicedesk
    if kind is None:
        return None
    if not settings.servicedesk_url or settings.servicedesk_token is None:
        raise SettingsError(
            "ITBOT_SERVICEDESK_URL", f"and ITBOT_SERVICEDESK_TOKEN must be set for {kind}"
        )
    options: dict[str, Any] = dict(settings.servicedesk_options)
    secret = settings.servicedesk_webhook_secret
    common: dict[str, Any] = {
        "base_url": settings.servicedesk_url,
        "webhook_secret": secret.reveal() if secret else None,
        "timeout": settings.servicedesk_timeout,
    }
    token = settings.servicedesk_token.reveal()
    user = settings.servicedesk_user or "itbot"
    try:
        if kind == "rt":
            return RequestTracker(username=user, token=token, **common, **options)
        if kind == "jira":
            return JiraServiceManagement(email=user, api_token=token, **common, **options)
        return ServiceNow(username=user, password=token, **common, **options)
    except (TypeError, ValueError) as exc:
        raise SettingsError(OPTIONS, f"does not suit {kind}: {exc}") from None


DESTINATION = "external"


def subscribe(events: Events, settings: Settings) -> None:
    """The external desk's subscriptions, when one is configured (``ITBOT_SERVICEDESK``)."""
    if settings.servicedesk is None:
        return
    events.subscribe(DESTINATION, TICKET_CREATED)
    events.subscribe(DESTINATION, COMMENT_ADDED, when=lambda p: p.get("role") != "remote")
    events.subscribe(DESTINATION, STATUS_CHANGED, when=lambda p: not p.get("remote"))


class Mirror:
    """Outbox handlers and the sync-back path for one external desk."""

    def __init__(self, connector: ServiceDesk, desk: Desk, db: Database) -> None:
        self.connector = connector
        self.desk = desk
        self.db = db

    def handlers(self) -> dict[str, Handler]:
        """What the outbox worker runs for the ``external`` destination's rows."""
        return {
            TICKET_CREATED: self.create,
            COMMENT_ADDED: self.comment,
            STATUS_CHANGED: self.status,
        }

    async def _ticket(self, session: AsyncSession, message: OutboxMessage) -> Ticket:
        ticket = await session.get(Ticket, message.ticket_id) if message.ticket_id else None
        if ticket is None:
            raise Skip("the ticket no longer exists")
        return ticket

    async def create(self, session: AsyncSession, message: OutboxMessage) -> None:
        ticket = await self._ticket(session, message)
        transcript = "\n".join(
            f"{t.get('at', '')[:16]} staff: {t.get('user', '')}\n{'':17}bot: {t.get('bot', '')}"
            for t in ticket.transcript
        )
        # stored redacted; redacted again on the way out, for rows kept before a rule existed
        remote = await self.connector.create(
            TicketDraft(
                reference=ticket.ref or "",
                subject=redact(ticket.summary),
                description=redact(ticket.description or ticket.summary),
                requester_email=ticket.requester.email,
                requester_name=ticket.requester.display_name,
                council=ticket.council,
                category=ticket.category,
                priority=ticket.priority,  # type: ignore[arg-type]
                transcript=redact(transcript),
            )
        )
        ticket.external_system = self.connector.name
        ticket.external_id = remote.remote_id
        ticket.external_url = remote.url

    async def comment(self, session: AsyncSession, message: OutboxMessage) -> None:
        ticket = await self._ticket(session, message)
        if ticket.external_id is None:
            raise RuntimeError(f"{ticket.ref} is not in {self.connector.name} yet; retrying later")
        comment = await session.get(TicketComment, message.payload.get("comment"))
        if comment is None:
            raise Skip("the comment no longer exists")
        await self.connector.add_comment(
            ticket.external_id,
            CommentDraft(
                key=f"{ticket.ref}-c{comment.id}",
                body=redact(comment.body),
                public=comment.public,
                author_name=comment.author_name,
            ),
        )

    async def status(self, session: AsyncSession, message: OutboxMessage) -> None:
        ticket = await self._ticket(session, message)
        if ticket.external_id is None:
            raise RuntimeError(f"{ticket.ref} is not in {self.connector.name} yet; retrying later")
        await self.connector.set_status(ticket.external_id, message.payload["status"])

    async def apply(self, changes: list[RemoteChange]) -> int:
        """Apply remote changes to our tickets; returns how many changed something."""
        applied = 0
        for change in changes:
            async with self.db.session() as session, session.begin():
                applied += await self._apply_one(session, change)
        return applied

    async def _apply_one(self, session: AsyncSession, change: RemoteChange) -> int:
        query = select(Ticket).where(
            or_(
                Ticket.ref == (change.reference or ""),
                (Ticket.external_system == self.connector.name)
                & (Ticket.external_id == change.remote_id),
            )
        )
        ticket = (await session.execute(query)).unique().scalar_one_or_none()
        if ticket is None:
            return 0
        now = utcnow()
        author = Actor.remote(self.connector.name, change.author)
        if change.kind == "comment" and change.body:
            made = await self.desk.comment(
                session,
                ticket,
                author,
                change.body,
                now=now,
                public=bool(change.public),
                via="external",
                external_key=f"{self.connector.name}:{change.change_id}"[:200],
            )
            return int(made is not None)
        if change.kind == "status" and change.status and change.status != ticket.status:
            await self.desk.apply_remote_status(
                session, ticket, change.status, actor=author, now=now
            )
            return 1
        return 0

    async def poll(
        self, stop: asyncio.Event, *, every: float, since: datetime | None = None
    ) -> None:
        """Fetch remote changes every ``every`` seconds until ``stop`` is set."""
        since = since or utcnow() - timedelta(hours=1)
        while not stop.is_set():
            started = utcnow()
            try:
                changes = await self.connector.changes_since(since)
                await self.apply(changes)
                since = started - timedelta(seconds=every)  # overlap: dedupe makes it safe
            except Exception as exc:
                log.warning("polling %s failed: %s", self.connector.name, type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)
