"""The messaging endpoint against a local fake of the Bot Connector, over real HTTP:
tokens checked, replies sent with the bot's token, who is asking, buttons and news."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import pytest

from bot.channels.teams.render import button_data
from bot.conversation.actions import ChooseIntent
from bot.desk.actor import Actor
from bot.storage import staff as staff_repo
from bot.web import keys
from tests.conftest import deliver_outbox
from tests.teams.fake_teams import (
    ALEX,
    PAT,
    SAM,
    TeamsDriver,
    cached_models,
    fake_teams,
    forged_key,
    message,
    sign,
    teams,
)

__all__ = ["cached_models", "fake_teams", "teams"]  # fixtures used below

OUT_OF_OFFICE = "how do I turn on my out of office reply in Outlook"


async def test_a_signed_message_gets_its_reply_with_the_bots_token(teams: TeamsDriver) -> None:
    activity = message(teams.fake, SAM, OUT_OF_OFFICE)
    response = await teams.send(activity)
    assert response.status == 200
    [post] = teams.fake.posts()
    conversation = activity["conversation"]["id"]
    assert post.path == f"/v3/conversations/{conversation}/activities/{activity['id']}"
    assert post.headers["Authorization"] == f"Bearer {teams.fake.tokens_issued[0]}"
    assert post.body["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert "out of office" in post.card_text.lower() or "automatic repl" in post.card_text.lower()
    assert "Open the full guide" in post.card_text

    await teams.send(message(teams.fake, SAM, "thanks"))
    assert len(teams.fake.posts()) == 2
    assert len(teams.fake.tokens_issued) == 1  # the bot's token is cached


@pytest.mark.parametrize(
    "problem",
    ["forged signature", "expired", "wrong audience", "wrong issuer", "other service", "none"],
)
async def test_a_bad_token_gets_401_and_no_reply(
    teams: TeamsDriver, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    activity = message(teams.fake, SAM, OUT_OF_OFFICE)
    url = activity["serviceUrl"]
    token = {
        "forged signature": sign(url, key=forged_key()),
        "expired": sign(url, expires_in=-400),  # past the 5 minutes' leeway
        "wrong audience": sign(url, audience="someone-elses-bot"),
        "wrong issuer": sign(url, issuer="https://evil.example"),
        "other service": sign("https://smba.trafficmanager.net/uk/"),
        "none": "",
    }[problem]
    with caplog.at_level(logging.WARNING, logger="bot.channels.teams"):
        response = await teams.send(activity, token=token)
    assert response.status == 401
    assert not teams.fake.posts()
    assert not [c for c in teams.fake.calls if "/members/" in c.path]
    refusals = [r for r in caplog.records if "refused 401" in r.getMessage()]
    assert len(refusals) == 1
    assert not token or token not in caplog.text


async def test_a_token_just_expired_is_within_the_leeway(teams: TeamsDriver) -> None:
    activity = message(teams.fake, SAM, "hello")
    response = await teams.send(activity, token=sign(activity["serviceUrl"], expires_in=-60))
    assert response.status == 200
    assert len(teams.fake.posts()) == 1


async def test_a_service_url_off_the_allow_list_is_refused(teams: TeamsDriver) -> None:
    activity = message(teams.fake, SAM, "hello")
    activity["serviceUrl"] = "http://192.0.2.1:9/"
    response = await teams.send(activity, token=sign(activity["serviceUrl"]))
    assert response.status == 400
    assert not teams.fake.calls or all("/v3/" not in c.path for c in teams.fake.calls)


async def test_garbage_gets_a_4xx(teams: TeamsDriver) -> None:
    response = await teams.client.post(
        "/api/messages", data=b"{not json", headers={"Authorization": "Bearer x.y.z"}
    )
    assert response.status == 401
    activity = message(teams.fake, SAM, "hello")
    del activity["from"]
    assert (await teams.send(activity)).status == 400


async def test_the_guard_is_on_the_teams_route_only(teams: TeamsDriver) -> None:
    assert (await teams.client.get("/healthz")).status == 200


async def test_the_member_lookup_maps_each_person_to_their_council(teams: TeamsDriver) -> None:
    await teams.send(message(teams.fake, SAM, "I need a new phone number for my desk"))
    await teams.send(message(teams.fake, ALEX, "I need a new phone number for my desk"))
    lookups = [c.path for c in teams.fake.calls if "/members/" in c.path]
    assert lookups == [
        f"/v3/conversations/a:personal-sam-teams-id/members/{SAM}",
        f"/v3/conversations/a:personal-alex-teams-id/members/{ALEX}",
    ]
    services = teams.app[keys.SERVICES]
    async with services.db.session() as session:
        sam = await staff_repo.get_by_email(session, "sam.taylor@dacorum.gov.uk")
        alex = await staff_repo.get_by_email(session, "alex.jones@aylesburyvaledc.gov.uk")
    assert sam is not None and sam.council == "dacorum"
    assert alex is not None and alex.council == "aylesbury-vale"

    await teams.send(message(teams.fake, SAM, "hello again"))  # cached: no second lookup
    assert len([c for c in teams.fake.calls if "/members/" in c.path]) == 2


async def test_someone_outside_the_councils_is_refused_politely(teams: TeamsDriver) -> None:
    await teams.send(message(teams.fake, PAT, OUT_OF_OFFICE))
    [post] = teams.fake.posts()
    assert "I can only help staff of" in post.card_text
    assert "Open the full guide" not in post.card_text


async def test_a_button_press_continues_the_flow(teams: TeamsDriver) -> None:
    await teams.send(message(teams.fake, SAM, OUT_OF_OFFICE))
    [answer] = teams.fake.posts()
    no = answer.button("No")
    assert no["type"] == "Action.Submit"

    await teams.send(message(teams.fake, SAM, value=no["data"]))
    sorry = teams.fake.posts()[1]
    assert "Thanks for telling me" in sorry.card_text
    assert "01632 960 200" in sorry.card_text  # Dacorum's desk, not Aylesbury Vale's

    await teams.send(message(teams.fake, SAM, value=sorry.button("Raise a ticket")["data"]))
    assert "ticket" in teams.fake.posts()[2].card_text.lower()


async def test_a_redelivered_activity_is_answered_once(teams: TeamsDriver) -> None:
    activity = message(teams.fake, SAM, "hello")
    await teams.send(activity)
    await teams.send(activity)
    assert len(teams.fake.posts()) == 1


async def test_a_reply_is_retried_when_the_connector_is_busy(teams: TeamsDriver) -> None:
    teams.fake.fail_posts = 2
    response = await teams.send(message(teams.fake, SAM, "hello"))
    assert response.status == 200
    assert len(teams.fake.posts()) == 1


async def _raise_ticket(teams: TeamsDriver, user: str) -> str:
    """``user`` raises a ticket through the raise_ticket flow, pressing its buttons."""
    fake = teams.fake
    await teams.send(message(fake, user, value=button_data(ChooseIntent("raise_ticket"), "")))
    await teams.send(message(fake, user, "The printer by the lift prints blank pages"))
    for label in ("Laptop, phone or printer", "I can work around it for now"):
        await teams.send(message(fake, user, value=fake.posts()[-1].button(label)["data"]))
    await teams.send(message(fake, user, "yes"))
    # the new ticket's triage card, woken by the same commit, may be posted after the reply
    done = next(p.card_text for p in reversed(fake.posts()) if "Done:" in p.card_text)
    match = re.search(r"Done: (JSD-\d{6})", done)
    assert match is not None, done
    return match.group(1)


async def test_a_ticket_update_arrives_in_the_personal_chat(teams: TeamsDriver) -> None:
    fake = teams.fake
    ref = await _raise_ticket(teams, SAM)
    services = teams.app[keys.SERVICES]
    await deliver_outbox(services)  # the new ticket's own messages
    before = len(fake.posts())
    async with services.db.session() as session, session.begin():
        pat = await staff_repo.get_or_create(
            session, email="pat.lee@dacorum.gov.uk", council="dacorum", display_name="Pat Lee"
        )
        pat.is_agent = True
        ticket = await services.desk.get(session, ref)
        assert ticket is not None
        await services.desk.comment(
            session, ticket, Actor.of(pat), "A new toner is on its way.", now=datetime.now(UTC)
        )
    await deliver_outbox(services)

    posts = fake.posts()
    assert len(posts) == before + 1, [p.card_text for p in posts[before:]]
    news = posts[-1]
    assert news.path == "/v3/conversations/a:personal-sam-teams-id/activities"  # not a reply
    assert "A new toner is on its way." in news.card_text
    assert ref in news.card_text
    assert news.headers["Authorization"] == f"Bearer {fake.tokens_issued[0]}"


async def test_a_rating_request_has_buttons_that_record_the_rating(teams: TeamsDriver) -> None:
    fake = teams.fake
    ref = await _raise_ticket(teams, ALEX)
    services = teams.app[keys.SERVICES]
    async with services.db.session() as session, session.begin():
        ticket = await services.desk.get(session, ref)
        assert ticket is not None
        pat = await staff_repo.get_or_create(
            session, email="pat.lee@aylesburyvaledc.gov.uk", council="aylesbury-vale"
        )
        pat.is_agent = True
        await services.desk.set_status(
            session, ticket, Actor.of(pat), "resolved", now=datetime.now(UTC)
        )
    await deliver_outbox(services)
    rating = next(p for p in reversed(fake.posts()) if "How did we do" in p.card_text)
    pressed = len(fake.posts())
    await teams.send(message(fake, ALEX, value=rating.button("5")["data"]))
    assert any("Thank" in p.card_text for p in fake.posts()[pressed:])
    async with services.db.session() as session:
        ticket = await services.desk.get(session, ref)
        assert ticket is not None and ticket.csat_score == 5


async def test_a_mention_in_a_team_channel_is_answered_in_its_thread(teams: TeamsDriver) -> None:
    activity = message(
        teams.fake,
        ALEX,
        f"<at>itbot</at> {OUT_OF_OFFICE}",
        personal=False,
        conversation="19:housing@thread.tacv2;messageid=1733475600000",
    )
    activity["entities"] = [{"type": "mention", "text": "<at>itbot</at>"}]
    assert (await teams.send(activity)).status == 200
    [post] = teams.fake.posts()
    assert post.path.endswith(f"/activities/{activity['id']}")  # a reply in the thread
    assert "19:housing@thread.tacv2" in post.path.replace("%3A", ":").replace("%40", "@")
    assert "Open the full guide" in post.card_text
    assert "Enter the code" not in post.card_text


async def test_someone_from_another_tenant_is_refused_without_a_lookup(teams: TeamsDriver) -> None:
    activity = message(teams.fake, SAM, OUT_OF_OFFICE)
    activity["conversation"]["tenantId"] = "99999999-0000-4000-8000-000000000000"
    assert (await teams.send(activity)).status == 200
    [post] = teams.fake.posts()
    assert "I can only help staff of" in post.card_text
    assert not [c for c in teams.fake.calls if "/members/" in c.path]


async def test_a_member_added_update_gets_no_reply(teams: TeamsDriver) -> None:
    activity = message(teams.fake, SAM)
    activity.update(type="conversationUpdate", membersAdded=[{"id": SAM}])
    assert (await teams.send(activity)).status == 200
    assert not teams.fake.posts()


async def test_erasure_forgets_the_teams_ids_and_export_shows_them(teams: TeamsDriver) -> None:
    from bot.privacy.erasure import erase
    from bot.privacy.subject import export

    await teams.send(message(teams.fake, SAM, "hello"))
    services = teams.app[keys.SERVICES]
    async with services.db.session() as session:
        held = await export(session, "sam.taylor@dacorum.gov.uk")
    assert held is not None
    assert held["staff"]["teams"]["user_id"] == SAM
    assert held["staff"]["teams"]["conversation_id"] == "a:personal-sam-teams-id"

    async with services.db.session() as session, session.begin():
        sam = await staff_repo.get_by_email(session, "sam.taylor@dacorum.gov.uk")
        assert sam is not None
        await erase(session, sam, actor="test", now=datetime.now(UTC))
    async with services.db.session() as session:
        from bot.storage import teams_conversations

        assert await teams_conversations.by_user(session, SAM) is None


async def test_someone_the_member_lookup_does_not_know_is_refused_politely(
    teams: TeamsDriver,
) -> None:
    await teams.send(message(teams.fake, "29:nobody-we-know", OUT_OF_OFFICE))
    [post] = teams.fake.posts()
    assert "I can't see an email address on your Teams account" in post.card_text
