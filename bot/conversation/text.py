"""Cleaning what people type, hiding the secrets in it, and reading yes/no answers."""

from __future__ import annotations

import dataclasses
import re
import unicodedata

from rapidfuzz import fuzz

from bot.conversation.actions import Ask, FlowCommand, SubmitForm
from bot.conversation.messages import MAX_TEXT, Button, Incoming
from bot.redaction import redact, scan

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_SPACES = re.compile(r"[ \t]+")
#: lone surrogates (JSON's "\ud800"): no encoding can store them, so the database refuses them
_SURROGATE = re.compile("[\ud800-\udfff]")

YES = frozenset(
    {
        "yes", "y", "yeah", "yep", "yup", "ya", "aye", "sure", "ok", "okay", "correct",
        "confirm", "yes please", "go ahead", "do it", "that's right", "thats right",
        "sounds good", "please do", "yes thanks", "yes thank you",
    }
)  # fmt: skip
NO = frozenset(
    {
        "no", "n", "nope", "nah", "wrong", "no thanks", "no thank you", "not now",
        "not really", "don't", "dont", "no don't", "no dont",
    }
)  # fmt: skip


def clean(text: str) -> tuple[str, bool]:
    """Normalise typed text: NFC, no control characters or lone surrogates, trimmed, at
    most ``MAX_TEXT``.

    Returns the text and whether it was cut short.
    """
    text = _SURROGATE.sub("\ufffd", text)
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())
    text = text.strip()
    truncated = len(text) > MAX_TEXT
    return text[:MAX_TEXT], truncated


def without_secrets(incoming: Incoming) -> tuple[Incoming, tuple[str, ...]]:
    """``incoming`` with the secrets typed into it hidden (``bot.redaction``): its text, the
    fields of a submitted form, the text a button carries. Returns the kinds found.

    Nothing after this sees the secret: flows, their data, replies that echo the text,
    the transcript, the ticket, the log line.
    """
    found = scan(incoming.text)
    kinds = set(found.kinds)
    press = incoming.press
    if isinstance(press, Ask):
        hidden = scan(press.text)
        kinds.update(hidden.kinds)
        press = Ask(hidden.text)
    elif isinstance(press, FlowCommand):
        hidden = scan(press.value)
        kinds.update(hidden.kinds)
        press = FlowCommand(press.flow, press.verb, hidden.text)
    elif isinstance(press, SubmitForm):
        fields = []
        for name, value in press.fields:
            hidden = scan(value)
            kinds.update(hidden.kinds)
            fields.append((name, hidden.text))
        press = SubmitForm(press.flow, press.verb, tuple(fields))
    if not kinds:
        return incoming, ()
    return dataclasses.replace(incoming, text=found.text, press=press), tuple(sorted(kinds))


#: words after a first "yes"/"no" that take it back or change it ("no wait, it's the dock")
_BUT = frozenset("wait hang hold actually but sorry except however although".split())


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a word boundary, with "…" when cut: a ticket's
    summary in a button reads "Reset the password for a colleague…", not "... (unna"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" \t\n,;:.!?-–—(") + "…"


def yes_no(text: str) -> bool | None:
    """``True`` for a yes, ``False`` for a no, ``None`` when it is neither (or a yes or no
    taken back or changed in the same breath: "no wait, it's the docking station").

    >>> yes_no("no thanks"), yes_no("yes please"), yes_no("no wait it's the dock")
    (False, True, None)
    """
    words = re.sub(r"[^\w' ]+", " ", text.lower()).strip()
    words = _SPACES.sub(" ", words)
    if not words:
        return None
    if words not in YES and words not in NO and _BUT & set(words.split()[1:]):
        return None
    if words in YES or words.split()[0] in {"yes", "yeah", "yep", "yup", "sure", "ok", "okay"}:
        return True
    if words in NO or words.split()[0] in {"no", "nope", "nah"}:
        return False
    return None


#: "cancel my ticket" or "cancel JSD-000042" is about the ticket (the status flow closes it),
#: not the conversation ("cancel the ticket" while raising one stops raising it)
_NOT_THE_CONVERSATION = r"(?!\s+(?:my\s+tickets?|[a-z]{2,6}-\d+)\b)"
_CANCEL = re.compile(
    rf"^\W*(cancel{_NOT_THE_CONVERSATION}|stop|never ?mind|forget (it|that|about it)|quit|exit"
    r"|abort|start again)\b",
    re.IGNORECASE,
)


def is_cancel(text: str) -> bool:
    """Words that always mean "stop what we're doing", whatever else is going on."""
    return bool(_CANCEL.match(text))


