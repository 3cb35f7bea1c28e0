"""Signing in to /desk over real HTTP: who gets in, who is refused, and forged forms."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from bot.desk.accounts import DeskAccount, DeskLoginAttempt, DeskSession
from bot.settings import Settings
from bot.storage import staff as staff_repo
from bot.storage.models import AuditEntry
from tests.desk.dashboard_support import (
    PASSWORD,
    PAT,
    SAM,
    Client,
    add_agent,
    csrf_in,
    database,
    quick_settings,
    raise_ticket,
    requester,
    sign_in,
)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return quick_settings(database_url, tmp_path)


async def test_every_page_needs_signing_in(client: Client) -> None:
    ticket = await raise_ticket(client, "Outlook keeps asking for my password")
    for path in ("/desk/", f"/desk/tickets/{ticket.ref}", "/desk/?sla=breached"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"].startswith("/desk/login")
    response = await client.post(f"/desk/tickets/{ticket.ref}/claim", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/desk/login"
    bare = await client.get("/desk", allow_redirects=False)
    assert bare.status == 308 and bare.headers["Location"] == "/desk/"
    page = await client.get(f"/desk/tickets/{ticket.ref}")
    assert page.url.path == "/desk/login"
    assert f'value="/desk/tickets/{ticket.ref}"' in await page.text()


async def test_an_agent_signs_in_and_out(client: Client) -> None:
    await add_agent(database(client))
    await sign_in(client)
    jar = {cookie.key: cookie for cookie in client.session.cookie_jar}
    cookie = jar["itbot_desk"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/desk"
    assert PASSWORD not in cookie.value
    page = await client.get("/desk/")
    html = await page.text()
    assert "Signed in as" in html and page.headers["Cache-Control"] == "no-store"

    async with database(client).session() as session:
        sam_agent = await staff_repo.get_by_email(session, PAT)
        stored = (await session.execute(select(DeskAccount.password_hash))).scalar_one()
        audit = (await session.execute(select(AuditEntry.action))).scalars().all()
    assert sam_agent is not None and sam_agent.is_agent
    assert stored.startswith("scrypt$") and PASSWORD not in stored
    assert "desk_sign_in" in audit

    stolen = cookie.value
    out = await client.post("/desk/logout", data={"csrf": csrf_in(html)}, allow_redirects=False)
    assert out.status == 303 and out.headers["Location"] == "/desk/login"
    again = await client.get("/desk/", cookies={"itbot_desk": stolen}, allow_redirects=False)
    assert again.status == 303, "a signed-out session must not work again"
    async with database(client).session() as session:
        assert (await session.execute(select(func.count()).select_from(DeskSession))).scalar() == 0


async def test_wrong_password_and_unknown_email_get_the_same_refusal(client: Client) -> None:
    await add_agent(database(client))
    answers = []
    for email, password in ((PAT, "not the password"), ("nobody@dacorum.gov.uk", PASSWORD)):
        form = await client.get("/desk/login")
        response = await client.post(
            "/desk/login",
            data={"email": email, "password": password, "csrf": csrf_in(await form.text())},
            allow_redirects=False,
        )
        assert response.status == 401
        html = await response.text()
        answers.append(html.split('id="login-error">')[1].split("<")[0])
        assert "itbot_desk" not in {c.key for c in client.session.cookie_jar}
    assert answers[0] == answers[1]


async def test_sign_in_is_rate_limited_per_email_and_address(client: Client) -> None:
    await add_agent(database(client))

    async def attempt(password: str) -> int:
        form = await client.get("/desk/login")
        response = await client.post(
            "/desk/login",
            data={"email": PAT, "password": password, "csrf": csrf_in(await form.text())},
            allow_redirects=False,
        )
        return response.status

    assert [await attempt(f"guess {i}") for i in range(5)] == [401] * 5
    assert await attempt(PASSWORD) == 429, "the right password is refused once locked"
    async with database(client).session() as session:
        count = select(func.count()).select_from(DeskLoginAttempt)
        assert (await session.execute(count)).scalar() == 6, "the limit lives in the database"
    async with database(client).session() as session, session.begin():
        await session.execute(delete(DeskLoginAttempt))
    assert await attempt(PASSWORD) == 303


async def test_forged_forms_are_refused(client: Client) -> None:
    await add_agent(database(client))
    ticket = await raise_ticket(client, "Teams will not start")
    no_login_token = await client.post(
        "/desk/login", data={"email": PAT, "password": PASSWORD}, allow_redirects=False
    )
    assert no_login_token.status == 403
    token = await sign_in(client)
    for data in ({}, {"csrf": "forged"}, {"csrf": token[:-1]}):
        response = await client.post(f"/desk/tickets/{ticket.ref}/claim", data=data)
        assert response.status == 403
        assert "Form expired" in await response.text()
    cross_site = await client.post(
        f"/desk/tickets/{ticket.ref}/claim",
        data={"csrf": token},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status == 403
    page = await client.get(f"/desk/tickets/{ticket.ref}")
    assert "Unassigned" in await page.text()
    ok = await client.post(f"/desk/tickets/{ticket.ref}/claim", data={"csrf": token})
    assert ok.status == 200 and "You have taken this ticket" in await ok.text()


async def test_someone_who_is_no_longer_an_agent_is_refused(client: Client) -> None:
    await add_agent(database(client))
    await sign_in(client)
    async with database(client).session() as session, session.begin():
        staff = await staff_repo.get_by_email(session, PAT)
        assert staff is not None
        staff.is_agent = False
    response = await client.get("/desk/")
    assert response.status == 403
    assert "is not a service desk agent" in await response.text()


async def test_only_dashboard_pages_are_offered_after_signing_in(client: Client) -> None:
    await add_agent(database(client))
    form = await client.get("/desk/login?next=//evil.example/x")
    html = await form.text()
    assert "evil" not in html
    response = await client.post(
        "/desk/login",
        data={"email": PAT, "password": PASSWORD, "csrf": csrf_in(html), "next": "//evil.x/"},
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/desk/"


@pytest.mark.parametrize("header", ["X-Forwarded-Email"])
async def test_behind_sso_the_header_names_the_agent(
    header: str, database_url: str, tmp_path: Path
) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.app import create_app

    app = create_app(quick_settings(database_url, tmp_path, ITBOT_TRUSTED_EMAIL_HEADER=header))
    async with TestClient(TestServer(app)) as sso:
        await add_agent(database(sso), PAT, password=None)
        await requester(database(sso), SAM)
        ticket = await raise_ticket(sso, "Cannot open shared mailbox")

        nobody = await sso.get("/desk/")
        assert nobody.status == 401
        staff_member = await sso.get("/desk/", headers={header: SAM})
        assert staff_member.status == 403, "staff who are not agents are refused"
        stranger = await sso.get("/desk/", headers={header: "who@example.com"})
        assert stranger.status == 403

        page = await sso.get("/desk/", headers={header: PAT})
        html = await page.text()
        assert page.status == 200 and (ticket.ref or "?") in html and "Sign out" not in html
        login = await sso.get("/desk/login", headers={header: PAT}, allow_redirects=False)
        assert login.status == 303 and login.headers["Location"] == "/desk/"

        ticket_page = await sso.get(f"/desk/tickets/{ticket.ref}", headers={header: PAT})
        token = csrf_in(await ticket_page.text())
        forged = await sso.post(
            f"/desk/tickets/{ticket.ref}/claim", data={"csrf": "x"}, headers={header: PAT}
        )
        assert forged.status == 403
        as_other = await sso.post(
            f"/desk/tickets/{ticket.ref}/claim", data={"csrf": token}, headers={header: SAM}
        )
        assert as_other.status == 403
        claimed = await sso.post(
            f"/desk/tickets/{ticket.ref}/claim", data={"csrf": token}, headers={header: PAT}
        )
        assert claimed.status == 200 and "You have taken this ticket" in await claimed.text()


async def test_external_desk_webhooks_are_not_behind_the_dashboard_sign_in(
    client: Client,
) -> None:
    response = await client.post("/desk/webhooks/rt", data=b"{}", allow_redirects=False)
    assert response.status != 303 and "Location" not in response.headers
    assert "Form expired" not in await response.text()


async def test_password_spraying_from_one_address_is_throttled(
    client: Client, settings: Settings
) -> None:
    await add_agent(database(client))
    limit = settings.signin_address_limit

    async def attempt(email: str, password: str) -> tuple[int, str]:
        form = await client.get("/desk/login")
        response = await client.post(
            "/desk/login",
            data={"email": email, "password": password, "csrf": csrf_in(await form.text())},
            allow_redirects=False,
        )
        html = await response.text()
        error = html.split('id="login-error">')[1].split("<")[0] if response.status != 303 else ""
        return response.status, error

    sprayed = [await attempt(f"person{i}@dacorum.gov.uk", "Summer2026!") for i in range(limit)]
    assert [status for status, _ in sprayed] == [401] * limit, "each email is only tried once"
    unknown = await attempt("nobody.else@dacorum.gov.uk", "Summer2026!")
    known = await attempt(PAT, PASSWORD)
    assert unknown[0] == known[0] == 429, "the address is throttled across emails"
    assert unknown == known, "the refusal does not tell whether the account exists"
    assert "Too many sign-in attempts from your network" in known[1]
    assert PASSWORD not in known[1]
    async with database(client).session() as session, session.begin():
        await session.execute(delete(DeskLoginAttempt))
    assert (await attempt(PAT, PASSWORD))[0] == 303, "the right password works after the window"
