"""Article markdown → Slack mrkdwn, with everything else escaped.

Slack's mrkdwn knows ``*bold*``, ``_italic_``, ``~strike~``, `` `code` ``, fenced code,
``>`` quotes and ``<url|label>`` links; only ``&``, ``<`` and ``>`` need escaping. Headings
become bold lines and bullets become "•". Relative links between articles are resolved to
the bot's article pages by ``resolve``; links that cannot be resolved keep only their text.

>>> to_mrkdwn("## Steps\\n1. Open **Outlook** & go to [Settings](https://outlook.office.com)")
'*Steps*\\n1. Open *Outlook* &amp; go to <https://outlook.office.com|Settings>'
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.render import mrkdwn_escape

Resolve = Callable[[str], str | None]

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^(\s*)(\d{1,3})[.)]\s+(.*)$")
_QUOTE = re.compile(r"^\s{0,3}>\s?(.*)$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_INLINE = re.compile(
    r"(?P<code>`[^`\n]+`)"
    r"|(?P<link>!?\[(?P<label>[^\]\n]*)\]\((?P<href>[^)\s]+)(?:\s+\"[^\"]*\")?\))"
    r"|(?P<auto><(?P<autohref>https?://[^>\s]+)>)"
    r"|(?P<strong>\*\*|__)(?P<strongtext>.+?)(?P=strong)"
    r"|(?<![\w*])\*(?!\s)(?P<em>[^*\n]+?)(?<!\s)\*(?!\w)"
    r"|(?<![\w_])_(?!\s)(?P<em2>[^_\n]+?)(?<!\s)_(?!\w)"
    r"|~~(?P<strike>.+?)~~"
)


def to_mrkdwn(markdown: str, resolve: Resolve | None = None) -> str:
    out: list[str] = []
    fenced = False
    for line in markdown.strip().splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            out.append("```")
            continue
        if fenced:
            out.append(mrkdwn_escape(line))
            continue
        out.append(_line(line.rstrip(), resolve))
    if fenced:
        out.append("```")
    return _squeeze_blank_lines(out)


def _line(line: str, resolve: Resolve | None) -> str:
    if match := _HEADING.match(line):
        return f"*{inline(match.group(1), resolve, bold=True)}*"
    if _RULE.match(line):
        return "──────────"
    if match := _BULLET.match(line):
        indent = " " * (len(match.group(1)) // 2 * 4)
        return f"{indent}• {inline(match.group(2), resolve)}"
    if match := _NUMBERED.match(line):
        indent = " " * (len(match.group(1)) // 2 * 4)
        return f"{indent}{match.group(2)}. {inline(match.group(3), resolve)}"
    if match := _QUOTE.match(line):
        return f">{inline(match.group(1), resolve)}"
    return inline(line, resolve)


def inline(text: str, resolve: Resolve | None = None, *, bold: bool = False) -> str:
    """Inline markdown → mrkdwn; plain parts escaped."""
    parts: list[str] = []
    pos = 0
    for match in _INLINE.finditer(text):
        parts.append(mrkdwn_escape(text[pos : match.start()]))
        parts.append(_token(match, resolve, bold))
        pos = match.end()
    parts.append(mrkdwn_escape(text[pos:]))
    return "".join(parts)


def _token(match: re.Match[str], resolve: Resolve | None, bold: bool) -> str:
    if code := match.group("code"):
        return mrkdwn_escape(code)
    if match.group("link"):
        label = inline(match.group("label"), None).replace("|", "¦")
        url = _url(match.group("href"), resolve)
        if url is None:
            return label
        return f"<{url}|{label}>" if label else f"<{url}>"
    if match.group("auto"):
        url = _url(match.group("autohref"), resolve)
        return f"<{url}>" if url else mrkdwn_escape(match.group("autohref"))
    if match.group("strong"):
        inner = inline(match.group("strongtext"), resolve, bold=True)
        return inner if bold else f"*{inner}*"
    if (em := match.group("em")) is not None or (em := match.group("em2")) is not None:
        return f"_{inline(em, resolve, bold=bold)}_"
    return f"~{inline(match.group('strike'), resolve, bold=bold)}~"


def _url(href: str, resolve: Resolve | None) -> str | None:
    if href.startswith(("http://", "https://", "mailto:", "tel:")):
        url = href
    elif resolve is not None:
        resolved = resolve(href)
        if resolved is None:
            return None
        url = resolved
    else:
        return None
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def _squeeze_blank_lines(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        if not line.strip() and (not out or not out[-1].strip()):
            continue
        out.append(line)
    return "\n".join(out).strip()


def chunks(text: str, limit: int = 2900) -> list[str]:
    """Split mrkdwn into pieces of at most ``limit`` characters at paragraph or line ends."""
    pieces: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = ""
        for line in paragraph.split("\n"):
            candidate = f"{current}\n{line}" if current else line
            if len(candidate) <= limit:
                current = candidate
                continue
            if current:
                pieces.append(current)
            while len(line) > limit:
                pieces.append(line[:limit])
                line = line[limit:]
            current = line
    if current:
        pieces.append(current)
    return pieces
