"""Email through a mail server (SMTP), with aiosmtplib. Email only: it can't text a mobile.

``security`` is ``starttls`` (upgrade a plain connection, port 587), ``tls`` (TLS from the
start, port 465) or ``none`` (a relay on a trusted network). A login is made when a user
is given. Transient failures (the server can't be reached, drops the connection, times
out, or answers 4xx) are retried a bounded number of times, then raise a retryable
:class:`SendError`; a 5xx answer is final. Nothing logged or raised holds the message.

>>> sender = SmtpSender(host="smtp.councils.example", sender="ictservicedesk@...")  # doctest: +SKIP
>>> await sender.send(Message("sam@dacorum.gov.uk", "email", "Your code is 123456",
...                           subject="Your sign-in code"))                        # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal

import aiosmtplib

from .base import Channel, Message, SendError

log = logging.getLogger(__name__)

Security = Literal["starttls", "tls", "none"]

_TRANSIENT = (
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPServerDisconnected,
    aiosmtplib.SMTPTimeoutError,
    TimeoutError,
    ConnectionError,
    OSError,
)


class SmtpSender:
    """Sends each message as one email from ``sender``."""

    name = "smtp"
    channels: frozenset[Channel] = frozenset({"email"})

    def __init__(
        self,
        *,
        host: str,
        port: int = 587,
        security: Security = "starttls",
        user: str | None = None,
        password: str | None = None,
        sender: str,
        timeout: float = 20.0,
        attempts: int = 3,
        backoff: float = 1.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.security: Security = security
        self._user = user
        self._password = password
        self.sender = sender
        self._timeout = timeout
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._tls_context = tls_context

    def _email(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject or "IT service desk"
        email["Date"] = formatdate(localtime=False, usegmt=True)
        email["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        email.set_content(message.text)
        return email

    async def send(self, message: Message) -> None:
        if message.channel != "email":
            raise SendError(
                "the smtp notifier sends email only; it can't send a text message",
                retryable=False,
            )
        email = self._email(message)
        last = "no answer"
        for attempt in range(self._attempts):
            try:
                await aiosmtplib.send(
                    email,
                    hostname=self.host,
                    port=self.port,
                    username=self._user,
                    password=self._password if self._user else None,
                    use_tls=self.security == "tls",
                    start_tls=self.security == "starttls",
                    tls_context=self._tls_context,
                    timeout=self._timeout,
                )
            except aiosmtplib.SMTPRecipientsRefused as exc:
                codes = [r.code for r in exc.recipients]
                last = f"the mail server refused the recipient ({', '.join(map(str, codes))})"
                if not all(400 <= code < 500 for code in codes):
                    raise SendError(last, retryable=False) from None
            except aiosmtplib.SMTPResponseException as exc:
                last = f"the mail server answered {exc.code} {_said(exc.message)}"
                if not 400 <= exc.code < 500:
                    raise SendError(last, retryable=False) from None
            except (
                ssl.SSLError
            ) as exc:  # a certificate or protocol problem: trying again won't help
                raise SendError(
                    f"TLS with the mail server {self.host}:{self.port} failed "
                    f"({type(exc).__name__}); check ITBOT_SMTP_SECURITY and the certificate",
                    retryable=False,
                ) from None
            except _TRANSIENT as exc:
                last = (
                    f"cannot reach the mail server {self.host}:{self.port} ({type(exc).__name__})"
                )
            except aiosmtplib.SMTPException as exc:  # e.g. no STARTTLS or AUTH on offer
                raise SendError(
                    f"the mail server {self.host}:{self.port} can't take the message "
                    f"({type(exc).__name__}: {_said(str(exc))})",
                    retryable=False,
                ) from None
            else:
                log.info("smtp sent purpose=%s", message.purpose)
                return
            log.warning(
                "smtp attempt %d/%d failed purpose=%s: %s",
                attempt + 1,
                self._attempts,
                message.purpose,
                last,
            )
            if attempt + 1 < self._attempts:
                await asyncio.sleep(self._backoff * (2**attempt))
        raise SendError(f"{last}; gave up after {self._attempts} tries", retryable=True)

    async def aclose(self) -> None:
        return None


def _said(text: str) -> str:
    """The server's words, short and on one line."""
    return " ".join(text.split())[:200]
