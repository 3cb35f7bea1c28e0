"""Slots: the ticket reference, product, urgency, "for a colleague" and "add to my ticket".

>>> ex = SlotExtractor()
>>> ex.extract("any news on jsd 1042? it's urgent")  # doctest: +NORMALIZE_WHITESPACE
Slots(ticket_ref='JSD-001042', product=None, urgency='urgent', for_colleague=False,
      colleague=None, adds_to_ticket=False)
>>> ex.extract("please put a note on JSD-1042").adds_to_ticket
True
>>> ex.extract("can you unlock Sam Taylor's account").colleague
'Sam Taylor'
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from intents.lexicon import Lexicon
from intents.rules import ADDS_TO_TICKET
from intents.text import fold, normalise
from intents.types import Slots

#: Words after which a number is a ticket reference even without the prefix ("ticket 1042").
_REF_WORDS = r"(?:ticket|tkt|ref|reference|incident|case)"
_REF_NUMBER_WORDS = r"(?:\s*(?:no\.?|number|num|ref|reference|id))?"
_DIGITS = 6

_URGENCY: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "low",
        re.compile(
            r"\b(?:not (?:that |too |very |super )?urgent|no rush|no hurry|no panic|whenever|"
            r"when (?:you|someone) (?:get a chance|gets a chance|can|has time|have time)|"
            r"low priority|p4)\b"
        ),
    ),
    (
        "urgent",
        re.compile(
            r"\b(?:urgent|urgently|emergency|asap|immediately|right now|right away|"
            r"straight away|critical|p1)\b"
        ),
    ),
    (
        "high",
        re.compile(
            r"\b(?:important|high priority|quickly|as soon as possible|soon as you can|"
            r"cant work|cannot work|unable to work|cant do any work|cant do anything|"
            r"meeting in num|p2)\b"
        ),
    ),
)

#: Nouns for another member of staff ("my colleague", "a new starter").
_ROLE = (
    r"colleague|colleagues|coworker|co worker|workmate|team member|member of my team|"
    r"member of staff|new starter|starter|apprentice|temp|manager|boss|director|assistant|pa"
)
_FOR_SOMEONE_ELSE = re.compile(
    rf"\b(?:(?:my|our|a|the|for|this|new) (?:{_ROLE})s?|someone else|somebody else|"
    r"on behalf of|another user|other user)\b"
)
_SELF_ROLE = re.compile(rf"\b(?:i am|im|i m) (?:a |the |an )?(?:new )?(?:{_ROLE})\b")
#: someone in a role who asks the person to do something ("my boss says I need to set up
#: MFA"): the request is still the person's own
_ASKED_BY_ROLE = re.compile(
    rf"\b(?:my|our|the) (?:{_ROLE})s? (?:says|said|has said|told me|tells me|wants me|"
    r"has asked me|asked me|needs me|reckons)\b"
)
_THIRD_PERSON = re.compile(
    r"\b(?:(?:his|her|their) (?:password|account|login|mfa|authenticator|phone|laptop)|"
    r"(?:he|she|they) (?:is|s|has|cant|cannot|forgot|keeps|needs|got)\b(?! to me))"
)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_OWN_EMAIL = re.compile(
    r"\b(?:my (?:email|address|username|user name)(?: address)?(?: is)?|i am|im)\s*$"
)
_NAME = r"[A-Za-z][a-z]+(?:[ -][A-Za-z][a-z'-]+)?"
_CAPITALISED = r"[A-Z][a-z]+(?:[ -][A-Z][a-z'-]+)?"
#: What follows a lower-case name in "my colleague priya has ...".
_AFTER_NAME = (
    r"(?=\s+(?:is|has|needs|cant|can't|cannot|forgot|was|keeps|got|s)\b|'s\b|\s*[,.!?]|\s*$)"
)
_NAMED = (
    # "my colleague Sam Taylor", "a new starter called Priya", "my colleague priya has ..."
    re.compile(rf"\b(?i:{_ROLE})\s*,?\s+(?:called |named |is )?({_CAPITALISED})"),
    re.compile(rf"\b(?:{_ROLE})\s*,?\s+(?:called |named )?([a-z]+){_AFTER_NAME}", re.IGNORECASE),
    # "Sam Taylor's password", "alex's account"
    re.compile(
        rf"\b({_NAME})['\u2019]s\s+(?:password|account|login|log in|mfa|authenticator|"
        r"two factor|2fa|laptop|phone)",
        re.IGNORECASE,
    ),
    # "password for Sam Taylor", "unlock the account of alex", "locked out for jo"
    re.compile(
        rf"\b(?:password|account|login|mfa|authenticator|locked out)\s+(?:for|of)\s+({_NAME})",
        re.IGNORECASE,
    ),
    # "unlock Sam Taylor please" (capitalised only)
    re.compile(r"\b(?:[Uu]nlock|[Rr]eset)\s+([A-Z][a-z]+(?: [A-Z][a-z'-]+)?)\b"),
)
#: A name that starts the message as its subject: "Sam is locked out", "Priya's forgotten it"
#: (checked against the lexicon: "Outlook is locked" names a product)
_SUBJECT_NAME = re.compile(
    rf"^\s*({_CAPITALISED})(?:\s+(?:is|has|had|cant|can't|cannot|forgot|needs|got|keeps)\b"
    r"|['\u2019]s\s)"
)
#: A lower-case name that starts the message as its subject, only before a lock-out or a
#: forgotten password ("jo smith is locked out", "priya can't log in"): typed in a chat,
#: names often aren't capitalised; the words must not be things (:data:`_NOT_SUBJECT`,
#: the lexicon's words)
_LOWER_SUBJECT_NAME = re.compile(
    r"^\s*([a-z]+(?: [a-z]+)?)(?:\s+(?:is|has|got)|['\u2019]s)(?:\s+(?:been|still|now))?"
    r"\s+(?:locked|forgotten|lost)\b"
    r"|^\s*([a-z]+(?: [a-z]+)?)\s+(?:forgot|cant|can't|cannot)\s+(?:log|sign|get)\s*(?:in|on)\b"
)
#: Lower-case words that start "... is locked" and are things, not people.
_NOT_SUBJECT = frozenset(
    """
    door doors system systems machine machines windows device devices app apps portal site
    database drive file files folder folders work office building car van cabinet drawer
    locker session profile pin sim card badge id keypad tablet workstation terminal till
    people users members customers residents councillors visitors guests public
    """.split()
)
#: Words that end a name or are not names at all ("my colleague is locked out").
_NOT_NAME_WORDS = """
    a an the my our your his her their its this that these those i me you he she they we it
    is are was were be been has have had can cant cannot could would will wont should needs
    need wants want forgot forgotten keeps got gets who which and or but so at in on from
    for of to with by as now again please pls too also just still urgent today new password
    account login mfa authenticator phone laptop email outlook teams colleague colleagues
    manager boss starter apprentice temp director assistant pa user member staff someone
    somebody everyone team there here locked reset unlock never not always already keeps
    doesnt isnt hasnt didnt wasnt said says told asked tried started starts starting joined
    joining joins left leaving leaves off back up out over everything something nothing
    anything everybody nobody noone anyone anybody one all both each either neither mine
    today tomorrow yesterday morning afternoon evening tonight ages hours days weeks months
    minutes mins years ever long while good
