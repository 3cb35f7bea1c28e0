"""One mail read from the desk's mailbox, parsed once into what the channel decides on.

Nothing here trusts the mail: ``From`` can be forged, so a sender's address only says
which council a ticket is for and where the reply goes, never who may see what.

>>> mail = Mail.parse(b"From: Sam <sam@dacorum.gov.uk>\\r\\nMessage-ID: <1@x>\\r\\n"
...                   b"Subject: Printer\\r\\n\\r\\nIt jams.\\r\\n")
>>> mail.sender, mail.message_id, mail.body, mail.automatic
('sam@dacorum.gov.uk', '<1@x>', 'It jams.', None)
"""

from __future__ import annotations

import email
import email.policy
import html
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr

#: a Message-ID as it appears in In-Reply-To and References
_MSGID = re.compile(r"<[^<>\s]+>")
#: what a quoted earlier message starts with, in the body of a reply
_QUOTE_START = re.compile(
    r"^(?:On .{0,200}wrote:\s*$|-{2,}\s*Original Message\s*-{2,}|From:\s.+|>)",
    re.IGNORECASE | re.MULTILINE,
)
_TAG = re.compile(r"<[^>]*>")
#: what no stored text keeps: NUL and other control characters (PostgreSQL refuses NUL in
#: text), lone surrogates (no encoding can store them); a line break stays where allowed
_UNSTORABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
#: an address has no white space or control characters (a header decoding to a line break
#: would otherwise put one into our reply's To)
_NOT_AN_ADDRESS = re.compile(r"[\s\x00-\x1f\x7f<>]")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Mail:
    """What the channel needs of one mail."""

    message_id: str
    sender: str
    display_name: str
    subject: str
    body: str
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    #: why the mail is automatic (RFC 3834 and the usual signs), or ``None``
    automatic: str | None = None
    #: for a delivery report (RFC 3464): the Message-IDs of the mail that bounced
    bounced: tuple[str, ...] | None = None
    attachments: tuple[Attachment, ...] = field(default=())

    @classmethod
    def parse(cls, raw: bytes, *, own_address: str = "") -> Mail:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        name, address = parseaddr(_header(message, "From"))
        address = address.strip().lower()
        if _NOT_AN_ADDRESS.search(address) or "@" not in address:
            address = ""  # no address to reply to: refused without a reply
        return cls(
            message_id=_first_id(_header(message, "Message-ID")),
            sender=address,
            display_name=" ".join(name.split())[:100],
            subject=" ".join(_header(message, "Subject").split())[:300],
            body=_UNSTORABLE.sub("", _body(message).replace("\t", " ")),
            in_reply_to=tuple(_MSGID.findall(_header(message, "In-Reply-To"))),
            references=tuple(_MSGID.findall(_header(message, "References"))),
            automatic=_automatic(message, address, own_address.lower()),
            bounced=_bounced(message),
            attachments=tuple(_attachments(message)),
        )

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """The Message-IDs this mail answers, nearest first."""
        return (*self.in_reply_to, *reversed(self.references))

    @property
    def reply_text(self) -> str:
        """The body without the quoted message below it (what the person wrote now)."""
        found = _QUOTE_START.search(self.body)
        text = self.body[: found.start()] if found else self.body
        return text.strip()


def _header(message: Message, name: str) -> str:
    """A header's value as text that can be stored: without control characters or lone
    surrogates (decoded words can hold any)."""
    return _UNSTORABLE.sub(" ", str(message.get(name, "")))


def _first_id(value: str) -> str:
    found = _MSGID.search(value)
    return found.group(0) if found else ""


def _automatic(message: Message, sender: str, own: str) -> str | None:
    """Why this mail must get no reply and raise nothing, or ``None`` if a person sent it."""
    auto = str(message.get("Auto-Submitted", "")).strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"auto-submitted {auto.split(';')[0].strip()}"
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in ("bulk", "junk", "list"):
        return f"precedence {precedence}"
    if message.get("List-Id") is not None or message.get("List-Unsubscribe") is not None:
        return "a mailing list"
    if message.get("X-Autoreply") is not None or message.get("X-Autorespond") is not None:
        return "an autoreply"
    suppress = str(message.get("X-Auto-Response-Suppress", "")).lower()
    if "all" in suppress or "oof" in suppress:
        return "auto responses suppressed"
    return_path = message.get("Return-Path")
    if return_path is not None and str(return_path).strip() in ("<>", ""):
        return "an empty Return-Path"
    local = sender.partition("@")[0]
    if not sender or local in ("mailer-daemon", "postmaster") or local.startswith("noreply"):
        return "no person sent it"
    if own and sender == own:
        return "our own address"
    return None


def _bounced(message: Message) -> tuple[str, ...] | None:
    """The Message-IDs a delivery status report (RFC 3464) is about; ``None`` if it isn't one."""
    if message.get_content_type() != "multipart/report":
        return None
    if message.get_param("report-type", "") != "delivery-status":
        return None
    ids: list[str] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "text/rfc822-headers"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload:  # message/rfc822: the message itself
                inner = payload[0]
                if isinstance(inner, Message):
                    ids += _MSGID.findall(str(inner.get("Message-ID", "")))
            else:
                text = part.get_payload(decode=True)
                if isinstance(text, bytes):
                    headers = email.message_from_bytes(text, policy=email.policy.default)
                    ids += _MSGID.findall(str(headers.get("Message-ID", "")))
    ids += _MSGID.findall(str(message.get("In-Reply-To", "")))
    return tuple(dict.fromkeys(ids))


def _body(message: EmailMessage) -> str:
    """The text a person wrote: the plain part, else the HTML part as text."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeDecodeError):  # an unknown or lying charset
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    text = str(content)
    if part.get_content_type() == "text/html":
        text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", text)
        text = html.unescape(_TAG.sub("", text))
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip()[:20000]


def _attachments(message: EmailMessage) -> list[Attachment]:
    found: list[Attachment] = []
    for part in message.iter_attachments():
        if not isinstance(part, EmailMessage) or part.is_multipart():
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        name = part.get_filename() or "attachment"
        found.append(Attachment(_safe_name(name), part.get_content_type(), data))
    return found


def _safe_name(name: str) -> str:
    """A file name with no path in it and nothing that isn't printable."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in base if c.isprintable()).strip(" .")
    return cleaned[:200] or "attachment"


def addresses(value: str) -> list[str]:
    """Every address in a header value (To, Cc), lower-cased."""
    return [address.lower() for _, address in getaddresses([value]) if address]
