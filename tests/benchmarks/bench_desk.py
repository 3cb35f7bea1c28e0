"""Desk benchmarks on PostgreSQL: raising tickets through the domain API, and the dashboard's
queue page with 100,000 tickets.

Run from the repository root (PostgreSQL at 127.0.0.1:5432 with a database ``test``; the
benchmark creates its own database next to it and drops it at the end)::

    python tests/benchmarks/bench_desk.py
    python tests/benchmarks/bench_desk.py --create 10000 --total 100000 --workers 4

1. **Raising**: ``--create`` tickets through :meth:`bot.desk.service.Desk.raise_ticket`
   (ticket, reference, "created" event and the Slack triage channel's ``ticket_created``
   outbox row, as the chat flow does), by
   ``--workers`` concurrent units of work of ``--batch`` tickets each. Target ≥ 1,000/s.
   Also printed: SQL statements and this process's CPU time per ticket, which depend far
   less on other work on the machine than the rate does, and the load average.
2. **Filling** up to ``--total`` tickets by copying those rows in SQL (new references,
   older dates, 70% resolved or closed, some assigned) so the run stays bounded; pass
   ``--all-through-api`` to raise every one of them through the domain API instead.
   Then, as on a live desk, the SLA alerts already past are taken as recorded and the
   outbox as delivered; ``--backlog`` leaves them for the server's SLA watch and outbox
   worker to work through while the pages are measured (tickets raised "60 days ago" in
   one go are a backlog no running desk has, and it competes with the pages).
3. **Queue page**: the real application on a loopback port, an agent signed in through the
   form, then each view requested ``--requests`` times after warm-up. Reported: the page's
   own ``Server-Timing`` total (auth + database + render, in the server) at p50/p95/max, the
   database part, and the time the client saw. Target: p95 ≤ 100 ms at 100,000 tickets.

Other work on the machine shows in the figures: say what else was running when quoting them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import resource
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PASSWORD = "benchmark password 0123"
AGENT = "bench.agent@dacorum.gov.uk"
VIEWS = {
    "queue (default)": "",
    "page 10": "?page=10",
    "council": "?council=dacorum",
    "priority P2": "?priority=P2",
    "assignee me": "?assignee=me",
    "unassigned": "?assignee=unassigned",
    "SLA breached": "?sla=breached",
    "SLA at risk": "?sla=at_risk",
    "combined": "?council=aylesbury-vale&priority=P3&assignee=unassigned&sla=breached",
    "search text": "?q=printer+42",
    "search number": "?q=000777",
    "closed": "?status=closed",
    "any status": "?status=any",
}
SUMMARIES = (
    "Outlook will not open",
    "Printer {n} jams on floor 2",
    "Teams camera not working",
    "Cannot reach the shared drive",
    "New starter needs a laptop",
    "Password expired and locked out",
)


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _people(db: Any) -> tuple[list[Any], list[Any]]:
    from bot.desk import accounts
    from bot.desk.passwords import hash_password
    from bot.storage import staff as staff_repo

    requesters, agents = [], []
    async with db.session() as session, session.begin():
        for i in range(200):
            domain, council = (
                ("dacorum.gov.uk", "dacorum")
                if i % 2
                else ("aylesburyvaledc.gov.uk", "aylesbury-vale")
            )
            requesters.append(
                await staff_repo.get_or_create(
                    session, email=f"staff.{i}@{domain}", council=council
                )
            )
        agent, _ = await accounts.add_agent(
            session,
            email=AGENT,
            council="dacorum",
            password_hash=hash_password(PASSWORD),
            now=datetime.now(UTC),
        )
        agents.append(agent)
        for i in range(9):
            staff = await accounts.mark_agent(
                session, email=f"agent.{i}@dacorum.gov.uk", council="dacorum"
            )
            agents.append(staff)
    return requesters, agents


async def raise_tickets(db: Any, requesters: list[Any], n: int, workers: int, batch: int) -> float:
    """Raise ``n`` tickets through the domain API; the rate in tickets per second."""
    from bot.app import build_desk
    from bot.settings import Settings

    # wired as a deployment with a Slack triage channel: each ticket writes its
    # ticket_created event for Slack, as the triage_post row was written before
    desk = build_desk(
        Settings.from_environ(
            {
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": "0123456789abcdef0123456789abcdef",
                "ITBOT_SLACK_TRIAGE_CHANNEL": "C0TRIAGE1",
            }
        )
    )
    rng = random.Random(6)
    start = datetime.now(UTC) - timedelta(days=60)
    chunks = iter(range(0, n, batch))

    async def work() -> None:
        for first in chunks:
            async with db.session() as session, session.begin():
                for i in range(first, min(first + batch, n)):
                    await desk.raise_ticket(
                        session,
                        requester=requesters[i % len(requesters)],
                        summary=rng.choice(SUMMARIES).format(n=i % 97),
                        category=rng.choice(("email", "calendar", "documents", "device")),
                        priority=rng.choices(("P1", "P2", "P3", "P4"), (5, 20, 50, 25))[0],
                        now=start + timedelta(minutes=i * 60 * 24 * 60 // max(n, 1)),
                    )

    began = time.perf_counter()
    await asyncio.gather(*(work() for _ in range(workers)))
    return n / (time.perf_counter() - began)


async def fill(db: Any, total: int, agents: list[Any]) -> None:
    """Copy the raised tickets until there are ``total``, with new references and states."""
    from sqlalchemy import text

    async with db.engine.begin() as conn:
        have = (await conn.execute(text("SELECT count(*) FROM tickets"))).scalar_one()
        copies = -(-(total - have) // have) if total > have else 0
        await conn.execute(
            text(
                "INSERT INTO tickets (requester_id, council, category, priority, status, "
                "  assignee_id, summary, description, impact, source, transcript, reply_channel, "
                "  reply_thread, created_at, updated_at, response_due, resolution_due, "
                "  response_risk_at, resolution_risk_at, sla_alerts) "
                "SELECT requester_id, council, category, priority, "
                "  (ARRAY['new','open','pending','resolved','closed','closed','resolved',"
                "'closed','closed','resolved'])[1 + (t.id * 7 + g) % 10], "
                "  CASE WHEN (t.id + g) % 3 = 0 "
                "    THEN (CAST(:agents AS integer[]))[1 + (t.id + g) % :n_agents] END, "
                "  summary, description, impact, source, transcript, reply_channel, "
                "  reply_thread, created_at - g * interval '61 days', "
                "  updated_at - g * interval '61 days', response_due - g * interval '61 days', "
                "  resolution_due - g * interval '61 days', "
                "  response_risk_at - g * interval '61 days', "
                "  resolution_risk_at - g * interval '61 days', sla_alerts "
                "FROM tickets t, generate_series(1, :copies) g ORDER BY g, t.id LIMIT :missing"
            ),
            {
                "agents": [a.id for a in agents],
                "n_agents": len(agents),
                "copies": copies,
                "missing": max(total - have, 0),
            },
        )
        await conn.execute(
            text(
                "UPDATE tickets SET ref = 'JSD-' || lpad(id::text, 6, '0'), "
                "  first_response_at = CASE WHEN status <> 'new' THEN response_due END, "
                "  resolved_at = CASE WHEN status IN ('resolved', 'closed') "
                "    THEN resolution_due - interval '1 hour' END, "
                "  closed_at = CASE WHEN status = 'closed' THEN resolution_due END "
                "WHERE ref IS NULL"
            )
        )
    # what a live desk's autovacuum does: fresh statistics and visibility map
    async with db.engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("VACUUM ANALYZE tickets"))


async def settle(db: Any) -> tuple[int, int]:
    """What a live desk's SLA watch and outbox worker have already done by now: alerts
    due in the past recorded, outbox rows delivered. Returns how many of each."""
    from sqlalchemy import text

    async with db.engine.begin() as conn:
        alerts = await conn.execute(
            text("UPDATE tickets SET sla_next_alert_at = NULL WHERE sla_next_alert_at <= now()")
        )
        outbox = await conn.execute(
            text("UPDATE desk_outbox SET sent_at = now() WHERE sent_at IS NULL")
        )
    return alerts.rowcount, outbox.rowcount


class _Statements(list[str]):
    """The SQL statements ``db`` sends until :meth:`stop` (each is one round trip)."""

    def __init__(self, db: Any) -> None:
        super().__init__()
        from sqlalchemy import event

        self.engine = db.engine.sync_engine
        event.listen(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        self.append(args[2])

    def stop(self) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._seen)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def queue_pages(url: str, requests: int) -> dict[str, dict[str, float]]:
    """Each view's server time (Server-Timing) and client time, in ms."""
    import aiohttp
    from aiohttp import web

    from bot.app import create_app
    from bot.settings import Settings

    settings = Settings.from_environ(
        {"ITBOT_DATABASE_URL": url, "ITBOT_SEMANTIC": "off", "ITBOT_SECRET_KEY": "b" * 32}
    )
    runner = web.AppRunner(create_app(settings, watch_knowledge=False), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    base = f"http://127.0.0.1:{port}"
    results: dict[str, dict[str, float]] = {}
    jar = aiohttp.CookieJar(unsafe=True)
    try:
        async with aiohttp.ClientSession(cookie_jar=jar) as client:
            form = await (await client.get(f"{base}/desk/login")).text()
            csrf = re.search(r'name="csrf" value="([^"]+)"', form)
            assert csrf
            signed_in = await client.post(
                f"{base}/desk/login",
                data={"email": AGENT, "password": PASSWORD, "csrf": csrf.group(1)},
            )
            assert signed_in.status == 200 and signed_in.url.path == "/desk/", signed_in.status
            for name, query in VIEWS.items():
                server, database, seen = [], [], []
                for i in range(requests + 3):
                    began = time.perf_counter()
                    async with client.get(f"{base}/desk/{query}") as response:
                        await response.read()
                        assert response.status == 200, (name, response.status)
                        timing = dict(
                            part.split(";dur=")
                            for part in response.headers["Server-Timing"].split(", ")
                        )
                    if i >= 3:  # warm-up: connection, statement cache, templates
                        seen.append((time.perf_counter() - began) * 1000)
                        server.append(float(timing["total"]))
                        database.append(float(timing["db"]))
                results[name] = {
                    "p50": statistics.median(server),
                    "p95": _pct(server, 0.95),
                    "max": max(server),
                    "db_p50": statistics.median(database),
                    "client_p50": statistics.median(seen),
                }
    finally:
        await runner.cleanup()
    return results


async def run(args: argparse.Namespace) -> int:
    from bot.storage import Database

    name = f"itbot_bench_desk_{os.getpid()}"
    admin = args.postgres_url.replace("+asyncpg", "")
    await _admin(admin, f'CREATE DATABASE "{name}"')
    url = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    db = Database(url, pool_size=args.workers + 2)
    try:
        await db.upgrade()
        requesters, agents = await _people(db)
        created = args.total if args.all_through_api else args.create
        load = os.getloadavg()[0]
        statements = _Statements(db)
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        rate = await raise_tickets(db, requesters, created, args.workers, args.batch)
        used = resource.getrusage(resource.RUSAGE_SELF)
        cpu_ms = (used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime) * 1000 / created
        print(
            f"raise_ticket through the domain API: {created:,} tickets at {rate:,.0f}/s "
            f"({args.workers} workers, {args.batch} per transaction)  target ≥ 1,000/s\n"
            f"  per ticket: {len(statements) / created:.2f} SQL statements, {cpu_ms:.2f} ms CPU "
            f"in this process; load average {load:.2f} before, {os.getloadavg()[0]:.2f} after",
            flush=True,
        )
        statements.stop()
        began = time.perf_counter()
        await fill(db, args.total, agents)
        print(f"filled to {args.total:,} tickets in {time.perf_counter() - began:.1f}s", flush=True)
        if args.backlog:
            print("backlog left for the server: SLA alerts due and outbox rows undelivered")
        else:
            alerts, outbox = await settle(db)
            print(f"settled: {alerts:,} tickets' past SLA alerts, {outbox:,} outbox rows")
        await db.dispose()
        results = await queue_pages(url, args.requests)
        print(f"\nqueue page at {args.total:,} tickets, {args.requests} requests per view (ms):")
        print(f"{'view':<18}{'server p50':>11}{'p95':>8}{'max':>8}{'db p50':>9}{'client p50':>12}")
        for view, r in results.items():
            print(
                f"{view:<18}{r['p50']:>11.1f}{r['p95']:>8.1f}{r['max']:>8.1f}"
                f"{r['db_p50']:>9.1f}{r['client_p50']:>12.1f}"
            )
        worst = max(r["p95"] for r in results.values())
        default = results["queue (default)"]["p95"]
        print(f"\ndefault queue page p95 {default:.1f} ms, worst view p95 {worst:.1f} ms"
              "  target ≤ 100 ms")  # fmt: skip
        return 0 if rate >= 1000 and default <= 100 else 1
    finally:
        await db.dispose()
        await _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "ITBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
        help="an existing database to connect to (the benchmark makes its own next to it)",
    )
    parser.add_argument("--create", type=int, default=10_000, help="tickets to raise (10,000)")
    parser.add_argument("--total", type=int, default=100_000, help="tickets in the queue")
    parser.add_argument("--workers", type=int, default=4, help="concurrent units of work (4)")
    parser.add_argument("--batch", type=int, default=50, help="tickets per transaction (50)")
    parser.add_argument("--requests", type=int, default=30, help="requests per view (30)")
    parser.add_argument(
        "--all-through-api", action="store_true", help="raise all --total tickets via the API"
    )
    parser.add_argument(
        "--backlog",
        action="store_true",
        help="leave past SLA alerts and the outbox to the server while pages are measured",
    )
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
