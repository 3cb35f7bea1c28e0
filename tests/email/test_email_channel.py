"""The email channel against a real Dovecot (IMAP) and a local SMTP server (aiosmtpd).

Mail is delivered to the desk's mailbox with IMAP APPEND, behind the channel's back; the
running app reads it, and what it sends is caught by the SMTP server.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import json
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from bot.channels.email.process import REPLY_LIMIT
from bot.cli import build_parser
from bot.desk.actor import Actor
from bot.desk.tickets import Ticket
from bot.settings import Settings
from bot.storage import email_mail
from bot.storage import staff as staff_repo
from bot.storage.models import utcnow
from bot.web import keys
from tests.conftest import SAM, need
from tests.email import dovecot as dovecot_server
from tests.email.conftest import AGENT, Outbox, eventually, running, settings_for
from tests.email.dovecot import USER as DESK
from tests.email.dovecot import Dovecot

App = TestClient[web.Request, web.Application]


def mail(
    sender: str,
    subject: str,
    body: str,
    *,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[bytes, str]:
    """An RFC 5322 mail to the desk, and its Message-ID."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = DESK
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain=sender.rpartition("@")[2])
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return bytes(message), str(message["Message-ID"])


async def tickets(app: App) -> list[Ticket]:
    async with app.app[keys.SERVICES].db.session() as session:
        return list(await session.scalars(select(Ticket).order_by(Ticket.id)))


async def seen(dovecot: Dovecot, uid: str) -> bool:
    return "\\Seen" in await asyncio.to_thread(dovecot.flags, uid)


async def desk_show(settings: Settings, ref: str) -> dict[str, object]:
    """``itbot desk show REF --json``: the command's own parser and handler, against the
    same database (in a thread: the command runs its own event loop)."""
    args = build_parser().parse_args(["desk", "show", ref, "--json"])
    out = io.StringIO()

    def run() -> int:
        with contextlib.redirect_stdout(out):
            code: int = args.handler(args, settings)
            return code

    assert await asyncio.to_thread(run) == 0
    shown: dict[str, object] = json.loads(out.getvalue())
    return shown


async def ask(app: App, dovecot: Dovecot, smtp: tuple[Outbox, int]) -> tuple[str, EmailMessage]:
    """Sam mails a question; the desk's threaded reply and Sam's Message-ID."""
    raw, sam_id = mail(
        f"Sam Taylor <{SAM}>",
        "How do I share my calendar?",
        "Hi,\n\nHow do I share my calendar with a colleague?\n\nThanks, Sam",
    )
    await asyncio.to_thread(dovecot.append, raw)
    outbox, _ = smtp
    replies = await eventually(lambda: outbox.to(SAM), "a reply to Sam")
    return sam_id, replies[0]


async def test_a_question_gets_a_threaded_reply_with_the_answer_and_the_reference(
    email_app: App, dovecot: Dovecot, smtp: tuple[Outbox, int]
) -> None:
    sam_id, reply = await ask(email_app, dovecot, smtp)
    [ticket] = await tickets(email_app)
    assert ticket.ref is not None
    assert ticket.source == "email" and ticket.council == "dacorum"
    assert reply["Subject"] == f"[{ticket.ref}] How do I share my calendar?"
    assert reply["In-Reply-To"] == sam_id
    assert sam_id in str(reply["References"])
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply["X-Auto-Response-Suppress"] == "All"
    assert reply["Message-ID"] and reply["Message-ID"] != sam_id
    body = reply.get_content()
    assert "Share your calendar with colleagues" in body  # the knowledge base's answer
    assert "reply 'solved'" in body
    assert ticket.ref in body


async def test_an_out_of_office_gets_nothing_and_raises_nothing(
    email_app: App, dovecot: Dovecot, smtp: tuple[Outbox, int]
) -> None:
    outbox, _ = smtp
    away, _ = mail(
        "Alex Jones <alex.jones@aylesburyvaledc.gov.uk>",
        "Automatic reply: IT update",
        "I am out of the office until Monday.",
        headers={"Auto-Submitted": "auto-replied"},
    )
    away_uid = await asyncio.to_thread(dovecot.append, away)
    # then a person's mail: read after the out-of-office, so once it is answered the
    # out-of-office has been read (and left alone)
    await ask(email_app, dovecot, smtp)
    assert await seen(dovecot, away_uid)
    assert outbox.to("alex.jones@aylesburyvaledc.gov.uk") == []
    assert [t.requester.email for t in await tickets(email_app)] == [SAM]


