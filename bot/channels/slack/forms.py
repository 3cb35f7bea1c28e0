"""The ticket form: a modal for raising a ticket, opened before the ack (``views.open``).

"Raise an IT ticket" on a message and the Home tab's "Raise a ticket" open it with the
request's ``trigger_id``, which Slack honours for three seconds only, so the listener opens
it itself and gives up after :data:`OPEN_WITHIN` seconds. When it can't be opened (the
trigger expired, Slack is down) the listener records the job that starts ``raise_ticket``
in the person's DM instead, as before the form existed: nothing is lost.

The form follows the modal convention of ``listeners.views``: ``callback_id``
:data:`CALLBACK_ID`, ``private_metadata`` ``{"action": "raise_ticket:form", "thread":
"dm"}``, so the submission becomes a ``SubmitForm`` carrying the fields, and the flow answers in
the DM. An empty summary is refused in the ack (``response_action: errors``), so the form
stays open and shows why.

>>> forms = TicketForms(client, renderer, settings)                  # doctest: +SKIP
>>> await forms.open(trigger_id, text="The VPN drops every ten minutes")  # doctest: +SKIP
True
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot import wording
from bot.channels.slack import jobs
from bot.channels.slack.jobs import Job
from bot.conversation.actions import ChooseIntent, SubmitForm
from bot.desk.sla import PRIORITY_MEANING
from bot.flows import ticket_form
from bot.redaction import redact

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.channels.slack.render import SlackRenderer
    from bot.settings import Settings

log = logging.getLogger(__name__)

CALLBACK_ID = f"{jobs.ACTION_PREFIX}ticket_form"
#: seconds to wait for ``views.open`` before falling back (the trigger lasts three)
OPEN_WITHIN = 2.0


def prefill(text: str) -> tuple[str, str]:
    """A message's text as the form's summary and, when it is longer, as its details too.

    >>> prefill("The VPN drops")
    ('The VPN drops', '')
    >>> summary, details = prefill("word " * 100)
    >>> len(summary) <= ticket_form.MAX_SUMMARY, details.startswith("word word")
    (True, True)
    """
    text = text.strip()
    if len(text) <= ticket_form.MAX_SUMMARY:
        return text, ""
    cut = text[: ticket_form.MAX_SUMMARY - 1].rsplit(" ", 1)[0].rstrip(" ,.;:")
    return cut + "…", text[: ticket_form.MAX_DETAILS]


def errors(job: Job | None) -> dict[str, str]:
    """Field errors of a submitted ticket form, by ``block_id``; empty when it can be sent."""
    form = job.press.typed() if job is not None and job.press is not None else None
    if not isinstance(form, SubmitForm) or form.state != ticket_form.FORM_ACTION:
        return {}
    # the template names each input block after its field
    return ticket_form.form_errors(ticket_form.form_fields(form.values()))


def opened_from_home(body: dict[str, Any], job: Job | None) -> bool:
    """Whether a button press is the Home tab's "Raise a ticket" (it opens the form)."""
    view = body.get("view") or {}
    return (
        job is not None
        and job.press is not None
        and job.press.typed() == ChooseIntent("raise_ticket")
        and view.get("type") == "home"
    )


class TicketForms:
    """Renders the ticket form and opens it with ``views.open``."""

    def __init__(
        self,
        client: AsyncWebClient,
        renderer: SlackRenderer,
        settings: Settings,
        *,
        within: float = OPEN_WITHIN,
    ) -> None:
        self.client = client
        self.renderer = renderer
        self.settings = settings
        self.within = within

    def view(self, text: str = "") -> dict[str, Any]:
        """The modal, prefilled with ``text`` (the message the shortcut was used on), its
        secrets hidden first (``bot.redaction``): a typed password never fills a form."""
        summary, details = prefill(redact(text))
        metadata = {"action": ticket_form.FORM_ACTION, "thread": jobs.DM_THREAD}
        return self.renderer.ticket_form(
            callback_id=CALLBACK_ID,
            metadata=json.dumps(metadata, separators=(",", ":")),
            desk_name=self.settings.desk_name,
            summary=summary,
            details=details,
            max_summary=ticket_form.MAX_SUMMARY,
            max_details=ticket_form.MAX_DETAILS,
            ask_summary="What's the problem?",
            ask_category=wording.TICKET_ASK_CATEGORY,
            ask_impact=wording.TICKET_ASK_IMPACT,
            categories=list(wording.CATEGORY_LABELS.items()),
            impacts=[
                (key, label, f"Priority {priority}: {PRIORITY_MEANING[priority]}")  # type: ignore[index]
                for key, label, priority in wording.IMPACT_OPTIONS
            ],
        )

    async def open(self, trigger_id: str, *, text: str = "") -> bool:
        """Open the form now; ``False`` if Slack refused or didn't answer within ``within``."""
        if not trigger_id:
            return False
        try:
            async with asyncio.timeout(self.within):
                await self.client.views_open(trigger_id=trigger_id, view=self.view(text))
        except SlackApiError as exc:
            error = exc.response.get("error")
            log.warning("views.open refused (%s); raising the ticket in the DM", error)
            return False
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("views.open failed (%s); raising the ticket in the DM", type(exc).__name__)
            return False
        return True
