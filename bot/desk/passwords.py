"""Password hashing for dashboard accounts: scrypt, a salt per account, parameters in the hash.

A hash reads ``scrypt$n=32768,r=8,p=1$<salt>$<key>`` (base64), so the cost can be raised
later without breaking existing accounts (:func:`needs_rehash` says when to re-hash at the
next successful sign-in). Comparison is constant-time.

>>> stored = hash_password("correct horse battery", n=2**10)
>>> verify_password("correct horse battery", stored), verify_password("wrong", stored)
(True, False)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
#: scrypt cost: 2**15 x 8 x 128 bytes = 32 MiB and about 0.1 s per hash
N, R, P = 2**15, 8, 1
KEY_BYTES = 32
SALT_BYTES = 16
MIN_LENGTH = 12
_MAX_MEMORY = 256 * 1024 * 1024


class PasswordError(ValueError):
    """A new password is not acceptable; the message says why."""


def check_new_password(password: str) -> None:
    """Refuse passwords an agent account should not have."""
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"Use at least {MIN_LENGTH} characters (a few words works well).")
    if len(password) > 1024:
        raise PasswordError("That password is too long (1,024 characters at most).")
    if password.strip() != password:
        raise PasswordError("The password starts or ends with a space; was that a typo?")


def hash_password(password: str, *, n: int = N, r: int = R, p: int = P) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, n, r, p)
    return f"{SCHEME}$n={n},r={r},p={p}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``; ``False`` for a malformed hash."""
    parsed = _parse(stored)
    if parsed is None:
        return False
    n, r, p, salt, expected = parsed
    return hmac.compare_digest(_derive(password, salt, n, r, p, len(expected)), expected)


def needs_rehash(stored: str) -> bool:
    parsed = _parse(stored)
    return parsed is None or parsed[:3] != (N, R, P)


#: verified against when the email has no account, so both cases take the same time
DUMMY_HASH = f"{SCHEME}$n={N},r={R},p={P}${'A' * 22}${'A' * 43}"


def _derive(password: str, salt: bytes, n: int, r: int, p: int, length: int = KEY_BYTES) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAX_MEMORY, dklen=length
    )


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    try:
        scheme, params, salt, key = stored.split("$")
        values = dict(item.split("=", 1) for item in params.split(","))
        n, r, p = int(values["n"]), int(values["r"]), int(values["p"])
        if scheme != SCHEME or n < 2 or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 16:
            return None
        return n, r, p, _unb64(salt), _unb64(key)
    except (ValueError, KeyError):
        return None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
