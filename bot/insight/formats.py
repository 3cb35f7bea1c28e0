"""The report as CSV (for finance) and as flat (figure, value) pairs, from the one dict.

The CSV has one row per figure: ``council,figure,value``, the figure named by its path in
the JSON (``deflection.confirmed``, ``sla_attainment.response.P1.percent``,
``top_articles.reset-password.answers``), the ``all`` block last. An empty value is a
figure with nothing to measure (a percentage of no tickets).

>>> print(to_csv(report))                                           # doctest: +SKIP
council,figure,value
dacorum,conversations,3
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

ALL = "all"


def figures(block: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every figure of one council's block as (path, value)."""
    for name, value in block.items():
        path = f"{prefix}{name}"
        if isinstance(value, dict):
            yield from figures(value, f"{path}.")
        elif isinstance(value, list):
            for item in value:
                key = item.get("article") or item.get("topic")
                for field, inner in item.items():
                    if field not in ("article", "topic"):
                        yield f"{path}.{key}.{field}", inner
        else:
            yield path, value


def rows(report: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(council, figure, value) for every council, then ``all``."""
    for key, block in report["councils"].items():
        for path, value in figures(block):
            yield key, path, value
    for path, value in figures(report["all"]):
        yield ALL, path, value


def to_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("council", "figure", "value"))
    for key, path, value in rows(report):
        # a value never starts a formula in a spreadsheet (figures are numbers; ids are ours)
        text = "" if value is None else str(value)
        if text[:1] in ("=", "+", "@"):
            text = "'" + text
        writer.writerow((key, path, text))
    return out.getvalue()
