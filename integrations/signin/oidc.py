"""An OpenID Connect relying party: authorization code flow with PKCE, ID tokens checked.

The provider is found from its discovery document (``/.well-known/openid-configuration``
under the issuer, Entra ID's included). Its signing keys (JWKS) are cached; a token signed
with a key id not in the cache fetches the keys again once (the provider rotated them).
An ID token is believed only when all of these hold: RS256 signature by one of those keys,
``iss`` is the configured issuer, ``aud`` names our client id, ``exp``/``nbf``/``iat``
within a minute's leeway, and ``nonce`` is the one this sign-in sent.

    client = OidcClient(OidcConfig(issuer=..., client_id=..., client_secret=...,
                                   redirect_uri="https://itdesk.example/chat/oidc/callback"))
    url = await client.authorization_url(state=s, nonce=n, verifier=v)
    claims = await client.sign_in(code=code, verifier=v, nonce=n)

Failures are :class:`OidcRefused` (the answer was wrong: never believe it) or
:class:`OidcUnavailable` (the provider could not be reached). Their messages carry no
code, token or secret.

>>> pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import jwt

#: seconds of clock difference allowed between the provider and us
LEEWAY = 60
ALGORITHM = "RS256"


class OidcError(Exception):
    """Signing in with the provider failed; ``str()`` is safe to log."""


class OidcRefused(OidcError):
    """The provider's answer (or the ID token in it) must not be believed."""


class OidcUnavailable(OidcError):
    """The provider could not be reached, or answered with nonsense to a plain request."""


@dataclass(frozen=True, slots=True)
class OidcConfig:
    issuer: str
    client_id: str
    redirect_uri: str
    client_secret: str | None = None
    discovery_url: str | None = None
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    timeout: float = 10.0

    @property
    def discovery(self) -> str:
        return self.discovery_url or (self.issuer.rstrip("/") + "/.well-known/openid-configuration")


