"""From a question to weighted index terms: synonyms, typo fixes and joined words.

Each content word of the question becomes a *slot*: the terms that would satisfy
it (the word, its stem, a corrected spelling, the wording a synonym maps it to)
and how informative it is. :func:`coverage` then says how much of the question an
article answers, which is the main lexical signal for declining.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from knowledge.domains import is_everyday, is_it_word
from knowledge.fuzzy import Speller, english_ranks
from knowledge.lexical import IntArray, LexicalIndex
from knowledge.synonyms import Synonyms
from knowledge.text import (
    STOP_WORDS,
    content_words,
    error_codes,
    is_error_code,
    quoted,
    strip_markdown,
    words,
)

#: Weight of terms that come from a corrected spelling or a synonym.
CORRECTED_WEIGHT = 0.8
SYNONYM_WEIGHT = 0.9
#: Weight of a pair of neighbouring words, relative to a single word.
PAIR_WEIGHT = 1.0
#: Extra weight of an error code the question names (0x8004010f, aadsts50076).
CODE_WEIGHT = 2.0
#: Extra weight of a pair of neighbouring words inside quotation marks (a pasted message).
QUOTE_PAIR_WEIGHT = 1.0
#: Among the most common words of general English (:func:`knowledge.fuzzy.english_ranks`)...
COMMON_RANK = 12000
#: ... and in fewer than this share of the articles: a word from outside the knowledge base's field.
RARE_IN_ARTICLES = 0.02
#: A capitalised word that doesn't start a sentence: a name ("ask Kevin", "Sam Turner").
_NAME_RE = re.compile(r"(?<![.!?:]\s)(?<![.!?:])(?<=\s)[A-Z][a-z]+\b")


@dataclass(slots=True)
class Slot:
    """One content word (or synonym phrase) of the question: its term keys and idf."""

    word: str
    keys: tuple[int, ...]
    idf: float


@dataclass(slots=True)
class Query:
    text: str
    weights: dict[int, float] = field(default_factory=dict)
    slots: list[Slot] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)
    expansions: list[str] = field(default_factory=list)
    #: Error codes the question names (whether or not an article has them).
    codes: list[str] = field(default_factory=list)

    @property
    def mass(self) -> float:
        """Sum of the slots' idf: what an article containing every word would cover."""
        return sum(s.idf for s in self.slots)

    @property
    def unknown(self) -> list[str]:
        return [s.word for s in self.slots if not s.keys]

    @property
    def corrected_text(self) -> str:
        """The question with its misspelt words replaced (what the embeddings see)."""
        if not self.corrections:
            return self.text
        pattern = re.compile(
            r"\b(" + "|".join(re.escape(w) for w in self.corrections) + r")\b", re.IGNORECASE
        )
        return pattern.sub(
            lambda m: self.corrections.get(m.group(0).lower(), m.group(0)), self.text
        )


def _add_words(
    index: LexicalIndex, content: list[str], weight: float, into: dict[int, float]
) -> None:
    for w in content:
        for key in (index.word_key(w), index.stem_key(w)):
            into[key] = into.get(key, 0.0) + weight
    for a, b in itertools.pairwise(content):
        key = index.pair_key(a, b)
        into[key] = into.get(key, 0.0) + weight * PAIR_WEIGHT


