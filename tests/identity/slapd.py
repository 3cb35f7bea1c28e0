"""A real OpenLDAP server (Debian's ``slapd``) for the LDAP adapter's tests.

:func:`start` writes, in a temporary folder, a ``slapd.conf`` with the core, cosine and
inetorgperson schemas, ``back_mdb`` and the ``ppolicy`` overlay (its schema is built into
slapd 2.5), a default password policy that locks an account after three failed binds and
makes a reset password one that must be changed; loads :data:`PEOPLE` and the rest with
``slapadd``; and runs ``slapd -h ldap://127.0.0.1:PORT/`` until :meth:`Slapd.stop`.

The bot binds as a service account (``cn=itbot,ou=services,…``) with ``manage`` rights,
as a council would set it up, not as the rootdn (which password policy exempts).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ldap3
from ldap3.core.exceptions import LDAPException

from tests.conftest import free_port

SLAPD = Path(os.environ.get("ITBOT_TEST_SLAPD", "/usr/sbin/slapd"))
SLAPADD = Path(os.environ.get("ITBOT_TEST_SLAPADD", "/usr/sbin/slapadd"))
MODULES = Path("/usr/lib/ldap")
SCHEMAS = Path("/etc/ldap/schema")

BASE = "dc=councils,dc=example"
PEOPLE_BASE = f"ou=people,{BASE}"
ADMINS_GROUP = f"cn=administrators,ou=groups,{BASE}"
BOT_DN = f"cn=itbot,ou=services,{BASE}"
BOT_PASSWORD = "bot-service-password"
ROOT_DN = f"cn=root,{BASE}"
ROOT_PASSWORD = "root-password"
PERSONAL_EMAIL_ATTRIBUTE = "email"  # pkcs9 email, allowed by extensibleObject


@dataclass(frozen=True)
class Entry:
    uid: str
    name: str
    mail: str
    password: str
    mobile: str | None = None
    personal_email: str | None = None

    @property
    def dn(self) -> str:
        return f"uid={self.uid},{PEOPLE_BASE}"


SAM = Entry("sam.taylor", "Sam Taylor", "sam.taylor@dacorum.gov.uk", "Sam-old-pw-1", "07700 900123")
ALEX = Entry(
    "alex.jones",
    "Alex Jones",
    "alex.jones@aylesburyvaledc.gov.uk",
    "Alex-old-pw-2",
    "07700 900234",
    "alex.jones@example.org",
)
PRIYA = Entry(  # no mobile, a personal email only
    "priya.shah", "Priya Shah", "priya.shah@dacorum.gov.uk", "Priya-old-pw-3", None,
    "priya.shah@example.net",
)  # fmt: skip
ROBIN = Entry(  # no alternate contact at all
    "robin.hughes", "Robin Hughes", "robin.hughes@aylesburyvaledc.gov.uk", "Robin-old-pw-4"
)
CHRIS = Entry(  # in the administrators' group
    "chris.morgan", "Chris Morgan", "chris.morgan@dacorum.gov.uk", "Chris-old-pw-5", "07700 900456"
)
PEOPLE = (SAM, ALEX, PRIYA, ROBIN, CHRIS)


def ssha(password: str) -> str:
    """``{SSHA}`` as slapd stores it: SHA-1 over password + salt, then the salt."""
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt, usedforsecurity=False).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def _ldif() -> str:
    blocks = [
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: councils\n"
        "o: Joint ICT Service (test)",
        *(
            f"dn: ou={ou},{BASE}\nobjectClass: organizationalUnit\nou: {ou}"
            for ou in ("people", "groups", "policies", "services")
        ),
        f"dn: cn=default,ou=policies,{BASE}\nobjectClass: organizationalRole\n"
        "objectClass: pwdPolicy\ncn: default\npwdAttribute: userPassword\npwdLockout: TRUE\n"
        "pwdMaxFailure: 3\npwdMustChange: TRUE\npwdAllowUserChange: TRUE\n"
        "pwdLockoutDuration: 0",
        f"dn: {BOT_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: itbot\nuserPassword: {ssha(BOT_PASSWORD)}",
    ]
    for person in PEOPLE:
        given, _, family = person.name.partition(" ")
        lines = [
            f"dn: {person.dn}",
            "objectClass: inetOrgPerson",
            "objectClass: extensibleObject",
            f"uid: {person.uid}",
            f"cn: {person.name}",
            f"givenName: {given}",
            f"sn: {family}",
            f"displayName: {person.name}",
            f"mail: {person.mail}",
            f"userPassword: {ssha(person.password)}",
        ]
        if person.mobile:
            lines.append(f"mobile: {person.mobile}")
        if person.personal_email:
            lines.append(f"{PERSONAL_EMAIL_ATTRIBUTE}: {person.personal_email}")
        blocks.append("\n".join(lines))
    blocks.append(
        f"dn: {ADMINS_GROUP}\nobjectClass: groupOfNames\ncn: administrators\nmember: {CHRIS.dn}"
    )
    return "\n\n".join(blocks) + "\n"


def _conf(folder: Path) -> str:
    schemas = "\n".join(
        f"include {SCHEMAS / name}.schema" for name in ("core", "cosine", "inetorgperson")
    )
    return f"""{schemas}
