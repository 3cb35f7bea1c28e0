"""Which files under a knowledge base folder are articles, with the stamp that says they changed.

Never leaves the folder: a linked folder whose target is outside it is not entered (a linked
file outside it is listed, and :mod:`knowledge.safety` reports it unread).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

Stamp = tuple[int, int, int]


def article_files(root: Path) -> Iterator[tuple[str, Stamp]]:
    """Every article file under ``root`` with its change stamp.

    Hidden files and folders (``.git``) and ``README.md`` files are skipped.
    """
    stack = [str(root)]
    seen: set[str] = set()
    while stack:
        folder = stack.pop()
        real = os.path.realpath(folder)
        if real in seen:  # a symlink loop, or the same folder linked twice
            continue
        seen.add(real)
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=True):
                if entry.is_symlink() and not _inside(entry.path, root):
                    continue  # a linked folder outside the knowledge base: never followed
                stack.append(entry.path)
            elif entry.name.lower().endswith(".md") and entry.name.lower() != "readme.md":
                try:
                    st = entry.stat()
                except OSError:
                    continue
                yield entry.path, (st.st_mtime_ns, st.st_size, st.st_ino)


def _inside(path: str, root: Path) -> bool:
    real, inside = os.path.realpath(path), os.path.realpath(root)
    return os.path.commonpath([real, inside]) == inside
