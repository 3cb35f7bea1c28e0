"""Typo tolerance and fuzzy title/question similarity (rapidfuzz).

>>> speller = Speller()
>>> speller.add(["password", "calendar", "passport"])
>>> counts = {"password": 9, "calendar": 5, "passport": 1}.get
>>> [speller.correct(w, lambda x: counts(x, 0)) for w in ("pasword", "calender", "weather")]
['password', 'calendar', None]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from itertools import product

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA


def max_edits(word: str) -> int:
    """How many edits a word of this length may carry and still be corrected."""
    n = len(word)
    if n < 4:
        return 0
    return 1 if n < 8 else 2


class Speller:
    """Corrects a word to the closest known word (fewest edits, then most common)."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, int], list[str]] = defaultdict(list)
        self._known: set[str] = set()

    def add(self, words: Iterable[str]) -> None:
        """Learn words (letters only, 3 characters or more)."""
        for word in words:
            if word not in self._known and word.isalpha() and len(word) >= 3:
                self._known.add(word)
                self._buckets[word[0], len(word)].append(word)

    def correct(self, word: str, count: Callable[[str], float]) -> str | None:
        """The known word ``word`` was probably meant to be, or ``None``.

        ``count(word)`` says how many articles use a word now (0: forget it). Like most
        spelling correctors it trusts the first letter (or the second, for a swap).
        """
        limit = max_edits(word)
        if limit == 0 or not word.isalpha():
            return None
        best: tuple[int, float, str] | None = None
        lengths = range(len(word) - limit, len(word) + limit + 1)
        for bucket in product(dict.fromkeys((word[0], word[1])), lengths):
            choices = self._buckets.get(bucket)
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