modulepath {MODULES}
moduleload back_mdb
moduleload ppolicy
pidfile {folder / "slapd.pid"}
argsfile {folder / "slapd.args"}

database mdb
maxsize 16777216
suffix "{BASE}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PASSWORD}
directory {folder / "data"}

overlay ppolicy
ppolicy_default "cn=default,ou=policies,{BASE}"
ppolicy_use_lockout

access to attrs=userPassword
    by dn.exact="{BOT_DN}" manage
    by self write
    by anonymous auth
    by * none
access to *
    by dn.exact="{BOT_DN}" manage
    by * read
"""


def missing() -> str | None:
    """Why slapd can't run here, or ``None``."""
    for tool in (SLAPD, SLAPADD):
        if not tool.exists():
            return f"{tool} is not installed (apt-get install slapd ldap-utils)"
    if not (MODULES / "ppolicy.so").exists():
        return f"slapd's ppolicy module is not in {MODULES}"
    return None


@dataclass
class Slapd:
    """One running slapd; :meth:`stop` and :meth:`start` keep its port and data."""

    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}/"

    def start(self) -> None:
        log = (self.folder / "slapd.log").open("ab")
        self.process = subprocess.Popen(
            [str(SLAPD), "-d", "0", "-h", self.url, "-f", str(self.folder / "slapd.conf")],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                if self._answers():
                    return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    "slapd did not start:\n" + (self.folder / "slapd.log").read_text()
                )
            time.sleep(0.05)

    def _answers(self) -> bool:
        try:
            self.connection(ROOT_DN, ROOT_PASSWORD).unbind()
        except LDAPException:
            return False
        return True

    def stop(self) -> None:
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    # -- ground truth, asked behind the adapter's back --------------------------------

    def connection(self, dn: str, password: str) -> ldap3.Connection:
        server = ldap3.Server("127.0.0.1", self.port, get_info=ldap3.NONE, connect_timeout=5)
        return ldap3.Connection(
            server, dn, password, auto_bind=True, receive_timeout=5, raise_exceptions=True
        )

    def binds(self, dn: str, password: str) -> bool:
        """Whether a simple bind as ``dn`` with ``password`` succeeds (a failure counts
        toward the lockout, as any sign-in does)."""
        server = ldap3.Server("127.0.0.1", self.port, get_info=ldap3.NONE, connect_timeout=5)
        conn = ldap3.Connection(server, dn, password, receive_timeout=5)
        try:
            return bool(conn.bind())
        finally:
            conn.unbind()

    def replace(self, dn: str, attribute: str, *values: str) -> None:
        """Change an entry behind the adapter's back, as the rootdn."""
        conn: Any = self.connection(ROOT_DN, ROOT_PASSWORD)  # stubs leave modify() untyped
        try:
            conn.modify(dn, {attribute: [(ldap3.MODIFY_REPLACE, list(values))]})
        finally:
            conn.unbind()

    def read(self, dn: str, *attributes: str) -> dict[str, list[str]]:
        """Attribute values of one entry (operational ones by name), read as the rootdn."""
        conn = self.connection(ROOT_DN, ROOT_PASSWORD)
        try:
            conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=list(attributes))
            found = (conn.response or [])[0]["attributes"]
            return {
                name: [str(v) for v in (value if isinstance(value, list) else [value])]
                for name, value in found.items()
                if value not in ([], None)
            }
        finally:
            conn.unbind()


def start(folder: Path) -> Slapd:
    """Write the configuration, load the entries and start slapd on a free port."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    conf = folder / "slapd.conf"
    conf.write_text(_conf(folder), encoding="utf-8")
    ldif = folder / "entries.ldif"
    ldif.write_text(_ldif(), encoding="utf-8")
    subprocess.run(
        [str(SLAPADD), "-q", "-f", str(conf), "-l", str(ldif)],
        check=True,
        capture_output=True,
    )
    server = Slapd(folder=folder, port=free_port())
    server.start()
    return server


def remove(server: Slapd) -> None:
    server.stop()
    shutil.rmtree(server.folder, ignore_errors=True)
