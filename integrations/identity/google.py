"""Google Workspace through the Admin SDK Directory API: plain aiohttp, and a service
account with domain-wide delegation acting as an administrator.

The service account signs a JWT assertion (RS256, with PyJWT) naming the administrator
as ``sub`` and exchanges it at the token endpoint for an access token (RFC 7523). In the
Admin console, its client id needs the scopes in :data:`SCOPES`. Requests:

- find: ``GET admin/directory/v1/users/{email}`` (404: nobody); privileged when
  ``isAdmin`` or ``isDelegatedAdmin``; contacts ``recoveryPhone`` (SMS), ``recoveryEmail``;
- reset password: ``PATCH …/users/{key}`` with ``password`` and
  ``changePasswordAtNextLogin``, then ``POST …/users/{key}/signOut``;
- reset MFA: ``POST …/users/{key}/twoStepVerification/turnOff``, then sign-out. Turning
  2-Step Verification off is only a reset where the organisation *enforces* it: the person
  must then enrol again at their next sign-in. Where it is not enforced, it would leave
  the account on a password alone, so the adapter refuses (``isEnforcedIn2Sv`` false) and
  the desk handles it.

Google has no lockout the API can clear (it challenges suspicious sign-ins instead), so
``unlock`` is not supported.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import jwt
from jwt.algorithms import RSAAlgorithm
from jwt.exceptions import InvalidKeyError

from .base import Contact, DirectoryError, Operation, Person
from .http import ApiClient, Sleep, fetch_token

SCOPES = (
    "https://www.googleapis.com/auth/admin.directory.user",
    "https://www.googleapis.com/auth/admin.directory.user.security",
)
USERS = "admin/directory/v1/users"


def load_service_account(path: Path) -> dict[str, str]:
    """The fields of a service account key file the adapter needs, checked.

    Raises ``ValueError`` with a message that never quotes the key.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"can't read the service account key file {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("type") != "service_account":
        raise ValueError(f"{path} is not a service account key file (type service_account)")
    missing = [k for k in ("client_email", "private_key") if not isinstance(data.get(k), str)]
    if missing:
        raise ValueError(f"{path} has no {' or '.join(missing)}")
    try:
        RSAAlgorithm(RSAAlgorithm.SHA256).prepare_key(data["private_key"])
    except (ValueError, TypeError, InvalidKeyError) as exc:
        raise ValueError(f"the private key in {path} is not an RSA key in PEM form") from exc
    return {
        "client_email": data["client_email"],
        "private_key": data["private_key"],
        "private_key_id": str(data.get("private_key_id") or ""),
    }


class GoogleDirectory:
    """People in Google Workspace.

    ``credentials`` is the service account's key file (JSON); ``admin`` the administrator
    it acts as.
    """

    name = "google"
    supports: frozenset[Operation] = frozenset({"reset_password", "reset_mfa"})

    def __init__(
        self,
        *,
        credentials: Path,
        admin: str,
        api_url: str = "https://admin.googleapis.com/",
        token_url: str = "https://oauth2.googleapis.com/token",  # noqa: S107 - a URL
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        sleep: Sleep | None = None,
    ) -> None:
        self._account = load_service_account(credentials)
        self._admin = admin
        # Google checks ``aud`` against its token URL exactly: no trailing slash
        self._token_url = token_url.rstrip("/")
        extra: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
        self.api = ApiClient(
            service="Google's Directory API",
            base_url=api_url,
            fetch_token=self._fetch_token,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            **extra,
        )

    def assertion(self) -> str:
        """The signed JWT the token endpoint exchanges for an access token."""
        now = int(time.time())
        claims = {
            "iss": self._account["client_email"],
            "sub": self._admin,
            "scope": " ".join(SCOPES),
            "aud": self._token_url,
            "iat": now,
            "exp": now + 3600,
        }
        kid = self._account["private_key_id"]
        headers = {"kid": kid} if kid else None
        return jwt.encode(claims, self._account["private_key"], algorithm="RS256", headers=headers)

    async def _fetch_token(self, session: aiohttp.ClientSession) -> tuple[str, float]:
        form = {
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": self.assertion(),
        }
        return await fetch_token(session, service="Google", url=self._token_url, form=form)

    async def _user(self, key: str, what: str) -> dict[str, Any] | None:
        status, data = await self.api.call(
            "GET", f"{USERS}/{quote(key, safe='@')}", accept=(404,), what=what
        )
        if status == 404:
            return None
        if not isinstance(data, dict) or not data.get("id"):
            raise DirectoryError(
                "Google's Directory API answered in an unexpected shape; is the URL right?",
                retryable=True,
            )
        return data

    async def find(self, email: str) -> Person | None:
        wanted = email.strip()
        if not wanted or "/" in wanted or "@" not in wanted:
            return None
        user = await self._user(wanted, "look up a person")
        if user is None:
            return None
        contacts: list[Contact] = []
        if isinstance(user.get("recoveryPhone"), str) and user["recoveryPhone"].strip():
            contacts.append(Contact("sms", user["recoveryPhone"].strip()))
        if isinstance(user.get("recoveryEmail"), str) and user["recoveryEmail"].strip():
            contacts.append(Contact("email", user["recoveryEmail"].strip()))
        name = user.get("name") if isinstance(user.get("name"), dict) else {}
        return Person(
            key=str(user["id"]),
            email=str(user.get("primaryEmail") or wanted),
            display_name=str((name or {}).get("fullName") or wanted),
            contacts=tuple(contacts),
            privileged=bool(user.get("isAdmin")) or bool(user.get("isDelegatedAdmin")),
            locked=None,
        )

    async def reset_password(self, person: Person, temporary: str) -> None:
        await self.api.call(
            "PATCH",
            f"{USERS}/{quote(person.key, safe='@')}",
            body={"password": temporary, "changePasswordAtNextLogin": True},
            what="reset the password",
        )
        await self._sign_out(person)

    async def _sign_out(self, person: Person) -> None:
        await self.api.call(
            "POST", f"{USERS}/{quote(person.key, safe='@')}/signOut", what="sign the person out"
        )

    async def unlock(self, person: Person) -> None:
        raise DirectoryError("Google Workspace has no lockout the Directory API can clear")

    async def reset_mfa(self, person: Person) -> None:
        user = await self._user(person.key, "read the person's 2-Step Verification")
        if user is None:
            raise DirectoryError("Google has no such user any more")
        if not user.get("isEnforcedIn2Sv"):
            raise DirectoryError(
                "2-Step Verification is not enforced for this person, so turning it off "
                "would leave the account on a password alone; the desk handles this one"
            )
        if user.get("isEnrolledIn2Sv"):
            await self.api.call(
                "POST",
                f"{USERS}/{quote(person.key, safe='@')}/twoStepVerification/turnOff",
                what="turn 2-Step Verification off",
            )
        await self._sign_out(person)

    async def aclose(self) -> None:
        await self.api.aclose()
