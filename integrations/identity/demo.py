"""The built-in DEMO directory: invented people kept in the bot's own database.

For the quick start and tests only (``ITBOT_DIRECTORY=demo``, the default): it lets the
whole reset journey run with no directory server. Every name, number and address in
:data:`DEMO_PEOPLE` is invented; the mobiles are in Ofcom's range reserved for drama
(07700 900000–900999) and the personal emails use reserved example domains.

It behaves like a small real directory: passwords are stored as salted scrypt hashes,
three wrong passwords lock the account (:meth:`DemoDirectory.check_password`), a reset
password must be changed at the next sign-in and revokes the sessions, and a reset MFA
empties the registered methods.

>>> DemoDirectory.name, sorted(DemoDirectory.supports)
('demo', ['reset_mfa', 'reset_password', 'unlock'])
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .base import Contact, DirectoryError, Operation, Person

#: the demo directory's own metadata (the bot's storage collects it for Alembic)
METADATA = sa.MetaData()

demo_directory = sa.Table(
    "demo_directory",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("council", sa.String(64), nullable=False),
    sa.Column("mobile", sa.String(32)),
    sa.Column("personal_email", sa.String(320)),
    sa.Column("privileged", sa.Boolean, nullable=False, default=False),
    sa.Column("locked", sa.Boolean, nullable=False, default=False),
    sa.Column("failed_logins", sa.Integer, nullable=False, default=0),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("must_change_password", sa.Boolean, nullable=False, default=False),
    sa.Column("mfa_methods", sa.JSON, nullable=False, default=list),
    sa.Column("sessions_revoked_at", sa.DateTime(timezone=True)),
)

#: wrong passwords in a row that lock an account
LOCKOUT_AFTER = 3
#: scrypt's cost: 16 MiB and tens of milliseconds a hash (OWASP's minimum is N=2**17 with
#: r=8 for stored passwords; the demo's throwaway passwords don't need more)
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


@dataclass(frozen=True, slots=True)
class DemoPerson:
    """One invented person of the demo directory."""

    email: str
    display_name: str
    council: str
    mobile: str | None = None
    personal_email: str | None = None
    privileged: bool = False
    locked: bool = False
    mfa_methods: tuple[str, ...] = ("Microsoft Authenticator",)


#: DEMO DATA: invented people on the two councils' domains, never real staff
DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("sam.taylor@dacorum.gov.uk", "Sam Taylor", "dacorum", mobile="07700 900123"),
    DemoPerson(  # a personal email only
        "priya.shah@dacorum.gov.uk",
        "Priya Shah",
        "dacorum",
        personal_email="priya.shah@example.org",
    ),
    DemoPerson(  # an administrator: the bot never resets them
        "chris.morgan@dacorum.gov.uk",
        "Chris Morgan",
        "dacorum",
        mobile="07700 900456",
        privileged=True,
        mfa_methods=("Microsoft Authenticator", "FIDO2 security key"),
    ),
    DemoPerson(
        "alex.jones@aylesburyvaledc.gov.uk",
        "Alex Jones",
        "aylesbury-vale",
        mobile="07700 900234",
        personal_email="alex.jones@example.net",
    ),
    DemoPerson(  # locked out after too many wrong passwords
        "jamie.patel@aylesburyvaledc.gov.uk",
        "Jamie Patel",
        "aylesbury-vale",
        mobile="07700 900345",
        locked=True,
    ),
    DemoPerson(  # no alternate contact at all: the desk must help
        "robin.hughes@aylesburyvaledc.gov.uk",
        "Robin Hughes",
        "aylesbury-vale",
        mfa_methods=("Microsoft Authenticator", "SMS to a work phone"),
    ),
)


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64), with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    encoded = [base64.b64encode(part).decode("ascii") for part in (salt, digest)]
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encoded[0]}${encoded[1]}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (compared in constant time).

    >>> verify_password("correct horse", hash_password("correct horse"))
    True
    """
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2**26, dklen=32
    )


#: hashed against when nobody has the address, so an unknown one takes as long
_NOBODY = hash_password(secrets.token_urlsafe(16))


