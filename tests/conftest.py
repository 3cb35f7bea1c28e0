"""Shared fixtures: settings, databases (SQLite and the local PostgreSQL), a running app.

Tests that need a server skip with the reason printed when it isn't there, except
in CI (``CI=true``), where ``.ci/run`` starts what they need and a missing server
is a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import secrets
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.settings import Settings
from bot.storage import Database

POSTGRES_URL = os.environ.get(
    "ITBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
CHROMIUM = os.environ.get("ITBOT_TEST_CHROMIUM", "/usr/bin/chromium")

SAM = "sam.taylor@dacorum.gov.uk"
ALEX = "alex.jones@aylesburyvaledc.gov.uk"


def need(condition: bool, reason: str) -> None:
    """Skip (locally) or fail (in CI) when a server or tool a test needs is missing."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _scratch_postgres(template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database (a copy of ``template`` if given), dropped afterwards."""
    name = f"itbot_test_{os.getpid()}_{secrets.token_hex(4)}"
    copy = f' TEMPLATE "{template}"' if template else ""
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"{copy}'))
    except (OSError, TimeoutError) as exc:
        need(False, f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}")
    base = POSTGRES_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    yield f"{base}/{name}"
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _migrate(url: str) -> None:
    database = Database(url)
    try:
        await database.upgrade()
    finally:
        await database.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    yield from _scratch_postgres()


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A PostgreSQL database migrated once per test process, copied for each test.

    ``CREATE DATABASE ... TEMPLATE`` takes about 0.4 s where creating one and running
    every migration takes about 1 s; over the suite's PostgreSQL half that is minutes.
    """
    for url in _scratch_postgres():
        asyncio.run(_migrate(url))
        yield url.rsplit("/", 1)[1]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database file migrated once per test process, copied for each test."""
    path = tmp_path_factory.mktemp("migrated") / "itbot.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test on SQLite and on the local PostgreSQL server, each a new database
    already migrated to the newest revision (what ``itbot serve`` would make of it)."""
    if request.param == "sqlite":
        path = tmp_path / "itbot.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    yield from _scratch_postgres(request.getfixturevalue("postgres_template"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty database on SQLite and on PostgreSQL, for tests of the migrations."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'itbot.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def itbot_command() -> list[str]:
    """How to start ``itbot`` in a process: the installed script, else ``python -m bot``."""
    found = shutil.which("itbot")
    return [found] if found else [sys.executable, "-m", "bot"]


def itbot(capsys: pytest.CaptureFixture[str], *argv: str, stdin: str = "") -> tuple[int, str]:
    """Run the ``itbot`` command line in-process: (exit code, what it printed)."""
    from bot.cli import main

    sys.stdin = io.StringIO(stdin)
    try:
        code = main(list(argv))
    finally:
        sys.stdin = sys.__stdin__
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A migrated database (SQLite and PostgreSQL), for tests of the domain API."""
    database = Database(database_url)
    await database.upgrade()
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def embedding_cache(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """One article-embedding cache for the whole run, and for the next runs: it lives in
    pytest's cache folder (``.pytest_cache``), as ``test_intents_embeddings``' vectors do.

    The cache is keyed by the model and each text's content hash, so sharing it is what a
    restart does in production; without it every test re-encodes the bundled articles
    (about 750 texts), and with a new folder per run each test process does so once (20 s
    and more of CPU). A first start's encoding is still tested: ``test_serve`` starts with
    an empty folder of its own. ``pytest --cache-clear`` empties it; without the cache
    plugin (``-p no:cacheprovider``), a new folder for this run.
    """
    cache = getattr(request.config, "cache", None)
    if cache is None:
        return tmp_path_factory.mktemp("itbot-cache")
    folder: Path = cache.mkdir("itbot-embeddings")
    return folder


@pytest.fixture
def notify_file(tmp_path: Path) -> Path:
    """Where the file notifier writes codes and notices (``ITBOT_NOTIFY=file:PATH``)."""
    return tmp_path / "notify.jsonl"


@pytest.fixture
def settings(database_url: str, embedding_cache: Path, notify_file: Path) -> Settings:
    return Settings.from_environ(
        {
            "ITBOT_DATABASE_URL": database_url,
            "ITBOT_CACHE_DIR": str(embedding_cache),
            "ITBOT_SECRET_KEY": "test-secret-key-0123456789",
            "ITBOT_SEMANTIC": os.environ.get("ITBOT_TEST_SEMANTIC", "auto"),
            "ITBOT_NOTIFY": f"file:{notify_file}",
            # a reset's first reply is held to 0.5 s by default (a refusal takes as long as a
            # sent code); the suite's hundreds of resets needn't wait that long each
            "ITBOT_RESET_REPLY_SECONDS": "0.05",
        }
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """The real application, served over HTTP on a random local port."""
    async with shared_app(settings) as app, TestClient(TestServer(app)) as test_client:
        yield test_client


@contextlib.asynccontextmanager
async def shared_app(settings: Settings, **options: Any) -> AsyncIterator[web.Application]:
    """``create_app(settings, **options)`` on :func:`shared_services` (the bundled knowledge
    base, which never changes, not watched); an app that loads and watches its own when the
    settings name a knowledge base folder."""
    from bot.app import create_app

    async with shared_services(settings) as services:
        if services is None:
            yield create_app(settings, **options)
        else:
            yield create_app(settings, services=services, **{"watch_knowledge": False, **options})


#: the bundled knowledge base and the intent detector, loaded once per test process
_MODELS: dict[tuple[Any, ...], Any] = {}


@contextlib.asynccontextmanager
async def shared_services(settings: Settings) -> AsyncIterator[Any]:
    """``open_services`` for ``settings`` with the bundled knowledge base and the intent
    detector loaded once per test process (about 0.6 s an app otherwise), handed in as
    ``open_services`` allows; ``None`` when the test has its own knowledge base (it may
    edit it: that app loads and watches its own)."""
    from bot.app import open_services
    from bot.services import KnowledgeService
    from intents import IntentDetector

    if settings.kb_path is not None:
        yield None
        return
    councils = tuple(c.key for c in settings.councils)
    # without sentence embeddings the cache folder is never read: tests that each name their
    # own (``tmp_path / "cache"``) share one loaded copy too
    cache_dir = None if settings.semantic == "off" else settings.cache_dir
    kb_key = ("kb", councils, settings.semantic, cache_dir)
    if kb_key not in _MODELS:
        _MODELS[kb_key] = (await KnowledgeService.load(settings)).kb
    detector_key = ("detector", settings.ticket_prefix)
    if detector_key not in _MODELS:
        _MODELS[detector_key] = IntentDetector.load(None, ticket_prefix=settings.ticket_prefix)
    knowledge = KnowledgeService(_MODELS[kb_key])
    async with open_services(settings, knowledge=knowledge, detector=_MODELS[detector_key]) as s:
        yield s


def sent_messages(path: Path) -> list[dict[str, Any]]:
    """Every message the file notifier wrote to ``path``, oldest first."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def last_sign_in_code(path: Path, email: str) -> str:
    """The code in the last sign-in email the file notifier sent to ``email``."""
    found = [m for m in sent_messages(path) if m["to"] == email and m["purpose"] == "sign_in_code"]
    assert found, f"no sign-in code was sent to {email}"
    code = re.search(r"\b(\d{6})\b", found[-1]["text"])
    assert code is not None, "the sign-in email holds no 6-digit code"
    return code.group(1)


def notify_path(client: TestClient[web.Request, web.Application]) -> Path:
    """The file the running app's notifier writes to (its settings' ``file:PATH``)."""
    from bot.web import keys

    notify = client.app[keys.SETTINGS].notify
    assert notify.startswith("file:"), f"sign_in reads codes from file:PATH, not {notify}"
    return Path(notify.removeprefix("file:"))


async def start_session(
    client: TestClient[web.Request, web.Application], email: str = SAM
) -> dict[str, Any]:
    """Type ``email`` into the chat: an unproven session, and a code emailed to it."""
    response = await client.post("/api/session", json={"email": email})
    assert response.status == 200, await response.text()
    data: dict[str, Any] = await response.json()
    assert data["proven"] is False and data["code_sent"] is True, data
    return data


async def sign_in(client: TestClient[web.Request, web.Application], email: str = SAM) -> None:
    """Sign in to the web chat as a person does: type the address, then the emailed code."""
    await start_session(client, email)
    code = last_sign_in_code(notify_path(client), email)
    response = await client.post("/api/session/verify", json={"code": code})
    assert response.status == 200, await response.text()
    assert (await response.json())["proven"] is True


async def say(
    client: TestClient[web.Request, web.Application],
    text: str = "",
    press: tuple[str, str] | None = None,
) -> list[dict[str, object]]:
    """What the person types (or presses) → the bot's replies as JSON."""
    body: dict[str, object] = {"text": text}
    if press is not None:
        body["press"] = {"action": press[0], "value": press[1]}
    response = await client.post("/api/chat", json=body)
    assert response.status == 200, await response.text()
    data = await response.json()
    replies: list[dict[str, object]] = data["replies"]
    return replies


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    """A copy of the bundled knowledge base that a test may edit."""
    from knowledge import bundled_root

    target = tmp_path / "kb"
    shutil.copytree(bundled_root(), target)
    return target


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server_env() -> dict[str, str]:
    """More settings for :func:`live_server`: a test parametrizes ``server_env`` to set them."""
    return {}


@pytest.fixture
def live_server(tmp_path: Path, embedding_cache: Path, server_env: dict[str, str]) -> Iterator[str]:
    """``itbot serve`` in a real process, on a free port, in an empty folder (the run's
    embedding cache, so it doesn't encode the articles again; ``test_serve`` does), with
    the test's ``server_env`` settings."""
    import subprocess
    import sys
    import time
    import urllib.request

    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    env = {
        **os.environ,
        "ITBOT_SEMANTIC": os.environ.get("ITBOT_TEST_SEMANTIC", "auto"),
        "ITBOT_CACHE_DIR": str(embedding_cache),
        # codes and notices as JSON lines a test can read (see ``notify_file``)
        "ITBOT_NOTIFY": f"file:{tmp_path / 'notify.jsonl'}",
        **server_env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port)],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError((tmp_path / "serve.log").read_text())
        time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=20)
    log.close()


