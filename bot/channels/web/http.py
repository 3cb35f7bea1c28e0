"""The web chat's JSON plumbing: reading a request's body and answering errors as JSON.

Hostile bodies stop here: too large (413), nested deeper than any real request (400, and
never a ``RecursionError``), not JSON or not an object (400). Strings inside come out clean:
a lone surrogate (``"\\ud800"``) becomes U+FFFD, so nothing later fails to store it.

>>> too_deep("[" * 100 + "]" * 100, 32)
True
>>> too_deep('{"text": "[[[[[[[["}', 2)
False
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

#: the largest JSON body the web chat reads: a pasted 100 kB message is still answered (cut
#: short, and the person told), anything larger is refused
MAX_JSON_BYTES = 256 * 1024
#: the deepest nesting of objects and arrays a body may have (real ones have 3)
MAX_JSON_DEPTH = 32

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def too_deep(text: str, limit: int) -> bool:
    """Whether ``text`` nests objects/arrays deeper than ``limit`` (strings don't count)."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def clean_strings(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings (keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [clean_strings(v) for v in value]
    if isinstance(value, dict):
        return {clean_strings(k): clean_strings(v) for k, v in value.items()}
    return value


async def json_body(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise error(415, "Send JSON (Content-Type: application/json).")
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise error(413, "That message is too large.")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise error(413, "That message is too large.") from None
    if len(raw) > MAX_JSON_BYTES:
        raise error(413, "That message is too large.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise error(400, "That wasn't valid JSON.") from None
    if too_deep(text, MAX_JSON_DEPTH):
        raise error(400, "That JSON is nested too deeply.")
    try:
        body = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise error(400, "That wasn't valid JSON.") from None
    if not isinstance(body, dict):
        raise error(400, "Send a JSON object.")
    cleaned: dict[str, Any] = clean_strings(body)
    return cleaned


def error(status: int, message: str, **extra: Any) -> web.HTTPException:
    """An error the page shows as it is: ``{"error": message, ...extra}``."""
    if status == 413:
        return web.HTTPRequestEntityTooLarge(
            max_size=MAX_JSON_BYTES,
            actual_size=0,
            text=json.dumps({"error": message, **extra}),
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )
    cls: type[web.HTTPException] = {
        400: web.HTTPBadRequest,
        401: web.HTTPUnauthorized,
        403: web.HTTPForbidden,
        415: web.HTTPUnsupportedMediaType,
        429: web.HTTPTooManyRequests,
        503: web.HTTPServiceUnavailable,
    }[status]
    return cls(
        text=json.dumps({"error": message, **extra}),
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )
