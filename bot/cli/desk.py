"""``itbot desk``: the service desk from a terminal, for agents and scripts.

* ``itbot desk list [--council KEY] [--status S] [--json]`` - the queue, most urgent first.
* ``itbot desk show REF [--json]`` - one ticket: details, transcript, comments, history.
* ``itbot desk add-agent EMAIL [--sso]`` - let EMAIL sign in to ``/desk``; the password is
  read twice from the terminal (or two lines of standard input), never from arguments.
* ``itbot desk remove-agent EMAIL`` - take that away again (and sign them out).

>>> main(["desk", "list", "--council", "dacorum", "--json"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from datetime import UTC, datetime
from typing import Any

from bot import wording
from bot.desk import accounts
from bot.desk.passwords import PasswordError, check_new_password, hash_password
from bot.desk.queue import QueueFilter
from bot.desk.service import Desk
from bot.desk.tickets import OPEN_STATUSES, STATUSES, Ticket, TicketComment, TicketEvent
from bot.errors import StorageError
from bot.settings import Settings
from bot.storage import Database
from bot.storage import staff as staff_repo
from bot.web.desk.clocks import LABELS, attention, clocks
from bot.web.desk.present import STATUS_LABELS, event_text, transcript_lines, when


def register(sub: Any) -> None:
    desk: argparse.ArgumentParser = sub.add_parser(
        "desk", help="list and show tickets; manage dashboard agents"
    )
    desk_sub = desk.add_subparsers(dest="desk_command", metavar="ACTION", required=True)

    listing = desk_sub.add_parser("list", help="the queue, most urgent first")
    listing.add_argument("--council", metavar="KEY", help="only this council's tickets")
    listing.add_argument(
        "--status",
        metavar="S",
        choices=(*STATUSES, "any"),
        help=f"one of {', '.join(STATUSES)} or any (default: new, open and pending)",
    )
    listing.add_argument("--limit", type=int, default=100, help="at most this many (100)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=list_command)

    show = desk_sub.add_parser("show", help="one ticket with its comments and history")
    show.add_argument("ref", metavar="REF", help="ticket reference, e.g. JSD-000123")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=show_command)

    add = desk_sub.add_parser("add-agent", help="let someone sign in to the /desk dashboard")
    add.add_argument("email", metavar="EMAIL", help="the agent's council email address")
    add.add_argument(
        "--sso",
        action="store_true",
        help="no password: they sign in through the SSO proxy (ITBOT_TRUSTED_EMAIL_HEADER)",
    )
    add.set_defaults(handler=add_agent_command)

    remove = desk_sub.add_parser("remove-agent", help="stop someone being an agent")
    remove.add_argument("email", metavar="EMAIL")
    remove.set_defaults(handler=remove_agent_command)


def _run(settings: Settings, work: Any) -> Any:
    async def go() -> Any:
        db = Database(settings.database_url)
        try:
            await db.upgrade()
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(go())


def ticket_json(ticket: Ticket, now: datetime) -> dict[str, Any]:
    response, resolution = clocks(ticket, now)
    return {
        "ref": ticket.ref,
        "summary": ticket.summary,
        "council": ticket.council,
        "category": ticket.category,
        "priority": ticket.priority,
        "status": ticket.status,
        "requester": {"email": ticket.requester.email, "name": ticket.requester.display_name},
        "assignee": ticket.assignee.email if ticket.assignee else None,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
        "sla": {
            "attention": attention(ticket, now),
            "response": {"due": response.due.isoformat(), "state": response.state},
            "resolution": {"due": resolution.due.isoformat(), "state": resolution.state},
        },
        "external": (
            {"system": ticket.external_system, "id": ticket.external_id, "url": ticket.external_url}
            if ticket.external_id
            else None
        ),
    }


def list_command(args: argparse.Namespace, settings: Settings) -> int:
    statuses = (
        OPEN_STATUSES if not args.status else STATUSES if args.status == "any" else (args.status,)
    )
    filters = QueueFilter(council=args.council, statuses=statuses)
    now = datetime.now(UTC)

    async def work(db: Database) -> tuple[list[Ticket], int]:
        async with db.session() as session:
            return await Desk().queue(session, filters, now=now, limit=max(args.limit, 1))

    try:
        tickets, total = _run(settings, work)
    except StorageError as exc:
        print(f"itbot: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"total": total, "tickets": [ticket_json(t, now) for t in tickets]}))
        return 0
    for t in tickets:
        who = t.assignee.email if t.assignee else "unassigned"
        state = LABELS[attention(t, now)]
        print(
            f"{t.ref}  {t.priority}  {t.status:<8}  {state:<8}  due {when(t.resolution_due)}"
            f"  {t.council:<14}  {who:<32}  {t.summary}"
        )
    print(f"{len(tickets)} of {total} tickets", file=sys.stderr)
    return 0


def show_command(args: argparse.Namespace, settings: Settings) -> int:
    now = datetime.now(UTC)

    async def work(
        db: Database,
    ) -> tuple[Ticket, list[TicketComment], list[TicketEvent]] | None:
        desk = Desk()
        async with db.session() as session:
            ticket = await desk.get(session, args.ref)
            if ticket is None:
                return None
            return ticket, await desk.comments(session, ticket), await desk.events(session, ticket)

    try:
        found = _run(settings, work)
    except StorageError as exc:
        print(f"itbot: {exc}", file=sys.stderr)
        return 1
    if found is None:
        print(f"itbot: there is no ticket {args.ref}", file=sys.stderr)
        return 1
    ticket, comments, events = found
    if args.json:
        data = ticket_json(ticket, now) | {
            "description": ticket.description,
            "impact": ticket.impact,
            "transcript": ticket.transcript,
            "comments": [
                {
                    "at": c.created_at.isoformat(),
                    "author": c.author_name,
                    "role": c.author_role,
                    "public": c.public,
                    "via": c.via,
                    "body": c.body,
                }
                for c in comments
            ],
            "events": [
                {"at": e.created_at.isoformat(), "actor": e.actor, "kind": e.kind, **e.details}
                for e in events
            ],
        }
        print(json.dumps(data, default=str))
        return 0
    print(_show_text(ticket, comments, events, now))
    return 0


def _show_text(
    ticket: Ticket, comments: list[TicketComment], events: list[TicketEvent], now: datetime
) -> str:
    assignee = ticket.assignee
    lines = [
        f"{ticket.ref}  {ticket.summary}",
        f"Requester:  {ticket.requester.display_name} <{ticket.requester.email}> "
        f"({ticket.council})",
        f"Category:   {ticket.category}   Priority: {ticket.priority}   "
        f"Status: {STATUS_LABELS.get(ticket.status, ticket.status)}",
        f"Assignee:   {f'{assignee.display_name} <{assignee.email}>' if assignee else '-'}",
        f"Raised:     {when(ticket.created_at)} via {ticket.source}",
    ]
    lines += [f"{c.name + ':':<11} due {when(c.due)} - {c.label}" for c in clocks(ticket, now)]
    if ticket.impact:
        lines += ["", f"Impact: {ticket.impact}"]
    if ticket.description:
        lines += ["", ticket.description]
    transcript = transcript_lines(ticket.transcript)
    if transcript:
        lines += ["", "Conversation:"]
        lines += [f"  {line.who or '?'}: {line.text}" for line in transcript]
    if comments:
        lines += ["", "Comments:"]
        for c in comments:
            mark = "" if c.public else "[internal] "
            lines.append(f"  {mark}{c.author_name} ({c.author_role}), {when(c.created_at)}:")
            lines += [f"    {text}" for text in c.body.splitlines()]
    lines += ["", "History:"]
    lines += [
        f"  {when(e.created_at)}  {e.actor}  {e.kind}  {event_text(e.kind, e.details)}".rstrip()
        for e in events
    ]
    return "\n".join(lines)


def read_password() -> str:
    """The new password, typed twice: from the terminal, or two lines of standard input."""
    if sys.stdin.isatty():
        first = getpass.getpass("New password: ")
        second = getpass.getpass("Same password again: ")
    else:
        first = sys.stdin.readline().rstrip("\r\n")
        second = sys.stdin.readline().rstrip("\r\n")
    if first != second:
        raise PasswordError("The two passwords are different.")
    check_new_password(first)
    return first


def add_agent_command(args: argparse.Namespace, settings: Settings) -> int:
    email = staff_repo.normalise_email(args.email)
    council = settings.council_for_email(email)
    if council is None:
        domains = wording.staff_domains(settings)
        print(f"itbot: an agent needs a council email address ({domains})", file=sys.stderr)
        return 2
    password_hash = None
    if not args.sso:
        try:
            password_hash = hash_password(read_password())
        except PasswordError as exc:
            print(f"itbot: {exc}", file=sys.stderr)
            return 1

    async def work(db: Database) -> bool:
        async with db.session() as session, session.begin():
            existed = await accounts.get_account(session, email) is not None
            await accounts.add_agent(
                session,
                email=email,
                council=council.key,
                password_hash=password_hash,
                now=datetime.now(UTC),
            )
        return existed

    try:
        existed = _run(settings, work)
    except StorageError as exc:
        print(f"itbot: {exc}", file=sys.stderr)
        return 1
    if args.sso:
        print(f"{email} is an agent for {council.name}; they sign in through your SSO proxy.")
    elif existed:
        print(f"Password changed for {email}; their open dashboard sessions were signed out.")
    else:
        print(f"{email} can now sign in at /desk as an agent for {council.name}.")
    return 0


def remove_agent_command(args: argparse.Namespace, settings: Settings) -> int:
    email = staff_repo.normalise_email(args.email)

    async def work(db: Database) -> bool:
        async with db.session() as session, session.begin():
            return await accounts.remove_agent(session, email)

    try:
        found = _run(settings, work)
    except StorageError as exc:
        print(f"itbot: {exc}", file=sys.stderr)
        return 1
    if not found:
        print(f"itbot: {email} is not an agent", file=sys.stderr)
        return 1
    print(f"{email} is no longer an agent and has been signed out of /desk.")
    if email in settings.desk_agents:
        print(
            f"note: {email} is still in ITBOT_DESK_AGENTS: take them off it, or they will be "
            "an agent again when the bot next starts."
        )
    if settings.slack_agent_group:
        print(
            "note: if they are in the agents' Slack user group, they will be an agent again "
            "the next time they act in Slack; take them out of the group too."
        )
    return 0