async def test_a_reply_in_the_thread_is_a_comment_and_solved_resolves_it(
    email_app: App, dovecot: Dovecot, smtp: tuple[Outbox, int], email_settings: Settings
) -> None:
    outbox, _ = smtp
    sam_id, reply = await ask(email_app, dovecot, smtp)
    [ticket] = await tickets(email_app)
    ref = ticket.ref or ""
    answer, _ = mail(
        SAM,
        f"Re: {reply['Subject']}",
        "It still says I don't have permission.\n\nOn Monday the desk wrote:\n> Hello",
        headers={
            "In-Reply-To": str(reply["Message-ID"]),
            "References": f"{sam_id} {reply['Message-ID']}",
        },
    )
    uid = await asyncio.to_thread(dovecot.append, answer)
    await eventually(lambda: seen(dovecot, uid), "the reply is read")
    shown = await desk_show(email_settings, ref)
    bodies = [c["body"] for c in shown["comments"]]  # type: ignore[attr-defined]
    assert "It still says I don't have permission." in bodies
    assert not any("the desk wrote" in b for b in bodies)  # the quote is left out
    assert len(await tickets(email_app)) == 1

    # by the reference in the subject alone (a mail client that drops the headers)
    solved, _ = mail(SAM, f"RE: [{ref}] calendar", "Solved, thanks!")
    await asyncio.to_thread(dovecot.append, solved)
    await eventually(lambda: len(outbox.to(SAM)) == 2, "the news that it is resolved")
    # resolved, as an agent's resolve (so the rating and a reopen work), not closed
    shown = await desk_show(email_settings, ref)
    assert shown["status"] == "resolved"
    [ticket] = await tickets(email_app)
    resolved = outbox.to(SAM)[1]
    assert resolved["Subject"] == f"[{ref}] {ticket.summary}"
    assert resolved["In-Reply-To"] is not None
    assert "has been resolved" in resolved.get_content()


async def test_an_agents_comment_reaches_the_requester_in_the_thread(
    email_app: App, dovecot: Dovecot, smtp: tuple[Outbox, int]
) -> None:
    outbox, _ = smtp
    _, reply = await ask(email_app, dovecot, smtp)
    services = email_app.app[keys.SERVICES]
    async with services.db.session() as session, session.begin():
        [ticket] = list(await session.scalars(select(Ticket)))
        agent = await staff_repo.get_by_email(session, AGENT)
        assert agent is not None and agent.is_agent
        await services.desk.comment(
            session, ticket, Actor.of(agent), "Please try again from the web app.", now=utcnow()
        )
        await services.desk.comment(
            session, ticket, Actor.of(agent), "Internal: check licence", now=utcnow(), public=False
        )
    news = await eventually(lambda: outbox.to(SAM)[1:], "the agent's comment by mail")
    update = news[0]
    assert update["Subject"] == f"[{ticket.ref}] {ticket.summary}"
    assert update["In-Reply-To"] == reply["Message-ID"]
    assert "Please try again from the web app." in update.get_content()
    assert update["Auto-Submitted"] == "auto-replied"
    assert all("Internal" not in m.get_content() for m in outbox.to(SAM))


async def test_the_same_message_fetched_twice_makes_one_ticket(
    email_app: App, dovecot: Dovecot, smtp: tuple[Outbox, int]
) -> None:
    outbox, _ = smtp
    raw, _ = mail(SAM, "Printer on floor 2 jams", "It jams on every page.")
    first = await asyncio.to_thread(dovecot.append, raw)
    second = await asyncio.to_thread(dovecot.append, raw)  # the same mail delivered twice
    await eventually(lambda: seen(dovecot, first), "the first copy is read")
    await eventually(lambda: seen(dovecot, second), "the second copy is read")
    # and the first read again, as after a crash before it was marked seen
    await asyncio.to_thread(dovecot.unsee, first)
    await eventually(lambda: seen(dovecot, first), "the first copy is read again")
    assert len(await tickets(email_app)) == 1
    assert len(outbox.to(SAM)) == 1


async def test_other_domains_get_one_refusal_a_day_and_no_ticket(
    email_app: App, dovecot: Dovecot, smtp: tuple[Outbox, int]
) -> None:
    outbox, _ = smtp
    stranger = "someone@example.org"
    for n in range(2):
        raw, _ = mail(stranger, f"Help {n}", "Can you fix my laptop?")
        uid = await asyncio.to_thread(dovecot.append, raw)
        await eventually(functools.partial(seen, dovecot, uid), "the stranger's mail is read")
    refusals = await eventually(lambda: outbox.to(stranger), "the refusal")
    assert len(refusals) == 1
    assert "work email" in refusals[0].get_content()
    assert refusals[0]["Auto-Submitted"] == "auto-replied"
    assert await tickets(email_app) == []


