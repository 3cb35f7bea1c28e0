"""The per-council report over a seeded month (May 2026, two bank holidays) for both
councils: every figure checked against counts written out by hand below.

The month, as it happened (UK time; "answer" rows are what the engine writes per turn):

Dacorum (D1–D4)
* a1 D1 Tue 5 May 10:00, email article, said Yes                       → confirmed
* a2 D2 Fri 1 May 15:00, calendar article, no rating; D2 raises a calendar ticket on
  Thu 7 May 10:00: 3 working days run to Thu 15:00 because Mon 4 May is a bank
  holiday (Wed 15:00 without it)                                         → none
* a3 D3 Mon 11 May 09:00, email, no rating; D3's email ticket on Mon 18 May is after
  the window (Thu 14 May 09:00)                                          → potential
* a4 D4 Tue 12 May 11:00, documents, said No                             → none
* a5 D1 Wed 13 May 11:00, calendar, no rating; D1's sign-in ticket next day is
  another topic                                                          → potential
* a6 D4 Wed 20 May 10:00, email, said Yes, but D4 reopens their email ticket on
  Thu 21 May                                                             → none
* a7 D2 Thu 28 May 10:00, calendar; D2's device ticket next day is another topic
                                                                         → potential
* "None of these" D3 19 May (→ none); declined questions: D1 (email), D2 (email), D4 (?)
* answers outside the month (30 Apr 23:30 and 1 Jun 00:30 UK time) don't count

Aylesbury Vale (A1–A3)
* b1 A1 Mon 4 May (bank holiday) sign-in, Yes → confirmed; b2 A2 Tue 12 May, topic
  unknown, a documents ticket next day → none; b3 A3 documents, No → none; b4 A1 Tue
  26 May sign-in, an "other" ticket Thu 28 May → none; b5 A3 calendar, Yes → confirmed;
  b6 A2 Fri 29 May calendar, nothing after → potential; one declined sign-in question
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.access.tables import AccessReset, OneTimeCode
from bot.desk import activity
from bot.desk.calendar import LONDON
from bot.desk.service import Actor, Desk
from bot.insight import formats
from bot.insight.report import Period, build
from bot.settings.values import DEFAULT_COUNCILS
from bot.storage import Database
from bot.storage import staff as staff_repo
from bot.storage.models import Staff

EMAIL = "email/out-of-office"
CAL = "calendar/share-your-calendar"
DOCS = "documents/restore-a-file"
SIGNIN = "sign-in/reset-your-password"
MAY = Period.parse("2026-05-01", "2026-05-31")
#: the report's clock: Mon 1 June 13:00 UK time
NOW = datetime(2026, 6, 1, 13, 0, tzinfo=LONDON)


def uk(day: int, hour: int, minute: int = 0, month: int = 5) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LONDON)


class Month:
    """Writes the month through the desk's and the activity module's own functions."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.desk = Desk()
        self.people: dict[str, Staff] = {}

    async def person(self, name: str, council: str, domain: str, agent: bool = False) -> None:
        async with self.db.session() as s, s.begin():
            staff = await staff_repo.get_or_create(
                s, email=f"{name.lower()}@{domain}", council=council
            )
            staff.is_agent = agent
        self.people[name] = staff

    async def answer(
        self,
        who: str,
        conv: int,
        at: datetime,
        article: str,
        topic: str | None,
        rating: str | None = None,
    ) -> None:
        staff = self.people[who]
        async with self.db.session() as s, s.begin():
            await activity.record(
                s,
                kind="answer",
                at=at,
                council=staff.council,
                channel="web",
                conversation_id=conv,
                staff_id=staff.id,
                intent="question",
                article_id=article,
                category=topic,
                deflect_until=activity.deflection_deadline(self.desk.policy.calendar, at),
            )
        if rating is not None:
            async with self.db.session() as s, s.begin():
                assert await activity.rate_answer(
                    s, conversation_id=conv, article_id=article, helpful=rating == "yes"
                )

    async def other(
        self, kind: str, who: str, conv: int, at: datetime, topic: str | None = None
    ) -> None:
        staff = self.people[who]
        async with self.db.session() as s, s.begin():
            await activity.record(
                s,
                kind=kind,
                at=at,
                council=staff.council,
                channel="slack",
                conversation_id=conv,
                staff_id=staff.id,
                category=topic,
            )

    async def ticket(self, who: str, category: str, priority: str, at: datetime) -> str:
        async with self.db.session() as s, s.begin():
            staff = await staff_repo.get(s, self.people[who].id)
            assert staff is not None
            ticket = await self.desk.raise_ticket(
                s,
                requester=staff,
                summary=f"{category} trouble",
                category=category,
                priority=priority,
                now=at,
            )
            assert ticket.ref is not None
            # as the conversation engine does for a ticket raised in a conversation
            await activity.undo_deflection(s, ticket, at)
            return ticket.ref

    async def act(self, ref: str, who: str, what: str, at: datetime, arg: Any = None) -> None:
        async with self.db.session() as s, s.begin():
            ticket = await self.desk.get(s, ref)
            staff = await staff_repo.get(s, self.people[who].id)
            assert ticket is not None and staff is not None
            actor = Actor.of(staff)
            if what == "reply":
                await self.desk.comment(s, ticket, actor, "On it", now=at, public=True)
            elif what == "status":
                await self.desk.set_status(s, ticket, actor, arg, now=at)
            elif what == "rate":
                await self.desk.rate(s, ticket, actor, arg, now=at)
            elif what == "minutes":
                activity.time_spent(
                    s, ticket, agent_id=staff.id, agent_email=staff.email, minutes=arg, now=at
                )

    async def reset(self, subject: str, operation: str, at: datetime) -> None:
        async with self.db.session() as s, s.begin():
            s.add(
                AccessReset(
                    subject=subject,
                    operation=operation,
                    channel="slack",
                    directory="demo",
                    done_at=at,
                )
            )

    async def code(self, subject: str, purpose: str, ended: str, at: datetime) -> None:
        async with self.db.session() as s, s.begin():
            s.add(
                OneTimeCode(
                    purpose=purpose,
                    subject=subject,
                    salt=b"s" * 16,
                    digest=b"d" * 32,
                    created_at=at,
                    expires_at=at,
                    ended=ended,
                )
            )


