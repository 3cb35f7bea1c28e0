"""``/metrics``: the bot's figures in Prometheus' text format, and the request counter.

Served on the bot's own address by default (as most exporters are); with
``ITBOT_METRICS_TOKEN`` it answers only ``Authorization: Bearer <token>``, and with
``ITBOT_METRICS_ADDRESS`` it moves to a listener of its own (see :func:`serve_apart`),
leaving the bot's address without it. The backlog gauges are read from the database at
each scrape (repository functions, no SQL here).
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from bot.desk import outbox
from bot.metrics import CONTENT_TYPE
from bot.storage import notifications
from bot.web import keys

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PATH = "/metrics"


def _route(request: web.Request) -> str:
    """The route's pattern (``/kb/{article_id}``), never the raw path: bounded labels."""
    info = request.match_info
    if info.http_exception is not None:
        return "unmatched"
    resource = info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count every request and time it, by method, route pattern and status."""
    services = request.app.get(keys.SERVICES)
    if services is None:  # not started yet (or a listener without services)
        return await handler(request)
    started = time.perf_counter()
    status = 500
    services.metrics.started()
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        services.metrics.finished()
        method = request.method if request.method in _METHODS else "other"
        services.metrics.request(method, _route(request), status, time.perf_counter() - started)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _authorised(request: web.Request, token: str) -> bool:
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        value.strip().encode("utf-8", "replace"), token.encode()
    )


def page(services_app: web.Application) -> Handler:
    """The handler, reading the services of ``services_app`` (the bot's own app)."""

    async def metrics(request: web.Request) -> web.Response:
        settings = services_app[keys.SETTINGS]
        token = settings.metrics_token
        if token is not None and not _authorised(request, token.reveal()):
            return web.Response(
                status=401,
                text="A bearer token is needed.\n",
                headers={"WWW-Authenticate": 'Bearer realm="itbot metrics"'},
            )
        services = services_app[keys.SERVICES]
        async with services.db.session() as session:
            waiting = await outbox.backlog(session)
            kept = await notifications.kept_count(session)
        services.metrics.set_backlog(waiting, kept)
        response = web.Response(body=services.metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE
        return response

    return metrics


def register(app: web.Application) -> None:
    """``/metrics`` on the bot's address, or on its own listener when one is set."""
    settings = app[keys.SETTINGS]
    if settings.metrics_address is None:
        app.router.add_get(PATH, page(app))
        return
    app.cleanup_ctx.append(serve_apart)


async def serve_apart(app: web.Application) -> AsyncIterator[None]:
    """A listener of its own at ``ITBOT_METRICS_ADDRESS`` that serves only ``/metrics``."""
    host, port = app[keys.SETTINGS].metrics_address or ("127.0.0.1", 0)
    apart = web.Application()
    apart.router.add_get(PATH, page(app))
    runner = web.AppRunner(apart, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("metrics on http://%s:%d%s", host, port, PATH)
    try:
        yield
    finally:
        await runner.cleanup()
