"""A fake OpenID Connect provider over real HTTP (Entra ID's shape), with knobs to forge.

``FakeOidc`` serves the discovery document, its keys (JWKS, an RSA key generated here with
``cryptography``), ``/authorize`` (signs the person in at once and redirects back with a
code) and ``/token`` (checks the client, the redirect URI and the PKCE verifier, and
answers with an ID token it signs). Set :attr:`FakeOidc.forge` to have the next ID tokens
come out wrong in one way::

    fake.forge = "audience"    # signature, audience, expired, not_yet, nonce, issuer,
                               # unknown_kid
    fake.rotate()              # a new signing key; the old one is no longer published

It records what the token endpoint was sent (:attr:`token_requests`), so a test sees the
verifier arrive and whether it matched the challenge.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

CLIENT_ID = "6f1c0b8e-itbot-web-chat"
CLIENT_SECRET = "fake-client-secret-0123456789"

FORGERIES = ("signature", "audience", "expired", "not_yet", "nonce", "issuer", "unknown_kid")


def new_key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


@dataclass
class Grant:
    """One code handed out by ``/authorize``."""

    challenge: str
    method: str
    nonce: str
    redirect_uri: str
    email: str


@dataclass
class TokenRequest:
    """What ``/token`` was sent (the secret and code left out) and what it made of it."""

    verifier: str
    verifier_ok: bool
    client_ok: bool
    status: int


@dataclass
class FakeOidc:
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    #: who signs in at ``/authorize``
    email: str = "sam.taylor@dacorum.gov.uk"
    #: the claim that carries the address (Entra often gives only ``preferred_username``)
    email_claim: str = "email"
    forge: str | None = None
    #: ``/authorize`` records the wrong challenge, so the verifier sent later won't match
    break_pkce: bool = False
    kid: str = "key-1"
    key: RSAPrivateKey = field(default_factory=new_key)
    grants: dict[str, Grant] = field(default_factory=dict)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[TokenRequest] = field(default_factory=list)
    jwks_fetches: int = 0
    #: every ID token handed out (a test checks none reaches a log line)
    issued: list[str] = field(default_factory=list)
    server: TestServer | None = None

    @property
    def issuer(self) -> str:
        assert self.server is not None, "start() the fake first"
        return str(self.server.make_url("/tenant-1/v2.0"))

    def rotate(self) -> None:
        """A new signing key under a new id; the old key is no longer published."""
        number = int(self.kid.rsplit("-", 1)[1]) + 1
        self.kid, self.key = f"key-{number}", new_key()

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/tenant-1/v2.0/.well-known/openid-configuration", self.discovery)
        app.router.add_get("/tenant-1/discovery/v2.0/keys", self.jwks)
        app.router.add_get("/tenant-1/oauth2/v2.0/authorize", self.authorize)
        app.router.add_post("/tenant-1/oauth2/v2.0/token", self.token)
        self.server = TestServer(app)
        await self.server.start_server()
        return self.issuer

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def _url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    async def discovery(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": self._url("/tenant-1/oauth2/v2.0/authorize"),
                "token_endpoint": self._url("/tenant-1/oauth2/v2.0/token"),
                "jwks_uri": self._url("/tenant-1/discovery/v2.0/keys"),
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
            }
        )

    async def jwks(self, request: web.Request) -> web.Response:
        self.jwks_fetches += 1
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return web.json_response(
            {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}
        )

    async def authorize(self, request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        self.authorize_requests.append(query)
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return web.Response(status=400, text="unknown client or response type")
        challenge = query.get("code_challenge", "")
        if query.get("code_challenge_method") != "S256" or not challenge:
            return web.Response(status=400, text="PKCE S256 is required")
        code = secrets.token_urlsafe(48)
        self.grants[code] = Grant(
            challenge=_broken(challenge) if self.break_pkce else challenge,
            method="S256",
            nonce=query.get("nonce", ""),
            redirect_uri=query.get("redirect_uri", ""),
            email=self.email,
        )
        back = urlencode({"code": code, "state": query.get("state", "")})
        return web.Response(status=302, headers={"Location": f"{query['redirect_uri']}?{back}"})

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        verifier = str(form.get("code_verifier", ""))
        grant = self.grants.pop(str(form.get("code", "")), None)  # a code works once
        client_ok = (
            form.get("client_id") == self.client_id
            and form.get("client_secret") == self.client_secret
        )
        verifier_ok = grant is not None and s256(verifier) == grant.challenge
        status = 200
        if grant is None or form.get("grant_type") != "authorization_code":
            status = 400
        elif not client_ok or form.get("redirect_uri") != grant.redirect_uri:
            status = 401 if not client_ok else 400
        elif not verifier_ok:
            status = 400
        self.token_requests.append(TokenRequest(verifier, verifier_ok, client_ok, status))
        if status != 200 or grant is None:
            error = "invalid_client" if status == 401 else "invalid_grant"
            return web.json_response({"error": error}, status=status)
        return web.json_response(
            {"token_type": "Bearer", "access_token": "opaque", "id_token": self.id_token(grant)}
        )

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": "sub-" + hashlib.sha256(grant.email.encode()).hexdigest()[:16],
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "nonce": grant.nonce,
            "tid": "tenant-1",
            self.email_claim: grant.email,
        }
        key, kid = self.key, self.kid
        match self.forge:
            case "signature":
                key = new_key()  # the published key id, another key
            case "audience":
                claims["aud"] = "another-application"
            case "expired":
                claims.update(iat=now - 7200, nbf=now - 7200, exp=now - 3600)
            case "not_yet":
                claims.update(nbf=now + 3600)
            case "nonce":
                claims["nonce"] = "a-nonce-from-another-sign-in"
            case "issuer":
                claims["iss"] = self._url("/another-tenant/v2.0")
            case "unknown_kid":
                key, kid = new_key(), "key-nobody-published"
        token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
        self.issued.append(token)
        return token


def _broken(challenge: str) -> str:
    """Another challenge than the one sent: its first character changed (never to itself)."""
    return ("y" if challenge.startswith("x") else "x") + challenge[1:]
