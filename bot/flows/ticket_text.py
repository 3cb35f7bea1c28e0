"""What a ticket says: the problem (not the request words around it), and the turns of
the conversation about this problem, with the guides the bot offered named by title; and
the ticket flows' words that are not questions of the draft (the category a product
names, a request for news).

>>> summary_of("please raise a ticket for me, the monitor keeps flickering and going black")
'Monitor keeps flickering and going black'
>>> summary_of("Hi, can you log a ticket? My laptop won't charge. Thanks!")
"My laptop won't charge"
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from bot import wording
from bot.conversation.actions import ChooseIntent, FlowAnswer, FlowCommand, decode_action
from bot.conversation.text import clip
from bot.storage.models import Turn

#: a summary longer than this is cut at a word boundary (the whole message goes in the details)
SUMMARY_LIMIT = 90

_TICKET = r"(?:a\s+|an\s+|new\s+|support\s+)*(?:ticket|call|job|case|incident|request)"
_REQUEST = r"(?:raise|log|open|create|make|submit|file|start|put\s+in|book)"
_POLITE_ASK = (
    r"(?:(?:can|could|would|will)\s+(?:you|u)"
    r"|(?:i'?d|i\s+would)\s+like\s+(?:you\s+)?to|i\s+(?:want|need)\s+(?:you\s+)?to)"
)
#: request words at the start, removed one after another until none is left
_LEADING = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^(?:hi|hello|hey|hiya|morning|good\s+(?:morning|afternoon|evening))"
        r"(?:\s+(?:there|team|all|it|folks))?\b",
        r"^(?:please|pls|plz|kindly)\b",
        rf"^{_POLITE_ASK}(?:\s+please)?\b",
        rf"^(?:{_REQUEST}\s+(?:me\s+|us\s+)?{_TICKET}|{_TICKET}\s+please)(?:\s+for\s+(?:me|us))?"
        r"(?:\s+(?:about|for|regarding|re|on|because|as|with))?\b",
        r"^(?:i\s+(?:need|want|would\s+like|'d\s+like)|i'?d\s+like)\s+(?:some\s+)?help"
        r"(?:\s+(?:with|on|about))?\b",
        r"^(?:(?:can|could)\s+(?:you|someone|somebody)\s+)?help\s+(?:me\s+)?(?:with|on)\b",
        r"^(?:for\s+me|please)\b",
        r"^(?:that|because|as|about|regarding|re)\b",
    )
]
#: request words at the end ("…, can you raise a ticket please?", "thanks!")
_TRAILING = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b(?:thanks|thank\s+you|thx|ta|cheers|many\s+thanks)(?:\s+(?:very|so)\s+much)?"
        r"(?:\s+in\s+advance)?$",
        r"\bplease$",
        rf"\b(?:{_POLITE_ASK}\s+)?(?:please\s+)?{_REQUEST}\s+(?:me\s+|us\s+)?{_TICKET}"
        r"(?:\s+for\s+(?:me|us))?(?:\s+please)?$",
        r"\b(?:for\s+me|for\s+us)$",
    )
]
_PUNCTUATION = " \t\n,;:.!?-–—"


#: product slot (from intents) → ticket category
PRODUCT_CATEGORY = {
    "email": "email",
    "calendar": "calendar",
    "documents": "documents",
    "sign-in": "sign-in",
    "password": "sign-in",
    "mfa": "sign-in",
    "device": "device",
    "mobile": "device",
    "teams": "other",
    "browser": "other",
}


#: how much a problem stops the person, by option key: its words and the priority it means
IMPACT_LABELS = {key: label for key, label, _ in wording.IMPACT_OPTIONS}
IMPACT_PRIORITY = {key: priority for key, _, priority in wording.IMPACT_OPTIONS}


def chosen_option(text: str, labels: Mapping[str, str]) -> str | None:
    """The option a pressed value or a typed answer names: its key, its label or part of it.

    >>> chosen_option("can't work at all", IMPACT_LABELS)
    'blocked'
    """
    answer = text.strip().lower()
    if answer in labels:
        return answer
    for key, label in labels.items():
        if answer and (answer == label.lower() or (len(answer) > 3 and answer in label.lower())):
            return key
    return None


def summary_of(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """The problem in ``text``: request words and greetings dropped, capitalised, and cut
    at a word boundary to ``limit`` characters (with "…")."""
    typed = summary = " ".join(text.split())
    changed = True
    while changed and summary:
        changed = False
        for pattern in _LEADING:
            stripped = pattern.sub("", summary, count=1).lstrip(_PUNCTUATION)
            if stripped != summary:
                summary, changed = stripped, True
        for pattern in _TRAILING:
            stripped = pattern.sub("", summary.rstrip(_PUNCTUATION), count=1).rstrip(_PUNCTUATION)
            if stripped != summary.rstrip(_PUNCTUATION):
                summary, changed = stripped, True
    if summary != typed:  # "raise a ticket, the monitor…": the problem is "Monitor…"
        summary = re.sub(r"^the\s+", "", summary, flags=re.IGNORECASE)
    return wording.upper_first(clip(summary.strip(_PUNCTUATION), limit))


# -- the transcript of this problem -----------------------------------------------------

#: the flows that raise a ticket
TICKET_FLOWS = frozenset({"raise_ticket", "talk_to_human"})
#: how a ticket flow ends: a later ticket flow is about another problem
_ENDED = frozenset({"ticket_raised", "ticket_not_raised", "added_to_ticket", "cancelled"})
#: turns that asked what to do with what was typed (the problem's first words are in them)
_ASKED_FIRST = frozenset({"confirm_intent", "offer_intents", "confirm_switch"})
#: a typed question the answer flow took up
_QUESTIONS = frozenset({"answered", "offered_articles", "declined", "out_of_scope"})


def _failed(turn: Turn) -> bool:
    """The answer didn't help: the ticket is about the question that led to it."""
    if turn.outcome in {"declined", "none_of_these"}:
        return True
    return turn.outcome == "feedback" and (turn.details or {}).get("helpful") is False


