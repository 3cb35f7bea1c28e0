"""Load: web chat turns and signed Slack events against two ``itbot serve`` replicas.

Run from the repository root, with the quick start's install (``.venv`` with the MiniLM model,
so semantic search is on) plus pytest, which the tests' fake Slack imports
(``.venv/bin/pip install pytest``; or use the test environment, ``.venv-test``); PostgreSQL
at 127.0.0.1:5432 with a database ``test``, next to which the benchmark creates its own
database and drops it at the end::

    .venv/bin/python tests/benchmarks/bench_load.py                  # load levels, then memory
    .venv/bin/python tests/benchmarks/bench_load.py --sqlite         # also one replica on SQLite
    .venv/bin/python tests/benchmarks/bench_load.py --memory-turns 5000 --skip-load   # quick check
    .venv/bin/python tests/benchmarks/bench_load.py --levels 16 --rates 20,40,60 --memory-turns 0

The replicas are real ``itbot serve`` processes started the quick start's way (the same
executable and settings a user would have: ``ITBOT_SEMANTIC=on``, INFO logs to a file), plus
what production adds: ``ITBOT_DATABASE_URL`` on PostgreSQL, a shared ``ITBOT_SECRET_KEY``, the SSO
proxy's header (``ITBOT_TRUSTED_EMAIL_HEADER``: the proven identity the web chat requires,
as the councils' oauth2-proxy sets it) and Slack over HTTP events against a local fake of
Slack's Web API (``tests/slack/fake_slack.py``) served by this process.

1. **Load levels** (``--levels``, default 1, 4, 16, 32): at each level, first the **web chat**:
   that many people, each posting a question to ``/api/chat`` (real HTTP, JSON) and the next
   one as soon as the reply arrives (closed loop, no think time), requests spread round-robin
   over the replicas as a load balancer without stickiness would. Then **Slack**: that many
   people each sending a signed ``message.im`` event and the next when the bot's reply
   (``chat.postMessage`` to their DM) reaches the fake. Questions are the staff's own
   phrasings from ``tests/data/kb_*questions.jsonl`` (each person asks from their council),
   cycled so every person's conversation is varied. Printed per level: turns/s, web chat reply
   p50/p99, Slack ack p50/p99 and event→reply p50/p99, the load average. Target: web chat
   p99 ≤ 50 ms at 16 concurrent. A few questions of the pool (the run prints how many) ask
   for a password reset, an unlock or an MFA reset; the first reply of a reset is held to
   at least 0.5 s on purpose
   (``ITBOT_RESET_REPLY_SECONDS``: a refusal must take as long as a sent code), so
   the web chat line is printed for every turn and again without those first replies (the
   bot's own intent detector tags the questions beforehand), beside the reset replies' own.
   With ``--rates`` (e.g. ``10,20,40,60,80``), also an **open loop** on the web chat: turns
   arriving at that many per second (Poisson) from 64 people, each sent when it is due
   whatever the others are doing and timed from then. Printed per rate: turns/s, p50/p99
   (all turns and without reset first replies), the turns in flight (mean and peak) and the
   server CPU per turn: the rate this machine serves within the 50 ms p99, and how many
   turns are then at once.
2. **Memory** (``--memory-turns``, default 100,000): web chat turns against one replica
   (``--memory-concurrency`` in flight), its resident set size (``/proc/PID/status`` VmRSS)
   sampled every ``--sample-every`` turns. Printed: RSS at half-way and at the end, the growth
   over the last half. Target: ≤ 400 MB with embeddings, no growth over the last half.

The load generator and the fake Slack are this process (one core of Python), on the same
machine as the replicas and PostgreSQL: say what else was running when quoting figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.slack.fake_slack import (  # noqa: E402 - after the path is set
    BOT_TOKEN,
    Call,
    FakeSlack,
    message_im,
    sign,
)

SIGNING_SECRET = "bench-load-signing-secret-0123456789"
SSO_HEADER = "X-Forwarded-Email"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
WEB_P99_TARGET_MS = 50.0
#: the people whose turns the open loop (``--rates``) sends
OPEN_LOOP_PEOPLE = 64
MEMORY_TARGET_MB = 400.0
DOMAINS = {"dacorum": "dacorum.gov.uk", "aylesbury-vale": "aylesburyvaledc.gov.uk"}


# -- questions ----------------------------------------------------------------------------


def questions() -> list[tuple[str, str]]:
    """(council, question) pairs: the staff's own phrasings from the test data."""
    out = []
    for name in ("kb_staff_questions.jsonl", "kb_heldout_questions.jsonl"):
        for line in (ROOT / "tests" / "data" / name).read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                out.append((row.get("council") or "dacorum", row["q"]))
    return out


