"""The per-council report on PostgreSQL at a year of activity with 100,000 tickets.

Run from the repository root (PostgreSQL at 127.0.0.1:5432 with the tests' credentials;
the benchmark creates its own database, ``bench_report``, and drops it at the end)::

    python tests/benchmarks/report_bench.py
    python tests/benchmarks/report_bench.py --tickets 100000 --answers 300000 --runs 5

It migrates the scratch database, bulk-loads (``COPY``) a year of staff, tickets (SLA
clocks met, breached and running, CSAT on some), activity rows (answers rated Yes, No or
not at all, declined questions, "None of these", other turns, reopenings, agent minutes)
and access resets with their codes, runs ``ANALYZE``, then times
:func:`bot.insight.report.build` over the whole year for every council (and for one) and
prints the figure beside the 1 s target. Other work on the machine shows in the figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get("ITBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
NAME = "bench_report"
TARGET_SECONDS = 1.0
COUNCILS = (("dacorum", "dacorum.gov.uk"), ("aylesbury-vale", "aylesburyvaledc.gov.uk"))
CATEGORIES = ("email", "calendar", "documents", "sign-in", "device", "other")
PRIORITIES = ("P1", "P2", "P3", "P4")
START = datetime(2025, 12, 1, tzinfo=UTC)
YEAR = timedelta(days=365)


async def admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_URL.replace("+asyncpg", ""))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def moment(rng: random.Random) -> datetime:
    return START + timedelta(seconds=rng.randrange(int(YEAR.total_seconds())))


async def seed(url: str, args: argparse.Namespace) -> None:
    import asyncpg

    rng = random.Random(14)
    conn = await asyncpg.connect(url)
    try:
        staff = []
        for i in range(args.staff):
            key, domain = COUNCILS[i % 2]
            staff.append(
                (i + 1, f"person{i}@{domain}", key, f"Person {i}", False, False, START, START)
            )
        await conn.copy_records_to_table(
            "staff",
            records=staff,
            columns=[
                "id",
                "email",
                "council",
                "display_name",
                "is_agent",
                "is_privileged",
                "created_at",
                "updated_at",
            ],
        )
        tickets = []
        for i in range(args.tickets):
            person = rng.randrange(args.staff)
            opened = moment(rng)
            priority = rng.choices(PRIORITIES, (1, 3, 10, 6))[0]
            response_due = opened + timedelta(hours=rng.choice((0.5, 1, 4, 8.5)))
            resolution_due = opened + timedelta(hours=rng.choice((4, 8.5, 25.5, 42.5)))
            responded = opened + timedelta(minutes=rng.randrange(5, 600))
            resolved = (
                opened + timedelta(hours=rng.randrange(1, 80)) if rng.random() < 0.9 else None
            )
            tickets.append(
                (
                    i + 1,
                    f"JSD-{i + 1:06d}",
                    person + 1,
                    COUNCILS[person % 2][0],
                    rng.choice(CATEGORIES),
                    priority,
                    "resolved" if resolved else "open",
                    "A problem",
                    "",
                    "",
                    "chat",
                    "[]",
                    "web",
                    "",
                    opened,
                    opened,
                    responded if rng.random() < 0.97 else None,
                    resolved,
                    None,
                    response_due,
                    resolution_due,
                    response_due,
                    resolution_due,
                    "[]",
                    None,
                    None,
                    0,
                    rng.randint(1, 5) if resolved and rng.random() < 0.3 else None,
                )
            )
        await conn.copy_records_to_table(
            "tickets",
            records=tickets,
            columns=[
                "id",
                "ref",
                "requester_id",
                "council",
                "category",
                "priority",
                "status",
                "summary",
                "description",
                "impact",
                "source",
                "transcript",
                "reply_channel",
                "reply_thread",
                "created_at",
                "updated_at",
                "first_response_at",
                "resolved_at",
                "closed_at",
                "response_due",
                "resolution_due",
                "response_risk_at",
                "resolution_risk_at",
                "sla_alerts",
                "sla_next_alert_at",
                "sla_paused_at",
                "sla_paused_seconds",
                "csat_score",
            ],
        )
        rows: list[tuple[Any, ...]] = []

        def add(kind: str, person: int, at: datetime, **v: Any) -> None:
            rows.append(
                (
                    at,
                    kind,
                    COUNCILS[person % 2][0],
                    "slack",
                    v.get("conv", person + 1),
                    person + 1,
                    v.get("intent"),
                    v.get("article"),
                    v.get("category"),
                    v.get("rating"),
                    v.get("ref"),
                    v.get("minutes"),
                    v.get("until"),
                    v.get("undone"),
                )
            )

        for _ in range(args.answers):
            person, at = rng.randrange(args.staff), moment(rng)
            add(
                "answer",
                person,
                at,
                intent="question",
                article=f"a/{rng.randrange(150)}",
                category=rng.choice((*CATEGORIES, None)),
                rating=rng.choices(("yes", "no", None), (3, 1, 6))[0],
                until=at + timedelta(days=rng.choice((3, 4, 5))),
                undone=f"JSD-{rng.randrange(1, args.tickets):06d}" if rng.random() < 0.12 else None,
            )
        for kind, count in (
            ("unanswered", args.answers // 10),
            ("none_of_these", args.answers // 30),
            ("turn", args.answers // 2),
        ):
            for _ in range(count):
                add(
                    kind,
                    rng.randrange(args.staff),
                    moment(rng),
                    category=rng.choice((*CATEGORIES, None)),
                )
        for i in range(args.tickets // 10):
            add(
                "reopened",
                rng.randrange(args.staff),
                moment(rng),
                conv=None,
                category=rng.choice(CATEGORIES),
                ref=f"JSD-{i + 1:06d}",
            )
        for i in range(args.tickets // 2):
            add(
                "time_spent",
                rng.randrange(args.staff),
                moment(rng),
                conv=None,
                minutes=rng.randrange(5, 90),
                ref=f"JSD-{i + 1:06d}",
            )
        await conn.copy_records_to_table(
            "activity",
            records=rows,
            columns=[
                "at",
                "kind",
                "council",
                "channel",
                "conversation_id",
                "staff_id",
                "intent",
                "article_id",
                "category",
                "rating",
                "ticket_ref",
                "minutes",
                "deflect_until",
                "undone_by",
            ],
        )
        ops = ("reset_password", "unlock_account", "reset_mfa")
        resets = [
            (
                f"person{rng.randrange(args.staff)}@{rng.choice(COUNCILS)[1]}",
                rng.choice(ops),
                "slack",
                "demo",
                moment(rng),
            )
            for _ in range(args.tickets // 10)
        ]
        await conn.copy_records_to_table(
            "access_resets",
            records=resets,
            columns=["subject", "operation", "channel", "directory", "done_at"],
        )
        codes = []
        for _ in range(args.tickets // 8):
            at = moment(rng)
            codes.append(
                (
                    rng.choice((*ops, "sign_in")),
                    f"person{rng.randrange(args.staff)}@{rng.choice(COUNCILS)[1]}",
                    b"s" * 16,
                    b"d" * 32,
                    "",
                    "",
                    at,
                    at,
                    0,
                    rng.choice(("used", "expired", "too_many_tries", "replaced", "")),
                )
            )
        await conn.copy_records_to_table(
            "access_codes",
            records=codes,
            columns=[
                "purpose",
                "subject",
                "salt",
                "digest",
                "sent_to",
                "channel",
                "created_at",
                "expires_at",
                "wrong_tries",
                "ended",
            ],
        )
        await conn.execute("SELECT setval('staff_id_seq', $1)", args.staff)
        await conn.execute("SELECT setval('tickets_id_seq', $1)", args.tickets)
        await conn.execute("VACUUM ANALYZE")  # what autovacuum does on a live database
        print(
            f"seeded: {args.staff:,} staff, {args.tickets:,} tickets, {len(rows):,} activity "
            f"rows ({args.answers:,} answers), {len(resets):,} resets, {len(codes):,} codes"
        )
    finally:
        await conn.close()


async def measure(url: str, args: argparse.Namespace) -> None:
    from bot.insight.report import Period, build
    from bot.settings.values import DEFAULT_COUNCILS
    from bot.storage import Database

    db = Database(url)
    await db.upgrade()
    await seed(url.replace("+asyncpg", ""), args)
    period = Period.parse("2025-12-01", "2026-11-30")
    now = START + YEAR
    try:
        for label, council in (("every council", None), ("one council", "dacorum")):
            times = []
            for _ in range(args.runs + 1):  # the first run warms the caches, not counted
                started = time.perf_counter()
                report = await build(db, DEFAULT_COUNCILS, period, now=now, council=council)
                times.append(time.perf_counter() - started)
            counted = times[1:]
            print(
                f"report, a year, {label}: median {statistics.median(counted):.3f} s, "
                f"max {max(counted):.3f} s over {len(counted)} runs "
                f"(target ≤ {TARGET_SECONDS:.1f} s) "
                f"{'OK' if max(counted) <= TARGET_SECONDS else 'OVER TARGET'}"
            )
        summary = {
            k: report["all"][k]
            for k in ("tickets_raised", "questions_answered", "deflection", "agent_minutes")
        }
        print("last report's totals:", json.dumps(summary))
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--answers", type=int, default=300_000)
    parser.add_argument("--staff", type=int, default=4_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    base = ADMIN_URL.rsplit("/", 1)[0]
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
    asyncio.run(admin(f'CREATE DATABASE "{NAME}"'))
    try:
        asyncio.run(
            measure(f"{base.replace('postgresql://', 'postgresql+asyncpg://')}/{NAME}", args)
        )
    finally:
        if not args.keep:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
