"""The one redaction step: typed secrets hidden, ordinary words about passwords kept."""

from __future__ import annotations

import doctest
import json
import logging
from pathlib import Path

import pytest

import bot.redaction
from bot.redaction import MASK, RedactingFilter, redact, redact_values, scan

GITHUB = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
TOKENS = {
    "AWS Access Key": "AKIAIOSFODNN7EXAMPLE",
    "GitHub Token": GITHUB,
    "Slack Token": "xoxb-2048123456-4096123456789-AbCdEfGhIjKlMnOpQrStUvWx",
    "Stripe Access Key": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "JSON Web Token": (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    ),
    "Twilio API Key": "SK" + "0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d",
    "SendGrid API Key": "SG." + "aBcDeFgHiJkLmNoPqRsTuV" + "." + "w" * 43,
    "OpenAI Token": "sk-" + "a" * 20 + "T3BlbkFJ" + "b" * 20,
    "Azure Storage Account access key": "AccountKey=" + "Zx9" * 29 + "w==",
    "Mailchimp Access Key": "0123456789abcdef0123456789abcdef-us12",
    "Telegram Bot Token": "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq",
    "GitLab Token": "glpat-" + "x1Y2z3" * 4,
    "NPM tokens": "npm_" + "A1b2C3d4" * 4 + "E5f6",
    "Google API Key": "AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
}


def _around(token: str) -> str:
    return f"can you check this for me {token} thanks"


@pytest.mark.parametrize(("kind", "token"), TOKENS.items(), ids=list(TOKENS))
def test_each_kind_of_token_is_hidden_whole(kind: str, token: str) -> None:
    found = scan(_around(token))
    assert found.text == _around(MASK)
    assert kind in found.kinds


def test_longer_tokens_than_the_pattern_demands_go_whole() -> None:
    key = "sk_live_" + "51HqLyjWDarjtT1zdp7dc" * 4  # today's live keys are ~100 characters
    assert redact(f"key {key} please") == f"key {MASK} please"


def test_a_private_key_goes_with_its_whole_block() -> None:
    text = (
        "here's the key\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
        "QyNTUxOQAAACBb\n-----END OPENSSH PRIVATE KEY-----\nthat's all"
    )
    found = scan(text)
    assert found.text == f"here's the key\n{MASK}\nthat's all"
    assert found.kinds == ("Private Key",)


def test_credentials_in_a_url_hide_the_password_only() -> None:
    found = scan("the wiki at https://sam:Pa55word@wiki.example.org/page is down")
    assert found.text == f"the wiki at https://sam:{MASK}@wiki.example.org/page is down"
    assert found.kinds == ("Basic Auth Credentials",)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("…my password is Hunter2!xyz", f"…my password is {MASK}"),
        ("my password is Hunter2 and it fails", f"my password is {MASK} and it fails"),
        ("password: Hunter2", f"password: {MASK}"),
        ("my password Hunter2!xyz doesn't work", f"my password {MASK} doesn't work"),
        ("tried my old password Winter2025.", f"tried my old password {MASK}."),
        ("my password Testing123 fails", f"my password {MASK} fails"),
        ("pwd=Sunny_Day99", f"pwd={MASK}"),
        ("my pin is 4321", f"my pin is {MASK}"),
        ("pin 4321 doesn't work", f"pin {MASK} doesn't work"),
        ("otp 998877", f"otp {MASK}"),
        ("the code: 123456 didn't work", f"the code: {MASK} didn't work"),
        ("my one-time code is 123 456", f"my one-time code is {MASK}"),
        ("the passcode was 55501", f"the passcode was {MASK}"),
        ("my token is now abc123XYZ", f"my token is now {MASK}"),
        ("my password is Summer", f"my password is {MASK}"),
        ("my password pa'ss fails", f"my password {MASK} fails"),  # not a contraction
        ("my new password is purple monkey dishwasher", f"my new password is {MASK}"),
        (
            "my new password is purple monkey dishwasher and it still fails",
            f"my new password is {MASK} and it still fails",
        ),
        (
            "my new password is purple monkey dishwasher, but Outlook says wrong",
            f"my new password is {MASK}, but Outlook says wrong",
        ),
        (
            "password is purple monkey because I like them",
            f"password is {MASK} because I like them",
        ),
    ],
)
def test_secrets_named_and_given_are_hidden(typed: str, kept: str) -> None:
    assert redact(typed) == kept


