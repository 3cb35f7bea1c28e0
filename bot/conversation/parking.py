"""A request set aside: a clear new request goes through, and the one it interrupted is
offered back once it is done ("Do you want to carry on raising a ticket (“printer”)?")."""

from __future__ import annotations

import dataclasses

from bot import wording
from bot.conversation.actions import Resume
from bot.conversation.messages import Button, Reply
from bot.conversation.runner import FlowRunner, Outcome
from bot.conversation.state import ConversationState
from bot.conversation.text import clip


def parked_what(runner: FlowRunner, state: ConversationState) -> str:
    """The parked request in words: "raising a ticket (“printer”)"."""
    parked = state.parked
    flow = runner.flows.get(parked.flow) if parked is not None else None
    if parked is None or flow is None:
        return "what we were doing"
    what = flow.describe or wording.action(flow.name)
    about = str(parked.data.get("summary") or parked.data.get("text") or "").strip()
    if about:
        short = clip(about, 50)
        what += f" (“{short}”)"
    return what


def offer_resume(runner: FlowRunner, state: ConversationState, out: Outcome) -> None:
    """Once the request that interrupted it is done, offer the parked one back."""
    parked = state.parked
    if parked is None or parked.offered or state.pending_switch is not None:
        return
    if state.flow == parked.flow:  # they started that again: the new one replaces it
        state.parked = None
        return
    waiting = runner.waiting_flow(state)
    if waiting is not None and not waiting.interruptible:
        return  # still busy with the new request: ask when it is done
    out.replies.append(
        Reply(
            wording.RESUME_ASK.format(what=parked_what(runner, state)),
            buttons=(
                Button("Yes, carry on", Resume(True), style="primary"),
                Button("No, drop it", Resume(False)),
            ),
            kind="question",
        )
    )
    state.parked = dataclasses.replace(parked, offered=True)


def resume(runner: FlowRunner, yes: bool, state: ConversationState, out: Outcome) -> None:
    """The answer to :func:`offer_resume`'s question."""
    if state.parked is None:
        runner.stale(out)
        return
    if not yes:
        state.parked = None
        out.replies.append(Reply(wording.RESUME_DROPPED))
        out.outcome = "resume_dropped"
        return
    what = parked_what(runner, state)
    state.unpark()
    if runner.waiting_flow(state) is None:  # the flow changed since: nothing to resume
        state.clear()
        runner.stale(out)
        return
    runner.reprompt(state, out, wording.RESUMED.format(what=what))
    out.outcome = "resumed"
