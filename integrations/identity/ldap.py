"""OpenLDAP (with the ppolicy overlay) and Active Directory, through ldap3.

ldap3 is synchronous, so every call runs in a worker thread (:func:`asyncio.to_thread`),
on its own connection bound as the bot's service account, with connect and receive
timeouts. What each flavour does:

============== ============================================ ===================================
operation      ``openldap``                                 ``ad``
============== ============================================ ===================================
find           ``(&(objectClass=person)(mail=…))``          ``(&(objectClass=user)(mail=…))``
privileged     ``memberOf``, or ``member`` of each group    ``memberOf``, or nested membership
               (compare)                                    (``LDAP_MATCHING_RULE_IN_CHAIN``)
locked         ``pwdAccountLockedTime`` present             UF_LOCKOUT in
                                                            ``msDS-User-Account-Control-Computed``,
                                                            else ``lockoutTime`` > 0
reset_password Password Modify (RFC 3062), ``pwdReset``     ``unicodePwd`` (LDAPS only),
                                                            ``pwdLastSet=0``
unlock         delete ``pwdAccountLockedTime`` (ppolicy     ``lockoutTime=0``
               drops ``pwdFailureTime`` with it)
reset_mfa      not supported: LDAP holds no MFA methods     not supported
============== ============================================ ===================================

A configured privileged group that doesn't exist is an error, never "not a member": the bot
must not reset an administrator because a group DN has a typo.

>>> directory = LdapDirectory(url="ldap://127.0.0.1:389", base="ou=people,dc=x",
...                           bind_dn="cn=itbot,dc=x", bind_password="…")
>>> sorted(directory.supports)
['reset_password', 'unlock']
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import ldap3
from ldap3.core import exceptions as lx
from ldap3.utils.conv import escape_filter_chars

from .base import Contact, DirectoryError, Operation, Person

log = logging.getLogger(__name__)

Flavour = Literal["openldap", "ad"]
T = TypeVar("T")

#: Relax Rules control: lets a ``manage`` account clear ``pwdFailureTime`` (NO-USER-MODIFICATION)
RELAX_RULES = ("1.3.6.1.4.1.4203.666.5.12", True, None)
IN_CHAIN = "1.2.840.113556.1.4.1941"
UF_LOCKOUT = 0x10
#: result codes worth trying again later: timeLimitExceeded, busy, unavailable
RETRYABLE_RESULTS = {3, 51, 52}


class LdapDirectory:
    """People in an LDAP directory; ``flavour`` picks OpenLDAP's ppolicy or AD's attributes."""

    name = "ldap"

    def __init__(
        self,
        *,
        url: str,
        base: str,
        bind_dn: str,
        bind_password: str,
        flavour: Flavour = "openldap",
        privileged_groups: tuple[str, ...] = (),
        mail_attribute: str = "mail",
        mobile_attribute: str = "mobile",
        personal_email_attribute: str | None = None,
        ca_file: Path | None = None,
        timeout: float = 10.0,
        client_strategy: Literal["SYNC", "MOCK_SYNC"] = "SYNC",
    ) -> None:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("ldap", "ldaps") or not parts.hostname:
            raise ValueError(f"not an ldap:// or ldaps:// URL: {url!r}")
        self.secure = parts.scheme == "ldaps"
        self.where = f"{parts.hostname}:{parts.port or (636 if self.secure else 389)}"
        self.base = base
        self.flavour = flavour
        self.privileged_groups = tuple(_tidy(dn) for dn in privileged_groups)
        self.mail_attribute = mail_attribute
        self.mobile_attribute = mobile_attribute
        self.personal_email_attribute = personal_email_attribute
        self.timeout = timeout
        self._bind_dn = bind_dn
        self._bind_password = bind_password
        self._strategy = client_strategy
        self._host, self._port, self._ca_file = parts.hostname, parts.port, ca_file
        #: the Server ldap3's offline MOCK strategies keep their entries on; a real server
        #: gets a new Server object for each call, since ldap3 remembers an address that
        #: once failed as unavailable and would never try it again after a restart
        self.server = self._new_server()
        self.supports: frozenset[Operation] = frozenset({"reset_password", "unlock"})

    # -- the protocol -------------------------------------------------------------------

    async def find(self, email: str) -> Person | None:
        return await self._call("look up a person", lambda conn: self._find(conn, email))

    async def reset_password(self, person: Person, temporary: str) -> None:
        if self.flavour == "ad" and not self.secure:
            raise DirectoryError(
                "Active Directory only accepts a new password over LDAPS; the directory URL "
                "is ldap://, so the password was not changed"
            )
        await self._call(
            "reset the password", lambda conn: self._reset_password(conn, person.key, temporary)
        )

    async def unlock(self, person: Person) -> None:
        await self._call("unlock the account", lambda conn: self._unlock(conn, person.key))

    async def reset_mfa(self, person: Person) -> None:
        raise DirectoryError(
            "an LDAP directory holds no MFA methods; they are reset where they are registered"
        )

    async def aclose(self) -> None:
        """Nothing to release: each call opens and closes its own connection."""

    # -- running a call off the event loop ----------------------------------------------

    async def _call(self, what: str, work: Callable[[ldap3.Connection], T]) -> T:
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self._run, what, work), timeout=self.timeout * 3
            )
        except TimeoutError as exc:
            raise DirectoryError(
                f"the directory at {self.where} did not answer in time to {what}",
                retryable=True,
            ) from exc

    def _new_server(self) -> ldap3.Server:
        tls = None
        if self.secure:
            ca_file = str(self._ca_file) if self._ca_file else None
            tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=ca_file)
        return ldap3.Server(
            self._host,
            port=self._port,
            use_ssl=self.secure,
            tls=tls,
            get_info=ldap3.NONE,
            connect_timeout=self.timeout,
        )

    def _run(self, what: str, work: Callable[[ldap3.Connection], T]) -> T:
        offline = self._strategy == ldap3.MOCK_SYNC
        conn = ldap3.Connection(
            self.server if offline else self._new_server(),
            user=self._bind_dn,
            password=self._bind_password,
            client_strategy=self._strategy,
            receive_timeout=math.ceil(self.timeout),  # ldap3 packs it as an integer
            raise_exceptions=True,
            read_only=False,
        )
        try:
            conn.bind()
            return work(conn)
        except DirectoryError:
            raise
        except lx.LDAPInvalidCredentialsResult as exc:
            raise DirectoryError(
                f"the directory at {self.where} refused the bot's bind DN and password",
            ) from exc
        except lx.LDAPOperationResult as exc:
            said = " ".join(f"{exc.description or ''} {exc.message or ''}".split())
            raise DirectoryError(
                f"the directory at {self.where} refused to {what}: {said or exc.result}",
                retryable=exc.result in RETRYABLE_RESULTS,
            ) from exc
        except (lx.LDAPCommunicationError, lx.LDAPResponseTimeoutError, OSError) as exc:
            raise DirectoryError(
                f"cannot reach the directory at {self.where} to {what} ({type(exc).__name__})",
                retryable=True,
            ) from exc
        except lx.LDAPStartTLSError as exc:
            raise DirectoryError(
                f"no TLS connection to the directory at {self.where} ({type(exc).__name__}); "
                "check its certificate and the CA file",
                retryable=True,
            ) from exc
        except lx.LDAPException as exc:
            raise DirectoryError(
                f"the directory at {self.where} could not {what} ({type(exc).__name__})"
            ) from exc
        finally:
            try:
                if not conn.closed:
                    conn.unbind()
            except (lx.LDAPException, OSError):
                log.debug("unbind from %s failed", self.where)
            # ldap3 leaves the socket of a connection that failed to open on the connection
            sock = getattr(conn, "socket", None)
            if sock is not None:
                sock.close()

    # -- the operations, in the worker thread --------------------------------------------

    def _find(self, conn: ldap3.Connection, email: str) -> Person | None:
        value = escape_filter_chars(email.strip())
        kind = "user" if self.flavour == "ad" else "person"
        wanted = [self.mail_attribute, self.mobile_attribute, "displayName", "cn", "memberOf"]
        if self.personal_email_attribute:
            wanted.append(self.personal_email_attribute)
        if self.flavour == "ad":
            wanted += ["lockoutTime", "msDS-User-Account-Control-Computed"]
        else:
            wanted.append("pwdAccountLockedTime")
        conn.search(
            self.base,
            f"(&(objectClass={kind})({self.mail_attribute}={value}))",
            ldap3.SUBTREE,
            attributes=wanted,
            size_limit=2,
            time_limit=int(self.timeout),
        )
        entries = [r for r in conn.response or [] if r.get("type") == "searchResEntry"]
        if not entries:
            return None
        if len(entries) > 1:
            raise DirectoryError(
                f"more than one account in the directory at {self.where} has this work email; "
                "the desk must sort it out before the bot changes either"
            )
        entry = entries[0]
        dn: str = entry["dn"]
        attrs: dict[str, Any] = entry["attributes"]
        contacts: list[Contact] = []
        for mobile in _values(attrs, self.mobile_attribute)[:1]:
            contacts.append(Contact("sms", mobile))
        if self.personal_email_attribute:
            for address in _values(attrs, self.personal_email_attribute)[:1]:
                contacts.append(Contact("email", address))
        name = (_values(attrs, "displayName") or _values(attrs, "cn") or [email])[0]
        return Person(
            key=dn,
            email=(_values(attrs, self.mail_attribute) or [email.strip()])[0],
            display_name=name,
            contacts=tuple(contacts),
            privileged=self._privileged(conn, dn, _values(attrs, "memberOf")),
            locked=self._locked(attrs),
        )

    def _privileged(self, conn: ldap3.Connection, dn: str, member_of: list[str]) -> bool:
        if not self.privileged_groups:
            return False
        groups = {_normal(g) for g in member_of}
        if any(_normal(g) in groups for g in self.privileged_groups):
            return True
        for group in self.privileged_groups:
            try:
                if self._member(conn, group, dn):
                    return True
            except lx.LDAPNoSuchObjectResult as exc:
                raise DirectoryError(
                    f"the privileged group {group} does not exist in the directory at "
                    f"{self.where}; until the setting names real groups the bot resets nobody"
                ) from exc
        return False

    def _member(self, conn: ldap3.Connection, group: str, dn: str) -> bool:
        if self.flavour == "ad":  # nested groups too
            conn.search(
                group,
                f"(member:{IN_CHAIN}:={escape_filter_chars(dn)})",
                ldap3.BASE,
                attributes=["cn"],
            )
            return any(r.get("type") == "searchResEntry" for r in conn.response or [])
        return _compare(conn, group, "member", dn)

    def _locked(self, attrs: dict[str, Any]) -> bool:
        if self.flavour == "ad":
            computed = _values(attrs, "msDS-User-Account-Control-Computed")
            if computed and computed[0].lstrip("-").isdigit():
                return bool(int(computed[0]) & UF_LOCKOUT)
            lockout = _values(attrs, "lockoutTime")
            return bool(lockout) and lockout[0].isdigit() and int(lockout[0]) > 0
        return bool(_values(attrs, "pwdAccountLockedTime"))

    def _reset_password(self, conn: ldap3.Connection, dn: str, temporary: str) -> None:
        if self.flavour == "ad":
            quoted = f'"{temporary}"'.encode("utf-16-le")
            _modify(
                conn,
                dn,
                {
                    "unicodePwd": [(ldap3.MODIFY_REPLACE, [quoted])],
                    "pwdLastSet": [(ldap3.MODIFY_REPLACE, ["0"])],
                },
            )
            return
        conn.extend.standard.modify_password(user=dn, new_password=temporary)
        _modify(conn, dn, {"pwdReset": [(ldap3.MODIFY_REPLACE, ["TRUE"])]})

    def _unlock(self, conn: ldap3.Connection, dn: str) -> None:
        if self.flavour == "ad":
            _modify(conn, dn, {"lockoutTime": [(ldap3.MODIFY_REPLACE, ["0"])]})
            return
        state = _read(conn, dn, "pwdAccountLockedTime", "pwdFailureTime")
        if _values(state, "pwdAccountLockedTime"):
            _modify(conn, dn, {"pwdAccountLockedTime": [(ldap3.MODIFY_DELETE, [])]})
            state = _read(conn, dn, "pwdFailureTime")
        if _values(state, "pwdFailureTime"):
            # Old failures would lock the account again at the next mistyped password.
            # ppolicy drops them with the lock; older servers need the Relax Rules control.
            try:
                _modify(
                    conn,
                    dn,
                    {"pwdFailureTime": [(ldap3.MODIFY_DELETE, [])]},
                    controls=[RELAX_RULES],
                )
            except lx.LDAPOperationResult as exc:
                log.warning(
                    "unlocked %s but could not clear its failed sign-ins (%s)", dn, exc.description
                )


def _modify(
    conn: ldap3.Connection,
    dn: str,
    changes: dict[str, list[tuple[str, list[Any]]]],
    controls: list[tuple[str, bool, None]] | None = None,
) -> None:
    untyped: Any = conn  # ldap3's stubs leave modify() and compare() untyped
    untyped.modify(dn, changes, controls=controls)


def _compare(conn: ldap3.Connection, dn: str, attribute: str, value: str) -> bool:
    untyped: Any = conn
    return bool(untyped.compare(dn, attribute, value))


def _read(conn: ldap3.Connection, dn: str, *attributes: str) -> dict[str, Any]:
    conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=list(attributes))
    for response in conn.response or []:
        if response.get("type") == "searchResEntry":
            found: dict[str, Any] = response["attributes"]
            return found
    return {}


def _values(attrs: dict[str, Any], name: str) -> list[str]:
    """An attribute's values as text, whatever case the server spelt its name in."""
    for key, value in attrs.items():
        if key.lower() == name.lower():
            items = value if isinstance(value, list) else [value]
            return [
                v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                for v in items
                if v not in (None, "", b"")
            ]
    return []


def _tidy(dn: str) -> str:
    """A DN without spaces around its separators, as ldap3 wants it.

    >>> _tidy("CN=Admins, OU=Groups , dc=x")
    'CN=Admins,OU=Groups,dc=x'
    """
    return ",".join(
        "+".join(
            "=".join(part.strip() for part in ava.split("=", 1))
            for ava in re.split(r"(?<!\\)\+", rdn)
        )
        for rdn in re.split(r"(?<!\\)[,;]", dn)
        if rdn.strip()
    )


def _normal(dn: str) -> str:
    """A DN compared the way servers compare them: case-insensitive, spaces ignored.

    >>> _normal("CN=Admins, OU=Groups,dc=x") == _normal("cn=admins,ou=groups,DC=X")
    True
    """
    return _tidy(dn).lower()
