"""The web chat channel: the page at ``/`` and its small JSON API.

The browser posts ``{"text": ...}`` or ``{"press": {"action": ...}}`` (the pressed button's
encoded action) to ``/api/chat``; the server runs the turn and returns the replies rendered
(and escaped) by ``templates/web/replies.html``. Identity comes from a signed cookie
set by ``/api/session`` (embedded default) or from a header your SSO proxy sets
(``ITBOT_TRUSTED_EMAIL_HEADER``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from bot import wording
from bot.conversation.actions import Action, decode_action, encode_action
from bot.conversation.messages import Incoming, Reply
from bot.conversation.notify import take_pending
from bot.flows.smalltalk import help_buttons
from bot.storage import staff as staff_repo
from bot.storage.models import utcnow
from bot.web import keys
from bot.web.session import COOKIE

log = logging.getLogger(__name__)

CHANNEL = "web"
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}$")


def identity(request: web.Request) -> str | None:
    """The email of whoever sent ``request``, or ``None`` if we don't know yet."""
    settings = request.app[keys.SETTINGS]
    if settings.trusted_email_header:
        value = request.headers.get(settings.trusted_email_header, "").strip().lower()
        return value or None
    cookie = request.cookies.get(COOKIE)
    return request.app[keys.SIGNER].verify(cookie) if cookie else None


def render_replies(request: web.Request, replies: Sequence[Reply]) -> str:
    services = request.app[keys.SERVICES]
    kb = services.knowledge.kb

    def resolve(article_id: str) -> Any:
        def link(href: str) -> str | None:
            article = kb.get(article_id)
            target = kb.resolve_link(article, href) if article else None
            return f"/kb/{target}" if target else None

        return link

    template = request.app[keys.TEMPLATES].get_template("web/replies.html")
    parts = []
    for reply in replies:
        article_id = reply.cards[0].article_id if reply.cards else ""
        parts.append(
            template.render(
                replies=[reply], resolve_link=resolve(article_id), encode_action=encode_action
            )
        )
    return "".join(parts)


async def page(request: web.Request) -> web.Response:
    settings = request.app[keys.SETTINGS]
    html = (
        request.app[keys.TEMPLATES]
        .get_template("web/chat.html")
        .render(desk_name=settings.desk_name, email=identity(request) or "")
    )
    return web.Response(text=html, content_type="text/html")


async def _json_body(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise _error(415, "Send JSON (Content-Type: application/json).")
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _error(400, "That wasn't valid JSON.") from None
    if not isinstance(body, dict):
        raise _error(400, "Send a JSON object.")
    return body


def _error(status: int, message: str) -> web.HTTPException:
    cls: type[web.HTTPException] = {
        400: web.HTTPBadRequest,
        401: web.HTTPUnauthorized,
        403: web.HTTPForbidden,
        415: web.HTTPUnsupportedMediaType,
    }[status]
    return cls(text=json.dumps({"error": message}), content_type="application/json")


async def start_session(request: web.Request) -> web.Response:
    settings = request.app[keys.SETTINGS]
    if settings.trusted_email_header:
        raise _error(403, "Sign-in is handled by your council's single sign-on.")
    body = await _json_body(request)
    email = str(body.get("email", "")).strip().lower()
    if not _EMAIL.match(email):
        raise _error(400, "Please enter your full council email address.")
    council = settings.council_for_email(email)
    if council is None:
        names = " and ".join(c.name for c in settings.councils)
        raise _error(400, wording.UNKNOWN_USER.format(councils=names))
    name = email.split("@")[0].split(".")[0].title()
    welcome = Reply(
        wording.GREETING.format(name=name, desk=settings.desk_name), buttons=help_buttons()
    )
    response = web.json_response(
        {"email": email, "council": council.key, "html": render_replies(request, [welcome])}
    )
    response.set_cookie(
        COOKIE,
        request.app[keys.SIGNER].sign(email),
        max_age=request.app[keys.SIGNER].max_age,
        httponly=True,
        samesite="Strict",
        secure=request.secure,
        path="/",
    )
    return response


async def end_session(request: web.Request) -> web.Response:
    response = web.json_response({"signed_out": True})
    response.del_cookie(COOKIE, path="/")
    return response


async def chat(request: web.Request) -> web.Response:
    email = identity(request)
    if email is None:
        raise _error(401, "Tell me your council email address first.")
    body = await _json_body(request)
    press: Action | None = None
    raw_press = body.get("press")
    if raw_press is not None:
        if not isinstance(raw_press, dict):
            raise _error(400, "press must be an object with an action.")
        # "value": pages loaded before actions were typed send it apart from the action
        press = decode_action(str(raw_press.get("action", "")), str(raw_press.get("value") or ""))
    text = body.get("text", "")
    if not isinstance(text, str):
        raise _error(400, "text must be a string.")
    if raw_press is not None and press is None:
        replies = [Reply(wording.STALE_BUTTON)]  # a garbled or out-of-date button
    else:
        replies = await request.app[keys.ENGINE].handle(
            Incoming(
                channel=CHANNEL,
                email=email,
                text=text,
                press=press,
                # only the SSO proxy's header proves who this is, so far
                proven=bool(request.app[keys.SETTINGS].trusted_email_header),
            )
        )
    return web.json_response(
        {
            "html": render_replies(request, replies),
            "replies": [_reply_json(r) for r in replies],
        }
    )


async def notifications(request: web.Request) -> web.Response:
    """Updates on the person's tickets since they last looked (the page polls this)."""
    email = identity(request)
    if email is None:
        raise _error(401, "Tell me your council email address first.")
    services = request.app[keys.SERVICES]
    async with services.db.session() as session, session.begin():
        staff = await staff_repo.get_by_email(session, email)
        replies = (
            await take_pending(session, staff.id, CHANNEL, utcnow()) if staff is not None else []
        )
    return web.json_response(
        {"html": render_replies(request, replies), "replies": [_reply_json(r) for r in replies]}
    )


def _reply_json(reply: Reply) -> dict[str, Any]:
    return {
        "text": reply.text,
        "kind": reply.kind,
        "cards": [
            {"article_id": c.article_id, "title": c.title, "url": f"/kb/{c.article_id}"}
            for c in reply.cards
        ],
        "buttons": [{"label": b.label, "action": encode_action(b.action)} for b in reply.buttons],
    }


def register(app: web.Application) -> None:
    app.router.add_get("/", page)
    app.router.add_post("/api/session", start_session)
    app.router.add_post("/api/signout", end_session)
    app.router.add_post("/api/chat", chat)
    app.router.add_get("/api/notifications", notifications)
