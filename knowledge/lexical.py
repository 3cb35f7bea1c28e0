"""BM25F over an article's fields, in numpy arrays, with cheap incremental updates.

Terms: every content word (``calendar``), its stem (``~calendar``) and every pair of
neighbouring content words (by stem), so an exact word counts more than the same
stem and a phrase quoted word for word counts more than scattered words. Words and
stems have ids from a dictionary; a pair's id is computed from its two stem ids, so
the many distinct pairs cost no Python objects.

Each slot (document) gets one weight per term, BM25F-style: the field-weighted,
length-normalised frequencies are summed, then saturated (``tf / (k1 + tf)``).
Postings are stored term-sorted in numpy arrays (*segments*); the idf is computed
at query time from the live postings, so a changed article only rebuilds a small
*delta* segment, merged into the main one when it grows past a few per cent.

A slot may be a *shadow*: another view of a document that has its own slot (say, the
text one council's staff see of an article with council variants). Shadows are scored
like any slot but are not counted as documents: they don't change any term's document
frequency, the number of documents, or the average field lengths, so adding views
leaves every other article's scores as they were.

>>> idx = LexicalIndex()
>>> idx.add({0: {"title": "Reset your password"}, 1: {"title": "Book a room", "body": "rooms"}})
>>> q = {idx.word_key("room"): 1.0}
>>> int(idx.score(q).argmax())
1
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from knowledge.text import STOP_WORDS, normalise, stem, strip_markdown

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int32]
KeyArray = npt.NDArray[np.int64]

#: Field name -> (weight, length normalisation b). The body is long and says much besides
#: what the article is about, so it counts for half (better on the staff-phrased
#: development set in both modes, same or better on the external set in hybrid mode).
DEFAULT_FIELDS: dict[str, tuple[float, float]] = {
    "title": (3.0, 0.3),
    "summary": (2.0, 0.5),
    "questions": (2.0, 0.5),
    "tags": (2.0, 0.3),
    "body": (0.5, 0.75),
    # error codes found anywhere in the article (knowledge.text.error_codes): a pasted
    # code is the most specific thing a question can say, wherever the article has it
    "codes": (3.0, 0.0),
}
K1 = 1.2
#: Merge the delta into the main segment when it holds more than this share of slots.
DELTA_SHARE = 0.05
DELTA_MIN = 64
PAIR_FLAG = np.int64(1) << np.int64(62)
_WORD_RE = re.compile(r"[a-z0-9]+")


def _malloc_trim() -> Callable[[], object] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return lambda: trim(0)


_TRIM = _malloc_trim() if sys.platform.startswith("linux") else None


def release_memory() -> None:
    """Hand freed heap memory back to the OS after a big rebuild (glibc keeps it otherwise)."""
    if _TRIM is not None:
        _TRIM()


@dataclass(slots=True)
class _Segment:
    """Postings sorted by term key: ``keys[i]`` owns ``rows[starts[i]:starts[i + 1]]``."""

    keys: KeyArray
    starts: npt.NDArray[np.int64]
    rows: IntArray
    weights: FloatArray

    @classmethod
    def build(cls, keys: KeyArray, rows: IntArray, weights: FloatArray) -> _Segment:
        if len(keys) == 0:
            return cls.empty()
        order = np.argsort(keys, kind="stable")
        keys, rows, weights = keys[order], rows[order], weights[order]
        del order
        bounds = np.flatnonzero(keys[1:] != keys[:-1]) + 1
        starts = np.concatenate([[0], bounds, [len(keys)]]).astype(np.int64)
        return cls(keys[starts[:-1]], starts, rows, weights)

    @classmethod
    def empty(cls) -> _Segment:
        return cls(
            np.zeros(0, np.int64),
            np.zeros(1, np.int64),
            np.zeros(0, np.int32),
            np.zeros(0, np.float32),
        )

    def postings(self, key: int) -> tuple[IntArray, FloatArray] | None:
        i = int(np.searchsorted(self.keys, key))
        if i < len(self.keys) and self.keys[i] == key:
            a, b = self.starts[i], self.starts[i + 1]
            return self.rows[a:b], self.weights[a:b]
        return None

    def flat(self) -> tuple[KeyArray, IntArray, FloatArray]:
        keys = np.repeat(self.keys, np.diff(self.starts))
        return keys, self.rows, self.weights


class LexicalIndex:
    """A BM25F index over numbered slots; each slot is a mapping field -> text."""

    def __init__(self, fields: Mapping[str, tuple[float, float]] | None = None) -> None:
        params = dict(fields or DEFAULT_FIELDS)
        self.fields = tuple(params)
        self._w = np.array([params[f][0] for f in self.fields], np.float32)
        self._b = np.array([params[f][1] for f in self.fields], np.float32)
        self._terms: dict[str, int] = {}
        self._stem_of = np.zeros(1024, np.int32)  # term id -> stem term id (stems: itself)
        self._skip = np.zeros(1024, bool)  # stop word, or not a usable length
        self._lengths = np.zeros((0, len(self.fields)), np.float32)
        self._alive = np.zeros(0, bool)
        self._shadow = np.zeros(0, bool)
        self._n_alive = 0
        self._n_shadows = 0
        self._main = _Segment.empty()
        self._main_stop = 0
        self._delta: dict[int, tuple[KeyArray, FloatArray]] = {}
        self._delta_seg = _Segment.empty()
        self._cache: dict[int, tuple[IntArray, FloatArray, float]] = {}
        self.new_words: list[str] = []  # words first seen by the last add (for the speller)

    # -- analysis ------------------------------------------------------------------------
    def _new_term(self, term: str, skip: bool) -> int:
        tid = self._terms[term] = len(self._terms)
        if tid >= len(self._skip):
            self._skip = np.pad(self._skip, (0, len(self._skip)))
            self._stem_of = np.pad(self._stem_of, (0, len(self._stem_of)))
        self._skip[tid] = skip
        self._stem_of[tid] = tid
        return tid

    def _id(self, token: str) -> int:
        tid = self._terms.get(token)
        if tid is None:
            skip = token in STOP_WORDS or not 2 <= len(token) < 40
            tid = self._new_term(token, skip)
            if not skip:
                stem_term = "~" + stem(token)
                sid = self._terms.get(stem_term)
                if sid is None:
                    sid = self._new_term(stem_term, False)
                self._stem_of[tid] = sid
                if token.isalpha():
                    self.new_words.append(token)
        return tid

    def word_ids(self, text: str) -> IntArray:
        """Ids of the content words of ``text`` (markdown stripped), in order."""
        tokens = _WORD_RE.findall(normalise(strip_markdown(text)))
        terms = self._terms
        unknown = set(tokens).difference(terms)
        for token in sorted(unknown):
            self._id(token)
        ids = list(map(terms.__getitem__, tokens))
        arr = np.array(ids, np.int32)
        return arr[~self._skip[arr]] if len(arr) else arr

    def keys_of(self, ids: IntArray) -> KeyArray:
        """Term keys of content word ids: each word, its stem, each neighbouring pair."""
        if len(ids) == 0:
            return np.zeros(0, np.int64)
        stems = self._stem_of[ids].astype(np.int64)
        pairs = PAIR_FLAG | (stems[:-1] << np.int64(31)) | stems[1:]
        return np.concatenate([ids.astype(np.int64), stems, pairs])

    # -- keys for questions ------------------------------------------------------------------
    def word_key(self, word: str) -> int:
        """Key of ``word`` (-1 if no live article has it)."""
        tid = self._terms.get(word, -1)
        return tid if tid >= 0 and self.df(tid) > 0 else -1

    def stem_key(self, word: str) -> int:
        tid = self._terms.get("~" + stem(word), -1)
        return tid if tid >= 0 and self.df(tid) > 0 else -1

    def pair_key(self, first: str, second: str) -> int:
        a, b = self._terms.get("~" + stem(first)), self._terms.get("~" + stem(second))
        if a is None or b is None:
            return -1
        key = int(PAIR_FLAG | (np.int64(a) << np.int64(31)) | np.int64(b))
        return key if self.df(key) > 0 else -1

    # -- building ------------------------------------------------------------------------
    @property
    def n_slots(self) -> int:
        return len(self._alive)

    @property
    def n_docs(self) -> int:
        """Live documents (shadow slots are views of documents, not documents)."""
        return self._n_alive - self._n_shadows

    def add(
        self,
        changed: Mapping[int, Mapping[str, str]],
        removed: Iterable[int] = (),
        *,
        shadows: Iterable[int] = (),
    ) -> None:
        """Index the ``changed`` slots (field -> text) and retire the ``removed`` ones.

        A changed article should get a new slot (retire the old one via ``removed``):
        slots are never rewritten in place, so the main segment stays untouched.
        The ``shadows`` among ``changed`` are views of a document indexed in another
        slot: searchable, but not counted in document frequencies or lengths.
        """
        self.new_words = []
        self._cache.clear()
        for slot in removed:
            if slot < len(self._alive) and self._alive[slot]:
                self._alive[slot] = False
                self._n_alive -= 1
                if self._shadow[slot]:
                    self._shadow[slot] = False
                    self._n_shadows -= 1
                self._delta.pop(slot, None)
        if not changed:
            if removed:
                self._rebuild_delta()
            return
        analysed = {
            slot: [self.word_ids(fields.get(f, "")) for f in self.fields]
            for slot, fields in changed.items()
        }
        size = max(len(self._alive), max(changed) + 1)
        if size > len(self._alive):
            self._alive = np.pad(self._alive, (0, size - len(self._alive)))
            self._shadow = np.pad(self._shadow, (0, size - len(self._shadow)))
            self._lengths = np.pad(self._lengths, ((0, size - len(self._lengths)), (0, 0)))
        shadow = set(shadows)
        for slot, ids in analysed.items():
            if slot < self._main_stop:
                raise ValueError(f"slot {slot} is in the main segment: use a new slot")
            if not self._alive[slot]:
                self._n_alive += 1
                if slot in shadow:
                    self._n_shadows += 1
            self._alive[slot] = True
            self._shadow[slot] = slot in shadow
            self._lengths[slot] = [len(i) for i in ids]
        avg = self._avg_lengths()
        for slot, ids in analysed.items():
            self._delta[slot] = self._weigh(ids, self._lengths[slot], avg)
        if len(self._delta) > max(DELTA_MIN, DELTA_SHARE * self._n_alive):
            self._merge()
        else:
            self._rebuild_delta()

    def _avg_lengths(self) -> FloatArray:
        live = self._lengths[self._alive & ~self._shadow]
        return np.maximum(live.mean(axis=0) if len(live) else np.ones(len(self.fields)), 1.0)

    def _weigh(
        self, ids: list[IntArray], lengths: FloatArray, avg: FloatArray
    ) -> tuple[KeyArray, FloatArray]:
        """Unique term keys of one document and their saturated BM25F weights."""
        norm = self._w / (1.0 - self._b + self._b * lengths / avg)
        keys = [self.keys_of(field_ids) for field_ids in ids]
        all_keys = np.concatenate(keys)
        per = np.repeat(norm, [len(k) for k in keys])
        uniq, inverse = np.unique(all_keys, return_inverse=True)
        tf = np.bincount(inverse, weights=per, minlength=len(uniq))
        return uniq, (tf / (K1 + tf)).astype(np.float32)

    def _concat(self, slots: list[int]) -> tuple[KeyArray, IntArray, FloatArray]:
        parts = [self._delta[s] for s in slots]
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32)
        sizes = [len(k) for k, _ in parts]
        rows = np.repeat(np.array(slots, np.int32), sizes)
        return (np.concatenate([k for k, _ in parts]), rows, np.concatenate([w for _, w in parts]))

    def _rebuild_delta(self) -> None:
        self._cache.clear()
        self._delta_seg = _Segment.build(*self._concat(sorted(self._delta)))

    def _merge(self) -> None:
        keys, rows, weights = self._main.flat()
        live = self._alive[rows]
        dk, dr, dw = self._concat(sorted(self._delta))
        self._main = _Segment.build(
            np.concatenate([keys[live], dk]),
            np.concatenate([rows[live], dr]),
            np.concatenate([weights[live], dw]),
        )
        self._main_stop = len(self._alive)
        self._delta.clear()
        self._delta_seg = _Segment.empty()
        self._cache.clear()
        release_memory()

    # -- scoring -------------------------------------------------------------------------
    def lookup(self, key: int) -> tuple[IntArray, FloatArray, float]:
        """Live postings of ``key`` (rows, weights) and its document frequency."""
        found = self._cache.get(key)
        if found is None:
            parts = [p for seg in (self._main, self._delta_seg) if (p := seg.postings(key))]
            if not parts:
                found = (np.zeros(0, np.int32), np.zeros(0, np.float32), 0.0)
            else:
                rows = np.concatenate([r for r, _ in parts]) if len(parts) > 1 else parts[0][0]
                weights = np.concatenate([w for _, w in parts]) if len(parts) > 1 else parts[0][1]
                live = self._alive[rows]
                if not live.all():
                    rows, weights = rows[live], weights[live]
                df = (
                    len(rows) - int(np.count_nonzero(self._shadow[rows]))
                    if self._n_shadows
                    else len(rows)
                )
                found = (rows, weights, float(df))
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = found
        return found

    def df(self, key: int) -> float:
        return self.lookup(key)[2] if key >= 0 else 0.0

    def idf(self, key: int) -> float:
        """BM25 inverse document frequency (Lucene's, never negative)."""
        n = max(self.n_docs, 1)
        df = self.df(key)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def max_idf(self) -> float:
        """The idf of a term no document has: what an unknown question word is worth."""
        n = max(self.n_docs, 1)
        return math.log(1.0 + (n + 0.5) / 0.5)

    def score(self, query: Mapping[int, float]) -> FloatArray:
        """BM25F score of every slot for ``{term key: query weight}``."""
        rows_parts: list[IntArray] = []
        weight_parts: list[FloatArray] = []
        for key, qw in query.items():
            if key < 0:
                continue
            rows, weights, _ = self.lookup(key)
            if len(rows):
                rows_parts.append(rows)
                weight_parts.append(weights * np.float32(qw * self.idf(key)))
        if not rows_parts:
            return np.zeros(self.n_slots, np.float32)
        return np.bincount(
            np.concatenate(rows_parts),
            weights=np.concatenate(weight_parts),
            minlength=self.n_slots,
        ).astype(np.float32)

    def contains_any(self, rows: IntArray, keys: Iterable[int]) -> npt.NDArray[np.bool_]:
        """For each slot in ``rows``: whether it has any of the term ``keys``."""
        hit = np.zeros(self.n_slots, bool)
        for key in keys:
            if key >= 0:
                hit[self.lookup(key)[0]] = True
        return hit[rows]
