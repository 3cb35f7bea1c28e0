"""The LDAP adapter's Active Directory flavour, on ldap3's offline MOCK_SYNC strategy.

There is no Active Directory here: these tests check the attributes the adapter reads
and the modifications it sends (``unicodePwd``, ``pwdLastSet``, ``lockoutTime``) as
ldap3 records them. They do not show that a real domain controller accepts them.
"""

from __future__ import annotations

from typing import Any

import ldap3
import pytest

from integrations.identity.base import Contact, DirectoryError, Person
from integrations.identity.ldap import LdapDirectory

BASE = "OU=Staff,DC=councils,DC=example"
BOT = "CN=itbot,OU=Service Accounts,DC=councils,DC=example"
ADMINS = "CN=Domain Admins,CN=Users,DC=councils,DC=example"
SAM = f"CN=Sam Taylor,{BASE}"
CHRIS = f"CN=Chris Morgan,{BASE}"
TEMPORARY = "Tmp-Hazel-Otter-4821"


def active_directory(url: str = "ldaps://dc1.councils.example", **changes: Any) -> LdapDirectory:
    values: dict[str, Any] = {
        "url": url,
        "base": BASE,
        "bind_dn": BOT,
        "bind_password": "bot-password",
        "flavour": "ad",
        "privileged_groups": (ADMINS,),
        "client_strategy": ldap3.MOCK_SYNC,
    }
    values.update(changes)
    directory = LdapDirectory(**values)
    seed = ldap3.Connection(directory.server, client_strategy=ldap3.MOCK_SYNC)
    seed.strategy.add_entry(BOT, {"objectClass": ["user"], "userPassword": "bot-password"})
    seed.strategy.add_entry(
        SAM,
        {
            "objectClass": ["top", "person", "organizationalPerson", "user"],
            "displayName": "Sam Taylor",
            "mail": "sam.taylor@dacorum.gov.uk",
            "mobile": "07700 900123",
            "lockoutTime": "133700000000000000",
            "pwdLastSet": "133600000000000000",
            "memberOf": [f"CN=Finance,{BASE}"],
        },
    )
    seed.strategy.add_entry(
        CHRIS,
        {
            "objectClass": ["top", "person", "organizationalPerson", "user"],
            "displayName": "Chris Morgan",
            "mail": "chris.morgan@dacorum.gov.uk",
            "lockoutTime": "0",
            "memberOf": [ADMINS.upper()],
        },
    )
    return directory


def stored(directory: LdapDirectory, dn: str, attribute: str) -> list[Any]:
    server: Any = directory.server  # the MOCK strategies' entries live on the server
    values: list[Any] = server.dit[dn][attribute]
    return values


async def test_finds_a_person_and_reads_the_lockout() -> None:
    # no privileged groups here: the mock can't evaluate AD's nested-membership filter
    directory = active_directory(privileged_groups=())
    sam = await directory.find("sam.taylor@dacorum.gov.uk")
    assert sam == Person(
        key=SAM,
        email="sam.taylor@dacorum.gov.uk",
        display_name="Sam Taylor",
        contacts=(Contact("sms", "07700 900123"),),
        privileged=False,
        locked=True,
    )


async def test_member_of_a_privileged_group_by_memberof() -> None:
    directory = active_directory()
    chris = await directory.find("chris.morgan@dacorum.gov.uk")
    assert chris is not None and chris.privileged and chris.locked is False


async def test_reset_password_sends_unicodepwd_quoted_in_utf16_and_pwdlastset_zero() -> None:
    directory = active_directory(privileged_groups=())
    sam = await directory.find("sam.taylor@dacorum.gov.uk")
    assert sam is not None

    await directory.reset_password(sam, TEMPORARY)

    assert stored(directory, SAM, "unicodePwd") == [f'"{TEMPORARY}"'.encode("utf-16-le")]
    assert stored(directory, SAM, "pwdLastSet") == [b"0"]


async def test_unlock_sets_lockouttime_to_zero() -> None:
    directory = active_directory(privileged_groups=())
    sam = await directory.find("sam.taylor@dacorum.gov.uk")
    assert sam is not None and sam.locked

    await directory.unlock(sam)

    assert stored(directory, SAM, "lockoutTime") == [b"0"]
    after = await directory.find("sam.taylor@dacorum.gov.uk")
    assert after is not None and after.locked is False


async def test_no_password_over_plain_ldap() -> None:
    directory = active_directory("ldap://dc1.councils.example", privileged_groups=())
    sam = await directory.find("sam.taylor@dacorum.gov.uk")
    assert sam is not None
    with pytest.raises(DirectoryError, match="LDAPS") as caught:
        await directory.reset_password(sam, TEMPORARY)
    assert not caught.value.retryable
    assert TEMPORARY not in str(caught.value)
    server: Any = directory.server
    assert "unicodePwd" not in server.dit[SAM]


async def test_active_directory_holds_no_mfa_methods_for_the_bot() -> None:
    directory = active_directory()
    assert "reset_mfa" not in directory.supports