def person_questions(person: int, pool: list[tuple[str, str]]) -> tuple[str, Iterator[str]]:
    """A person's council and an endless, varied run of questions of that council."""
    council = "dacorum" if person % 2 else "aylesbury-vale"
    mine = [q for c, q in pool if c == council] or [q for _, q in pool]
    start = (person * 37) % len(mine)
    return council, itertools.cycle(mine[start:] + mine[:start])


# -- the replicas -------------------------------------------------------------------------


@dataclass
class Replica:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _itbot() -> str:
    found = Path(sys.executable).with_name("itbot")
    if not found.exists():
        raise SystemExit(f"no itbot next to {sys.executable}: run with the quick start's .venv")
    return str(found)


def _spawn(workdir: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``itbot serve``, its standard error (the logs) to ``log``."""
    with log.open("wb") as errors:
        return subprocess.Popen(
            [_itbot(), "serve"], cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=errors
        )


async def start_replica(
    database_url: str, workdir: Path, slack_api: str, name: str, cache_dir: Path
) -> Replica:
    """``itbot serve`` on a free port; returns once it prints its address (start-up done)."""
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("ITBOT_", "SLACK_"))},
        "ITBOT_DATABASE_URL": database_url,
        "ITBOT_PORT": str(port),
        "ITBOT_SEMANTIC": "on",
        "ITBOT_CACHE_DIR": str(cache_dir),
        "ITBOT_SECRET_KEY": "bench-load-secret-key-0123456789",
        "ITBOT_TRUSTED_EMAIL_HEADER": SSO_HEADER,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "ITBOT_SLACK_API_URL": slack_api,
    }
    log = workdir / f"{name}.log"
    process = _spawn(workdir, env, log)
    assert process.stdout is not None
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        line = await loop.run_in_executor(None, process.stdout.readline)
        if not line:
            raise SystemExit(f"{name} did not start; see {log}:\n{log.read_text()[-2000:]}")
        if b"web chat on" in line:
            return Replica(process, port, log)
    process.kill()
    raise SystemExit(f"{name} did not start within 10 minutes")


def stop_replica(replica: Replica) -> None:
    replica.process.terminate()
    try:
        replica.process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        replica.process.kill()
        replica.process.wait()


# -- the fake Slack, telling who was answered when ----------------------------------------


@dataclass
class ReplyWatch(FakeSlack):
    """The fake Slack, plus a future per DM channel resolved by the bot's next post there."""

    waiting: dict[str, asyncio.Future[float]] = field(default_factory=dict)

    def _record(self, call: Call) -> None:
        if call.method == "chat.postMessage" or call.method == "chat.update":
            future = self.waiting.pop(str(call.params.get("channel", "")), None)
            if future is not None and not future.done():
                future.set_result(time.perf_counter())
        # keep only the last calls: a long run would otherwise hold every request
        if len(self.calls) > 2000:
            del self.calls[:1000]
        super()._record(call)

    def expect(self, channel: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[channel] = future
        return future


# -- the load -----------------------------------------------------------------------------


#: the intents whose first reply waits for ``ITBOT_RESET_REPLY_SECONDS`` (0.5 s)
RESETS = frozenset({"reset_password", "unlock_account", "reset_mfa"})


def reset_questions(pool: list[tuple[str, str]]) -> frozenset[str]:
    """The questions the bot takes for a reset request (its own detector, as it will)."""
    from intents import IntentDetector

    detector = IntentDetector.load()
    return frozenset(q for _, q in pool if detector.detect(q).intent in RESETS)


@dataclass
class Figures:
    web_ms: list[float] = field(default_factory=list)
    #: the same turns split: reset first replies (slow on purpose) and all the others
    reset_ms: list[float] = field(default_factory=list)
    question_ms: list[float] = field(default_factory=list)
    resets: frozenset[str] = frozenset()
    ack_ms: list[float] = field(default_factory=list)
    reply_ms: list[float] = field(default_factory=list)
    turns: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def web_turn(
    session: Any, url: str, email: str, text: str, figures: Figures, started: float
) -> None:
    """One web chat turn, timed from ``started`` (for the open loop: when it was due)."""
    try:
        async with session.post(
            url + "/api/chat", json={"text": text}, headers={SSO_HEADER: email}
        ) as response:
            body = await response.read()
            ok = response.status == 200 and b"html" in body
    except Exception as exc:
        figures.error(type(exc).__name__)
        return
    if not ok:
        figures.error(f"web {response.status}")
        return
    took = (time.perf_counter() - started) * 1000
    figures.web_ms.append(took)
    (figures.reset_ms if text in figures.resets else figures.question_ms).append(took)
    figures.turns += 1


def person_email(person: int, council: str, tag: str) -> str:
    return f"load.{tag}.{person}@{DOMAINS[council]}"


async def web_person(
    session: Any,
    urls: list[str],
    person: int,
    pool: list[tuple[str, str]],
    figures: Figures,
    until: float,
    tag: str,
) -> None:
    council, asks = person_questions(person, pool)
    email = person_email(person, council, tag)
    n = person
    while time.perf_counter() < until:
        url = urls[n % len(urls)]
        n += 1
        await web_turn(session, url, email, next(asks), figures, time.perf_counter())


async def open_loop(
    replicas: list[Replica],
    rate: float,
    seconds: float,
    pool: list[tuple[str, str]],
    tag: str,
    resets: frozenset[str],
    people: int = OPEN_LOOP_PEOPLE,
) -> dict[str, Any]:
    """Web chat turns arriving at ``rate`` per second (Poisson, open loop: a turn is sent
    when it is due whatever the others are doing) from ``people`` people, a person never
    with two turns at once; each turn timed from when it was due, so a late sender counts
    against the bot, not for it. Returns the figures and the turns in flight (mean, peak)."""
    urls = [r.url for r in replicas]
    rng = random.Random(f"{tag}-{rate}")
    talk = {p: person_questions(p, pool) for p in range(people)}
    idle: asyncio.Queue[int] = asyncio.Queue()
    for p in range(people):
        idle.put_nowait(p)
    figures = Figures(resets=resets)
    inflight = peak = 0
    area = 0.0  # turns in flight x seconds, for the mean
    last = time.perf_counter()

    def count(step: int) -> None:
        nonlocal inflight, peak, area, last
        now = time.perf_counter()
        area += inflight * (now - last)
        last = now
        inflight += step
        peak = max(peak, inflight)

    async def turn(person: int, due: float, n: int) -> None:
        council, asks = talk[person]
        count(+1)
        try:
            email = person_email(person, council, tag)
            await web_turn(session, urls[n % len(urls)], email, next(asks), figures, due)
        finally:
            count(-1)
            idle.put_nowait(person)

    async with client(people) as session:
        # warm-up: each person's first turn creates their staff record and conversation
        warm = Figures()
        for first in range(0, people, 16):
            await asyncio.gather(
                *(
                    web_turn(session, urls[p % len(urls)], person_email(p, talk[p][0], tag),
                             next(talk[p][1]), warm, time.perf_counter())
                    for p in range(first, min(people, first + 16))
                )
            )  # fmt: skip
        cpu = sum(r.cpu_seconds() for r in replicas)
        tasks: set[asyncio.Task[None]] = set()
        started = last = time.perf_counter()
        due, n = started, 0
        while True:
            due += rng.expovariate(rate)
            if due > started + seconds:
                break
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            try:
                person = idle.get_nowait()
            except asyncio.QueueEmpty:
                figures.error("every person already waiting")
                continue
            n += 1
            task = asyncio.create_task(turn(person, due, n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        count(0)
    return {
        "rate": rate,
        "web": figures,
        "web_rate": figures.turns / elapsed,
        "web_cpu_ms": (sum(r.cpu_seconds() for r in replicas) - cpu) / max(figures.turns, 1) * 1e3,
        "in_flight": (area / elapsed, peak),
        "web_load": os.getloadavg()[0],
    }


def print_open_loop(row: dict[str, Any], db: str) -> None:
    web: Figures = row["web"]
    mean, peak = row["in_flight"]
    p99 = pct(web.question_ms, 0.99)
    print(
        f"[{db}] open loop {row['rate']:5.0f}/s: {row['web_rate']:6.1f} turns/s  reply p50 "
        f"{pct(web.web_ms, 0.5):6.1f} ms  p99 {pct(web.web_ms, 0.99):6.1f} ms;  without reset "
        f"first replies p50 {pct(web.question_ms, 0.5):6.1f} ms  p99 {p99:6.1f} ms "
        f"({'≤' if p99 <= WEB_P99_TARGET_MS else '>'} {WEB_P99_TARGET_MS:.0f} ms)  in flight "
        f"mean {mean:.1f} peak {peak}  server CPU/turn {row['web_cpu_ms']:.1f} ms  "
        f"n={web.turns}  load {row['web_load']:.2f}"
        + (f"  errors {web.errors}" if web.errors else ""),
        flush=True,
    )


async def slack_person(
    session: Any,
    urls: list[str],
    fake: ReplyWatch,
    person: int,
    pool: list[tuple[str, str]],
    figures: Figures,
    until: float,
    tag: str,
) -> None:
    council, asks = person_questions(person, pool)
    user = f"U{tag.upper()}{person:05d}"
    fake.add_user(user, f"slack.{tag}.{person}@{DOMAINS[council]}", f"Load Person{person}")
    channel = "D" + user[1:]
    n = person
    while time.perf_counter() < until:
        text = json.dumps(message_im(user, next(asks)))
        headers = {"Content-Type": "application/json", **sign(text, secret=SIGNING_SECRET)}
        url = urls[n % len(urls)] + "/slack/events"
        n += 1
        replied = fake.expect(channel)
        started = time.perf_counter()
        try:
            async with session.post(url, data=text.encode(), headers=headers) as response:
                await response.read()
                status = response.status
        except Exception as exc:
            figures.error(type(exc).__name__)
            continue
        figures.ack_ms.append((time.perf_counter() - started) * 1000)
        if status != 200:
            figures.error(f"slack {status}")
            continue
        try:
            at = await asyncio.wait_for(replied, timeout=30)
        except TimeoutError:
            figures.error("slack no reply in 30 s")
            continue
        figures.reply_ms.append((at - started) * 1000)
        figures.turns += 1
        await asyncio.sleep(0.05)  # a reply may come in parts: let the rest land first


@contextlib.asynccontextmanager
async def client(limit: int) -> AsyncIterator[Any]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=limit + 4)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        yield session


async def level(
    replicas: list[Replica],
    fake: ReplyWatch | None,
    concurrency: int,
    seconds: float,
    pool: list[tuple[str, str]],
    tag: str,
    profile: str | None = None,
    resets: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """One load level: web chat for ``seconds``, then Slack for ``seconds``; with
    ``profile``, py-spy samples the first replica during the web chat part."""
    urls = [r.url for r in replicas]
    out: dict[str, Any] = {"concurrency": concurrency}
    async with client(concurrency) as session:
        # warm-up: each person's first turn creates their staff record and conversation
        warm = Figures()
        await asyncio.gather(
            *(
                web_person(session, urls, p, pool, warm, time.perf_counter() + 0.01, tag)
                for p in range(concurrency)
            )
        )
        web = Figures(resets=resets)
        spy = _profile(replicas[0], seconds, profile) if profile else None
        cpu = sum(r.cpu_seconds() for r in replicas)
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(
            *(web_person(session, urls, p, pool, web, until, tag) for p in range(concurrency))
        )
        elapsed = time.perf_counter() - started
        out["web"] = web
        out["web_rate"] = web.turns / elapsed
        out["web_cpu_ms"] = (sum(r.cpu_seconds() for r in replicas) - cpu) / max(web.turns, 1) * 1e3
        out["web_load"] = os.getloadavg()[0]
        if spy is not None:
            await asyncio.get_running_loop().run_in_executor(None, spy.wait)
        if fake is not None:
            slack = Figures()
            started = time.perf_counter()
            until = started + seconds
            await asyncio.gather(
                *(
                    slack_person(session, urls, fake, p, pool, slack, until, tag)
                    for p in range(concurrency)
                )
            )
            out["slack"] = slack
            out["slack_rate"] = slack.turns / (time.perf_counter() - started)
            out["slack_load"] = os.getloadavg()[0]
    return out


def _profile(replica: Replica, seconds: float, path: str) -> subprocess.Popen[bytes]:
    """py-spy (``pip install py-spy``) sampling ``replica``: collapsed stacks, per thread."""
    spy = Path(sys.executable).with_name("py-spy")
    command = [
        *(str(spy), "record", "--pid", str(replica.process.pid), "--rate", "200"),
        *("--duration", str(int(seconds)), "--threads", "--format", "raw", "-o", path),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def print_level(row: dict[str, Any], db: str) -> None:
    web: Figures = row["web"]
    c = row["concurrency"]

    def verdict(p99: float) -> str:
        if c != 16:
            return ""
        return f"  (target ≤ {WEB_P99_TARGET_MS:.0f} ms: {'ok' if p99 <= 50 else 'MISSED'})"

    p99 = pct(web.web_ms, 0.99)
    print(
        f"[{db}] c={c:<3} web chat   {row['web_rate']:7.1f} turns/s  reply p50 "
        f"{pct(web.web_ms, 0.5):7.1f} ms  p99 {p99:7.1f} ms{verdict(p99)}  "
        f"server CPU/turn {row['web_cpu_ms']:.1f} ms  n={web.turns}  load {row['web_load']:.2f}"
        + (f"  errors {web.errors}" if web.errors else ""),
        flush=True,
    )
    p99 = pct(web.question_ms, 0.99)
    print(
        f"[{db}] c={c:<3}   without reset first replies: p50 {pct(web.question_ms, 0.5):7.1f} ms"
        f"  p99 {p99:7.1f} ms{verdict(p99)}  n={len(web.question_ms)};  reset first replies"
        f" (≥ 500 ms by design) p50 {pct(web.reset_ms, 0.5):7.1f} ms  n={len(web.reset_ms)}",
        flush=True,
    )
    if "slack" in row:
        slack: Figures = row["slack"]
        print(
            f"[{db}] c={c:<3} slack      {row['slack_rate']:7.1f} events/s ack p50 "
            f"{pct(slack.ack_ms, 0.5):6.1f} ms  p99 {pct(slack.ack_ms, 0.99):6.1f} ms  "
            f"event→reply p50 {pct(slack.reply_ms, 0.5):7.1f} ms  "
            f"p99 {pct(slack.reply_ms, 0.99):7.1f} ms  n={slack.turns}  "
            f"load {row['slack_load']:.2f}" + (f"  errors {slack.errors}" if slack.errors else ""),
            flush=True,
        )


# -- memory -------------------------------------------------------------------------------


async def memory(
    replica: Replica, turns: int, concurrency: int, every: int, pool: list[tuple[str, str]]
) -> list[tuple[int, float]]:
    """``turns`` web chat turns against ``replica``; its RSS every ``every`` turns."""
    samples = [(0, replica.rss_mb())]
    figures = Figures()
    done = 0
    lock = asyncio.Lock()
    next_sample = every
    started = time.perf_counter()

    async def person(p: int, session: Any) -> None:
        nonlocal done, next_sample
        council, asks = person_questions(p, pool)
        email = f"mem.{p}@{DOMAINS[council]}"
        while done < turns:
            t0 = time.perf_counter()
            async with session.post(
                replica.url + "/api/chat", json={"text": next(asks)}, headers={SSO_HEADER: email}
            ) as response:
                await response.read()
                if response.status != 200:
                    figures.error(f"web {response.status}")
                    continue
            figures.web_ms.append((time.perf_counter() - t0) * 1000)
            async with lock:
                done += 1
                if done >= next_sample:
                    next_sample += every
                    samples.append((done, replica.rss_mb()))
                    if len(samples) % 10 == 0:
                        rate = done / (time.perf_counter() - started)
                        print(
                            f"  memory: {done} turns, RSS {samples[-1][1]:.0f} MB, "
                            f"{rate:.0f} turns/s, load {os.getloadavg()[0]:.2f}",
                            flush=True,
                        )
                    if len(figures.web_ms) > 20000:
                        del figures.web_ms[:10000]

    async with client(concurrency) as session:
        await asyncio.gather(*(person(p, session) for p in range(concurrency)))
    if figures.errors:
        print(f"  memory run errors: {figures.errors}")
    elapsed = time.perf_counter() - started
    print(
        f"  memory run: {done} turns in {elapsed:.0f} s ({done / elapsed:.0f} turns/s), "
        f"last 10,000 replies p50 {pct(figures.web_ms[-10000:], 0.5):.1f} ms "
        f"p99 {pct(figures.web_ms[-10000:], 0.99):.1f} ms"
    )
    return samples


def print_memory(samples: list[tuple[int, float]], turns: int, keep: str | None) -> None:
    """The memory figures against the target; with ``keep``, the samples to that file."""
    if keep:
        Path(keep).write_text("\n".join(f"{n}\t{mb:.1f}" for n, mb in samples) + "\n")
    half = min(samples, key=lambda s: abs(s[0] - turns / 2))
    end = samples[-1]
    peak = max(mb for _, mb in samples)
    growth = end[1] - half[1]
    print(f"RSS at start {samples[0][1]:.0f} MB; at {half[0]:,} turns {half[1]:.0f} MB; "
          f"at {end[0]:,} turns {end[1]:.0f} MB; peak {peak:.0f} MB")  # fmt: skip
    print(
        f"RSS after {end[0]:,} turns: {end[1]:.0f} MB (target ≤ {MEMORY_TARGET_MB:.0f} MB): "
        f"{'ok' if end[1] <= MEMORY_TARGET_MB else 'MISSED'}"
    )
    print(
        f"growth over the last half: {growth:+.0f} MB ({growth / half[1]:+.1%}) "
        f"(target: none): {'ok' if growth <= 0.02 * half[1] else 'GROWING'}"
    )


# -- PostgreSQL scratch database ----------------------------------------------------------


@contextlib.asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    import asyncpg

    name = f"bench_load_{os.getpid()}_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(ADMIN_URL, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin = await asyncpg.connect(ADMIN_URL, timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


# -- the run ------------------------------------------------------------------------------


def machine() -> str:
    one, five, fifteen = os.getloadavg()
    return f"cores={os.cpu_count()} loadavg={one:.2f}/{five:.2f}/{fifteen:.2f}"


async def run_levels(
    args: argparse.Namespace, database_url: str, count: int, db: str, workdir: Path
) -> None:
    pool = questions()
    resets = reset_questions(pool)
    print(f"[{db}] {len(resets)} of {len(pool)} questions start a reset", flush=True)
    fake = ReplyWatch()
    await fake.start()
    replicas: list[Replica] = []
    try:
        for i in range(count):  # one after the other: the first applies the migrations
            replicas.append(
                await start_replica(
                    database_url, workdir, fake.api_url, f"{db}-{i}", args.cache_dir
                )
            )
        print(f"[{db}] {count} replica(s) up; {machine()}", flush=True)
        for c in args.levels:
            profile = f"{args.profile}.{db}.c{c}.txt" if args.profile else None
            row = await level(replicas, fake, c, args.seconds, pool, f"{db}{c}", profile, resets)
            print_level(row, db)
        for rate in args.rates:
            tag = f"{db}r{rate:g}".replace(".", "_")
            print_open_loop(await open_loop(replicas, rate, args.seconds, pool, tag, resets), db)
        for r in replicas:
            print(f"[{db}] replica pid {r.process.pid} RSS {r.rss_mb():.0f} MB")
    finally:
        for r in replicas:
            stop_replica(r)
        await fake.close()


async def run_memory(args: argparse.Namespace, database_url: str, workdir: Path) -> None:
    pool = questions()
    fake = ReplyWatch()
    await fake.start()
    replica = await start_replica(database_url, workdir, fake.api_url, "memory", args.cache_dir)
    try:
        print(f"[memory] 1 replica up, RSS {replica.rss_mb():.0f} MB; {machine()}", flush=True)
        samples = await memory(
            replica, args.memory_turns, args.memory_concurrency, args.sample_every, pool
        )
        print_memory(samples, args.memory_turns, args.samples)
        print(f"[memory] {machine()}")
    finally:
        stop_replica(replica)
        await fake.close()


async def main_async(args: argparse.Namespace) -> None:
    print(f"{machine()} python={sys.version.split()[0]}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        workdir = Path(tmp)
        if not args.skip_load:
            async with scratch_database() as url:
                await run_levels(args, url, args.replicas, "postgresql", workdir)
            if args.sqlite:
                await run_levels(
                    args, f"sqlite+aiosqlite:///{workdir}/bench.db", 1, "sqlite", workdir
                )
        if args.memory_turns:
            async with scratch_database() as url:
                await run_memory(args, url, workdir)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--levels", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 16, 32]
    )
    parser.add_argument(
        "--rates",
        type=lambda s: [float(x) for x in s.split(",") if x],
        default=[],
        help="also web chat turns arriving at these rates per second (open loop), e.g. 20,40,60",
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="per level and channel")
    parser.add_argument("--replicas", type=int, default=2, help="on PostgreSQL")
    parser.add_argument("--sqlite", action="store_true", help="also one replica on SQLite")
    parser.add_argument("--skip-load", action="store_true", help="only the memory run")
    parser.add_argument("--memory-turns", type=int, default=100_000, help="0: no memory run")
    parser.add_argument("--memory-concurrency", type=int, default=8)
    parser.add_argument("--sample-every", type=int, default=1000)
    parser.add_argument(
        "--profile", help="py-spy the first replica's web chat part of each level: PREFIX.*.txt"
    )
    parser.add_argument("--samples", help="write the RSS samples (turns, MB) to this file")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=ROOT / ".itbot-cache",
        help="embedding cache (the quick start's; the first start encodes the articles)",
    )
    args = parser.parse_args()
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
