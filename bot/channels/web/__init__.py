"""The web chat channel: the page at ``/`` and its small JSON API.

The browser posts ``{"text": ...}`` or ``{"press": {"action": ...}}`` (the pressed button's
encoded action) to ``/api/chat``; the server runs the turn and returns the replies rendered
(and escaped) by ``templates/web/replies.html``. Who is asking comes from
:mod:`bot.channels.web.signin`: the SSO proxy's header (``ITBOT_TRUSTED_EMAIL_HEADER``), or
a server-side session proven by the council's identity provider (OIDC, when configured),
or started with a typed address and proven by a code emailed to it.
Until it is proven the person may ask questions, but sees no ticket, raises none and
resets nothing, and hears no ticket news.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from bot import wording
from bot.conversation import history
from bot.conversation.actions import Action, decode_action
from bot.conversation.messages import Incoming, Reply
from bot.conversation.notify import take_pending
from bot.facts import DeskFacts
from bot.storage import staff as staff_repo
from bot.storage.models import utcnow
from bot.web import keys

from . import oidc, signin
from .http import error, json_body
from .render import answer, render_mine, render_replies, reply_json
from .signin import Visitor, visitor

__all__ = ["CHANNEL", "Visitor", "register", "render_replies", "visitor"]

CHANNEL = "web"
#: how many turns a reloaded page shows again
HISTORY_TURNS = 20


async def page(request: web.Request) -> web.Response:
    settings = request.app[keys.SETTINGS]
    who = await visitor(request)
    html = (
        request.app[keys.TEMPLATES]
        .get_template("web/chat.html")
        .render(
            desk_name=settings.desk_name,
            email=who.email if who else "",
            proven=bool(who and who.proven),
            sso=bool(settings.trusted_email_header),
            oidc_start=oidc.START_PATH if settings.oidc_enabled else "",
            oidc_button=wording.OIDC_BUTTON,
            code_minutes=settings.code_minutes,
        )
    )
    return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-store"})


async def chat(request: web.Request) -> web.Response:
    who = await visitor(request)
    if who is None:
        raise error(401, wording.SIGN_IN_FIRST)
    body = await json_body(request)
    press: Action | None = None
    raw_press = body.get("press")
    if raw_press is not None:
        if not isinstance(raw_press, dict):
            raise error(400, "press must be an object with an action.")
        # "value": pages loaded before actions were typed send it apart from the action
        press = decode_action(str(raw_press.get("action", "")), str(raw_press.get("value") or ""))
    text = body.get("text", "")
    if not isinstance(text, str):
        raise error(400, "text must be a string.")
    if raw_press is not None and press is None:
        replies = [Reply(wording.STALE_BUTTON)]  # a garbled or out-of-date button
    else:
        replies = await request.app[keys.ENGINE].handle(
            Incoming(
                channel=CHANNEL,
                email=who.email,
                text=text,
                press=press,
                proven=who.proven,
                personal=True,
            )
        )
    return answer(request, replies)


async def notifications(request: web.Request) -> web.Response:
    """Updates on the person's tickets since they last looked (the page polls this); an
    unproven session hears none (they stay waiting until the person proves who they are)."""
    who = await visitor(request)
    if who is None:
        raise error(401, wording.SIGN_IN_FIRST)
    replies: list[Reply] = []
    if who.proven:
        services = request.app[keys.SERVICES]
        async with services.db.session() as session, session.begin():
            staff = await staff_repo.get_by_email(session, who.email)
            if staff is not None:
                now = utcnow()
                replies = await take_pending(session, staff.id, now)
                # shown now: a reload shows it again, with its buttons if they still work
                await history.remember_shown(session, staff, CHANNEL, "", replies, now)
    return answer(request, replies, proven=who.proven)


async def recent(request: web.Request) -> web.Response:
    """The page after a reload: the last turns of this person's web chat, and the buttons
    of the last reply if they still work. Only for a proven session: an address someone
    typed sees nothing of that person's conversation."""
    who = await visitor(request)
    if who is None:
        raise error(401, wording.SIGN_IN_FIRST)
    said: list[history.Said] = []
    if who.proven:
        services = request.app[keys.SERVICES]
        async with services.db.session() as session:
            staff = await staff_repo.get_by_email(session, who.email)
            if staff is not None:
                said = await history.recent(
                    session,
                    staff.id,
                    CHANNEL,
                    "",
                    kb=services.knowledge.kb,
                    facts=DeskFacts.of(services.settings, services.desk.policy.calendar),
                    council=staff.council,
                    now=utcnow(),
                    idle_limit=timedelta(minutes=services.settings.flow_timeout_minutes),
                    limit=HISTORY_TURNS,
                )
    html = "".join(
        render_mine(request, s.reply.text) if s.mine else render_replies(request, [s.reply])
        for s in said
    )
    return web.json_response(
        {
            "html": html,
            "messages": [{"mine": s.mine, **reply_json(s.reply)} for s in said],
            "proven": who.proven,
        },
        headers={"Cache-Control": "no-store"},
    )


def register(app: web.Application) -> None:
    app.router.add_get("/", page)
    app.router.add_post("/api/chat", chat)
    app.router.add_get("/api/notifications", notifications)
    app.router.add_get("/api/history", recent)
    signin.register(app)
    oidc.register(app)