def choice_number(text: str, count: int) -> int | None:
    """A typed choice like ``2`` or ``2.`` as a zero-based index, if in range."""
    match = re.fullmatch(r"\s*(\d{1,2})[.)]?\s*", text)
    if not match:
        return None
    index = int(match.group(1)) - 1
    return index if 0 <= index < count else None


_DIGIT_RUN = re.compile(r"\d{3,}[\s-]?\d*")


def has_digits(text: str) -> bool:
    """Whether ``text`` holds a run of digits a one-time code could be in.

    >>> has_digits("123 456"), has_digits("it didn't come")
    (True, False)
    """
    return _DIGIT_RUN.search(text) is not None


def _label_key(text: str) -> str:
    words = re.sub(r"[^\w' ]+", " ", text.lower().replace("’", "'"))
    return _SPACES.sub(" ", words).strip()


def typed_button(text: str, buttons: tuple[Button, ...]) -> Button | None:
    """The button ``text`` presses: its number (``2``, ``2.``) or its label, typed
    (case, punctuation and a slip of the keyboard aside); ``None`` when it is neither.

    >>> from bot.conversation.actions import Ask
    >>> buttons = (Button("Email", Ask("e")), Button("Calendar", Ask("c")))
    >>> typed_button("2", buttons).label, typed_button("calender", buttons).label
    ('Calendar', 'Calendar')
    >>> typed_button("my calendar won't sync", buttons) is None
    True
    """
    if not buttons:
        return None
    index = choice_number(text, len(buttons))
    if index is not None:
        return buttons[index]
    wanted = _label_key(text)
    if not wanted:
        return None
    exact = [b for b in buttons if _label_key(b.label) == wanted]
    if exact:
        return exact[0]
    if len(wanted) < 6:  # "yes", "no", short labels: exactly or not at all
        return None
    scored = sorted(
        ((fuzz.ratio(wanted, _label_key(b.label)), i) for i, b in enumerate(buttons)),
        reverse=True,
    )
    best, index = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    return buttons[index] if best >= 85 and best - runner_up >= 10 else None


#: a guide didn't do it: "that didn't help", "still not working", "no luck", "wrong guide"
_NOT_HELPED = re.compile(
    r"\b(?:did|does|has|have|was|is|wo|would)\s*n[o']?t\s+(?:really\s+|quite\s+)?"
    r"(?:help|work|fix|solve|sort|answer|do|make)\w*"
    r"|\bnot\s+(?:helpful|useful|relevant|it|what|right|working|fixed|sorted)\b"
    r"|\bstill\s+(?:not|no|broken|offline|down|failing|crashing|stuck|frozen|says|showing|doesn"
    r"|isn|can|won|having|getting|happening|the\s+same)\w*"
    r"|\bsame\s+(?:problem|issue|error|thing)\b"
    r"|\bno\s+(?:luck|joy|good|use|help|change|difference)\b"
    r"|\b(?:useless|unhelpful|wrong\s+(?:guide|article|answer|one))\b",
    re.IGNORECASE,
)
#: a guide did it: "that worked", "it's fixed", "works now", "sorted, thanks"
_HELPED = re.compile(
    r"\b(?:that|it|this)\s*(?:'s|\s+has|\s+is)?\s+(?:worked|helped|fixed|sorted|done\s+it"
    r"|did\s+it|did\s+the\s+trick)\b"
    r"|\b(?:works?|working)\s+(?:now|again)\b|\ball\s+(?:good|sorted|fixed)\b"
    r"|^\W*(?:perfect|brilliant|great|sorted|fixed|spot\s+on)\b",
    re.IGNORECASE,
)
#: the verb of the press a guide that half helped makes (the value is No's, verdict aside)
PARTLY = "partly"
#: a guide half did it: "kind of", "sort of", "partly", "not quite", "a bit"
_PARTLY = re.compile(
    r"^\W*(?:(?:yes|yeah|well|um+|hm+|erm|i guess|i suppose)\W+)?(?:kind of|kinda|sort of|sorta"
    r"|partly|partially|in part|a (?:little )?bit|a little|somewhat|some of it|half(?:way)?"
    r"|not (?:quite|completely|fully|entirely|totally|all of it)|almost|nearly|mostly"
    r"|up to a point|to a point|(?:it )?helped a (?:little|bit))"
    r"(?:\W+(?:thanks|thank you|cheers|i guess|i suppose))?\W*$",
    re.IGNORECASE,
)
#: longer than this, a message says more than whether the guide helped: it's read in full
FEEDBACK_WORDS = 10
#: the words of a verdict on a guide; a message with any other ("teams doesn't work on my
#: phone") is about something of its own, and is read in full
_VERDICT_WORDS = frozenset(
    """that thats that's this it its it's those these they the a an i ive i've me my you to
    at all of for on in please broken down
    but and so or just really quite even still again now yet afraid unfortunately sorry ok
    okay thanks thank cheers yes yeah yep yup no nope nah not never nothing none
    did didnt didn't does doesnt doesn't do dont don't has hasnt hasn't have havent haven't
    is isnt isn't was wasnt wasn't wont won't would wouldnt wouldn't tried try trying done
    help helped helps helpful unhelpful useful useless work worked works working fix fixed
    fixes solve solved sort sorted answer answered luck joy good great perfect brilliant
    spot trick use change difference same problem issue error thing wrong guide article
    steps step link one relevant right what kind kinda sort sorta partly partially part bit
    little somewhat some half halfway quite completely fully entirely totally almost nearly
    mostly up point well um umm hmm erm guess suppose""".split()
)


