"""A service notice in the web chat: Dacorum staff asking about Outlook hear of the known
problem first and add themselves; Aylesbury Vale staff don't see a Dacorum notice; when
the parent ticket is resolved everyone who added themselves is told."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.desk.outage_tables import OutageSpike
from bot.desk.service import Actor
from bot.storage import staff as staff_repo
from bot.storage.models import utcnow
from bot.web import keys
from tests.conftest import ALEX, SAM, deliver_outbox, say, sign_in

Client = TestClient[web.Request, web.Application]
REPORTERS = (
    "chris.wood@dacorum.gov.uk",
    "jo.patel@dacorum.gov.uk",
    "kim.green@dacorum.gov.uk",
    "ash.khan@dacorum.gov.uk",
    "rowan.bell@dacorum.gov.uk",
)
NOTICE = "There's a known problem with Outlook since 09:40; we're on it."


@pytest.fixture(autouse=True)
def _lexical_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """Faster start without sentence embeddings: the notice comes before any search."""
    monkeypatch.setenv("ITBOT_TEST_SEMANTIC", "off")


async def _outage(app: web.Application) -> tuple[int, str]:
    """Five Dacorum people report Outlook down; an agent publishes the notice for Dacorum."""
    services = app[keys.SERVICES]
    now = utcnow()
    refs = []
    async with services.db.session() as s, s.begin():
        for n, email in enumerate(REPORTERS):
            person = await staff_repo.get_or_create(s, email=email, council="dacorum")
            ticket = await services.desk.raise_ticket(
                s, requester=person, summary="Outlook won't open", category="email",
                priority="P3", now=now - timedelta(minutes=10 - n),
            )  # fmt: skip
            refs.append(str(ticket.ref))
    # the outbox worker checks each new ticket for an outage (this one, or the app's own)
    spikes: list[OutageSpike] = []
    for _ in range(200):
        await deliver_outbox(services)
        async with services.db.session() as s:
            spikes = await services.desk.spikes.unpublished(s, now=now)
        if spikes:
            break
        await asyncio.sleep(0.05)
    [spike] = spikes
    async with services.db.session() as s, s.begin():
        notice = await services.desk.notices.publish(
            s, text=NOTICE, products=["Outlook"], councils=["dacorum"],
            expires_at=now + timedelta(hours=4), by="pat.lee@dacorum.gov.uk", now=now,
            spike_id=spike.id,
        )  # fmt: skip
        return notice.id, refs[0]


def _texts(replies: list[dict[str, object]]) -> list[str]:
    return [str(r["text"]) for r in replies]


async def test_staff_are_told_first_add_themselves_and_hear_when_fixed(client: Client) -> None:
    notice_id, parent_ref = await _outage(client.app)
    await sign_in(client, SAM)
    replies = await say(client, "Outlook won't load my emails")
    assert _texts(replies)[0].startswith(NOTICE)  # told first, then the usual answer
    assert len(replies) > 1
    buttons = cast(list[dict[str, str]], replies[0]["buttons"])
    [add_me] = [b for b in buttons if b["label"] == "Add me to it"]
    joined = await say(client, press=(add_me["action"], ""))
    assert "you're added" in _texts(joined)[0]
    # not about the notice: no notice
    assert not any(NOTICE in t for t in _texts(await say(client, "How do I book a room?")))

    # Alex works for Aylesbury Vale: the Dacorum-only notice isn't shown to them
    client.session.cookie_jar.clear()
    await sign_in(client, ALEX)
    replies = await say(client, "Outlook won't load my emails")
    assert not any(NOTICE in t for t in _texts(replies))

    # an agent resolves the parent ticket: Sam, who added themselves, is told
    services = client.app[keys.SERVICES]
    async with services.db.session() as s, s.begin():
        pat = await staff_repo.get_or_create(s, email="pat.lee@dacorum.gov.uk", council="dacorum")
        pat.is_agent = True
        parent = await services.desk.get(s, parent_ref)
        assert parent is not None
        await services.desk.set_status(s, parent, Actor.of(pat), "resolved", now=utcnow())
    await deliver_outbox(services)
    client.session.cookie_jar.clear()
    await sign_in(client, SAM)
    told = _texts(await say(client, "thanks"))
    assert any(
        t.startswith("Good news: the known problem you were added to has been fixed") for t in told
    )
    assert notice_id


async def test_a_ticket_about_a_notice_offers_to_add_instead(client: Client) -> None:
    await _outage(client.app)
    await sign_in(client, SAM)
    replies = await say(client, "I want to raise a ticket: Outlook keeps crashing on me")
    assert _texts(replies)[0].startswith(NOTICE)  # before any question about the ticket
    labels = [b["label"] for b in cast(list[dict[str, str]], replies[0]["buttons"])]
    assert labels == ["Add me to it", "Raise a ticket anyway"]
    # raising it anyway goes on to the usual questions
    replies = await say(client, press=("flow:raise_ticket|new", ""))
    assert not any(NOTICE in t for t in _texts(replies))
    assert replies[-1]["kind"] == "question"


async def test_asking_whether_anything_is_down_lists_the_councils_notices(
    client: Client,
) -> None:
    """ "Is there an outage?" names no product: every notice standing for the asker's
    council, with "Add me to it"; none for the other council's staff."""
    await sign_in(client, SAM)
    nothing = _texts(await say(client, "is there an outage?"))
    assert nothing == [
        "There are no known problems for Dacorum Borough Council staff right now. If something "
        "isn't working, tell me what and I'll find a guide or raise a ticket."
    ]
    none_with = _texts(await say(client, "is Outlook down?"))
    assert none_with[0] == (
        "There's no known problem with Outlook for Dacorum Borough Council staff right now."
    )
    assert len(none_with) > 1  # then the usual answer

    await _outage(client.app)
    replies = await say(client, "is anything down at the moment?")
    assert _texts(replies) == [
        f"{NOTICE} You can add yourself to it and we'll tell you when it's fixed."
    ]
    buttons = cast(list[dict[str, str]], replies[0]["buttons"])
    assert [b["label"] for b in buttons] == ["Add me to it"]

    client.session.cookie_jar.clear()
    await sign_in(client, ALEX)
    assert (
        "no known problems for Aylesbury Vale"
        in _texts(await say(client, "any known issues today?"))[0]
    )
