"""Typo tolerance and fuzzy title/question similarity (rapidfuzz).

A word is only corrected when no article has it and it is not an English word: staff
write plenty of real words the articles don't use ("factory", "taken"), and turning
them into the nearest article word ("factor", "take") misleads both retrievers.

>>> speller = Speller()
>>> speller.add(["password", "calendar", "passport", "factor"])
>>> counts = {"password": 9, "calendar": 5, "passport": 1, "factor": 2}.get
>>> [speller.correct(w, lambda x: counts(x, 0)) for w in ("pasword", "calender", "factory")]
['password', 'calendar', None]
>>> speller.add(["share"]); speller.correct("shair", lambda x: 1)  # two edits: not by default
>>> speller.add_domain(["share", "sharing"]); speller.correct("shair", lambda x: 1)
'share'
>>> speller.correct("snoring", lambda x: 1) is None  # two edits must keep the first two letters
True

"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from importlib import resources
from itertools import product

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

#: Endings stripped to find an English word's base form ("swapping" -> "swap").
_ENDINGS = ("s", "es", "ed", "d", "ing", "er", "ly")


@cache
def english_ranks() -> dict[str, int]:
    """The English word list (``knowledge/english_words.txt``; see its header), each word
    with its position in it: 0 for the most common, larger for rarer words.

    >>> ranks = english_ranks()
    >>> ranks["the"] < ranks["weather"] < ranks["mailbox" if "mailbox" in ranks else "outlook"]
    True
    """
    text = resources.files("knowledge").joinpath("english_words.txt").read_text("utf-8")
    found = (w for w in text.split("\n") if w and not w.startswith("#"))
    return {w: n for n, w in enumerate(dict.fromkeys(found))}


@cache
def english_words() -> frozenset[str]:
    """The English word list (``knowledge/english_words.txt``; see its header)."""
    return frozenset(english_ranks())


def is_english(word: str) -> bool:
    """Whether ``word`` is an English word, or one with a regular ending.

    >>> [is_english(w) for w in ("taken", "swapping", "seperate", "meting")]
    [True, True, False, False]
    """
    known = english_words()
    if word in known:
        return True
    for ending in _ENDINGS:
        base = word[: -len(ending)]
        if word.endswith(ending) and len(base) >= 4:  # not "meting" = "met" + "ing"
            doubled = len(base) > 3 and base[-1] == base[-2] and base[:-1] in known
            if base in known or base + "e" in known or doubled:
                return True
    return False


#: Intent-lexicon families whose words are IT vocabulary (the rest are greetings, thanks,
#: "how", "cancel": words any request uses).
IT_FAMILIES = ("it_word", "ticket_word", "lock_word", "forgot_word", "broken_word")


@cache
def it_words() -> frozenset[str]:
    """IT vocabulary shared with the intent detector (``intents/lexicon.yml``): every word of
    its product families (email, calendar, documents, sign-in, ...) and of :data:`IT_FAMILIES`.

    >>> {"calendar", "outlook", "printer", "password"} <= it_words(), "lunch" in it_words()
    (True, False)
    """
    from intents.lexicon import Lexicon  # a sibling pure library: data only, no bot

    lexicon = Lexicon.bundled()
    families = [*lexicon.products.values()]
    families += [lexicon.concepts[name] for name in IT_FAMILIES if name in lexicon.concepts]
    found = {w for phrases in families for phrase in phrases for w in phrase.split()}
    return frozenset(w for w in found if len(w) >= 3 and w not in {"the", "and", "for", "you"})


def max_edits(word: str) -> int:
    """How many edits a word of this length may carry and still be corrected."""
    n = len(word)
    if n < 4:
        return 0
    return 1 if n < 8 else 2


def max_domain_edits(word: str) -> int:
    """Edits allowed to reach a *domain* word (IT vocabulary, or the words of the articles'
    titles, tags and questions): staff mangle these most ("shair" -> "share")."""
    return 2 if len(word) >= 5 else max_edits(word)


class Speller:
    """Corrects a word to the closest known word (fewest edits, then most common)."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, int], list[str]] = defaultdict(list)
        self._domain_buckets: dict[tuple[str, int], list[str]] = defaultdict(list)
        self._known: set[str] = set()
        self._domain: set[str] = set()

    def add(self, words: Iterable[str]) -> None:
        """Learn words (letters only, 3 characters or more)."""
        for word in words:
            if word not in self._known and word.isalpha() and len(word) >= 3:
                self._known.add(word)
                self._buckets[word[0], len(word)].append(word)

    def add_domain(self, words: Iterable[str]) -> None:
        """Learn domain words: reachable with :func:`max_domain_edits` edits."""
        for word in words:
            if word not in self._domain and word.isalpha() and len(word) >= 4:
                self._domain.add(word)
                self._domain_buckets[word[0], len(word)].append(word)

    def correct(self, word: str, count: Callable[[str], float]) -> str | None:
        """The known word ``word`` was probably meant to be, or ``None``.

        ``count(word)`` says how many articles use a word now (0: forget it). Like most
        spelling correctors it trusts the first letter (or the second, for a swap).
        """
        if not word.isalpha() or is_english(word):
            return None
        found = self._closest(word, max_edits(word), self._buckets, count)
        if found is None and max_domain_edits(word) > max_edits(word):
            found = self._closest(word, max_domain_edits(word), self._domain_buckets, count)
            if found is not None and found[:2] != word[:2]:
                found = None  # two slips need more anchor: "snoring" is not "sharing"
        return found

    @staticmethod
    def _closest(
        word: str,
        limit: int,
        buckets: dict[tuple[str, int], list[str]],
        count: Callable[[str], float],
    ) -> str | None:
        if limit == 0:
            return None
        best: tuple[int, float, str] | None = None
        lengths = range(len(word) - limit, len(word) + limit + 1)
        for bucket in product(dict.fromkeys((word[0], word[1])), lengths):
            choices = buckets.get(bucket)
            if not choices:
                continue
            for choice, distance, _ in process.extract(
                word, choices, scorer=OSA.distance, score_cutoff=limit, limit=8
            ):
                n = count(choice)
                if n <= 0:
                    continue
                key = (int(distance), -n, choice)
                if best is None or key < best:
                    best = key
        return best[2] if best else None


def similarity(query: str, texts: Sequence[str]) -> float:
    """Best fuzzy similarity (0..1) of ``query`` to any of ``texts`` (titles, questions)."""
    if not texts or not query:
        return 0.0
    found = process.extractOne(query, texts, scorer=fuzz.token_set_ratio)
    ratio = fuzz.ratio
    best = float(found[1]) if found else 0.0
    # token_set_ratio is 100 whenever one side's words are a subset of the other's;
    # average it with the plain ratio so a one-word query doesn't look like a perfect match.
    if found:
        best = (best + ratio(query, found[0])) / 2
    return best / 100.0
