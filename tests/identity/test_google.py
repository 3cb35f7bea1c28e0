"""The Google Workspace adapter against a fake Google over real HTTP."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from integrations.identity.base import Contact, DirectoryError, Person
from integrations.identity.google import GoogleDirectory
from tests.identity import fake_google
from tests.identity.fake_google import FakeGoogle
from tests.identity.fakes import Sleeps

TEMPORARY = "Tmp-Hazel-Otter-4821"
SAM_ID = "100000000000000000001"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
async def google(key: rsa.RSAPrivateKey) -> AsyncIterator[FakeGoogle]:
    fake = FakeGoogle(key.public_key())
    await fake.served.up()
    yield fake
    await fake.served.down()


@pytest.fixture
def credentials(tmp_path: Path, key: rsa.RSAPrivateKey) -> Path:
    return fake_google.service_account(tmp_path, key)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def directory(
    google: FakeGoogle, credentials: Path, sleeps: Sleeps
) -> AsyncIterator[GoogleDirectory]:
    made = connect(google, credentials, sleeps)
    yield made
    await made.aclose()


def connect(
    google: FakeGoogle, credentials: Path, sleeps: Sleeps, **changes: Any
) -> GoogleDirectory:
    values: dict[str, Any] = {
        "credentials": credentials,
        "admin": fake_google.ADMIN,
        "api_url": google.url,
        "token_url": google.token_url + "/",  # as the setting holds it: Google wants none
        "timeout": 2.0,
        "backoff": 0.25,
        "sleep": sleeps,
    }
    values.update(changes)
    return GoogleDirectory(**values)


async def test_finds_a_person_by_email(google: FakeGoogle, directory: GoogleDirectory) -> None:
    sam = await directory.find("Sam.Taylor@dacorum.gov.uk")
    assert sam == Person(
        key=SAM_ID,
        email="sam.taylor@dacorum.gov.uk",
        display_name="Sam Taylor",
        contacts=(Contact("sms", "+447700900123"), Contact("email", "sam.taylor@example.org")),
        privileged=False,
        locked=None,
    )
    assert await directory.find("nobody@dacorum.gov.uk") is None
    assert await directory.find("../../users/sam.taylor@dacorum.gov.uk") is None
    robin = await directory.find("robin.hughes@aylesburyvaledc.gov.uk")
    assert robin is not None and robin.contacts == ()


async def test_the_assertion_is_signed_for_the_admin_with_the_directory_scopes(
    google: FakeGoogle, directory: GoogleDirectory
) -> None:
    await directory.find("sam.taylor@dacorum.gov.uk")
    (claims,) = google.assertions
    assert claims["iss"] == fake_google.CLIENT_EMAIL
    assert claims["sub"] == fake_google.ADMIN
    assert claims["aud"] == google.token_url
    await directory.find("alex.jones@aylesburyvaledc.gov.uk")
    assert google.tokens.issued == 1  # kept until shortly before it expires


async def test_admins_and_delegated_admins_are_privileged(directory: GoogleDirectory) -> None:
    chris = await directory.find("chris.morgan@dacorum.gov.uk")
    jamie = await directory.find("jamie.patel@aylesburyvaledc.gov.uk")
    assert chris and chris.privileged
    assert jamie and jamie.privileged
    assert jamie.contacts == (Contact("email", "jamie.patel@example.net"),)


async def test_reset_password_must_change_and_signs_out(
    google: FakeGoogle, directory: GoogleDirectory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sam = await directory.find("sam.taylor@dacorum.gov.uk")
    assert sam is not None

    await directory.reset_password(sam, TEMPORARY)

    user = google.users[SAM_ID]
    assert (user.password, user.change_at_next_login, user.signed_out) == (TEMPORARY, True, 1)
    assert TEMPORARY not in caplog.text


async def test_reset_mfa_turns_2sv_off_where_it_is_enforced(
    google: FakeGoogle, directory: GoogleDirectory
) -> None:
    sam = await directory.find("sam.taylor@dacorum.gov.uk")
    assert sam is not None
    await directory.reset_mfa(sam)
    assert not google.users[SAM_ID].isEnrolledIn2Sv
    assert google.users[SAM_ID].signed_out == 1

    robin = await directory.find("robin.hughes@aylesburyvaledc.gov.uk")
    assert robin is not None
    await directory.reset_mfa(robin)  # not enrolled: nothing to turn off
    assert ("POST", f"/admin/directory/v1/users/{robin.key}/twoStepVerification/turnOff") not in (
        google.requests
    )


async def test_reset_mfa_is_refused_where_2sv_is_not_enforced(
    google: FakeGoogle, directory: GoogleDirectory
) -> None:
    alex = await directory.find("alex.jones@aylesburyvaledc.gov.uk")
    assert alex is not None
    with pytest.raises(DirectoryError, match="not enforced") as caught:
        await directory.reset_mfa(alex)
    assert not caught.value.retryable
    assert google.users[alex.key].isEnrolledIn2Sv


async def test_no_lockout_to_clear(directory: GoogleDirectory) -> None:
    assert directory.supports == {"reset_password", "reset_mfa"}
    sam = await directory.find("sam.taylor@dacorum.gov.uk")
    assert sam is not None
    with pytest.raises(DirectoryError):
        await directory.unlock(sam)


async def test_an_assertion_google_rejects_is_not_retryable(
    google: FakeGoogle, credentials: Path, sleeps: Sleeps
) -> None:
    wrong_admin = connect(google, credentials, sleeps, admin="someone@dacorum.gov.uk")
    with pytest.raises(DirectoryError, match="unauthorized_client") as caught:
        await wrong_admin.find("sam.taylor@dacorum.gov.uk")
    assert not caught.value.retryable
    await wrong_admin.aclose()

    other = credentials.parent / "other"
    other.mkdir()
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = fake_google.service_account(other, other_key)  # a key Google doesn't know
    impostor = connect(google, forged, sleeps)
    with pytest.raises(DirectoryError, match="invalid_grant") as caught:
        await impostor.find("sam.taylor@dacorum.gov.uk")
    assert not caught.value.retryable
    assert "PRIVATE KEY" not in str(caught.value)
    await impostor.aclose()


async def test_a_bad_key_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text(json.dumps({"type": "authorized_user"}), encoding="utf-8")
    with pytest.raises(ValueError, match="not a service account key file"):
        GoogleDirectory(credentials=path, admin=fake_google.ADMIN)
    path.write_text(
        json.dumps({"type": "service_account", "client_email": "x@y", "private_key": "nope"}),
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="not an RSA key") as caught:
        GoogleDirectory(credentials=path, admin=fake_google.ADMIN)
    assert "nope" not in str(caught.value)
    with pytest.raises(ValueError, match="can't read"):
        GoogleDirectory(credentials=tmp_path / "missing.json", admin=fake_google.ADMIN)


async def test_a_401_fetches_a_new_token_once(
    google: FakeGoogle, directory: GoogleDirectory
) -> None:
    await directory.find("sam.taylor@dacorum.gov.uk")
    google.tokens.expire_all()
    assert await directory.find("sam.taylor@dacorum.gov.uk") is not None
    assert google.tokens.issued == 2
    google.faults.fail_next(2, status=401)
    with pytest.raises(DirectoryError, match="401") as caught:
        await directory.find("sam.taylor@dacorum.gov.uk")
    assert not caught.value.retryable


async def test_403_is_not_retried(google: FakeGoogle, directory: GoogleDirectory) -> None:
    sam = await directory.find("sam.taylor@dacorum.gov.uk")
    assert sam is not None
    google.faults.fail_next(1, status=403)
    with pytest.raises(DirectoryError, match="403") as caught:
        await directory.reset_password(sam, TEMPORARY)
    assert not caught.value.retryable
    assert TEMPORARY not in str(caught.value)
    assert google.users[SAM_ID].password != TEMPORARY


async def test_429_and_5xx_are_retried_with_waits(
    google: FakeGoogle, sleeps: Sleeps, directory: GoogleDirectory
) -> None:
    google.faults.fail_next(1, status=429, retry_after="2")
    assert await directory.find("sam.taylor@dacorum.gov.uk") is not None
    google.faults.fail_next(2, status=502)
    assert await directory.find("sam.taylor@dacorum.gov.uk") is not None
    assert sleeps.waits == [2.0, 0.25, 0.5]
    google.faults.fail_next(10, status=503)
    with pytest.raises(DirectoryError, match="503") as caught:
        await directory.find("sam.taylor@dacorum.gov.uk")
    assert caught.value.retryable


async def test_google_down_is_a_retryable_error(
    google: FakeGoogle, directory: GoogleDirectory
) -> None:
    await google.served.down()
    with pytest.raises(DirectoryError, match="cannot reach") as caught:
        await directory.find("sam.taylor@dacorum.gov.uk")
    assert caught.value.retryable