def typed_feedback(text: str, buttons: tuple[Button, ...]) -> Button | None:
    """After "Was this helpful?", the feedback button a short answer in words presses:
    "that didn't help" or "nope" is No, "that worked, thanks" is Yes, and "kind of" or
    "not quite" a third, Partly (the press :data:`PARTLY`, with No's value); ``None`` when the
    buttons aren't that question's, or the text says neither or says more (it names
    something: a new problem, read in full).

    >>> ask = lambda v: Button(v.title(), FlowCommand("answer", "feedback", f"{v}:a/b"))
    >>> buttons = (ask("yes"), ask("no"))
    >>> [typed_feedback(t, buttons).label for t in ("that didn't help", "it works now")]
    ['No', 'Yes']
    >>> typed_feedback("kind of", buttons).action
    FlowCommand(flow='answer', verb='partly', value='a/b')
    >>> typed_feedback("how do I share my calendar", buttons) is None
    True
    >>> typed_feedback("teams doesn't work on my phone", buttons) is None  # a problem of its own
    True
    """
    verdicts = {
        b.action.value.partition(":")[0]: b
        for b in buttons
        if isinstance(b.action, FlowCommand) and b.action.verb == "feedback"
    }
    said = text.replace("\u2019", "'")
    words = re.findall(r"[a-z']+", said.lower())
    if not verdicts or len(words) > FEEDBACK_WORDS or set(words) - _VERDICT_WORDS:
        return None
    no = verdicts.get("no")
    if no is not None and isinstance(no.action, FlowCommand) and _PARTLY.match(said):
        _, _, rest = no.action.value.partition(":")
        return Button("Partly", dataclasses.replace(no.action, verb=PARTLY, value=rest))
    verdict = yes_no(said)
    if _NOT_HELPED.search(said):
        verdict = False
    elif verdict is None and _HELPED.search(said):
        verdict = True
    return None if verdict is None else verdicts.get("yes" if verdict else "no")


#: how a detail added to the question just answered starts: "it's a Dell", "on my phone",
#: "with someone at Dacorum", "since Monday", "only in Teams"
_DETAIL = re.compile(
    r"^(?:it'?s|it is|it was|it has|its|they'?re|on|in|with|for|from|since|using|via|only"
    r"|and|also|even|when|whenever|every time|at|the (?:\w+ )?one)\b",
    re.IGNORECASE,
)
#: ...but not a verdict, a new symptom or a request of its own ("it's still not working")
_NOT_A_DETAIL = re.compile(
    r"\b(?:not|no|never|still|n't|nt|cant|cannot|wont|help|how|why|what|ticket|password|reset"
    r"|unlock|thanks?|thank you)\b|n't\b|\?",
    re.IGNORECASE,
)
#: the most words a detail has
DETAIL_WORDS = 8
#: the verb of the press a detail becomes, answered by the flow of the guide it adds to
DETAIL_VERB = "detail"


def adds_to_guide(text: str, buttons: tuple[Button, ...]) -> FlowCommand | None:
    """After a guide's "Was this helpful?", a short detail ("it's a Dell" after "my laptop is
    really slow") as the press its guide's flow answers: ``detail``, with the guide shown and
    the question asked whole; ``None`` for anything else.

    >>> no = Button("No", FlowCommand("answer", "feedback", "no:a/b:my laptop is slow"))
    >>> adds_to_guide("it's a Dell", (no,)).value
    "a/b:my laptop is slow, it's a Dell"
    >>> [adds_to_guide(t, (no,)) for t in ("it's still not working", "how do I print?")]
    [None, None]
    """
    rated = _rated(buttons)
    said = " ".join(text.replace("\u2019", "'").split())
    if rated is None or len(said.split()) > DETAIL_WORDS or not _DETAIL.match(said):
        return None
    if _NOT_A_DETAIL.search(said):
        return None
    _, article_id, question = rated.value.split(":", 2)
    # kept with the press, as a button's question is: redacted
    return FlowCommand(rated.flow, DETAIL_VERB, f"{article_id}:{question}, {redact(said)}")


