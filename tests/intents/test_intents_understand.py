"""Typos and pasted error codes are IT questions; everyday requests are not (issue #17).
Examples written for these tests, not taken from any evaluation set."""

from __future__ import annotations

import pytest

from intents import IntentDetector


@pytest.fixture(scope="module")
def det() -> IntentDetector:
    return IntentDetector.load()


@pytest.mark.parametrize(
    "text",
    [
        "how do i shair my calender",
        "my calender wont show my meetings",
        "0x80070005",
        "AADSTS50076",
        "getting 0x8004010F when outlook starts",
    ],
)
def test_typos_and_error_codes_are_it_questions(det: IntentDetector, text: str) -> None:
    assert det.detect(text).intent == "question"


@pytest.mark.parametrize(
    "text", ["book me a table for lunch", "how do I get rid of hiccups", "what's the weather"]
)
def test_everyday_requests_are_out_of_scope(det: IntentDetector, text: str) -> None:
    assert det.detect(text).intent == "out_of_scope"


def test_an_it_fault_without_an_article_is_not_out_of_scope(det: IntentDetector) -> None:
    assert det.detect("the badge printer at the front desk won't turn on").intent == "raise_ticket"
