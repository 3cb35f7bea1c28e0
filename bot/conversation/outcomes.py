"""Each turn's outcome, counted for the per-council report (:mod:`bot.desk.activity`).

The report reads these rows, never the turns, so the privacy purge of turn texts leaves
its figures as they were. A turn becomes one row: an answer shown, a choice of articles
rejected, a question the bot declined, a ticket raised, or just a turn (which still
counts the conversation). A Yes or No on an answer is put on that answer's row.

The topic of an answer is a ticket category: the first of the article's products that
names one (``email``, ``sign-in``, ...), else the product the message mentioned. A ticket
the same person raises on that topic (or in ``other``, or on any topic when the answer's
is unknown) within 3 working days of the answer counts against its deflection: marked on
the answers here, as the ticket is raised in the conversation (and by the desk when a
ticket is reopened), so the report needs no per-answer look-up.
"""

from __future__ import annotations

import logging

from bot import logs
from bot.conversation.runner import Outcome, Scope
from bot.desk import activity
from bot.flows.ticket_text import PRODUCT_CATEGORY
from bot.services import Services
from intents import Prediction

log = logging.getLogger(__name__)

#: the turn outcomes that show an article as the answer
ANSWERED = frozenset({"answered", "chose_article"})


def _topic(services: Services, article_id: str | None, prediction: Prediction | None) -> str | None:
    article = services.knowledge.kb.get(article_id) if article_id else None
    for product in article.products if article is not None else ():
        if product in PRODUCT_CATEGORY:
            return PRODUCT_CATEGORY[product]
    said = prediction.slots.product if prediction is not None else None
    return PRODUCT_CATEGORY.get(said) if said else None


def failed(services: Services, channel: str, error: Exception) -> None:
    """A turn that failed with ``error``: logged with its traceback, and counted."""
    log.error("turn failed channel=%s", channel, exc_info=error)
    services.metrics.failed_turns.labels(channel).inc()


def measure(
    services: Services, channel: str, result: Outcome, prediction: Prediction | None
) -> None:
    """Count a finished turn for ``/metrics`` (:mod:`bot.metrics`)."""
    decision = result.details.get("decision")
    services.metrics.turn(
        channel=channel,
        flow=result.flow,
        outcome=result.outcome,
        intent=prediction.intent if prediction else None,
        decision=decision if isinstance(decision, str) else None,
    )


async def count_turn(
    services: Services, scope: Scope, result: Outcome, prediction: Prediction | None
) -> None:
    """Write the row for one finished turn (in the turn's transaction)."""
    session, details = scope.session, result.details
    kind, article_id, rating, ref, category = "turn", None, None, None, None
    if result.outcome in ANSWERED and details.get("articles"):
        kind, article_id = "answer", str(details["articles"][0])
    elif result.outcome == "none_of_these":
        kind = "none_of_these"
    elif result.outcome == "declined":
        kind = "unanswered"
    elif result.outcome == "ticket_raised" and details.get("ticket"):
        kind, ref = "ticket", str(details["ticket"])
        logs.update(ticket=ref)  # the rest of the turn's log records name it
        ticket = await services.desk.get(session, ref)
        if ticket is not None:
            category = ticket.category
            # the person's recent answers on this topic did not deflect it
            await activity.undo_deflection(session, ticket, scope.now)
    elif result.outcome == "feedback" and details.get("article"):
        article_id = str(details["article"])
        rating = "yes" if details.get("helpful") else "no"
        await activity.rate_answer(
            session,
            conversation_id=scope.conversation_id,
            article_id=article_id,
            helpful=bool(details.get("helpful")),
        )
    if category is None and kind != "turn":
        category = _topic(services, article_id, prediction)
    calendar = services.desk.policy.calendar
    await activity.record(
        session,
        kind=kind,
        at=scope.now,
        council=scope.asker.council,
        channel=scope.incoming.channel,
        conversation_id=scope.conversation_id,
        staff_id=scope.asker.staff_id,
        intent=prediction.intent if prediction is not None else None,
        article_id=article_id,
        category=category,
        rating=rating,
        ticket_ref=ref,
        deflect_until=(
            activity.deflection_deadline(calendar, scope.now) if kind == "answer" else None
        ),
    )
