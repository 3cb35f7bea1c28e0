"""The ticket form a channel shows (Slack's modal): its fields, their limits and the checks
before it is sent. The ``raise_ticket`` flow answers a submitted form in its
:data:`FORM_ACTION` state.

>>> form_fields({"summary": "  Monitor   flickers ", "details": " since Monday ", "x": "?"})
{'summary': 'Monitor flickers', 'details': 'since Monday'}
"""

from __future__ import annotations

from collections.abc import Mapping

from bot import wording
from bot.conversation.actions import SubmitForm

#: the state that answers a submitted ticket form (``SubmitForm("raise_ticket", "form")``)
FORM_FLOW, FORM_VERB = "raise_ticket", "form"
FORM_ACTION = f"{FORM_FLOW}:{FORM_VERB}"
FORM_FIELDS = ("summary", "category", "impact", "details")
MAX_SUMMARY = 200
MAX_DETAILS = 3000


def form(fields: Mapping[str, str]) -> SubmitForm:
    """A submitted ticket form, as channels hand it over (see :data:`FORM_ACTION`)."""
    return SubmitForm.of(FORM_FLOW, FORM_VERB, fields)


def form_fields(submitted: Mapping[str, str]) -> dict[str, str]:
    """The known fields of a submitted ticket form, tidied: one line, but for the details."""
    fields: dict[str, str] = {}
    for name, answer in submitted.items():
        if name in FORM_FIELDS:
            fields[name] = " ".join(answer.split()) if name != "details" else answer.strip()
    return fields


def form_errors(fields: Mapping[str, str]) -> dict[str, str]:
    """What is wrong with a ticket form before it is sent: field name → what to do."""
    if not fields.get("summary"):
        return {"summary": wording.TICKET_FORM_NO_SUMMARY}
    return {}
