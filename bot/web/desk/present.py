"""How tickets read, on the dashboard and in ``itbot desk``: times, statuses, transcripts
and events in words.

>>> event_text("priority", {"before": "P3", "after": "P1"})
'P3 → P1'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.desk.calendar import LONDON

STATUS_LABELS = {
    "new": "New",
    "open": "Open",
    "pending": "Pending requester",
    "resolved": "Resolved",
    "closed": "Closed",
}
EVENT_LABELS = {
    "created": "Raised",
    "assigned": "Assigned",
    "priority": "Priority changed",
    "status": "Status changed",
    "commented": "Comment added",
    "rated": "Rated",
    "sla_alert": "SLA alert",
    "sla_resumed": "SLA clocks restarted",
    "time_spent": "Time spent",
    "linked": "Linked to an outage",
}


def when(moment: datetime | None) -> str:
    """A time the way the desk reads it, in UK time: ``Wed 25 Nov 2026, 14:00``."""
    if moment is None:
        return "—"
    return moment.astimezone(LONDON).strftime("%a %-d %b %Y, %H:%M")


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    at: str
    who: str
    text: str


def transcript_lines(transcript: list[Any]) -> list[TranscriptLine]:
    """The conversation that led to the ticket, one line per thing said."""
    lines: list[TranscriptLine] = []
    for entry in transcript:
        if not isinstance(entry, dict):
            lines.append(TranscriptLine("", "", str(entry)))
            continue
        at = _when_iso(entry.get("at"))
        if entry.get("user"):
            lines.append(TranscriptLine(at, "Requester", str(entry["user"])))
        if entry.get("bot"):
            lines.append(TranscriptLine(at, "Bot", str(entry["bot"])))
    return lines


def _when_iso(value: object) -> str:
    try:
        return when(datetime.fromisoformat(str(value)))
    except ValueError:
        return ""


def event_text(kind: str, details: dict[str, Any]) -> str:
    """An event's details in words: ``P3 → P1``, ``internal note``, ``score 5``."""
    if "before" in details or "after" in details:
        return f"{details.get('before') or '—'} → {details.get('after') or '—'}"
    if kind == "commented":
        return "public reply" if details.get("public") else "internal note"
    if kind == "sla_resumed":
        minutes = int(details.get("paused_minutes") or 0)
        hours, minutes = divmod(minutes, 60)
        held = f"{hours} h {minutes} min" if hours else f"{minutes} min"
        return f"due times moved on by {held} of working time spent waiting for the requester"
    if kind == "time_spent":
        return f"{details.get('minutes')} minutes"
    if kind == "linked":
        return f"linked to {details.get('parent') or '—'} (service notice {details.get('notice')})"
    if kind == "sla_alert":
        return ", ".join(str(a).replace("_", " ") for a in details.get("alerts") or ())
    return ", ".join(f"{k} {v}" for k, v in details.items() if k != "comment")
