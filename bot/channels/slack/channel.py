"""The Slack channel's moving parts and their lifetime.

``SlackChannel`` owns the bolt app (built at once, so the route can be mounted) and, while
:meth:`SlackChannel.running`, the Web API client, the inbox, the worker and — with
``SLACK_APP_TOKEN`` — the Socket Mode connection. HTTP and Socket Mode requests go to the
same bolt app and so to the same listeners.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

import aiohttp
from aiohttp import web
from jinja2 import Environment
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

from bot.channels.slack import codeform, guard
from bot.channels.slack import triage as triage_channel
from bot.channels.slack.app import build_bolt_app
from bot.channels.slack.approvals import ApprovalMessages
from bot.channels.slack.authorize import BotAuthorization
from bot.channels.slack.client import quiet_sdk_loggers, web_client
from bot.channels.slack.codeform import CodeForms
from bot.channels.slack.controls import AgentActions
from bot.channels.slack.deliver import Deliverer
from bot.channels.slack.fastpath import FastPath
from bot.channels.slack.forms import TicketForms
from bot.channels.slack.held import Held
from bot.channels.slack.identity import IdentityResolver
from bot.channels.slack.inbox import Inbox
from bot.channels.slack.jobs import Job
from bot.channels.slack.outages import OutageAlerts
from bot.channels.slack.process import CHANNEL, Processor, TurnHandler
from bot.channels.slack.render import SlackRenderer
from bot.channels.slack.requester import RequesterNotifier
from bot.channels.slack.triage import Triage
from bot.channels.slack.worker import Worker
from bot.settings import Settings
from bot.web.peer import client_address

if TYPE_CHECKING:
    from bot.conversation.notify import Notifier
    from bot.desk.outbox import Handler as OutboxHandler
    from bot.desk.service import Desk
    from bot.storage import Database

log = logging.getLogger(__name__)


class SocketMode(Protocol):
    """The part of bolt's ``AsyncSocketModeHandler`` we use (bolt leaves it untyped)."""

    async def connect_async(self) -> None: ...

    async def close_async(self) -> None: ...