#: a question about something just mentioned: "how do I turn it off", "can I cancel that"
_REFERS_BACK = re.compile(
    r"^(?:and |so |but |ok,? |okay,? )?(?:how|can|could|where|what|why|is|do|does|will|who)\b"
    r".*\b(?:it|that|this|them|those|these)\b",
    re.IGNORECASE,
)
#: the most words such a question has
FOLLOW_UP_WORDS = 10
#: the verb of the press a follow-up question becomes (see :func:`refers_to_guide`)
FOLLOW_UP_VERB = "follow_up"


def refers_to_guide(text: str, buttons: tuple[Button, ...]) -> FlowCommand | None:
    """After a guide's "Was this helpful?", a short question about "it" ("how do I turn it
    off" after the out-of-office guide) as the press its guide's flow answers:
    ``follow_up``, with the guide, its question and this one; ``None`` for anything else.
    The engine asks only when the message names no product of its own.

    >>> no = Button("No", FlowCommand("answer", "feedback", "no:a/b:set up out of office"))
    >>> refers_to_guide("how do I turn it off", (no,)).value
    'a/b:set up out of office\\nhow do I turn it off'
    >>> [refers_to_guide(t, (no,)) for t in ("it's a Dell", "how do I print?")]
    [None, None]
    """
    rated = _rated(buttons)
    said = " ".join(text.replace("\u2019", "'").split())
    if rated is None or len(said.split()) > FOLLOW_UP_WORDS or not _REFERS_BACK.match(said):
        return None
    _, article_id, question = rated.value.split(":", 2)
    return FlowCommand(rated.flow, FOLLOW_UP_VERB, f"{article_id}:{question}\n{redact(said)}")


def _rated(buttons: tuple[Button, ...]) -> FlowCommand | None:
    """The rating press of a guide's "Was this helpful?" among ``buttons``, if any."""
    return next(
        (
            b.action
            for b in buttons
            if isinstance(b.action, FlowCommand)
            and b.action.verb == "feedback"
            and b.action.value.count(":") >= 2
        ),
        None,
    )


#: narrower than :data:`YES` and :data:`NO`, which answer a question asked: to nothing
#: asked, "ok" is thanks and "wrong" says nothing
_BARE_YES = frozenset({"yes", "yeah", "yep", "yup", "sure", "yes please", "yes thanks"})
_BARE_NO = frozenset({"no", "nope", "nah", "no thanks", "no thank you", "not now", "no ta"})


def yes_to_the_one(text: str, buttons: tuple[Button, ...]) -> Button | None:
    """The button a yes or a no presses: the only button offered, when it takes a yes
    (:attr:`Button.yes`) and ``text`` is only that ("yes please" after "...contact the
    desk" with **Raise a ticket**); or, to a question offered as a yes and a no, the one
    ``text`` starts with ("yes, I still have it", "no, it's broken").

    >>> ticket = Button("Raise a ticket", Ask("t"), yes=True)
    >>> yes_to_the_one("yes please", (ticket,)).label, yes_to_the_one("no", (ticket,))
    ('Raise a ticket', None)
    >>> yes_to_the_one("yes", (Button("I don't have the old phone: reset my MFA", Ask("m")),))
    >>> pair = (Button("Yes", Ask("y"), yes=True), Button("No", Ask("n"), no=True))
    >>> [yes_to_the_one(t, pair).label for t in ("yes I still have it", "nope, it's broken")]
    ['Yes', 'No']
    """
    yes = [b for b in buttons if b.yes]
    no = [b for b in buttons if b.no]
    if len(yes) == 1 and len(no) == 1 and len(buttons) == 2:
        verdict = yes_no(text)
        return None if verdict is None else yes[0] if verdict else no[0]
    one = buttons[0] if len(buttons) == 1 else None
    return one if one is not None and one.yes and bare_answer(text) is True else None


def bare_answer(text: str) -> bool | None:
    """A message that is only a yes or a no ("yes", "no thanks"); ``None`` for anything else.

    >>> bare_answer("Yes!"), bare_answer("no thanks."), bare_answer("no, the printer")
    (True, False, None)
    """
    said = " ".join(re.findall(r"[a-z]+", text.lower()))
    return True if said in _BARE_YES else False if said in _BARE_NO else None
