"""Rendering dashboard pages: the templates under ``templates/desk/`` and what they all get.

Templates are autoescaped (``.html``): ticket summaries, comments and transcripts are what
people typed, and are only ever shown as text.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.web import keys
from bot.web.desk.clocks import LABELS, SYMBOLS
from bot.web.desk.present import STATUS_LABELS, when
from bot.web.desk.user import USER


def council_name(request: web.Request, key: str) -> str:
    for council in request.config_dict[keys.SETTINGS].councils:
        if council.key == key:
            return council.name
    return key


def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    settings = request.config_dict[keys.SETTINGS]
    html = (
        request.config_dict[keys.TEMPLATES]
        .get_template(f"desk/{template}")
        .render(
            desk_name=settings.desk_name,
            user=request.get(USER),
            sso=settings.trusted_email_header is not None,
            councils=settings.councils,
            council_name=lambda key: council_name(request, key),
            when=when,
            status_labels=STATUS_LABELS,
            sla_labels=LABELS,
            sla_symbols=SYMBOLS,
            **context,
        )
    )
    return web.Response(text=html, content_type="text/html", status=status)


def problem(request: web.Request, status: int, heading: str, message: str) -> web.Response:
    return render(request, "problem.html", status=status, heading=heading, message=message)
