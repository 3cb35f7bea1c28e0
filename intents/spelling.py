"""Mending misspelt words ("calander", "onedirve") before anything else looks at a message.

A word is mended only when it is unknown (in no example and no lexicon entry), at least
:data:`MIN_LENGTH` letters long, and close to exactly one known word of similar length
(Jaro-Winkler similarity at least :data:`MIN_SIMILARITY`, which accepts "calander" for
"calendar" and "emial" for "email" but not "melting" for "meeting" or "pointer" for
"printer"), and whose difference is not just in the last two letters ("compute" is not a
misspelt "computer", nor "publishes" of "publisher"). Known words are never changed.

>>> fixer = SpellFixer(["calendar", "sharepoint", "password"])
>>> fixer.fix("share my calander on sharepiont")
'share my calendar on sharepoint'
>>> fixer.fix("shair my calender")
'shair my calendar'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

MIN_LENGTH = 5
MIN_SIMILARITY = 0.94


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


#: Word endings: two words that differ only in these are forms of one word.
_ENDINGS = frozenset(("", "s", "es", "d", "ed", "r", "er", "ers", "ing", "ly", "y", "e", "or"))


def _is_ending(a: str, b: str) -> bool:
    """Whether tails ``a`` and ``b`` are both word endings ("er"/"es"), not a slip ("er"/"ar").

    >>> _is_ending("er", "es"), _is_ending("er", "ar"), _is_ending("", "r")
    (True, False, True)
    """
    return a in _ENDINGS and b in _ENDINGS


class SpellFixer:
    """Corrects unknown words to the closest known word; built from the examples' words.

    ``is_word`` says a word is a word of the language (a dictionary's): never a slip, even
    when no example has it ("trying" is not a misspelt "tring", a town in one example).

    >>> SpellFixer(["tring"]).fix("someone is trying")
    'someone is tring'
    >>> SpellFixer(["tring"], is_word=lambda w: w == "trying").fix("someone is trying")
    'someone is trying'
    """

    def __init__(
        self, known: Iterable[str], *, is_word: Callable[[str], bool] | None = None
    ) -> None:
        self.known = frozenset(w for w in known if w.isalpha())
        self._is_word = is_word
        by_length: dict[int, list[str]] = {}
        for word in self.known:
            if len(word) >= MIN_LENGTH - 1:
                by_length.setdefault(len(word), []).append(word)
        self._by_length = {n: sorted(words) for n, words in by_length.items()}
        self._mend = lru_cache(maxsize=4096)(self._closest)

    def _closest(self, word: str) -> str:
        n = len(word)
        candidates = [w for k in range(n - 2, n + 3) for w in self._by_length.get(k, ())]
        best = process.extract(
            word,
            candidates,
            scorer=JaroWinkler.normalized_similarity,
            score_cutoff=MIN_SIMILARITY,
            limit=2,
        )
        if not best or (len(best) > 1 and best[1][1] == best[0][1]):
            return word  # nothing close, or a tie: leave it alone
        target = str(best[0][0])
        common = _common_prefix(word, target)
        if common >= min(len(word), len(target)) - 2 and _is_ending(word[common:], target[common:]):
            return word  # another ending of a word we know: an inflection, not a typo
        return target

    def fix(self, normalised: str) -> str:
        """``normalised`` with each unknown, long enough word replaced by its closest known one."""
        words = normalised.split()
        changed = False
        for i, word in enumerate(words):
            if len(word) >= MIN_LENGTH and word.isalpha() and word not in self.known:
                if self._is_word is not None and self._is_word(word):
                    continue
                mended = self._mend(word)
                if mended != word:
                    words[i], changed = mended, True
        return " ".join(words) if changed else normalised
