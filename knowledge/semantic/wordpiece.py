"""BERT's uncased WordPiece tokenizer in plain Python, matching the model's tokenizer.json.

It reproduces the Hugging Face ``tokenizers`` pipeline all-MiniLM-L6-v2 ships with:
``BertNormalizer`` (drop control characters, map white space to a space, pad CJK
ideographs, strip accents, lower-case), ``BertPreTokenizer`` (split on white space, isolate
punctuation), greedy longest-match-first ``WordPiece`` with ``##`` continuations and
``[UNK]`` for words it cannot spell, and ``[CLS] ... [SEP]`` around at most
``max_length`` tokens, as sentence-transformers truncates. The test suite checks it
token-for-token against ``tokenizers`` whenever that package is installed.

>>> tok = WordPiece(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "cal", "##end", "##ar", "!"])
>>> tok.tokenize("Calendar!")
['cal', '##end', '##ar', '!']
>>> tok.encode("Calendar!")
[2, 4, 5, 6, 7, 3]
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Sequence

#: Characters Rust's ``char::is_whitespace`` accepts that survive control-character removal.
_WHITESPACE = frozenset(
    " \t\n\r\u00a0\u1680\u2028\u2029\u202f\u205f\u3000"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
)
_KEEP_CONTROL = frozenset("\t\n\r")

#: CJK ideograph blocks that BertNormalizer surrounds with spaces.
_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B920, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)

#: ASCII characters BERT treats as punctuation although Unicode calls some of them symbols.
_ASCII_PUNCT = frozenset(chr(c) for c in [*range(33, 48), *range(58, 65), *range(91, 97)])
_ASCII_PUNCT |= frozenset(chr(c) for c in range(123, 127))

_MAX_WORD_CHARS = 100
_WORD_CACHE_LIMIT = 100_000


def _is_cjk(code: int) -> bool:
    return any(low <= code <= high for low, high in _CJK_RANGES)


def _is_punct(char: str) -> bool:
    return char in _ASCII_PUNCT or unicodedata.category(char).startswith("P")


def normalize(text: str) -> str:
    """BertNormalizer with ``lowercase=True`` and accent stripping (its default then)."""
    if text.isascii():
        # Fast path: no accents or CJK; control characters are the only thing to clean.
        if not text.isprintable():
            text = "".join(
                " " if c in _WHITESPACE else c
                for c in text
                if c in _KEEP_CONTROL or c.isprintable()
            )
        return text.lower()
    chars: list[str] = []
    for char in text:
        code = ord(char)
        if code in (0, 0xFFFD):
            continue
        if char in _WHITESPACE:
            chars.append(" ")
        elif unicodedata.category(char).startswith("C"):
            continue
        elif _is_cjk(code):
            chars.extend((" ", char, " "))
        else:
            chars.append(char)
    decomposed = unicodedata.normalize("NFD", "".join(chars))
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    # The Rust tokenizer lower-cases one character at a time, so a word-final capital
    # sigma becomes "σ"; str.lower() would apply the final-sigma rule and give "ς".
    return stripped.replace("\u03a3", "\u03c3").lower()


def pre_tokenize(text: str) -> list[str]:
    """Split normalised text on white space and isolate every punctuation character."""
    words: list[str] = []
    for chunk in text.split():
        if chunk.isalnum():
            words.append(chunk)
            continue
        start = 0
        for i, char in enumerate(chunk):
            if _is_punct(char):
                if start < i:
                    words.append(chunk[start:i])
                words.append(char)
                start = i + 1
        if start < len(chunk):
            words.append(chunk[start:])
    return words


class WordPiece:
    """Text to token ids for an uncased BERT vocabulary (one token per line, id = line)."""

    def __init__(self, vocab: Sequence[str], *, max_length: int = 256) -> None:
        self._ids = {token: i for i, token in enumerate(vocab)}
        self.unk_id = self._ids["[UNK]"]
        self.cls_id = self._ids["[CLS]"]
        self.sep_id = self._ids["[SEP]"]
        self.pad_id = self._ids["[PAD]"]
        self.max_length = max_length
        self._tokens = list(vocab)
        self._word_cache: dict[str, tuple[int, ...]] = {}
        self._lock = threading.Lock()

    def _word_ids(self, word: str) -> tuple[int, ...]:
        cached = self._word_cache.get(word)
        if cached is not None:
            return cached
        ids = self._spell(word)
        with self._lock:
            if len(self._word_cache) >= _WORD_CACHE_LIMIT:
                self._word_cache.clear()
            self._word_cache[word] = ids
        return ids

    def _spell(self, word: str) -> tuple[int, ...]:
        if len(word) > _MAX_WORD_CHARS:
            return (self.unk_id,)
        vocab = self._ids
        pieces: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = vocab.get(piece)
                if found is not None:
                    pieces.append(found)
                    break
                end -= 1
            else:
                return (self.unk_id,)
            start = end
        return tuple(pieces)

    def encode(self, text: str) -> list[int]:
        """Token ids with ``[CLS]`` and ``[SEP]``, at most ``max_length`` in all."""
        budget = self.max_length - 2
        ids = [self.cls_id]
        for word in pre_tokenize(normalize(text)):
            ids.extend(self._word_ids(word))
            if len(ids) > budget:
                del ids[budget + 1 :]
                break
        ids.append(self.sep_id)
        return ids

    def tokenize(self, text: str) -> list[str]:
        """The word pieces of ``text`` (no special tokens, no truncation), for reading."""
        return [
            self._tokens[i] for word in pre_tokenize(normalize(text)) for i in self._word_ids(word)
        ]
