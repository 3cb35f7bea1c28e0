"""What an article file may not contain, and where it may not lead.

Checked while loading, reported with file and line like every other problem:

- a file over :data:`MAX_ARTICLE_BYTES` is not read (a chat reply could never carry it);
- a symlink whose target is outside the knowledge base folder is not followed;
- NUL bytes make the file unusable (no database or terminal stores them faithfully);
- raw HTML is shown as text, never rendered (a warning: the editor meant something else);
- ``javascript:``, ``vbscript:`` and ``data:`` links are refused (an error);
- a relative link that climbs out of the folder (``../../etc/passwd``) is an error.

>>> [p.message for p in body_problems(Path("kb/a.md"), "a", "see [x](javascript:alert(1))", 5)]
["unsafe link 'javascript:alert(1)'"]
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

from knowledge.problems import Problem

#: the largest article file read (bytes); a bigger one is reported and not served
MAX_ARTICLE_BYTES = 200 * 1024

#: ``[text](target)``, images too, and reference definitions ``[id]: target``
_LINK_RE = re.compile(
    r"!?\[[^\]]*\]\(\s*<?((?:[^()\s>]|\([^()\s]*\))*)>?(?:\s+[\"'][^\"']*[\"'])?\s*\)"
)
_REF_RE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
_AUTOLINK_RE = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.-]*:[^<>\s]*)>")
_UNSAFE_SCHEME = re.compile(r"^\s*(javascript|vbscript|data)\s*:", re.IGNORECASE)
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_HTML_TAGS = (
    "a|abbr|audio|b|base|blockquote|body|br|button|center|code|details|div|em|embed|font|form|"
    "frame|frameset|h[1-6]|head|hr|html|i|iframe|img|input|label|li|link|math|meta|object|ol|"
    "option|p|pre|script|select|source|span|strong|style|sub|summary|sup|svg|table|tbody|td|"
    "textarea|th|thead|title|tr|u|ul|video"
)
_HTML_RE = re.compile(rf"<!--|</?(?:{_HTML_TAGS})(?:\s[^<>]*)?/?>", re.IGNORECASE)
_CODE_SPAN = re.compile(r"(`+).*?\1")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


def file_problem(path: Path, root: Path) -> Problem | None:
    """Why the file at ``path`` must not be read at all, else ``None`` (never follows a link
    out of ``root``, never reads a byte)."""
    try:
        real, inside = os.path.realpath(path), os.path.realpath(root)
        if os.path.commonpath([real, inside]) != inside:
            return Problem(
                path,
                1,
                "error",
                "a symlink to a file outside the knowledge base: not read",
                "copy the article into the folder instead of linking to it",
            )
        size = os.stat(path).st_size
    except (OSError, ValueError):
        return None  # reading it reports the error
    if size > MAX_ARTICLE_BYTES:
        return Problem(
            path,
            1,
            "error",
            f"{size // 1024} KB is over the {MAX_ARTICLE_BYTES // 1024} KB limit: not served",
            "split it into shorter articles",
        )
    return None


def nul_line(text: str) -> int | None:
    """The 1-based line of the first NUL character in ``text``, if any."""
    at = text.find("\x00")
    return None if at < 0 else text.count("\n", 0, at) + 1


def body_problems(path: Path, article_id: str, body: str, body_line: int) -> Iterator[Problem]:
    """Raw HTML, unsafe links and links out of the folder in an article's ``body``."""
    fence: str | None = None
    for offset, line in enumerate(body.splitlines()):
        number = body_line + offset
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        if line.startswith(("    ", "\t")):
            continue  # an indented code block (or a list's continuation: no HTML there either)
        prose = _CODE_SPAN.sub("", line)
        tag = _HTML_RE.search(prose)
        if tag:
            yield Problem(
                path,
                number,
                "warning",
                f"raw HTML '{tag.group()[:40]}' is shown as text, not rendered",
                "write it in markdown",
            )
        hrefs = [m.group(1) for m in _LINK_RE.finditer(prose)]
        hrefs += [m.group(1) for m in _AUTOLINK_RE.finditer(prose)]
        ref = _REF_RE.match(prose)
        if ref:
            hrefs.append(ref.group(1))
        for href in hrefs:
            yield from _link_problems(path, article_id, href, number)


def _link_problems(path: Path, article_id: str, href: str, line: int) -> Iterator[Problem]:
    clean = unquote(href).replace("\\", "/")
    if _UNSAFE_SCHEME.match(clean):
        yield Problem(
            path,
            line,
            "error",
            f"unsafe link '{href[:60]}'",
            "link to an https:// page or another article",
        )
        return
    clean = clean.split("#", 1)[0].split("?", 1)[0]
    if not clean or clean.startswith("/") or _SCHEME_RE.match(clean):
        return
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(article_id), clean))
    if joined == ".." or joined.startswith("../"):
        yield Problem(
            path,
            line,
            "error",
            f"link '{href[:60]}' leads outside the knowledge base",
            "link only to articles and files inside the folder",
        )
