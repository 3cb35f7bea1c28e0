"""Who is using the web chat: the SSO proxy's header, or a session proven by a mailed code.

With ``ITBOT_TRUSTED_EMAIL_HEADER`` set, the proxy's header names the person and proves
it; there is no sign-in here. Otherwise a session is proven by the council's identity
provider (OIDC, when configured: :mod:`bot.channels.web.oidc`), or like this:

* ``POST /api/session {"email"}`` starts an *unproven* session (it may ask questions, but
  sees no ticket, raises none and resets nothing) and emails a one-time code to that
  address through the notifier (``ITBOT_NOTIFY``). The answer is the same whether or not
  the address belongs to anyone; too many codes to one address in an hour is a 429.
* ``POST /api/session/verify {"code"}`` checks the code waiting for this session; a right
  one proves it and gives the browser a new session id (the old one is revoked).
* ``POST /api/session/resend`` sends a new code; ``POST /api/signout`` revokes the session.

The cookie ``itbot_session`` holds a random id (only its SHA-256 is stored), ``HttpOnly``,
``SameSite=Strict``, ``Secure`` over https, for ``ITBOT_WEB_SESSION_HOURS``. Codes are
never logged, stored in plain text or echoed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot import wording
from bot.access import signin
from bot.conversation.messages import Reply
from bot.flows.smalltalk import help_buttons
from bot.storage import web_sessions
from bot.storage.models import utcnow
from bot.web import keys
from bot.web.session import is_https

from .http import error, json_body
from .render import answer

log = logging.getLogger(__name__)

COOKIE = "itbot_session"
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}$")


@dataclass(frozen=True, slots=True)
class Visitor:
    """Whoever sent a request: their email and whether it is proven (never more)."""

    email: str
    proven: bool
    #: ``sso`` (the proxy's header) or ``code`` (a web session: by emailed code or OIDC)
    via: str = "code"


def _sso(request: web.Request) -> str | None:
    return request.app[keys.SETTINGS].trusted_email_header


async def visitor(request: web.Request) -> Visitor | None:
    """Who sent ``request``, or ``None`` if nobody has signed in (or the session ended)."""
    header = _sso(request)
    if header:
        email = request.headers.get(header, "").strip().lower()
        return Visitor(email, proven=True, via="sso") if email else None
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    async with request.app[keys.SERVICES].db.session() as session, session.begin():
        row = await web_sessions.find(session, token, now=utcnow())
        return Visitor(row.email, proven=row.proven) if row is not None else None


async def new_session(
    request: web.Request, session: AsyncSession, *, email: str, proven: bool, now: datetime
) -> tuple[str, web_sessions.WebSession]:
    """A new web chat session for ``email`` (the id for the cookie, the row); the browser's
    old session, if any, ends: every sign-in (by code or OIDC) starts afresh."""
    old = request.cookies.get(COOKIE)
    previous = await web_sessions.find(session, old, now=now) if old else None
    if previous is not None:
        web_sessions.revoke(previous, now)
    hours = request.app[keys.SETTINGS].web_session_hours
    return await web_sessions.start(session, email=email, proven=proven, now=now, hours=hours)


def set_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=request.app[keys.SETTINGS].web_session_hours * 3600,
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
        path="/",
    )


def _no_sso(request: web.Request) -> None:
    if _sso(request):
        raise error(403, wording.SIGN_IN_SSO)


def _sent_answer(email: str, outcome: signin.Sent | signin.NotSent) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON) for a code sent, or not: the session works either way."""
    if isinstance(outcome, signin.Sent):
        return 200, {"code_sent": True, "message": wording.SIGN_IN_CODE_SENT.format(email=email)}
    if outcome.reason == "limit":
        return 429, {"code_sent": False, "error": wording.SIGN_IN_CODE_LIMIT.format(email=email)}
    return 503, {"code_sent": False, "error": wording.SIGN_IN_NOT_SENT}


async def start_session(request: web.Request) -> web.Response:
    """A typed address: an unproven session, and a code emailed to the address."""
    _no_sso(request)
    settings = request.app[keys.SETTINGS]
    services = request.app[keys.SERVICES]
    body = await json_body(request)
    email = str(body.get("email", "")).strip().lower()
    if not _EMAIL.match(email):
        raise error(400, wording.SIGN_IN_BAD_EMAIL)
    council = settings.council_for_email(email)
    if council is None:
        raise error(400, wording.unknown_user(settings))
    now = utcnow()
    async with services.db.session() as session, session.begin():
        token, row = await new_session(request, session, email=email, proven=False, now=now)
        outcome = await signin.send(session, settings, services.access.sender, email=email, now=now)
        if isinstance(outcome, signin.Sent):
            row.code_id = outcome.code_id
    status, extra = _sent_answer(email, outcome)
    name = email.split("@")[0].split(".")[0].title()
    welcome = Reply(
        wording.GREETING.format(name=name, desk=settings.desk_name), buttons=help_buttons()
    )
    response = answer(request, [welcome], email=email, council=council.key, proven=False, **extra)
    response.set_status(status)
    set_cookie(request, response, token)
    return response


