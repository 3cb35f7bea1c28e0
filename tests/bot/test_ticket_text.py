"""What a raised ticket says: the problem without the request words, and only the turns
about this problem, naming the guides the bot offered."""

from __future__ import annotations

import doctest

import pytest

import bot.flows.ticket_text
from bot.conversation.engine import ConversationEngine
from tests.bot.test_conversations import Chat, clock, engine, raised
from tests.conftest import ALEX

__all__ = ["clock", "engine"]


async def test_the_summary_keeps_the_problem_not_the_request(engine: ConversationEngine) -> None:
    sam = Chat(engine)
    said = {
        "please raise a ticket for me, the monitor keeps flickering and going black": (
            "Monitor keeps flickering and going black"
        ),
        "Hi, can you log a ticket? My laptop won't charge. Thanks!": "My laptop won't charge",
        "I'd like you to open a ticket: Outlook won't open PDF attachments": (
            "Outlook won't open PDF attachments"
        ),
        "The printer on floor 2 is jammed, could you raise a ticket for me please?": (
            "Printer on floor 2 is jammed"
        ),
    }
    for typed, summary in said.items():
        sam.replies = []
        await sam.say(typed)
        while "Shall I raise it?" not in sam.text:
            assert sam.buttons, sam.text
            await sam.press(sam.buttons[-1])  # any category, any impact, a new ticket
        assert f"Problem: {summary}\n" in sam.text
        assert "Done: JSD-" in await sam.say("yes")

    long = (
        "please raise a ticket for me, my second screen stays black after the docking station "
        "update last week and nothing I have tried so far seems to fix it"
    )
    await sam.say(long)
    while "Shall I raise it?" not in sam.text:
        assert sam.buttons, sam.text
        await sam.press(sam.buttons[-1])
    await sam.say("yes")
    ticket = await raised(engine, sam.text)
    assert ticket.summary.startswith("My second screen stays black after the docking")
    assert ticket.summary.endswith("…") and len(ticket.summary) <= 90
    assert "nothing I have tried so far seems to fix it" in ticket.description


@pytest.mark.parametrize("said", ["I need a new laptop", "raise a ticket, I need a new mouse"])
async def test_a_request_for_something_new_is_what_the_ticket_is_about(
    engine: ConversationEngine, said: str
) -> None:
    """ "I need a new laptop" was asked "Briefly, what's the problem?": "new" counted as a
    word of the asking ("a new ticket"), leaving one word, too few to be the problem."""
    sam = Chat(engine)
    reply = await sam.say(said)
    assert "what's the problem" not in reply
    while "Shall I raise it?" not in sam.text:
        await sam.press(sam.buttons[-1])
    assert "Problem: I need a new" in sam.text
    assert "what's the problem" in await Chat(engine, email=ALEX).say("raise a new ticket")


async def test_the_transcript_holds_this_problem_and_names_the_guide(
    engine: ConversationEngine,
) -> None:
    sam = Chat(engine)
    await sam.say("how do I share my calendar with my team")  # an earlier, unrelated question
    await sam.press("Yes")  # it helped
    await sam.say("thanks!")
    await sam.say("how do I set up an out of office")
    [card] = [c for r in sam.replies for c in r.cards]
    await sam.press("No")  # it didn't help
    # the ticket starts from the question the guide didn't answer
    assert "Which of these is it about?" in await sam.press("Raise a ticket")
    await sam.press("Email")
    await sam.press("work around it")
    done = await sam.say("yes")

    transcript = (await raised(engine, done)).transcript
    said = [t["user"] for t in transcript]
    assert said[0] == "how do I set up an out of office"  # the question the ticket is about
    assert not any("calendar" in s or "thanks" in s for s in said), said
    assert f"Here's the guide that should help: “{card.title}”" in transcript[0]["bot"]
    assert transcript[0]["articles"] == [{"id": card.article_id, "title": card.title}]
    assert "[pressed: no]" in said
    assert (await raised(engine, done)).summary == "How do I set up an out of office"


async def test_a_ticket_started_afresh_leaves_earlier_answers_out(
    engine: ConversationEngine,
) -> None:
    sam = Chat(engine)
    await sam.say("how do I share my calendar with my team")  # answered, never rated
    await sam.say("please raise a ticket, my docking station stopped charging the laptop")
    while "Shall I raise it?" not in sam.text:
        await sam.press(sam.buttons[-1])
    done = await sam.say("yes")
    transcript = (await raised(engine, done)).transcript
    assert transcript[0]["user"].startswith("please raise a ticket, my docking station")
    assert not any("calendar" in t["user"] + t["bot"] for t in transcript)


