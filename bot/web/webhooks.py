"""``POST /desk/webhooks/<system>``: changes pushed by the external service desk."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.desk.mirror import Mirror
from bot.web.peer import client_address
from integrations.servicedesk import ServiceDeskError, WebhookRejected

log = logging.getLogger(__name__)

MIRROR = web.AppKey("mirror", Mirror)


async def receive(request: web.Request) -> web.Response:
    mirror = request.app.get(MIRROR)
    if mirror is None or request.match_info["system"] != mirror.connector.name:
        raise web.HTTPNotFound(text="No external service desk of that name is configured.")
    body = await request.read()
    try:
        changes = mirror.connector.parse_webhook(dict(request.headers), body)
    except WebhookRejected:
        log.warning("webhook refused from %s: bad or missing signature", client_address(request))
        raise web.HTTPUnauthorized(text="Bad or missing signature.") from None
    except ServiceDeskError as exc:
        raise web.HTTPBadRequest(text=f"Could not read the webhook: {exc}") from None
    applied = await mirror.apply(changes)
    return web.json_response({"received": len(changes), "applied": applied})


def register(app: web.Application) -> None:
    app.router.add_post("/desk/webhooks/{system}", receive)
