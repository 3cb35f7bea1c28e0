"""Is a question about IT at all, in the lexical-only mode (issue #17)? Articles of a real
knowledge base use everyday words in passing (lunch, weather, bank, holiday); a question made
of such words is still not IT, and an IT question that uses them is still IT. Examples written
for these tests."""

from __future__ import annotations

import pytest

from knowledge import KnowledgeBase
from tests.knowledge.articles import write_articles

ARTICLES = {
    "calendar/lunch-meeting.md": """\
---
title: Schedule a meeting over lunch
summary: Book a meeting room and invite people for a lunch meeting in Outlook.
---
In Outlook on the web open your calendar and select New event. Add the people, pick a room
with the room finder, and set the time, for example a table booked for lunch at 12:30.
""",
    "calendar/weather.md": """\
---
title: Show the weather in your calendar
summary: Outlook's calendar can show the weather forecast for your city.
---
Open Settings, then Calendar, then Weather, and choose your city and degrees in Celsius.
""",
    "email/phishing.md": """\
---
title: Report a phishing email
summary: An email pretending to be your bank, a parcel firm or the president of a company.
---
Select Report, then Phishing. Never open links in an email that asks for your bank details
or says you won a prize or a holiday.
""",
    "documents/templates.md": """\
---
title: Start a document from a template
summary: Word for the web has templates for letters, reports, menus and recipes.
---
Open Word for the web, select More templates and pick one: a letter, a report, a recipe card.
""",
    "email/automatic-replies.md": """\
---
title: Set an automatic reply when you are away
summary: Tell people who email you that you are on holiday or annual leave.
---
In Outlook on the web open Settings, Mail, Automatic replies, turn them on and write the message.
""",
}


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    root = write_articles(tmp_path_factory.mktemp("kb"), ARTICLES)
    return KnowledgeBase.load(root, semantic="off")


@pytest.mark.parametrize(
    "question",
    [
        "book me a table for lunch",
        "what's the weather going to do this weekend",
        "what's a good recipe for a chocolate cake",
        "how do I open a new bank account",
        "who won the election for president",
        "how many days annual leave have I got",
    ],
)
def test_a_question_in_everyday_words_is_declined(kb: KnowledgeBase, question: str) -> None:
    result = kb.search(question)
    assert result.decision == "decline"
    assert not result.about_it


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("set an automatic reply for my annual leave", "email/automatic-replies"),
        ("how do i report a phishing email from my bank", "email/phishing"),
        ("show the weather in my calendar", "calendar/weather"),
        ("schedule a lunch meeting with my team", "calendar/lunch-meeting"),
    ],
)
def test_an_it_question_in_everyday_words_is_answered(
    kb: KnowledgeBase, question: str, expected: str
) -> None:
    result = kb.search(question)
    assert result.decision != "decline"
    assert result.hits[0].article.id == expected


@pytest.mark.parametrize(
    "question",
    ["book me a table for lunch", "can you book me a taxi", "I'm too busy for a new hobby"],
)
def test_words_that_mean_it_only_inside_a_phrase_are_not_it_vocabulary(
    kb: KnowledgeBase, question: str
) -> None:
    # "book a room", "free busy", "new phone" are IT; "book", "busy", "new" alone aren't
    assert kb.search(question).it_share == 0.0
