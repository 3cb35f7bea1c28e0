"""The mails the channel sends: threaded, marked as automatic, the reference in the subject
and, as a last line above the signature, in a ``[Ref: JSD-000001]`` marker (as Zammad and
FreeScout do): a reply whose mail client rewrote the subject and dropped the threading
headers still quotes it.

Every mail carries ``Auto-Submitted: auto-replied`` (RFC 3834) and
``X-Auto-Response-Suppress: All`` so other robots (out-of-office replies) stay quiet, and
its own ``Message-ID`` on the desk's domain, which later replies point back to.

>>> m = compose(sender="desk@councils.example", desk="IT desk", to="sam@dacorum.gov.uk",
...             subject="Printer", text="Hello", ref="JSD-000001",
...             in_reply_to="<1@x>", references=["<1@x>"])
>>> m["Subject"], m["In-Reply-To"], m["Auto-Submitted"]
('[JSD-000001] Printer', '<1@x>', 'auto-replied')
>>> m.get_content().splitlines()[:3]
['Hello', '', '[Ref: JSD-000001]']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from bot.channels.email import wording

_PREFIXES = re.compile(r"^\s*((re|fw|fwd|aw|sv)\s*:\s*)+", re.IGNORECASE)


def subject_for(subject: str, ref: str | None) -> str:
    """``[REF] subject`` once, whatever ``Re:`` and references it had.

    >>> subject_for("RE: [JSD-000001] Printer", "JSD-000001")
    '[JSD-000001] Printer'
    """
    bare = _PREFIXES.sub("", subject)
    if ref:
        bare = bare.replace(f"[{ref}]", "").strip()
        return f"[{ref}] {bare or 'Your request'}"
    return bare or "Your request"


def compose(
    *,
    sender: str,
    desk: str,
    to: str,
    subject: str,
    text: str,
    ref: str | None,
    in_reply_to: str | None,
    references: Sequence[str],
) -> EmailMessage:
    """One plain-text mail from the desk's mailbox, in the thread of ``in_reply_to``."""
    message = EmailMessage()
    message["From"] = formataddr((desk, sender))
    message["To"] = to
    message["Subject"] = subject_for(subject, ref)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    thread = list(dict.fromkeys(references))[-20:]  # the newest of a long thread
    if thread:
        message["References"] = " ".join(thread)
    message["Auto-Submitted"] = "auto-replied"
    message["X-Auto-Response-Suppress"] = "All"
    marker = wording.MARKER.format(ref=ref) if ref else ""
    message.set_content(text + marker + wording.SIGNATURE.format(desk=desk))
    return message