@pytest.mark.parametrize(
    "text",
    [
        "my password is expired",
        "my password is wrong",
        "my password is locked",
        "my password is not working",
        "my password is reset but I still can't sign in",
        "my password is expiring tomorrow",
        "my password was changed yesterday",
        "the password is too short apparently",
        "the wrong password is entered too many times",
        "Outlook keeps asking for my password",
        "what is my password?",
        "I typed my password 3 times",
        "my password keeps expiring",
        "my password doesn't meet the requirements",  # was told it had been typed
        "my password won\u2019t work",
        "change my password please",
        "reset my password for Outlook",
        "the code is on the back of the card",
        "the code didn't arrive",
        "I get error code 53003 when I sign in",
        "the error code is 0x80070005",
        "the QR code is 12345678",
        "our cost code is 4410",
        "how do I share my calendar",
        "ring me on 07700 900123",
        "my laptop asset tag is DBC-004512",
        "the server is 10.0.4.21",  # a public IP address is not a secret; people give them
    ],
)
def test_ordinary_words_about_passwords_survive(text: str) -> None:
    found = scan(text)
    assert found.text == text and not found.found


def test_what_staff_ask_and_the_guides_say_is_left_alone() -> None:
    """No false alarms on hundreds of real questions and every line of the bundled guides."""
    from knowledge import bundled_root

    root = Path(__file__).resolve().parents[1]
    questions = [
        json.loads(line)["text"]
        for line in (root / "data" / "intents_staff_test.jsonl").read_text().splitlines()
    ]
    lines = [
        line for path in bundled_root().rglob("*.md") for line in path.read_text().splitlines()
    ]
    assert len(questions) > 300 and len(lines) > 500
    changed = [text for text in questions + lines if scan(text).found]
    assert changed == []


def test_redaction_is_idempotent_and_the_docstring_holds() -> None:
    once = redact(f"my password is Hunter2!xyz and my token is {GITHUB}")
    assert redact(once) == once and not scan(once).found
    assert doctest.testmod(bot.redaction).failed == 0


def test_several_secrets_in_one_message() -> None:
    found = scan(f"otp 998877, password: Hunter2!xyz and {TOKENS['AWS Access Key']}")
    assert found.text == f"otp {MASK}, password: {MASK} and {MASK}"
    assert found.kinds == ("AWS Access Key", "one-time code", "password")


def test_redact_values_goes_into_nested_data() -> None:
    data = {"user": "pin 4321", "turns": [{"bot": f"token {GITHUB}"}], "n": 3, "ok": None}
    assert redact_values(data) == {
        "user": f"pin {MASK}",
        "turns": [{"bot": f"token {MASK}"}],
        "n": 3,
        "ok": None,
    }


def test_the_log_filter_hides_secrets_in_messages_and_tracebacks() -> None:
    import io

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("someone typed %s", "my password is Hunter2!xyz")
        try:
            raise ValueError(f"bad token {GITHUB}")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    written = stream.getvalue()
    assert "Hunter2" not in written and GITHUB not in written
    assert f"my password is {MASK}" in written and "ValueError: bad token" in written


def test_the_command_line_installs_the_log_filter(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import itbot

    monkeypatch.setenv("ITBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    root = logging.getLogger()
    saved = list(root.handlers)
    root.handlers = []  # as in a fresh process: basicConfig adds the handler
    try:
        code, _ = itbot(capsys, "settings")
        assert code == 0
        assert root.handlers
        assert all(any(isinstance(f, RedactingFilter) for f in h.filters) for h in root.handlers)
    finally:
        root.handlers = saved
