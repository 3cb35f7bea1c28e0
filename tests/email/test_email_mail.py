"""What the channel reads from a mail: automatic or not, the thread, the new text, files."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from bot.channels.email.compose import compose, subject_for
from bot.channels.email.mail import Mail
from bot.errors import SettingsError
from bot.settings import Settings

DESK = "ictservicedesk@councils.example"


def raw(sender: str = "Sam <sam.taylor@dacorum.gov.uk>", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = DESK
    message["Subject"] = "Printer"
    message["Message-ID"] = "<1@dacorum.gov.uk>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("It jams.\n\nOn Monday Sam wrote:\n> earlier")
    return bytes(message)


@pytest.mark.parametrize(
    ("sender", "headers"),
    [
        ("sam.taylor@dacorum.gov.uk", {"Auto_Submitted": "auto-replied"}),
        ("sam.taylor@dacorum.gov.uk", {"Auto_Submitted": "auto-generated; owner=x"}),
        ("sam.taylor@dacorum.gov.uk", {"Precedence": "bulk"}),
        ("sam.taylor@dacorum.gov.uk", {"Precedence": "junk"}),
        ("sam.taylor@dacorum.gov.uk", {"Precedence": "list"}),
        ("sam.taylor@dacorum.gov.uk", {"List_Id": "<it.dacorum.gov.uk>"}),
        ("sam.taylor@dacorum.gov.uk", {"Return_Path": "<>"}),
        ("sam.taylor@dacorum.gov.uk", {"X_Auto_Response_Suppress": "All"}),
        ("MAILER-DAEMON@dacorum.gov.uk", {}),
        ("postmaster@dacorum.gov.uk", {}),
        (DESK, {}),
    ],
)
def test_automatic_mail_is_recognised(sender: str, headers: dict[str, str]) -> None:
    assert Mail.parse(raw(sender, **headers), own_address=DESK).automatic is not None


def test_a_persons_mail_is_not_automatic() -> None:
    mail = Mail.parse(raw(Auto_Submitted="no", Return_Path="<sam.taylor@dacorum.gov.uk>"))
    assert mail.automatic is None
    assert mail.sender == "sam.taylor@dacorum.gov.uk" and mail.display_name == "Sam"
    assert mail.reply_text == "It jams."  # the quoted mail is left out


def test_the_thread_is_read_from_in_reply_to_and_references() -> None:
    mail = Mail.parse(raw(In_Reply_To="<b@desk>", References="<a@x> <b@desk>"))
    assert mail.thread_ids[0] == "<b@desk>"
    assert set(mail.thread_ids) == {"<a@x>", "<b@desk>"}


def test_html_only_mail_is_read_as_text_and_attachment_names_lose_their_paths() -> None:
    message = EmailMessage()
    message["From"] = "sam.taylor@dacorum.gov.uk"
    message["Message-ID"] = "<2@x>"
    message.set_content("<p>Screen is <b>black</b> &amp; dead</p>", subtype="html")
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf",
                           filename="../../etc/passwd.pdf")  # fmt: skip
    mail = Mail.parse(bytes(message))
    assert "Screen is black & dead" in mail.body
    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        ("passwd.pdf", "application/pdf")
    ]


def test_a_mail_without_a_message_id_or_sender_is_not_trusted() -> None:
    mail = Mail.parse(b"Subject: hi\r\n\r\nbody\r\n")
    assert mail.message_id == "" and mail.automatic is not None


def test_our_mail_marks_itself_automatic_and_keeps_one_reference() -> None:
    ours = compose(
        sender=DESK, desk="Desk", to="sam.taylor@dacorum.gov.uk", subject="Re: Fw: [JSD-000007] x",
        text="Hello", ref="JSD-000007", in_reply_to="<1@x>", references=["<1@x>", "<1@x>"],
    )  # fmt: skip
    assert ours["Subject"] == "[JSD-000007] x"
    assert ours["References"] == "<1@x>"
    assert Mail.parse(bytes(ours), own_address="someone@else.example").automatic is not None
    assert subject_for("", None) == "Your request"


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        ({"ITBOT_EMAIL_ADDRESS": "not-an-address"}, "ITBOT_EMAIL_ADDRESS must be an email"),
        ({"ITBOT_EMAIL_ADDRESS": DESK}, "ITBOT_EMAIL_IMAP_HOST must be set"),
        (
            {"ITBOT_EMAIL_ADDRESS": DESK, "ITBOT_EMAIL_IMAP_HOST": "i.x",
             "ITBOT_EMAIL_SMTP_HOST": "s.x"},
            "ITBOT_EMAIL_PASSWORD must be set",
        ),
        ({"ITBOT_EMAIL_IMAP_TLS": "maybe"}, "ITBOT_EMAIL_IMAP_TLS must be on, starttls or off"),
        ({"ITBOT_EMAIL_PROVIDER": "pop3"}, "ITBOT_EMAIL_PROVIDER must be imap or graph"),
        (
            {"ITBOT_EMAIL_ADDRESS": DESK, "ITBOT_EMAIL_PROVIDER": "graph"},
            "ITBOT_EMAIL_GRAPH_TENANT must be set when ITBOT_EMAIL_PROVIDER is graph",
        ),
    ],
)  # fmt: skip
def test_email_settings_fail_naming_the_variable(environ: dict[str, str], words: str) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_environ(environ)
    assert words in str(info.value)


def test_the_email_channel_is_off_until_its_address_is_set() -> None:
    assert not Settings.from_environ({}).email_enabled
    on = Settings.from_environ(
        {
            "ITBOT_EMAIL_ADDRESS": DESK,
            "ITBOT_EMAIL_IMAP_HOST": "imap.x",
            "ITBOT_EMAIL_SMTP_HOST": "smtp.x",
            "ITBOT_EMAIL_PASSWORD": "pw",
        }
    )
    assert on.email_enabled and on.email_login == DESK
    assert "pw" not in repr(on)
