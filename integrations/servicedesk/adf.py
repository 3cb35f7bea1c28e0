"""Atlassian Document Format (Jira Cloud's rich text) to and from plain text."""

from __future__ import annotations

import re
from typing import Any


def to_adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document: blank lines split paragraphs."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        content: list[dict[str, Any]] = []
        for i, line in enumerate(block.split("\n")):
            if i:
                content.append({"type": "hardBreak"})
            if line:
                content.append({"type": "text", "text": line})
        paragraphs.append({"type": "paragraph", "content": content})
    return {"type": "doc", "version": 1, "content": paragraphs}


_BLOCKS = {"doc": "\n\n", "blockquote": "\n\n", "panel": "\n\n", "expand": "\n\n",
           "bulletList": "\n", "orderedList": "\n", "table": "\n", "tableRow": " | "}  # fmt: skip


def adf_text(node: Any) -> str:
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    parts = [adf_text(child) for child in node.get("content") or []]
    return _BLOCKS.get(str(kind), "").join(part for part in parts if part)