"""
_NOT_NAME = frozenset(_NOT_NAME_WORDS.split())


#: a name never follows these ("password for the printer" names a thing)
_THING = frozenset("the a an this that these those".split())


def _clean_name(raw: str) -> str | None:
    words = raw.replace("\u2019", "'").split()
    if words and words[0].lower() in _THING:
        return None
    while words and words[0].lower() in _NOT_NAME:
        words.pop(0)
    kept: list[str] = []
    for word in words:
        if word.lower() in _NOT_NAME:
            break
        kept.append(word)
    if not kept:
        return None
    name = " ".join(kept)
    return name if name[0].isupper() else name.title()


class SlotExtractor:
    """Finds slots in a message; ``ticket_prefix`` is the service desk's reference prefix."""

    def __init__(self, ticket_prefix: str = "JSD", lexicon: Lexicon | None = None) -> None:
        if not re.fullmatch(r"[A-Za-z]{1,10}", ticket_prefix):
            raise ValueError(f"ticket_prefix must be 1-10 letters, got {ticket_prefix!r}")
        self.ticket_prefix = ticket_prefix.upper()
        self.lexicon = lexicon or Lexicon.bundled()
        self._things = frozenset(self.lexicon.words())
        prefix = re.escape(ticket_prefix.lower())
        self.ticket_pattern = re.compile(
            rf"(?<![\w-])(?:{prefix}[\s_#:-]*|{_REF_WORDS}{_REF_NUMBER_WORDS}\s*[:#]?\s*)"
            rf"(\d{{1,{_DIGITS}}})(?!\d)",
            re.IGNORECASE,
        )
        self._bare_number = re.compile(
            rf"(?<![\w-])(?:{prefix}[\s_#:-]*|{_REF_WORDS}{_REF_NUMBER_WORDS}\s*[:#]?\s*|#)?"
            rf"(\d{{1,{_DIGITS}}})(?!\d)",
            re.IGNORECASE,
        )

    def ticket_ref(self, text: str, *, bare_numbers: bool = False) -> str | None:
        """The first ticket reference in ``text``, normalised to ``PREFIX-NNNNNN``."""
        match = self.ticket_pattern.search(text)
        if match is None and bare_numbers and self._is_bare_reference(text):
            match = self._bare_number.search(text)
        if match is None:
            return None
        return f"{self.ticket_prefix}-{int(match.group(1)):0{_DIGITS}d}"

    @staticmethod
    def _is_bare_reference(text: str) -> bool:
        """A short reply made of one number ("1042", "it's #1042"), not a phone number."""
        return len(re.findall(r"\d+", text)) == 1 and len(text.split()) <= 4

    def normalise(self, text: str, *, bare_numbers: bool = False) -> str:
        """:func:`intents.text.normalise` with this desk's ticket references as placeholders
        (and a lone number, when ``bare_numbers``: the conversation expects a reference)."""
        if bare_numbers and self._is_bare_reference(text):
            return normalise(text, self._bare_number)
        return normalise(text, self.ticket_pattern)

    def extract(
        self,
        text: str,
        normalised: str | None = None,
        context: Mapping[str, str] | None = None,
    ) -> Slots:
        """All slots of ``text``. ``context={"expecting": "ticket_ref"}`` accepts a bare number."""
        if normalised is None:
            normalised = self.normalise(text)
        expecting = (context or {}).get("expecting")
        colleague = self._colleague(text)
        folded = " ".join(fold(text).replace("'", " ").split())
        for_colleague = colleague is not None or bool(
            (
                _FOR_SOMEONE_ELSE.search(_ASKED_BY_ROLE.sub(" ", folded))
                and not _SELF_ROLE.search(folded)
            )
            or _THIRD_PERSON.search(folded)
        )
        return Slots(
            ticket_ref=self.ticket_ref(text, bare_numbers=expecting == "ticket_ref"),
            product=self.lexicon.product(normalised),
            urgency=next((name for name, pat in _URGENCY if pat.search(normalised)), None),
            for_colleague=for_colleague,
            colleague=colleague,
            adds_to_ticket=bool(ADDS_TO_TICKET.search(normalised)),
        )

    def _colleague(self, text: str) -> str | None:
        for match in _EMAIL.finditer(text):
            before = fold(text[: match.start()]).replace("'", "")
            if not _OWN_EMAIL.search(before.rstrip(" :,-")):
                return match.group(0).lower()
        folded = " ".join(fold(text).replace("'", " ").split())
        patterns = _NAMED[2:] if _SELF_ROLE.search(folded) else _NAMED
        for pattern in patterns:
            for match in pattern.finditer(text):
                name = _clean_name(match.group(1))
                if name is not None:
                    return name
        subject = _SUBJECT_NAME.match(text)
        name = _clean_name(subject.group(1)) if subject is not None else None
        if name is not None and not any(w.lower() in self._things for w in name.split()):
            return name
        lower = _LOWER_SUBJECT_NAME.match(text)
        raw = (lower.group(1) or lower.group(2)) if lower is not None else ""
        name = _clean_name(raw) if raw else None
        if name is None or len(name.split()) != len(raw.split()):
            return None  # "my ..." or "the ...": not a name
        if any(w.lower() in self._things or w.lower() in _NOT_SUBJECT for w in name.split()):
            return None
        return name
