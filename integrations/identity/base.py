"""The directory protocol every identity adapter implements, and the values it trades in.

The bot asks a directory four things: who has this work email (:meth:`Directory.find`),
and, once that person has proven who they are, to reset their password, clear a lockout or
remove their MFA methods. Adapters never decide *whether* a reset is allowed (the bot does:
privileged accounts, throttles, codes); they report the facts (:attr:`Person.privileged`,
:attr:`Person.contacts`) and carry out the change.

A call that fails raises :class:`DirectoryError`; ``retryable`` says whether trying again
later may work (timeouts, 429, 5xx) or not (bad credentials, 403, a refused operation).
Messages never hold a password.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

ContactKind = Literal["sms", "email"]
Operation = Literal["reset_password", "unlock", "reset_mfa"]


@dataclass(frozen=True, slots=True)
class Contact:
    """Somewhere other than the work account to send a code: a mobile or a personal email."""

    kind: ContactKind
    address: str

    def masked(self) -> str:
        """How the bot names it to the person, without giving it away.

        >>> Contact("sms", "07700 900123").masked(), Contact("email", "sam@example.org").masked()
        ('your mobile ending 123', 'your personal email s…@example.org')
        """
        if self.kind == "sms":
            digits = "".join(ch for ch in self.address if ch.isdigit())
            return f"your mobile ending {digits[-3:]}"
        local, _, domain = self.address.partition("@")
        return f"your personal email {local[:1]}…@{domain}"


@dataclass(frozen=True, slots=True)
class Person:
    """One account as the directory knows it.

    ``key`` is the directory's own handle (a DN, an Entra object id, a Google user key,
    the email for the demo directory); adapters get their ``Person`` back unchanged.
    """

    key: str
    email: str
    display_name: str
    #: alternate contacts, preferred first (mobile before personal email)
    contacts: tuple[Contact, ...] = ()
    #: a member of a configured administrators' group: never reset by the bot
    privileged: bool = False
    #: locked out now (``None``: the directory can't tell)
    locked: bool | None = None


class DirectoryError(Exception):
    """The directory could not do what was asked. Never carries a password."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class Directory(Protocol):
    """What the bot needs from a directory. Every method may raise :class:`DirectoryError`."""

    #: ``demo``, ``ldap``, ``graph`` or ``google`` (shown in the audit log)
    name: str
    #: what this directory can do (OpenLDAP holds no MFA methods; Entra lockouts can't be
    #: cleared through Graph): the bot sends anything else to the desk as a ticket
    supports: frozenset[Operation]

    async def find(self, email: str) -> Person | None:
        """The account whose work email is ``email`` (case-insensitive), or ``None``."""
        ...

    async def reset_password(self, person: Person, temporary: str) -> None:
        """Set ``temporary`` as the password; it must be changed at the next sign-in.

        Also revokes the person's sign-in sessions where the directory supports it.
        """
        ...

    async def unlock(self, person: Person) -> None:
        """Clear a lockout caused by failed sign-ins."""
        ...

    async def reset_mfa(self, person: Person) -> None:
        """Remove the registered MFA methods, so the person registers again at next sign-in."""
        ...

    async def aclose(self) -> None:
        """Release connections and sessions."""
        ...
