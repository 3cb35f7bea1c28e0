"""What people say in a reset conversation: a new phone, a code that hasn't come.

Plain functions of the message's text, for :mod:`bot.flows.reset`.
"""

from __future__ import annotations

import re

_PHONE = r"(?:phone|mobile|iphone|android|handset|device)s?(?!\s+(?:number|no)\b)"
#: a change of phone: "new phone", "replacement mobile", "switched phones", "moving the
#: authenticator across", "transfer MFA", "upgraded my phone" (a new number is not: the
#: codes go to the old one, which the guide can't change without them)
_NEW_PHONE = re.compile(
    rf"\b(?:new|replacement|another|different|upgraded|next)\s+(?:\w+\s+)?{_PHONE}\b"
    rf"|\b(?:chang|switch|swap|upgrad|replac)\w*\s+(?:(?:my|the|work|council)\s+)*{_PHONE}\b"
    rf"|\b{_PHONE}\s+(?:is\s+|was\s+|has\s+been\s+|being\s+)*(?:replaced|upgraded|changed|swapped)\b"
    r"|\b(?:move|moving|transfer\w*)\b",
    re.IGNORECASE,
)
#: the old phone is gone (or the person asks for the reset itself): the guide can't help
_NO_OLD_PHONE = re.compile(
    r"\b(?:lost|lose|losing|stolen|nicked|broke|broken|smashed|cracked|dead|died|dropped"
    r"|wipe\w*|factory|sold|traded|gone|missing|water|bath|without"
    r"|(?:do\s*n[o']?t|not|no\s+longer|never)\s+(?:have|got)|haven'?t\s+got|can'?t\s+find"
    r"|(?:gave|give|handed|hand|sent|send)\s+(?:it\s+|the\s+old\s+one\s+)?(?:back|in)"
    r"|re-?set\w*|clear\w*|remov\w*|delet\w*)\b",
    re.IGNORECASE,
)


def moves_phone(text: str) -> bool:
    """Whether a message about MFA is someone moving to a new phone who may still have the
    old one (the guide is enough), not a lost one or a plain request for the reset.

    >>> moves_phone("I've got a new phone, how do I move my authenticator")
    True
    >>> moves_phone("lost my phone, need my MFA reset"), moves_phone("new phone, reset my MFA")
    (False, False)
    >>> moves_phone("I have a new mobile number so I don't get the text codes")
    False
    """
    text = _plain(text)
    return bool(_NEW_PHONE.search(text)) and not _NO_OLD_PHONE.search(text)


#: a new number: "I've got a new mobile number", "my number has changed"
_NEW_NUMBER = re.compile(
    r"\b(?:new|different|changed)\s+(?:(?:mobile|phone|work)\s+)?(?:number|no)\b"
    r"|\bchang\w*\s+(?:my\s+)?(?:(?:mobile|phone)\s+)?number\b"
    r"|\bnumber\s+(?:has\s+|have\s+)?changed\b",
    re.IGNORECASE,
)


def changes_number(text: str) -> bool:
    """Whether the message says the person's phone number has changed: a code by text
    goes to the number on their record, which may be the old one.

    >>> changes_number("I've got a new mobile number"), changes_number("I've got a new phone")
    (True, False)
    >>> changes_number("my number has changed so the codes don't come")
    True
    """
    return bool(_NEW_NUMBER.search(_plain(text)))


#: someone other than the person asking ("my colleague has a new phone"): a ticket, not a
#: guide, so never taken on without a check
_SOMEONE_ELSE = re.compile(
    r"\b(?:colleague|manager|boss|team|staff|member|user|he|she|his|her|their|they|them)\b",
    re.IGNORECASE,
)


def moves_own_phone(text: str) -> bool:
    """:func:`moves_phone`, said of the person's own phone: the reset flow shows the guide
    and asks about the old phone, which commits to nothing.

    >>> moves_own_phone("I've got a new phone"), moves_own_phone("my colleague has a new phone")
    (True, False)
    """
    return moves_phone(text) and not _SOMEONE_ELSE.search(_plain(text))


