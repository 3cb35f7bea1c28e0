"""What agents do in Slack's triage channel, and requesters' replies to ticket news.

A reply in a triage message's thread reaches the requester as the agent's reply
(``internal:`` keeps it as an internal note); the requester's reply in a notification's
DM thread comes back into the triage thread. Only agents (``ITBOT_SLACK_AGENT_GROUP``,
``ITBOT_DESK_AGENTS`` or ``itbot desk add-agent``) may use the controls or reply; others
are told so privately. Approve / Deny on an approval request's message decide it
(:mod:`bot.channels.slack.approvals`); a refusal (not an agent, their own request, already
decided or expired) is told privately and written to the audit log by the desk.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.slack import approvals, outages, threads
from bot.channels.slack.agents import AgentDirectory
from bot.channels.slack.deliver import Op
from bot.channels.slack.identity import IdentityResolver, SlackPerson
from bot.channels.slack.inbox import RetrySoon
from bot.channels.slack.jobs import Job
from bot.channels.slack.render import SlackRenderer
from bot.channels.slack.triage import DESTINATION
from bot.conversation import notify
from bot.desk import outbox
from bot.desk.errors import InvalidChange, NotAllowed
from bot.desk.events import TICKET_CREATED
from bot.desk.service import Actor, Desk
from bot.desk.tickets import Ticket
from bot.flows.notices import draft_for
from bot.settings import Settings
from bot.storage import slack_threads
from bot.storage import staff as staff_repo
from bot.storage.models import Staff, utcnow

if TYPE_CHECKING:
    from bot.storage import Database

INTERNAL_PREFIX = "internal:"
#: how young (seconds) the message a triage reply is under must be for the reply to wait
#: while a ticket's message is being recorded; older, an unknown thread is not a ticket's
RECORDING_WINDOW = 10.0


class AgentActions:
    """Agents' control presses and thread replies; requesters' replies to ticket news."""

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        desk: Desk,
        client: AsyncWebClient,
        identity: IdentityResolver,
        renderer: SlackRenderer,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.desk = desk
        self.identity = identity
        self.renderer = renderer
        self.clock = clock
        self.agents = AgentDirectory(settings, client)

    # -- what agents do -----------------------------------------------------------------

    async def handle(self, job: Job, person: SlackPerson) -> list[Op]:
        """An agent's control press (``triage_action``) or thread reply (``triage_reply``)."""
        if not person.ok:
            return [self._note(job, "I can't tell who you are in Slack, so I can't do that.")]
        chosen: SlackPerson | None = None
        if job.press is not None and job.press.action == "assign" and job.press.label:
            chosen = await self.identity.resolve(job.press.label)  # before the transaction
        async with self.db.session() as session, session.begin():
            staff = await self._staff(session, person)
            if job.press is not None and job.press.action in approvals.VERBS:
                return await self._decide(session, job, staff)
            if not await self.agents.is_agent(session, staff):
                text = (
                    "Only service desk agents can reply to requesters here: "
                    "your message was not passed on."
                    if job.kind == "triage_reply"
                    else "Only service desk agents can change tickets."
                )
                return [self._note(job, text)]
            if job.kind == "triage_reply":
                return await self._agent_reply(session, job, staff)
            return await self._agent_action(session, job, staff, chosen)

    async def requester_reply(self, job: Job, person: SlackPerson) -> list[Op] | None:
        """A reply in the thread of a ticket notification in the person's DM, else ``None``."""
        if not job.thread_ts or not job.text or not person.ok:
            return None
        async with self.db.session() as session, session.begin():
            thread = await slack_threads.find(session, job.channel, job.thread_ts, "dm")
            if thread is None:
                if self._just_posted(job) and await outbox.waiting_for_requester(
                    session, (await self._staff(session, person)).id, destination=notify.DESTINATION
                ):
                    raise RetrySoon(f"{job.thread_ts} may be ticket news, still being recorded")
                return None
            ticket = await session.get(Ticket, thread.ticket_id)
            staff = await self._staff(session, person)
            if ticket is None or ticket.requester_id != staff.id:
                return None
            comment = await self.desk.comment(
                session,
                ticket,
                Actor.of(staff),
                job.text,
                now=self.clock(),
                via="slack",
                external_key=f"slack:{job.channel}:{job.message_ts}",
            )
            if comment is None:
                return []
            ref = ticket.ref
        return [
            threads.react(job.channel, job.message_ts, "white_check_mark"),
            {
                "op": "post",
                "channel": job.channel,
                "thread_ts": job.thread_ts,
                "message": self.renderer.text(
                    f"Thanks, I've added that to {ref}. The desk will see it."
                ),
            },
        ]

    async def _agent_reply(self, session: AsyncSession, job: Job, staff: Staff) -> list[Op]:
        thread = await slack_threads.find(session, job.channel, job.thread_ts, "triage")
        if thread is None and await self._being_recorded(session, job):
            raise RetrySoon(f"the message {job.thread_ts} may be a ticket's, still being recorded")
        ticket = await session.get(Ticket, thread.ticket_id) if thread is not None else None
        if ticket is None:
            return []  # a thread under some other message in the channel: not ours
        text = job.text.strip()
        internal = text.lower().startswith(INTERNAL_PREFIX)
        if internal:
            text = text[len(INTERNAL_PREFIX) :].strip()
        if not text:
            return []
        try:
            comment = await self.desk.comment(
                session,
                ticket,
                Actor.of(staff),
                text,
                now=self.clock(),
                public=not internal,
                via="slack",
                external_key=f"slack:{job.channel}:{job.message_ts}",
            )
        except (InvalidChange, NotAllowed) as exc:
            return [self._note(job, str(exc))]
        if comment is None:
            return []
        return [
            threads.react(job.channel, job.message_ts, "lock" if internal else "incoming_envelope")
        ]

    async def _being_recorded(self, session: AsyncSession, job: Job) -> bool:
        """Whether the message ``job`` replies under may be a ticket's whose post the outbox
        has sent but not yet recorded: it is seconds old and a ticket's triage message is
        still undelivered. (An agent quick off the mark, or a busy database.)"""
        return self._just_posted(job) and await outbox.waiting(
            session, None, kind=TICKET_CREATED, destination=DESTINATION
        )

    def _just_posted(self, job: Job) -> bool:
        """Whether the message ``job`` replies under was posted seconds ago: a ticket's
        message may still be being recorded (the outbox commits just after Slack answers)."""
        try:
            age = self.clock().timestamp() - float(job.thread_ts)
        except ValueError:
            return False
        return age <= RECORDING_WINDOW

    async def _agent_action(
        self, session: AsyncSession, job: Job, staff: Staff, chosen: SlackPerson | None
    ) -> list[Op]:
        assert job.press is not None
        verb, ref, value = job.press.action, job.press.value, job.press.label
        if verb == outages.PUBLISH:
            return await self._publish(session, job, staff, ref)
        if verb == "edit_notice":
            return []  # a link to the dashboard: Slack opens it
        ticket = await self.desk.get(session, ref)
        if ticket is None:
            return [self._note(job, f"I can't find {ref}.")]
        now = self.clock()
        try:
            if verb == "claim":
                await self.desk.claim(session, ticket, Actor.of(staff), now=now)
            elif verb == "assign":
                assignee = await self._assignee(session, chosen)
                if assignee is None:
                    return [self._note(job, "Only service desk agents can be assigned tickets.")]
                await self.desk.assign(session, ticket, Actor.of(staff), assignee, now=now)
            elif verb == "priority":
                await self.desk.set_priority(session, ticket, Actor.of(staff), value, now=now)
            elif verb == "resolve":
                await self.desk.set_status(session, ticket, Actor.of(staff), "resolved", now=now)
            else:
                return [self._note(job, "That control isn't one I know.")]
        except (InvalidChange, NotAllowed) as exc:
            return [self._note(job, str(exc))]
        return []  # the desk wrote a triage_update: the message changes for everyone

    async def _publish(self, session: AsyncSession, job: Job, staff: Staff, value: str) -> list[Op]:
        """Publish notice pressed on an outage alert: the notice the dashboard offers."""
        raw = value.removeprefix(outages.SPIKE_PREFIX)
        spike = await self.desk.spikes.get(session, int(raw)) if raw.isdigit() else None
        if spike is None:
            return [self._note(job, "I can't find that outage alert.")]
        now = self.clock()
        draft = draft_for(spike, hours=self.settings.notice_hours, now=now)
        try:
            notice = await self.desk.notices.publish(
                session,
                text=draft.text,
                products=draft.products,
                councils=draft.councils,
                expires_at=draft.expires_at,
                by=staff.email,
                now=now,
                spike_id=spike.id,
            )
        except InvalidChange as exc:
            return [self._note(job, str(exc))]
        url = f"{self.settings.base_url}/desk/notices"
        text = f"Notice {notice.id} published: {notice.text} Edit or end it at {url}"
        return [self._note(job, text)]

    async def _decide(self, session: AsyncSession, job: Job, staff: Staff) -> list[Op]:
        """Approve or Deny pressed: the desk decides as this person (agents only, never
        their own request), and audits a refusal; the message changes for everyone."""
        assert job.press is not None
        await self.agents.is_agent(session, staff)  # refreshes the flag from the group/list
        value = job.press.value
        decision = await self.desk.approvals.decide(
            session,
            int(value) if value.isdigit() else 0,
            Actor.of(staff),
            approve=job.press.action == approvals.APPROVE,
            now=self.clock(),
            via="slack",
        )
        return [] if decision.ok else [self._note(job, decision.message)]

    async def _assignee(self, session: AsyncSession, person: SlackPerson | None) -> Staff | None:
        if person is None or not person.ok:
            return None
        staff = await self._staff(session, person)
        return staff if await self.agents.is_agent(session, staff) else None

    async def _staff(self, session: AsyncSession, person: SlackPerson) -> Staff:
        assert person.email is not None and person.council is not None
        return await staff_repo.get_or_create(
            session,
            email=person.email,
            council=person.council.key,
            display_name=person.display_name,
            slack_user_id=person.user_id,
        )

    @staticmethod
    def _note(job: Job, text: str) -> Op:
        """Something only the agent sees, where they acted."""
        return {
            "op": "ephemeral",
            "channel": job.channel,
            "user": job.user,
            "thread_ts": job.thread_ts if job.kind == "triage_reply" else "",
            "message": {"text": threads.esc(text), "blocks": []},
        }
