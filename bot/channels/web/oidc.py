"""Signing in to the web chat with the council's identity provider (OpenID Connect).

With ``ITBOT_OIDC_ISSUER`` and ``ITBOT_OIDC_CLIENT_ID`` set, the chat offers "Sign in with
your council account":

* ``GET /chat/oidc/start`` remembers the trip (:mod:`bot.storage.web_oidc`: the hashes of a
  random ``state`` and of a random browser key), puts the key in the ``itbot_oidc`` cookie
  (ten minutes, ``SameSite=Lax`` so it comes back with the provider's redirect) and sends
  the browser to the provider with the state, a nonce and a PKCE S256 challenge; the
  verifier and the nonce are derived from the browser key, so they never need storing.
* ``GET /chat/oidc/callback`` takes the trip once (same browser, not replayed, not
  expired), trades the code and the verifier for an ID token, checks it
  (:mod:`integrations.signin.oidc`), and starts a *proven* web chat session for the
  token's address if it is on a council's domain: the same session the emailed code
  proves, so signing out revokes it the same way.

Every refusal is a 4xx page (503 if the provider can't be reached) and one log line with
the reason; codes, tokens, the verifier and the client secret are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections.abc import AsyncIterator

from aiohttp import web

from bot import wording
from bot.storage import audit, web_oidc
from bot.storage.models import utcnow
from bot.web import keys
from bot.web.peer import client_address
from bot.web.session import is_https
from integrations.signin.oidc import (
    OidcClient,
    OidcConfig,
    OidcRefused,
    OidcUnavailable,
    email_of,
)

from .signin import new_session, set_cookie

log = logging.getLogger(__name__)

START_PATH = "/chat/oidc/start"
CALLBACK_PATH = "/chat/oidc/callback"
COOKIE = "itbot_oidc"
COOKIE_PATH = "/chat/oidc"
CLIENT = web.AppKey("oidc_client", OidcClient)
#: longer than any real code or state (Entra's codes are about 1,000 characters)
MAX_PARAM = 4096


def derive(browser_key: str, label: str) -> str:
    """The PKCE verifier (``label="pkce"``) or the nonce of the sign-in ``browser_key``
    started: 43 URL-safe characters, as RFC 7636 asks of a verifier."""
    mac = hmac.new(browser_key.encode(), label.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def safe_return(target: str) -> str:
    """Where to go after signing in: a path of this site, never another site.

    >>> safe_return("/?q=1"), safe_return("//evil.example/"), safe_return("https://x/")
    ('/?q=1', '/', '/')
    """
    ok = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if ok and len(target) <= 200 else "/"


def _plain(value: str) -> bool:
    """A code, state or browser key as providers and we make them: printable ASCII,
    not empty, not absurdly long (anything else is refused before it is hashed)."""
    return 0 < len(value) <= MAX_PARAM and value.isascii() and value.isprintable()


def _page(
    request: web.Request, status: int, heading: str, message: str, *, go_to: str = ""
) -> web.Response:
    settings = request.app[keys.SETTINGS]
    html = (
        request.app[keys.TEMPLATES]
        .get_template("web/oidc.html")
        .render(
            desk_name=settings.desk_name,
            heading=heading,
            message=message,
            go_to=go_to,
            start=START_PATH,
        )
    )
    response = web.Response(
        status=status, text=html, content_type="text/html", headers={"Cache-Control": "no-store"}
    )
    response.del_cookie(COOKIE, path=COOKIE_PATH)
    return response


def _refused(request: web.Request, status: int, reason: str, message: str) -> web.Response:
    """One log line (the reason, who from; never a code or token) and the page saying so."""
    log.warning("web sign-in by OIDC refused from %s: %s", client_address(request), reason)
    return _page(request, status, wording.OIDC_REFUSED_HEADING, message)


def _client(request: web.Request) -> OidcClient:
    client = request.app.get(CLIENT)
    if client is None:
        raise web.HTTPNotFound(text="Sign-in with an identity provider is not configured.")
    return client


async def start(request: web.Request) -> web.StreamResponse:
    """Off to the provider, with a fresh state, nonce and PKCE challenge."""
    client = _client(request)
    if request.app[keys.SETTINGS].trusted_email_header:
        raise web.HTTPSeeOther("/")  # the SSO proxy has signed the person in already
    state = secrets.token_urlsafe(32)
    browser_key = secrets.token_urlsafe(32)
    try:
        url = await client.authorization_url(
            state=state, nonce=derive(browser_key, "nonce"), verifier=derive(browser_key, "pkce")
        )
    except OidcUnavailable as exc:
        log.warning("web sign-in by OIDC unavailable: %s", exc)
        return _page(request, 503, wording.OIDC_REFUSED_HEADING, wording.OIDC_UNAVAILABLE)
    async with request.app[keys.SERVICES].db.session() as session, session.begin():
        await web_oidc.start(
            session,
            state=state,
            browser_key=browser_key,
            return_to=safe_return(request.query.get("next", "/")),
            now=utcnow(),
        )
    response = web.Response(status=303, headers={"Location": url, "Cache-Control": "no-store"})
    response.set_cookie(
        COOKIE,
        browser_key,
        max_age=web_oidc.PENDING_MINUTES * 60,
        httponly=True,
        samesite="Lax",  # Strict would not come back with the provider's redirect
        secure=is_https(request),
        path=COOKIE_PATH,
    )
    return response


async def callback(request: web.Request) -> web.StreamResponse:
    """Back from the provider: check everything, then a proven session (or a refusal)."""
    client = _client(request)
    settings = request.app[keys.SETTINGS]
    desk = settings.desk_name
    if settings.trusted_email_header:
        raise web.HTTPSeeOther("/")
    error = request.query.get("error", "")
    if error:
        named = error if error.isidentifier() and len(error) <= 64 else "an unnamed error"
        return _refused(
            request,
            400,
            f"the provider said {named}",
            wording.OIDC_PROVIDER_SAID_NO.format(error=named),
        )
    code = request.query.get("code", "")
    state = request.query.get("state", "")
    browser_key = request.cookies.get(COOKIE, "")
    if not (_plain(code) and _plain(state)):
        return _refused(request, 400, "no code or state, or a garbled one", wording.OIDC_STALE)
    if not _plain(browser_key):
        return _refused(request, 400, "no sign-in cookie (expired, or another browser)",
                        wording.OIDC_STALE)  # fmt: skip
    now = utcnow()
    async with request.app[keys.SERVICES].db.session() as session, session.begin():
        pending = await web_oidc.take(session, state=state, browser_key=browser_key, now=now)
    if pending is None:
        return _refused(request, 400, "unknown, replayed, expired or another browser's state",
                        wording.OIDC_STALE)  # fmt: skip
    try:
        claims = await client.sign_in(
            code=code, verifier=derive(browser_key, "pkce"), nonce=derive(browser_key, "nonce")
        )
    except OidcRefused as exc:
        return _refused(request, 403, str(exc), wording.OIDC_NOT_BELIEVED.format(desk=desk))
    except OidcUnavailable as exc:
        log.warning("web sign-in by OIDC unavailable: %s", exc)
        return _page(request, 503, wording.OIDC_REFUSED_HEADING, wording.OIDC_UNAVAILABLE)
    email = email_of(claims)
    if email is None or len(email) > 320:
        return _refused(request, 403, "the ID token names no email address",
                        wording.OIDC_NO_EMAIL.format(desk=desk))  # fmt: skip
    council = settings.council_for_email(email)
    if council is None:
        async with request.app[keys.SERVICES].db.session() as session, session.begin():
            await audit.record(session, actor=email, action="web_sign_in_refused",
                               subject=email, reason="oidc_other_domain")  # fmt: skip
        councils = " and ".join(c.name for c in settings.councils)
        return _refused(
            request,
            403,
            f"{email.rsplit('@', 1)[1]} is no council's domain",
            wording.OIDC_OTHER_DOMAIN.format(email=email, councils=councils, desk=desk),
        )
    async with request.app[keys.SERVICES].db.session() as session, session.begin():
        token, _ = await new_session(request, session, email=email, proven=True, now=now)
        await audit.record(session, actor=email, action="web_sign_in", subject=email,
                           via="oidc", council=council.key)  # fmt: skip
    log.info("web sign-in proven by OIDC (%s)", council.key)
    # a page, not a redirect: the session cookie is SameSite=Strict, and a browser sends
    # it only on a navigation this site starts, not on the end of the provider's redirect
    response = _page(
        request,
        200,
        wording.OIDC_DONE_HEADING,
        wording.OIDC_DONE.format(email=email),
        go_to=pending.return_to,
    )
    set_cookie(request, response, token)
    return response


def _config(app: web.Application) -> OidcConfig:
    settings = app[keys.SETTINGS]
    if not (settings.oidc_issuer and settings.oidc_client_id):
        raise RuntimeError("OIDC is not configured")  # register() checked oidc_enabled
    secret = settings.oidc_client_secret
    return OidcConfig(
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        client_secret=secret.reveal() if secret is not None else None,
        discovery_url=settings.oidc_discovery_url,
        scopes=settings.oidc_scopes,
        redirect_uri=settings.base_url + CALLBACK_PATH,
    )


def register(app: web.Application) -> None:
    """The two routes, and the provider's client for the app's lifetime (if configured)."""
    if not app[keys.SETTINGS].oidc_enabled:
        return

    async def client_ctx(app: web.Application) -> AsyncIterator[None]:
        app[CLIENT] = OidcClient(_config(app))
        yield
        await app[CLIENT].aclose()

    app.cleanup_ctx.append(client_ctx)
    app.router.add_get(START_PATH, start)
    app.router.add_get(CALLBACK_PATH, callback)