def problem_turns(turns: Sequence[Turn], *, since: int | None, gap: timedelta) -> list[Turn]:
    """The turns about the problem a ticket is being raised for (oldest first).

    ``turns`` are the conversation's latest turns, oldest first; ``since`` is the id of the
    last turn before the ticket flow started (kept in the flow's data). Before that, the
    turns that asked what was meant ("Do you want to raise a ticket?") belong to it, and so
    does an answer that didn't help (rated unhelpful, none of the guides, no guide found)
    from the question that led to it. A pause longer than ``gap`` ends the lead-in.
    """
    if since is None:  # a draft kept before the start was recorded: the flow's own turns
        start = len(turns)
        while start > 0 and turns[start - 1].flow in TICKET_FLOWS:
            if turns[start - 1].outcome in _ENDED:
                break
            start -= 1
    else:
        start = next((i for i, t in enumerate(turns) if t.id > since), len(turns))
    first = start

    def close(i: int) -> bool:  # turn i is close enough in time to the turn after it
        later = turns[i + 1].created_at if i + 1 < len(turns) else None
        return later is None or later - turns[i].created_at <= gap

    i = first - 1
    while i >= 0 and turns[i].outcome in _ASKED_FIRST and close(i):
        first, i = i, i - 1
    if i >= 0 and _failed(turns[i]) and close(i):
        while i >= 0 and close(i) and turns[i].flow in {"answer", None, "clarify"}:
            first = i
            if turns[i].outcome in _QUESTIONS:
                break
            i -= 1
    return list(turns[first:])


