"""A desk wired as the server wires it, with Slack's triage and an external desk listening.

Built through the same :func:`bot.app.build_desk` as the server, from settings, so the
tests see the outbox rows a configured deployment writes.
"""

from __future__ import annotations

from typing import Any

from bot.app import build_desk
from bot.desk.service import Desk
from bot.settings import Settings


def listening_desk(*, slack: bool = True, external: str | None = None, **changes: Any) -> Desk:
    environ: dict[str, str] = {}
    if slack:
        environ |= {
            "SLACK_BOT_TOKEN": "xoxb-0000-test",
            "SLACK_SIGNING_SECRET": "0123456789abcdef0123456789abcdef",
            "ITBOT_SLACK_TRIAGE_CHANNEL": "C0TRIAGE1",
        }
    if external:
        environ |= {"ITBOT_SERVICEDESK": external}
    desk = build_desk(Settings.from_environ(environ))
    for name, value in changes.items():
        setattr(desk, name, value)
    return desk
