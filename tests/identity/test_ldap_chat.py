"""The issue's check, from outside: ``itbot chat --as`` with ``ITBOT_DIRECTORY=ldap`` against
a real slapd and ``ITBOT_NOTIFY=file:PATH``.

Each ``itbot chat`` run is a separate process on the same SQLite file, so a conversation
goes on across runs as it does across a person's messages.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from tests.conftest import itbot_command
from tests.identity.slapd import (
    ADMINS_GROUP,
    BOT_DN,
    BOT_PASSWORD,
    CHRIS,
    PEOPLE_BASE,
    ROBIN,
    SAM,
    Slapd,
)


class Terminal:
    def __init__(self, slapd: Slapd, folder: Path) -> None:
        self.folder = folder
        self.outbox = folder / "notify.jsonl"
        self.env = {
            **os.environ,
            "ITBOT_SEMANTIC": "off",
            "ITBOT_DIRECTORY": "ldap",
            "ITBOT_LDAP_URL": slapd.url,
            "ITBOT_LDAP_BASE": PEOPLE_BASE,
            "ITBOT_LDAP_BIND_DN": BOT_DN,
            "ITBOT_LDAP_BIND_PASSWORD": BOT_PASSWORD,
            "ITBOT_LDAP_PRIVILEGED_GROUPS": ADMINS_GROUP,
            "ITBOT_NOTIFY": f"file:{self.outbox}",
        }

    def chat(self, email: str, *lines: str) -> str:
        result = subprocess.run(
            [*itbot_command(), "chat", "--as", email],
            input="".join(f"{line}\n" for line in lines),
            capture_output=True,
            text=True,
            cwd=self.folder,
            env=self.env,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def sent(self) -> list[dict[str, str]]:
        if not self.outbox.exists():
            return []
        return [json.loads(line) for line in self.outbox.read_text().splitlines()]

    def code_for(self, mobile: str) -> str:
        codes = [m for m in self.sent() if m["to"] == mobile and "code" in m["text"]]
        assert codes, self.sent()
        return codes[-1]["text"][:6]


def test_a_password_reset_against_slapd(slapd: Slapd, tmp_path: Path) -> None:
    term = Terminal(slapd, tmp_path)
    printed = term.chat(SAM.mail, "I forgot my password")
    assert "your mobile ending 123" in printed
    code = term.code_for(SAM.mobile or "")
    printed = term.chat(SAM.mail, code)
    found = re.search(r"temporary password is:\s+(\S+)", printed)
    assert found, printed
    assert slapd.binds(SAM.dn, found.group(1))  # the temporary password binds
    assert not slapd.binds(SAM.dn, SAM.password)  # the old one doesn't
    assert slapd.read(SAM.dn, "pwdReset")["pwdReset"] == ["TRUE"]
    assert "password was reset" in term.sent()[-1]["text"]


def test_unlocking_a_really_locked_account(slapd: Slapd, tmp_path: Path) -> None:
    for _ in range(3):
        assert not slapd.binds(SAM.dn, "a wrong password")
    assert not slapd.binds(SAM.dn, SAM.password)  # locked for real
    term = Terminal(slapd, tmp_path)
    term.chat(SAM.mail, "I'm locked out of my account")
    printed = term.chat(SAM.mail, term.code_for(SAM.mobile or ""))
    assert "your account is unlocked" in printed
    assert slapd.binds(SAM.dn, SAM.password)


def test_an_administrator_and_someone_without_a_mobile_are_refused(
    slapd: Slapd, tmp_path: Path
) -> None:
    term = Terminal(slapd, tmp_path)
    admin = term.chat(CHRIS.mail, "reset my password")
    nobody = term.chat(ROBIN.mail, "reset my password")
    for printed in (admin, nobody):
        assert "passed it to the Joint ICT Service Desk as JSD-" in printed
    assert term.sent() == []  # nothing sent
    assert slapd.binds(CHRIS.dn, CHRIS.password)  # nothing changed
    assert slapd.binds(ROBIN.dn, ROBIN.password)


def test_five_wrong_codes_end_the_attempt(slapd: Slapd, tmp_path: Path) -> None:
    term = Terminal(slapd, tmp_path)
    term.chat(SAM.mail, "reset my password")
    code = term.code_for(SAM.mobile or "")
    wrong = "000000" if code != "000000" else "111111"
    printed = term.chat(SAM.mail, *[wrong] * 5)
    assert "five wrong codes" in printed
    printed = term.chat(SAM.mail, code)
    assert "temporary password" not in printed
    assert slapd.binds(SAM.dn, SAM.password)  # nothing changed
