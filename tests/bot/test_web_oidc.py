"""Signing in to the web chat with the council's identity provider, over real HTTP.

A fake provider (:mod:`tests.bot.fake_oidc`) runs on its own port; the test walks the
browser's whole trip: the chat's button, the provider's sign-in, the callback. A signed-in
person sees their tickets; every forged ID token, replayed state or broken PKCE exchange is
refused with a page and one log line, and leaves no proven session behind.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update
from yarl import URL

from bot.errors import SettingsError
from bot.settings import Secret, Settings
from bot.storage.models import AuditEntry, utcnow
from bot.storage.web_oidc import OidcPending
from tests.bot.fake_oidc import CLIENT_ID, CLIENT_SECRET, FORGERIES, FakeOidc, s256
from tests.conftest import SAM, free_port, say, shared_app
from tests.desk.dashboard_support import database, quick_settings, raise_ticket

Client = TestClient[web.Request, web.Application]
SESSION = "itbot_session"
SAM_PROBLEM = "Outlook keeps crashing when I open the shared mailbox"


@pytest.fixture
async def fake() -> AsyncIterator[FakeOidc]:
    provider = FakeOidc()
    await provider.start()
    yield provider
    await provider.close()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return quick_settings(database_url, tmp_path)


@pytest.fixture
async def client(settings: Settings, fake: FakeOidc) -> AsyncIterator[Client]:
    """The app with OIDC pointed at the fake, at the address its redirect URI names."""
    port = free_port()
    configured = dataclasses.replace(
        settings,
        public_url=f"http://127.0.0.1:{port}/",
        oidc_issuer=fake.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=Secret(CLIENT_SECRET),
    )
    async with shared_app(configured) as app:
        # no access log, as `itbot serve` runs it (a log of URLs would hold the codes)
        server = TestServer(app, port=port)
        await server.start_server(access_log=None)
        async with TestClient(server) as test_client:
            yield test_client


async def trip_to_provider(client: Client) -> str:
    """The chat's button → the provider signs the person in → the callback path to open."""
    started = await client.get("/chat/oidc/start", allow_redirects=False)
    assert started.status == 303, await started.text()
    async with aiohttp.ClientSession() as browser:
        at_provider = await browser.get(started.headers["Location"], allow_redirects=False)
    assert at_provider.status == 302, await at_provider.text()
    back = URL(at_provider.headers["Location"])
    assert back.path == "/chat/oidc/callback"
    return back.raw_path_qs


async def sign_in(client: Client) -> ClientResponse:
    return await client.get(await trip_to_provider(client), allow_redirects=False)


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("bot.") and r.levelno >= logging.WARNING
    ]


async def is_proven(client: Client) -> bool:
    page = await (await client.get("/")).text()
    return "(verified)" in page


