"""Agents in the Teams triage channel, against the local fake of the Bot Connector over real
HTTP: a card per new ticket, Claim / Assign / Resolve by agents only, replies in a ticket's
thread as comments, the requester's replies relayed, Bot Connector failures retried."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import unquote

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update

from bot.desk.actor import Actor
from bot.desk.tickets import OutboxMessage, Ticket
from bot.errors import SettingsError
from bot.settings import Settings
from bot.storage import staff as staff_repo
from bot.storage import teams_threads
from bot.storage.models import utcnow
from bot.web import keys
from tests.slack.fake_slack import Models
from tests.teams.fake_teams import (
    ALEX,
    Call,
    FakeTeams,
    TeamsDriver,
    cached_models,
    fake_teams,
    forged_key,
    message,
    sign,
    teams_settings,
)

__all__ = ["cached_models", "fake_teams"]  # fixtures used below

TRIAGE = "19:jsd-triage-0123456789abcdef@thread.tacv2"
KIM = "29:kim-teams-id"  # an agent through ITBOT_DESK_AGENTS (Aylesbury Vale)
LEE = "29:lee-teams-id"  # another agent, given the role by hand (Dacorum)
KIM_EMAIL = "kim.lee@aylesburyvaledc.gov.uk"
LEE_EMAIL = "lee.patel@dacorum.gov.uk"
T = TypeVar("T")


@pytest.fixture
async def triage(
    settings: Settings, fake_teams: FakeTeams, cached_models: Models
) -> AsyncIterator[TeamsDriver]:
    """``itbot serve`` with Teams and its triage channel on, talking to the fake."""
    fake_teams.add_user(KIM, KIM_EMAIL, "Kim Lee")
    fake_teams.add_user(LEE, LEE_EMAIL, "Lee Patel")
    config = teams_settings(
        settings,
        fake_teams,
        teams_triage_channel=TRIAGE,
        teams_triage_service_url=fake_teams.service_url,
        desk_agents=(KIM_EMAIL,),
    )
    async with (
        cached_models.app(config, watch_knowledge=False) as app,
        TestClient(TestServer(app)) as client,
    ):
        driver = TeamsDriver(client, fake_teams, app)
        async with app[keys.SERVICES].db.session() as session, session.begin():
            lee = await staff_repo.get_or_create(
                session, email=LEE_EMAIL, council="dacorum", display_name="Lee Patel"
            )
            lee.is_agent = True
        yield driver


async def _raise(teams: TeamsDriver, summary: str = "Shared mailbox **missing**") -> str:
    """Sam raises a ticket through the desk's domain API, as a chat flow does."""
    services = teams.app[keys.SERVICES]
    async with services.db.session() as session, session.begin():
        sam = await staff_repo.get_or_create(
            session, email="sam.taylor@dacorum.gov.uk", council="dacorum", display_name="Sam Taylor"
        )
        ticket = await services.desk.raise_ticket(
            session,
            requester=sam,
            summary=summary,
            category="email",
            priority="P2",
            now=utcnow(),
        )
        return str(ticket.ref)


async def _card(teams: TeamsDriver, count: int = 1) -> Call:
    await teams.fake.wait_until(lambda: len(teams.fake.threads()) >= count)
    return teams.fake.threads()[count - 1]


def _content(call: Call) -> dict[str, Any]:
    body = call.body.get("activity", call.body)
    return dict(body["attachments"][0]["content"])


def _data(call: Call, title: str, **inputs: str) -> dict[str, Any]:
    """What Teams sends when ``title`` is pressed on the card (ShowCard inputs merged)."""
    for action in _content(call)["actions"]:
        if action["title"] == title and action["type"] == "Action.Submit":
            return {**action["data"], **inputs}
        if action["title"] == title and action["type"] == "Action.ShowCard":
            [submit] = action["card"]["actions"]
            return {**submit["data"], **inputs}
    raise AssertionError(f"no {title!r} on {json.dumps(_content(call))}")