async def seed(db: Database) -> Month:
    m = Month(db)
    for name in ("D1", "D2", "D3", "D4"):
        await m.person(name, "dacorum", "dacorum.gov.uk")
    for name in ("A1", "A2", "A3"):
        await m.person(name, "aylesbury-vale", "aylesburyvaledc.gov.uk")
    await m.person("Agent", "dacorum", "dacorum.gov.uk", agent=True)

    # -- Dacorum's answers and turns
    await m.answer("D1", 1, uk(5, 10), EMAIL, "email", "yes")  # a1
    await m.answer("D2", 2, uk(1, 15), CAL, "calendar")  # a2
    await m.answer("D3", 3, uk(11, 9), EMAIL, "email")  # a3
    await m.answer("D4", 4, uk(12, 11), DOCS, "documents", "no")  # a4
    await m.answer("D1", 1, uk(13, 11), CAL, "calendar")  # a5
    await m.answer("D4", 4, uk(20, 10), EMAIL, "email", "yes")  # a6
    await m.answer("D2", 2, uk(28, 10), CAL, "calendar")  # a7
    await m.answer("D1", 6, uk(30, 23, 30, month=4), EMAIL, "email")  # before the month
    await m.answer("D1", 6, uk(1, 0, 30, month=6), EMAIL, "email")  # after it
    await m.other("none_of_these", "D3", 3, uk(19, 14))
    await m.other("unanswered", "D1", 1, uk(21, 9), "email")
    await m.other("unanswered", "D2", 2, uk(22, 9), "email")
    await m.other("unanswered", "D4", 4, uk(22, 10))
    await m.other("turn", "D1", 1, uk(5, 9, 59))
    await m.other("turn", "D1", 5, uk(6, 12))  # the web chat: a conversation of its own

    # -- Dacorum's tickets
    t1 = await m.ticket("D4", "email", "P3", uk(1, 9))
    await m.act(t1, "Agent", "reply", uk(1, 10))  # response due 13:00: met
    await m.act(t1, "Agent", "minutes", uk(1, 10), 30)
    await m.act(t1, "Agent", "status", uk(15, 10), "resolved")  # due Thu 7 May 09:00
    await m.act(t1, "D4", "rate", uk(15, 11), 4)
    await m.act(t1, "D4", "status", uk(21, 10), "open")  # reopened: undoes a6
    await m.act(t1, "Agent", "status", uk(22, 10), "resolved")
    t2 = await m.ticket("D2", "calendar", "P2", uk(7, 10))
    await m.act(t2, "Agent", "reply", uk(7, 10, 30))
    await m.act(t2, "Agent", "minutes", uk(7, 10, 30), 20)
    await m.act(t2, "Agent", "status", uk(7, 16), "resolved")
    await m.act(t2, "D2", "rate", uk(7, 17), 5)
    await m.ticket("D1", "sign-in", "P1", uk(14, 9))  # never answered: both clocks breached
    t4 = await m.ticket("D3", "email", "P4", uk(18, 9))
    await m.act(t4, "Agent", "reply", uk(18, 12))
    await m.act(t4, "Agent", "minutes", uk(18, 12), 10)
    # resolution due Tue 26 May 09:00 (Mon 25 May is a bank holiday): met
    await m.act(t4, "Agent", "status", uk(26, 8, 45), "resolved")
    await m.ticket("D2", "device", "P4", uk(29, 16))  # both clocks still running on 1 June
    t6 = await m.ticket("D4", "email", "P3", uk(30, 12, month=4))  # April: not counted
    await m.act(t6, "Agent", "minutes", uk(30, 13, month=4), 15)

    # -- Aylesbury Vale
    await m.answer("A1", 11, uk(4, 10), SIGNIN, "sign-in", "yes")  # b1
    await m.answer("A2", 12, uk(12, 10), EMAIL, None)  # b2
    await m.answer("A3", 13, uk(22, 14), DOCS, "documents", "no")  # b3
    await m.answer("A1", 11, uk(26, 10), SIGNIN, "sign-in")  # b4
    await m.answer("A3", 13, uk(27, 10), CAL, "calendar", "yes")  # b5
    await m.answer("A2", 12, uk(29, 10), CAL, "calendar")  # b6
    await m.other("unanswered", "A1", 11, uk(6, 9), "sign-in")
    t7 = await m.ticket("A2", "documents", "P3", uk(13, 10))
    await m.act(t7, "Agent", "reply", uk(13, 11))
    await m.act(t7, "Agent", "minutes", uk(13, 11), 45)
    await m.act(t7, "Agent", "status", uk(18, 10), "resolved")  # exactly at its due time
    await m.act(t7, "A2", "rate", uk(18, 12), 2)
    t8 = await m.ticket("A1", "other", "P2", uk(28, 10))
    await m.act(t8, "Agent", "reply", uk(28, 11, 30))  # due 11:00: breached
    await m.act(t8, "Agent", "minutes", uk(29, 9), 35)
    await m.act(t8, "Agent", "status", uk(29, 9), "resolved")  # due Fri 10:00: met
    await m.act(t8, "A1", "rate", uk(29, 10), 3)
    t9 = await m.ticket("A3", "sign-in", "P1", uk(26, 9))
    await m.act(t9, "Agent", "reply", uk(26, 9, 20))
    await m.act(t9, "Agent", "status", uk(26, 10), "pending")  # clocks stand: running

    # -- resets and their codes
    for subject, operation, at in (
        ("d1@dacorum.gov.uk", "reset_password", uk(6, 9)),
        ("d2@dacorum.gov.uk", "reset_password", uk(7, 9)),
        ("d3@dacorum.gov.uk", "unlock_account", uk(8, 9)),
        ("d1@dacorum.gov.uk", "reset_password", uk(30, 9, month=4)),  # April
        ("a1@aylesburyvaledc.gov.uk", "reset_mfa", uk(11, 9)),
        ("someone@example.org", "reset_password", uk(12, 9)),  # no council's domain
    ):
        await m.reset(subject, operation, at)
    for subject, purpose, ended, at in (
        ("d1@dacorum.gov.uk", "reset_password", "used", uk(6, 8, 55)),
        ("d2@dacorum.gov.uk", "reset_password", "used", uk(7, 8, 55)),
        ("d2@dacorum.gov.uk", "reset_password", "expired", uk(9, 8)),
        ("d4@dacorum.gov.uk", "reset_mfa", "too_many_tries", uk(10, 8)),
        ("d4@dacorum.gov.uk", "sign_in", "used", uk(10, 9)),  # a web sign-in, not a reset
        ("a1@aylesburyvaledc.gov.uk", "reset_mfa", "used", uk(11, 8, 55)),
        ("a2@aylesburyvaledc.gov.uk", "reset_mfa", "replaced", uk(12, 8)),
        ("a2@aylesburyvaledc.gov.uk", "reset_mfa", "", uk(12, 8, 5)),
    ):
        await m.code(subject, purpose, ended, at)
    return m


