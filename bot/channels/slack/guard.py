"""The first thing ``POST /slack/events`` does: check the raw body is Slack's and readable.

The signature is checked on the raw bytes before anything parses them, so a forged or
stale request is refused (401) whatever it contains; a signed body that is not what Slack
sends (a JSON value that is not an object, a ``payload=`` form field that is not a JSON
object, an empty body) is refused with 400. Either way: one warning line, no traceback.

>>> verdict(b"[1,2,3]", {}, b"secret")
(401, 'unsigned or stale')
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

#: the largest body Slack posts is a view submission: far below this
MAX_BODY_BYTES = 512 * 1024
_TEXT = (str,)
_OBJECT = (dict,)
_ID = (str, dict, type(None))  # Slack sends "team"/"user"/"channel" as an id or an object
#: the types Slack sends for the envelope's fields that bolt and our listeners reach into
ENVELOPE: dict[str, tuple[type, ...]] = {
    "type": _TEXT,
    "event": _OBJECT,
    "event_id": _TEXT,
    "team_id": (str, type(None)),
    "enterprise_id": (str, type(None)),
    "api_app_id": _TEXT,
    "token": _TEXT,
    "challenge": _TEXT,
    "authorizations": (list,),
    "team": _ID,
    "user": _ID,
    "channel": _ID,
    "enterprise": _ID,
    "view": (dict, type(None)),
    "container": _OBJECT,
    "message": _OBJECT,
    "actions": (list,),
    "state": _OBJECT,
    "trigger_id": _TEXT,
    "response_url": _TEXT,
    "callback_id": _TEXT,
    "is_ext_shared_channel": (bool,),
    "is_enterprise_install": (bool,),
}
#: the same inside ``event``
EVENT: dict[str, tuple[type, ...]] = {
    "type": _TEXT,
    "subtype": _TEXT,
    "user": _ID,
    "channel": _ID,
    "channel_type": _TEXT,
    "team": _TEXT,
    "user_team": _TEXT,
    "text": _TEXT,
    "ts": _TEXT,
    "event_ts": _TEXT,
    "thread_ts": _TEXT,
    "bot_id": (str, type(None)),
    "tab": _TEXT,
    "item": _OBJECT,
    "message": _OBJECT,
    "previous_message": _OBJECT,
    "assistant_thread": _OBJECT,
    "function_data": _OBJECT,
    "files": (list,),
    "blocks": (list,),
}

#: how old a request's timestamp may be (Slack's advice): older is a replay
MAX_AGE_SECONDS = 5 * 60


def signed(body: bytes, headers: Mapping[str, str], secret: bytes) -> bool:
    """Whether ``body`` (raw bytes, whatever they hold) carries Slack's signature, fresh."""
    stamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not secret or not stamp.isascii() or not stamp.isdigit() or not signature.isascii():
        return False
    if abs(time.time() - int(stamp)) > MAX_AGE_SECONDS:
        return False
    digest = hmac.new(secret, b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return hmac.compare_digest("v0=" + digest.hexdigest(), signature)


def verdict(body: bytes, headers: Mapping[str, str], secret: bytes) -> tuple[int, str] | None:
    """``None`` when ``body`` is signed and shaped as Slack sends; else ``(status, reason)``."""
    if len(body) > MAX_BODY_BYTES:
        return 413, "body too large"
    if not signed(body, headers, secret):
        return 401, "unsigned or stale"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return 400, "not UTF-8"
    if not text.strip():
        return 400, "empty body"
    if text.lstrip().startswith(("{", "[", '"')) or not _looks_like_form(text):
        return None if _is_object(text) else (400, "not a JSON object shaped as Slack's")
    form = parse_qs(text, keep_blank_values=True)
    if "payload" in form and not all(_is_object(p) for p in form["payload"]):
        return 400, "payload is not a JSON object shaped as Slack's"
    return None


def _looks_like_form(text: str) -> bool:
    return "=" in text


def _is_object(text: str) -> bool:
    """Whether ``text`` is a JSON object shaped as Slack's envelopes are (see ``ENVELOPE``)."""
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        return False
    if not isinstance(payload, dict) or not _typed(payload, ENVELOPE):
        return False
    event = payload.get("event")
    if event is not None and not _typed(event, EVENT):
        return False
    lists = (payload.get("authorizations") or [], payload.get("actions") or [])
    return all(isinstance(item, dict) for items in lists for item in items)


def _typed(values: dict[str, object], types: Mapping[str, tuple[type, ...]]) -> bool:
    return all(isinstance(values[key], kinds) for key, kinds in types.items() if key in values)


def refuse(status: int, reason: str, remote: str | None) -> None:
    """The one log line of a refused request."""
    log.warning("refused a Slack request from %s: %s (%d)", remote or "?", reason, status)
