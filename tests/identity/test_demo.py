"""The built-in demo directory on SQLite and PostgreSQL, in a database the project's own
migrations created."""

from __future__ import annotations

import sqlalchemy as sa

from bot.storage import Database
from integrations.identity.base import Contact, Person
from integrations.identity.demo import DEMO_PEOPLE, DemoDirectory, demo_directory

TEMPORARY = "Tmp-Hazel-Otter-4821"
SAM = "sam.taylor@dacorum.gov.uk"
ALEX = "alex.jones@aylesburyvaledc.gov.uk"


async def row(db: Database, email: str) -> sa.Row[tuple[object, ...]]:
    async with db.engine.connect() as conn:
        return (
            await conn.execute(sa.select(demo_directory).where(demo_directory.c.email == email))
        ).one()


async def seeded(db: Database, password: str | None = None) -> DemoDirectory:
    directory = DemoDirectory(db.engine)
    await directory.seed(password=password)
    return directory


async def test_seeding_twice_adds_the_demo_people_once(db: Database) -> None:
    directory = DemoDirectory(db.engine)
    assert await directory.seed() == len(DEMO_PEOPLE)
    sam = await directory.find(SAM)
    assert sam is not None
    await directory.unlock(sam)
    before = await row(db, SAM)

    assert await directory.seed() == 0

    async with db.engine.connect() as conn:
        count = await conn.scalar(sa.select(sa.func.count()).select_from(demo_directory))
    assert count == len(DEMO_PEOPLE)
    assert await row(db, SAM) == before  # nothing a demo changed is undone


async def test_the_demo_people_cover_every_case(db: Database) -> None:
    directory = await seeded(db)
    people = [await directory.find(p.email) for p in DEMO_PEOPLE]
    assert all(p is not None for p in people)
    found = [p for p in people if p is not None]
    assert await directory.find("Sam.Taylor@Dacorum.gov.uk") == Person(
        key=SAM,
        email=SAM,
        display_name="Sam Taylor",
        contacts=(Contact("sms", "07700 900123"),),
        privileged=False,
        locked=False,
    )
    alex = await directory.find(ALEX)
    assert alex is not None and alex.contacts[0] == Contact("sms", "07700 900234")
    assert any(p.privileged for p in found)
    assert any(p.locked for p in found)
    assert any(p.contacts == () for p in found)
    assert any([c.kind for c in p.contacts] == ["email"] for p in found)
    for person in found:
        for contact in person.contacts:
            if contact.kind == "sms":
                digits = contact.address.replace(" ", "")
                assert digits.startswith("07700900") and len(digits) == 11
    for domain in ("dacorum.gov.uk", "aylesburyvaledc.gov.uk"):
        assert sum(p.email.endswith("@" + domain) for p in found) >= 2
    assert await directory.find("nobody@dacorum.gov.uk") is None


async def test_passwords_are_stored_as_salted_scrypt_hashes(db: Database) -> None:
    directory = await seeded(db, password="Demo-Password-1")
    sam, alex = await row(db, SAM), await row(db, ALEX)
    assert str(sam.password_hash).startswith("scrypt$")
    assert "Demo-Password-1" not in str(sam.password_hash)
    assert sam.password_hash != alex.password_hash  # salted
    assert await directory.check_password(SAM, "Demo-Password-1")


async def test_reset_password_sets_a_temporary_one_that_must_change(db: Database) -> None:
    directory = await seeded(db, password="Demo-Password-1")
    sam = await directory.find(SAM)
    assert sam is not None

    await directory.reset_password(sam, TEMPORARY)

    assert await directory.check_password(SAM, TEMPORARY)
    assert not await directory.check_password(SAM, "Demo-Password-1")
    stored = await row(db, SAM)
    assert stored.must_change_password is True
    assert stored.sessions_revoked_at is not None
    assert TEMPORARY not in str(stored.password_hash)


async def test_three_wrong_passwords_lock_and_unlock_lets_the_right_one_in(
    db: Database,
) -> None:
    directory = await seeded(db, password="Demo-Password-1")
    for _ in range(2):
        assert not await directory.check_password(ALEX, "guess")
    assert await directory.check_password(ALEX, "Demo-Password-1")  # resets the count
    for _ in range(3):
        assert not await directory.check_password(ALEX, "guess")
    alex = await directory.find(ALEX)
    assert alex is not None and alex.locked is True
    assert not await directory.check_password(ALEX, "Demo-Password-1")  # even the right one

    await directory.unlock(alex)

    after = await directory.find(ALEX)
    assert after is not None and after.locked is False
    assert await directory.check_password(ALEX, "Demo-Password-1")
    assert not await directory.check_password("nobody@dacorum.gov.uk", "anything")


async def test_reset_mfa_removes_every_method(db: Database) -> None:
    directory = await seeded(db)
    sam = await directory.find(SAM)
    assert sam is not None
    assert (await row(db, SAM)).mfa_methods == ["Microsoft Authenticator"]

    await directory.reset_mfa(sam)

    assert (await row(db, SAM)).mfa_methods == []
    assert directory.supports == {"reset_password", "unlock", "reset_mfa"}
    assert directory.name == "demo"