class DemoDirectory:
    """The DEMO directory, in table ``demo_directory`` of the database behind ``engine``.

    The table is created by the bot's migrations; :meth:`seed` fills it with
    :data:`DEMO_PEOPLE`.
    """

    name = "demo"
    supports: frozenset[Operation] = frozenset({"reset_password", "unlock", "reset_mfa"})

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def seed(
        self, people: tuple[DemoPerson, ...] = DEMO_PEOPLE, *, password: str | None = None
    ) -> int:
        """Add the demo people who aren't there yet; how many were added.

        Each gets ``password`` (for demos that sign in), or a random one nobody knows (the
        quick start's people have all "forgotten" theirs). People already present are
        left as they are, so seeding again changes nothing.
        """
        try:
            async with self.engine.begin() as conn:
                present = set(
                    (await conn.execute(sa.select(demo_directory.c.email))).scalars().all()
                )
                missing = [p for p in people if p.email.lower() not in present]
                for person in missing:
                    secret = password if password is not None else secrets.token_urlsafe(24)
                    await conn.execute(
                        demo_directory.insert().values(
                            email=person.email.lower(),
                            display_name=person.display_name,
                            council=person.council,
                            mobile=person.mobile,
                            personal_email=person.personal_email,
                            privileged=person.privileged,
                            locked=person.locked,
                            failed_logins=LOCKOUT_AFTER if person.locked else 0,
                            password_hash=await asyncio.to_thread(hash_password, secret),
                            must_change_password=False,
                            mfa_methods=list(person.mfa_methods),
                        )
                    )
        except IntegrityError:  # another replica seeded the same people just now
            return 0
        except (SQLAlchemyError, OSError) as exc:
            raise DirectoryError(
                f"the demo directory could not be seeded ({type(exc).__name__})", retryable=True
            ) from exc
        return len(missing)

    async def find(self, email: str) -> Person | None:
        async with self._connection("look up a person") as conn:
            row = (
                await conn.execute(
                    sa.select(demo_directory).where(demo_directory.c.email == email.strip().lower())
                )
            ).first()
        if row is None:
            return None
        contacts: list[Contact] = []
        if row.mobile:
            contacts.append(Contact("sms", row.mobile))
        if row.personal_email:
            contacts.append(Contact("email", row.personal_email))
        return Person(
            key=row.email,
            email=row.email,
            display_name=row.display_name,
            contacts=tuple(contacts),
            privileged=bool(row.privileged),
            locked=bool(row.locked),
        )

    async def check_password(self, email: str, password: str) -> bool:
        """A sign-in, as the directory would judge it (for demos and tests).

        A wrong password counts toward the lockout: the third in a row locks the account,
        and a locked account refuses even the right password until it is unlocked.
        """
        async with self._connection("check a password", begin=True) as conn:
            row = (
                await conn.execute(
                    sa.select(demo_directory)
                    .where(demo_directory.c.email == email.strip().lower())
                    .with_for_update()
                )
            ).first()
            stored = row.password_hash if row is not None else _NOBODY
            matches = await asyncio.to_thread(verify_password, password, stored)
            if row is None or row.locked:
                return False
            if matches:
                await self._update(conn, row.email, failed_logins=0)
                return True
            failures = row.failed_logins + 1
            await self._update(
                conn, row.email, failed_logins=failures, locked=failures >= LOCKOUT_AFTER
            )
            return False

    async def reset_password(self, person: Person, temporary: str) -> None:
        hashed = await asyncio.to_thread(hash_password, temporary)
        async with self._connection("reset the password", begin=True) as conn:
            await self._update(
                conn,
                person.key,
                password_hash=hashed,
                must_change_password=True,
                failed_logins=0,
                sessions_revoked_at=datetime.now(UTC),
            )

    async def unlock(self, person: Person) -> None:
        async with self._connection("unlock the account", begin=True) as conn:
            await self._update(conn, person.key, locked=False, failed_logins=0)

    async def reset_mfa(self, person: Person) -> None:
        async with self._connection("reset MFA", begin=True) as conn:
            await self._update(
                conn, person.key, mfa_methods=[], sessions_revoked_at=datetime.now(UTC)
            )

    async def aclose(self) -> None:
        """Nothing to release: the engine belongs to the bot."""

    async def _update(self, conn: AsyncConnection, key: str, **values: Any) -> None:
        result = await conn.execute(
            demo_directory.update().where(demo_directory.c.email == key).values(**values)
        )
        if result.rowcount != 1:
            raise DirectoryError("the demo directory has no such person")

    @contextlib.asynccontextmanager
    async def _connection(
        self, what: str, *, begin: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """A connection (in a transaction when ``begin``); database errors become
        retryable :class:`DirectoryError` naming only their type (SQLAlchemy's messages
        quote the statement's parameters)."""
        try:
            async with self.engine.begin() if begin else self.engine.connect() as conn:
                yield conn
        except (SQLAlchemyError, OSError) as exc:
            raise DirectoryError(
                f"the demo directory could not {what} ({type(exc).__name__})", retryable=True
            ) from exc