def _plain(text: str) -> str:
    return text.replace("\u2019", "'")


#: asking for another code in words ("send me a new code", "resend it")
_RESEND = re.compile(
    r"\b(re-?send|send (?:me )?(?:it |the code |a code )?again|(?:send|text) (?:me )?"
    r"(?:a(?:nother)?|one more) (?:new )?code|(?:another|a new|new) code please)\b",
    re.IGNORECASE,
)
#: words that say something is missing, that name the code, and that say it came
_ABSENT = frozenset(
    "didnt didn't didn havent haven't haven hasnt hasn't hasn not never no nothing where "
    "wheres where's still".split()
)
_CODE_WORDS = frozenset("code codes text texts sms message".split())
_CAME = frozenset("got get received receive arrived arrive come came yet".split())


def says_not_arrived(text: str) -> bool:
    """Whether a short message says the code hasn't come: "I didn't get the code", "no
    text yet", "where's my code", "still nothing", "not received" (not "Teams messages are
    not coming through": a question of its own)."""
    said = re.findall(r"[a-z']+", _plain(text.lower()))
    words = set(said)
    if not said or len(said) > 15 or not words & _ABSENT:
        return False
    if words & _CODE_WORDS:
        return True
    return (len(said) <= 8 and bool(words & _CAME)) or (len(said) <= 3 and "nothing" in words)


def asks_resend(text: str) -> bool:
    """Whether a message asks for another code ("send me a new code", "resend it").

    >>> asks_resend("can you resend it"), asks_resend("I typed it wrong")
    (True, False)
    """
    return bool(_RESEND.search(text))


#: the code can't reach them where it went: the phone isn't with them, or won't work
_WITHOUT_IT = re.compile(
    rf"\b(?:(?:do\s*n[o']?t|not|no\s+longer)\s+(?:have|got)|haven'?t\s+got|without|left)\s+"
    rf"(?:(?:my|the|a|me|work|council)\s+)*{_PHONE}"
    rf"|\b{_PHONE}(?:'s|\s+(?:is|was|has|has\s+been))?\s+(?:at\s+home|in\s+the\s+car|dead"
    r"|flat|broken|lost|stolen|not\s+(?:with|on)\s+me|out\s+of\s+(?:battery|charge)|died"
    r"|gone)|\bno\s+(?:signal|reception|battery|phone|mobile)\b"
    r"|\b(?:can'?t|cannot|unable\s+to)\s+(?:get\s+into|access|open|get\s+to)\s+(?:my\s+)?"
    r"(?:personal\s+)?(?:email|inbox|gmail|hotmail|phone|mobile)",
    re.IGNORECASE,
)
_WHAT_CODE = re.compile(
    r"^\s*(?:sorry,?\s+)?(?:what|which|wh?at)\s+(?:code|text|number)s?\b[^.]{0,30}$",
    re.IGNORECASE,
)


def cant_get_it(text: str) -> bool:
    """Whether a message says the code can't reach them where it was sent: "I don't have
    my phone", "my phone is at home", "no signal", "can't get into my personal email".

    >>> cant_get_it("I don't have my phone"), cant_get_it("my mobile is dead")
    (True, True)
    >>> cant_get_it("I have my phone now"), cant_get_it("new phone, how do I move MFA")
    (False, False)
    """
    return bool(_WITHOUT_IT.search(_plain(text)))


def asks_what_code(text: str) -> bool:
    """Whether a message asks which code is meant ("what code?", "which code do you mean").

    >>> asks_what_code("what code?"), asks_what_code("what code do you mean")
    (True, True)
    >>> asks_what_code("what's the code for the printer on floor 2? It jams. Help.")
    False
    """
    return bool(_WHAT_CODE.search(_plain(text)))
