"""The lexicon: families of words that mean the same thing to the detector (``lexicon.yml``).

Products fill the ``product`` slot; every family (products and concepts) also becomes a feature of
the lexical classifier, so one example mentioning "printer" teaches it about "scanner" too.

>>> lex = Lexicon.from_mapping({"products": {"email": ["outlook"]}, "concepts": {"bye": ["bye"]}})
>>> lex.find("outlook wont open bye")
('bye', 'email')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from intents.text import normalise

#: Products in the order they win when a message mentions several: applications before devices
#: before account words, so "outlook keeps asking for my password" is about email.
PRODUCT_PRIORITY = (
    "teams",
    "calendar",
    "email",
    "documents",
    "browser",
    "mfa",
    "device",
    "mobile",
    "password",
    "sign-in",
)


def _phrase(raw: str) -> str:
    """A lexicon entry in the form messages are matched in ("Wi-Fi" -> "wi fi")."""
    return normalise(raw)


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Word families: ``products`` and ``concepts``, each a name -> set of phrases.

    Matching looks up every run of up to :attr:`longest` words of the normalised message in
    one dictionary, so its cost does not grow with the number of families.
    """

    products: Mapping[str, frozenset[str]]
    concepts: Mapping[str, frozenset[str]]
    #: The text it was read from (part of the shipped model's fingerprint).
    source: str = ""
    _families: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    longest: int = 1

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], source: str = "") -> Lexicon:
        def groups(key: str) -> dict[str, frozenset[str]]:
            return {str(k): frozenset(_phrase(str(w)) for w in v) for k, v in raw[key].items()}

        products, concepts = groups("products"), groups("concepts")
        families: dict[str, list[str]] = {}
        for name, phrases in (*concepts.items(), *products.items()):
            for phrase in phrases:
                families.setdefault(phrase, []).append(name)
        longest = max((len(p.split()) for p in families), default=1)
        return cls(
            products,
            concepts,
            source or repr(raw),
            {p: tuple(names) for p, names in families.items()},
            longest,
        )

    @classmethod
    def bundled(cls) -> Lexicon:
        """The lexicon shipped with the package."""
        text = Path(__file__).with_name("lexicon.yml").read_text(encoding="utf-8")
        return cls.from_mapping(yaml.safe_load(text), text)

    def words(self) -> list[str]:
        """Every word that appears in an entry (for the spelling fixer)."""
        return sorted({w for phrase in self._families for w in phrase.split()})

    def _hits(self, normalised: str) -> list[str]:
        """Family names in order of first mention (a name may repeat)."""
        words = normalised.split()
        hits: list[str] = []
        for start in range(len(words)):
            for end in range(start + 1, min(start + self.longest, len(words)) + 1):
                names = self._families.get(" ".join(words[start:end]))
                if names:
                    hits.extend(names)
        return hits

    def find(self, normalised: str) -> tuple[str, ...]:
        """Names of every family mentioned in ``normalised`` text (concepts, then products)."""
        hits = set(self._hits(normalised))
        return tuple(n for n in (*self.concepts, *self.products) if n in hits)

    def product(self, normalised: str) -> str | None:
        """The product a message is about: the highest in :data:`PRODUCT_PRIORITY`."""
        hits = set(self._hits(normalised)) & self.products.keys()
        for name in PRODUCT_PRIORITY:
            if name in hits:
                return name
        return min(hits) if hits else None