def transcript_entry(turn: Turn, title: Callable[[str], str | None]) -> dict[str, Any]:
    """One turn as the ticket keeps it: what was said or pressed, and the bot's answer with
    the titles of the guides it showed (``title``: an article id → its title, if known)."""
    ids = [str(a) for a in (turn.details or {}).get("articles") or ()]
    articles = [{"id": a, "title": title(a) or a} for a in ids]
    bot = turn.reply_text
    if articles:
        named = "; ".join(f"“{a['title']}”" for a in articles)
        if wording.ANSWER in bot:
            bot = bot.replace(wording.ANSWER, f"{wording.ANSWER} {named}", 1)
        else:
            bot = f"{bot}\n{wording.TRANSCRIPT_GUIDES.format(titles=named)}"
    entry: dict[str, Any] = {
        "at": turn.created_at.isoformat(),
        "user": turn.user_text or _pressed(turn),
        "bot": bot,
        "intent": turn.intent,
    }
    if articles:
        entry["articles"] = articles
    return entry


def _pressed(turn: Turn) -> str:
    """A button press in words (the transcript keeps the action, not the label)."""
    action = decode_action(turn.action) if turn.action else None
    if action is None:
        return ""
    match action:
        case ChooseIntent(intent):
            what = wording.action(intent)
        case FlowCommand("answer", "feedback", value):
            what = "yes" if value.startswith("yes:") else "no"
        case FlowCommand("answer", "article", _):
            what = "a guide"
        case FlowAnswer(_, value):
            what = value
        case _:
            return ""
    return wording.TRANSCRIPT_PRESSED.format(what=what)


#: how a question or an unsure answer starts or ends: typed at a draft ticket's question,
#: it is neither that question's answer nor more about the problem
_NOT_A_DESCRIPTION = re.compile(
    r"^(?:how|what|where|why|when|who|which|can|could|would|will|is|are|do|does|did|should"
    r"|not sure|i'?m not sure|no idea|dunno|i (?:do not|don'?t) know)\b|\?\s*$",
    re.IGNORECASE,
)


_RAISE_WORDS = frozenset(
    "ticket raise log call job report issue problem a an i want to need please can you "
    "open with the desk it service help someone person human speak talk me back ring "
    "somebody anyone agent real could get hi hello there is available raising raised logging "
    "logged opening one".split()
)


def names_a_problem(text: str) -> bool:
    """Whether a request for a ticket (or a person) says what it's about: two words or
    more besides the asking.

    >>> names_a_problem("raise a ticket please"), names_a_problem("my printer is jammed")
    (False, True)
    """
    words = [w.strip("?!.,'").lower() for w in text.split()]
    return len([w for w in words if w and w not in _RAISE_WORDS]) >= 2


def describes(text: str) -> bool:
    """Whether a message typed at one of a draft ticket's questions ("Which of these is it
    about?") describes the problem: a statement of three words or more.

    >>> describes("it flickers when I plug in the HDMI cable"), describes("outlook")
    (True, False)
    >>> describes("how do I share my calendar"), describes("I don't know which")
    (False, False)
    """
    said = " ".join(text.replace("\u2019", "'").split())
    return len(said.split()) >= 3 and not _NOT_A_DESCRIPTION.search(said)


# -- asking for an update on a ticket (bot.flows.status) -----------------------------------

#: the requester's comment on the ticket, for the agent working it
CHASE_NOTE = "Could I have an update on this, please?"
CHASE_BUTTON = "Ask for an update"
CHASED = (
    "I've asked the {desk} for an update on {ref}. {aim} I'll message you here when there's news."
)
AIM_TO_RESPOND = "They aim to respond by {due}."
AIM_TO_FIX = "They aim to fix it by {due}."
AIMED_TO_RESPOND = "They aimed to respond by {due}, so it's overdue."
AIMED_TO_FIX = "They aimed to fix it by {due}, so it's overdue."
#: the same person asked within :data:`bot.flows.status.CHASE_AGAIN_AFTER`
CHASED_ALREADY = (
    "You asked for an update on {ref} at {when}, and the {desk} has it. I'll message you "
    "here when there's news."
)
