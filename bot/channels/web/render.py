"""Replies as the web page shows them: HTML from ``templates/web/replies.html``, and JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from bot.conversation.actions import encode_action
from bot.conversation.messages import Reply
from bot.render import article_link_resolver
from bot.web import keys


def render_replies(request: web.Request, replies: Sequence[Reply]) -> str:
    services = request.app[keys.SERVICES]
    kb = services.knowledge.kb

    template = request.app[keys.TEMPLATES].get_template("web/replies.html")
    parts = []
    for reply in replies:
        article_id = reply.cards[0].article_id if reply.cards else ""
        parts.append(
            template.render(
                replies=[reply],
                resolve_link=article_link_resolver(kb, article_id),
                encode_action=encode_action,
            )
        )
    return "".join(parts)


def render_mine(request: web.Request, text: str) -> str:
    """What the person said, as the page shows it (escaped by the template)."""
    return request.app[keys.TEMPLATES].get_template("web/mine.html").render(text=text)


def reply_json(reply: Reply) -> dict[str, Any]:
    """A reply as JSON; a private one (a temporary password) says so, for the page only."""
    return {
        "text": reply.text,
        "kind": reply.kind,
        "private": reply.private,
        "cards": [
            {"article_id": c.article_id, "title": c.title, "url": f"/kb/{c.article_id}"}
            for c in reply.cards
        ],
        "buttons": [{"label": b.label, "action": encode_action(b.action)} for b in reply.buttons],
    }


def answer(request: web.Request, replies: Sequence[Reply], **extra: Any) -> web.Response:
    """The JSON every chat endpoint answers with; never cached (it may hold a password)."""
    return web.json_response(
        {
            "html": render_replies(request, replies),
            "replies": [reply_json(r) for r in replies],
            **extra,
        },
        headers={"Cache-Control": "no-store"},
    )
