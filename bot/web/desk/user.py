"""The signed-in agent as handlers see them, and the request keys the dashboard sets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from aiohttp import web


@dataclass(frozen=True, slots=True)
class DeskUser:
    staff_id: int
    email: str
    name: str
    #: the token every form posts back
    csrf: str
    via: Literal["password", "sso"]
    #: the session cookie's token (password sign-in only), for signing out
    token: str = ""


USER = web.RequestKey("desk_user", DeskUser)
#: when the dashboard's middleware started on this request (``time.perf_counter()``)
STARTED = web.RequestKey("desk_started", float)


def now() -> datetime:
    return datetime.now(UTC)


def user(request: web.Request) -> DeskUser:
    """The agent the dashboard's middleware signed in for ``request``."""
    return request[USER]
