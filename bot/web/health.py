"""``/healthz`` (the process is up) and ``/readyz`` (database and knowledge base are usable)."""

from __future__ import annotations

from aiohttp import web

from bot.web import keys


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    if request.app[keys.DRAINING].is_set():  # shutting down: finishing what is in flight
        return web.json_response({"status": "draining"}, status=503)
    services = request.app[keys.SERVICES]
    database = await services.db.ping()
    articles = len(services.knowledge.kb.articles())
    ready = database and articles > 0
    return web.json_response(
        {
            "status": "ready" if ready else "not ready",
            "database": "ok" if database else "unreachable",
            "articles": articles,
            "semantic": services.knowledge.kb.semantic_status,
        },
        status=200 if ready else 503,
    )


def register(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
