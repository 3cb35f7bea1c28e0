"""Who is using ``/desk``: the session cookie or the SSO proxy's header, agents only.

Every request under ``/desk`` passes :func:`guard` (the dashboard's middleware):

* the sign-in page is the only thing served to someone not signed in;
* with ``ITBOT_TRUSTED_EMAIL_HEADER`` set, the proxy's header names the person and there
  is no password sign-in; otherwise a session cookie (signed with the app's key, HttpOnly,
  SameSite=Strict, Secure over https) names a row in ``desk_sessions``;
* the staff record must be a service desk agent;
* every POST must carry the session's CSRF token in its ``csrf`` field (and, if the
  browser sends an ``Origin``, come from this site).
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from bot.desk import accounts
from bot.storage import staff as staff_repo
from bot.web import keys
from bot.web.desk import pages
from bot.web.desk.user import STARTED, USER, DeskUser, now
from bot.web.session import is_https

log = logging.getLogger(__name__)

SESSION_COOKIE = "itbot_desk"
PREFIX = "/desk"
LOGIN_PATH = f"{PREFIX}/login"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def sso_header(request: web.Request) -> str | None:
    return request.config_dict[keys.SETTINGS].trusted_email_header


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        request.config_dict[keys.SIGNER].sign(token),
        max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
        path=PREFIX,
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(SESSION_COOKIE, path=PREFIX)


def session_token(request: web.Request) -> str | None:
    """The token in the session cookie, if the cookie is ours (signature checked)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    return request.config_dict[keys.SIGNER].verify(cookie) if cookie else None


def same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    return origin is None or origin.split("://", 1)[-1] == request.host


def tokens_match(given: str, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


async def _from_session(request: web.Request) -> tuple[DeskUser | None, bool]:
    """(the user, whether they are an agent) from the session cookie."""
    token = session_token(request)
    if token is None:
        return None, False
    db = request.config_dict[keys.SERVICES].db
    async with db.session() as session:
        info = await accounts.session_user(session, token, now=now())
    if info is None:
        return None, False
    found = DeskUser(info.staff_id, info.email, info.name, info.csrf_token, "password", token)
    return found, info.is_agent


async def _from_header(request: web.Request, header: str) -> tuple[DeskUser | None, bool]:
    """(the user, whether they are an agent) from the SSO proxy's header."""
    email = request.headers.get(header, "").strip().lower()
    if not email:
        return None, False
    db = request.config_dict[keys.SERVICES].db
    async with db.session() as session:
        staff = await staff_repo.get_by_email(session, email)
    if staff is None:
        return DeskUser(0, email, email, "", "sso"), False
    csrf = request.config_dict[keys.SIGNER].sign(f"desk-csrf:{email}")
    return DeskUser(staff.id, email, staff.display_name, csrf, "sso"), bool(staff.is_agent)


def _sso_csrf_ok(request: web.Request, desk_user: DeskUser, given: str) -> bool:
    """An SSO user's token is signed with the app's key and names them (no session row)."""
    value = request.config_dict[keys.SIGNER].verify(given) if given else None
    return value is not None and tokens_match(value, f"desk-csrf:{desk_user.email}")


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Sign-in, agent and CSRF checks for everything under ``/desk``."""
    request[STARTED] = time.perf_counter()
    if request.method == "POST" and not same_origin(request):
        raise web.HTTPForbidden(text="Cross-site requests are not allowed.")
    header = sso_header(request)
    if request.path == LOGIN_PATH and header is None:
        response = await handler(request)
    else:
        response = await _signed_in(request, handler, header)
    response.headers["Cache-Control"] = "no-store"
    return response


async def _signed_in(
    request: web.Request, handler: Handler, header: str | None
) -> web.StreamResponse:
    desk_user, is_agent = await (
        _from_header(request, header) if header else _from_session(request)
    )
    if desk_user is None:
        if header:
            return pages.problem(
                request,
                401,
                "Sign-in needed",
                "Your single sign-on did not say who you are. Open the dashboard through "
                "the council's sign-in page.",
            )
        target = LOGIN_PATH
        if request.method == "GET" and request.path_qs != f"{PREFIX}/":
            target += "?next=" + quote(request.path_qs, safe="")
        raise web.HTTPSeeOther(target)
    if not is_agent:
        log.warning("desk: refused %s (not an agent) %s", desk_user.email, request.path)
        return pages.problem(
            request,
            403,
            "Agents only",
            f"{desk_user.email} is not a service desk agent. Ask a desk administrator to "
            "run `itbot desk add-agent` for you.",
        )
    if request.method == "POST":
        form = await request.post()
        given = str(form.get("csrf", ""))
        valid = (
            _sso_csrf_ok(request, desk_user, given)
            if desk_user.via == "sso"
            else tokens_match(given, desk_user.csrf)
        )
        if not valid:
            log.warning("desk: refused a POST without a valid CSRF token from %s", desk_user.email)
            return pages.problem(
                request,
                403,
                "Form expired",
                "That form was out of date or did not come from this dashboard. "
                "Go back, reload the page and try again.",
            )
    request[USER] = desk_user
    return await handler(request)
