"""A fake Google over real HTTP: the OAuth token endpoint for a service account's signed
JWT assertion (RFC 7523), checked with the account's public key, and the Admin SDK
Directory API requests the adapter sends, answered in their documented shapes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.identity.fakes import Faults, Served, Tokens

CLIENT_EMAIL = "itbot@councils-itbot.iam.gserviceaccount.com"
ADMIN = "itbot-admin@dacorum.gov.uk"
SCOPES = {
    "https://www.googleapis.com/auth/admin.directory.user",
    "https://www.googleapis.com/auth/admin.directory.user.security",
}


def service_account(folder: Path, key: rsa.RSAPrivateKey) -> Path:
    """A key file as the Google Cloud console downloads it."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = folder / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "councils-itbot",
                "private_key_id": "0123456789abcdef",
                "private_key": pem,
                "client_email": CLIENT_EMAIL,
                "client_id": "112233445566778899",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        ),
        encoding="utf-8",
    )
    return path


@dataclass
class User:
    id: str
    primaryEmail: str
    fullName: str
    recoveryPhone: str | None = None
    recoveryEmail: str | None = None
    isAdmin: bool = False
    isDelegatedAdmin: bool = False
    isEnrolledIn2Sv: bool = True
    isEnforcedIn2Sv: bool = True
    aliases: list[str] = field(default_factory=list)
    password: str = "old-password"
    change_at_next_login: bool = False
    signed_out: int = 0

    def resource(self) -> dict[str, Any]:
        given, _, family = self.fullName.partition(" ")
        found: dict[str, Any] = {
            "kind": "admin#directory#user",
            "id": self.id,
            "etag": '"abc"',
            "primaryEmail": self.primaryEmail,
            "name": {"givenName": given, "familyName": family, "fullName": self.fullName},
            "isAdmin": self.isAdmin,
            "isDelegatedAdmin": self.isDelegatedAdmin,
            "suspended": False,
            "changePasswordAtNextLogin": self.change_at_next_login,
            "isEnrolledIn2Sv": self.isEnrolledIn2Sv,
            "isEnforcedIn2Sv": self.isEnforcedIn2Sv,
            "customerId": "C01abcde",
            "orgUnitPath": "/Staff",
        }
        if self.aliases:
            found["aliases"] = self.aliases
        if self.recoveryPhone:
            found["recoveryPhone"] = self.recoveryPhone
        if self.recoveryEmail:
            found["recoveryEmail"] = self.recoveryEmail
        return found


def people() -> dict[str, User]:
    return {
        u.id: u
        for u in (
            User("100000000000000000001", "sam.taylor@dacorum.gov.uk", "Sam Taylor",
                 "+447700900123", "sam.taylor@example.org", aliases=["s.taylor@dacorum.gov.uk"]),
            User("100000000000000000002", "alex.jones@aylesburyvaledc.gov.uk", "Alex Jones",
                 "+447700900234", isEnforcedIn2Sv=False),
            User("100000000000000000003", "chris.morgan@dacorum.gov.uk", "Chris Morgan",
                 "+447700900456", isAdmin=True),
            User("100000000000000000004", "jamie.patel@aylesburyvaledc.gov.uk", "Jamie Patel",
                 None, "jamie.patel@example.net", isDelegatedAdmin=True),
            User("100000000000000000005", "robin.hughes@aylesburyvaledc.gov.uk",
                 "Robin Hughes", isEnrolledIn2Sv=False),
        )
    }  # fmt: skip


class FakeGoogle:
    """The fake, its state and its faults; ``url`` serves the API and ``token_url``."""

    def __init__(self, public_key: rsa.RSAPublicKey) -> None:
        self.public_key = public_key
        self.users = people()
        self.tokens = Tokens()
        self.faults = Faults()
        self.requests: list[tuple[str, str]] = []
        self.assertions: list[dict[str, Any]] = []
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/token", self.token)
        base = "/admin/directory/v1/users/{key}"
        app.router.add_get(base, self.get_user)
        app.router.add_patch(base, self.patch_user)
        app.router.add_post(base + "/signOut", self.sign_out)
        app.router.add_post(base + "/twoStepVerification/turnOff", self.turn_off)
        self.served = Served(app)
        self.url = self.served.url
        self.token_url = self.url + "token"

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if request.path.startswith("/admin/"):
            if not self.tokens.holds(request):
                return error(401, "Invalid Credentials", "authError")
            if (injected := await self.faults.answer()) is not None:
                return injected
        response: web.StreamResponse = await handler(request)
        return response

    def user(self, request: web.Request) -> User:
        key = request.match_info["key"].lower()
        for user in self.users.values():
            if key in (user.id, user.primaryEmail.lower(), *(a.lower() for a in user.aliases)):
                return user
        raise web.HTTPNotFound(
            text=json.dumps(body(404, "Resource Not Found: userKey", "notFound")),
            content_type="application/json",
        )

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        try:
            claims = jwt.decode(
                str(form.get("assertion")),
                self.public_key,
                algorithms=["RS256"],
                audience=self.token_url,
                options={"require": ["iss", "sub", "aud", "iat", "exp", "scope"]},
            )
        except jwt.PyJWTError as exc:
            return web.json_response(
                {"error": "invalid_grant", "error_description": f"Invalid JWT: {exc}"},
                status=400,
            )
        self.assertions.append(claims)
        if claims["iss"] != CLIENT_EMAIL or claims["sub"] != ADMIN:
            return web.json_response(
                {"error": "unauthorized_client", "error_description": "Client is unauthorized "
                 "to retrieve access tokens using this method."}, status=401)  # fmt: skip
        if set(str(claims["scope"]).split()) != SCOPES or claims["exp"] - claims["iat"] > 3600:
            return web.json_response({"error": "invalid_scope"}, status=400)
        return web.json_response(
            {"access_token": self.tokens.issue(), "expires_in": 3599, "token_type": "Bearer"}
        )

    async def get_user(self, request: web.Request) -> web.Response:
        return web.json_response(self.user(request).resource())

    async def patch_user(self, request: web.Request) -> web.Response:
        user = self.user(request)
        change = await request.json()
        if "password" in change:
            if len(change["password"]) < 8:
                return error(400, "Invalid Password", "invalid")
            user.password = change["password"]
        if "changePasswordAtNextLogin" in change:
            user.change_at_next_login = bool(change["changePasswordAtNextLogin"])
        return web.json_response(user.resource())

    async def sign_out(self, request: web.Request) -> web.Response:
        self.user(request).signed_out += 1
        return web.Response(status=204)

    async def turn_off(self, request: web.Request) -> web.Response:
        user = self.user(request)
        if not user.isEnrolledIn2Sv:
            return error(400, "Invalid Input: 2-Step Verification is not on", "invalid")
        user.isEnrolledIn2Sv = False
        return web.Response(status=204)


def body(code: int, message: str, reason: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
        }
    }


def error(status: int, message: str, reason: str) -> web.Response:
    return web.json_response(body(status, message, reason), status=status)