def build_query(
    text: str, index: LexicalIndex, synonyms: Synonyms, speller: Speller | None
) -> Query:
    """Analyse ``text`` against the vocabulary of ``index``."""
    query = Query(text)
    tokens = words(strip_markdown(text))
    codes = query.codes = error_codes(text)

    # 1. spelling: words no article has, corrected to the nearest word one does
    fixed: list[str] = []
    for token in tokens:
        if (
            speller is not None
            and token not in STOP_WORDS
            and index.word_key(token) < 0
            and index.stem_key(token) < 0
        ):
            better = speller.correct(token, lambda w: index.df(index.word_key(w)))
            if better is not None:
                query.corrections[token] = better
                fixed.append(better)
                continue
        fixed.append(token)

    # 2. synonyms, on the corrected words: each phrase found becomes one slot
    spans: dict[int, tuple[int, list[str]]] = {}
    weights: dict[int, float] = {}
    for start, stop, wording in synonyms.expand(fixed):
        query.expansions.append(wording)
        kb_words = content_words(words(wording))
        _add_words(index, kb_words, SYNONYM_WEIGHT, weights)
        spans[start] = (stop, kb_words + content_words(fixed[start:stop]))

    # 3. the question's own words (corrected ones count a little less), and
    #    neighbours written apart that articles write as one word ("one drive")
    content = content_words(fixed)
    _add_words(index, content, 1.0, weights)
    for w in query.corrections.values():
        for key in (index.word_key(w), index.stem_key(w)):
            weights[key] = weights.get(key, 0.0) - (1.0 - CORRECTED_WEIGHT)
    for a, b in itertools.pairwise(fixed):
        joined = index.word_key(a + b)
        if joined >= 0 and joined not in weights:
            weights[joined] = 1.0
            weights[index.stem_key(a + b)] = 1.0
    # 3b. error codes count most, in either form (0x8004010f / 8004010f); word pairs
    #     inside quotation marks count more (part of a pasted message matches)
    for code in codes:
        key = index.word_key(code)
        weights[key] = weights.get(key, 0.0) + CODE_WEIGHT
    for passage in quoted(text):
        for a, b in itertools.pairwise(content_words(words(passage))):
            key = index.pair_key(a, b)
            weights[key] = weights.get(key, 0.0) + QUOTE_PAIR_WEIGHT
    query.weights = {k: w for k, w in weights.items() if k >= 0 and w > 0}

    # 4. coverage slots: one per content word or synonym phrase of the question; a
    #    name no article has ("Kevin retires friday") is context, not part of the topic
    names = {m.lower() for m in _NAME_RE.findall(text)}
    unknown_idf = index.max_idf()
    pos = 0
    while pos < len(fixed):
        if pos in spans:
            stop, candidates = spans[pos]
            word = " ".join(fixed[pos:stop])
        else:
            stop, word = pos + 1, fixed[pos]
            candidates = content_words([word])
        pos = stop
        if not candidates:
            continue
        keys = {index.word_key(w) for w in candidates} | {index.stem_key(w) for w in candidates}
        keys.discard(-1)
        if not keys and (word in names or is_error_code(word)):
            continue  # a name, or an error code no article has: context, not topic
        idf = max((index.idf(k) for k in keys), default=unknown_idf)
        query.slots.append(Slot(word, tuple(sorted(keys)), idf))
    return query


def coverage(query: Query, index: LexicalIndex, rows: IntArray) -> npt.NDArray[np.float32]:
    """For each slot in ``rows``: the share of the question's idf mass the article contains."""
    out = np.zeros(len(rows), np.float32)
    mass = query.mass
    if mass <= 0 or len(rows) == 0:
        return out
    for slot in query.slots:
        if slot.keys:
            out += index.contains_any(rows, slot.keys).astype(np.float32) * np.float32(slot.idf)
    return out / np.float32(mass)


def it_share(query: Query) -> float:
    """The share of the question's informative words (by idf) that are IT vocabulary
    (:func:`knowledge.domains.it_vocabulary`, as corrected) or error codes.

    Articles use plenty of everyday words ("table", "book", "open"); a question made of
    IT words is about IT even when no article answers it.
    """
    mass = query.mass
    if mass <= 0:
        return 1.0 if query.codes else 0.0
    it = sum(
        s.idf for s in query.slots if any(is_it_word(w) or is_error_code(w) for w in s.word.split())
    )
    return min(1.0, it / mass + (0.5 if query.codes else 0.0))


def everyday_share(query: Query) -> float:
    """The share of the question's informative words (by idf, as corrected) from the
    everyday families an IT desk doesn't serve (:func:`knowledge.domains.is_everyday`:
    weather, food, travel, money, health, ...), when no word of the question is IT
    vocabulary: high for "will it rain at lunchtime", nothing for "left my laptop on the bus".
    """
    mass = query.mass
    if mass <= 0 or any(is_it_word(w) for s in query.slots for w in s.word.split()):
        return 0.0
    found = sum(s.idf for s in query.slots if any(is_everyday(w) for w in s.word.split()))
    return found / mass


def general_share(query: Query, index: LexicalIndex) -> float:
    """The share of the question's informative words (by idf, as corrected) that are common
    in general English but rare in the articles: "president", "lunch", "mortgage" in an IT
    knowledge base; "table" or "network" are common too but many articles use them.

    The vocabulary of the knowledge base itself against English at large, so it needs no
    word list per topic and follows the articles as they change.
    """
    mass = query.mass
    if mass <= 0:
        return 0.0
    ranks = english_ranks()
    limit = RARE_IN_ARTICLES * max(index.n_docs, 1)
    found = 0.0
    for s in query.slots:
        if any(is_it_word(w) for w in s.word.split()):
            continue
        common = all(ranks.get(w, COMMON_RANK) < COMMON_RANK for w in s.word.split())
        if common and max((index.df(k) for k in s.keys), default=0.0) < limit:
            found += s.idf
    return found / mass
