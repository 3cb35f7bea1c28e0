"""Knowledge-base articles as web pages at ``/kb/<id>``, rendered for the viewer's council."""

from __future__ import annotations

from aiohttp import web

from bot.channels.web import visitor
from bot.facts import DeskFacts
from bot.render import article_link_resolver
from bot.web import keys


async def article(request: web.Request) -> web.Response:
    settings = request.app[keys.SETTINGS]
    kb = request.app[keys.SERVICES].knowledge.kb
    templates = request.app[keys.TEMPLATES]
    article_id = request.match_info["article_id"].strip("/")
    found = kb.get(article_id)
    who = await visitor(request)  # a typed address is enough to pick the council's wording
    council = settings.council_for_email(who.email) if who else None
    if found is None or (council is not None and not found.applies_to(council.key)):
        html = templates.get_template("web/error.html").render(
            desk_name=settings.desk_name,
            heading="Guide not found",
            message="There is no guide at this address. It may have been moved or retired.",
        )
        return web.Response(text=html, content_type="text/html", status=404)

    key = council.key if council else None
    facts = DeskFacts.of(settings, request.app[keys.SERVICES].desk.policy.calendar)
    html = templates.get_template("web/article.html").render(
        desk_name=settings.desk_name,
        article=found,
        title=facts.render(found.title, key),
        summary=facts.render(found.summary, key),
        body=facts.body(found, key),
        council_name=council.name if council else "",
        resolve_link=article_link_resolver(kb, found.id),
    )
    return web.Response(text=html, content_type="text/html")


def register(app: web.Application) -> None:
    app.router.add_get("/kb/{article_id:.+}", article)
