"""The LDAP adapter against a real slapd with the ppolicy overlay: accounts are locked by
real failed binds, and passwords are checked by binding with them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from integrations.identity.base import Contact, DirectoryError
from integrations.identity.ldap import LdapDirectory
from tests.identity import slapd as ldif
from tests.identity.slapd import ALEX, CHRIS, PRIYA, ROBIN, SAM, Slapd

TEMPORARY = "Tmp-Hazel-Otter-4821"


@pytest.fixture
async def directory(slapd: Slapd) -> AsyncIterator[LdapDirectory]:
    made = connect(slapd)
    yield made
    await made.aclose()


def connect(slapd: Slapd, **changes: Any) -> LdapDirectory:
    values: dict[str, Any] = {
        "url": slapd.url,
        "base": ldif.PEOPLE_BASE,
        "bind_dn": ldif.BOT_DN,
        "bind_password": ldif.BOT_PASSWORD,
        "privileged_groups": (ldif.ADMINS_GROUP,),
        "personal_email_attribute": ldif.PERSONAL_EMAIL_ATTRIBUTE,
        "timeout": 5.0,
    }
    values.update(changes)
    return LdapDirectory(**values)


async def test_finds_a_person_by_mail_whatever_the_case(directory: LdapDirectory) -> None:
    person = await directory.find("Sam.TAYLOR@Dacorum.gov.uk")
    assert person is not None
    assert person.key == SAM.dn
    assert (person.email, person.display_name) == (SAM.mail, "Sam Taylor")
    assert person.contacts == (Contact("sms", "07700 900123"),)
    assert (person.privileged, person.locked) == (False, False)
    assert await directory.find("nobody@dacorum.gov.uk") is None


@pytest.mark.parametrize(
    "typed", ["*", "*)(mail=*", "sam.taylor@dacorum.gov.uk)(|(mail=*", "*@dacorum.gov.uk", "\\2a"]
)
async def test_filter_injection_finds_nothing(directory: LdapDirectory, typed: str) -> None:
    assert await directory.find(typed) is None


async def test_contacts_mobile_first_then_personal_email(
    slapd: Slapd, directory: LdapDirectory
) -> None:
    alex = await directory.find(ALEX.mail)
    priya = await directory.find(PRIYA.mail)
    robin = await directory.find(ROBIN.mail)
    assert alex and priya and robin
    assert alex.contacts == (
        Contact("sms", "07700 900234"),
        Contact("email", "alex.jones@example.org"),
    )
    assert priya.contacts == (Contact("email", "priya.shah@example.net"),)
    assert robin.contacts == ()

    mobile_only = connect(slapd, personal_email_attribute=None)
    alex = await mobile_only.find(ALEX.mail)
    assert alex and alex.contacts == (Contact("sms", "07700 900234"),)


async def test_members_of_a_privileged_group_are_privileged(
    slapd: Slapd, directory: LdapDirectory
) -> None:
    chris = await directory.find(CHRIS.mail)
    assert chris is not None and chris.privileged
    spaced = connect(
        slapd, privileged_groups=("CN=Administrators, OU=groups, DC=councils,DC=example",)
    )
    chris = await spaced.find(CHRIS.mail)
    assert chris is not None and chris.privileged
    nobody_privileged = connect(slapd, privileged_groups=())
    chris = await nobody_privileged.find(CHRIS.mail)
    assert chris is not None and not chris.privileged


async def test_a_privileged_group_that_does_not_exist_is_an_error(slapd: Slapd) -> None:
    typo = connect(slapd, privileged_groups=("cn=adminstrators,ou=groups,dc=councils,dc=example",))
    with pytest.raises(DirectoryError, match="does not exist") as caught:
        await typo.find(SAM.mail)
    assert not caught.value.retryable


async def test_failed_binds_lock_the_account_and_unlock_clears_it(
    slapd: Slapd, directory: LdapDirectory
) -> None:
    for _ in range(3):
        assert not slapd.binds(SAM.dn, "not-my-password")
    assert slapd.read(SAM.dn, "pwdAccountLockedTime")
    assert not slapd.binds(SAM.dn, SAM.password)  # locked: even the right password fails
    sam = await directory.find(SAM.mail)
    assert sam is not None and sam.locked is True

    await directory.unlock(sam)

    assert "pwdAccountLockedTime" not in slapd.read(SAM.dn, "pwdAccountLockedTime")
    assert "pwdFailureTime" not in slapd.read(SAM.dn, "pwdFailureTime")
    after = await directory.find(SAM.mail)
    assert after is not None and after.locked is False
    # the old failures are gone: two more mistakes don't lock again
    assert not slapd.binds(SAM.dn, "not-my-password")
    assert not slapd.binds(SAM.dn, "not-my-password")
    assert slapd.binds(SAM.dn, SAM.password)


async def test_unlocking_an_account_that_is_not_locked_changes_nothing(
    slapd: Slapd, directory: LdapDirectory
) -> None:
    sam = await directory.find(SAM.mail)
    assert sam is not None
    await directory.unlock(sam)
    assert slapd.binds(SAM.dn, SAM.password)


async def test_reset_password_sets_a_temporary_password_that_must_change(
    slapd: Slapd, directory: LdapDirectory
) -> None:
    alex = await directory.find(ALEX.mail)
    assert alex is not None

    await directory.reset_password(alex, TEMPORARY)

    assert slapd.binds(ALEX.dn, TEMPORARY)
    assert not slapd.binds(ALEX.dn, ALEX.password)
    assert slapd.read(ALEX.dn, "pwdReset") == {"pwdReset": ["TRUE"]}


async def test_reset_password_of_a_locked_account_lets_the_temporary_one_in(
    slapd: Slapd, directory: LdapDirectory
) -> None:
    for _ in range(3):
        slapd.binds(PRIYA.dn, "wrong")
    priya = await directory.find(PRIYA.mail)
    assert priya is not None and priya.locked
    await directory.reset_password(priya, TEMPORARY)
    assert slapd.binds(PRIYA.dn, TEMPORARY)


async def test_ldap_holds_no_mfa_methods(directory: LdapDirectory) -> None:
    assert directory.supports == {"reset_password", "unlock"}
    sam = await directory.find(SAM.mail)
    assert sam is not None
    with pytest.raises(DirectoryError) as caught:
        await directory.reset_mfa(sam)
    assert not caught.value.retryable


async def test_a_stopped_server_is_a_retryable_error(
    slapd: Slapd, directory: LdapDirectory
) -> None:
    sam = await directory.find(SAM.mail)
    assert sam is not None
    slapd.stop()
    for call in (
        directory.find(SAM.mail),
        directory.reset_password(sam, TEMPORARY),
        directory.unlock(sam),
    ):
        with pytest.raises(DirectoryError, match="cannot reach") as caught:
            await call
        assert caught.value.retryable
        assert TEMPORARY not in str(caught.value)
    slapd.start()
    assert await directory.find(SAM.mail) == sam


async def test_wrong_bind_credentials_are_not_retryable_and_not_repeated(slapd: Slapd) -> None:
    wrong = connect(slapd, bind_password="wrong-bot-password")
    with pytest.raises(DirectoryError, match="refused the bot's bind") as caught:
        await wrong.find(SAM.mail)
    assert not caught.value.retryable
    assert "wrong-bot-password" not in str(caught.value)


async def test_a_refused_change_names_no_password(slapd: Slapd, directory: LdapDirectory) -> None:
    sam = await directory.find(SAM.mail)
    assert sam is not None
    gone = type(sam)(key=f"uid=gone,{ldif.PEOPLE_BASE}", email="gone@dacorum.gov.uk",
                     display_name="Gone")  # fmt: skip
    with pytest.raises(DirectoryError, match="refused to reset the password") as caught:
        await directory.reset_password(gone, TEMPORARY)
    assert not caught.value.retryable
    assert TEMPORARY not in str(caught.value)
    assert TEMPORARY not in repr(caught.value.__cause__)


async def test_two_accounts_with_one_mail_are_an_error(
    slapd: Slapd, directory: LdapDirectory
) -> None:
    for person in (ROBIN, CHRIS):
        slapd.replace(person.dn, "mail", SAM.mail.upper())
    with pytest.raises(DirectoryError, match="more than one account") as caught:
        await directory.find(SAM.mail)
    assert not caught.value.retryable