async def test_signing_in_with_the_council_account_proves_the_chat_and_shows_their_tickets(
    client: Client, fake: FakeOidc, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ticket = await raise_ticket(client, SAM_PROBLEM, email=SAM)
    page = await (await client.get("/")).text()
    assert "Sign in with your council account" in page and 'href="/chat/oidc/start"' in page

    callback = await trip_to_provider(client)
    [asked] = fake.authorize_requests
    assert asked["code_challenge_method"] == "S256" and asked["scope"] == "openid email profile"
    assert asked["redirect_uri"] == f"{client.make_url('/chat/oidc/callback')}"
    assert asked["state"] and asked["nonce"] and asked["state"] != asked["nonce"]
    done = await client.get(callback, allow_redirects=False)
    assert done.status == 200, await done.text()
    html = await done.text()
    assert SAM in html and 'http-equiv="refresh"' in html
    assert SESSION in done.cookies

    [exchange] = fake.token_requests
    assert exchange.status == 200 and exchange.client_ok
    assert exchange.verifier_ok and s256(exchange.verifier) == asked["code_challenge"]
    assert await is_proven(client)
    replies = await say(client, "my tickets")
    said = str(replies)  # the texts and the buttons
    assert ticket.ref and ticket.ref in said

    async with database(client).session() as session:
        actions = (await session.execute(select(AuditEntry.action, AuditEntry.details))).all()
    assert ("web_sign_in", {"via": "oidc", "council": "dacorum"}) in [tuple(a) for a in actions]
    code = parse_qs(urlsplit(callback).query)["code"][0]
    for record in caplog.records:
        for secret in (code, fake.issued[0], exchange.verifier, CLIENT_SECRET):
            assert secret not in record.getMessage(), record.getMessage()

    # signing out revokes the server-side session: the old cookie proves nothing any more
    token = done.cookies[SESSION].value
    assert (await client.post("/api/signout")).status == 200
    client.session.cookie_jar.update_cookies({SESSION: token})
    assert (await client.post("/api/chat", json={"text": "my tickets"})).status == 401


async def test_entra_s_preferred_username_names_the_person_when_there_is_no_email(
    client: Client, fake: FakeOidc
) -> None:
    fake.email_claim, fake.email = "preferred_username", "Alex.Jones@aylesburyvaledc.gov.uk"
    done = await sign_in(client)
    assert done.status == 200, await done.text()
    assert "alex.jones@aylesburyvaledc.gov.uk" in await done.text()
    assert await is_proven(client)


@pytest.mark.parametrize("forge", FORGERIES)
async def test_a_forged_id_token_is_refused_and_proves_nothing(
    client: Client, fake: FakeOidc, forge: str, caplog: pytest.LogCaptureFixture
) -> None:
    await raise_ticket(client, SAM_PROBLEM, email=SAM)
    fake.forge = forge
    caplog.clear()
    refused = await sign_in(client)
    assert refused.status == 403, await refused.text()
    assert "couldn&#39;t sign you in" in await refused.text()
    assert SESSION not in refused.cookies
    assert len(refusals(caplog)) == 1, refusals(caplog)
    assert "refused" in refusals(caplog)[0]
    assert not await is_proven(client)
    assert (await client.post("/api/chat", json={"text": "my tickets"})).status == 401
    if forge == "unknown_kid":
        before = fake.jwks_fetches
        assert (await sign_in(client)).status == 403
        assert fake.jwks_fetches == before + 1, "an unknown key id fetches the keys again, once"


async def test_keys_rotated_at_the_provider_are_fetched_again_and_then_cached(
    client: Client, fake: FakeOidc
) -> None:
    assert (await sign_in(client)).status == 200
    assert fake.jwks_fetches == 1
    fake.rotate()
    rotated = await sign_in(client)
    assert rotated.status == 200, await rotated.text()
    assert fake.jwks_fetches == 2
    assert (await sign_in(client)).status == 200
    assert fake.jwks_fetches == 2, "a known key id is not fetched again"


async def test_a_replayed_or_foreign_state_is_refused(
    client: Client, fake: FakeOidc, caplog: pytest.LogCaptureFixture
) -> None:
    callback = await trip_to_provider(client)
    assert (await client.get(callback, allow_redirects=False)).status == 200
    assert (await client.post("/api/signout")).status == 200
    caplog.clear()
    replayed = await client.get(callback, allow_redirects=False)
    assert replayed.status == 400
    assert "expired or has been used" in await replayed.text()
    assert len(refusals(caplog)) == 1
    assert len(fake.token_requests) == 1, "a replayed state never reaches the provider"
    assert not await is_proven(client)

    # a callback in a browser that did not start the sign-in (login CSRF)
    callback = await trip_to_provider(client)
    client.session.cookie_jar.clear()
    foreign = await client.get(callback, allow_redirects=False)
    assert foreign.status == 400 and not await is_proven(client)
    # a state nobody issued, in a browser that did start one
    callback = await trip_to_provider(client)
    made_up = callback.replace("state=", "state=x")
    assert (await client.get(made_up, allow_redirects=False)).status == 400
    assert len(fake.token_requests) == 1


async def test_the_pkce_verifier_is_sent_and_a_wrong_one_is_refused_by_the_provider(
    client: Client, fake: FakeOidc, caplog: pytest.LogCaptureFixture
) -> None:
    fake.break_pkce = True  # the provider remembers another challenge than the one sent
    refused = await sign_in(client)
    assert refused.status == 403
    [exchange] = fake.token_requests
    assert exchange.verifier and not exchange.verifier_ok and exchange.status == 400
    assert any("invalid_grant" in line for line in refusals(caplog))
    assert not await is_proven(client)


async def test_an_account_on_another_domain_is_refused_with_a_clear_page(
    client: Client, fake: FakeOidc
) -> None:
    fake.email = "sam.taylor@example.com"
    refused = await sign_in(client)
    assert refused.status == 403
    page = await refused.text()
    assert "sam.taylor@example.com isn&#39;t a staff account of" in page
    assert not await is_proven(client)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?error=access_denied&state=abc",
        "?error=%3Cscript%3E&state=abc",
        "?code=abc",
        "?state=abc",
        f"?code={'a' * 5000}&state=abc",
        "?code=abc&state=%ED%A0%80",
        "?code=%00%FF&state=%F0%9F%98%80",
    ],
)
async def test_a_broken_callback_is_a_clear_4xx(
    client: Client, caplog: pytest.LogCaptureFixture, query: str
) -> None:
    caplog.clear()
    refused = await client.get(f"/chat/oidc/callback{query}", allow_redirects=False)
    assert refused.status == 400
    assert "<script>" not in await refused.text()
    assert len(refusals(caplog)) == 1


