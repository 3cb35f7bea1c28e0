"""``itbot serve``: the web server (web chat, articles, health checks)."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from typing import Any

from aiohttp import web

from bot.app import create_app
from bot.errors import StorageError
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
    app = create_app(settings)
    print(f"itbot: web chat on http://{settings.host}:{settings.port}/ (Ctrl+C to stop)")
    try:
        web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)
    except StorageError as exc:
        print(f"itbot: {exc}")
        return 1
    return 0