async def test_a_bounce_is_linked_to_its_ticket_and_answered_by_nobody(
    email_app: App, dovecot: Dovecot, smtp: tuple[Outbox, int], email_settings: Settings
) -> None:
    outbox, _ = smtp
    _, reply = await ask(email_app, dovecot, smtp)
    [ticket] = await tickets(email_app)
    report = EmailMessage()
    report["From"] = "Mail Delivery System <MAILER-DAEMON@dacorum.gov.uk>"
    report["To"] = DESK
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Message-ID"] = make_msgid(domain="dacorum.gov.uk")
    report.set_content("This is the mail system. Your message could not be delivered.")
    report.make_mixed()
    report.set_type("multipart/report")
    report.set_param("report-type", "delivery-status")
    status = EmailMessage()
    status.set_content("Final-Recipient: rfc822; sam.taylor@dacorum.gov.uk\nAction: failed\n")
    report.attach(status)
    original = EmailMessage()
    original.set_content(
        f"Message-ID: {reply['Message-ID']}\nSubject: {reply['Subject']}\n",
        subtype="rfc822-headers",
    )
    report.attach(original)
    uid = await asyncio.to_thread(dovecot.append, bytes(report))
    await eventually(lambda: seen(dovecot, uid), "the bounce is read")
    shown = await desk_show(email_settings, ticket.ref or "")
    notes = [c for c in shown["comments"] if "could not be delivered" in c["body"]]  # type: ignore[attr-defined]
    assert len(notes) == 1 and not notes[0]["public"]
    assert len(outbox.to(SAM)) == 1  # the bounce got no answer
    async with email_app.app[keys.SERVICES].db.session() as session:
        linked = await session.scalar(
            select(func.count())
            .select_from(email_mail.EmailMessage)
            .where(email_mail.EmailMessage.outcome == "bounce")
            .where(email_mail.EmailMessage.ticket_id == ticket.id)
        )
    assert linked == 1


async def test_attachments_of_allowed_types_are_kept_with_the_ticket(
    email_app: App, dovecot: Dovecot, smtp: tuple[Outbox, int]
) -> None:
    outbox, _ = smtp
    message = EmailMessage()
    message["From"] = SAM
    message["To"] = DESK
    message["Subject"] = "Error on screen"
    message["Message-ID"] = make_msgid(domain="dacorum.gov.uk")
    message.set_content("See the screenshot.")
    message.add_attachment(b"\x89PNG\r\n\x1a\nfake", maintype="image", subtype="png",
                           filename="screen.png")  # fmt: skip
    message.add_attachment(b"MZ\x90\x00", maintype="application", subtype="x-msdownload",
                           filename="fix.exe")  # fmt: skip
    await asyncio.to_thread(dovecot.append, bytes(message))
    await eventually(lambda: outbox.to(SAM), "the reply")
    [ticket] = await tickets(email_app)
    async with email_app.app[keys.SERVICES].db.session() as session:
        kept = await email_mail.attachments(session, ticket.id)
    assert [(a.filename, a.content_type, a.data) for a in kept] == [
        ("screen.png", "image/png", b"\x89PNG\r\n\x1a\nfake")
    ]


async def test_two_replicas_reading_one_mailbox_act_on_each_mail_once(
    email_settings: Settings, dovecot: Dovecot, smtp: tuple[Outbox, int]
) -> None:
    outbox, _ = smtp
    replica = functools.partial(running, email_settings)
    async with replica() as one, replica():
        uids = []
        for n in range(6):
            raw, _ = mail(SAM, f"Problem number {n}", f"Something broke ({n}).")
            uids.append(await asyncio.to_thread(dovecot.append, raw))
        for uid in uids:
            await eventually(functools.partial(seen, dovecot, uid), f"mail {uid} is read")
        await eventually(lambda: len(outbox.to(SAM)) >= 6, "six replies")
        made = await tickets(one)
    assert sorted(t.summary for t in made) == [f"Problem number {n}" for n in range(6)]
    assert len(outbox.to(SAM)) == 6
    assert len({str(m["In-Reply-To"]) for m in outbox.to(SAM)}) == 6


