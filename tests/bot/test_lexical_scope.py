"""Out of scope in the lexical-only mode (no embedding model), as a person meets it (issue #17):
everyday requests are turned away as not IT, a misspelt IT question is answered, and an IT
problem no article covers is taken as a ticket."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from bot.app import open_services
from bot.conversation.engine import ConversationEngine
from bot.flows import default_registry
from bot.settings import Settings
from tests.bot.test_conversations import Chat

NOT_IT = "That isn't something I can help with"


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[ConversationEngine]:
    lexical = dataclasses.replace(settings, semantic="off")
    async with open_services(lexical) as services:
        assert services.knowledge.kb.semantic_status.startswith("semantic search: off")
        yield ConversationEngine(services, default_registry())


@pytest.mark.parametrize(
    "question",
    [
        "book me a table for lunch",
        "how do I get rid of hiccups",
        "what's the weather",
        "book annual leave",
    ],
)
async def test_an_everyday_request_is_not_it(engine: ConversationEngine, question: str) -> None:
    assert NOT_IT in await Chat(engine).say(question)


async def test_a_misspelt_it_question_gets_its_guide(engine: ConversationEngine) -> None:
    sam = Chat(engine)
    reply = await sam.say("how do i shair my calender")
    assert NOT_IT not in reply
    shown = [c.title for r in sam.replies for c in r.cards] + sam.buttons
    assert "Share your calendar with colleagues" in shown


async def test_an_it_problem_without_a_guide_is_taken_as_a_ticket(
    engine: ConversationEngine,
) -> None:
    sam = Chat(engine)
    reply = await sam.say("the badge printer at the front desk won't turn on")
    assert NOT_IT not in reply
    assert "How much is this stopping you working?" in reply  # the ticket form's questions