async def test_a_garbled_sign_in_cookie_is_refused_not_a_crash(client: Client) -> None:
    callback = await trip_to_provider(client)
    client.session.cookie_jar.clear()
    refused = await client.get(
        callback, allow_redirects=False, headers={"Cookie": "itbot_oidc=\u00e9t\u00e9"}
    )
    assert refused.status == 400 and not await is_proven(client)


async def test_an_unreachable_provider_is_a_clear_page_and_the_code_sign_in_remains(
    client: Client, fake: FakeOidc, caplog: pytest.LogCaptureFixture
) -> None:
    await fake.close()
    down = await client.get("/chat/oidc/start", allow_redirects=False)
    assert down.status == 503
    assert "sign in with a code sent to your email instead" in await down.text()
    assert any("unavailable" in line for line in refusals(caplog))
    started = await client.post("/api/session", json={"email": SAM})
    assert started.status == 200 and (await started.json())["code_sent"] is True


async def test_a_sign_in_older_than_ten_minutes_is_refused(client: Client, fake: FakeOidc) -> None:
    callback = await trip_to_provider(client)
    async with database(client).session() as session, session.begin():
        await session.execute(update(OidcPending).values(expires_at=utcnow()))
    late = await client.get(callback, allow_redirects=False)
    assert late.status == 400 and "expired" in await late.text()
    assert fake.token_requests == [] and not await is_proven(client)


async def test_without_oidc_settings_there_is_no_button_and_no_route(settings: Settings) -> None:
    async with shared_app(settings) as app, TestClient(TestServer(app)) as plain:
        page = await (await plain.get("/")).text()
        assert "Sign in with your council account" not in page
        assert (await plain.get("/chat/oidc/start", allow_redirects=False)).status == 404
        assert (await plain.get("/chat/oidc/callback?code=a&state=b")).status == 404


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"ITBOT_OIDC_ISSUER": "https://login.microsoftonline.com/t/v2.0"}, "ITBOT_OIDC_CLIENT_ID"),
        ({"ITBOT_OIDC_ISSUER": "http://login.example.com/t/v2.0"}, "ITBOT_OIDC_ISSUER"),
        ({"ITBOT_OIDC_SCOPES": "email profile"}, "ITBOT_OIDC_SCOPES"),
        ({"ITBOT_TRUSTED_PROXIES": "10.0.0.0/8, the-proxy"}, "ITBOT_TRUSTED_PROXIES"),
    ],
)
def test_bad_sign_in_settings_stop_the_start_naming_the_variable(
    environ: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError) as failed:
        Settings.from_environ(environ)
    assert failed.value.variable == named
