"""The one redaction step: secrets people type are hidden before anything keeps or sends text.

Everything that stores, echoes, logs or forwards typed text passes it through
:func:`redact` first: turn texts, ticket summaries, descriptions and comments, outbox
payloads. It lives at the root of the package so the desk and the conversation both
use the same rule without one importing the other.

>>> redact("my password is Hunter2 and it fails")
'my password is [redacted] and it fails'
"""

from __future__ import annotations

import re

_SECRET = re.compile(
    r"(?i)\b(password|passwd|pwd|passcode|pin|one[- ]time code|otp|code|token)"
    r"(\s*(?:is|was|=|:|-)\s*)(\S+)"
)


def redact(text: str) -> str:
    """Hide anything that looks like a secret someone typed ("my password is ...")."""
    return _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
