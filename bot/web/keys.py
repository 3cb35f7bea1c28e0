"""Typed keys for what the application factory puts on the aiohttp app."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web
from jinja2 import Environment

from bot.conversation.engine import ConversationEngine
from bot.services import Services
from bot.settings import Settings
from bot.web.session import CookieSigner

SETTINGS = web.AppKey("settings", Settings)
SERVICES = web.AppKey("services", Services)
ENGINE = web.AppKey("engine", ConversationEngine)
TEMPLATES = web.AppKey("templates", Environment)
SIGNER = web.AppKey("signer", CookieSigner)
#: set when ``itbot serve`` got SIGTERM: ``/readyz`` says 503 so the balancer sends no more
DRAINING = web.AppKey("draining", asyncio.Event)
#: what stops background work before the port closes (the outbox worker's, releasing its claims)
STOPPING = web.AppKey("stopping", list[Callable[[], Awaitable[None]]])
