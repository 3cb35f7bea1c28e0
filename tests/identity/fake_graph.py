"""A fake Entra ID over real HTTP: the token endpoint of the client credentials flow and
the Microsoft Graph v1.0 requests the adapter sends, answered in their documented shapes.

It keeps Entra's rules that matter to the adapter: a bearer token on every request, OData
quote escaping in ``$filter``, case-insensitive ``mail``, transitive membership through
``checkMemberObjects``, and the default MFA method that can't be deleted while other
methods remain (nor a mobile number while an alternate phone exists).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.identity.fakes import Faults, Served, Tokens

TENANT = "5f2c7d0e-councils-test"
CLIENT_ID = "itbot-app"
CLIENT_SECRET = "itbot-client-secret-value"
ADMINS_GROUP = "0c1e0b55-admins-group"
HELPDESK_ROLE = "62e90394-helpdesk-admin-role"
TYPES = {
    "microsoftAuthenticatorMethods": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
    "phoneMethods": "#microsoft.graph.phoneAuthenticationMethod",
    "fido2Methods": "#microsoft.graph.fido2AuthenticationMethod",
    "softwareOathMethods": "#microsoft.graph.softwareOathAuthenticationMethod",
    "emailMethods": "#microsoft.graph.emailAuthenticationMethod",
    "windowsHelloForBusinessMethods": (
        "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod"
    ),
    "temporaryAccessPassMethods": "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
}
PASSWORD_TYPE = "#microsoft.graph.passwordAuthenticationMethod"


@dataclass
class User:
    id: str
    displayName: str
    mail: str
    mobilePhone: str | None = None
    otherMails: list[str] = field(default_factory=list)
    member_of: set[str] = field(default_factory=set)  # transitive: groups and roles
    methods: list[dict[str, Any]] = field(default_factory=list)
    default_method: str | None = None
    password: str = "old-password"
    force_change: bool = False
    sessions_revoked: int = 0


def method(kind: str, **extra: Any) -> dict[str, Any]:
    return {"@odata.type": TYPES[kind], "id": secrets.token_hex(8), **extra}


def people() -> dict[str, User]:
    sam = User(
        "11111111-sam", "Sam Taylor", "sam.taylor@dacorum.gov.uk", "+44 7700 900123",
        ["sam.taylor@example.org"],
    )  # fmt: skip
    sam.methods = [
        method("phoneMethods", phoneNumber="+44 7700 900123", phoneType="mobile"),
        method("microsoftAuthenticatorMethods", displayName="Pixel 8"),
        method("phoneMethods", phoneNumber="+44 1442 000000", phoneType="alternateMobile"),
        method("softwareOathMethods"),
        method("emailMethods", emailAddress="sam.taylor@example.org"),
    ]
    sam.default_method = sam.methods[1]["id"]  # the Authenticator app
    alex = User(
        "22222222-alex", "Alex Jones", "alex.jones@aylesburyvaledc.gov.uk", "+44 7700 900234"
    )
    chris = User("33333333-chris", "Chris Morgan", "chris.morgan@dacorum.gov.uk", None,
                 member_of={ADMINS_GROUP, "some-other-group"})  # fmt: skip
    robin = User("44444444-robin", "Robin Hughes", "robin.o'neill@aylesburyvaledc.gov.uk",
                 member_of={HELPDESK_ROLE})  # fmt: skip
    return {u.id: u for u in (sam, alex, chris, robin)}


class FakeGraph:
    """The fake, its state and its faults; ``url`` serves both login and Graph."""

    def __init__(self) -> None:
        self.users = people()
        self.tokens = Tokens()
        self.faults = Faults()
        self.requests: list[tuple[str, str]] = []
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self.token)
        app.router.add_get("/v1.0/users", self.list_users)
        app.router.add_patch("/v1.0/users/{id}", self.patch_user)
        app.router.add_post("/v1.0/users/{id}/checkMemberObjects", self.check_member_objects)
        app.router.add_post("/v1.0/users/{id}/revokeSignInSessions", self.revoke)
        app.router.add_get("/v1.0/users/{id}/authentication/methods", self.methods)
        app.router.add_delete("/v1.0/users/{id}/authentication/{kind}/{mid}", self.delete_method)
        self.served = Served(app)
        self.url = self.served.url
        self.graph_url = self.url + "v1.0/"

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path_qs))
        if request.path.startswith("/v1.0/"):
            if not self.tokens.holds(request):
                return error(401, "InvalidAuthenticationToken", "Access token has expired.")
            if (injected := await self.faults.answer()) is not None:
                return injected
        response: web.StreamResponse = await handler(request)
        return response

    def user(self, request: web.Request) -> User:
        found = self.users.get(request.match_info["id"])
        if found is None:
            said = body(
                "Request_ResourceNotFound",
                f"Resource '{request.match_info['id']}' does not exist or one of its queried "
                "reference-property objects are not present.",
            )
            raise web.HTTPNotFound(text=json.dumps(said), content_type="application/json")
        return found

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if request.match_info["tenant"] != TENANT:
            return web.json_response(
                {"error": "invalid_request", "error_description": "AADSTS90002: Tenant not found."},
                status=400,
            )
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return web.json_response(
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                },
                status=401,
            )
        if form.get("grant_type") != "client_credentials" or form.get("scope") != (
            "https://graph.microsoft.com/.default"
        ):
            return web.json_response({"error": "invalid_scope"}, status=400)
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": self.tokens.issue(),
            }
        )

    async def list_users(self, request: web.Request) -> web.Response:
        match = re.fullmatch(r"mail eq '((?:[^']|'')*)'", request.query.get("$filter", ""))
        if match is None:
            return error(400, "BadRequest", "Invalid filter clause")
        wanted = match[1].replace("''", "'").lower()
        fields = request.query.get("$select", "").split(",")
        found = [
            {f: getattr(u, f) for f in fields if hasattr(u, f)}
            for u in self.users.values()
            if u.mail.lower() == wanted
        ]
        return web.json_response(
            {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value": found}
        )

    async def patch_user(self, request: web.Request) -> web.Response:
        user = self.user(request)
        profile = (await request.json()).get("passwordProfile") or {}
        if len(profile.get("password", "")) < 8:
            return error(400, "Request_BadRequest", "The specified password does not comply "
                         "with password complexity requirements.")  # fmt: skip
        user.password = profile["password"]
        user.force_change = bool(profile.get("forceChangePasswordNextSignIn"))
        return web.Response(status=204)

    async def check_member_objects(self, request: web.Request) -> web.Response:
        user = self.user(request)
        ids = (await request.json())["ids"]
        assert len(ids) <= 20, "checkMemberObjects takes at most 20 ids"
        return web.json_response({"value": [i for i in ids if i in user.member_of]})

    async def revoke(self, request: web.Request) -> web.Response:
        self.user(request).sessions_revoked += 1
        return web.json_response(
            {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean",
             "value": True}
        )  # fmt: skip

    async def methods(self, request: web.Request) -> web.Response:
        user = self.user(request)
        password = {"@odata.type": PASSWORD_TYPE, "id": "28c10230-6103-485e-b985-444c60001490"}
        return web.json_response({"value": [password, *user.methods]})

    async def delete_method(self, request: web.Request) -> web.Response:
        user = self.user(request)
        kind, mid = request.match_info["kind"], request.match_info["mid"]
        target = next(
            (m for m in user.methods if m["id"] == mid and m["@odata.type"] == TYPES.get(kind)),
            None,
        )
        if target is None:
            return error(404, "itemNotFound", "Method not found.")
        others = [m for m in user.methods if m is not target]
        if mid == user.default_method and others:
            return error(400, "badRequest", "The default authentication method cannot be "
                         "deleted while the user has other methods registered.")  # fmt: skip
        if target.get("phoneType") == "mobile" and any(
            m.get("phoneType") == "alternateMobile" for m in others
        ):
            return error(400, "badRequest", "Delete the alternate mobile phone first.")
        user.methods.remove(target)
        if mid == user.default_method:
            user.default_method = None
        return web.Response(status=204)


def body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message,
                      "innerError": {"request-id": secrets.token_hex(8)}}}  # fmt: skip


def error(status: int, code: str, message: str) -> web.Response:
    """Graph's error body."""
    return web.json_response(body(code, message), status=status)