class SlackChannel:
    """The Slack adapter. Build it with the settings; run it inside :meth:`running`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        token = settings.slack_bot_token.reveal() if settings.slack_bot_token else None
        #: who the bot is, from signed requests: the ack never calls Slack's Web API
        self.authorization = BotAuthorization(token)
        self.bolt = build_bolt_app(settings, self, self.authorization)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.inbox: Inbox | None = None
        self.worker: Worker | None = None
        self.client: Any = None
        self.triage: Triage | None = None
        self.approvals: ApprovalMessages | None = None
        self.outages: OutageAlerts | None = None
        self.actions: AgentActions | None = None
        self.forms: TicketForms | None = None
        self.code_forms: CodeForms | None = None
        #: codes and typed secrets between the ack and the worker: never in the inbox
        self.held = Held()
        quiet_sdk_loggers()
        secret = settings.slack_signing_secret
        self.fast_path = FastPath(secret.reveal(), self, self.authorization) if secret else None
        self._secret = secret.reveal().encode() if secret else b""

    async def record(self, key: str, job: Job) -> bool:
        """The listeners' recorder: into the inbox, then wake this replica's worker."""
        if self.inbox is None:
            raise RuntimeError("the Slack channel is not running")
        job = self.held.hold(job)
        try:
            new = await self.inbox.record(key, job)
        except BaseException:
            self.held.forget(job)
            raise
        if not new:
            self.held.forget(job)
        elif self.worker is not None:
            self.worker.wake()
        return new

    async def open_ticket_form(self, trigger_id: str, *, text: str = "") -> bool:
        """The listeners' way to open the ticket form (``views.open``) before their ack."""
        return self.forms is not None and await self.forms.open(trigger_id, text=text)

    async def open_code_form(self, trigger_id: str, *, state: str, thread: str) -> bool:
        """The listeners' way to open the code form (``views.open``) before their ack."""
        return self.code_forms is not None and await self.code_forms.open(
            trigger_id, state=state, thread=thread
        )

    def code_form_checking(self, job: Job) -> dict[str, Any] | None:
        """What a submitted code form shows until the worker has the answer."""
        if self.code_forms is None:
            return None
        form = codeform.form_of(job)
        state = form.state if form is not None else ""
        return dict(self.code_forms.view(state, job.thread, checking=True))

    async def handle_http(self, request: web.Request) -> web.Response:
        """``POST /slack/events``: the fast path for DMs (see ``fastpath``), bolt for the rest.

        The signature is checked on the raw body before anything parses it (see
        :mod:`~bot.channels.slack.guard`): 401 if forged or stale, 400 if signed but not
        shaped as Slack sends, 413 if too large.
        """
        if request.content_length is not None and request.content_length > guard.MAX_BODY_BYTES:
            guard.refuse(413, "body too large", client_address(request))
            return web.json_response({"error": "request too large"}, status=413)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            guard.refuse(413, "body too large", client_address(request))
            return web.json_response({"error": "request too large"}, status=413)
        refused = guard.verdict(body, request.headers, self._secret)
        if refused is not None:
            status, reason = refused
            guard.refuse(status, reason, client_address(request))
            return web.json_response({"error": "invalid request"}, status=status)
        if self.fast_path is not None:
            fast = await self.fast_path(request)
            if fast is not None:
                return fast
        response = await self.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    @contextlib.asynccontextmanager
    async def running(
        self,
        *,
        db: Database,
        engine: TurnHandler,
        templates: Environment,
        knowledge: Callable[[], Any] = lambda: None,
        worker: bool = True,
        desk: Desk | None = None,
        notifier: Notifier | None = None,
    ) -> AsyncIterator[None]:
        """Open the client session, the inbox, the worker and Socket Mode; close them after.

        With ``desk``, agents' triage (see :mod:`~bot.channels.slack.triage`) is on and
        :meth:`outbox_handlers` delivers its outbox rows; with ``notifier``, requesters
        who use Slack get their ticket news in a DM.
        """
        async with aiohttp.ClientSession() as session:
            client = web_client(self.settings, session)
            self.client = client
            inbox = Inbox(db, worker_id=self.worker_id)
            await inbox.start()
            self.inbox = inbox
            identity = IdentityResolver(self.settings, db, client)
            renderer = SlackRenderer(templates, self.settings, knowledge)
            deliverer = Deliverer(client, session, self.settings)
            self.forms = TicketForms(client, renderer, self.settings)
            self.code_forms = CodeForms(client, renderer)
            if desk is not None:
                self.triage = Triage(
                    settings=self.settings, desk=desk, client=client, env=templates
                )
                self.approvals = ApprovalMessages(
                    settings=self.settings, desk=desk, client=client, env=templates
                )
                self.outages = OutageAlerts(settings=self.settings, desk=desk, client=client)
                self.actions = AgentActions(
                    settings=self.settings,
                    db=db,
                    desk=desk,
                    client=client,
                    identity=identity,
                    renderer=renderer,
                )
            if notifier is not None:
                notifier.register_pusher(
                    CHANNEL, RequesterNotifier(renderer, client, deliverer.dm_channel)
                )
            if worker:
                processor = Processor(
                    settings=self.settings,
                    db=db,
                    inbox=inbox,
                    engine=engine,
                    identity=identity,
                    renderer=renderer,
                    deliverer=deliverer,
                    knowledge=knowledge,
                    actions=self.actions,
                    held=self.held,
                    code_forms=self.code_forms,
                )
                self.worker = Worker(inbox, processor, concurrency=4 if db.is_sqlite else 8)
                await self.worker.start()
            stop_sync = asyncio.Event()
            sync_task: asyncio.Task[None] | None = None
            if worker and self.actions is not None and self.settings.slack_agent_group:
                sync_task = asyncio.create_task(
                    self.actions.agents.keep_in_sync(db, stop_sync), name="slack-agent-group"
                )
            socket_task: asyncio.Task[None] | None = None
            handler: SocketMode | None = None
            if self.settings.slack_app_token is not None:
                handler = _socket_mode_handler(self, client)
                socket_task = asyncio.create_task(_connect(handler), name="slack-socket-mode")
            try:
                yield
            finally:
                stop_sync.set()
                if sync_task is not None:
                    await sync_task
                if socket_task is not None and handler is not None:
                    socket_task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await socket_task
                    await handler.close_async()
                if self.worker is not None:
                    await self.worker.stop()
                    self.worker = None
                await inbox.stop()
                self.inbox = None
                self.client = None
                self.forms = None
                self.code_forms = None
                self.triage = None
                self.approvals = None
                self.outages = None
                self.actions = None
                if notifier is not None:
                    notifier.pushers.pop(CHANNEL, None)

    def outbox_handlers(self) -> dict[str, dict[str, OutboxHandler]]:
        """The desk events Slack delivers while running, by destination (the triage channel:
        tickets and approval requests)."""
        if self.triage is None:
            return {}
        handlers = self.triage.handlers()
        if self.approvals is not None:
            handlers |= self.approvals.handlers()
        if self.outages is not None:
            handlers |= self.outages.handlers()
        return {triage_channel.DESTINATION: handlers}


def _socket_mode_handler(channel: SlackChannel, client: Any) -> SocketMode:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    assert channel.settings.slack_app_token is not None
    handler = AsyncSocketModeHandler(
        channel.bolt, app_token=channel.settings.slack_app_token.reveal(), web_client=client
    )
    return cast(SocketMode, handler)


async def _connect(handler: SocketMode) -> None:
    """Connect Socket Mode, retrying with backoff while Slack can't be reached."""
    delay = 1.0
    while True:
        try:
            await handler.connect_async()
        except Exception as exc:
            log.warning("Slack Socket Mode: could not connect (%s); retrying", type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)
        else:
            log.info("Slack Socket Mode connected")
            return
