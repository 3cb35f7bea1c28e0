"""Jira Service Management specifics, against the fake: the reference in a custom field,
refusals in Jira's words, workflows without the wanted status, and comment formatting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from integrations.servicedesk import CommentDraft, DeskRejected
from tests.servicedesk.fake_jira import AGENT, BOT, REFERENCE_FIELD, JiraHarness
from tests.servicedesk.support import draft


async def test_reference_in_a_custom_field(jira_harness: JiraHarness) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    desk = jira_harness.connect(reference_field=REFERENCE_FIELD)
    filed = draft()

    ticket = await desk.create(filed)
    assert await desk.create(filed) == ticket
    await jira_harness.agent_reply(ticket.remote_id, "On it.", public=True)

    issue = jira_harness.fake.issues[ticket.remote_id]
    assert issue.fields[REFERENCE_FIELD] == filed.reference
    assert issue.fields["labels"] == []
    assert issue.fields["summary"] == f"[{filed.reference}] {filed.subject}"
    assert [c.body for c in await desk.changes_since(since)] == ["On it."]


async def test_labels_carry_the_reference_by_default(jira_harness: JiraHarness) -> None:
    desk = jira_harness.connect()
    filed = draft()

    ticket = await desk.create(filed)

    labels = jira_harness.fake.issues[ticket.remote_id].fields["labels"]
    assert labels == ["itbot", f"itbot-{filed.reference}"]
    searches = [path for _, path in jira_harness.faults.requests if "/search" in path]
    assert searches and all(p.startswith("/rest/api/3/search/jql?") for p in searches)
    with pytest.raises(DeskRejected, match="spaces"):
        await desk.create(draft("JSD 000123"))


async def test_jira_refusals_in_its_own_words(jira_harness: JiraHarness) -> None:
    desk = jira_harness.connect(request_type_id="999")

    with pytest.raises(DeskRejected, match="request type does not exist"):
        await desk.create(draft())

    assert jira_harness.fake.issues == {}


async def test_workflow_without_the_status(jira_harness: JiraHarness) -> None:
    desk = jira_harness.connect(status_names={"pending": "Escalated"})
    ticket = await desk.create(draft())

    with pytest.raises(DeskRejected, match=r"no transition from 'Waiting for support' to "
                       r"'Escalated'.*offers: Closed, In progress, Resolved"):  # fmt: skip
        await desk.set_status(ticket.remote_id, "pending")


async def test_comment_paragraphs_and_visibility(jira_harness: JiraHarness) -> None:
    desk = jira_harness.connect()
    ticket = await desk.create(draft())
    body = "First line\nsecond line\n\nA new paragraph."

    await desk.add_comment(
        ticket.remote_id, CommentDraft(key="k-1", body=body, public=False, author_name="Sam")
    )

    [comment] = jira_harness.fake.issues[ticket.remote_id].comments
    assert comment["jsdPublic"] is False
    assert {"key": "itbot.comment", "value": {"key": "k-1"}} in comment["properties"]
    assert await jira_harness.comments(ticket.remote_id) == [(f"Sam wrote:\n\n{body}", False)]


async def test_webhook_of_the_bots_own_comment_is_dropped(jira_harness: JiraHarness) -> None:
    desk = jira_harness.connect(account_id=BOT["accountId"])
    ticket = await desk.create(draft())
    issue = jira_harness.fake.issues[ticket.remote_id]
    for author in (BOT, AGENT):
        comment = jira_harness.fake._add_comment(issue, author, "Hello", internal=False)
        jira_harness.fake._webhook("comment_created", issue, comment={**comment, "body": "Hi"})

    changes = [c for h, b in jira_harness.webhooks() for c in desk.parse_webhook(h, b)]

    assert [(c.author, c.body) for c in changes] == [("Alex Agent", "Hi")]
