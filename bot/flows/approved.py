"""Carrying out a change an agent approved (an MFA reset), then telling the person.

The desk announces ``approval_decided``; this listener (destination ``access``) gets the
approved ones, makes the change through :class:`~bot.access.service.Access`, and tells the
requester in the chat they asked from. It runs from the outbox, so a directory that is
down is tried again later, never forgotten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from sqlalchemy.ext.asyncio import AsyncSession

from bot.access.service import Done
from bot.conversation.messages import Reply
from bot.desk.approvals import APPROVED, Approval
from bot.desk.events import APPROVAL_DECIDED, Events
from bot.desk.outbox import Handler, Skip
from bot.desk.tickets import OutboxMessage
from bot.storage.models import utcnow

if TYPE_CHECKING:
    from bot.services import Services

DESTINATION: Final = "access"
#: the approval kinds this listener carries out
KINDS: Final = frozenset({"reset_mfa"})

MFA_DONE = (
    "An agent approved it, and your sign-in methods have been removed. Next time you sign "
    "in you'll be asked to set up Microsoft Authenticator again; have your new phone ready."
)
NOT_DONE = (
    "An agent approved it, but I couldn't make the change on your account, so the {desk} "
    "will do it for you and be in touch. You don't need to ask again."
)


class DirectoryUnavailable(Exception):
    """The directory could not be reached: the outbox tries again later."""


def subscribe(events: Events) -> None:
    events.subscribe(
        DESTINATION,
        APPROVAL_DECIDED,
        when=lambda p: p.get("outcome") == APPROVED and p.get("kind") in KINDS,
    )


class ApprovedChanges:
    def __init__(self, services: Services) -> None:
        self.services = services

    def handlers(self) -> dict[str, Handler]:
        return {APPROVAL_DECIDED: self.carry_out}

    async def carry_out(self, session: AsyncSession, message: OutboxMessage) -> None:
        approval_id = message.payload.get("approval_id")
        approval = (
            await session.get(Approval, approval_id) if isinstance(approval_id, int) else None
        )
        if approval is None or approval.kind not in KINDS:
            raise Skip("no approved change to carry out")
        staff = approval.requester
        done = await self.services.access.perform(
            session,
            intent=approval.kind,
            email=staff.email,
            channel=approval.channel,
            now=utcnow(),
            approved_by=str(message.payload.get("decided_by") or ""),
        )
        if not isinstance(done, Done) and done.reason == "directory_unavailable":
            raise DirectoryUnavailable("the directory could not be reached; trying again later")
        text = MFA_DONE if isinstance(done, Done) else NOT_DONE
        reply = Reply(text.format(desk=self.services.settings.desk_name))
        await self.services.notifier.tell(
            session,
            message,
            staff,
            None,
            [reply],
            channel=approval.channel,
            thread=approval.thread,
        )
