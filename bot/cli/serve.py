"""``itbot serve``: the web server (web chat, articles, health checks)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import signal
import sys
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.app import create_app, drain
from bot.cli.progress import StartupProgress
from bot.settings import Settings

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "serve", help="run the web server (web chat at /, articles at /kb/<id>)"
    )
    parser.add_argument("--host", help="address to listen on (default ITBOT_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default ITBOT_PORT or 8080)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.host:
        settings = dataclasses.replace(settings, host=args.host)
    if args.port is not None:
        settings = dataclasses.replace(settings, port=args.port)
    app = create_app(settings, progress=StartupProgress(sys.stderr))
    url = f"http://{settings.host}:{settings.port}/"

    def ready(_: str) -> None:
        # aiohttp calls this once the port listens, after the start-up (migrations,
        # articles loaded and encoded): the address is given only when it answers
        print(f"itbot: web chat on {url} (Ctrl+C to stop)", flush=True)

    # a database that can't be reached raises StorageError: itbot prints its one line
    asyncio.run(serve(app, settings.host, settings.port, ready))
    return 0


async def serve(app: web.Application, host: str, port: int, ready: Callable[[str], None]) -> None:
    """Serve until SIGTERM or SIGINT, then stop gracefully, the port closing last: readiness
    turns 503, turns in flight finish, the outbox gives back its claims (``bot.app.drain``),
    and only then does the listener close and the rest shut down."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()  # the start-up: migrations, articles, workers
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        ready(site.name)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        log.info("stopping: finishing requests in flight, giving back outbox claims")
        await drain(app)
        log.info("stopped the background work; closing the port")
    finally:
        await runner.cleanup()
