"""Client credentials and access tokens.

* Client secrets are stored only as scrypt hashes (``hashlib.scrypt``, N=2^14, r=8, p=1, 16-byte
  salt), written as ``scrypt$N$r$p$salt$hash`` (base64). They are shown once, by
  ``inkread clients add``.
* ``POST /connect/token`` (OAuth 2 client-credentials grant, as the Aspose cloud uses) trades an id
  and secret for a bearer token: a JWT (HS256) with ``sub`` = client id, ``iat``, ``exp``, ``jti``
  and ``iss`` = ``inkread``. The signing key is generated once and kept in the store (a file only
  the service's user reads, or PostgreSQL), so every replica that shares the database accepts every
  replica's tokens. ``inkread keys rotate`` replaces it: every token signed before is refused at
  once, by every replica (the key is read from the store for each token issued or checked).
* A token whose lifetime (``exp - iat``) exceeds the service's TTL is refused: it was not issued here.
* Each request re-checks the client in the store, so revoking a client stops its tokens at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass

import jwt

from .store import ClientRecord, Store

__all__ = [
    "hash_secret",
    "verify_secret",
    "new_client_secret",
    "TokenIssuer",
    "TokenError",
    "create_client",
    "authenticate_client",
    "rotate_signing_key",
]

_N, _R, _P, _DKLEN = 2**14, 8, 1, 32
ISSUER = "inkread"
SECRET_KEY_SETTING = "jwt_signing_key"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=_DKLEN)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(
            secret.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(want)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


def _new_signing_key() -> str:
    return secrets.token_urlsafe(48)


def rotate_signing_key(store: Store) -> None:
    """A new token signing key for every replica: tokens signed with the old one stop working."""
    store.set_setting(SECRET_KEY_SETTING, _new_signing_key())


# a hash to compare against when the client id is unknown, so timing does not tell ids apart
_DUMMY_HASH = hash_secret(secrets.token_urlsafe(16))


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


def create_client(store: Store, name: str) -> tuple[ClientRecord, str]:
    """Register a client; return it and its secret (the only time the secret is known)."""
    secret = new_client_secret()
    return store.add_client(name, hash_secret(secret)), secret


def authenticate_client(store: Store, client_id: str, client_secret: str) -> ClientRecord | None:
    """The client when the id and secret match and it is not revoked; else None."""
    try:
        record = store.get_client(client_id) if client_id else None
    except Exception:  # noqa: BLE001 - a malformed id is simply unknown
        record = None
    ok = verify_secret(client_secret or "", record.secret_hash if record else _DUMMY_HASH)
    if record is None or not ok or record.revoked:
        return None
    return record


class TokenError(Exception):
    """A token that is missing, malformed, tampered with, expired or belongs to a revoked client."""


@dataclass
class IssuedToken:
    access_token: str
    expires_in: int
    token_type: str = "Bearer"


class TokenIssuer:
    """Signs and checks access tokens with the key shared through the store."""

    def __init__(self, store: Store, ttl_seconds: int = 3600) -> None:
        self.store = store
        self.ttl = int(ttl_seconds)
        self._key()  # the first replica to start creates it

    def _key(self) -> str:
        """The current signing key, read each time: ``inkread keys rotate`` may have replaced it."""
        return self.store.get_or_create_setting(SECRET_KEY_SETTING, _new_signing_key)

    def issue(self, client_id: str) -> IssuedToken:
        now = int(time.time())
        claims = {"sub": client_id, "iat": now, "exp": now + self.ttl, "iss": ISSUER, "jti": uuid.uuid4().hex}
        return IssuedToken(access_token=jwt.encode(claims, self._key(), algorithm="HS256"), expires_in=self.ttl)

    def verify(self, token: str) -> ClientRecord:
        """The client ``token`` speaks for; :class:`TokenError` otherwise."""
        try:
            claims = jwt.decode(
                token,
                self._key(),
                algorithms=["HS256"],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("the access token has expired") from None
        except jwt.PyJWTError:
            raise TokenError("the access token is invalid") from None
        # PyJWT has checked that exp and iat are numbers and iat is not in the future
        if claims["exp"] - claims["iat"] > self.ttl + 60:
            # never issued here: this service's tokens live ttl seconds (a minute of clock skew allowed)
            raise TokenError("the access token's lifetime exceeds what this service issues")
        client_id = claims.get("sub")
        record = self.store.get_client(client_id) if isinstance(client_id, str) else None
        if record is None:
            raise TokenError("the access token's client does not exist")
        if record.revoked:
            raise TokenError("the client has been revoked")
        return record