#: where browser tests save their screenshots (kept out of git; CI may upload the folder)
SCREENSHOTS = Path(__file__).resolve().parent / "artefacts" / "screenshots"


def screenshot(page: Any, name: str) -> Path:
    """Save the whole page as ``tests/artefacts/screenshots/<name>.png``; its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A page in Debian's Chromium, driven by Playwright (never a downloaded browser)."""
    need(
        Path(CHROMIUM).exists(),
        f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)",
    )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page()
        yield page
        browser.close()


async def deliver_outbox(services: Any) -> None:
    """Deliver every due outbox row, including any the app's own worker has claimed and
    is still delivering (``run_once`` skips a row another worker holds)."""
    from sqlalchemy import func, select

    from bot.app import build_outbox
    from bot.desk.tickets import OutboxMessage

    worker = build_outbox(services)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30.0
    while True:
        await worker.run_once()
        async with services.db.session() as session:
            due = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.sent_at.is_(None), OutboxMessage.available_at <= worker.clock()
                )
            )
        if not due:
            return
        assert loop.time() < deadline, f"{due} outbox rows still undelivered after 30 s"
        await asyncio.sleep(0.05)


#: the test files that take longest (summed seconds on the 2-core sandbox), run first: with
#: a few workers and a file's tests kept together (``--dist loadfile``), a long file
#: started last would keep one worker busy while the others have nothing left to do
SLOWEST_FIRST = (
    "tests/bot/test_privacy.py",
    "tests/access/test_resets.py",
    "tests/bot/test_conversations.py",
    "tests/email/test_email_channel.py",
    "tests/slack/test_slack_triage.py",
    "tests/slack/test_slack_resets.py",
    "tests/teams/test_teams_triage.py",
    "tests/desk/test_notice_cli.py",
    "tests/bot/test_web_oidc.py",
    "tests/bot/test_report_chat.py",
    "tests/bot/test_web_chat.py",
    "tests/deploy/test_dockerfile.py",
    "tests/bot/test_serve.py",
    "tests/bot/test_web_signin.py",
    "tests/slack/test_slack_approvals.py",
    "tests/deploy/test_replicas.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slowest files first (same order in every worker: the sort is stable)."""
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    root = Path(__file__).resolve().parent.parent

    def key(item: pytest.Item) -> int:
        try:
            name = item.path.resolve().relative_to(root).as_posix()
        except ValueError:
            return len(rank)
        return rank.get(name, len(rank))

    items.sort(key=key)
