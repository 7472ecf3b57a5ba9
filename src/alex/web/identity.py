"""Who is signed in to the web pages: the one seam a later Cognito sign-in replaces.

The pages see only :class:`Session` (its :class:`Identity` and its CSRF token) through the
:class:`Sessions` protocol. Today's implementation, :class:`KeySessions`, signs in whoever
types the server's API key, and keeps the session in a cookie it signs itself:

* the cookie holds ``subject``, a random session id and the expiry time, signed with
  HMAC-SHA256; nothing is stored server-side, so the Lambda and ``alex serve`` need no
  session table;
* the signing key is derived from the API key with HKDF (RFC 5869): no second secret to
  create, store or leak, and rotating the API key ends every session at once. Whoever holds
  the API key could forge a cookie, but that person can already do everything the key allows;
* sessions last :data:`SESSION_LIFETIME` from sign-in, never renewed: a stolen cookie is worth
  a working day at most, and a user signs in once a day;
* the CSRF token is an HMAC of the session id under a second derived key: bound to the
  session, stateless, and different for every session.

A Cognito sign-in would implement :class:`Sessions` with its own ``sign_in`` (an OIDC
callback) and cookie, keeping ``Session`` and the pages as they are.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

SESSION_LIFETIME = timedelta(hours=8)
COOKIE_NAME = "alex_session"
OWNER = "owner"  # the only identity the API key can sign in


@dataclass(frozen=True)
class Identity:
    """Who a session belongs to: ``owner`` for the API key; a user id once Cognito signs in."""

    subject: str


@dataclass(frozen=True)
class Session:
    identity: Identity
    session_id: str
    expires: int  # Unix time, seconds
    csrf_token: str


class Sessions(Protocol):
    """What the pages need from sign-in: the seam between them and how users are known."""

    lifetime: timedelta

    def sign_in(self, api_key: str) -> Session | None:
        """A new session for the right key; ``None`` (and no hint why) otherwise."""
        ...

    def cookie(self, session: Session) -> str:
        """The cookie value that carries ``session``."""
        ...

    def read(self, cookie: str | None) -> Session | None:
        """The session a cookie carries, or ``None`` if it is missing, forged or expired."""
        ...

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        """Whether ``token`` is ``session``'s CSRF token (constant time)."""
        ...


def hkdf_sha256(secret: bytes, info: bytes, length: int = 32, salt: bytes = b"") -> bytes:
    """HKDF-SHA256 (RFC 5869): extract with ``salt``, expand with ``info`` to ``length`` bytes."""
    prk = hmac.new(salt or bytes(32), secret, hashlib.sha256).digest()
    blocks, block = b"", b""
    for counter in range(1, -(-length // 32) + 1):
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        blocks += block
    return blocks[:length]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class KeySessions:
    """Sign-in with the server's API key; sessions in a signed cookie (module docstring)."""

    def __init__(
        self,
        api_key: bytes,
        lifetime: timedelta = SESSION_LIFETIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not api_key:
            raise ValueError("an API key is required")
        self._api_key = api_key
        salt = b"alex-web-session"
        self._signing_key = hkdf_sha256(api_key, b"session cookie v1", salt=salt)
        self._csrf_key = hkdf_sha256(api_key, b"csrf token v1", salt=salt)
        self.lifetime = lifetime
        self._clock = clock

    def sign_in(self, api_key: str) -> Session | None:
        # compare_digest takes the same time wherever the first difference is.
        if not secrets.compare_digest(api_key.encode("utf-8"), self._api_key):
            return None
        expires = int(self._clock() + self.lifetime.total_seconds())
        return self._session(OWNER, secrets.token_urlsafe(16), expires)

    def _session(self, subject: str, session_id: str, expires: int) -> Session:
        token = hmac.new(self._csrf_key, session_id.encode("ascii"), hashlib.sha256).digest()
        return Session(Identity(subject), session_id, expires, _b64(token))

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._signing_key, payload, hashlib.sha256).digest()

    def cookie(self, session: Session) -> str:
        payload = json.dumps(
            {"sub": session.identity.subject, "sid": session.session_id, "exp": session.expires},
            separators=(",", ":"),
        ).encode("utf-8")
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def read(self, cookie: str | None) -> Session | None:
        if not cookie or len(cookie) > 512:
            return None
        encoded, _, signature = cookie.partition(".")
        try:
            payload = _unb64(encoded)
            given = _unb64(signature)
        except (ValueError, binascii.Error):
            return None
        if not hmac.compare_digest(given, self._sign(payload)):
            return None
        try:
            fields = json.loads(payload)
            subject, session_id, expires = fields["sub"], fields["sid"], fields["exp"]
        except (ValueError, KeyError, TypeError):
            return None
        if not (isinstance(subject, str) and isinstance(session_id, str)):
            return None
        if not isinstance(expires, int) or expires <= self._clock():
            return None
        return self._session(subject, session_id, expires)

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(
            token.encode("utf-8"), session.csrf_token.encode("ascii")
        )
