"""Secrets held in process memory between the ack and the worker: never in the inbox.

Every Slack request is recorded in the ``slack_inbox`` table before the ack (see
``inbox``), and the row keeps the job until it is processed. A one-time code entered in the
code form, or a message that looks like it holds a code or a password, must not be stored
there in plain text. So :meth:`Held.hold` takes those values out of the job before it is
recorded, keeps them in this process's memory under a random key written into the job
(:attr:`Job.held`), and the worker puts them back (:meth:`Held.restore`) and forgets them.

What this costs: if the process stops between the ack and the worker (or another replica's
worker claims the row first), the value is gone; the worker then asks the person to enter
the code (or send the message) again — the code stays valid, nothing is lost but a retype.
Values not taken within :data:`KEEP_SECONDS` are dropped.

>>> held = Held()
>>> job = held.hold(Job(kind="message", user="U1", thread="dm", reply_to="channel",
...                     text="123456"))
>>> job.text, bool(job.held)
('', True)
>>> held.restore(job).text, held.restore(job) is None
('123456', True)
"""

from __future__ import annotations

import dataclasses
import secrets
import time

from bot.access.codes import typed_code
from bot.channels.slack.jobs import Job, PressData
from bot.conversation.actions import SubmitForm, encode_action
from bot.redaction import scan

#: how long a held value waits for its worker (the lease of a row is 10 s, retries are quick)
KEEP_SECONDS = 600.0
#: jobs whose text a person typed to the bot
_TYPED = frozenset({"message", "mention", "command", "shortcut"})


@dataclasses.dataclass(frozen=True, slots=True)
class _Value:
    text: str
    fields: tuple[tuple[str, str], ...]
    until: float


class Held:
    """This process's held values, by the key recorded in the job."""

    def __init__(self) -> None:
        self._values: dict[str, _Value] = {}

    def __len__(self) -> int:
        return len(self._values)

    def hold(self, job: Job) -> Job:
        """``job`` without its secret parts (the same job when it has none)."""
        form = job.press.typed() if job.press is not None else None
        text = job.text if job.kind in _TYPED and _secret_looking(job.text) else ""
        fields: tuple[tuple[str, str], ...] = ()
        if isinstance(form, SubmitForm) and any(_secret_looking(v) for _, v in form.fields):
            fields = form.fields  # a form's answers: held whole (the form is small)
        if not text and not fields:
            return job
        self._drop_stale()
        key = secrets.token_urlsafe(12)
        self._values[key] = _Value(text, fields, time.monotonic() + KEEP_SECONDS)
        changes: dict[str, object] = {"held": key}
        if text:
            changes["text"] = ""
        if fields and isinstance(form, SubmitForm) and job.press is not None:
            emptied = SubmitForm(form.flow, form.verb)
            changes["press"] = dataclasses.replace(job.press, action=encode_action(emptied))
        return dataclasses.replace(job, **changes)  # type: ignore[arg-type]

    def restore(self, job: Job) -> Job | None:
        """``job`` as it was before :meth:`hold`; ``None`` when its values are gone."""
        if not job.held:
            return job
        value = self._values.pop(job.held, None)
        if value is None:
            return None
        press = job.press
        form = press.typed() if press is not None else None
        if value.fields and press is not None and isinstance(form, SubmitForm):
            full = SubmitForm(form.flow, form.verb, value.fields)
            press = PressData(encode_action(full), press.value, press.label)
        return dataclasses.replace(job, text=value.text or job.text, press=press, held="")

    def forget(self, job: Job) -> None:
        """Drop what ``job`` holds (it was a duplicate, or could not be recorded)."""
        if job.held:
            self._values.pop(job.held, None)

    def _drop_stale(self) -> None:
        now = time.monotonic()
        for key in [k for k, v in self._values.items() if v.until < now]:
            del self._values[key]


def _secret_looking(text: str) -> bool:
    """Whether ``text`` may hold a one-time code or a typed secret (a password, a token)."""
    return bool(text) and (typed_code(text) is not None or scan(text).found)
