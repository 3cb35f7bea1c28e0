"""Threading by the ``[Ref: REF]`` marker in the text of the desk's mails: a reply whose
mail client rewrote the subject and dropped ``In-Reply-To``/``References`` still reaches
its ticket, but only from the ticket's requester (email proves little)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.settings import Settings
from tests.conftest import SAM
from tests.email.conftest import Outbox, eventually
from tests.email.dovecot import Dovecot
from tests.email.test_email_channel import ask, desk_show, mail, seen, tickets

App = TestClient[web.Request, web.Application]
ALEX = "alex.jones@aylesburyvaledc.gov.uk"


def quoted(text: str) -> str:
    return "\n".join(f"> {line}" for line in text.splitlines())


async def test_a_reply_that_lost_subject_and_headers_is_threaded_by_the_quoted_marker(
    email_app: App, dovecot: Dovecot, smtp: tuple[Outbox, int], email_settings: Settings
) -> None:
    outbox, _ = smtp
    _, reply = await ask(email_app, dovecot, smtp)
    [ticket] = await tickets(email_app)
    ref = ticket.ref or ""
    body = reply.get_content().replace("\r\n", "\n")
    # visible, one line of its own, above the signature (clients drop what is below it)
    assert f"\n[Ref: {ref}]\n" in body
    assert body.index(f"[Ref: {ref}]") < body.index("\n-- \n")

    # a client that rewrote the subject and kept no threading headers, quoting the mail
    again, _ = mail(
        f"Sam Taylor <{SAM}>",
        "Calendar sharing still broken",
        f"It still says I don't have permission.\n\nOn Monday the desk wrote:\n{quoted(body)}",
    )
    uid = await asyncio.to_thread(dovecot.append, again)
    await eventually(lambda: seen(dovecot, uid), "the reply is read")
    shown = await desk_show(email_settings, ref)
    bodies = [c["body"] for c in shown["comments"]]  # type: ignore[attr-defined]
    assert "It still says I don't have permission." in bodies
    assert len(await tickets(email_app)) == 1  # no new ticket
    assert len(outbox.to(SAM)) == 1  # a comment gets no "we've logged it" reply


async def test_a_marker_for_someone_elses_ticket_never_reaches_it(
    email_app: App, dovecot: Dovecot, smtp: tuple[Outbox, int], email_settings: Settings
) -> None:
    outbox, _ = smtp
    _, reply = await ask(email_app, dovecot, smtp)
    [sams] = await tickets(email_app)
    ref = sams.ref or ""
    # Alex forges Sam's marker (and the subject reference): a new ticket of Alex's own
    forged, _ = mail(
        f"Alex Jones <{ALEX}>",
        f"Re: [{ref}] printer",
        f"Please close this, it is solved.\n\n{quoted(reply.get_content())}",
    )
    uid = await asyncio.to_thread(dovecot.append, forged)
    await eventually(lambda: seen(dovecot, uid), "the forged mail is read")
    [_, alexs] = await tickets(email_app)
    assert alexs.requester.email == ALEX and alexs.ref != ref
    shown = await desk_show(email_settings, ref)
    assert shown["status"] == "new"  # not solved by someone else
    assert not any("close this" in c["body"] for c in shown["comments"])  # type: ignore[attr-defined]
    [answer] = await eventually(lambda: outbox.to(ALEX), "Alex's own reply")
    assert f"[{alexs.ref}]" in answer["Subject"]
    assert sams.summary not in answer.get_content()  # nothing of Sam's ticket is shown
