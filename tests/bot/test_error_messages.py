"""Error messages pasted as they appear, on the bundled articles, as a person meets them in a
chat (issue #17): a code a guide names gets that guide, a Microsoft 365 message is an IT
question (never "not IT", never an account action nobody asked for), and a code no guide
names is handed to the desk instead of guessed at. Both modes: the quick start's (with the
embedding model) and the lexical-only one."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from bot.conversation.engine import ConversationEngine
from bot.flows import default_registry
from bot.settings import Settings
from tests.bot.test_conversations import Chat, raised
from tests.conftest import shared_services

NOT_IT = "That isn't something I can help with"
CODES_GUIDE = "Sign-in error codes (AADSTS…) and what to do"
OUTLOOK_GUIDE = "Error codes in the Outlook desktop app (0x8004010F, 0x800CCC0E and others)"


@pytest.fixture(params=["auto", "off"])
async def engine(
    request: pytest.FixtureRequest, settings: Settings
) -> AsyncIterator[ConversationEngine]:
    mode = dataclasses.replace(settings, semantic=request.param)
    async with shared_services(mode) as services:
        yield ConversationEngine(services, default_registry())


def shown(chat: Chat) -> list[str]:
    """The guides a reply shows or offers (cards, then buttons)."""
    return [c.title for r in chat.replies for c in r.cards] + chat.buttons


@pytest.mark.parametrize(
    ("message", "guide"),
    [
        ("AADSTS50076", CODES_GUIDE),
        ("AADSTS50053", CODES_GUIDE),
        ("AADSTS50126 error", CODES_GUIDE),
        ("0x8004010F", OUTLOOK_GUIDE),
        ("Outlook shows error 0x800CCC0E", OUTLOOK_GUIDE),
    ],
)
async def test_an_error_code_a_guide_names_gets_that_guide(
    engine: ConversationEngine, message: str, guide: str
) -> None:
    sam = Chat(engine)
    await sam.say(message)
    assert shown(sam)[:1] == [guide]


@pytest.mark.parametrize(
    "message",
    ["More information required", "You can't get there from here", "Need admin approval"],
)
async def test_a_pasted_sign_in_message_is_an_it_question(
    engine: ConversationEngine, message: str
) -> None:
    sam = Chat(engine)
    reply = await sam.say(message)
    assert NOT_IT not in reply
    assert "6-digit code" not in reply  # no reset or unlock started on a pasted message
    if engine.services.knowledge.kb.semantic_status.startswith("semantic search: on"):
        assert CODES_GUIDE in shown(sam)
    else:
        # by words alone "can't get there from here" says almost nothing: the guide or the desk
        assert CODES_GUIDE in shown(sam) or "Raise a ticket" in sam.buttons


async def test_a_code_no_guide_names_is_handed_to_the_desk(engine: ConversationEngine) -> None:
    sam = Chat(engine)
    reply = await sam.say("I get error AADSTS99999, what does it mean?")
    assert "I don't have a guide for error AADSTS99999 yet" in reply
    assert "Request Id" in reply
    assert sam.buttons == ["Raise a ticket", "Talk to someone"]  # no guessed guides
    # the ticket starts from the question: no "what's the problem?" to type it again
    reply = await sam.press("Raise a ticket")
    assert "what's the problem" not in reply
    assert "6-digit code" not in reply
    await sam.press("Signing in")
    await sam.press("I can't work at all")
    done = await sam.say("yes")
    assert "Done: JSD-" in done
    assert "AADSTS99999" in (await raised(engine, done)).summary
