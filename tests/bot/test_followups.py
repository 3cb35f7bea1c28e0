"""A message that follows an agent's question reaches that ticket, on every channel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import build_outbox
from bot.conversation.engine import ConversationEngine
from bot.desk.service import Actor
from bot.desk.tickets import Ticket, TicketComment
from bot.flows import default_registry
from bot.settings import Settings
from bot.storage import staff as staff_repo
from bot.storage.models import utcnow
from bot.web import keys
from tests.bot.test_conversations import Chat
from tests.conftest import SAM, say, shared_services
from tests.conftest import sign_in as chat_sign_in
from tests.desk.dashboard_support import Client, add_agent, database, raise_ticket
from tests.desk.dashboard_support import sign_in as desk_sign_in

QUESTION = "Which printer is it? The asset tag is on a sticker at the front."


async def _texts(replies: list[dict[str, object]]) -> str:
    return "\n".join(str(r["text"]) for r in replies)


async def _raise_in_chat(client: Client) -> str:
    await say(client, "I want to raise a ticket")
    await say(client, "The printer by the lift prints blank pages")
    await say(client, "Laptop, phone or printer")
    await say(client, "I can work around it for now")
    done = await _texts(await say(client, "yes"))
    assert "Done: JSD-000001" in done, done
    return "JSD-000001"


async def _agent_asks(client: Client, ref: str) -> None:
    """Pat asks on the dashboard, as an agent does: a public reply on the ticket page."""
    token = await desk_sign_in(client)
    response = await client.post(
        f"/desk/tickets/{ref}/comment",
        data={"csrf": token, "body": QUESTION, "visibility": "public"},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()


async def _page_polls_until_news(client: Client) -> str:
    """What the web chat page does every few seconds, until the agent's words arrive."""
    for _ in range(100):
        body = await (await client.get("/api/notifications")).json()
        text = "\n".join(str(r["text"]) for r in body["replies"])
        if text:
            return text
        await asyncio.sleep(0.1)
    raise AssertionError("the agent's reply never reached the web chat")


async def _comments(client: Client, ref: str) -> list[tuple[str, str]]:
    async with database(client).session() as session:
        ticket = (await session.execute(select(Ticket).where(Ticket.ref == ref))).scalar_one()
        rows = await session.execute(
            select(TicketComment)
            .where(TicketComment.ticket_id == ticket.id)
            .order_by(TicketComment.id)
        )
        return [(c.author_role, c.body) for c in rows.scalars()]


async def _asked_by_an_agent(client: Client) -> str:
    """Sam raises a ticket in the web chat, and Pat's question about it reaches the page."""
    await add_agent(database(client))
    await chat_sign_in(client, SAM)
    ref = await _raise_in_chat(client)
    await _agent_asks(client, ref)
    assert QUESTION in await _page_polls_until_news(client)
    return ref


async def test_the_answer_to_an_agents_question_reaches_the_ticket(client: Client) -> None:
    ref = await _asked_by_an_agent(client)

    reply = await _texts(await say(client, "It's AVDC-PR-0042"))
    assert f"I've added that to {ref} for Pat Lee" in reply
    assert "isn't something I can help with" not in reply
    assert (await _comments(client, ref))[-1] == ("requester", "It's AVDC-PR-0042")
    page = await (await client.get(f"/desk/tickets/{ref}")).text()
    assert "It&#39;s AVDC-PR-0042" in page or "It's AVDC-PR-0042" in page

    # answered: the next vague message is not taken for another answer
    later = await _texts(await say(client, "it's on the second floor"))
    assert "added that" not in later


async def test_what_didnt_fix_it_after_an_agents_question_answers_the_agent(
    client: Client,
) -> None:
    """ "Done, still broken" reads as a request for a ticket on its own; here it answers."""
    ref = await _asked_by_an_agent(client)
    reply = await _texts(await say(client, "Done, still broken"))
    assert f"I've added that to {ref} for Pat Lee" in reply
    assert (await _comments(client, ref))[-1] == ("requester", "Done, still broken")


