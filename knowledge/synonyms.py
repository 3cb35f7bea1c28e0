"""Staff wording -> knowledge-base wording ("diary" -> "calendar", "log on" -> "sign in").

Phrases are matched on word stems, so word endings don't matter.

>>> syn = Synonyms.from_mapping({"calendar": ["diary"], "sign in": ["log on"]})
>>> syn.expand(["my", "diaries", "wont", "log", "on"])
[(1, 2, 'calendar'), (3, 5, 'sign in')]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from knowledge.text import stem, words


class Synonyms:
    """A phrase table: stemmed staff phrase -> knowledge-base phrase."""

    def __init__(self, table: Mapping[tuple[str, ...], str]) -> None:
        self._table = dict(table)
        self._longest = max((len(k) for k in self._table), default=0)
        self._firsts = {k[0] for k in self._table}

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Sequence[str]]) -> Synonyms:
        table: dict[tuple[str, ...], str] = {}
        for canonical, variants in mapping.items():
            for variant in variants:
                key = tuple(stem(w) for w in words(str(variant)))
                if key and key != tuple(stem(w) for w in words(canonical)):
                    table.setdefault(key, str(canonical))
        return cls(table)

    @classmethod
    def from_file(cls, path: Path) -> Synonyms:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected 'wording: [phrases]' lines")
        return cls.from_mapping({str(k): [str(v) for v in vs or ()] for k, vs in data.items()})

    def __len__(self) -> int:
        return len(self._table)

    def expand(self, tokens: Sequence[str]) -> list[tuple[int, int, str]]:
        """``(start, stop, wording)`` for each phrase found in ``tokens`` (longest first)."""
        stems = [stem(t) for t in tokens]
        found: list[tuple[int, int, str]] = []
        i = 0
        while i < len(stems):
            hit = None
            if stems[i] in self._firsts:
                for n in range(min(self._longest, len(stems) - i), 0, -1):
                    canonical = self._table.get(tuple(stems[i : i + n]))
                    if canonical is not None:
                        hit = (i, i + n, canonical)
                        break
            if hit is None:
                i += 1
            else:
                found.append(hit)
                i = hit[1]
        return found


@cache
def default_synonyms() -> Synonyms:
    """The synonyms shipped in ``knowledge/synonyms.yml``."""
    source = resources.files("knowledge").joinpath("synonyms.yml")
    data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    return Synonyms.from_mapping({str(k): [str(v) for v in vs or ()] for k, vs in data.items()})
