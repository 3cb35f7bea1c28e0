"""A real IMAP server (Debian's ``dovecot-imapd``) for the email channel's tests.

:func:`start` writes, in a fresh folder under the system's temporary directory, a
``dovecot.conf`` that listens on a loopback port with plain IMAP (no TLS), one mailbox in
a passwd-file (:data:`USER`/:data:`PASSWORD`) and Maildir storage in the folder, and runs
``dovecot -F`` until :meth:`Dovecot.stop`. Dovecot refuses to run its login processes as
root, so as root the mail processes run as Debian's ``dovecot`` user and logins as
``dovenull`` (the folder is theirs); as anyone else, everything runs as that user.

Tests deliver mail with IMAP ``APPEND`` (:meth:`Dovecot.append`) and look at flags with
:meth:`Dovecot.flags`, behind the channel's back.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import free_port

DOVECOT = Path(os.environ.get("ITBOT_TEST_DOVECOT", "/usr/sbin/dovecot"))
USER = "ictservicedesk@councils.example"
PASSWORD = "desk-mailbox-password"


def missing() -> str | None:
    """Why Dovecot can't run here, or ``None``."""
    if not DOVECOT.exists():
        return f"{DOVECOT} is not installed (apt-get install dovecot-imapd)"
    if os.geteuid() == 0:
        for name in ("dovecot", "dovenull"):
            try:
                pwd.getpwnam(name)
            except KeyError:
                return f"the {name} user is missing (apt-get install dovecot-imapd)"
    return None


def _users() -> tuple[str, str, int, int]:
    """(internal user, login user, mail uid, mail gid) for the current user."""
    if os.geteuid() == 0:
        mail = pwd.getpwnam("dovecot")
        return "dovecot", "dovenull", mail.pw_uid, mail.pw_gid
    me = pwd.getpwuid(os.geteuid())
    return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid


def _conf(folder: Path, port: int, tls_port: int | None) -> str:
    internal, login, uid, gid = _users()
    group = grp.getgrgid(gid).gr_name
    tls = (
        f"ssl = yes\nssl_cert = <{folder}/cert.pem\nssl_key = <{folder}/key.pem"
        if tls_port
        else "ssl = no"
    )
    return f"""protocols = imap
listen = 127.0.0.1
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
{tls}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{folder}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={folder}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port or 0}
    ssl = yes
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    """One running Dovecot with the desk's mailbox."""

    folder: Path
    port: int
    #: the IMAPS port (TLS from the start), when started with TLS
    tls_port: int | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(DOVECOT), "-F", "-c", str(self.folder / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                self.connect().logout()
                return
            except (OSError, imaplib.IMAP4.error):
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.folder / "dovecot.log"
                self.stop()
                raise RuntimeError(
                    "dovecot did not start:\n" + (log.read_text() if log.exists() else "")
                )
            time.sleep(0.05)

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

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- ground truth, behind the channel's back -------------------------------------

    def connect(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=5)
        try:
            if self.tls_port:
                imap.starttls(ssl.create_default_context(cafile=self.folder / "cert.pem"))
            imap.login(USER, PASSWORD)
            imap.select("INBOX")
        except BaseException:
            imap.shutdown()
            raise
        return imap

    def append(self, raw: bytes) -> str:
        """Deliver ``raw`` to the desk's INBOX (unseen); its UID."""
        imap = self.connect()
        try:
            status, data = imap.append("INBOX", None, None, raw)
            assert status == "OK", data
            found = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
            return found.group(1).decode() if found else ""
        finally:
            imap.logout()

    def flags(self, uid: str) -> str:
        imap = self.connect()
        try:
            _, data = imap.uid("FETCH", uid, "(FLAGS)")
            return (data[0] or b"").decode() if isinstance(data[0], bytes) else str(data[0])
        finally:
            imap.logout()

    def unsee(self, uid: str) -> None:
        """Mark a mail unseen again (as if the channel died before marking it)."""
        imap = self.connect()
        try:
            imap.uid("STORE", uid, "-FLAGS", "(\\Seen)")
        finally:
            imap.logout()


def start(*, tls: bool = False) -> Dovecot:
    """A running Dovecot in a new folder (removed by :meth:`Dovecot.remove`).

    With ``tls``, a self-signed certificate for 127.0.0.1 (``cert.pem`` in the folder):
    STARTTLS on the plain port, TLS from the start on :attr:`Dovecot.tls_port`.
    """
    folder = Path(tempfile.mkdtemp(prefix="itbot-dovecot-"))
    folder.chmod(0o755)  # the mail and login users reach their files through it
    port = free_port()
    tls_port = free_port() if tls else None
    if tls:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
            check=True, capture_output=True,
        )  # fmt: skip
    (folder / "dovecot.conf").write_text(_conf(folder, port, tls_port))
    (folder / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    _, _, uid, gid = _users()
    for sub in ("mail", "home"):
        (folder / sub).mkdir()
        os.chown(folder / sub, uid, gid)
    server = Dovecot(folder, port, tls_port)
    server.start()
    return server
