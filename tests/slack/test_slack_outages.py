"""An outage in Slack and on the dashboard: five similar reports from five people raise one
alert in the triage channel (the fake Slack over HTTP) and on ``/desk``; a sixth doesn't
repeat it; four don't raise it; "Publish notice" on the alert publishes the notice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.settings import Settings
from bot.storage import staff as staff_repo
from bot.storage.models import utcnow
from bot.web import keys
from tests.desk.dashboard_support import add_agent, sign_in
from tests.slack.fake_slack import (
    SAM_ID,
    Call,
    FakeSlack,
    Models,
    SlackDriver,
    cached_models,
    fake_slack,
    press_approval,
    slack_settings,
)

__all__ = ["cached_models", "fake_slack"]  # fixtures used below

TRIAGE = "CTRIAGE01"
KIM_ID = "UKIMAGENT"
KIM = "kim.lee@aylesburyvaledc.gov.uk"
REPORTS = (
    ("sam.taylor@dacorum.gov.uk", "Outlook won't open"),
    ("chris.wood@dacorum.gov.uk", "outlook is down for me"),
    ("alex.jones@aylesburyvaledc.gov.uk", "Outlook keeps saying something went wrong"),
    ("jo.patel@dacorum.gov.uk", "Can't get into outlook on the web"),
    ("lee.brown@aylesburyvaledc.gov.uk", "Outlok not loading <emails> & more"),
    ("kim.green@dacorum.gov.uk", "outlook spinning forever"),
)


@pytest.fixture
async def desk_slack(
    settings: Settings, fake_slack: FakeSlack, cached_models: Models
) -> AsyncIterator[SlackDriver]:
    fake_slack.add_user(KIM_ID, KIM, "Kim Lee")
    config = slack_settings(settings, fake_slack, slack_triage_channel=TRIAGE, desk_agents=(KIM,))
    async with (
        cached_models.app(config, watch_knowledge=False) as app,
        TestClient(TestServer(app)) as client,
    ):
        yield SlackDriver(client, fake_slack)


async def _report(slack: SlackDriver, email: str, summary: str) -> str:
    services = slack.client.app[keys.SERVICES]
    council = "dacorum" if email.endswith("@dacorum.gov.uk") else "aylesbury-vale"
    async with services.db.session() as session, session.begin():
        person = await staff_repo.get_or_create(session, email=email, council=council)
        ticket = await services.desk.raise_ticket(
            session, requester=person, summary=summary, category="email", priority="P3",
            now=utcnow() - timedelta(minutes=1),
        )  # fmt: skip
        return str(ticket.ref)


def _is_alert(call: Call) -> bool:
    return call.params.get("channel") == TRIAGE and "Possible outage" in str(
        call.params.get("text")
    )


def _press_publish(user: str, post: Call) -> str:
    return press_approval(user, post, "publish_notice", TRIAGE)


async def test_five_similar_reports_alert_the_triage_channel_and_dashboard_once(
    desk_slack: SlackDriver,
) -> None:
    fake = desk_slack.fake
    refs = [await _report(desk_slack, *report) for report in REPORTS[:4]]
    await fake.wait_for("chat.postMessage", 4, where=lambda c: c.params.get("channel") == TRIAGE)
    await fake.settle()
    assert not [c for c in fake.calls_to("chat.postMessage") if _is_alert(c)]  # four: none
    refs.append(await _report(desk_slack, *REPORTS[4]))
    [alert] = await fake.wait_for("chat.postMessage", where=_is_alert)
    text = alert.block_text
    assert "Possible outage: Outlook" in alert.params["text"]
    assert "5 people" in text and "Dacorum" in text and "Aylesbury Vale" in text
    for ref in refs:  # the reports, grouped under the alert
        assert ref in text
    assert "&lt;emails&gt; &amp; more" in text  # people's text is escaped for Slack
    # the sixth report joins the spike: no second alert
    await _report(desk_slack, *REPORTS[5])
    await fake.wait_for(
        "chat.postMessage", 6 + 1, where=lambda c: c.params.get("channel") == TRIAGE
    )
    await fake.settle()
    assert len([c for c in fake.calls_to("chat.postMessage") if _is_alert(c)]) == 1

    # the dashboard shows the same alert with its reports
    services = desk_slack.client.app[keys.SERVICES]
    await add_agent(services.db, "pat.lee@dacorum.gov.uk")
    await sign_in(desk_slack.client)
    queue = await (await desk_slack.client.get("/desk/")).text()
    assert "Possible outage: Outlook" in queue
    page = await (await desk_slack.client.get("/desk/notices")).text()
    assert page.count('class="outage-alert"') == 1
    assert all(ref in page for ref in refs)
    assert "There&#39;s a known problem with Outlook since" in page

    # someone who isn't an agent can't publish; Kim (an agent) publishes with one press
    response = await desk_slack.send(_press_publish(SAM_ID, alert))
    assert response.status == 200
    [refused] = await fake.wait_for("chat.postEphemeral")
    assert "Only service desk agents" in refused.params["text"]
    response = await desk_slack.send(_press_publish(KIM_ID, alert))
    assert response.status == 200
    [_, done] = await fake.wait_for("chat.postEphemeral", 2)
    assert "published" in done.params["text"]
    async with services.db.session() as session:
        [notice] = await services.desk.notices.listing(session, now=utcnow())
        assert notice.councils == ["dacorum", "aylesbury-vale"]
        assert notice.text.startswith("There's a known problem with Outlook since ")
        assert notice.created_by == KIM
        parent = await services.desk.get(session, refs[0])
        assert parent is not None and notice.parent_ticket_id == parent.id
    page = await (await desk_slack.client.get("/desk/notices")).text()
    assert 'class="outage-alert"' not in page and f'data-notice="{notice.id}"' in page
    child = await (await desk_slack.client.get(f"/desk/tickets/{refs[1]}")).text()
    assert "Linked to an outage" in child and f"linked to {refs[0]}" in child
    # pressing again tells the agent it's already published
    await desk_slack.send(_press_publish(KIM_ID, alert))
    [*_, again] = await fake.wait_for("chat.postEphemeral", 3)
    assert "already published" in again.params["text"]
