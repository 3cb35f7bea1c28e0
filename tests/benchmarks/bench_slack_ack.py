"""Slack ack path: signed ``message.im`` events through ``/slack/events`` vs a bare handler.

Run from the repository root::

    python tests/benchmarks/bench_slack_ack.py
    python tests/benchmarks/bench_slack_ack.py --database-url postgresql+asyncpg://postgres@127.0.0.1/bench

Two servers run, one after the other, each in its own process on a loopback port:

* **bare** — an aiohttp handler that reads the body, verifies the Slack signature (slack_sdk's
  ``SignatureVerifier``, as bolt does) and answers 200. The floor of any Slack endpoint.
* **itbot** — the bot's real ack path, ``SlackChannel.handle_http``: a DM takes the fast path
  (``bot/channels/slack/fastpath.py``: the same signature check, the body parsed once, the
  job built by the same ``jobs.from_message`` as the bolt listener) → the inbox records it in
  the database (group commit, de-duplicated by ``event_id``) → 200. Interactivity, commands
  and channel events go through bolt's ``AsyncApp`` instead and are not measured here. The
  worker is off, so the figure is the ack path alone (answering happens after the ack).

Both run at once; throughput rounds alternate between them (``--rounds`` of ``--requests``
events, ``--concurrency`` in flight, after a warm-up) and the medians are compared, so a
change in the machine's other load hits both alike. The servers' CPU time per event is
printed too (from ``/proc``): it hardly depends on that load. Then latency at a fixed
``--rate`` (events/s, open loop: each request is sent at its scheduled time and timed from
then) for ``--seconds``. Events are signed before the clock starts. The load generator is
this process (one core of Python aiohttp client), so the bare handler's figure is partly the
client's ceiling. Targets: itbot ≥ 50% of bare throughput; itbot p99 ≤ 50 ms at 200 events/s.
Say what else was running on the machine when you quote the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SECRET = "bench-signing-secret-0123456789"


# -- the servers (run in a child process) -----------------------------------------------------


async def _serve_bare(port: int) -> None:
    from aiohttp import web
    from slack_sdk.signature import SignatureVerifier

    verifier = SignatureVerifier(SECRET)

    async def handle(request: web.Request) -> web.Response:
        body = await request.text()
        if not verifier.is_valid_request(body, dict(request.headers)):
            return web.Response(status=401)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    await _run(app, port)


async def _serve_itbot(port: int, database_url: str) -> None:
    import dataclasses

    from aiohttp import web

    from bot.channels.slack.channel import SlackChannel
    from bot.render import build_environment
    from bot.settings import Secret, Settings
    from bot.storage import Database
    from tests.slack.fake_slack import BOT_TOKEN, FakeSlack

    fake = FakeSlack()  # the Web API (the bot never calls it before an ack)
    await fake.start()
    settings = dataclasses.replace(
        Settings(),
        database_url=database_url,
        slack_bot_token=Secret(BOT_TOKEN),
        slack_signing_secret=Secret(SECRET),
        slack_api_url=fake.api_url,
    )
    db = Database(database_url)
    await db.upgrade()
    channel = SlackChannel(settings)
    app = web.Application()
    app.router.add_post("/slack/events", channel.handle_http)
    async with channel.running(
        db=db, engine=_NoEngine(), templates=build_environment(), worker=False
    ):
        await _run(app, port)


class _NoEngine:
    async def handle(self, incoming: Any) -> list[Any]:  # pragma: no cover - worker is off
        raise AssertionError("the benchmark measures the ack path only")


async def _run(app: Any, port: int) -> None:
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


# -- the load (this process) ---------------------------------------------------------------


def _events(n: int, prefix: str) -> list[tuple[bytes, dict[str, str]]]:
    sys.path.insert(0, str(ROOT))
    from tests.slack.fake_slack import message_im, sign

    out = []
    for i in range(n):
        body = message_im(f"UBENCH{i % 500:04d}", "how do I share my calendar")
        body["event_id"] = f"Ev{prefix}{i:08d}"
        text = json.dumps(body)
        headers = {"Content-Type": "application/json", **sign(text, secret=SECRET)}
        out.append((text.encode(), headers))
    return out


async def _throughput(url: str, events: list[Any], concurrency: int) -> dict[str, float]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = iter(events)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            for body, headers in queue:
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    if set(statuses) != {200}:
        raise SystemExit(f"unexpected statuses {statuses}")
    return {"rps": len(events) / elapsed, **_percentiles(latencies)}


async def _at_rate(url: str, events: list[Any], rate: float) -> dict[str, float]:
    import aiohttp

    latencies: list[float] = []
    bad = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def send(at: float, body: bytes, headers: dict[str, str]) -> None:
            nonlocal bad
            await asyncio.sleep(max(at - time.perf_counter(), 0))
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                bad += response.status != 200
            latencies.append(time.perf_counter() - at)

        start = time.perf_counter() + 0.2
        await asyncio.gather(
            *(send(start + i / rate, body, headers) for i, (body, headers) in enumerate(events))
        )
    if bad:
        raise SystemExit(f"{bad} requests failed at {rate}/s")
    return _percentiles(latencies)


def _percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "max_ms": ordered[-1] * 1000,
    }


def _start(kind: str, port: int, database_url: str) -> subprocess.Popen[str]:
    command = [sys.executable, __file__, "--serve", kind, "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--database-url", database_url], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.kill()
        raise SystemExit(f"{kind} server did not start: {line!r}")
    return process


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _measure(args: argparse.Namespace, database_url: str) -> dict[str, dict[str, Any]]:
    """Both servers up at once; throughput rounds alternate so load changes hit both alike."""
    servers = {kind: (_free_port(), kind) for kind in ("bare", "itbot")}
    processes = {kind: _start(kind, port, database_url) for kind, (port, _) in servers.items()}
    urls = {kind: f"http://127.0.0.1:{port}/slack/events" for kind, (port, _) in servers.items()}
    results: dict[str, dict[str, Any]] = {kind: {"rounds": [], "cpu": []} for kind in servers}
    try:
        for kind, url in urls.items():
            await _throughput(url, _events(300, f"{kind}w"), args.concurrency)  # warm-up
        for n in range(args.rounds):
            for kind, url in urls.items():
                events = _events(args.requests, f"{kind}t{n}")
                before = _cpu_seconds(processes[kind].pid)
                results[kind]["rounds"].append(await _throughput(url, events, args.concurrency))
                used = _cpu_seconds(processes[kind].pid) - before
                results[kind]["cpu"].append(used / args.requests * 1000)
        for kind, url in urls.items():
            await asyncio.sleep(0.5)
            events = _events(int(args.rate * args.seconds), f"{kind}r")
            results[kind]["steady"] = await _at_rate(url, events, args.rate)
    finally:
        for process in processes.values():
            process.terminate()
            process.wait(timeout=10)
    for result in results.values():
        best = max(result["rounds"], key=lambda r: r["rps"])
        result["throughput"] = {
            "rps": statistics.median(r["rps"] for r in result["rounds"]),
            "best": best["rps"],
            "p50_ms": statistics.median(r["p50_ms"] for r in result["rounds"]),
            "p99_ms": statistics.median(r["p99_ms"] for r in result["rounds"]),
            "cpu_ms": statistics.median(result["cpu"]),
        }
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="events per throughput round")
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds per server")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200.0, help="events/s for the latency run")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary folder")
    parser.add_argument("--serve", choices=["bare", "itbot"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve == "bare":
        asyncio.run(_serve_bare(args.port))
        return 0
    if args.serve == "itbot":
        asyncio.run(_serve_itbot(args.port, args.database_url))
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        results = asyncio.run(_measure(args, database_url))
    bare, itbot = results["bare"], results["itbot"]

    print(f"cpus={os.cpu_count()} loadavg={os.getloadavg()[0]:.2f} db={database_url.split(':')[0]}")
    print(
        f"{args.rounds} alternating rounds of {args.requests} signed message.im events, "
        f"{args.concurrency} in flight (medians); then {args.rate:.0f} events/s "
        f"for {args.seconds:.0f} s"
    )
    print(f"{'':26}{'bare handler':>14}{'itbot /slack/events':>22}")
    rows = [
        ("throughput (events/s)", "rps", "throughput", "{:.0f}"),
        ("  best round (events/s)", "best", "throughput", "{:.0f}"),
        ("  latency p50 (ms)", "p50_ms", "throughput", "{:.1f}"),
        ("  latency p99 (ms)", "p99_ms", "throughput", "{:.1f}"),
        ("  server CPU/event (ms)", "cpu_ms", "throughput", "{:.3f}"),
        (f"at {args.rate:.0f}/s p50 (ms)", "p50_ms", "steady", "{:.1f}"),
        (f"at {args.rate:.0f}/s p99 (ms)", "p99_ms", "steady", "{:.1f}"),
        (f"at {args.rate:.0f}/s max (ms)", "max_ms", "steady", "{:.1f}"),
    ]
    for label, key, part, fmt in rows:
        print(f"{label:26}{fmt.format(bare[part][key]):>14}{fmt.format(itbot[part][key]):>22}")
    ratio = itbot["throughput"]["rps"] / bare["throughput"]["rps"]
    p99 = itbot["steady"]["p99_ms"]
    print(
        f"itbot/bare throughput: {ratio:.0%} (target ≥ 50%): {'ok' if ratio >= 0.5 else 'MISSED'}"
    )
    print(f"itbot p99 at {args.rate:.0f}/s: {p99:.1f} ms (target ≤ 50 ms): "
          f"{'ok' if p99 <= 50 else 'MISSED'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
