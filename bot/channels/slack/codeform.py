"""The code form: a modal for a one-time code, so neither the code nor what it unlocks (a
temporary password) ever enters a chat's history.

A reply with :attr:`Reply.form` (``"<flow>:code_form"``) gets an "Enter the code" button
(action id :data:`~bot.channels.slack.jobs.CODE_FORM_ID`, its value the ``<flow>:<verb>``
and the conversation's thread). Pressing it opens this modal before the ack (``views.open``
with the press's ``trigger_id``). Its submission

1. is checked in the ack: anything but 6 to 10 digits is answered ``response_action:
   errors``, so the modal stays open and says why;
2. is recorded as a ``SubmitForm`` job for that state in the same thread, *without* the
   code, which waits in process memory (see ``held``);
3. is acked with ``response_action: update`` to a "checking" view; the worker then runs the
   turn and replaces the view (``views.update``) with the answer: the form again after a
   wrong or expired code, or the result, with a temporary password shown once. The
   conversation's chat gets only what may be kept there (never the password).

>>> forms = CodeForms(client, renderer)                              # doctest: +SKIP
>>> await forms.open(trigger_id, state="reset_password:code_form", thread="dm")
...                                                                  # doctest: +SKIP
True
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.channels.slack import jobs
from bot.channels.slack import wording as slack_wording
from bot.channels.slack.jobs import Job
from bot.conversation.actions import SubmitForm
from bot.conversation.messages import Reply

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.channels.slack.render import SlackRenderer

log = logging.getLogger(__name__)

#: the verb of a code form's state (``<flow>:code_form``) and its one field
VERB, FIELD = "code_form", "code"
#: seconds to wait for ``views.open`` (the trigger lasts three)
OPEN_WITHIN = 2.0
_CODE = re.compile(r"\d{6,10}")


def form_of(job: Job | None) -> SubmitForm | None:
    """The code form ``job`` submits, if it is one."""
    form = job.press.typed() if job is not None and job.press is not None else None
    if isinstance(form, SubmitForm) and form.verb == VERB:
        return form
    return None


def errors(job: Job | None) -> dict[str, str]:
    """Field errors of a submitted code form, by ``block_id``; empty when it can be checked."""
    form = form_of(job)
    if form is None:
        return {}
    typed = re.sub(r"[\s-]", "", form.values().get(FIELD, ""))
    return {} if _CODE.fullmatch(typed) else {FIELD: slack_wording.CODE_DIGITS}


class CodeForms:
    """Renders the code form and its answers; opens it with ``views.open``."""

    def __init__(
        self, client: AsyncWebClient, renderer: SlackRenderer, *, within: float = OPEN_WITHIN
    ) -> None:
        self.client = client
        self.renderer = renderer
        self.within = within

    def view(self, state: str, thread: str, *, message: str = "", checking: bool = False) -> Any:
        """The modal for the ``<flow>:code_form`` state ``state`` of the conversation ``thread``."""
        metadata = json.dumps({"action": state, "thread": thread}, separators=(",", ":"))
        return self.renderer.view(
            "slack/code_form.json.j2",
            callback_id=jobs.CODE_FORM_ID,
            metadata=metadata,
            message=message,
            checking=checking,
        )

    def answer(self, job: Job, replies: Sequence[Reply]) -> dict[str, Any]:
        """What the submitted form becomes: the form again while a code is still asked for
        (a wrong or expired code), else the replies, a private one (a temporary password)
        shown once."""
        form = form_of(job)
        asking = next((r for r in replies if r.form), None)
        if form is not None and asking is not None:
            text = "\n\n".join(r.text for r in replies if not r.private)
            return dict(self.view(asking.form, job.thread, message=text))
        return self.renderer.view(
            "slack/code_result.json.j2",
            callback_id=jobs.CODE_FORM_ID,
            texts=[r.text for r in replies],
            shown_once=any(r.private for r in replies),
            shown_once_note=slack_wording.SHOWN_ONCE,
        )

    async def open(self, trigger_id: str, *, state: str, thread: str) -> bool:
        """Open the form now; ``False`` if Slack refused or didn't answer within ``within``."""
        if not trigger_id:
            return False
        try:
            async with asyncio.timeout(self.within):
                await self.client.views_open(trigger_id=trigger_id, view=self.view(state, thread))
        except SlackApiError as exc:
            log.warning("views.open of the code form refused (%s)", exc.response.get("error"))
            return False
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("views.open of the code form failed (%s)", type(exc).__name__)
            return False
        return True
