"""Article stubs: a new article file for a cluster of unanswered questions.

An editor picks a cluster from the knowledge gaps (``itbot kb gaps`` or the dashboard's
Knowledge gaps page) and gets a file in the knowledge base's ``drafts/`` folder with the
front matter filled in: a title from the cluster's lead phrasing, the owner, a review
date, the councils whose staff asked, and ``questions:`` from the cluster's phrasings.
The body says what to write. The stub is **not served** until the editor sets
``valid_from`` (it starts far in the future), so staff never see a half-written answer,
and ``itbot kb check`` passes on it as written.

>>> from collections import Counter
>>> at = datetime.datetime(2026, 12, 6, 9, 0, tzinfo=datetime.UTC)
>>> gap = Gap("use-microfiche-abc123", ["how do I use the microfiche reader?"], 2,
...           Counter({"dacorum": 2}), Counter({"declined": 2}), at, at)
>>> print(stub_text(gap, owner="kb@dacorum.gov.uk", today=at.date()).split("---")[1])
<BLANKLINE>
title: How do I use the microfiche reader
owner: kb@dacorum.gov.uk
review_by: 2027-01-25
councils: [dacorum]
questions:
  - how do I use the microfiche reader?
# a draft: not served until valid_from is today or earlier (set it when it is written)
valid_from: 2099-12-31
<BLANKLINE>
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import yaml

from bot.conversation.gaps import Gap
from bot.errors import ItBotError

#: Where stubs are written, under the knowledge base folder.
DRAFTS = "drafts"
#: A stub's review date: this long after it is written.
REVIEW_AFTER = datetime.timedelta(days=50)
#: A stub is not served before this date, so staff never see it half-written.
DRAFT_UNTIL = datetime.date(2099, 12, 31)


class StubError(ItBotError):
    """The stub could not be written; ``str()`` says why and what to do."""


def stub_text(gap: Gap, *, owner: str, today: datetime.date) -> str:
    """The new article's markdown: front matter from ``gap``, and a body to complete."""
    lead = gap.phrasings[0].strip().rstrip("?.! ")
    title = lead[:1].upper() + lead[1:]
    councils = sorted(gap.councils)
    lines = [
        "---",
        f"title: {_scalar(title)}",
        f"owner: {_scalar(owner)}",
        f"review_by: {(today + REVIEW_AFTER).isoformat()}",
        f"councils: [{', '.join(councils)}]",
        "questions:",
        *(f"  - {_scalar(p)}" for p in gap.phrasings),
        "# a draft: not served until valid_from is today or earlier (set it when it is written)",
        f"valid_from: {DRAFT_UNTIL.isoformat()}",
        "---",
        "",
        f"> **Draft (delete this note):** staff asked this {gap.count} times and no article "
        "answered it. Write the answer below, add a summary, tags and products, then set "
        "valid_from.",
        "",
        "Write the steps here.",
        "",
    ]
    return "\n".join(lines)


def _scalar(text: str) -> str:
    """``text`` as a one-line YAML scalar, quoted only when YAML needs it."""
    flat = " ".join(text.replace("-->", "- ->").split())
    dumped = yaml.safe_dump(flat, default_style=None, width=10_000, allow_unicode=True)
    return dumped.removesuffix("\n...\n").strip()


def write_stub(root: Path | None, gap: Gap, *, owner: str, today: datetime.date) -> Path:
    """Write ``gap``'s stub under ``root``/drafts; the new file's path.

    Never overwrites a file. Raises :class:`StubError` when there is no knowledge base
    folder, it can't be written, or the stub is there already.
    """
    if root is None:
        raise StubError(
            "No knowledge base folder is set (ITBOT_KB_PATH), so there is nowhere to write "
            "a new article: the bundled articles are read-only."
        )
    if not root.is_dir():
        raise StubError(f"The knowledge base folder {root} does not exist.")
    path = root / DRAFTS / f"{gap.id}.md"
    if path.exists():
        raise StubError(f"{path} already exists: edit it, or move it and try again.")
    text = stub_text(gap, owner=owner, today=today)
    try:
        path.parent.mkdir(exist_ok=True)
        # "x": fail rather than overwrite a file written since the check above
        with path.open("x", encoding="utf-8") as fh:
            fh.write(text)
    except FileExistsError as exc:
        raise StubError(f"{path} already exists: edit it, or move it and try again.") from exc
    except OSError as exc:
        raise StubError(
            f"Can't write to the knowledge base folder {root} "
            f"({exc.strerror or exc.__class__.__name__})."
        ) from exc
    return path


def writable(root: Path | None) -> str | None:
    """Why stubs can't be written under ``root`` now, or ``None`` when they can."""
    if root is None:
        return (
            "No knowledge base folder is set (ITBOT_KB_PATH): the bundled articles are "
            "read-only, so stubs can't be written."
        )
    drafts = root / DRAFTS
    target = drafts if drafts.is_dir() else root
    if not os.access(target, os.W_OK | os.X_OK):
        return f"The knowledge base folder {target} is read-only, so stubs can't be written."
    return None