def _in_thread(teams: TeamsDriver, user: str, card: Call, **kw: Any) -> dict[str, Any]:
    """An activity from ``user`` in the card's thread (a press or a reply)."""
    thread = str(card.result["id"])
    activity = message(teams.fake, user, personal=False, conversation=thread, **kw)
    activity["channelData"] |= {"channel": {"id": TRIAGE}, "team": {"id": "19:team@thread"}}
    return activity


def _updates_of(teams: TeamsDriver, card: Call) -> list[Call]:
    """The updates of ``card`` (``PUT …/activities/<its id>``), oldest first."""
    suffix = f"/activities/{card.result['activityId']}"
    return [c for c in teams.fake.updates() if unquote(c.path).endswith(suffix)]


def _replies_in(teams: TeamsDriver, card: Call) -> list[Call]:
    """What the bot said in the card's thread."""
    thread = str(card.result["id"])
    return [c for c in teams.fake.posts() if thread in unquote(c.path)]


async def _ticket(teams: TeamsDriver, ref: str) -> Ticket:
    services = teams.app[keys.SERVICES]
    async with services.db.session() as session:
        ticket = await services.desk.get(session, ref)
        assert ticket is not None
        return ticket


async def _poll(get: Callable[[], Awaitable[T]], check: Callable[[T], Any]) -> T:
    """``get()`` once ``check`` holds of it (the outbox commits just after it calls Teams)."""
    deadline = time.monotonic() + 10
    while True:
        found = await get()
        if check(found) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def _posted(teams: TeamsDriver, ref: str) -> teams_threads.TeamsTicketThread | None:
    services = teams.app[keys.SERVICES]
    async with services.db.session() as session:
        ticket = await services.desk.get(session, ref)
        assert ticket is not None
        return await teams_threads.of_ticket(session, ticket.id)


async def test_a_new_ticket_posts_one_card_in_a_new_thread(triage: TeamsDriver) -> None:
    ref = await _raise(triage)
    card = await _card(triage)
    assert card.body["isGroup"] is True
    assert card.body["channelData"]["channel"]["id"] == TRIAGE
    assert card.headers["Authorization"] == f"Bearer {triage.fake.tokens_issued[0]}"
    text = json.dumps(_content(card))
    assert ref in text and "Dacorum Borough Council" in text and "P2" in text
    assert "Response due" in text and "Resolution due" in text
    summary = [b for b in _content(card)["body"] if b["type"] == "RichTextBlock"]
    assert summary[0]["inlines"][0] == {"type": "TextRun", "text": "Shared mailbox **missing**"}
    choices = json.dumps(_data(card, "Assign"))
    assert "assign" in choices
    posted = await _poll(lambda: _posted(triage, ref), lambda p: p is not None)
    assert posted is not None and posted.conversation_id == card.result["id"]
    assert len(triage.fake.threads()) == 1  # its outbox row is delivered: no second card


async def test_an_agent_claims_and_the_card_follows(triage: TeamsDriver) -> None:
    ref = await _raise(triage)
    card = await _card(triage)
    response = await triage.send(_in_thread(triage, KIM, card, value=_data(card, "Claim")))
    assert response.status == 200
    ticket = await _ticket(triage, ref)
    assert ticket.assignee is not None and ticket.assignee.email == KIM_EMAIL
    assert ticket.status == "open"
    await triage.fake.wait_until(lambda: any(_updates_of(triage, card)))
    update_call = _updates_of(triage, card)[-1]
    assert unquote(update_call.path).startswith(f"/v3/conversations/{card.result['id']}/")
    facts = json.dumps(_content(update_call))
    assert "Kim Lee" in facts and "Open" in facts
    assert not _replies_in(triage, card)  # the card's update says it all