async def test_a_ticket_after_no_guide_fitted_starts_from_the_question(
    engine: ConversationEngine,
) -> None:
    sam = Chat(engine)
    await sam.say("More information required")  # guides offered (or none found, by words alone)
    if "None of these" in sam.buttons:
        await sam.press("None of these")
    reply = await sam.press("Raise a ticket")
    assert "what's the problem" not in reply  # not asked to type it again
    await sam.press("Signing in")
    await sam.press("work around it")
    done = await sam.say("yes")
    ticket = await raised(engine, done)
    assert ticket.summary == "More information required"


async def test_a_ticket_after_a_guide_chosen_from_a_list_starts_from_the_question(
    engine: ConversationEngine,
) -> None:
    sam = Chat(engine)
    reply = await sam.say("intranet page still shows last weeks rota even tho its been updated")
    assert "Which one matches your question?" in reply, reply
    await sam.press(sam.buttons[0])  # a guide chosen from the list
    await sam.press("No")  # it didn't help
    reply = await sam.press("Raise a ticket")
    assert "what's the problem" not in reply  # not asked to type it again
    assert "Which of these is it about?" in reply
    while "Shall I raise it?" not in sam.text:
        await sam.press(sam.buttons[-1])
    ticket = await raised(engine, await sam.say("yes"))
    assert ticket.summary == "Intranet page still shows last weeks rota even tho its been updated"


async def _at_shall_i_raise_it(engine: ConversationEngine) -> Chat:
    """A ticket asked for and answered up to its last question, "Shall I raise it?"."""
    sam = Chat(engine)
    await sam.say("the projector in committee room 2 is broken")
    if "Laptop, phone or printer" in sam.buttons:
        await sam.press("Laptop, phone or printer")
    await sam.press("work around it")
    assert "Shall I raise it?" in sam.text
    return sam


async def test_more_said_at_shall_i_raise_it_goes_into_the_details(
    engine: ConversationEngine,
) -> None:
    sam = await _at_shall_i_raise_it(engine)
    reply = await sam.say("It's the one on the ceiling, it won't turn on")
    assert "I've added that to the ticket's details" in reply
    assert "Shall I raise it?" in reply  # asked again, nothing raised yet
    done = await sam.say("yes")
    ticket = await raised(engine, done)
    assert "It's the one on the ceiling, it won't turn on" in ticket.description


async def test_making_it_urgent_at_shall_i_raise_it_asks_again_and_keeps_the_draft(
    engine: ConversationEngine,
) -> None:
    """ "actually make it urgent" at "Shall I raise it?" got "OK, I've stopped that": the
    detector hears a cancel, and the draft was lost."""
    sam = await _at_shall_i_raise_it(engine)
    assert "stopped" in await sam.say("cancel")  # a plain cancel still stops
    sam = await _at_shall_i_raise_it(engine)
    assert "Priority: P3" in sam.text
    reply = await sam.say("actually make it urgent")
    assert "stopped" not in reply and "How much is this stopping you working?" in reply
    assert "Priority: P2" in await sam.press("can't work at all")
    assert "Priority: P1" in await sam.say("Many people or a public service can't work")
    ticket = await raised(engine, await sam.say("yes"))
    assert ticket.priority == "P1" and "projector" in ticket.summary


async def test_a_new_question_at_shall_i_raise_it_is_answered_not_kept_as_detail(
    engine: ConversationEngine,
) -> None:
    sam = await _at_shall_i_raise_it(engine)
    reply = await sam.say("how do I share my calendar with my team")
    assert "added that to the ticket's details" not in reply
    assert any(c.article_id == "calendar/share-your-calendar" for r in sam.replies for c in r.cards)


async def test_a_no_taken_back_at_shall_i_raise_it_raises_nothing_and_loses_nothing(
    engine: ConversationEngine,
) -> None:
    sam = await _at_shall_i_raise_it(engine)
    reply = await sam.say("no wait, it's the docking station")
    assert "haven't raised anything" not in reply
    assert "Shall I raise it?" in reply
    done = await sam.say("yes")
    ticket = await raised(engine, done)
    assert "it's the docking station" in ticket.description


def test_the_examples_in_ticket_text_hold() -> None:
    assert doctest.testmod(bot.flows.ticket_text).failed == 0


async def test_a_ticket_in_a_list_is_cut_at_a_word_not_mid_name(
    engine: ConversationEngine,
) -> None:
    """The ticket list showed "JSD-000001 · Reset the password for a colleague (unna (new)"."""
    sam = Chat(engine)
    assert "I've raised JSD-" in await sam.say("I need to reset my colleague's password")
    await sam.say("whats the status of JSD-999999")
    label = next(b for b in sam.buttons if b.startswith("JSD-"))
    assert label.endswith("for a colleague… (new)"), label
