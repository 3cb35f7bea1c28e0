"""What the App Home tab shows: what the bot can do, the person's tickets, most-read guides."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot import wording
from bot.channels.slack import wording as slack_wording
from bot.channels.slack.identity import SlackPerson
from bot.desk import queries as tickets_repo
from bot.desk.hours import calendar_for
from bot.flows.smalltalk import help_buttons
from bot.settings import Settings
from bot.storage import conversations
from bot.storage import staff as staff_repo
from bot.storage.models import utcnow

if TYPE_CHECKING:
    from bot.storage import Database

#: turn outcomes that mean the person was shown an article (see ``bot.flows.answer``)
READ_OUTCOMES = ("answered", "chose_article")
WINDOW = timedelta(days=30)
SAMPLE = 5000


async def most_read(db: Database, kb: Any, council: str, *, limit: int = 5) -> list[dict[str, str]]:
    """The articles shown most often in the last 30 days that apply to ``council``.

    Topped up with other articles for the council while there is little history.
    """
    async with db.session() as session:
        details = await conversations.recent_turn_details(
            session, READ_OUTCOMES, since=utcnow() - WINDOW, limit=SAMPLE
        )
    counts: Counter[str] = Counter()
    for item in details:
        shown = item.get("articles") or []
        if shown:
            counts[str(shown[0])] += 1
    if kb is None:
        return []
    chosen: list[Any] = []
    for article_id, _ in counts.most_common():
        article = kb.get(article_id)
        if article is not None and article.applies_to(council):
            chosen.append(article)
        if len(chosen) >= limit:
            break
    if len(chosen) < limit:
        ids = {a.id for a in chosen}
        for article in sorted(kb.articles(), key=lambda a: a.title):
            if article.id not in ids and article.applies_to(council):
                chosen.append(article)
                if len(chosen) >= limit:
                    break
    return [{"id": a.id, "title": a.title, "summary": a.summary} for a in chosen]


async def open_tickets(db: Database, email: str, *, limit: int = 10) -> list[dict[str, str]]:
    """The person's open tickets, newest first, as the Home tab lists them."""
    async with db.session() as session:
        staff = await staff_repo.get_by_email(session, email)
        if staff is None:
            return []
        tickets = await tickets_repo.for_requester(session, staff.id, open_only=True, limit=limit)
    return [
        {
            "reference": t.ref or "",
            "title": t.summary,
            "status": f"{t.status.capitalize()} · {t.priority}",
            "url": "",
        }
        for t in tickets
    ]


async def home_context(
    settings: Settings, db: Database, kb: Any, person: SlackPerson
) -> dict[str, Any]:
    """Everything ``templates/slack/home.json.j2`` needs for ``person``."""
    council = person.council
    context: dict[str, Any] = {
        "desk_name": settings.desk_name,
        "contact": wording.contact(settings, council),
        "hours": wording.hours(calendar_for(settings)),
        "refusal": None,
        "first_name": (person.display_name.split(" ")[0] if person.display_name else "there"),
        "council_name": council.name if council else "",
        "menu": help_buttons(),
        "tickets": [],
        "articles": [],
    }
    if not person.ok or council is None:
        context["refusal"] = refusal_text(settings, person)
        context["menu"] = ()
        return context
    context["articles"] = await most_read(db, kb, council.key)
    if person.email:
        context["tickets"] = await open_tickets(db, person.email)
    return context


def refusal_text(settings: Settings, person: SlackPerson) -> str:
    names = " and ".join(c.name for c in settings.councils)
    template = slack_wording.NO_EMAIL if person.problem == "no_email" else slack_wording.OUTSIDE
    return template.format(
        councils=names, desk=settings.desk_name, contact=wording.contact(settings, None)
    )
