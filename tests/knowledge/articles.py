"""A small knowledge base written to a folder: the knowledge tests' articles, as files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def write_articles(root: Path, articles: Mapping[str, str]) -> Path:
    """Write each ``{relative path: markdown}`` under ``root``; returns ``root``."""
    for name, text in articles.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
