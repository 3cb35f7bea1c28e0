"""The one interface every external service desk connector implements.

The outbox worker in ``bot/desk`` mirrors our tickets into whichever desk is configured
and syncs status and comments back. It only ever sees the names in this module:

* :class:`ServiceDesk`, the Protocol (``rt``, ``jira``, ``servicenow`` implement it);
* :class:`TicketDraft` / :class:`CommentDraft` going out, :class:`RemoteTicket` /
  :class:`RemoteChange` coming back;
* the error hierarchy under :class:`ServiceDeskError`. Only :class:`DeskUnavailable` is
  worth retrying as it stands (``error.retryable``); the others need a person.

Delivery is at-least-once and every write is idempotent, so the worker may retry any call
after any failure, including a crash between the remote create and marking the outbox row
sent: ``create`` first looks the draft's reference up in the remote desk, and
``add_comment`` looks the comment's key up where the product allows it.

Example::

    desk = RequestTracker(base_url="https://rt.example.org", username="itbot", token="1-2-abc")
    try:
        ticket = await desk.create(draft)          # safe to repeat with the same draft
        await desk.add_comment(ticket.remote_id, CommentDraft(
            key="c-42", body="It works again", public=True, author_name="Sam Taylor"))
    except DeskUnavailable as exc:
        retry_later(after=exc.retry_after)
    finally:
        await desk.aclose()
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Literal, Protocol, runtime_checkable

TicketStatus = Literal["new", "open", "pending", "resolved", "closed"]
Priority = Literal["P1", "P2", "P3", "P4"]
ChangeKind = Literal["status", "comment"]

TICKET_STATUSES: tuple[TicketStatus, ...] = ("new", "open", "pending", "resolved", "closed")


@dataclass(frozen=True, kw_only=True, slots=True)
class TicketDraft:
    """What we file: our reference (``JSD-000123``) is the idempotency key everywhere."""

    reference: str
    subject: str
    description: str
    requester_email: str
    requester_name: str
    council: str
    category: str
    priority: Priority
    transcript: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class CommentDraft:
    """A comment we add; ``key`` is unique per comment and makes re-sending harmless."""

    key: str
    body: str
    public: bool
    author_name: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RemoteTicket:
    """A ticket as the remote desk has it.

    ``remote_id`` is what the other methods take (RT ticket id, Jira issue key,
    ServiceNow ``sys_id``); ``display_id`` is what people there call it (``123``,
    ``HELP-12``, ``INC0010001``); ``reference`` is ours, ``None`` on a ticket we didn't file.
    """

    remote_id: str
    display_id: str
    reference: str | None
    status: TicketStatus
    url: str
    updated_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class RemoteChange:
    """Something a remote agent did: a status change or a new comment.

    ``change_id`` is stable across polls and webhooks for the same remote event, so the
    worker can drop duplicates. Changes made by the bot's own account are never reported.
    """

    remote_id: str
    reference: str | None
    kind: ChangeKind
    at: datetime
    change_id: str
    status: TicketStatus | None = None
    body: str | None = None
    author: str | None = None
    public: bool | None = None


@runtime_checkable
class ServiceDesk(Protocol):
    """An external service desk that mirrors our tickets. Every method may raise
    :class:`ServiceDeskError` subclasses and nothing else for vendor trouble."""

    name: str

    async def create(self, draft: TicketDraft) -> RemoteTicket:
        """File ``draft``, or return the ticket already filed under ``draft.reference``."""
        ...

    async def find(self, reference: str) -> RemoteTicket | None:
        """The ticket filed under our ``reference``, if there is one."""
        ...

    async def fetch(self, remote_id: str) -> RemoteTicket:
        """The ticket ``remote_id``; :class:`TicketNotFound` if it doesn't exist."""
        ...

    async def add_comment(self, remote_id: str, comment: CommentDraft) -> None:
        """Add ``comment`` once (public: the requester sees it; else internal note)."""
        ...

    async def set_status(self, remote_id: str, status: TicketStatus) -> None:
        """Move the ticket to the product's status for ``status`` (no-op if already there)."""
        ...

    async def changes_since(self, since: datetime) -> list[RemoteChange]:
        """Status changes and comments by others at or after ``since`` (inclusive, oldest
        first; overlapping windows are fine, de-duplicate on ``change_id``)."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[RemoteChange]:
        """Verify and parse one webhook delivery; :class:`WebhookRejected` if it isn't
        genuine. Returns ``[]`` for events that are not about our tickets."""
        ...

    async def aclose(self) -> None:
        """Release the HTTP connections."""
        ...


class ServiceDeskError(Exception):
    """Root of everything a connector raises about the remote desk.

    ``desk`` is the connector's name, ``status`` the HTTP status if there was one and
    ``detail`` what the desk itself said, if anything.
    """

    retryable: ClassVar[bool] = False

    def __init__(
        self, message: str, *, desk: str, status: int | None = None, detail: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.desk = desk
        self.status = status
        self.detail = detail


class DeskUnavailable(ServiceDeskError):
    """The desk can't be reached or is failing (refused, timeout, 5xx, 429). Retry later,
    no sooner than ``retry_after`` seconds when the desk said so."""

    retryable: ClassVar[bool] = True

    def __init__(
        self,
        message: str,
        *,
        desk: str,
        status: int | None = None,
        detail: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, desk=desk, status=status, detail=detail)
        self.retry_after = retry_after


class DeskRejected(ServiceDeskError):
    """The desk refused the request as invalid (4xx) or the desk is set up differently
    from what the connector expects. Retrying the same call will not help."""


class DeskAuthError(ServiceDeskError):
    """The desk refused our credentials or the account lacks a permission. Fix the
    configured token/password or the account's rights; keep the work for later."""


class TicketNotFound(ServiceDeskError):
    """No ticket ``remote_id`` in the desk (deleted, or never created there)."""

    def __init__(
        self,
        message: str,
        *,
        desk: str,
        remote_id: str,
        status: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, desk=desk, status=status, detail=detail)
        self.remote_id = remote_id


class WebhookRejected(ServiceDeskError):
    """A webhook delivery failed verification (missing or wrong signature, bad body).
    Answer the sender with 401/400 and process nothing from it."""


PRIORITY_WORDS: Mapping[Priority, str] = {
    "P1": "P1 – critical: many people cannot work",
    "P2": "P2 – high: someone cannot work",
    "P3": "P3 – moderate: work is harder than it should be",
    "P4": "P4 – low: a question or a small nuisance",
}


def describe(draft: TicketDraft) -> str:
    """The plain-text body every connector files: who, where, what, then the transcript."""
    lines = [
        draft.description.strip(),
        "",
        f"Requester: {draft.requester_name} <{draft.requester_email}>",
        f"Council: {draft.council}",
        f"Category: {draft.category}",
        f"Priority: {PRIORITY_WORDS.get(draft.priority, draft.priority)}",
        f"Reference: {draft.reference} (raised through the IT bot)",
    ]
    if draft.transcript.strip():
        lines += ["", "Conversation with the IT bot:", draft.transcript.strip()]
    return "\n".join(lines)


def titled(draft: TicketDraft) -> str:
    """The remote subject: our reference first, so people can search for it."""
    return f"[{draft.reference}] {draft.subject}".strip()


def comment_text(comment: CommentDraft) -> str:
    """The remote comment text, naming who wrote it (the bot's account posts it)."""
    return f"{comment.author_name} wrote:\n\n{comment.body.strip()}"