def clocks(**cells: tuple[int, int, int]) -> dict[str, dict[str, Any]]:
    """Per priority (met, breached, running); percent = met of those decided."""
    out = {}
    for p in ("P1", "P2", "P3", "P4"):
        met, breached, running = cells.get(p, (0, 0, 0))
        decided = met + breached
        out[p] = {
            "met": met,
            "breached": breached,
            "running": running,
            "percent": round(100 * met / decided, 1) if decided else None,
        }
    return out


def resets(**ops: dict[str, int]) -> dict[str, dict[str, int]]:
    outcomes = ("done", "code_used", "code_wrong_too_often", "code_expired", "code_not_used")
    return {
        op: {o: ops.get(op, {}).get(o, 0) for o in outcomes}
        for op in ("reset_password", "unlock_account", "reset_mfa")
    }


DACORUM = {
    "conversations": 5,  # conversations 1–5; 6 only had answers outside May
    "questions_answered": 7,
    "tickets_raised": 5,
    "deflection": {"confirmed": 1, "potential": 3, "none": 4},  # none: a2 a4 a6 + None of these
    "resets": resets(
        reset_password={"done": 2, "code_used": 2, "code_expired": 1},
        unlock_account={"done": 1},
        reset_mfa={"code_wrong_too_often": 1},
    ),
    "tickets_by_category": {
        "email": 2,
        "calendar": 1,
        "documents": 0,
        "sign-in": 1,
        "device": 1,
        "other": 0,
    },
    "tickets_by_priority": {"P1": 1, "P2": 1, "P3": 1, "P4": 2},
    "sla_attainment": {
        "response": clocks(P1=(0, 1, 0), P2=(1, 0, 0), P3=(1, 0, 0), P4=(1, 0, 1)),
        "resolution": clocks(P1=(0, 1, 0), P2=(1, 0, 0), P3=(0, 1, 0), P4=(1, 0, 1)),
    },
    "csat": {"count": 2, "mean": 4.5, "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}},
    "agent_minutes": 60,
    "top_articles": [
        {"article": CAL, "answers": 3, "confirmed": 0},
        {"article": EMAIL, "answers": 3, "confirmed": 1},
        {"article": DOCS, "answers": 1, "confirmed": 0},
    ],
    "top_unanswered": [{"topic": "email", "count": 2}, {"topic": "unknown", "count": 2}],
    "cost_share": {"tickets": 62.5, "agent_minutes": 42.9},  # 5 of 8 tickets, 60 of 140 min
}
AYLESBURY = {
    "conversations": 3,
    "questions_answered": 6,
    "tickets_raised": 3,
    "deflection": {"confirmed": 2, "potential": 1, "none": 3},
    "resets": resets(reset_mfa={"done": 1, "code_used": 1, "code_not_used": 2}),
    "tickets_by_category": {
        "email": 0,
        "calendar": 0,
        "documents": 1,
        "sign-in": 1,
        "device": 0,
        "other": 1,
    },
    "tickets_by_priority": {"P1": 1, "P2": 1, "P3": 1, "P4": 0},
    "sla_attainment": {
        "response": clocks(P1=(1, 0, 0), P2=(0, 1, 0), P3=(1, 0, 0)),
        "resolution": clocks(P1=(0, 0, 1), P2=(1, 0, 0), P3=(1, 0, 0)),
    },
    "csat": {"count": 2, "mean": 2.5, "distribution": {"1": 0, "2": 1, "3": 1, "4": 0, "5": 0}},
    "agent_minutes": 80,
    "top_articles": [
        {"article": CAL, "answers": 2, "confirmed": 1},
        {"article": SIGNIN, "answers": 2, "confirmed": 1},
        {"article": DOCS, "answers": 1, "confirmed": 0},
        {"article": EMAIL, "answers": 1, "confirmed": 0},
    ],
    "top_unanswered": [{"topic": "sign-in", "count": 1}],
    "cost_share": {"tickets": 37.5, "agent_minutes": 57.1},
}
ALL = {
    "conversations": 8,
    "questions_answered": 13,
    "tickets_raised": 8,
    "deflection": {"confirmed": 3, "potential": 4, "none": 7},
    "resets": resets(
        reset_password={"done": 2, "code_used": 2, "code_expired": 1},
        unlock_account={"done": 1},
        reset_mfa={"done": 1, "code_used": 1, "code_wrong_too_often": 1, "code_not_used": 2},
    ),
    "tickets_by_category": {
        "email": 2,
        "calendar": 1,
        "documents": 1,
        "sign-in": 2,
        "device": 1,
        "other": 1,
    },
    "tickets_by_priority": {"P1": 2, "P2": 2, "P3": 2, "P4": 2},
    "sla_attainment": {
        "response": clocks(P1=(1, 1, 0), P2=(1, 1, 0), P3=(2, 0, 0), P4=(1, 0, 1)),
        "resolution": clocks(P1=(0, 1, 1), P2=(2, 0, 0), P3=(1, 1, 0), P4=(1, 0, 1)),
    },
    "csat": {"count": 4, "mean": 3.5, "distribution": {"1": 0, "2": 1, "3": 1, "4": 1, "5": 1}},
    "agent_minutes": 140,
    "top_articles": [
        {"article": CAL, "answers": 5, "confirmed": 1},
        {"article": EMAIL, "answers": 4, "confirmed": 1},
        {"article": DOCS, "answers": 2, "confirmed": 0},  # ties: by article id
        {"article": SIGNIN, "answers": 2, "confirmed": 1},
    ],
    "top_unanswered": [
        {"topic": "email", "count": 2},
        {"topic": "unknown", "count": 2},
        {"topic": "sign-in", "count": 1},
    ],
    "cost_share": {"tickets": 100.0, "agent_minutes": 100.0},
}


async def test_a_seeded_month_adds_up_for_both_councils(db: Database) -> None:
    await seed(db)
    report = await build(db, DEFAULT_COUNCILS, MAY, now=NOW)
    assert report["period"] == {"from": "2026-05-01", "to": "2026-05-31"}
    assert report["councils"]["dacorum"] == DACORUM
    assert report["councils"]["aylesbury-vale"] == AYLESBURY
    assert report["all"] == ALL


async def test_one_council_and_its_share_of_the_whole(db: Database) -> None:
    await seed(db)
    report = await build(db, DEFAULT_COUNCILS, MAY, now=NOW, council="dacorum")
    assert list(report["councils"]) == ["dacorum"]
    assert report["councils"]["dacorum"] == DACORUM
    assert report["all"] == DACORUM  # the sum of one council, its share of the whole kept


async def test_every_figure_has_one_csv_row(db: Database) -> None:
    await seed(db)
    report = await build(db, DEFAULT_COUNCILS, MAY, now=NOW)
    lines = formats.to_csv(report).splitlines()
    assert lines[0] == "council,figure,value"
    assert "dacorum,deflection.potential,3" in lines
    assert "aylesbury-vale,cost_share.agent_minutes,57.1" in lines
    assert f"all,top_articles.{CAL}.answers,5" in lines
    assert "aylesbury-vale,sla_attainment.response.P4.percent," in lines  # nothing to measure
    assert len(lines) == 1 + len(list(formats.rows(report)))


def test_a_period_is_two_dates_in_order() -> None:
    import pytest

    from bot.insight.report import PeriodError

    for first, last in (
        ("2026-13-01", "2026-05-31"),
        ("May", "2026-05-31"),
        ("2026-06-01", "2026-05-31"),
    ):
        with pytest.raises(PeriodError):
            Period.parse(first, last)
