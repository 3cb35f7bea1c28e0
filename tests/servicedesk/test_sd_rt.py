"""Request Tracker specifics, against the real RT 5: set-up checks, basic auth, lifecycle
refusals and agents who write HTML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from integrations.servicedesk import CommentDraft, DeskRejected
from tests.servicedesk import rt_server
from tests.servicedesk.rt_server import RTHarness
from tests.servicedesk.support import draft


async def test_missing_custom_fields_are_reported_before_anything_is_filed(
    rt_harness: RTHarness,
) -> None:
    no_reference = rt_harness.connect(reference_field="Ticket Reference")
    with pytest.raises(DeskRejected, match="lacks the ticket custom field 'Ticket Reference'"):
        await no_reference.create(draft())

    ticket = await rt_harness.connect().create(draft())
    no_key = rt_harness.connect(comment_key_field="Comment Key")
    note = CommentDraft(key="k-1", body="Hello", public=True, author_name="Sam Taylor")
    with pytest.raises(DeskRejected, match="transaction custom field 'Comment Key'"):
        await no_key.add_comment(ticket.remote_id, note)

    assert [m for m, _ in rt_harness.faults.requests if m != "GET"] == ["POST"]  # one create
    assert await rt_harness.comments(ticket.remote_id) == []


async def test_basic_auth_with_the_bots_password(rt_harness: RTHarness) -> None:
    desk = rt_harness.connect(token=None, password=rt_server.BOT_PASSWORD)
    filed = draft()

    ticket = await desk.create(filed)

    assert ticket.reference == filed.reference
    assert ticket.url == f"{rt_harness.server.url}/Ticket/Display.html?id={ticket.remote_id}"


async def test_a_status_the_lifecycle_refuses(rt_harness: RTHarness) -> None:
    desk = rt_harness.connect(statuses={"pending": "waiting-on-vendor"})
    ticket = await desk.create(draft())

    with pytest.raises(DeskRejected, match=r"did not move ticket .* to 'waiting-on-vendor'"):
        await desk.set_status(ticket.remote_id, "pending")

    assert (await desk.fetch(ticket.remote_id)).status == "new"


async def test_an_agents_html_reply_reads_as_text(rt_harness: RTHarness) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    desk = rt_harness.connect()
    ticket = await desk.create(draft())
    html = "<p>Hello <b>Sam</b>,</p><p>please try again&nbsp;now.</p>"
    async with rt_harness.admin.post(
        f"ticket/{ticket.remote_id}/correspond",
        json={"Content": html, "ContentType": "text/html"},
    ) as response:
        assert response.status == 201

    [reply] = [c for c in await desk.changes_since(since) if c.kind == "comment"
               and c.remote_id == ticket.remote_id]  # fmt: skip

    assert reply.body == "Hello Sam,\nplease try again now."
    assert reply.author == "Enoch Root"  # RT's root, by real name
    assert reply.public is True
