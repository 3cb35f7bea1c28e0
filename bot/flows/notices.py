"""Service notices in the chat: staff asking about a known problem hear of it first.

While a notice stands for the asker's council (:class:`bot.desk.notices.Notices`), a
question or a ticket about its products is met with the notice and an "Add me to it"
button (:func:`told_first`). The press (``notice:join``, a command that works at any
time) adds the person to the notice instead of raising a ticket; they are told when the
notice's parent ticket is resolved (``notice_resolved``, :mod:`bot.conversation.notify`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import wording
from bot.conversation.actions import FlowCommand
from bot.conversation.messages import Button, Reply
from bot.desk.calendar import LONDON
from bot.desk.errors import InvalidChange
from bot.desk.outage_tables import OutageSpike, ServiceNotice
from bot.desk.spikes import products_in
from bot.flows.base import Flow, FlowContext, FlowRegistry, State, Step
from bot.storage.models import Staff

NAME = "notice"


def join_action(notice_id: int) -> FlowCommand:
    """The press that adds the asker to the notice."""
    return FlowCommand(NAME, "join", str(notice_id))


async def standing_for(ctx: FlowContext, text: str, category: str = "") -> ServiceNotice | None:
    """The notice standing for the asker's council that ``text`` is about, if any."""
    return await ctx.services.desk.notices.matching(
        ctx.session, council=ctx.asker.council, text=text, category=category, now=ctx.now
    )


def told_first(notice: ServiceNotice, *extra: Button) -> Reply:
    """The notice, with the button to add oneself (and any ``extra`` buttons)."""
    text = wording.NOTICE_FIRST.format(text=notice.text)
    return Reply(text, buttons=(Button(wording.NOTICE_ADD_ME, join_action(notice.id)), *extra))


#: the most notices one answer lists (newest first)
MAX_LISTED = 5


async def known_problems(ctx: FlowContext) -> Step | None:
    """ "Is there an outage?", "is anything down?": every notice standing for the asker's
    council, or that none does; ``None`` when the question names a product (the answer
    tells that product's notice first, :func:`standing_for`, or :func:`none_for`)."""
    if products_in(ctx.text):
        return None
    notices = await ctx.services.desk.notices.listing(ctx.session, now=ctx.now)
    standing = [n for n in notices if ctx.asker.council in n.councils][:MAX_LISTED]
    if not standing:
        text = wording.NO_KNOWN_PROBLEMS.format(council=ctx.asker.council_name)
        return Step((Reply(text),), outcome="no_known_problems")
    details = {"notices": [n.id for n in standing]}
    return Step(tuple(told_first(n) for n in standing), outcome="known_problems", details=details)


def none_for(ctx: FlowContext) -> Reply | None:
    """ "Is email down?" with no notice about it: that none is known, before the guide."""
    named = products_in(ctx.text)
    if not named:
        return None
    what = " or ".join(named)
    return Reply(wording.NO_KNOWN_PROBLEM_WITH.format(what=what, council=ctx.asker.council_name))


async def join(ctx: FlowContext) -> Step:
    """``notice:join``: the asker is added to the notice (no ticket raised)."""
    raw = ctx.text.strip()
    staff = await ctx.session.get(Staff, ctx.asker.staff_id)
    if not raw.isdigit() or staff is None:
        return Step((Reply(wording.NOTICE_GONE),), outcome="notice_gone")
    try:
        notice = await ctx.services.desk.notices.join(
            ctx.session,
            int(raw),
            staff,
            channel=ctx.incoming.channel,
            thread=ctx.incoming.thread,
            now=ctx.now,
        )
    except InvalidChange:
        return Step((Reply(wording.NOTICE_GONE),), outcome="notice_gone")
    return Step(
        (Reply(wording.NOTICE_JOINED),), outcome="joined_notice", details={"notice": notice.id}
    )


async def _start(ctx: FlowContext) -> Step:
    """No intent starts this flow: only the press does (see :func:`join`)."""
    return await join(ctx)


def register(registry: FlowRegistry) -> None:
    registry.register(
        Flow(NAME, frozenset(), _start, {f"{NAME}:join": State(join)}, interruptible=True,
             describe="adding you to a known problem")
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Draft:
    """A notice about a spike as the agent first sees it (every field editable)."""

    text: str
    products: tuple[str, ...]
    councils: tuple[str, ...]
    expires_at: datetime
    spike_id: int


def draft_for(spike: OutageSpike, *, hours: int, now: datetime) -> Draft:
    """The notice one click publishes: "There's a known problem with Outlook since 09:40…",
    for the councils of the people who reported it, standing ``hours`` hours."""
    since = spike.first_at.astimezone(LONDON)
    products = tuple(spike.products)
    text = wording.NOTICE_DEFAULT.format(
        products=" and ".join(products) or "a service", since=f"{since:%H:%M}"
    )
    return Draft(
        text=text,
        products=products,
        councils=tuple(spike.councils),
        expires_at=now + timedelta(hours=hours),
        spike_id=spike.id,
    )
