"""Email through a real local SMTP server (aiosmtpd): plain, STARTTLS, TLS, login, and
temporary failures that are retried."""

from __future__ import annotations

import email
import logging
import shutil
import ssl
import subprocess
import warnings
from collections.abc import Iterator
from email.message import Message as EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from integrations.notify.base import Message, SendError
from integrations.notify.smtp import SmtpSender
from tests.conftest import free_port, need

CODE = "650021"
FROM = "ictservicedesk@aylesburyvaledc.gov.uk"
TO = "sam.personal@example.com"


class Inbox:
    """An aiosmtpd handler that keeps what it receives; ``fail_rcpt``/``fail_data`` queue
    replies to give instead of accepting."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []
        self.fail_rcpt: list[str] = []
        self.fail_data: list[str] = []
        self.attempts = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.fail_rcpt:
            return self.fail_rcpt.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.fail_data:
            return self.fail_data.pop(0)
        message = email.message_from_bytes(envelope.content)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def _serve(inbox: Inbox, **options: Any) -> Iterator[Controller]:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def plain(inbox: Inbox) -> Iterator[Controller]:
    yield from _serve(inbox)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    need(shutil.which("openssl") is not None, "openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def _contexts(certificate: tuple[Path, Path]) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cert, key = certificate
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


def _code() -> Message:
    return Message(TO, "email", f"Your code is {CODE}", subject="Your code", purpose="code")


def _sender(controller: Controller, **options: Any) -> SmtpSender:
    return SmtpSender(
        host="127.0.0.1",
        port=controller.port,
        security=options.pop("security", "none"),
        sender=FROM,
        backoff=0.01,
        timeout=5,
        **options,
    )


async def test_an_email_is_delivered_with_from_to_and_subject(
    inbox: Inbox, plain: Controller, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sender = _sender(plain)
    assert sender.channels == {"email"}
    await sender.send(_code())
    [(mail_from, rcpt_tos, message)] = inbox.received
    assert mail_from == FROM and rcpt_tos == [TO]
    assert message["From"] == FROM and message["To"] == TO
    assert message["Subject"] == "Your code"
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes) and payload.decode().strip() == f"Your code is {CODE}"
    # what we log (the fake server logs the SMTP dialogue itself, under "mail.log")
    assert not any(CODE in r.getMessage() for r in caplog.records if r.name != "mail.log")


async def test_it_cannot_send_a_text_message(plain: Controller) -> None:
    with pytest.raises(SendError, match="email only") as caught:
        await _sender(plain).send(Message("07700 900123", "sms", f"Your code is {CODE}"))
    assert not caught.value.retryable


async def test_a_temporary_failure_is_retried(inbox: Inbox, plain: Controller) -> None:
    inbox.fail_data = ["451 4.3.0 Try again later"]
    inbox.fail_rcpt = ["450 4.2.1 Mailbox busy"]
    await _sender(plain, attempts=3).send(_code())
    assert len(inbox.received) == 1


async def test_retries_are_bounded_then_retryable(inbox: Inbox, plain: Controller) -> None:
    inbox.fail_data = ["451 4.3.0 Try again later"] * 5
    with pytest.raises(SendError, match="451") as caught:
        await _sender(plain, attempts=3).send(_code())
    assert caught.value.retryable and inbox.attempts == 3 and CODE not in str(caught.value)


async def test_a_permanent_failure_is_final(inbox: Inbox, plain: Controller) -> None:
    inbox.fail_rcpt = ["550 5.1.1 No such user"]
    with pytest.raises(SendError, match="550") as caught:
        await _sender(plain, attempts=3).send(_code())
    assert not caught.value.retryable and not inbox.received


async def test_an_unreachable_server_is_retryable() -> None:
    sender = SmtpSender(
        host="127.0.0.1", port=free_port(), security="none", sender=FROM, attempts=2, backoff=0
    )
    with pytest.raises(SendError, match="cannot reach") as caught:
        await sender.send(_code())
    assert caught.value.retryable


async def test_starttls_with_a_login(inbox: Inbox, certificate: tuple[Path, Path]) -> None:
    server_ctx, client_ctx = _contexts(certificate)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        ok = data.password == b"relay-password"
        return AuthResult(success=ok, handled=False)  # a refusal gets the 535 reply

    for controller in _serve(
        inbox, tls_context=server_ctx, require_starttls=True, authenticator=authenticator
    ):
        sender = _sender(
            controller,
            security="starttls",
            user="itbot",
            password="relay-password",
            tls_context=client_ctx,
        )
        await sender.send(_code())
        wrong = _sender(
            controller, security="starttls", user="itbot", password="nope", tls_context=client_ctx
        )
        with pytest.raises(SendError, match="535") as caught:
            await wrong.send(_code())
        assert not caught.value.retryable
    # aiosmtplib tries each mechanism on offer (PLAIN, LOGIN) before giving up
    assert logins[0] == (b"itbot", b"relay-password")
    assert set(logins[1:]) == {(b"itbot", b"nope")}
    assert len(inbox.received) == 1


async def test_tls_from_the_start(inbox: Inbox, certificate: tuple[Path, Path]) -> None:
    server_ctx, client_ctx = _contexts(certificate)
    for controller in _serve(inbox, ssl_context=server_ctx):
        await _sender(controller, security="tls", tls_context=client_ctx).send(_code())
    assert len(inbox.received) == 1


async def test_plain_server_when_starttls_is_required_is_a_clear_error(
    plain: Controller,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(SendError) as caught:
            await _sender(plain, security="starttls").send(_code())
    assert not caught.value.retryable and "STARTTLS" in str(caught.value).upper()
