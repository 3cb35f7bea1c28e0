"""The Teams channel's moving parts: the messaging endpoint, turns, replies and news.

``POST /api/messages`` takes the Bot Connector's activities. Each is checked
(:mod:`~bot.channels.teams.auth`) before anything else reads it, then handled while the
request waits (Teams allows 15 s; a turn takes far less), so a failure answers 5xx and the
Bot Connector sends the activity again: nothing is lost. Replies go back through the
Bot Connector (:mod:`~bot.channels.teams.connector`), tried again on failure; what still
cannot be delivered is kept for the person's next turn (``bot.storage.notifications``).

* a message or a button press (``Action.Submit``: a message whose ``value`` holds the
  action) → who is asking → the engine → an Adaptive Card in the same conversation;
* ``invoke`` ``task/fetch`` → the code dialog; ``task/submit`` → the engine with the code,
  the answer (a temporary password too) shown in the dialog only, see :mod:`codeform`;
* ticket news, ratings and notices: the requester notifier's Teams pusher writes to the
  person's personal chat, from the conversation reference kept at their last message;
* in the agents' triage channel (``ITBOT_TEAMS_TRIAGE_CHANNEL``): a press on a ticket's card
  or a reply in its thread → :mod:`agents`; the cards themselves are posted and updated by
  the outbox (:meth:`TeamsChannel.outbox_handlers`, :mod:`triage`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
from aiohttp import web
from jinja2 import Environment

from bot import wording
from bot.channels.teams import codeform
from bot.channels.teams import wording as teams_wording
from bot.channels.teams.agents import TriageActions, press_of
from bot.channels.teams.auth import Refused, TokenGuard
from bot.channels.teams.connector import Connector, DeliveryError, allowed
from bot.channels.teams.identity import IdentityResolver, TeamsPerson, Where
from bot.channels.teams.render import TeamsRenderer, pressed
from bot.channels.teams.triage import DESTINATION as TRIAGE_DESTINATION
from bot.channels.teams.triage import TeamsTriage
from bot.conversation.actions import SubmitForm
from bot.conversation.messages import MAX_TEXT, Incoming, Reply
from bot.conversation.notify import reply_to_json
from bot.settings import Settings
from bot.storage import notifications, teams_conversations
from bot.storage import staff as staff_repo

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.conversation.notify import Notifier
    from bot.desk.outbox import Handler as OutboxHandler
    from bot.desk.service import Desk
    from bot.desk.tickets import Ticket
    from bot.storage import Database
    from bot.storage.models import Staff

log = logging.getLogger(__name__)

CHANNEL = "teams"
#: the Bot Connector's activities are small; anything bigger is refused unread
MAX_BODY_BYTES = 256 * 1024
#: activity ids remembered to drop the Bot Connector's redeliveries of a handled activity
_SEEN = 5000
#: the conversation thread of a personal chat (one per person, like Slack's DM)
PERSONAL_THREAD = "dm"


class TurnHandler(Protocol):
    """The conversation engine, as far as Teams needs it."""

    async def handle(self, incoming: Incoming) -> list[Reply]: ...


class TeamsChannel:
    """The Teams adapter. Build it with the settings; run it inside :meth:`running`."""

    def __init__(self, settings: Settings) -> None:
        assert settings.teams_app_id
        self.settings = settings
        self.guard: TokenGuard | None = None
        self.connector: Connector | None = None
        self.identity: IdentityResolver | None = None
        self.renderer: TeamsRenderer | None = None
        self.engine: TurnHandler | None = None
        self.db: Database | None = None
        self.triage: TeamsTriage | None = None
        self.actions: TriageActions | None = None
        self._seen: OrderedDict[str, None] = OrderedDict()

    @contextlib.asynccontextmanager
    async def running(
        self,
        *,
        db: Database,
        engine: TurnHandler,
        templates: Environment,
        notifier: Notifier | None = None,
        desk: Desk | None = None,
    ) -> AsyncIterator[None]:
        """Open the HTTP client session and wire the parts; register the news pusher. With
        ``desk`` and a triage channel configured, :meth:`outbox_handlers` posts its cards."""
        app_id = self.settings.teams_app_id
        assert app_id
        async with aiohttp.ClientSession() as session:
            self.guard = TokenGuard(
                session, openid_url=self.settings.teams_openid_url, app_id=app_id
            )
            self.connector = Connector(session, self.settings)
            self.identity = IdentityResolver(self.settings, db, self.connector)
            self.renderer = TeamsRenderer(templates, self.settings)
            self.engine = engine
            self.db = db
            if desk is not None and self.settings.teams_triage_enabled:
                self.triage = TeamsTriage(
                    settings=self.settings, desk=desk, connector=self.connector, env=templates
                )
                self.actions = TriageActions(settings=self.settings, db=db, desk=desk)
            if notifier is not None:
                notifier.register_pusher(CHANNEL, self.push)
            try:
                yield
            finally:
                if notifier is not None:
                    notifier.pushers.pop(CHANNEL, None)
                self.guard = self.connector = self.identity = self.renderer = None
                self.engine = self.db = None
                self.triage = self.actions = None

    def outbox_handlers(self) -> dict[str, dict[str, OutboxHandler]]:
        """The desk events Teams delivers while running, by destination (the triage
        channel's cards)."""
        if self.triage is None:
            return {}
        return {TRIAGE_DESTINATION: self.triage.handlers()}

    # -- the messaging endpoint ----------------------------------------------------------

    async def handle_http(self, request: web.Request) -> web.Response:
        """``POST /api/messages``: 401 unless the bearer token proves the Bot Connector."""
        if self.guard is None:
            return web.json_response({"error": "not ready"}, status=503)
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return _refuse(413, "body too large", request)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _refuse(413, "body too large", request)
        if len(body) > MAX_BODY_BYTES:
            return _refuse(413, "body too large", request)
        try:
            activity = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            activity = None
        service_url = activity.get("serviceUrl") if isinstance(activity, dict) else None
        try:
            await self.guard.check(
                request.headers.get("Authorization"),
                service_url if isinstance(service_url, str) else "",
            )
        except Refused as exc:
            return _refuse(401, str(exc), request)
        assert isinstance(activity, dict) and isinstance(service_url, str)
        if not allowed(service_url, self.settings.teams_service_hosts):
            return _refuse(400, "serviceUrl host is not on the allow-list", request)
        where = _where(activity, service_url)
        if where is None:
            return _refuse(400, "not shaped as a Teams activity", request)
        kind = activity.get("type")
        if kind == "invoke":
            return await self._invoke(activity, where)
        if kind != "message":
            return web.Response(status=200)  # conversationUpdate, typing, reactions: nothing to do
        if self._repeat(activity, where):
            return web.Response(status=200)
        try:
            await self._message(activity, where)
        except DeliveryError as exc:
            self._forget(activity, where)
            log.warning(
                "teams: the Bot Connector failed (%s); it will send the activity again", exc
            )
            return web.json_response({"error": "try again"}, status=503)
        except BaseException:
            self._forget(activity, where)  # the Bot Connector's redelivery is handled afresh
            raise
        return web.Response(status=200)

    async def _message(self, activity: dict[str, Any], where: Where) -> None:
        started = time.perf_counter()
        assert self.identity is not None and self.renderer is not None
        person = await self.identity.resolve(where)
        reply_to = str(activity.get("id") or "")
        if not person.ok:
            await self._deliver(where, self.renderer.text(self._refusal(person)), reply_to)
            return
        if self.triage is not None and self.triage.is_triage(where.conversation_id):
            said = await self._triage(activity, where, person)
            if said is not None:
                if said:
                    await self._deliver(where, self.renderer.text(said), reply_to)
                return
        press = pressed(activity.get("value"))
        text = _text(activity) if press is None else ""
        if press is None and not text:
            return  # an empty message (an image, a card we didn't send): nothing to answer
        replies = await self._turn(where, person, text=text, press=press[0] if press else None)
        if any(reply.private for reply in replies):
            # never posted, not even in a personal chat: the chat keeps its history
            log.warning("teams: a private reply with no dialog to show it in")
            replies = [Reply(teams_wording.NOT_SHOWN) if r.private else r for r in replies]
        if replies:
            activity_out = self.renderer.activity(replies, forms=where.personal)
            await self._deliver(where, activity_out, reply_to, person=person, replies=replies)
        log.info(
            "teams turn user=%s personal=%s press=%s replies=%d ms=%.1f",
            where.user_id[:40],
            where.personal,
            bool(press),
            len(replies),
            (time.perf_counter() - started) * 1000,
        )

    async def _triage(
        self, activity: dict[str, Any], where: Where, person: TeamsPerson
    ) -> str | None:
        """A press on a triage card or a reply in a ticket's thread: what to say in the
        thread; ``None`` when it is neither (answered like any other message)."""
        assert self.actions is not None
        value = press_of(activity.get("value"))
        if value is not None:
            return await self.actions.press(value, person)
        text = _text(activity)
        if not text:
            return None
        activity_id = str(activity.get("id") or "")
        return await self.actions.reply(where.conversation_id, activity_id, text, person)

    async def _invoke(self, activity: dict[str, Any], where: Where) -> web.Response:
        """The code dialog: ``task/fetch`` opens it, ``task/submit`` checks the code."""
        assert self.identity is not None and self.renderer is not None
        name = activity.get("name")
        value = activity.get("value")
        data = value.get("data") if isinstance(value, dict) else None
        state = codeform.state_of(data)
        if name not in ("task/fetch", "task/submit") or state is None or not where.personal:
            return web.json_response({"error": "unknown invoke"}, status=400)
        person = await self.identity.resolve(where)
        if not person.ok:
            return codeform.message(self._refusal(person))
        if name == "task/fetch":
            return codeform.dialog(self.renderer, state)
        assert isinstance(data, dict)
        code = codeform.code_of(data)
        if code is None:
            return codeform.dialog(self.renderer, state, message=teams_wording.CODE_DIGITS)
        flow, _, verb = state.partition(":")
        form = SubmitForm.of(flow, verb, {codeform.FIELD: code})
        replies = await self._turn(where, person, text="", press=form)
        shown = codeform.answer(self.renderer, state, replies)
        chat = [Reply(teams_wording.SHOWN_IN_WINDOW) if r.private else r for r in replies]
        asking_again = any(r.form for r in replies)
        if chat and not asking_again:
            with contextlib.suppress(DeliveryError):  # kept for the next turn when it fails
                out = self.renderer.activity(chat, forms=True)
                await self._deliver(where, out, "", person=person, replies=chat)
        return shown

    async def _turn(
        self, where: Where, person: TeamsPerson, *, text: str, press: Any
    ) -> list[Reply]:
        assert self.engine is not None and person.email is not None
        incoming = Incoming(
            channel=CHANNEL,
            email=person.email,
            text=text,
            thread=_thread(where),
            press=press,
            display_name=person.display_name,
            # the Bot Connector's signed token + the tenant directory's member lookup
            proven=True,
            forms=where.personal,  # the code dialog (a task module), in a personal chat
            personal=where.personal,
        )
        return await self.engine.handle(incoming)

    async def _deliver(
        self,
        where: Where,
        activity: dict[str, Any],
        reply_to: str,
        *,
        person: TeamsPerson | None = None,
        replies: Sequence[Reply] = (),
    ) -> None:
        """Send; if the Bot Connector still fails after its retries, keep the replies for
        the person's next turn (a refusal, with no person, is just logged)."""
        assert self.connector is not None
        try:
            await self.connector.send(
                where.service_url, where.conversation_id, activity, reply_to=reply_to
            )
        except DeliveryError as exc:
            if person is None or person.email is None or not replies or self.db is None:
                raise
            log.warning("teams: a reply could not be sent (%s); kept for the next turn", exc)
            source = hashlib.sha256(json.dumps(activity, sort_keys=True).encode()).hexdigest()
            async with self.db.session() as session, session.begin():
                staff = await staff_repo.get_by_email(session, person.email)
                if staff is None:
                    raise
                for index, reply in enumerate(replies):
                    await notifications.keep(
                        session,
                        staff_id=staff.id,
                        channel=CHANNEL,
                        thread=_thread(where),
                        reply=reply_to_json(reply),
                        source_key=f"teams:{source[:40]}:{index}",
                    )

    # -- news: the requester notifier's pusher ------------------------------------------

    async def push(
        self,
        session: AsyncSession,
        staff: Staff,
        ticket: Ticket | None,
        replies: Sequence[Reply],
        *,
        key: str,
        retry: bool,
    ) -> bool:
        """Ticket news in the person's personal chat; ``False`` when they have none.

        A failure raises (the outbox tries again later). The Bot Connector has no way to
        look for an earlier attempt's message, so a retry after a lost answer may repeat it.
        """
        if self.connector is None or self.renderer is None:
            return False
        row = await teams_conversations.by_staff(session, staff.id)
        if row is None or not row.conversation_id:
            return False
        shown = [r for r in replies if not r.private]  # never pushed into a chat's history
        if not shown:
            return False
        activity = self.renderer.activity(shown)
        await self.connector.send(row.service_url, row.conversation_id, activity)
        log.info("teams: pushed %s to staff=%d (retry=%s)", key, staff.id, retry)
        return True

    # -- helpers -------------------------------------------------------------------------

    def _refusal(self, person: TeamsPerson) -> str:
        names = " and ".join(c.name for c in self.settings.councils)
        template = teams_wording.NO_EMAIL if person.problem == "no_email" else teams_wording.OUTSIDE
        return template.format(
            councils=names,
            desk=self.settings.desk_name,
            contact=wording.contact(self.settings, None),
        )

    def _repeat(self, activity: dict[str, Any], where: Where) -> bool:
        """Whether this activity was handled already (the Bot Connector redelivers)."""
        key = f"{where.conversation_id}|{activity.get('id') or ''}"
        if not activity.get("id"):
            return False
        if key in self._seen:
            return True
        self._seen[key] = None
        while len(self._seen) > _SEEN:
            self._seen.popitem(last=False)
        return False

    def _forget(self, activity: dict[str, Any], where: Where) -> None:
        self._seen.pop(f"{where.conversation_id}|{activity.get('id') or ''}", None)


def _where(activity: dict[str, Any], service_url: str) -> Where | None:
    sender = activity.get("from")
    conversation = activity.get("conversation")
    if not isinstance(sender, dict) or not isinstance(conversation, dict):
        return None
    user_id, conversation_id = sender.get("id"), conversation.get("id")
    if not isinstance(user_id, str) or not isinstance(conversation_id, str):
        return None
    if not user_id or not conversation_id or len(user_id) > 200 or len(conversation_id) > 300:
        return None
    channel_data = activity.get("channelData")
    tenant = conversation.get("tenantId")
    if not tenant and isinstance(channel_data, dict):
        tenant = (channel_data.get("tenant") or {}).get("id")
    return Where(
        user_id=user_id,
        aad_object_id=str(sender.get("aadObjectId") or "")[:64],
        tenant_id=str(tenant or "")[:64],
        service_url=service_url,
        conversation_id=conversation_id,
        personal=conversation.get("conversationType", "personal") == "personal",
    )


def _thread(where: Where) -> str:
    """The engine's thread: one for the personal chat, one per channel or group chat."""
    if where.personal:
        return PERSONAL_THREAD
    return "teams:" + hashlib.sha256(where.conversation_id.encode()).hexdigest()[:32]


def _text(activity: dict[str, Any]) -> str:
    """What the person typed, without the bot's @mention (in channels and group chats)."""
    text = activity.get("text")
    if not isinstance(text, str):
        return ""
    for entity in activity.get("entities") or []:
        if isinstance(entity, dict) and entity.get("type") == "mention":
            mentioned = entity.get("text")
            if isinstance(mentioned, str) and mentioned:
                text = text.replace(mentioned, " ")
    return " ".join(text.split())[:MAX_TEXT]


def _refuse(status: int, reason: str, request: web.Request) -> web.Response:
    log.warning("teams: refused %d from %s: %s", status, request.remote, reason)
    return web.json_response({"error": "invalid request"}, status=status)
