"""Slots: ticket reference, product, urgency, and requests made for a colleague."""

from __future__ import annotations

import pytest

from intents import IntentDetector, Slots


@pytest.fixture(scope="module")
def det() -> IntentDetector:
    return IntentDetector.load()


@pytest.mark.parametrize(
    "text",
    [
        "any news on JSD-1042?",
        "jsd 1042",
        "JSD1042 update please",
        "what about jsd_1042",
        "status of JSD-001042",
        "ticket 1042",
        "ticket no. 1042 please",
        "ticket number 1042",
        "ref: 1042",
        "reference #1042",
        "incident 1042?",
    ],
)
def test_ticket_references_in_any_spelling_are_normalised(det: IntentDetector, text: str) -> None:
    assert det.detect(text).slots.ticket_ref == "JSD-001042"


@pytest.mark.parametrize(
    "text",
    [
        "call me on 07700 900123",
        "my laptop is 3 years old",
        "I have 1042 emails in my inbox",
        "jsd-1234567 is too long to be ours",
    ],
)
def test_other_numbers_are_not_ticket_references(det: IntentDetector, text: str) -> None:
    assert det.detect(text).slots.ticket_ref is None


@pytest.mark.parametrize(
    ("text", "product"),
    [
        ("outlook keeps asking for my password", "email"),
        ("how do i share my diary", "calendar"),
        ("onedrive won't sync", "documents"),
        ("teams keeps logging me out", "teams"),
        ("the printer on floor 2 is jammed", "device"),
        ("chrome says the page can't be reached", "browser"),
        ("can I get work email on my iphone", "email"),
        ("my new iphone won't turn on", "mobile"),
        ("new phone and the code thing doesnt work anymore", "mfa"),
        ("I forgot my password", "password"),
        ("I'm locked out", "sign-in"),
        ("what's the weather like", None),
    ],
)
def test_product(det: IntentDetector, text: str, product: str | None) -> None:
    assert det.detect(text).slots.product == product


def test_a_reset_intent_implies_its_product(det: IntentDetector) -> None:
    assert det.detect("I can't remember it, can you reset it").slots.product in {
        "password",
        "sign-in",
    }


@pytest.mark.parametrize(
    ("text", "urgency"),
    [
        ("urgent - locked out", "urgent"),
        ("need my password resetting asap", "urgent"),
        ("printer broken, it's an emergency", "urgent"),
        ("I can't work at all, laptop is dead", "high"),
        ("I have a meeting in 5 minutes and can't log in", "high"),
        ("not urgent but the scanner is playing up", "low"),
        ("no rush, when you get a chance could someone look at my monitor", "low"),
        ("my mouse is broken", None),
    ],
)
def test_urgency(det: IntentDetector, text: str, urgency: str | None) -> None:
    assert det.detect(text).slots.urgency == urgency


@pytest.mark.parametrize(
    ("text", "colleague"),
    [
        ("please reset the password for sam.taylor@dacorum.gov.uk", "sam.taylor@dacorum.gov.uk"),
        ("my colleague Sam Taylor is locked out", "Sam Taylor"),
        ("my colleague priya has a new phone and needs her mfa reset", "Priya"),
        ("can you unlock alex jones's account", "Alex Jones"),
        ("unlock the account of Priya Patel please", "Priya Patel"),
        ("reset my manager's password", None),
        ("she's locked out, can you help", None),
        ("new starter can't log in, reset password for a new starter", None),
        ("my manager has asked me to reset the new starter's password", None),
        ("Sam is locked out", "Sam"),  # unlocked the asker's own account
        ("Dave Smith can't log in, please reset his password", "Dave Smith"),
        # typed in lower case, as chat often is: the asker's own unlock began
        ("jo smith is locked out", "Jo Smith"),
        ("priya can't log in", "Priya"),
        ("locked out for jo", "Jo"),
    ],
)
def test_requests_for_a_colleague(det: IntentDetector, text: str, colleague: str | None) -> None:
    slots = det.detect(text).slots
    assert slots.for_colleague
    assert slots.colleague == colleague


@pytest.mark.parametrize(
    "text",
    [
        "I forgot my password",
        "my email is sam.taylor@dacorum.gov.uk and I forgot my password",
        "I'm a new starter and never got told my password",
        "I'm locked out of my account",
        "my boss says I need to reset my password",  # asked by a manager, still their own
        "Outlook is locked and won't open",  # a product, not a person
        "Everything is locked",
        "system is locked",  # a thing, not a person, in lower case too
        "locked out for ages",
        "teams can't sign in",
    ],
)
def test_requests_for_yourself(det: IntentDetector, text: str) -> None:
    slots = det.detect(text).slots
    assert not slots.for_colleague
    assert slots.colleague is None


def test_a_question_about_a_colleague_names_nobody(det: IntentDetector) -> None:
    slots = det.detect("can my PA see my calendar").slots
    assert slots.for_colleague  # it mentions one; only the reset flows act on it
    assert slots.colleague is None


def test_slots_default_to_empty() -> None:
    assert Slots() == Slots(None, None, None, False, None)
