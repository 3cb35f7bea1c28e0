"""Normalising a message before it is compared with the examples.

Everything downstream (the lexical classifier, fuzzy matching, the rules) sees the same
normalised text, so a typo map or a placeholder added here helps all of them.

>>> normalise("Any news on JSD-1042?  I can't log in, pls")
'any news on jsd num ? i cant log in please'

(:meth:`intents.slots.SlotExtractor.normalise` also turns ticket references into ``ticketref``.)
"""

from __future__ import annotations

import re
import unicodedata

#: Common misspellings and shorthands of words that decide an intent. Character n-grams already
#: absorb most typos; these are the ones too short or too mangled for that.
_SPELLING = {
    "pw": "password",
    "pwd": "password",
    "passwd": "password",
    "pword": "password",
    "pasword": "password",
    "passwrd": "password",
    "passwrod": "password",
    "pssword": "password",
    "passowrd": "password",
    "acc": "account",
    "acct": "account",
    "acount": "account",
    "accout": "account",
    "tkt": "ticket",
    "tix": "ticket",
    "plz": "please",
    "pls": "please",
    "plse": "please",
    "thx": "thanks",
    "thanx": "thanks",
    "ty": "thanks",
    "u": "you",
    "ur": "your",
    "2": "to",
    "authenticater": "authenticator",
    "athenticator": "authenticator",
    "authenticatior": "authenticator",
    "outlok": "outlook",
    "teh": "the",
    "cnt": "cant",
    "wont": "wont",
}

#: A ticket reference in any spelling the slot extractor accepts is replaced by this token, so
#: "JSD-1042" and "ticket 1042" look alike to the classifier.
TICKET_TOKEN = "ticketref"  # noqa: S105 - a placeholder word, not a secret

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[?]")
_NUMBER = re.compile(r"^\d+$")
#: An error code by its shape (0x8004010f, 80070005, aadsts50076): read as the word "error".
_ERROR_CODE = re.compile(r"^(?:0x[0-9a-f]{4,16}|8[0-9a-f]{7}|[a-z]{2,10}[0-9]{5,})$")


def fold(text: str) -> str:
    """Lower-case, fold accents and apostrophes; keep everything else."""
    text = text.translate(_APOSTROPHES)
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.lower()


def words(text: str) -> list[str]:
    """The words of already-folded text, apostrophes dropped ("can't" -> "cant")."""
    return [w.replace("'", "") for w in _WORD.findall(text)]


def normalise(text: str, ticket_pattern: re.Pattern[str] | None = None) -> str:
    """The canonical form of a message: folded words, typos fixed, references as placeholders."""
    folded = fold(text)
    if ticket_pattern is not None:
        folded = ticket_pattern.sub(f" {TICKET_TOKEN} ", folded)
    out: list[str] = []
    for word in words(folded):
        word = _SPELLING.get(word, word)
        if _ERROR_CODE.match(word):
            word = "error"
        elif _NUMBER.match(word):
            word = "num"
        out.append(word)
    return " ".join(out)
