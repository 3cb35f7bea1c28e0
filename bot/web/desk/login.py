"""Signing in to and out of ``/desk`` with an agent account (when no SSO proxy is in front).

Sign-in attempts are counted per email + IP address in the database; after
:data:`~bot.desk.accounts.MAX_FAILURES` failures in
:data:`~bot.desk.accounts.FAILURE_WINDOW` further attempts are refused without
checking the password; the same once one address has made ``ITBOT_SIGNIN_ADDRESS_LIMIT``
failed attempts in the window whatever the emails (password spraying). An unknown
email costs the same scrypt work as a wrong password, and both get the same answer. The
sign-in form carries its own CSRF token (a nonce in a
signed, short-lived cookie), so another site cannot sign a browser in as someone else.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from aiohttp import web

from bot.desk import accounts
from bot.desk.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password
from bot.storage import audit
from bot.storage.staff import normalise_email
from bot.web import keys
from bot.web.desk import auth, pages
from bot.web.desk.user import now, user
from bot.web.peer import client_address
from bot.web.session import is_https

log = logging.getLogger(__name__)

LOGIN_COOKIE = "itbot_desk_login"
LOGIN_FORM_SECONDS = 60 * 60


def safe_next(target: str) -> str:
    """Where to go after signing in: a dashboard page, never another site."""
    if target.startswith(f"{auth.PREFIX}/") and "//" not in target and "\\" not in target:
        return target
    return f"{auth.PREFIX}/"


def _form(
    request: web.Request, *, status: int = 200, email: str = "", error: str = "", next_: str = ""
) -> web.Response:
    nonce = secrets.token_urlsafe(24)
    response = pages.render(
        request,
        "login.html",
        status=status,
        email=email,
        error=error,
        next=safe_next(next_),
        csrf=nonce,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        request.config_dict[keys.SIGNER].sign(nonce),
        max_age=LOGIN_FORM_SECONDS,
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
        path=auth.LOGIN_PATH,
    )
    return response


async def login_page(request: web.Request) -> web.StreamResponse:
    if auth.sso_header(request):  # signing in is the SSO proxy's job
        raise web.HTTPSeeOther(f"{auth.PREFIX}/")
    token = auth.session_token(request)
    if token is not None:
        async with request.config_dict[keys.SERVICES].db.session() as session:
            if await accounts.session_user(session, token, now=now()) is not None:
                raise web.HTTPSeeOther(safe_next(request.query.get("next", "")))
    return _form(request, next_=request.query.get("next", ""))


def _login_nonce_ok(request: web.Request, given: str) -> bool:
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    signer = request.config_dict[keys.SIGNER]
    nonce = signer.verify(cookie) if cookie else None
    return nonce is not None and auth.tokens_match(given, nonce)


async def login(request: web.Request) -> web.StreamResponse:
    if auth.sso_header(request):
        raise web.HTTPSeeOther(f"{auth.PREFIX}/")
    form = await request.post()
    email = normalise_email(str(form.get("email", "")))[:320]
    password = str(form.get("password", ""))
    next_ = str(form.get("next", ""))
    if not _login_nonce_ok(request, str(form.get("csrf", ""))):
        return _form(
            request,
            status=403,
            email=email,
            next_=next_,
            error="The sign-in form had expired. Please try again.",
        )
    if not email or not password:
        return _form(
            request, status=400, email=email, next_=next_, error="Enter your email and password."
        )
    services = request.config_dict[keys.SERVICES]
    ip = client_address(request)
    async with services.db.session() as session, session.begin():
        attempts = await accounts.note_attempt(session, email=email, ip=ip, now=now())
    minutes = int(accounts.FAILURE_WINDOW.total_seconds() // 60)
    if attempts.address > request.config_dict[keys.SETTINGS].signin_address_limit:
        # the same answer whatever the email: it must not tell whether an account exists
        log.warning("desk: sign-in rate limit reached for address %s", ip)
        return _form(
            request,
            status=429,
            email=email,
            next_=next_,
            error=f"Too many sign-in attempts from your network. Wait {minutes} minutes, "
            "then try again.",
        )
    if attempts.pair > accounts.MAX_FAILURES:
        log.warning("desk: sign-in rate limit reached for %s from %s", email, ip)
        return _form(
            request,
            status=429,
            email=email,
            next_=next_,
            error=f"Too many sign-in attempts. Wait {minutes} minutes, then try again.",
        )
    async with services.db.session() as session:
        account = await accounts.get_account(session, email)
    stored = account.password_hash if account else DUMMY_HASH
    matches = await asyncio.to_thread(verify_password, password, stored)
    council = request.config_dict[keys.SETTINGS].council_for_email(email)
    if account is None or not matches or council is None:
        log.info("desk: failed sign-in for %s from %s", email, ip)
        return _form(
            request,
            status=401,
            email=email,
            next_=next_,
            error="That email address and password do not match an agent account.",
        )
    rehash = await asyncio.to_thread(hash_password, password) if needs_rehash(stored) else None
    async with services.db.session() as session, session.begin():
        found = await accounts.account_by_id(session, account.id)
        if found is None:  # removed between the two steps
            raise web.HTTPSeeOther(auth.LOGIN_PATH)
        if rehash is not None:
            found.password_hash = rehash
        await accounts.clear_attempts(session, email=email, ip=ip)
        await accounts.mark_agent(session, email=email, council=council.key)
        token, _ = await accounts.start_session(session, found, now=now())
        await audit.record(session, actor=email, action="desk_sign_in", subject=email, ip=ip)
    log.info("desk: %s signed in from %s", email, ip)
    response = web.Response(status=303, headers={"Location": safe_next(next_)})
    auth.set_session_cookie(request, response, token)
    response.del_cookie(LOGIN_COOKIE, path=auth.LOGIN_PATH)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    agent = user(request)
    if agent.via == "sso":
        raise web.HTTPSeeOther(f"{auth.PREFIX}/")
    async with request.config_dict[keys.SERVICES].db.session() as session, session.begin():
        await accounts.end_session(session, agent.token)
        await audit.record(session, actor=agent.email, action="desk_sign_out", subject=agent.email)
    response = web.Response(status=303, headers={"Location": auth.LOGIN_PATH})
    auth.clear_session_cookie(response)
    return response
