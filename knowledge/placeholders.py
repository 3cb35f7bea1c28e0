"""Placeholders in article text: ``{{ desk.hours }}`` stands for a fact the application knows.

The knowledge base only finds and fills placeholders; which names exist, and what they
say for each council, is the application's business (the bot renders them when it shows
an article, from its settings). A name the application doesn't know is reported with its
file and line by ``itbot kb check``.

>>> list(find("Open {{ desk.hours }}.\\nCall {{desk.phone}}."))
[(0, 'desk.hours'), (1, 'desk.phone')]
>>> fill("Open {{ desk.hours }}.", {"desk.hours": "Monday to Friday, 08:30 to 17:00"})
'Open Monday to Friday, 08:30 to 17:00.'
>>> fill("Call {{ desk.fax }}.", {})   # unknown names are left for the check to report
'Call {{ desk.fax }}.'
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterator, Mapping

#: ``{{ name }}`` or ``{{ name.part }}``, spaces optional inside the braces.
PLACEHOLDER_RE = re.compile(r"\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}")


def find(text: str) -> Iterator[tuple[int, str]]:
    """``(line offset, name)`` of every placeholder in ``text``."""
    for offset, line in enumerate(text.splitlines()):
        for match in PLACEHOLDER_RE.finditer(line):
            yield offset, match.group(1)


def fill(text: str, facts: Mapping[str, str]) -> str:
    """``text`` with each known placeholder replaced by its fact."""
    if "{{" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        return facts.get(match.group(1), match.group(0))

    return PLACEHOLDER_RE.sub(one, text)


def hint(name: str, known: Collection[str]) -> str:
    """What to write instead of an unknown placeholder ``name``.

    >>> hint("desk.hour", ["desk.hours", "desk.phone"])
    'did you mean {{ desk.hours }}?'
    """
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    if close:
        return f"did you mean {{{{ {close[0]} }}}}?"
    if not known:
        return "this knowledge base has no placeholders"
    return "known: " + ", ".join(f"{{{{ {k} }}}}" for k in sorted(known))
