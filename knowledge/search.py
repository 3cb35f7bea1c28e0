"""The search pipeline over article slots: BM25F + embeddings + fuzzy, fused, then decided.

:class:`Index` owns the per-slot indexes and is updated incrementally by
:class:`knowledge.base.KnowledgeBase`; :meth:`Index.search` runs one question.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from knowledge.article import Article, split_variants
from knowledge.decide import HYBRID, LEXICAL, Calibration, Verdict, decide, off_topic_examples
from knowledge.dense import DenseIndex
from knowledge.fusion import POOL, WEIGHTS, Candidate, add_score, fuse, top_slots
from knowledge.fuzzy import Speller, it_words, similarity
from knowledge.lexical import PAIR_FLAG, LexicalIndex
from knowledge.query import (
    Query,
    build_query,
    coverage,
    everyday_share,
    general_share,
    it_share,
)
from knowledge.results import Hit, SearchResult
from knowledge.synonyms import Synonyms
from knowledge.text import error_codes, normalise, words

#: How many fused candidates get the (slower) fuzzy title/question comparison.
FUZZY_POOL = 10
#: Only the start of a very long question (a pasted log, say) is analysed.
MAX_QUERY_CHARS = 1000
#: A question of a word or two that names one topic ("email", "my outlook") only names a
#: topic (:data:`knowledge.decide.TOPIC_GAP`); a longer one ("We couldn't sign you in")
#: says more, even when one word of it is informative.
TOPIC_WORDS = 2
#: Words that ask for help without saying with what: "I need help with my email" or "a
#: problem with teams" names one topic as much as "email" or "teams" alone does.
VAGUE = frozenset(
    "need needs needed help helping problem problems issue issues trouble troubles question "
    "questions query queries assistance support advice sort sorted something stuff bit "
    "wrong working work works having".split()
)


#: Words that say a question is an error report but not what about ("I get error X,
#: what does it mean?"): with an error code no article has, they leave nothing to search on.
ERROR_TALK = frozenset(
    "error errors code codes message messages number get getting got keep keeps say says "
    "saying said show shows showing see seeing pop pops popping popup appear appears mean "
    "means meaning fix help receive receiving come comes coming up".split()
)


def article_fields(article: Article) -> dict[str, str]:
    """The BM25F fields of an article, as text (the body without ``::: council`` lines)."""
    fields = {
        "title": article.title,
        "summary": article.summary,
        "questions": "\n".join(article.questions),
        "tags": "\n".join(article.tags),
        "body": "".join(segment.text for segment in split_variants(article.body)[0]),
    }
    fields["codes"] = " ".join(error_codes("\n".join(fields.values())))
    return fields


def names_a_topic(text: str, query: Query) -> bool:
    """Whether ``text`` only names a topic: a word or two ("email", "my outlook"), or one
    topic with words that ask for help with it ("I need help with my email", "teams isn't
    working"); "We couldn't sign you in" says more, though one word of it is informative."""
    if query.codes:
        return False
    if len(query.slots) == 1 and len(words(text)) <= TOPIC_WORDS:
        return True  # "email", "my outlook", "problem"
    named = [s for s in query.slots if s.word not in VAGUE]
    return len(named) == 1 and len(named) < len(query.slots)


def on_topic(query: Query) -> Query:
    """A question that names one topic with words asking for help, on its topic word
    alone: the asking words rank nothing ("working" put *Camera or microphone not working
    in Teams* first for "teams isn't working", whatever was wrong with Teams)."""
    named = [s for s in query.slots if s.word not in VAGUE]
    if len(named) != 1 or len(named) == len(query.slots):
        return query
    keys = set(named[0].keys)
    weights = {k: w for k, w in query.weights.items() if k in keys}
    return replace(query, weights=weights, slots=named)


def stand_in(
    semantic: npt.NDArray[np.float32],
    lexical: npt.NDArray[np.float32],
    eligible: npt.NDArray[np.bool_],
    ready: npt.NDArray[np.bool_],
) -> None:
    """Fill in, in place, the semantic scores of eligible slots that are not ``ready``.

    An article just added or changed is served before its vectors are computed (and
    the vectors of its old text must not speak for the new one). Until they are in
    place, its semantic score is its lexical score rescaled into the range of the
    ready slots' semantic scores, the way :func:`knowledge.fusion.fuse` rescales both:
    fused, the article counts as well on the semantic side as on the lexical one, so
    it ranks by its own words, and the other articles' rescaling does not move.
    """
    missing = eligible & ~ready
    if not missing.any():
        return
    known = semantic[ready]
    hi = float(known.max()) if known.size else 1.0
    lo = min(float(known.min()), hi - 1e-3) if known.size else 0.0
    top = float(lexical[eligible].max())
    share = lexical[missing] / top if top > 0 else np.zeros(int(missing.sum()), np.float32)
    semantic[missing] = lo + (hi - lo) * share


@dataclass(frozen=True, slots=True)
class Explained:
    """A search with the analysed query, for ``itbot kb search``."""

    result: SearchResult
    query: Query
    features: dict[str, float]


class Index:
    """Every retriever over numbered slots, kept in step with the articles."""

    def __init__(self, synonyms: Synonyms, dense: DenseIndex | None) -> None:
        self.lexical = LexicalIndex()
        self.speller = Speller()
        self.synonyms = synonyms
        self.dense = dense
        if dense is not None:
            dense.set_off_topic(off_topic_examples("hybrid"))
        examples = off_topic_examples("hybrid" if dense is not None else "lexical")
        self._off_topic_words = [normalise(t) for t in examples]
        self.articles: dict[int, Article] = {}
        self._fuzzy_texts: dict[int, list[str]] = {}
        self._domain_seeded = False

    @property
    def calibration(self) -> Calibration:
        return HYBRID if self.dense is not None else LEXICAL

    @property
    def n_slots(self) -> int:
        return self.lexical.n_slots

    def update(
        self,
        changed: Mapping[int, Article],
        removed: Sequence[int] = (),
        *,
        embed: bool = True,
        views: Sequence[int] = (),
    ) -> None:
        """Index the ``changed`` slots and retire the ``removed`` ones.

        With ``embed=False`` the changed slots are searchable at once but their vectors
        are left waiting (:meth:`DenseIndex.expect`) for the caller to encode and install.
        The ``views`` among ``changed`` are other versions of an article indexed in its
        own slot too (one council's text of an article with variants): they don't count
        as documents for the keyword statistics (:class:`LexicalIndex` shadows).
        """
        for slot in removed:
            self.articles.pop(slot, None)
            self._fuzzy_texts.pop(slot, None)
        shared: dict[tuple[str, ...], list[str]] = {}  # an article's views share its phrasings
        for slot, article in changed.items():
            self.articles[slot] = article
            key = (article.title, *article.questions)
            if key not in shared:
                shared[key] = [normalise(t) for t in key]
            self._fuzzy_texts[slot] = shared[key]
        fields = {slot: article_fields(a) for slot, a in changed.items()}
        self.lexical.add(fields, removed, shadows=views)
        self.speller.add(self.lexical.new_words)
        # domain words: what articles are about (titles, tags, phrasings) and IT vocabulary
        # the articles use; a slip of two letters still reaches them
        domain = {
            w
            for f in fields.values()
            for key in ("title", "tags", "questions")
            for w in words(f[key])
        }
        if not self._domain_seeded:
            domain |= it_words()
            self._domain_seeded = True
        self.speller.add_domain(domain)
        if self.dense is not None:
            if embed:
                self.dense.update(changed, removed)
            else:
                self.dense.expect(changed, removed)

    def search(
        self,
        text: str,
        eligible: npt.NDArray[np.bool_],
        limit: int,
        *,
        pool: int = POOL,
        council: str | None = None,
    ) -> Explained:
        """Rank the eligible slots for ``text`` and decide what to do with the ranking.

        ``council`` is the asker's: only the article text their council sees counts for
        the semantic re-scoring of the best candidates.
        """
        query = build_query(text[:MAX_QUERY_CHARS], self.lexical, self.synonyms, self.speller)
        topic = names_a_topic(text, query)
        if topic:
            query = on_topic(query)
        n = self.n_slots
        eligible = eligible[:n] if len(eligible) >= n else np.pad(eligible, (0, n - len(eligible)))
        scores: dict[str, npt.NDArray[np.float32]] = {"lexical": self.lexical.score(query.weights)}
        if self.dense is not None and text.strip():
            scores["semantic"] = self._semantic(query, scores["lexical"], eligible, pool, council)
        candidates = fuse(scores, eligible, pool=pool)
        if candidates:
            # fuzzy title/question similarity: a fusion signal when weighted, else only
            # a decision signal for the best few
            norm = normalise(text[:MAX_QUERY_CHARS])
            n_fuzzy = FUZZY_POOL if WEIGHTS["fuzzy"] > 0 else 3
            head, rest = candidates[:n_fuzzy], candidates[n_fuzzy:]
            sims = {c.slot: similarity(norm, self._fuzzy_texts[c.slot]) for c in head}
            candidates = add_score(head, "fuzzy", sims, weight=WEIGHTS["fuzzy"]) + rest
        result, features = self._decide(text, query, candidates, scores, eligible, limit, topic)
        return Explained(result, query, features)

    def semantic_text(self, text: str) -> str | None:
        """What the embeddings see of ``text`` in :meth:`search` (its spelling corrected),
        or ``None`` when this index has no embeddings or the text is blank."""
        if self.dense is None or not text.strip():
            return None
        query = build_query(text[:MAX_QUERY_CHARS], self.lexical, self.synonyms, self.speller)
        return query.corrected_text

    def _semantic(
        self,
        query: Query,
        lexical: npt.NDArray[np.float32],
        eligible: npt.NDArray[np.bool_],
        pool: int,
        council: str | None,
    ) -> npt.NDArray[np.float32]:
        """Semantic scores: each retriever's best ``pool`` re-scored on all their vectors
        (phrasings and passages, :meth:`DenseIndex.rescore`); every other slot gets an
        estimate, its whole-article cosine plus the candidates' median lift, so that
        fusion's rescaling sees the same range as if every slot had been re-scored.
        Slots whose vectors are still being computed get :func:`stand_in` scores."""
        assert self.dense is not None
        whole = self.dense.score(query.corrected_text, self.n_slots)
        waiting = self.dense.waiting_mask(self.n_slots)
        ready = eligible if waiting is None else eligible & ~waiting
        floor = float(np.min(whole)) - 1.0
        best = np.union1d(top_slots(whole, ready, pool, floor), top_slots(lexical, ready, pool))
        out = whole
        if len(best):
            rescored = self.dense.rescore(query.corrected_text, whole, best.tolist(), council)
            out = whole + np.float32(np.median(rescored - whole[best]))
            out[best] = rescored
        if waiting is not None:
            stand_in(out, lexical, eligible, ready)
        return out

    def _pair_share(self, query: Query, slot: int) -> float:
        """Share of the question's word pairs (that any article has) the ``slot`` has."""
        pairs = [k for k in query.weights if k & PAIR_FLAG]
        if not pairs:
            return 0.0
        row = np.array([slot], np.int32)
        found = sum(bool(self.lexical.contains_any(row, (k,))[0]) for k in pairs)
        return found / len(pairs)

    def _decide(
        self,
        text: str,
        query: Query,
        candidates: list[Candidate],
        scores: Mapping[str, npt.NDArray[np.float32]],
        eligible: npt.NDArray[np.bool_],
        limit: int,
        topic: bool,
    ) -> tuple[SearchResult, dict[str, float]]:
        share = it_share(query)
        unknown = self._unknown_codes(query)
        if not candidates:
            return SearchResult(text, "decline", 0.0, [], it_share=share, unknown_codes=unknown), {}
        top = candidates[: max(limit, 3)]
        rows = np.array([c.slot for c in top], np.int32)
        cover = coverage(query, self.lexical, rows)
        max_lex = sum(w * self.lexical.idf(t) for t, w in query.weights.items()) or 1.0
        for cand, cov in zip(top, cover.tolist(), strict=True):
            cand.parts["coverage"] = cov
        best = top[0]
        mass = query.mass or 1.0
        features = {
            "coverage": best.parts["coverage"],
            "lexical": best.parts.get("lexical", 0.0) / max_lex,
            "unknown": sum(s.idf for s in query.slots if not s.keys) / mass,
            "fuzzy": best.parts.get("fuzzy", 0.0),
            "gap": (best.fused - top[1].fused) / best.fused if len(top) > 1 else 1.0,
            "off_topic_words": similarity(normalise(text[:MAX_QUERY_CHARS]), self._off_topic_words),
            "agree": float(
                best.parts.get("lexical_rank") == 1.0
                and best.parts.get("semantic_rank", 1.0) == 1.0
            ),
        }
        if self.dense is None:
            # lexical-only signals (the hybrid model declines by cosine to known requests)
            features["it_share"] = share
            features["everyday"] = everyday_share(query)
            features["general"] = general_share(query, self.lexical)
            features["pairs"] = self._pair_share(query, best.slot)
        if "semantic" in scores:
            features["semantic"] = best.parts.get("semantic", 0.0)
            sem = scores["semantic"]
            features["semantic_max"] = float(np.max(np.where(eligible, sem, -1.0)))
            assert self.dense is not None
            features["off_topic"] = self.dense.off_topic(query.corrected_text)
        verdict = decide(features, [c.fused for c in top], self.calibration, topic=topic)
        hits = [Hit(self.articles[c.slot], c.fused, dict(c.parts)) for c in top[:limit]]
        if unknown:
            # only error codes no article has ("AADSTS12345"): whatever ranks first is
            # a guess from the code's shape, so the desk is offered instead of guesses
            verdict = Verdict("decline", verdict.confidence, 0)
        result = SearchResult(
            text, verdict.decision, verdict.confidence, hits, verdict.n_choices, share, unknown
        )
        return result, features

    def _unknown_codes(self, query: Query) -> tuple[str, ...]:
        """The question's error codes no article has, in either form (0x8004010f or
        8004010f), when they are all it says; empty when an article has any of them or
        the question describes the problem in other words too."""
        if not query.codes or any(self.lexical.word_key(c) >= 0 for c in query.codes):
            return ()
        if not all(s.word in ERROR_TALK for s in query.slots):
            return ()
        return tuple(c for c in query.codes if f"0x{c}" not in query.codes)