async def verify(request: web.Request) -> web.Response:
    """The code from the email: right proves the session (with a new id); wrong says so."""
    _no_sso(request)
    settings = request.app[keys.SETTINGS]
    body = await json_body(request)
    typed = body.get("code", "")
    if not isinstance(typed, str) or not typed.strip():
        raise error(400, wording.SIGN_IN_BAD_CODE)
    token = request.cookies.get(COOKIE)
    if not token:
        raise error(401, wording.SIGN_IN_FIRST)
    now = utcnow()
    new_token = ""
    problem: tuple[str, dict[str, Any]] | None = None
    async with request.app[keys.SERVICES].db.session() as session, session.begin():
        row = await web_sessions.find(session, token, now=now)
        if row is None:
            raise error(401, wording.SIGN_IN_FIRST)
        email = row.email
        if row.proven:
            problem = None
        elif row.code_id is None:
            problem = (wording.SIGN_IN_NO_CODE, {"new_code_needed": True})
        else:
            result = await signin.check(
                session, code_id=row.code_id, typed=typed, email=email, now=now
            )
            if result.verdict == "ok":
                new_token, _ = await web_sessions.prove(
                    session, row, now=now, hours=settings.web_session_hours
                )
            elif result.verdict == "wrong":
                tries = "try" if result.tries_left == 1 else "tries"
                text = wording.SIGN_IN_WRONG.format(left=result.tries_left, tries=tries)
                problem = (text, {"tries_left": result.tries_left})
            else:
                row.code_id = None  # that code is finished: only a new one can prove this
                text = (
                    wording.SIGN_IN_TOO_MANY
                    if result.verdict == "too_many_tries"
                    else wording.SIGN_IN_EXPIRED
                )
                problem = (text, {"new_code_needed": True})
    # raised only now, so a wrong try is counted (the transaction above has committed)
    if problem is not None:
        raise error(400, problem[0], **problem[1])
    if not new_token:
        return answer(request, [Reply(wording.SIGN_IN_ALREADY.format(email=email))],
                      email=email, proven=True)  # fmt: skip
    log.info("web sign-in proven by code")
    response = answer(
        request, [Reply(wording.SIGN_IN_DONE.format(email=email))], email=email, proven=True
    )
    set_cookie(request, response, new_token)
    return response


async def resend(request: web.Request) -> web.Response:
    """A new code for this session's address (the last one stops working)."""
    _no_sso(request)
    services = request.app[keys.SERVICES]
    token = request.cookies.get(COOKIE)
    if not token:
        raise error(401, wording.SIGN_IN_FIRST)
    now = utcnow()
    async with services.db.session() as session, session.begin():
        row = await web_sessions.find(session, token, now=now)
        if row is None:
            raise error(401, wording.SIGN_IN_FIRST)
        email = row.email
        if row.proven:
            already = wording.SIGN_IN_ALREADY.format(email=email)
            return web.json_response(
                {"email": email, "proven": True, "code_sent": False, "message": already}
            )
        outcome = await signin.send(
            session, services.settings, services.access.sender, email=email, now=now
        )
        if isinstance(outcome, signin.Sent):
            row.code_id = outcome.code_id
    status, extra = _sent_answer(email, outcome)
    return web.json_response({"email": email, "proven": False, **extra}, status=status,
                             headers={"Cache-Control": "no-store"})  # fmt: skip


async def end_session(request: web.Request) -> web.Response:
    """Sign out: the session is revoked on the server, and the cookie cleared."""
    token = request.cookies.get(COOKIE)
    if token and not _sso(request):
        now = utcnow()
        async with request.app[keys.SERVICES].db.session() as session, session.begin():
            row = await web_sessions.find(session, token, now=now)
            if row is not None:
                web_sessions.revoke(row, now)
    response = web.json_response({"signed_out": True})
    response.del_cookie(COOKIE, path="/")
    return response


def register(app: web.Application) -> None:
    app.router.add_post("/api/session", start_session)
    app.router.add_post("/api/session/verify", verify)
    app.router.add_post("/api/session/resend", resend)
    app.router.add_post("/api/signout", end_session)
