"""After the ack: one recorded job → who is asking → the engine → deliveries.

This is where a Slack job becomes the channel-neutral ``Incoming`` and the engine's
``Reply`` list becomes Slack messages. Private replies (``Reply.private``: a temporary
password) are never posted, not even in a DM (a DM keeps its history): they are shown
only in the code form they answer (``views.update``, see ``codeform``), and the chat gets
a note that they were. The op that shows one is never stored in the inbox's outbox.
Values held in memory at the ack (``held``: a code, a typed password) are put back here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from bot.channels.slack import codeform, home
from bot.channels.slack import wording as slack_wording
from bot.channels.slack.codeform import CodeForms
from bot.channels.slack.controls import AgentActions
from bot.channels.slack.deliver import Deliverer, Op
from bot.channels.slack.held import Held
from bot.channels.slack.identity import IdentityResolver, SlackPerson
from bot.channels.slack.inbox import Claimed, Inbox
from bot.channels.slack.jobs import Job
from bot.channels.slack.render import SlackRenderer
from bot.conversation.messages import Incoming, Reply
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.storage import Database

log = logging.getLogger(__name__)

CHANNEL = "slack"


class TurnHandler(Protocol):
    """The conversation engine, as far as Slack needs it."""

    async def handle(self, incoming: Incoming) -> list[Reply]: ...


class Processor:
    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        inbox: Inbox,
        engine: TurnHandler,
        identity: IdentityResolver,
        renderer: SlackRenderer,
        deliverer: Deliverer,
        knowledge: Callable[[], Any],
        actions: AgentActions | None = None,
        held: Held | None = None,
        code_forms: CodeForms | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.inbox = inbox
        self.engine = engine
        self.identity = identity
        self.renderer = renderer
        self.deliverer = deliverer
        self.knowledge = knowledge
        self.actions = actions
        self.held = held if held is not None else Held()
        self.code_forms = code_forms

    async def __call__(self, row: Claimed) -> None:
        started = time.perf_counter()
        outbox = row.outbox
        if outbox is None:
            ops = await self.plan(row.job)
            outbox = {"ops": ops, "sent": 0}
            if len(ops) and row.job.kind != "home":  # publishing the Home tab again is harmless
                stored = [op.get("stored") or op for op in ops]  # never an op with a secret
                await self.inbox.save_outbox(row, {"ops": stored, "sent": 0})
        ops = list(outbox["ops"])
        for index in range(int(outbox.get("sent") or 0), len(ops)):
            await self.deliverer.send(ops[index])
            if index + 1 < len(ops):
                stored = [op.get("stored") or op for op in ops]
                await self.inbox.save_outbox(row, {"ops": stored, "sent": index + 1})
        log.info(
            "slack job=%d kind=%s user=%s attempt=%d deliveries=%d ms=%.1f",
            row.id,
            row.kind,
            row.job.user,
            row.attempts,
            len(ops),
            (time.perf_counter() - started) * 1000,
        )

    async def plan(self, job: Job) -> list[Op]:
        """What to send for ``job``; runs the conversation turn (the only state change)."""
        restored = self.held.restore(job)
        if restored is None:
            return self._lost(job)
        job = restored
        person = await self.identity.resolve(job.user)
        if job.kind == "home":
            context = await home.home_context(self.settings, self.db, self.knowledge(), person)
            return [{"op": "publish", "user": job.user, "view": self.renderer.home(**context)}]
        if person.problem in {"bot", "unknown"}:
            return []
        if job.kind in ("triage_action", "triage_reply"):
            return await self.actions.handle(job, person) if self.actions is not None else []
        if not person.ok:
            notice = self.renderer.text(home.refusal_text(self.settings, person))
            if job.kind == "mention":  # never in the channel, even in a thread
                return [self._private_note(job, notice)]
            return [self._to(job, notice)]
        if job.kind == "message" and job.thread_ts and self.actions is not None:
            relayed = await self.actions.requester_reply(job, person)
            if relayed is not None:  # a reply to a ticket notification: it goes to the desk
                return relayed
        replies = await self.engine.handle(self._incoming(job, person))
        ops: list[Op] = []
        if job.press is not None and job.message_ts and job.block_id and job.message_blocks:
            ops.append(
                {
                    "op": "update",
                    "channel": job.channel,
                    "ts": job.message_ts,
                    "message": {
                        "text": job.message_text or job.press.label or " ",
                        "blocks": self.renderer.choice_made(
                            job.message_blocks, job.block_id, job.press.label
                        ),
                    },
                }
            )
        private = [reply for reply in replies if reply.private]
        in_form = self.code_forms is not None and job.view_id and codeform.form_of(job)
        if in_form and self.code_forms is not None:
            # the form the code was entered in shows the answer, a private reply included
            view = self.code_forms.answer(job, replies)
            op: Op = {"op": "view", "view_id": job.view_id, "view": view}
            if private:
                shown = Reply(slack_wording.SHOWN_IN_WINDOW)
                stand_in = self.code_forms.answer(job, [shown])
                op["stored"] = {"op": "view", "view_id": job.view_id, "view": stand_in}
            ops.append(op)
        if private:
            # never posted, not even in a DM: the chat keeps its history
            note = slack_wording.SHOWN_IN_WINDOW if in_form else slack_wording.NOT_SHOWN
            if not in_form:
                log.warning("slack job=%s: a private reply with no form to show it in", job.user)
            replies = [Reply(note) if reply.private else reply for reply in replies]
        if replies:
            ops.append(self._to(job, self.renderer.message(replies, thread=job.thread)))
        return ops

    def _lost(self, job: Job) -> list[Op]:
        """The job's held values are gone (a restart): ask the person to enter them again."""
        form = codeform.form_of(job)
        if form is not None and job.view_id and self.code_forms is not None:
            view = self.code_forms.view(form.state, job.thread, message=slack_wording.LOST_CODE)
            return [{"op": "view", "view_id": job.view_id, "view": dict(view)}]
        return [self._to(job, self.renderer.text(slack_wording.LOST_MESSAGE))]

    def _incoming(self, job: Job, person: SlackPerson) -> Incoming:
        assert person.email is not None
        return Incoming(
            channel=CHANNEL,
            email=person.email,
            text=job.text,
            thread=job.thread,
            press=job.press.typed() if job.press else None,
            display_name=person.display_name,
            # the workspace's verified profile email (users.info), mapped to the directory
            proven=True,
            forms=True,  # modals: the code form (see ``codeform``)
            personal=job.reply_to != "channel",  # a DM, or a command's ephemeral answer
        )

    @staticmethod
    def _to(job: Job, message: dict[str, Any]) -> Op:
        """Where the conversation is: its channel or thread, the command's response_url, a DM."""
        if job.reply_to == "channel":
            return {
                "op": "post",
                "channel": job.channel,
                "thread_ts": job.thread_ts,
                "message": message,
            }
        if job.reply_to == "response_url":
            return {
                "op": "respond",
                "url": job.response_url,
                "channel": job.channel,
                "user": job.user,
                "message": message,
            }
        return {"op": "dm", "user": job.user, "message": message}

    @staticmethod
    def _private_note(job: Job, message: dict[str, Any]) -> Op:
        """A note only the person sees, where the conversation is."""
        if job.reply_to == "channel":
            return {
                "op": "ephemeral",
                "channel": job.channel,
                "user": job.user,
                "thread_ts": job.thread_ts,
                "message": message,
            }
        return Processor._to(job, message)
