"""The per-council report: one function computes it, every format renders the same dict.

>>> report = await build(db, settings.councils, Period.parse("2026-11-01", "2026-11-30"),
...                      now=utcnow())                                      # doctest: +SKIP
>>> report["councils"]["dacorum"]["deflection"]                            # doctest: +SKIP
{'confirmed': 12, 'potential': 30, 'none': 7}

Shape: ``{"period": {...}, "councils": {key: block}, "all": block}``. Each block counts,
over the period (whole days in UK time, both ends included): conversations with a turn,
questions answered (articles shown), tickets raised, deflection of those answers plus
rejected choices, resets by operation and outcome, tickets by category and priority, SLA
attainment per priority (response and resolution clocks of the tickets raised), CSAT of
those tickets, agent minutes logged, top articles and top unanswered topics, and the
council's share of tickets and agent time (the recharge split). ``all`` is the councils'
sum, with means and percentages recomputed from the sums.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.desk.calendar import LONDON
from bot.desk.sla import PRIORITIES
from bot.desk.tickets import CATEGORIES
from bot.insight import queries
from bot.settings.values import Council
from bot.storage import Database

TOP = 10
RESET_OPERATIONS = ("reset_password", "unlock_account", "reset_mfa")
RESET_OUTCOMES = ("done", "code_used", "code_wrong_too_often", "code_expired", "code_not_used")
CLOCK_STATES = ("met", "breached", "running")
DEFLECTION = ("confirmed", "potential", "none")
#: a topic whose category is not known
NO_TOPIC = "unknown"


class PeriodError(ValueError):
    """A period that isn't two dates, first not after last."""


@dataclass(frozen=True, slots=True)
class Period:
    """Whole days in UK time, ``first`` and ``last`` included."""

    first: date
    last: date

    @classmethod
    def parse(cls, first: str, last: str) -> Period:
        days = []
        for name, raw in (("from", first), ("to", last)):
            try:
                days.append(date.fromisoformat(raw.strip()))
            except ValueError:
                raise PeriodError(f"--{name} {raw!r} is not a date like 2026-11-27") from None
        period = cls(days[0], days[1])
        if period.first > period.last:
            raise PeriodError(f"--from {first} is after --to {last}")
        return period

    @classmethod
    def this_month(cls, today: date) -> Period:
        return cls(today.replace(day=1), today)

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=LONDON)

    @property
    def before(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=LONDON)


