"""Reading a reset conversation's messages: a new phone (the guide may do), a lost one."""

from __future__ import annotations

import doctest

import pytest

import bot.flows.reset_words
import bot.wording
from bot import wording
from bot.flows.reset_words import asks_resend, moves_phone, says_not_arrived


def test_the_examples_in_the_docstrings_hold() -> None:
    assert doctest.testmod(bot.flows.reset_words).failed == 0


@pytest.mark.parametrize(
    "text",
    [
        "got a new work mobile, need to move the MFA across",
        "getting a replacement phone tomorrow, what happens with my MFA",
        "How do I transfer MFA to my new phone?",
        "authenticator stopped working after I changed phone",
        "MFA isn’t working since I swapped phones",
        "my work phone was upgraded and the authenticator is empty",
    ],
)
def test_a_new_phone_may_still_have_the_old_one(text: str) -> None:
    assert moves_phone(text)


@pytest.mark.parametrize(
    "text",
    [
        "I’ve lost my phone with the authenticator on it",
        "new phone, old one wiped, how do I get back into my account",
        "traded in my old phone and forgot to move the authenticator",
        "new phone but I don't have the old one any more",
        "hiya, got a new phone, can you reset my authenticator",
        "I changed my mobile number and the codes go to my old one",
        "the approval request doesn't appear on my phone",
    ],
)
def test_a_lost_phone_a_new_number_or_a_plain_request_is_not_a_move(text: str) -> None:
    assert not moves_phone(text)


def test_a_code_that_has_not_come_is_told_from_other_messages() -> None:
    assert says_not_arrived("I didn't get the code") and says_not_arrived("still nothing")
    assert not says_not_arrived("Teams messages are not coming through for anyone")
    assert asks_resend("send me another code") and not asks_resend("the code is 123456")


def test_a_label_keeps_its_capitals_after_the_first_letter() -> None:
    """ "See what I can do", "Reset your sign-in verification (MFA)": never str.capitalize."""
    assert doctest.testmod(bot.wording).failed == 0
    assert wording.upper_first("reset your sign-in verification (MFA)").endswith("(MFA)")
