"""The application factory: settings in, a wired aiohttp application out.

Nothing is created at import time; :func:`create_app` builds the app and its
``cleanup_ctx`` opens the database (applying migrations), loads the knowledge
base and the intent detector, and watches the articles for changes.

>>> app = create_app(Settings.from_environ({}))  # doctest: +SKIP
>>> web.run_app(app, host="127.0.0.1", port=8080)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path

from aiohttp import web

from bot.access.directories import open_directory
from bot.access.senders import open_sender
from bot.access.service import NOTICE_DESTINATION, Access
from bot.channels import email as email_channel
from bot.channels import slack as slack_channel
from bot.channels import teams as teams_channel
from bot.channels import web as web_channel
from bot.channels.slack import approvals as slack_approvals
from bot.channels.slack import outages as slack_outages
from bot.channels.slack import triage as slack_triage
from bot.channels.teams import triage as teams_triage
from bot.conversation import notify
from bot.conversation.engine import ConversationEngine
from bot.desk import agents, outages
from bot.desk.events import Events
from bot.desk.hours import calendar_for
from bot.desk.mirror import DESTINATION as MIRROR_DESTINATION
from bot.desk.mirror import Mirror, build_connector
from bot.desk.mirror import subscribe as mirror_subscribe
from bot.desk.outbox import Handler as OutboxHandler
from bot.desk.outbox import OutboxWorker
from bot.desk.service import Desk
from bot.desk.sla import SlaPolicy
from bot.desk.watch import watch_sla
from bot.flows import approved, default_registry
from bot.privacy.retention import watch_retention
from bot.render import build_environment
from bot.services import KnowledgeService, Services
from bot.settings import Settings
from bot.storage import Database
from bot.web import articles, health, keys, webhooks
from bot.web import desk as desk_dashboard
from bot.web import metrics as metrics_page
from bot.web.session import CookieSigner, load_or_create_key
from integrations.identity.demo import DemoDirectory
from intents import IntentDetector
from knowledge import Progress
from knowledge.fuzzy import is_english

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
KEY_FILE = Path(".itbot-secret-key")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: how long a shutdown waits for requests in flight to finish
REQUEST_GRACE_SECONDS = 30.0
#: how long a shutdown waits for the outbox delivery in progress before cancelling it
OUTBOX_GRACE_SECONDS = 10.0

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    knowledge: KnowledgeService | None = None,
    detector: IntentDetector | None = None,
    progress: Progress | None = None,
) -> AsyncIterator[Services]:
    """Open the database (migrated), the knowledge base and the intent detector.

    ``knowledge`` and ``detector`` replace the ones the settings would load (tests pass
    small ones in); the database is always the settings' own. ``progress`` is told how
    far encoding the articles has got (see :meth:`KnowledgeService.load`).
    """
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        await _flag_agents(db, settings)
        if knowledge is None:
            knowledge = await KnowledgeService.load(settings, progress)
        log.info(
            "knowledge base: %d articles from %s", len(knowledge.kb.articles()), knowledge.root
        )
        log.info("%s", knowledge.kb.semantic_status)
        for problem in knowledge.kb.problems:
            log.warning("knowledge problem: %s", problem)
        if detector is None:
            # the knowledge base's sentence encoder, when it has one, reads intents too:
            # better on typos and unfamiliar phrasings, and a message is encoded once for both
            encoder = knowledge.kb.query_encoder()
            if encoder is not None:
                log.info("intents: reading the examples with sentence embeddings (cached)")
            detector = await asyncio.to_thread(
                functools.partial(
                    IntentDetector.load,
                    None,
                    encoder=encoder,
                    ticket_prefix=settings.ticket_prefix,
                    # English words are never "mended" into an example's word
                    is_word=is_english,
                )
            )
        log.info("intents: sentence embeddings %s", "on" if detector.uses_embeddings else "off")
        access = await open_access(settings, db)
        try:
            yield Services(
                settings=settings,
                db=db,
                knowledge=knowledge,
                detector=detector,
                access=access,
                desk=build_desk(settings),
                notifier=notify.Notifier(settings),
            )
        finally:
            await access.aclose()
    finally:
        await db.dispose()


async def open_access(settings: Settings, db: Database) -> Access:
    """The directory people's accounts are in and the sender codes go by (the demo directory
    is seeded with its invented people on first start)."""
    directory = open_directory(settings, db.engine)
    if isinstance(directory, DemoDirectory):
        added = await directory.seed()
        log.warning(
            "directory: the DEMO directory in the bot's database (invented people%s); set "
            "ITBOT_DIRECTORY for your councils' own",
            f", {added} added" if added else "",
        )
    sender = open_sender(settings)
    log.info("directory: %s; codes and notices sent by: %s", directory.name, sender.name)
    return Access(settings, directory, sender)


async def _flag_agents(db: Database, settings: Settings) -> None:
    """Staff listed in ``ITBOT_DESK_AGENTS`` are agents (on the dashboard's lists too);
    agents who came from that list and are no longer on it stop being agents."""

    def council_for(email: str) -> str | None:
        council = settings.council_for_email(email)
        return council.key if council is not None else None

    async with db.session() as session, session.begin():
        await agents.sync_listed(session, settings.desk_agents, council_for)


def build_events(settings: Settings) -> Events:
    """Who listens to the desk's events: decided by the settings alone, so the server, the
    CLI and tests write the same outbox rows for the same change."""
    events = Events()
    notify.subscribe(events)
    approved.subscribe(events)
    slack_triage.subscribe(events, settings)
    teams_triage.subscribe(events, settings)
    slack_approvals.subscribe(events, settings)
    slack_outages.subscribe(events, settings)
    outages.subscribe(events)
    mirror_subscribe(events, settings)
    return events


def build_desk(settings: Settings) -> Desk:
    return Desk(
        policy=SlaPolicy.default(calendar_for(settings)),
        prefix=settings.ticket_prefix,
        listeners=build_events(settings),
        approval_hours=settings.approval_hours,
        spike_reports=settings.spike_reports,
        spike_minutes=settings.spike_minutes,
    )


def build_outbox(
    services: Services,
    mirror: Mirror | None = None,
    extra: Mapping[str, Mapping[str, OutboxHandler]] | None = None,
) -> OutboxWorker:
    """The outbox worker with every destination's handlers that this process runs.

    ``extra`` holds the channels' own, by destination (Slack: the triage channel). A row
    with no handler is marked skipped, so channels must be running before the worker starts.
    """
    worker = OutboxWorker(services.db, per_destination=services.settings.outbox_per_destination)
    worker.register(notify.DESTINATION, services.notifier.handlers())
    worker.register(approved.DESTINATION, approved.ApprovedChanges(services).handlers())
    worker.register(NOTICE_DESTINATION, services.access.handlers())
    worker.register(outages.DESTINATION, outages.OutageWatch(services.desk).handlers())
    if mirror is not None:
        worker.register(MIRROR_DESTINATION, mirror.handlers())
    for destination, handlers in (extra or {}).items():
        worker.register(destination, handlers)
    return worker


def build_engine(
    services: Services, clock: Callable[[], datetime] | None = None
) -> ConversationEngine:
    if clock is None:
        return ConversationEngine(services, default_registry())
    return ConversationEngine(services, default_registry(), clock=clock)


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers everywhere, same-origin writes, and no stack trace ever shown."""
    if request.method == "POST" and request.path.startswith("/api/"):
        origin = request.headers.get("Origin")
        if origin and origin.split("://", 1)[-1] != request.host:
            raise web.HTTPForbidden(text="Cross-site requests are not allowed.")
    try:
        response = await handler(request)
    except web.HTTPException:
        raise
    except UnicodeDecodeError:  # a form body that isn't UTF-8 (aiohttp's request.post())
        log.warning("refused %s %s: the body is not UTF-8", request.method, request.path)
        response = web.json_response({"error": "Send the form as UTF-8 text."}, status=400)
    except Exception:
        log.exception("request failed %s %s", request.method, request.path)
        response = web.json_response(
            {"error": "Sorry, something went wrong on our side. Please try again."}, status=500
        )
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


async def drain(app: web.Application) -> None:
    """The first part of a graceful shutdown (``itbot serve`` on SIGTERM), before the port
    closes: ``/readyz`` answers 503, requests in flight (turns) finish, within
    :data:`REQUEST_GRACE_SECONDS`, and the background work stops, the outbox giving back the
    rows it claimed."""
    app[keys.DRAINING].set()
    services = app.get(keys.SERVICES)
    if services is not None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(REQUEST_GRACE_SECONDS):
                await services.metrics.idle.wait()
    for step in app[keys.STOPPING]:
        await step()


def create_app(
    settings: Settings,
    *,
    services: Services | None = None,
    watch_knowledge: bool = True,
    clock: Callable[[], datetime] | None = None,
    progress: Progress | None = None,
) -> web.Application:
    """Build the web application: chat at ``/``, articles at ``/kb/<id>``, health checks.

    With ``services`` (opened by the caller with :func:`open_services`, and closed by it)
    the app uses them instead of opening its own. ``clock`` is the conversation's "now"
    (a test's clock that it moves; the real time otherwise); ``progress`` follows the
    encoding of the articles while the app starts.
    """
    app = web.Application(
        middlewares=[metrics_page.count_requests, _guard], client_max_size=1024 * 1024
    )
    app[keys.SETTINGS] = settings
    app[keys.TEMPLATES] = build_environment()
    key = (
        settings.secret_key.reveal().encode()
        if settings.secret_key
        else load_or_create_key(KEY_FILE)
    )
    app[keys.SIGNER] = CookieSigner(key)
    app[keys.DRAINING] = asyncio.Event()
    app[keys.STOPPING] = []

    async def services_ctx(app: web.Application) -> AsyncIterator[None]:
        if services is not None:
            app[keys.SERVICES] = services
            app[keys.ENGINE] = build_engine(services, clock)
            yield
            return
        async with open_services(settings, progress=progress) as opened:
            app[keys.SERVICES] = opened
            app[keys.ENGINE] = build_engine(opened, clock)
            yield

    async def watch_ctx(app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(app[keys.SERVICES].knowledge.watch(stop))
        yield
        stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def outbox_ctx(app: web.Application) -> AsyncIterator[None]:
        running = app[keys.SERVICES]
        connector = build_connector(settings)
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        mirror = None
        if connector is not None:
            mirror = Mirror(connector, running.desk, running.db)
            app[webhooks.MIRROR] = mirror
            poll = mirror.poll(stop, every=settings.servicedesk_poll_seconds)
            tasks.append(asyncio.create_task(poll))
        slack = app.get(slack_channel.SLACK)
        teams = app.get(teams_channel.TEAMS)
        extra = slack.outbox_handlers() if slack is not None else {}
        if teams is not None:
            extra |= teams.outbox_handlers()
        worker = build_outbox(running, mirror, extra)
        # a change that wrote outbox rows wakes the worker at its commit: delivered now,
        # not at the worker's next look
        forget_wake = running.desk.listeners.on_committed(worker.wake.set)
        tasks.append(asyncio.create_task(worker.run(stop)))
        tasks.append(
            asyncio.create_task(
                watch_sla(
                    running.db,
                    running.desk,
                    stop,
                    on_alert=worker.wake.set,
                    count=running.metrics.sla_alert,
                )
            )
        )

        async def stop_outbox() -> None:
            # the row being delivered finishes (within the grace); the rest are given back
            if stop.is_set():
                return  # stopped already (by the graceful shutdown)
            stop.set()
            forget_wake()
            if tasks:
                _, late = await asyncio.wait(tasks, timeout=OUTBOX_GRACE_SECONDS)
                for task in late:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            await worker.release()

        app[keys.STOPPING].append(stop_outbox)  # graceful shutdown: before the port closes
        yield
        await stop_outbox()
        if connector is not None:
            await connector.aclose()

    async def retention_ctx(app: web.Application) -> AsyncIterator[None]:
        # the retention purge (UK GDPR): every replica may run it, each step skips what
        # another already purged
        stop = asyncio.Event()
        task = asyncio.create_task(
            watch_retention(
                app[keys.SERVICES].db,
                stop,
                days=settings.retention_days,
                every=settings.purge_every_seconds,
            )
        )
        yield
        stop.set()
        await asyncio.gather(task, return_exceptions=True)

    app.cleanup_ctx.append(services_ctx)
    if watch_knowledge:
        app.cleanup_ctx.append(watch_ctx)
    web_channel.register(app)
    if settings.slack_enabled:  # /slack/events (HTTP mode), Socket Mode, the inbox worker
        slack_channel.register(app)
    if settings.email_enabled:  # the desk's mailbox: read over IMAP, replies by SMTP
        email_channel.register(app)
    if settings.teams_enabled:  # POST /api/messages, guarded by the Bot Connector's token
        teams_channel.register(app)
    # after the channels: the outbox worker starts with every channel's handlers in place
    app.cleanup_ctx.append(outbox_ctx)
    app.cleanup_ctx.append(retention_ctx)
    articles.register(app)
    health.register(app)
    metrics_page.register(app)  # /metrics, or its own listener (ITBOT_METRICS_ADDRESS)
    webhooks.register(app)
    desk_dashboard.register(app)  # /desk: the agents' dashboard
    app.router.add_static("/static", STATIC, append_version=False)
    return app
