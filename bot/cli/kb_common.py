"""What the ``itbot kb`` sub-commands share: the ``--kb`` and ``--semantic`` options, loading
the knowledge base, and checking a ``--council`` key."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot import facts
from bot.settings import SemanticMode, Settings
from knowledge import KnowledgeBase, bundled_root

SEMANTIC_CHOICES = ("auto", "on", "off")


def kb_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kb",
        type=Path,
        metavar="DIR",
        help="knowledge base folder (default: ITBOT_KB_PATH or the bundled one)",
    )


def semantic_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--semantic",
        choices=SEMANTIC_CHOICES,
        help="sentence embeddings: auto, on or off (default: ITBOT_SEMANTIC)",
    )


def load(args: argparse.Namespace, settings: Settings, semantic: SemanticMode) -> KnowledgeBase:
    root: Path = args.kb or settings.kb_path or bundled_root()
    if not root.is_dir():
        raise SystemExit(f"itbot kb: {root} is not a folder")
    return KnowledgeBase.load(
        root,
        councils=[c.key for c in settings.councils],
        placeholders=facts.NAMES,
        cache_dir=settings.cache_dir,
        semantic=semantic,
    )


def mode(args: argparse.Namespace, settings: Settings) -> SemanticMode:
    chosen: SemanticMode = args.semantic or settings.semantic
    return chosen


def council_key(args: argparse.Namespace, settings: Settings) -> str | None:
    council: str | None = args.council
    keys = [c.key for c in settings.councils]
    if council is not None and council not in keys:
        raise SystemExit(f"itbot kb: unknown council {council!r} (known: {', '.join(keys)})")
    return council
