"""The desk's mailbox over IMAP: unseen mail in, ``\\Seen`` after it is acted on, IDLE.

Python's own ``imaplib`` in a worker thread, not an asyncio IMAP library: the one
well-kept asyncio client (aioimaplib) can't upgrade a connection with STARTTLS, which
``ITBOT_EMAIL_IMAP_TLS=starttls`` needs, while imaplib does TLS, STARTTLS and login and is
kept with Python. imaplib has no IDLE before Python 3.14, so :meth:`Mailbox.wait` speaks
it (RFC 2177) over imaplib's public ``send``/``readline``, in short slices so a
shutdown never waits for the server.

Errors are translated at this boundary into :class:`MailboxError` (no password in it).
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from bot.settings.email import MailTls

_UID = re.compile(rb"UID (\d+)")
_EXISTS = re.compile(rb"^\* \d+ (EXISTS|RECENT)", re.IGNORECASE)
#: how often an IDLE looks whether it should stop (a shutdown waits at most this long)
SLICE_SECONDS = 0.2


class MailboxError(Exception):
    """The mailbox can't be reached or refused us; ``str()`` says what, never a secret."""


@dataclass(frozen=True)
class Fetched:
    """One unseen mail: its UID in the mailbox and its bytes."""

    uid: str
    raw: bytes


class Mailbox:
    """One IMAP connection to the desk's INBOX. Every method blocks: call it in a thread."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        tls: MailTls,
        user: str,
        password: str,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port, self.tls = host, port, tls
        self._user, self._password = user, password
        self._timeout = timeout
        self._context = tls_context or ssl.create_default_context()
        self._imap: imaplib.IMAP4 | None = None
        self.uidvalidity = ""

    def open(self) -> None:
        imap: imaplib.IMAP4 | None = None
        try:
            if self.tls == "on":
                imap = imaplib.IMAP4_SSL(
                    self.host, self.port, ssl_context=self._context, timeout=self._timeout
                )
            else:
                imap = imaplib.IMAP4(self.host, self.port, timeout=self._timeout)
                if self.tls == "starttls":
                    imap.starttls(ssl_context=self._context)
            imap.login(self._user, self._password)
            status, _ = imap.select("INBOX")
            if status != "OK":
                raise MailboxError("the mailbox has no INBOX we can open")
            answer = imap.response("UIDVALIDITY")[1]
            self.uidvalidity = _text(answer[0]) if answer and answer[0] else ""
        except imaplib.IMAP4.error as exc:
            _shut(imap)
            raise MailboxError(f"the IMAP server {self.host}:{self.port} refused: {exc}") from None
        except (OSError, ssl.SSLError) as exc:
            _shut(imap)
            raise MailboxError(
                f"cannot reach the IMAP server {self.host}:{self.port} ({type(exc).__name__})"
            ) from None
        except MailboxError:
            _shut(imap)
            raise
        self._imap = imap

    @property
    def idles(self) -> bool:
        """Whether the server offers IDLE (RFC 2177)."""
        return self._imap is not None and "IDLE" in self._imap.capabilities

    def unseen(self, limit: int = 50) -> list[Fetched]:
        """Up to ``limit`` unseen, unflagged mails, oldest first, without marking them seen."""
        imap = self._need()
        # a flagged mail was set aside (or is a person's to deal with): never read
        status, data = self._call(imap.uid, "SEARCH", "UNSEEN", "UNFLAGGED")
        first = data[0] if status == "OK" and data else b""
        uids = first.split() if isinstance(first, bytes) else []
        found: list[Fetched] = []
        for uid in uids[:limit]:
            status, parts = self._call(imap.uid, "FETCH", uid.decode(), "(UID BODY.PEEK[])")
            for part in parts:
                if isinstance(part, tuple) and (match := _UID.search(part[0])):
                    found.append(Fetched(match.group(1).decode(), bytes(part[1])))
        return found

    def mark_seen(self, uid: str) -> None:
        imap = self._need()
        self._call(imap.uid, "STORE", uid, "+FLAGS.SILENT", "(\\Seen)")

    def set_aside(self, uid: str) -> None:
        """Flag a mail and leave it unseen: kept for a person, and never read again."""
        imap = self._need()
        self._call(imap.uid, "STORE", uid, "+FLAGS.SILENT", "(\\Flagged)")

    def wait(self, seconds: float, stop: threading.Event) -> None:
        """Until new mail may have arrived (IDLE, if offered), ``seconds`` pass, or ``stop``."""
        imap = self._need()
        if not self.idles:
            stop.wait(seconds)
            return
        tag = b"IDLE1"
        sock = imap.socket()
        try:
            imap.send(tag + b" IDLE\r\n")
            if not imap.readline().startswith(b"+"):
                raise MailboxError("the IMAP server did not accept IDLE")
            deadline = time.monotonic() + seconds
            # waits with select, not a socket timeout: a timed-out socket file can't be read again
            while not stop.is_set() and time.monotonic() < deadline:
                if not _readable(sock, SLICE_SECONDS):
                    continue
                line = imap.readline()
                if not line:
                    raise MailboxError("the IMAP server closed the connection")
                if _EXISTS.match(line):
                    break
            imap.send(b"DONE\r\n")
            while not (line := imap.readline()).startswith(tag):
                if not line:
                    raise MailboxError("the IMAP server closed the connection")
        except OSError as exc:
            raise MailboxError(f"the IMAP connection failed ({type(exc).__name__})") from None

    def close(self) -> None:
        imap, self._imap = self._imap, None
        if imap is None:
            return
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            imap.logout()
        _shut(imap)

    def _need(self) -> imaplib.IMAP4:
        if self._imap is None:
            raise MailboxError("the mailbox is not open")
        return self._imap

    def _call(self, command: object, *args: str) -> tuple[str, list[object]]:
        try:
            status, data = command(*args)  # type: ignore[operator]
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"the IMAP server refused: {exc}") from None
        except OSError as exc:
            raise MailboxError(f"the IMAP connection failed ({type(exc).__name__})") from None
        return str(status), list(data)


def _readable(sock: socket.socket, seconds: float) -> bool:
    """Whether a line can be read within ``seconds`` (TLS may hold decrypted bytes already)."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    ready, _, _ = select.select([sock], [], [], seconds)
    return bool(ready)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _shut(imap: imaplib.IMAP4 | None) -> None:
    """Close the connection's socket, whatever state it is in."""
    if imap is not None:
        with contextlib.suppress(OSError):
            imap.shutdown()