async def test_a_question_after_an_agents_question_is_offered_not_assumed(
    client: Client,
) -> None:
    ref = await _asked_by_an_agent(client)

    offered = await _texts(await say(client, "how do I share my calendar with my team"))
    assert f"Add this to {ref}?" in offered
    answered = await say(client, press=("flow:ticket_reply|no", ""))
    cards = [c for r in answered for c in r["cards"]]  # type: ignore[attr-defined]
    assert any(c["url"].endswith("calendar/share-your-calendar") for c in cards), answered
    assert [b for _, b in await _comments(client, ref)] == [QUESTION]

    offered = await _texts(await say(client, "what does the sticker look like"))
    assert f"Add this to {ref}?" in offered
    assert "added that" in await _texts(await say(client, f"Add to {ref}"))  # typed label
    assert (await _comments(client, ref))[-1] == ("requester", "what does the sticker look like")


async def test_a_clear_new_request_after_an_agents_question_is_not_a_reply(
    client: Client,
) -> None:
    ref = await _asked_by_an_agent(client)
    reply = await _texts(await say(client, "I'm locked out of my account"))
    assert "added that" not in reply and "Add this to" not in reply
    assert [b for _, b in await _comments(client, ref)] == [QUESTION]


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[ConversationEngine]:
    async with shared_services(settings) as services:
        yield ConversationEngine(services, default_registry())


async def test_in_the_terminal_the_answer_follows_the_shown_question(
    engine: ConversationEngine,
) -> None:
    """The terminal can't push: the agent's words come with the next turn, and the turn
    after that is the answer."""
    from datetime import UTC, datetime

    sam = Chat(engine, channel="terminal")
    await sam.press_intent("raise_ticket")
    await sam.say("The printer by the lift prints blank pages")
    await sam.press("Laptop, phone or printer")
    await sam.press("work around it")
    assert "Done: JSD-000001" in await sam.say("yes")
    services = engine.services
    async with services.db.session() as session, session.begin():
        pat = await staff_repo.get_or_create(
            session, email="pat.lee@dacorum.gov.uk", council="dacorum", display_name="Pat Lee"
        )
        pat.is_agent = True
        ticket = await services.desk.get(session, "JSD-000001")
        assert ticket is not None
        await services.desk.comment(session, ticket, Actor.of(pat), QUESTION, now=datetime.now(UTC))
    await build_outbox(services).run_once()

    shown = await sam.say("hello again")
    assert QUESTION in shown and "added that" not in shown  # typed before they saw it
    assert "I've added that to JSD-000001" in await sam.say("It's AVDC-PR-0042")


async def test_of_several_open_tickets_the_one_whose_last_word_is_an_agents_is_awaiting(
    client: Client,
) -> None:
    """One statement finds it, however many tickets: an agent's newest public word, not
    followed by the person's own, not an internal note, not older than the window."""
    desk = client.app[keys.SERVICES].desk
    pat = await add_agent(database(client))
    agent = Actor.of(pat)
    now = utcnow()
    answered, waiting, quiet, old = [
        await raise_ticket(client, f"Problem {n}", email=SAM) for n in range(4)
    ]
    async with database(client).session() as session, session.begin():
        sam = await staff_repo.get_by_email(session, SAM)
        assert sam is not None
        me = Actor.of(sam)

        async def say_on(ticket: Ticket, who: Actor, minutes: int, public: bool = True) -> None:
            at = now - timedelta(minutes=minutes)
            here = await session.get(Ticket, ticket.id)  # in this transaction
            assert here is not None
            await desk.comment(session, here, who, "words", now=at, public=public)

        await say_on(answered, agent, 10)
        await say_on(answered, me, 5)  # the person answered already
        await say_on(waiting, agent, 8)
        await say_on(quiet, agent, 1, public=False)  # an internal note asks nobody
        await say_on(old, agent, 180)  # outside the window
        since = now - timedelta(hours=1)
        found = await desk.awaiting_requester(session, sam.id, since=since)
        assert found is not None and found[0].ref == waiting.ref

        await say_on(answered, agent, 3)  # the agent asks again: the newest now
        found = await desk.awaiting_requester(session, sam.id, since=since)
        assert found is not None and found[0].ref == answered.ref
        assert found[1].author_role != "requester"

        await say_on(answered, me, 2)
        await say_on(waiting, me, 1)
        assert await desk.awaiting_requester(session, sam.id, since=since) is None