async def test_an_unreadable_mail_is_left_alone_and_the_next_one_is_answered(
    email_app: App, dovecot: Dovecot, smtp: tuple[Outbox, int]
) -> None:
    garbage = (
        b"\xff\xfe\x00From: \x00\r\nContent-Type: multipart/mixed; boundary=\r\n\r\n--\x80\x81"
    )
    uid = await asyncio.to_thread(dovecot.append, garbage)
    await ask(email_app, dovecot, smtp)
    assert await seen(dovecot, uid)
    assert [t.requester.email for t in await tickets(email_app)] == [SAM]


async def test_replies_to_one_sender_are_rate_limited(
    email_app: App, dovecot: Dovecot, smtp: tuple[Outbox, int]
) -> None:
    outbox, _ = smtp
    uids = []
    for n in range(REPLY_LIMIT + 2):
        raw, _ = mail(SAM, f"Problem {n}", f"Problem number {n}")
        uids.append(await asyncio.to_thread(dovecot.append, raw))
    for uid in uids:
        await eventually(functools.partial(seen, dovecot, uid), f"mail {uid} is read")
    assert len(await tickets(email_app)) == REPLY_LIMIT + 2  # every mail is a ticket
    async with email_app.app[keys.SERVICES].db.session() as session:
        queued = await email_mail.sent_to(session, SAM, utcnow() - timedelta(hours=1))
    assert queued == REPLY_LIMIT
    await eventually(lambda: len(outbox.to(SAM)) == REPLY_LIMIT, "the replies within the limit")


@pytest.mark.parametrize("imap_tls", ["on", "starttls"])
async def test_the_mailbox_is_read_over_tls(
    imap_tls: str,
    database_url: str,
    embedding_cache: Path,
    notify_file: Path,
    smtp: tuple[Outbox, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reason = dovecot_server.missing()
    need(reason is None, reason or "")
    server = dovecot_server.start(tls=True)
    try:
        # the channel trusts the server's certificate as it would a council's own CA
        monkeypatch.setenv("SSL_CERT_FILE", str(server.folder / "cert.pem"))
        settings = settings_for(
            database_url, embedding_cache, notify_file, server, smtp, imap_tls=imap_tls
        )
        async with running(settings) as client:
            _, reply = await ask(client, server, smtp)
            [ticket] = await tickets(client)
            assert reply["Subject"] == f"[{ticket.ref}] How do I share my calendar?"
    finally:
        server.remove()


async def test_email_never_resets_access_nor_shows_another_ticket(
    email_app: App, dovecot: Dovecot, smtp: tuple[Outbox, int], notify_file: Path
) -> None:
    outbox, _ = smtp
    await ask(email_app, dovecot, smtp)
    [first] = await tickets(email_app)
    for subject in ("Reset my password please", "What is the status of my tickets?"):
        raw, _ = mail(SAM, subject, f"{subject}. I am Sam Taylor.")
        await asyncio.to_thread(dovecot.append, raw)
    replies = await eventually(lambda: outbox.to(SAM)[1:3] if len(outbox.to(SAM)) >= 3 else None,
                               "two more replies")  # fmt: skip
    made = await tickets(email_app)
    assert len(made) == 3  # each mail is its own ticket, nothing more
    for reply, ticket in zip(replies, made[1:], strict=True):
        body = reply.get_content()
        assert f"[{ticket.ref}]" in reply["Subject"]
        assert first.ref not in body and first.ref not in reply["Subject"]
    # no code was sent to prove who is asking, so no reset can have begun
    sent = await asyncio.to_thread(lambda: notify_file.read_text() if notify_file.exists() else "")
    assert sent == ""


async def test_a_reply_queued_while_the_mail_server_is_down_goes_out_when_it_is_back(
    email_app: App, dovecot: Dovecot, smtp: tuple[Outbox, int], smtp_server: Controller
) -> None:
    outbox, _ = smtp
    await asyncio.to_thread(smtp_server.stop)
    raw, sam_id = mail(SAM, "Monitor flickers", "My monitor keeps flickering.")
    uid = await asyncio.to_thread(dovecot.append, raw)
    await eventually(functools.partial(seen, dovecot, uid), "the mail is read")
    [ticket] = await tickets(email_app)
    assert outbox.to(SAM) == []
    back = Controller(outbox, hostname="127.0.0.1", port=smtp_server.port)
    await asyncio.to_thread(back.start)
    try:
        [reply] = await eventually(lambda: outbox.to(SAM), "the reply, once the server is back")
    finally:
        await asyncio.to_thread(back.stop)
    assert reply["In-Reply-To"] == sam_id and f"[{ticket.ref}]" in reply["Subject"]
