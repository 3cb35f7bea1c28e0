"""Graceful shutdown: ``itbot serve`` on SIGTERM finishes the request in flight before its
port closes, and the outbox worker gives back the rows it claimed but did not deliver."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bot.desk.outbox import OutboxWorker
from bot.desk.tickets import OutboxMessage
from bot.storage import Database
from tests.conftest import free_port


def _in_flight(url: str) -> float:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("itbot_http_requests_in_flight "):
                return float(line.split()[1])
    raise AssertionError("no itbot_http_requests_in_flight on /metrics")


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_sigterm_finishes_the_request_in_flight_then_closes_the_port(
    tmp_path: Path, embedding_cache: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    env = {
        **os.environ,
        "ITBOT_SEMANTIC": os.environ.get("ITBOT_TEST_SEMANTIC", "auto"),
        "ITBOT_CACHE_DIR": str(embedding_cache),
        "ITBOT_NOTIFY": f"file:{tmp_path / 'notify.jsonl'}",
        "ITBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'itbot.db'}",
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(port)],
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + 120
        while _get_or_none(f"{url}/readyz") != 200:
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)

        # a slow request: the headers and half the body, the rest later
        body = b'{"email": "sam.taylor@dacorum.gov.uk"}'
        slow = socket.create_connection(("127.0.0.1", port), timeout=30)
        slow.sendall(
            b"POST /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:10]
        )
        while _in_flight(url) < 2:  # the slow one, and this scrape itself
            time.sleep(0.05)

        process.send_signal(signal.SIGTERM)
        # still listening while it drains: ready no more, so a balancer sends nothing new
        while _get(f"{url}/readyz") != 503:
            assert process.poll() is None, log_path.read_text()
            time.sleep(0.05)

        slow.sendall(body[10:])
        answer = b""
        while chunk := slow.recv(65536):
            answer += chunk
        slow.close()
        assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
        assert b'"code_sent": true' in answer

        assert process.wait(timeout=60) == 0
        assert _get_or_none(f"{url}/healthz") is None  # the port is closed
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = log_path.read_text()
    assert "Traceback" not in text, text
    stopping = text.index("stopping: finishing requests in flight")
    assert stopping < text.index("outbox: released") < text.index("closing the port")


def _get_or_none(url: str) -> int | None:
    try:
        return _get(url)
    except OSError:
        return None


async def test_claimed_rows_not_delivered_are_given_back(db: Database) -> None:
    """A worker stopped while deliveries hang: after the grace they are cancelled and
    their rows given back at once (no lease to wait out); another worker delivers them."""
    async with db.session() as session, session.begin():
        session.add_all(OutboxMessage(kind="test_slow", destination="slow") for _ in range(5))

    lane_full = asyncio.Event()
    started: list[int] = []

    async def hangs(session: AsyncSession, row: OutboxMessage) -> None:
        started.append(row.id)
        if len(started) == 4:  # the lane is full: four at once, the fifth waits
            lane_full.set()
        await asyncio.Event().wait()  # a target that never answers

    worker = OutboxWorker(db, per_destination=4)
    worker.register("slow", {"test_slow": hangs})
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop, grace=0.2))
    await lane_full.wait()
    assert len(worker.claimed) == 4
    stop.set()
    await task
    assert not worker.claimed and await worker.release() == 0

    async with db.session() as session:
        rows = (await session.execute(sa.select(OutboxMessage))).scalars().all()
    assert all(row.sent_at is None and row.locked_until is None for row in rows)

    delivered: list[int] = []

    async def quick(session: AsyncSession, row: OutboxMessage) -> None:
        delivered.append(row.id)

    survivor = OutboxWorker(db)
    survivor.register("slow", {"test_slow": quick})
    assert await survivor.run_once() == 5
    assert sorted(delivered) == sorted(row.id for row in rows)


async def test_a_delivery_under_way_at_stop_finishes(db: Database) -> None:
    """Stopped while a delivery is under way: it finishes within the grace."""
    async with db.session() as session, session.begin():
        session.add(OutboxMessage(kind="test_slow", destination="slow"))

    entered, go_on = asyncio.Event(), asyncio.Event()
    delivered: list[int] = []

    async def slow(session: AsyncSession, row: OutboxMessage) -> None:
        entered.set()
        await go_on.wait()
        delivered.append(row.id)

    worker = OutboxWorker(db)
    worker.register("slow", {"test_slow": slow})
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await entered.wait()
    stop.set()
    go_on.set()
    await task
    async with db.session() as session:
        row = (await session.execute(sa.select(OutboxMessage))).scalar_one()
    assert row.sent_at is not None and delivered == [row.id]
