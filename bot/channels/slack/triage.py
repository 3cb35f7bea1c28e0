"""The agents' side of Slack: the triage channel, its controls and the two-way relay.

Each ticket gets one message in the triage channel (``ITBOT_SLACK_TRIAGE_CHANNEL``):
summary, council, priority, SLA due, and Claim / Assign / Set priority / Resolve. The
message is updated whenever the ticket changes. Desk changes write ``triage_post``,
``triage_update``, ``relay_to_agents`` and ``sla_alert`` outbox rows in the same
transaction; the handlers here deliver them (with the outbox's retries)::

    Desk change ─(one transaction)→ ticket + outbox row ─→ Triage.post/update/relay/alert
    agent: button or thread reply ─→ inbox ─→ worker ─→ Triage.handle ─→ Desk change
    requester: reply in a notification's DM thread ─→ Triage.requester_reply ─→ comment

A reply in a triage message's thread reaches the requester's DM as the agent's reply
(``internal:`` keeps it as an internal note); the requester's reply to that DM comes
back into the thread. Only agents (``ITBOT_SLACK_AGENT_GROUP``, ``ITBOT_DESK_AGENTS`` or
``itbot desk add-agent``) may use the controls or reply; others are told so privately.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from jinja2 import Environment
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.slack import jobs
from bot.channels.slack.deliver import Op
from bot.channels.slack.identity import IdentityResolver, SlackPerson
from bot.channels.slack.jobs import Job
from bot.channels.slack.render import SlackRenderer
from bot.conversation.messages import Reply
from bot.desk.calendar import LONDON
from bot.desk.errors import InvalidChange, NotAllowed
from bot.desk.models import OPEN_STATUSES, OutboxMessage, SlackTicketThread, Ticket, TicketComment
from bot.desk.outbox import Skip
from bot.desk.service import Actor, Desk
from bot.desk.sla import PRIORITY_MEANING
from bot.render import mrkdwn_escape
from bot.settings import Settings
from bot.storage import staff as staff_repo
from bot.storage.models import Staff, utcnow

if TYPE_CHECKING:
    from bot.storage import Database

log = logging.getLogger(__name__)

#: the metadata every triage message carries, to find it again after a crash mid-post
METADATA_EVENT = "itbot_ticket"
#: the metadata a relayed comment or a requester's DM carries, for the same reason
DELIVERY_EVENT = "itbot_delivery"
INTERNAL_PREFIX = "internal:"
STATUS_LABEL = {
    "new": "New",
    "open": "Open",
    "pending": "Pending requester",
    "resolved": "Resolved",
    "closed": "Closed",
}
PAUSED_TEXT = ":double_vertical_bar: SLA clocks paused: waiting for the requester"
ALERT_TEXT = {
    "response_at_risk": ":warning: First response due soon (by {response_due})",
    "response_breached": ":red_circle: First response overdue (was due {response_due})",
    "resolution_at_risk": ":warning: Resolution due soon (by {resolution_due})",
    "resolution_breached": ":red_circle: Resolution overdue (was due {resolution_due})",
}
#: of two alerts for one clock that fall due together, only the graver one is posted
_GRAVER = {"response_at_risk": "response_breached", "resolution_at_risk": "resolution_breached"}


class NotYet(Exception):
    """The ticket's triage message isn't posted yet: the outbox tries again shortly."""

    retry_after = 2


def local_time(moment: datetime) -> str:
    """A moment as agents read it: ``Mon 5 Jan 14:30`` in UK time.

    >>> from datetime import UTC
    >>> local_time(datetime(2026, 7, 6, 13, 30, tzinfo=UTC))
    'Mon 6 Jul 14:30'
    """
    local = moment.astimezone(LONDON)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


class AgentDirectory:
    """Who is a service desk agent: the Slack user group, the configured list, or the flag.

    Group membership (``usergroups.users.list``) is cached for ``ttl``. Someone found in
    the group or the list gets ``Staff.is_agent`` set (``agent_via`` says which), so the
    desk and the dashboard's assignee lists agree with Slack. Someone who was an agent
    through the group and has left it stops being one as soon as a fresh member list
    shows it: when they next act in Slack, or at the next :meth:`sync` (every ``ttl``
    while the bot runs), whichever comes first. Agents added by hand (``itbot desk
    add-agent``) are never taken off by the group.
    """

    def __init__(
        self,
        settings: Settings,
        client: AsyncWebClient,
        *,
        ttl: timedelta = timedelta(minutes=5),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.client = client
        self.ttl = ttl.total_seconds()
        self.clock = clock
        self._members: frozenset[str] = frozenset()
        self._fetched_at: float | None = None

    async def is_agent(self, session: AsyncSession, staff: Staff) -> bool:
        if staff.email in self.settings.desk_agents:
            _grant(staff, "settings")
        members, fresh = await self._group_members()
        if members is not None and staff.slack_user_id in members:
            _grant(staff, "slack_group")
        elif fresh is not None and staff.agent_via == "slack_group":
            await self._revoke_departed(session, members or frozenset())
        return staff.is_agent

    async def sync(self, session: AsyncSession) -> int:
        """Fetch the group's members now and take the flag off agents who have left it.

        Returns how many stopped being agents (0 when no group is configured or Slack
        can't be asked: what was known stands).
        """
        if not self.settings.slack_agent_group:
            return 0
        self._fetched_at = None
        members, fresh = await self._group_members()
        if fresh is None or members is None:
            return 0
        return await self._revoke_departed(session, members)

    async def keep_in_sync(self, db: Database, stop: asyncio.Event) -> None:
        """:meth:`sync` every ``ttl`` until ``stop`` is set (runs beside the Slack worker)."""
        while not stop.is_set():
            try:
                async with db.session() as session, session.begin():
                    await self.sync(session)
            except Exception:  # the next round tries again
                log.exception("syncing the agents' Slack user group failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.ttl)

    async def _group_members(self) -> tuple[frozenset[str] | None, float | None]:
        """The group's members (``None`` without a group) and when they were fetched
        (``None`` if never: Slack has not answered yet)."""
        group = self.settings.slack_agent_group
        if not group:
            return None, None
        now = self.clock()
        if self._fetched_at is None or now - self._fetched_at > self.ttl:
            try:
                response = await self.client.usergroups_users_list(usergroup=group)
            except SlackApiError as exc:
                # keep what we knew: a Slack hiccup must not lock every agent out
                log.warning("slack user group %s: %s", group, exc.response.get("error"))
            else:
                self._members = frozenset(str(u) for u in response.get("users") or ())
                self._fetched_at = now
        return self._members, self._fetched_at

    async def _revoke_departed(self, session: AsyncSession, members: frozenset[str]) -> int:
        query = select(Staff).where(Staff.agent_via == "slack_group")
        gone = 0
        for staff in (await session.execute(query)).scalars():
            if staff.slack_user_id in members or staff.email in self.settings.desk_agents:
                continue
            staff.is_agent = False
            staff.agent_via = None
            gone += 1
            log.info("%s left the agents' Slack user group: no longer an agent", staff.email)
        return gone


def _grant(staff: Staff, via: str) -> None:
    """Make ``staff`` an agent through ``via``; an explicit or listed grant is kept."""
    staff.is_agent = True
    if staff.agent_via not in ("manual", "settings"):
        staff.agent_via = via


class Triage:
    """Outbox handlers for the triage channel, and what agents' Slack actions do."""

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        desk: Desk,
        client: AsyncWebClient,
        env: Environment,
        identity: IdentityResolver,
        renderer: SlackRenderer,
        dm_channel: Callable[[str], Awaitable[str]],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.db = db
        self.desk = desk
        self.client = client
        self.env = env
        self.identity = identity
        self.renderer = renderer
        self.dm_channel = dm_channel
        self.clock = clock
        self.channel = settings.slack_triage_channel
        self.agents = AgentDirectory(settings, client)

    # -- outbox handlers ----------------------------------------------------------------

    async def post(self, session: AsyncSession, row: OutboxMessage) -> None:
        """``triage_post``: the ticket's message in the triage channel, once."""
        ticket = await self._ticket(session, row)
        if self.channel is None:
            raise Skip("no triage channel is configured (ITBOT_SLACK_TRIAGE_CHANNEL)")
        if ticket.triage.get("ts"):
            await self._update(ticket)
            return
        message = self.message(ticket)
        found = await self._find_posted(ticket) if row.attempts else None
        if found is not None:
            channel, ts = found
            await self.client.chat_update(channel=channel, ts=ts, **message)
        else:
            response = await self.client.chat_postMessage(
                channel=self.channel,
                **message,
                metadata={"event_type": METADATA_EVENT, "event_payload": {"ref": ticket.ref}},
                unfurl_links=False,
                unfurl_media=False,
            )
            channel, ts = str(response["channel"]), str(response["ts"])
        ticket.triage = {"channel": channel, "ts": ts}
        await _remember(session, ticket, channel, ts, "triage")

    async def update(self, session: AsyncSession, row: OutboxMessage) -> None:
        """``triage_update``: the message shows the ticket as it is now."""
        ticket = await self._ticket(session, row)
        await self._require_posted(session, ticket)
        await self._update(ticket)

    async def relay(self, session: AsyncSession, row: OutboxMessage) -> None:
        """``relay_to_agents``: the requester's comment, in the ticket's triage thread."""
        ticket = await self._ticket(session, row)
        comment = await session.get(TicketComment, row.payload.get("comment") or 0)
        if comment is None:
            raise Skip("the comment no longer exists")
        await self._require_posted(session, ticket)
        channel, thread = ticket.triage["channel"], ticket.triage["ts"]
        key = f"comment:{comment.id}"
        if row.attempts and await _delivered(self.client, channel, key, thread_ts=thread):
            return  # an earlier attempt posted it, then failed before recording that
        text = f"*{_esc(comment.author_name)}* (requester) wrote:\n{_quote(comment.body)}"
        await self.client.chat_postMessage(
            channel=channel,
            thread_ts=thread,
            text=text,
            metadata=_delivery(key),
            unfurl_links=False,
            unfurl_media=False,
        )

    async def alert(self, session: AsyncSession, row: OutboxMessage) -> None:
        """``sla_alert``: at risk / breached, posted once, in the thread and the channel."""
        ticket = await self._ticket(session, row)
        if self.channel is None:
            raise Skip("no triage channel is configured (ITBOT_SLACK_TRIAGE_CHANNEL)")
        alerts = [str(a) for a in row.payload.get("alerts") or ()]
        shown = [a for a in alerts if _GRAVER.get(a) not in alerts]
        if not shown:
            raise Skip("no alert to show")
        due = {
            "response_due": local_time(ticket.response_due),
            "resolution_due": local_time(ticket.resolution_due),
        }
        lines = [ALERT_TEXT[a].format(**due) for a in shown if a in ALERT_TEXT]
        owner = ticket.assignee.display_name if ticket.assignee else "nobody yet"
        text = (
            f"*{ticket.ref}* · {ticket.priority} · {_esc(self._council(ticket))}: "
            f"{_esc(ticket.summary)}\n" + "\n".join(lines) + f"\nAssigned to {_esc(owner)}."
        )
        if ticket.triage.get("ts"):
            await self.client.chat_postMessage(
                channel=ticket.triage["channel"],
                thread_ts=ticket.triage["ts"],
                reply_broadcast=True,  # seen in the channel, kept with the ticket's thread
                text=text,
            )
        else:
            await self.client.chat_postMessage(channel=self.channel, text=text)

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
            thread = await _thread(session, job.channel, job.thread_ts, "dm")
            if thread is None:
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
            _react(job.channel, job.message_ts, "white_check_mark"),
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
        thread = await _thread(session, job.channel, job.thread_ts, "triage")
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
        return [_react(job.channel, job.message_ts, "lock" if internal else "incoming_envelope")]

    async def _agent_action(
        self, session: AsyncSession, job: Job, staff: Staff, chosen: SlackPerson | None
    ) -> list[Op]:
        assert job.press is not None
        verb, ref, value = job.press.action, job.press.value, job.press.label
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

    # -- rendering ----------------------------------------------------------------------

    def message(self, ticket: Ticket) -> dict[str, Any]:
        """The triage message (``text`` + ``blocks``) for the ticket as it is now."""
        now = self.clock()
        policy = self.desk.policy
        is_open = ticket.status in OPEN_STATUSES
        sla: list[str] = []
        if ticket.status == "pending" and ticket.sla_paused_at is not None:
            now = ticket.sla_paused_at  # the clocks stand where the pause began
            sla.append(PAUSED_TEXT)
        if is_open:
            if ticket.first_response_at is None:
                state = policy.clock(
                    opened=ticket.created_at, due=ticket.response_due, now=now, done_at=None
                )
                if state in ("at_risk", "breached"):
                    sla.append(ALERT_TEXT[f"response_{state}"])
            state = policy.clock(
                opened=ticket.created_at, due=ticket.resolution_due, now=now, done_at=None
            )
            if state in ("at_risk", "breached"):
                sla.append(ALERT_TEXT[f"resolution_{state}"])
        due = {
            "response_due": local_time(ticket.response_due),
            "resolution_due": local_time(ticket.resolution_due),
        }
        done = ticket.resolved_at or ticket.closed_at
        done_note = STATUS_LABEL.get(ticket.status, ticket.status)
        if done is not None:
            done_note += f" {local_time(done)}"
        if ticket.assignee is not None:
            done_note += f" · {ticket.assignee.display_name}"
        if ticket.csat_score is not None:
            done_note += f" · rated {ticket.csat_score}/5"
        view = {
            "ref": ticket.ref,
            "url": f"{self.settings.base_url}/desk/tickets/{ticket.ref}",
            "summary": ticket.summary,
            "council": self._council(ticket),
            "priority": ticket.priority,
            "status": STATUS_LABEL.get(ticket.status, ticket.status),
            "requester": ticket.requester.display_name or ticket.requester.email,
            "assignee": ticket.assignee.display_name if ticket.assignee else "",
            "assignee_slack": (ticket.assignee.slack_user_id or "") if ticket.assignee else "",
            "response_due": due["response_due"]
            if ticket.first_response_at is None
            else f"answered {local_time(ticket.first_response_at)}",
            "resolution_due": due["resolution_due"],
            "sla": [line.format(**due) for line in sla],
            "open": is_open,
            "done_note": done_note,
        }
        actions = {
            verb: f"{jobs.TRIAGE_ACTION_PREFIX}{verb}"
            for verb in ("claim", "assign", "priority", "resolve")
        }
        rendered = self.env.get_template("slack/triage.json.j2").render(
            t=view,
            priorities=list(PRIORITY_MEANING.items()),
            block_id=f"{jobs.TRIAGE_BLOCK_PREFIX}{ticket.ref}",
            actions=actions,
        )
        data: dict[str, Any] = json.loads(rendered)
        return {"text": data["text"], "blocks": data["blocks"]}

    def _council(self, ticket: Ticket) -> str:
        try:
            return self.settings.council(ticket.council).name
        except KeyError:
            return ticket.council

    # -- helpers ------------------------------------------------------------------------

    async def _ticket(self, session: AsyncSession, row: OutboxMessage) -> Ticket:
        ticket = await session.get(Ticket, row.ticket_id) if row.ticket_id else None
        if ticket is None:
            raise Skip("the ticket no longer exists")
        return ticket

    async def _update(self, ticket: Ticket) -> None:
        await self.client.chat_update(
            channel=ticket.triage["channel"], ts=ticket.triage["ts"], **self.message(ticket)
        )

    async def _require_posted(self, session: AsyncSession, ticket: Ticket) -> None:
        """Wait for the ticket's ``triage_post``; skip if there never will be a message."""
        if ticket.triage.get("ts"):
            return
        if self.channel is None:
            raise Skip("no triage channel is configured (ITBOT_SLACK_TRIAGE_CHANNEL)")
        pending = await session.execute(
            select(OutboxMessage.id).where(
                OutboxMessage.ticket_id == ticket.id,
                OutboxMessage.kind == "triage_post",
                OutboxMessage.sent_at.is_(None),
            )
        )
        if pending.first() is not None:
            raise NotYet(f"{ticket.ref}: its triage message is not posted yet")
        raise Skip(f"{ticket.ref} has no triage message (raised before triage was set up)")

    async def _find_posted(self, ticket: Ticket) -> tuple[str, str] | None:
        """The ticket's message, if an earlier attempt posted it but did not record it."""
        assert self.channel is not None
        oldest = f"{ticket.created_at.timestamp() - 60:.6f}"
        cursor: str | None = None
        for _ in range(10):
            response = await self.client.conversations_history(
                channel=self.channel,
                oldest=oldest,
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
            for message in response.get("messages") or ():
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == METADATA_EVENT
                    and payload.get("ref") == ticket.ref
                ):
                    return self.channel, str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return None

    @staticmethod
    def _note(job: Job, text: str) -> Op:
        """Something only the agent sees, where they acted."""
        return {
            "op": "ephemeral",
            "channel": job.channel,
            "user": job.user,
            "thread_ts": job.thread_ts if job.kind == "triage_reply" else "",
            "message": {"text": _esc(text), "blocks": []},
        }


class RequesterNotifier:
    """The Slack pusher for ``Notifier``: ticket news in the requester's DM.

    A notification about an agent's comment invites a reply in its thread; that thread is
    remembered so the reply reaches the agents (see :meth:`Triage.requester_reply`).
    """

    def __init__(
        self,
        renderer: SlackRenderer,
        client: AsyncWebClient,
        dm_channel: Callable[[str], Awaitable[str]],
    ) -> None:
        self.renderer = renderer
        self.client = client
        self.dm_channel = dm_channel

    async def __call__(
        self,
        session: AsyncSession,
        staff: Staff,
        ticket: Ticket,
        replies: Sequence[Reply],
        *,
        key: str,
        retry: bool,
    ) -> bool:
        if not staff.slack_user_id:
            return False  # the notifier keeps it for the person's next turn instead
        channel = await self.dm_channel(staff.slack_user_id)
        if retry and (found := await _delivered(self.client, channel, key)) is not None:
            # an earlier attempt sent it, then failed before recording that
            await _remember(session, ticket, channel, found, "dm")
            return True
        invite = "Reply in this thread to answer the service desk."
        shown = [replace(reply, notes=(*reply.notes, invite)) for reply in replies[:1]]
        shown += list(replies[1:])
        message = self.renderer.message(shown, thread=jobs.DM_THREAD)
        response = await self.client.chat_postMessage(
            channel=channel,
            text=message["text"],
            blocks=message["blocks"],
            metadata=_delivery(key),
            unfurl_links=False,
            unfurl_media=False,
        )
        await _remember(session, ticket, str(response["channel"]), str(response["ts"]), "dm")
        return True


async def _thread(
    session: AsyncSession, channel: str, ts: str, kind: str
) -> SlackTicketThread | None:
    query = select(SlackTicketThread).where(
        SlackTicketThread.channel == channel,
        SlackTicketThread.ts == ts,
        SlackTicketThread.kind == kind,
    )
    return (await session.execute(query)).scalar_one_or_none()


async def _remember(
    session: AsyncSession, ticket: Ticket, channel: str, ts: str, kind: str
) -> None:
    if await _thread(session, channel, ts, kind) is None:
        session.add(SlackTicketThread(ticket_id=ticket.id, channel=channel, ts=ts, kind=kind))


def _delivery(key: str) -> dict[str, Any]:
    return {"event_type": DELIVERY_EVENT, "event_payload": {"key": key}}


async def _delivered(
    client: AsyncWebClient, channel: str, key: str, *, thread_ts: str | None = None
) -> str | None:
    """The ts of a message carrying delivery ``key`` among the latest in ``channel`` (or
    in the thread ``thread_ts``), if an earlier attempt posted it; else ``None``.

    Looks at the newest 200 messages: a retry comes seconds or minutes after the attempt.
    If Slack won't say (a missing history scope, say), sending twice beats not at all.
    """
    try:
        if thread_ts is not None:
            response = await client.conversations_replies(
                channel=channel, ts=thread_ts, include_all_metadata=True, limit=200
            )
        else:
            response = await client.conversations_history(
                channel=channel, include_all_metadata=True, limit=200
            )
    except SlackApiError as exc:
        log.warning("can't check %s for delivery %s: %s", channel, key, exc.response.get("error"))
        return None
    for message in response.get("messages") or ():
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == DELIVERY_EVENT and payload.get("key") == key:
            return str(message["ts"])
    return None


def _react(channel: str, ts: str, name: str) -> Op:
    return {"op": "react", "channel": channel, "ts": ts, "name": name}


def _esc(text: str) -> str:
    return mrkdwn_escape(text)


def _quote(text: str) -> str:
    return "\n".join("> " + line for line in _esc(text[:2800]).splitlines() or [""])
