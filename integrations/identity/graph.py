"""Entra ID through Microsoft Graph: plain aiohttp and the OAuth client credentials flow.

The app registration needs the application permissions ``User.Read.All`` (find),
``GroupMember.Read.All`` (privileged groups and roles), ``User-PasswordProfile.ReadWrite.All``
(reset password), ``User.RevokeSessions.All`` and ``UserAuthenticationMethod.ReadWrite.All``
(reset MFA). Requests:

- find: ``GET users?$filter=mail eq '…'`` (quotes doubled, as OData wants);
  privileged: ``POST users/{id}/checkMemberObjects`` with the configured group and
  directory role ids (transitive membership, at most 20 ids a request);
- reset password: ``PATCH users/{id}`` with ``passwordProfile`` (must change at the next
  sign-in), then ``POST users/{id}/revokeSignInSessions``;
- reset MFA: ``GET users/{id}/authentication/methods``, then ``DELETE`` each method but the
  password through its typed endpoint, then revoke the sessions (a lost phone may still be
  signed in). Graph v1.0 can't say which method is the default (only beta's
  ``signInPreferences`` can), and Entra refuses to delete the default while other methods
  remain, so a method whose delete is refused with 400/409 is tried again after the others,
  pass after pass while each pass removes something. Alternate and office phones go before
  the mobile number, which Entra won't remove while they exist.

Entra lockouts (smart lockout) expire on their own and can't be cleared through Graph, so
``unlock`` is not supported.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from .base import Contact, DirectoryError, Operation, Person
from .http import ApiClient, Sleep, fetch_token

SCOPE = "https://graph.microsoft.com/.default"
#: ``@odata.type`` of a method -> the typed endpoint that deletes it
ENDPOINTS = {
    "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod": "microsoftAuthenticatorMethods",
    "#microsoft.graph.phoneAuthenticationMethod": "phoneMethods",
    "#microsoft.graph.fido2AuthenticationMethod": "fido2Methods",
    "#microsoft.graph.softwareOathAuthenticationMethod": "softwareOathMethods",
    "#microsoft.graph.emailAuthenticationMethod": "emailMethods",
    "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod": (
        "windowsHelloForBusinessMethods"
    ),
    "#microsoft.graph.temporaryAccessPassAuthenticationMethod": "temporaryAccessPassMethods",
}
PASSWORD_METHOD = "#microsoft.graph.passwordAuthenticationMethod"  # noqa: S105 - a type name
SELECT = "id,displayName,mail,mobilePhone,otherMails"


class GraphDirectory:
    """People in Entra ID.

    >>> directory = GraphDirectory(tenant="contoso", client_id="app", client_secret="…")
    >>> sorted(directory.supports)
    ['reset_mfa', 'reset_password']
    """

    name = "graph"
    supports: frozenset[Operation] = frozenset({"reset_password", "reset_mfa"})

    def __init__(
        self,
        *,
        tenant: str,
        client_id: str,
        client_secret: str,
        privileged_groups: tuple[str, ...] = (),
        graph_url: str = "https://graph.microsoft.com/v1.0/",
        login_url: str = "https://login.microsoftonline.com/",
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        sleep: Sleep | None = None,
    ) -> None:
        self.privileged_groups = privileged_groups
        login = login_url if login_url.endswith("/") else login_url + "/"
        self._token_url = f"{login}{tenant}/oauth2/v2.0/token"
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": SCOPE,
        }
        extra: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
        self.api = ApiClient(
            service="Microsoft Graph",
            base_url=graph_url,
            fetch_token=self._fetch_token,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            **extra,
        )

    async def _fetch_token(self, session: aiohttp.ClientSession) -> tuple[str, float]:
        return await fetch_token(session, service="Entra", url=self._token_url, form=self._form)

    async def find(self, email: str) -> Person | None:
        quoted = email.strip().replace("'", "''")
        _, data = await self.api.call(
            "GET",
            "users",
            params={"$filter": f"mail eq '{quoted}'", "$select": SELECT},
            what="look up a person",
        )
        users = _list(data, "value")
        if not users:
            return None
        if len(users) > 1:
            raise DirectoryError(
                "more than one Entra account has this work email; the desk must sort it out "
                "before the bot changes either"
            )
        user = users[0]
        user_id = str(user.get("id") or "")
        if not user_id:
            raise DirectoryError("Microsoft Graph answered a user without an id", retryable=True)
        contacts: list[Contact] = []
        if isinstance(user.get("mobilePhone"), str) and user["mobilePhone"].strip():
            contacts.append(Contact("sms", user["mobilePhone"].strip()))
        for other in user.get("otherMails") or []:
            if isinstance(other, str) and other.strip():
                contacts.append(Contact("email", other.strip()))
        return Person(
            key=user_id,
            email=str(user.get("mail") or email.strip()),
            display_name=str(user.get("displayName") or email.strip()),
            contacts=tuple(contacts),
            privileged=await self._privileged(user_id),
            locked=None,
        )

    async def _privileged(self, user_id: str) -> bool:
        ids = list(self.privileged_groups)
        for start in range(0, len(ids), 20):
            _, data = await self.api.call(
                "POST",
                f"users/{user_id}/checkMemberObjects",
                body={"ids": ids[start : start + 20]},
                what="check the person's groups and roles",
            )
            found = data.get("value") if isinstance(data, dict) else None
            if not isinstance(found, list):
                raise DirectoryError(
                    "Microsoft Graph answered checkMemberObjects in an unexpected shape",
                    retryable=True,
                )
            if found:
                return True
        return False

    async def reset_password(self, person: Person, temporary: str) -> None:
        await self.api.call(
            "PATCH",
            f"users/{person.key}",
            body={
                "passwordProfile": {
                    "password": temporary,
                    "forceChangePasswordNextSignIn": True,
                }
            },
            what="reset the password",
        )
        await self._revoke(person)

    async def _revoke(self, person: Person) -> None:
        await self.api.call(
            "POST", f"users/{person.key}/revokeSignInSessions", what="sign the person out"
        )

    async def unlock(self, person: Person) -> None:
        raise DirectoryError(
            "Entra ID lockouts can't be cleared through Microsoft Graph; they end on their own"
        )

    async def reset_mfa(self, person: Person) -> None:
        _, data = await self.api.call(
            "GET",
            f"users/{person.key}/authentication/methods",
            what="list the MFA methods",
        )
        methods = [m for m in _list(data, "value") if m.get("@odata.type") != PASSWORD_METHOD]
        unknown = sorted({str(m.get("@odata.type")) for m in methods} - set(ENDPOINTS))
        pending = sorted(
            (m for m in methods if m.get("@odata.type") in ENDPOINTS), key=_mobile_last
        )
        refusal = ""
        while pending:
            refused: list[dict[str, Any]] = []
            for method in pending:
                endpoint = ENDPOINTS[str(method["@odata.type"])]
                status, answer = await self.api.call(
                    "DELETE",
                    f"users/{person.key}/authentication/{endpoint}/{method.get('id')}",
                    accept=(400, 404, 409),
                    what="remove an MFA method",
                )
                if status in (400, 409):  # the default method, kept while others remain
                    refused.append(method)
                    refusal = _said(answer)
            if len(refused) == len(pending):
                kinds = ", ".join(sorted({ENDPOINTS[str(m["@odata.type"])] for m in refused}))
                raise DirectoryError(
                    f"Entra refused to remove these MFA methods: {kinds} ({refusal})"
                )
            pending = refused
        await self._revoke(person)
        if unknown:
            raise DirectoryError(
                "removed the MFA methods the bot knows; the desk must remove these kinds by "
                f"hand: {', '.join(unknown)}"
            )

    async def aclose(self) -> None:
        await self.api.aclose()


def _mobile_last(method: dict[str, Any]) -> int:
    """Entra won't remove a mobile number while an alternate or office phone exists."""
    return 1 if method.get("phoneType") == "mobile" else 0


def _list(data: Any, key: str) -> list[dict[str, Any]]:
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise DirectoryError(
            "Microsoft Graph answered in an unexpected shape; is the URL right?", retryable=True
        )
    return [item for item in items if isinstance(item, dict)]


def _said(answer: Any) -> str:
    if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
        return str(answer["error"].get("message") or answer["error"].get("code") or "")
    return "no details"
