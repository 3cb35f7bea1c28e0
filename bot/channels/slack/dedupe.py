"""Which Slack deliveries are the same delivery.

Slack retries an Events API delivery it thinks failed (``X-Slack-Retry-Num: 1..3``) with the
same ``event_id``; commands and interactions carry a ``trigger_id`` unique to that press. The
key made here is unique in the inbox table (``slack_inbox.dedupe_key``), so whichever replica
records a delivery first wins and every other copy is acknowledged and dropped: one database
round trip, shared by all replicas.

>>> dedupe_key("event", {"event_id": "Ev123"})
'event:Ev123'
>>> dedupe_key("command", {"trigger_id": "13345.42"})
'command:13345.42'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

MAX_KEY = 255


def dedupe_key(kind: str, body: Mapping[str, Any]) -> str:
    """``event:<event_id>`` for events, ``<kind>:<trigger_id>`` for everything else."""
    ident = body.get("event_id") if kind == "event" else body.get("trigger_id")
    if not ident:  # never seen from Slack; fall back to the content itself
        digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode())
        ident = "sha256-" + digest.hexdigest()
    return f"{kind}:{ident}"[:MAX_KEY]


def retry_number(headers: Mapping[str, Sequence[str]]) -> int:
    """``X-Slack-Retry-Num`` of a delivery (bolt maps Socket Mode's ``retry_attempt`` to it)."""
    for name, values in headers.items():
        if name.lower() == "x-slack-retry-num" and values:
            try:
                return int(values[0])
            except ValueError:
                return 0
    return 0
