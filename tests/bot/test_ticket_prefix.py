"""The desk's ticket prefix (``ITBOT_TICKET_PREFIX``) reaches the conversation engine."""

from __future__ import annotations

import dataclasses

from bot.app import open_services
from bot.conversation.engine import ConversationEngine
from bot.flows import default_registry
from bot.settings import Settings
from tests.bot.test_conversations import Chat, Clock


async def test_a_reference_with_the_desks_prefix_shows_that_ticket(settings: Settings) -> None:
    abc = dataclasses.replace(settings, ticket_prefix="ABC")
    async with open_services(abc) as services:
        slots = services.detector.detect("any update on ABC-000123?").slots
        assert slots.ticket_ref == "ABC-000123"

        sam = Chat(ConversationEngine(services, default_registry(), clock=Clock()))
        await sam.press_intent("raise_ticket")
        await sam.say("Outlook keeps crashing when I open attachments")
        await sam.press("Email")
        await sam.press("request or question")
        assert "Done: ABC-000001" in await sam.say("yes please")

        shown = await sam.say("any update on ABC-000001?")
        assert "ABC-000001: Outlook keeps crashing when I open attachments" in shown
        assert "Status: new" in shown
