"""Modal submissions (``view_submission``) of the bot's modals: a ``SubmitForm`` press.

A modal rendered by the bot has a ``callback_id`` starting ``itbot:`` and ``private_metadata``
``{"action": "<flow>:<verb>", "thread": ...}``; its fields reach the flow by plain name (each
input block's ``block_id``, see ``jobs.from_submission``). The ack closes the modal and the
answer goes to the DM; a ticket form with something to fix is answered ``response_action:
errors`` instead, so the modal stays open and shows what to fix (nothing is recorded).
The code form (``codeform``) stays open too: its ack shows "checking", and the worker
replaces it with the answer.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.channels.slack import codeform, forms, jobs
from bot.channels.slack.dedupe import dedupe_key

if TYPE_CHECKING:
    from bot.channels.slack.listeners.recorder import Recorder


def register(app: AsyncApp, recorder: Recorder) -> None:
    async def submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        job = jobs.from_submission(body)
        problems = forms.errors(job) or codeform.errors(job)
        if problems:
            await ack(response_action="errors", errors=problems)
            return
        if job is not None:
            await recorder.record(dedupe_key("view", body), job)
        checking = recorder.code_form_checking(job) if job and codeform.form_of(job) else None
        if checking is not None:
            # the modal stays open: the worker replaces it with the answer (views.update)
            await ack(response_action="update", view=checking)
            return
        await ack()

    async def closed(ack: AsyncAck) -> None:
        await ack()

    pattern = re.compile("^" + re.escape(jobs.ACTION_PREFIX))
    app.view_submission(pattern)(submitted)
    app.view_closed(pattern)(closed)