def _empty() -> dict[str, Any]:
    return {
        "conversations": 0,
        "questions_answered": 0,
        "tickets_raised": 0,
        "deflection": dict.fromkeys(DEFLECTION, 0),
        "resets": {op: dict.fromkeys(RESET_OUTCOMES, 0) for op in RESET_OPERATIONS},
        "tickets_by_category": dict.fromkeys(CATEGORIES, 0),
        "tickets_by_priority": dict.fromkeys(PRIORITIES, 0),
        "sla_attainment": {
            clock: {p: {**dict.fromkeys(CLOCK_STATES, 0), "percent": None} for p in PRIORITIES}
            for clock in ("response", "resolution")
        },
        "csat": {"count": 0, "mean": None, "distribution": {str(s): 0 for s in range(1, 6)}},
        "agent_minutes": 0,
        "top_articles": [],
        "top_unanswered": [],
        "cost_share": {"tickets": None, "agent_minutes": None},
    }


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _finish(
    block: dict[str, Any], articles: Counter[str], confirmed: Counter[str], topics: Counter[str]
) -> None:
    """Fill what is derived from the counts: percentages, mean, top lists."""
    for clock in block["sla_attainment"].values():
        for cell in clock.values():
            cell["percent"] = _percent(cell["met"], cell["met"] + cell["breached"])
    csat = block["csat"]
    total = sum(int(s) * n for s, n in csat["distribution"].items())
    csat["mean"] = round(total / csat["count"], 2) if csat["count"] else None
    block["top_articles"] = [
        {"article": a, "answers": n, "confirmed": confirmed[a]}
        for a, n in sorted(articles.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
    ]
    block["top_unanswered"] = [
        {"topic": t, "count": n} for t, n in sorted(topics.items(), key=lambda kv: (-kv[1], kv[0]))
    ][:TOP]


async def build(
    db: Database,
    councils: Sequence[Council],
    period: Period,
    *,
    now: datetime,
    council: str | None = None,
) -> dict[str, Any]:
    """The report over ``period`` for every council (or only ``council``)."""
    since, before = period.since, period.before
    blocks = {c.key: _empty() for c in councils}
    articles = {key: Counter[str]() for key in blocks}
    confirmed = {key: Counter[str]() for key in blocks}
    topics = {key: Counter[str]() for key in blocks}

    found = await queries.fetch(db, since, before, now, councils)
    for key, n in found.conversations:
        if key in blocks:
            blocks[key]["conversations"] = n
    for key, article, outcome, n in found.answers:
        if key in blocks:
            blocks[key]["questions_answered"] += n
            blocks[key]["deflection"][outcome] += n
            articles[key][article] += n
            confirmed[key][article] += n if outcome == "confirmed" else 0
    for key, kind, topic, n in found.unanswered:
        if key in blocks:
            if kind == "none_of_these":
                blocks[key]["deflection"]["none"] += n
            topics[key][topic or NO_TOPIC] += n
    for key, minutes in found.agent_minutes:
        if key in blocks:
            blocks[key]["agent_minutes"] = int(minutes or 0)
    rows = found.tickets
    for key, category, priority, response, resolution, csat, n in rows:
        if key not in blocks:
            continue
        block = blocks[key]
        block["tickets_raised"] += n
        block["tickets_by_category"][category] = block["tickets_by_category"].get(category, 0) + n
        block["tickets_by_priority"][priority] = block["tickets_by_priority"].get(priority, 0) + n
        sla = block["sla_attainment"]
        if priority in sla["response"]:
            sla["response"][priority][response] += n
            sla["resolution"][priority][resolution] += n
        if csat is not None and str(csat) in block["csat"]["distribution"]:
            block["csat"]["count"] += n
            block["csat"]["distribution"][str(csat)] += n
    for key, operation, outcome, n in found.resets:
        if key in blocks and operation in blocks[key]["resets"]:
            blocks[key]["resets"][operation][outcome] += n

    tickets_all = sum(b["tickets_raised"] for b in blocks.values())
    minutes_all = sum(b["agent_minutes"] for b in blocks.values())
    for key, block in blocks.items():
        block["cost_share"] = {
            "tickets": _percent(block["tickets_raised"], tickets_all),
            "agent_minutes": _percent(block["agent_minutes"], minutes_all),
        }
        _finish(block, articles[key], confirmed[key], topics[key])
    chosen = [key for key in blocks if council is None or key == council]
    total = _sum([blocks[k] for k in chosen])
    _finish(
        total,
        sum((articles[k] for k in chosen), Counter()),
        sum((confirmed[k] for k in chosen), Counter()),
        sum((topics[k] for k in chosen), Counter()),
    )
    total["cost_share"] = {
        "tickets": _percent(total["tickets_raised"], tickets_all),
        "agent_minutes": _percent(total["agent_minutes"], minutes_all),
    }
    return {
        "period": {"from": period.first.isoformat(), "to": period.last.isoformat()},
        "councils": {k: blocks[k] for k in chosen},
        "all": total,
    }


def _sum(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """The councils' counts added up (derived figures are filled by :func:`_finish`)."""
    total = _empty()

    def add(into: dict[str, Any], part: dict[str, Any]) -> None:
        for name, value in part.items():
            if isinstance(value, dict):
                add(into.setdefault(name, {}), value)
            elif isinstance(value, int) and not isinstance(value, bool):
                into[name] = (into.get(name) or 0) + value

    for block in blocks:
        add(total, {k: v for k, v in block.items() if k not in ("cost_share", "csat")})
        total["csat"]["count"] += block["csat"]["count"]
        add(total["csat"]["distribution"], block["csat"]["distribution"])
    return total