async def test_someone_who_is_not_an_agent_is_refused_and_nothing_changes(
    triage: TeamsDriver,
) -> None:
    ref = await _raise(triage)
    card = await _card(triage)
    for title in ("Claim", "Resolve"):
        press = _in_thread(triage, ALEX, card, value=_data(card, title))
        assert (await triage.send(press)).status == 200
    refusals = _replies_in(triage, card)
    assert len(refusals) == 2
    assert all("only service desk agents can change tickets" in r.card_text for r in refusals)
    assert "Sorry Alex" in refusals[0].card_text
    # a typed-in assignee or a forged "from" name grants nothing: Alex is who the lookup says
    forged = _data(card, "Assign", itbot_assignee="1")
    press = _in_thread(triage, ALEX, card, value=forged)
    press["from"]["name"] = "Kim Lee"
    assert (await triage.send(press)).status == 200
    ticket = await _ticket(triage, ref)
    assert ticket.status == "new" and ticket.assignee is None
    services = triage.app[keys.SERVICES]
    async with services.db.session() as session:  # no change: nothing for the card to show
        query = select(OutboxMessage.kind).where(OutboxMessage.ticket_id == ticket.id)
        kinds = set((await session.execute(query)).scalars())
    assert kinds == {"ticket_created"}
    assert not _updates_of(triage, card)


async def test_assign_and_resolve_from_the_card(triage: TeamsDriver) -> None:
    ref = await _raise(triage)
    card = await _card(triage)
    services = triage.app[keys.SERVICES]
    async with services.db.session() as session:
        lee = await staff_repo.get_by_email(session, LEE_EMAIL)
    assert lee is not None
    [assign] = [a for a in _content(card)["actions"] if a["title"] == "Assign"]
    offered = assign["card"]["body"][0]["choices"]
    assert {"title": "Lee Patel", "value": str(lee.id)} in offered
    value = _data(card, "Assign", itbot_assignee=str(lee.id))
    assert (await triage.send(_in_thread(triage, KIM, card, value=value))).status == 200
    ticket = await _ticket(triage, ref)
    assert ticket.assignee is not None and ticket.assignee.email == LEE_EMAIL

    assert (await triage.send(_in_thread(triage, KIM, card, value=_data(card, "Resolve")))).status
    ticket = await _ticket(triage, ref)
    assert ticket.status == "resolved"

    def resolved_shown() -> bool:
        shown = [json.dumps(_content(u)) for u in _updates_of(triage, card)]
        return any("Resolved" in s and "Lee Patel" in s for s in shown)

    await triage.fake.wait_until(resolved_shown)
    last = _content(_updates_of(triage, card)[-1])
    assert [a["title"] for a in last["actions"]] == ["Open in the dashboard"]

    # resolving again is refused politely by the desk's own rule, in the thread
    again = _in_thread(triage, KIM, card, value=_data(card, "Claim"))
    assert (await triage.send(again)).status == 200
    [said] = _replies_in(triage, card)
    assert ref in said.card_text or "resolved" in said.card_text.lower()


async def test_thread_replies_become_comments_and_the_requester_is_relayed(
    triage: TeamsDriver,
) -> None:
    ref = await _raise(triage)
    card = await _card(triage)
    reply = _in_thread(triage, KIM, card, text="<at>itbot</at> A new toner is on its way.")
    reply["entities"] = [{"type": "mention", "text": "<at>itbot</at>"}]
    assert (await triage.send(reply)).status == 200
    note = _in_thread(triage, KIM, card, text="<at>itbot</at> internal: ordered from stores")
    note["entities"] = reply["entities"]
    assert (await triage.send(note)).status == 200
    outsider = _in_thread(triage, ALEX, card, text="<at>itbot</at> me too!")
    outsider["entities"] = reply["entities"]
    assert (await triage.send(outsider)).status == 200

    services = triage.app[keys.SERVICES]
    async with services.db.session() as session:
        ticket = await services.desk.get(session, ref)
        assert ticket is not None
        comments = await services.desk.comments(session, ticket)
        assert ticket.first_response_at is not None
    assert [(c.body, c.public, c.author_role, c.via) for c in comments] == [
        ("A new toner is on its way.", True, "agent", "teams"),
        ("ordered from stores", False, "agent", "teams"),
    ]
    said = [c.card_text for c in _replies_in(triage, card)]
    assert "Passed on to Sam Taylor" in said[0]
    assert "internal note" in said[1]
    assert "not passed on" in said[2]

    # the requester answers (from any channel): their comment appears in the thread
    async with services.db.session() as session, session.begin():
        ticket = await services.desk.get(session, ref)
        assert ticket is not None
        await services.desk.comment(
            session,
            ticket,
            Actor.of(ticket.requester),
            "Thanks, it's the 3rd floor printer.",
            now=utcnow(),
        )
    await triage.fake.wait_until(lambda: len(_replies_in(triage, card)) == 4)
    relayed = _replies_in(triage, card)[-1]
    assert "Sam Taylor (requester) wrote:" in relayed.card_text
    assert "3rd floor printer" in relayed.card_text
    assert not unquote(relayed.path).endswith(f"/activities/{reply['id']}")


