"""What happened to a ticket, announced to whoever listens: the desk never names a channel.

A desk change emits channel-neutral events (``ticket_created``, ``comment_added``, …)
into its outbox in the same transaction as the change. Listeners (the requester's
notifier, each chat channel's agents' triage, an external desk, later email) declare
what they subscribe to when the application is wired, each under its own
*destination* name; one outbox row is written per event and subscribed destination,
so each listener gets its own retries and a slow one never holds up another.

>>> events = Events()
>>> events.subscribe("agents", TICKET_CREATED, COMMENT_ADDED)
>>> events.subscribe("requester", COMMENT_ADDED, when=lambda p: p.get("public", False))
>>> events.destinations(COMMENT_ADDED, {"public": False})
['agents']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.desk.tickets import OutboxMessage

#: a ticket was raised: ``{ref}``
TICKET_CREATED: Final = "ticket_created"
#: anything about the ticket changed (status, owner, priority, rating, clocks): ``{ref}``
TICKET_CHANGED: Final = "ticket_changed"
#: someone commented: ``{ref, comment, role, public, via}``; ``role`` is requester,
#: agent, system or remote (an agent in an external desk)
COMMENT_ADDED: Final = "comment_added"
#: an agent took the ticket or gave it to someone: ``{ref, assignee}``
TICKET_ASSIGNED: Final = "ticket_assigned"
#: the status moved: ``{ref, status, before, remote}`` (``remote``: changed in an external desk)
STATUS_CHANGED: Final = "status_changed"
#: the ticket is resolved and its requester may rate it: ``{ref}``
CSAT_REQUESTED: Final = "csat_requested"
#: SLA clocks at risk or breached: ``{ref, alerts}``
SLA_ALERT: Final = "sla_alert"
#: a change waits for an agent's approval (:mod:`bot.desk.approvals`): ``{approval_id, kind}``
APPROVAL_REQUESTED: Final = "approval_requested"
#: an approval was decided or ran out of time: ``{approval_id, kind, outcome, decided_by}``;
#: ``outcome`` is approved, denied or expired; ``decided_by`` the agent's email ("" if expired)
APPROVAL_DECIDED: Final = "approval_decided"

#: similar reports from several people arrived close together (:mod:`bot.desk.spikes`):
#: ``{spike_id, category, reports}``; announced once per spike
OUTAGE_SPIKE: Final = "outage_spike"
#: a service notice's problem is fixed (its parent ticket resolved or closed): one per
#: person who added themselves to it, ``{notice_id, staff_id, status}``
NOTICE_RESOLVED: Final = "notice_resolved"

KINDS: Final = (
    TICKET_CREATED,
    TICKET_CHANGED,
    COMMENT_ADDED,
    TICKET_ASSIGNED,
    STATUS_CHANGED,
    CSAT_REQUESTED,
    SLA_ALERT,
    APPROVAL_REQUESTED,
    APPROVAL_DECIDED,
    OUTAGE_SPIKE,
    NOTICE_RESOLVED,
)

Filter = Callable[[Mapping[str, Any]], bool]

#: ``Session.info`` key: the :class:`Events` whose committed-callbacks the session's next
#: commit calls (a rollback forgets it)
_WAKE_AT_COMMIT: Final = "itbot.events.wake_at_commit"


@dataclass(frozen=True, slots=True)
class Subscription:
    """``destination`` wants events of ``kind`` (those whose payload passes ``when``)."""

    destination: str
    kind: str
    when: Filter | None = None


class Events:
    """Who listens to which event; writes the outbox rows for an emitted event.

    Subscriptions come from the settings (a channel that is configured subscribes), so
    every process that changes tickets — server, CLI, tests — writes the same rows.
    """

    def __init__(self) -> None:
        self._subscriptions: dict[str, list[Subscription]] = {}
        self._committed: list[Callable[[], None]] = []

    def on_committed(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (no arguments, on the event loop) once a transaction that added
        outbox rows has committed: the server wakes its outbox worker with it, so a desk
        change reaches Slack, Teams or the requester now rather than at the worker's next
        look (up to a second later). Nothing is called for a transaction rolled back.
        Returns what stops the calls (the server's, when its worker stops)."""
        self._committed.append(callback)

        def forget() -> None:
            if callback in self._committed:
                self._committed.remove(callback)

        return forget

    def subscribe(self, destination: str, *kinds: str, when: Filter | None = None) -> None:
        for kind in kinds:
            if kind not in KINDS:
                raise ValueError(f"unknown desk event {kind!r}; known: {', '.join(KINDS)}")
            self._subscriptions.setdefault(kind, []).append(Subscription(destination, kind, when))

    def destinations(self, kind: str, payload: Mapping[str, Any]) -> list[str]:
        """The destinations that get a row for this event, in subscription order."""
        found: list[str] = []
        for sub in self._subscriptions.get(kind, ()):
            if (sub.when is None or sub.when(payload)) and sub.destination not in found:
                found.append(sub.destination)
        return found

    def emit(
        self,
        session: AsyncSession,
        *,
        ticket_id: int,
        ref: str | None,
        kind: str,
        now: datetime,
        **details: Any,
    ) -> int:
        """Add one outbox row per subscribed destination; returns how many."""
        return self.announce(session, kind, {"ref": ref, **details}, now=now, ticket_id=ticket_id)

    def announce(
        self,
        session: AsyncSession,
        kind: str,
        payload: Mapping[str, Any],
        *,
        now: datetime,
        ticket_id: int | None = None,
    ) -> int:
        """:meth:`emit` with the payload as given, for events about no ticket or with a
        ``kind`` field of their own (an approval's); returns how many rows were added."""
        body = dict(payload)
        destinations = self.destinations(kind, body)
        if destinations and self._committed:
            self._call_at_commit(session.sync_session)
        for destination in destinations:
            session.add(
                OutboxMessage(
                    ticket_id=ticket_id,
                    kind=kind,
                    destination=destination,
                    payload=body,
                    created_at=now,
                    available_at=now,
                    attempts=0,
                )
            )
        return len(destinations)

    def _call_at_commit(self, session: Session) -> None:
        """The committed-callbacks, once, when ``session``'s transaction commits."""
        session.info[_WAKE_AT_COMMIT] = self

    def _committed_now(self) -> None:
        for callback in self._committed:
            callback()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    events = session.info.pop(_WAKE_AT_COMMIT, None)
    if isinstance(events, Events):
        events._committed_now()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_WAKE_AT_COMMIT, None)
