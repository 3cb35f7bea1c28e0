"""The public API: what the conversation engine relies on."""

from __future__ import annotations

import dataclasses
import logging
import shutil
from pathlib import Path

import pytest

from intents import INTENTS, IntentDataError, IntentDetector, Prediction, Slots
from intents.examples import BUNDLED_DATA
from knowledge.fuzzy import is_english


@pytest.fixture(scope="module")
def det() -> IntentDetector:
    return IntentDetector.load()


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("how do I share my calendar", "question"),
        ("my onedrive won't open", "question"),
        ("outlook keeps asking for my password", "question"),
        ("how often do I have to change my password", "question"),
        ("I forgot my password", "reset_password"),
        ("I'm locked out", "unlock_account"),
        ("hiya, new phone and the code thing doesnt work anymore", "reset_mfa"),
        ("any news on JSD-1042?", "ticket_status"),
        ("my printer is broken can someone come", "raise_ticket"),
        ("can I speak to a person", "talk_to_human"),
        ("good morning", "greeting"),
        ("cheers, that's sorted it", "thanks"),
        ("bye for now", "goodbye"),
        ("what can you do?", "help"),
        ("never mind", "cancel"),
        ("what's the weather like", "out_of_scope"),
        ("book annual leave", "out_of_scope"),
        ("tell me a joke", "out_of_scope"),
        ("I'm locked out of my car", "out_of_scope"),
    ],
)
def test_the_boundaries_named_in_the_issue(det: IntentDetector, text: str, intent: str) -> None:
    assert det.detect(text).intent == intent


def test_a_prediction_is_frozen_and_fully_typed(det: IntentDetector) -> None:
    pred = det.detect("any news on JSD-1042?")
    assert isinstance(pred, Prediction)
    assert 0.0 <= pred.confidence <= 1.0
    assert isinstance(pred.slots, Slots)
    assert pred.reasons and all(isinstance(r, str) for r in pred.reasons)
    with pytest.raises(dataclasses.FrozenInstanceError):
        pred.intent = "greeting"  # type: ignore[misc]


def test_alternatives_are_the_runners_up_best_first(det: IntentDetector) -> None:
    pred = det.detect("my laptop is broken")
    names = [name for name, _ in pred.alternatives]
    probs = [p for _, p in pred.alternatives]
    assert pred.intent not in names
    assert len(names) == 3 == len(set(names))
    assert probs == sorted(probs, reverse=True)
    assert all(p <= pred.confidence for p in probs)


def test_clear_messages_are_confident_and_vague_ones_are_not(det: IntentDetector) -> None:
    assert det.detect("please reset my password, I've forgotten it").confidence > 0.9
    # ("it doesn't work" is a rule's now: a ticket, whose first question asks what)
    assert det.detect("it's acting weird").confidence < 0.8


def test_intents_lists_every_bundled_intent_in_the_documented_order(det: IntentDetector) -> None:
    assert det.intents == INTENTS
    assert sorted(p.stem for p in BUNDLED_DATA.glob("*.txt")) == sorted(INTENTS)


def test_each_it_intent_has_at_least_sixty_examples(det: IntentDetector) -> None:
    for intent in INTENTS[:7]:
        assert len(det.examples[intent]) >= 60, intent


def test_context_is_accepted_and_a_bare_number_is_a_reference_when_expected(
    det: IntentDetector,
) -> None:
    assert det.detect("1042").slots.ticket_ref is None
    pred = det.detect("1042", {"expecting": "ticket_ref"})
    assert pred.slots.ticket_ref == "JSD-001042"
    assert pred.intent == "ticket_status"
    assert det.detect("hello", {"expecting": "yes_no"}).intent == "greeting"


def test_an_empty_message_is_out_of_scope_with_no_confidence(det: IntentDetector) -> None:
    for text in ("", "   ", "?!"):
        pred = det.detect(text)
        assert (pred.intent, pred.confidence) == ("out_of_scope", 0.0)


def test_a_very_long_message_is_handled(det: IntentDetector) -> None:
    text = "my outlook will not open and I have tried restarting it " * 200
    assert det.detect(text).intent in {"question", "raise_ticket"}


def test_explain_adds_the_words_that_weighed_most(det: IntentDetector) -> None:
    plain = det.detect("I forgot my password")
    explained = det.explain("I forgot my password")
    assert explained.intent == plain.intent
    assert any("weighed most" in r for r in explained.reasons)
    assert any("rule:" in r for r in explained.reasons)


def test_the_ticket_prefix_is_configurable() -> None:
    det = IntentDetector.load(ticket_prefix="ICT")
    pred = det.detect("any update on ict-77?")
    assert (pred.intent, pred.slots.ticket_ref) == ("ticket_status", "ICT-000077")


def test_adding_an_intent_is_adding_a_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "greeting.txt").write_text("hello\nhi there\ngood morning\nhiya\n")
    (data / "out_of_scope.txt").write_text("what's the weather\ntell me a joke\nbook leave\n")
    (data / "order_toner.txt").write_text(
        "# a new intent\norder toner\nthe printer needs toner\nwe're out of toner\n"
    )
    with caplog.at_level(logging.WARNING, logger="intents.detector"):
        det = IntentDetector.load(data)
    assert "itbot intents build" in caplog.text  # no model.json: trained at load, and says so
    assert not det.shipped_fresh
    assert det.intents == ("greeting", "out_of_scope", "order_toner")
    assert det.detect("can you order more toner").intent == "order_toner"


def test_the_shipped_model_matches_the_examples(det: IntentDetector) -> None:
    assert det.shipped_fresh, "intents/data changed: run `itbot intents build`"


def test_a_stale_model_is_retrained_at_load(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA, data)
    with (data / "thanks.txt").open("a") as handle:
        handle.write("much obliged, you absolute star\n")
    det = IntentDetector.load(data)
    assert not det.shipped_fresh
    assert det.detect("thanks a lot").intent == "thanks"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "no <intent>.txt"),
        ({"Bad-Name.txt": "hello\n"}, "lower_snake_case"),
        ({"greeting.txt": "# only a comment\n\n"}, "no examples"),
    ],
)
def test_bad_example_folders_are_reported(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(IntentDataError, match=message):
        IntentDetector.load(tmp_path)


def test_a_missing_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(IntentDataError, match="no intent examples folder"):
        IntentDetector.load(tmp_path / "nowhere")


def test_an_english_word_is_never_mended_into_an_examples_word() -> None:
    """ "trying" became "tring" (a town in one out-of-scope example), so "someone is trying
    to log into my account" lost the words its rule reads; the bot gives the detector a
    dictionary (knowledge's English words) whose words are never mended."""
    det = IntentDetector.load(is_word=is_english)
    prediction = det.detect("someone is trying to log into my account")
    assert prediction.intent == "question" and "account-compromised" in prediction.rules