@dataclass(frozen=True, slots=True)
class Provider:
    """What the discovery document says (only what this flow needs)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge for ``verifier`` (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class OidcClient:
    """One provider, one client id: discovery and keys cached, one HTTP session."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._http: aiohttp.ClientSession | None = None
        self._provider: Provider | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._discovery_lock = asyncio.Lock()
        self._keys_lock = asyncio.Lock()
        #: how many times the keys were fetched (a figure for tests and logs)
        self.key_fetches = 0

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.config.timeout)
            )
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            async with self._session().get(url) as response:
                if response.status != 200:
                    raise OidcUnavailable(f"{what} answered HTTP {response.status}")
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError, ValueError) as exc:
            if isinstance(exc, OidcError):
                raise
            raise OidcUnavailable(f"{what} could not be read ({type(exc).__name__})") from None
        if not isinstance(data, dict):
            raise OidcUnavailable(f"{what} is not a JSON object")
        return data

    async def provider(self) -> Provider:
        """The discovery document, fetched once (and again after a failure)."""
        if self._provider is not None:
            return self._provider
        async with self._discovery_lock:
            if self._provider is None:
                data = await self._get_json(self.config.discovery, "the discovery document")
                fields = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
                if not all(isinstance(data.get(f), str) for f in fields):
                    raise OidcUnavailable("the discovery document lacks an endpoint")
                if data["issuer"] != self.config.issuer:
                    raise OidcUnavailable("the discovery document names another issuer")
                self._provider = Provider(*(str(data[f]) for f in fields))
            return self._provider

    async def authorization_url(self, *, state: str, nonce: str, verifier: str) -> str:
        """Where to send the browser: the provider's sign-in, coming back with a code."""
        provider = await self.provider()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.config.client_id,
                "redirect_uri": self.config.redirect_uri,
                "scope": " ".join(self.config.scopes),
                "state": state,
                "nonce": nonce,
                "code_challenge": pkce_challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        joiner = "&" if "?" in provider.authorization_endpoint else "?"
        return f"{provider.authorization_endpoint}{joiner}{query}"

    async def sign_in(self, *, code: str, verifier: str, nonce: str) -> dict[str, Any]:
        """Trade ``code`` (and the PKCE ``verifier``) for an ID token; its checked claims."""
        token = await self._exchange(code, verifier)
        return await self.validate(token, nonce=nonce)

    async def _exchange(self, code: str, verifier: str) -> str:
        provider = await self.provider()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.config.redirect_uri,
            "client_id": self.config.client_id,
            "code_verifier": verifier,
        }
        if self.config.client_secret:
            form["client_secret"] = self.config.client_secret  # client_secret_post
        try:
            async with self._session().post(provider.token_endpoint, data=form) as response:
                status = response.status
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError, ValueError):
            raise OidcUnavailable("the token endpoint could not be read") from None
        if not isinstance(data, dict):
            raise OidcRefused(f"the token endpoint answered HTTP {status} without JSON")
        if status != 200:
            error = data.get("error")
            named = error if isinstance(error, str) and error.isidentifier() else "unnamed"
            raise OidcRefused(f"the token endpoint refused the code ({named}, HTTP {status})")
        id_token = data.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise OidcRefused("the token endpoint gave no ID token")
        return id_token

    async def _fetch_keys(self) -> None:
        provider = await self.provider()
        data = await self._get_json(provider.jwks_uri, "the provider's keys (JWKS)")
        self.key_fetches += 1
        keys: dict[str, jwt.PyJWK] = {}
        raw_keys = data.get("keys")
        for raw in raw_keys if isinstance(raw_keys, list) else []:
            if not isinstance(raw, Mapping) or raw.get("kty") != "RSA":
                continue
            if raw.get("use", "sig") != "sig" or not isinstance(raw.get("kid"), str):
                continue
            try:
                keys[raw["kid"]] = jwt.PyJWK(dict(raw), algorithm=ALGORITHM)
            except jwt.PyJWTError:
                continue  # one unreadable key does not spoil the others
        self._keys = keys

    async def _key(self, kid: str) -> jwt.PyJWK:
        """The signing key ``kid``; an unknown one fetches the keys again, once."""
        if kid in self._keys:
            return self._keys[kid]
        async with self._keys_lock:
            if kid not in self._keys:
                await self._fetch_keys()
        if kid not in self._keys:
            raise OidcRefused("the ID token is signed with a key the provider does not publish")
        return self._keys[kid]

    async def validate(self, token: str, *, nonce: str) -> dict[str, Any]:
        """The claims of ``token`` if every check holds; else :class:`OidcRefused`."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise OidcRefused("the ID token is not a JWT") from None
        if header.get("alg") != ALGORITHM:
            raise OidcRefused("the ID token is not signed with RS256")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise OidcRefused("the ID token names no signing key")
        key = await self._key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[ALGORITHM],
                audience=self.config.client_id,
                issuer=self.config.issuer,
                leeway=LEEWAY,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.InvalidSignatureError:
            raise OidcRefused("the ID token's signature is wrong") from None
        except jwt.ExpiredSignatureError:
            raise OidcRefused("the ID token has expired") from None
        except jwt.ImmatureSignatureError:
            raise OidcRefused("the ID token is not valid yet (nbf or iat)") from None
        except jwt.InvalidAudienceError:
            raise OidcRefused("the ID token is for another client (audience)") from None
        except jwt.InvalidIssuerError:
            raise OidcRefused("the ID token is from another issuer") from None
        except jwt.MissingRequiredClaimError as exc:
            raise OidcRefused(f"the ID token lacks the {exc.claim!r} claim") from None
        except jwt.PyJWTError as exc:
            raise OidcRefused(f"the ID token is invalid ({type(exc).__name__})") from None
        said = claims.get("nonce")
        if not isinstance(said, str) or not hmac.compare_digest(said, nonce):
            raise OidcRefused("the ID token's nonce is not this sign-in's")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.config.client_id:
            raise OidcRefused("the ID token was issued to another party (azp)")
        return claims


def email_of(claims: Mapping[str, Any]) -> str | None:
    """The person's address: ``email``, else Entra's ``preferred_username`` or ``upn``.

    >>> email_of({"preferred_username": "Sam.Taylor@dacorum.gov.uk"})
    'sam.taylor@dacorum.gov.uk'
    """
    for claim in ("email", "preferred_username", "upn"):
        value = claims.get(claim)
        if isinstance(value, str) and "@" in value:
            return value.strip().lower()
    return None