async def test_a_bot_connector_failure_is_retried_and_delivered_later(
    triage: TeamsDriver,
) -> None:
    triage.fake.fail_posts = 1
    ref = await _raise(triage)
    services = triage.app[keys.SERVICES]

    async def outbox_rows() -> list[OutboxMessage]:
        async with services.db.session() as session:
            query = select(OutboxMessage).where(OutboxMessage.destination == "teams")
            return list((await session.execute(query)).scalars())

    [row] = await _poll(outbox_rows, lambda rows: rows and rows[0].attempts)
    assert row.attempts == 1 and row.sent_at is None and "503" in (row.last_error or "")
    assert triage.fake.failed == 1 and not triage.fake.threads()
    async with services.db.session() as session, session.begin():  # its backoff is over
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row.id).values(available_at=utcnow())
        )
    card = await _card(triage)
    assert ref in json.dumps(_content(card))
    [row] = await _poll(outbox_rows, lambda rows: rows[0].sent_at is not None)
    assert row.sent_at is not None and row.attempts == 1
    assert len(triage.fake.threads()) == 1


async def test_a_forged_token_on_a_press_gets_401_and_changes_nothing(
    triage: TeamsDriver,
) -> None:
    ref = await _raise(triage)
    card = await _card(triage)
    press = _in_thread(triage, KIM, card, value=_data(card, "Resolve"))
    for token in (sign(press["serviceUrl"], key=forged_key()), ""):
        assert (await triage.send(press, token=token)).status == 401
    assert (await _ticket(triage, ref)).status == "new"
    assert not [c for c in triage.fake.calls if "/members/" in c.path]


def test_the_triage_channel_is_checked_at_start() -> None:
    base = {"ITBOT_TEAMS_TRIAGE_CHANNEL": TRIAGE}
    with pytest.raises(SettingsError, match=r"ITBOT_TEAMS_TRIAGE_CHANNEL.*ITBOT_TEAMS_APP_ID"):
        Settings.from_environ(base)
    teams_on = {**base, "ITBOT_TEAMS_APP_ID": "app", "ITBOT_TEAMS_APP_PASSWORD": "secret"}
    with pytest.raises(SettingsError, match=r"ITBOT_TEAMS_TRIAGE_CHANNEL.*19:"):
        Settings.from_environ({**teams_on, "ITBOT_TEAMS_TRIAGE_CHANNEL": "general"})
    with pytest.raises(SettingsError, match=r"ITBOT_TEAMS_TRIAGE_SERVICE_URL.*SERVICE_HOSTS"):
        Settings.from_environ(
            {**teams_on, "ITBOT_TEAMS_TRIAGE_SERVICE_URL": "https://evil.example/"}
        )
    settings = Settings.from_environ(teams_on)
    assert settings.teams_triage_enabled
    assert settings.teams_triage_service_url == "https://smba.trafficmanager.net/teams/"
