"""Is a question about IT at all? Word families from ``knowledge/domains.yml``.

Lexical search alone can't tell "book me a table for lunch" from "book a meeting room":
both share words with some article. What the words are about can: IT vocabulary
(:func:`it_vocabulary`) against the everyday families an IT service desk doesn't serve
(:func:`everyday_words`: weather, food, travel, money, health, HR and facilities, home and
leisure, general knowledge, small talk).

>>> is_everyday("lunch"), is_everyday("recipes"), is_everyday("outlook")
(True, True, False)
>>> "printer" in it_vocabulary(), "book" in it_vocabulary(), "busy" in it_vocabulary()
(True, False, False)
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from knowledge.fuzzy import it_words


@cache
def _domains() -> dict[str, object]:
    text = resources.files("knowledge").joinpath("domains.yml").read_text(encoding="utf-8")
    data: dict[str, object] = yaml.safe_load(text)
    return data


@cache
def everyday_words() -> frozenset[str]:
    """Words of the everyday families (``everyday:`` in ``domains.yml``), minus IT vocabulary."""
    families = _domains()["everyday"]
    assert isinstance(families, dict)
    found = {str(w).lower() for words in families.values() for w in words}
    return frozenset(found - it_vocabulary())


@cache
def it_vocabulary() -> frozenset[str]:
    """IT vocabulary (:func:`knowledge.fuzzy.it_words`) without the everyday words that only
    mean IT inside a phrase (``not_it_alone:`` in ``domains.yml``: "book", "free", "busy")."""
    alone = _domains()["not_it_alone"]
    assert isinstance(alone, list)
    return it_words() - {str(w).lower() for w in alone}


def _forms(word: str) -> tuple[str, ...]:
    return (word, word[:-1]) if word.endswith("s") and len(word) > 3 else (word,)


def is_everyday(word: str) -> bool:
    """Whether ``word`` (or its singular) belongs to an everyday, non-IT family."""
    known = everyday_words()
    return any(f in known for f in _forms(word))


def is_it_word(word: str) -> bool:
    """Whether ``word`` (or its singular) is IT vocabulary."""
    known = it_vocabulary()
    return any(f in known for f in _forms(word))
