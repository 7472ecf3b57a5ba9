"""The web session seam (alex.web.identity): the key signs in, the cookie is signed and
expires, a rotated key ends sessions, the CSRF token is bound to its session."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from alex.web.identity import OWNER, KeySessions, hkdf_sha256

KEY = b"the-server-key-0123456789"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_hkdf_matches_rfc_5869_test_case_1() -> None:
    okm = hkdf_sha256(
        bytes([0x0B] * 22), bytes(range(0xF0, 0xFA)), length=42, salt=bytes(range(0x0D))
    )
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


def test_the_right_key_signs_in_and_a_wrong_one_does_not() -> None:
    sessions = KeySessions(KEY)
    assert sessions.sign_in("the-server-key-012345678") is None  # one character short
    assert sessions.sign_in("") is None
    session = sessions.sign_in(KEY.decode())
    assert session is not None and session.identity.subject == OWNER


def test_the_cookie_round_trips_and_two_sign_ins_are_different_sessions() -> None:
    sessions = KeySessions(KEY)
    first, second = sessions.sign_in(KEY.decode()), sessions.sign_in(KEY.decode())
    assert first is not None and second is not None
    assert sessions.read(sessions.cookie(first)) == first
    assert first.session_id != second.session_id
    assert first.csrf_token != second.csrf_token


def test_the_cookie_carries_no_key() -> None:
    sessions = KeySessions(KEY)
    session = sessions.sign_in(KEY.decode())
    assert session is not None
    cookie = sessions.cookie(session)
    payload = base64.urlsafe_b64decode(cookie.split(".")[0] + "==")
    assert KEY not in payload and KEY.decode() not in cookie
    assert set(json.loads(payload)) == {"sub", "sid", "exp"}


def _forge(cookie: str, **changes: object) -> str:
    encoded, _, signature = cookie.partition(".")
    fields = json.loads(base64.urlsafe_b64decode(encoded + "=="))
    fields.update(changes)
    raw = json.dumps(fields, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + signature


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: _forge(c, sub="someone-else"),
        lambda c: _forge(c, exp=4_000_000_000),
        lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),
        lambda c: c.split(".")[0],
        lambda c: "",
        lambda c: "not base64!.???",
        lambda c: c + "x" * 600,
    ],
)
def test_a_changed_or_malformed_cookie_is_no_session(tamper: object) -> None:
    sessions = KeySessions(KEY)
    session = sessions.sign_in(KEY.decode())
    assert session is not None
    assert callable(tamper)
    assert sessions.read(tamper(sessions.cookie(session))) is None


def test_a_session_expires_after_its_lifetime() -> None:
    clock = Clock()
    sessions = KeySessions(KEY, timedelta(hours=8), clock)
    session = sessions.sign_in(KEY.decode())
    assert session is not None
    cookie = sessions.cookie(session)
    clock.now += 8 * 3600 - 1
    assert sessions.read(cookie) == session
    clock.now += 1
    assert sessions.read(cookie) is None


def test_rotating_the_api_key_ends_every_session() -> None:
    old = KeySessions(KEY)
    session = old.sign_in(KEY.decode())
    assert session is not None
    rotated = KeySessions(b"a-new-server-key-987654321")
    assert rotated.read(old.cookie(session)) is None


def test_the_csrf_token_is_bound_to_its_session() -> None:
    sessions = KeySessions(KEY)
    mine, other = sessions.sign_in(KEY.decode()), sessions.sign_in(KEY.decode())
    assert mine is not None and other is not None
    assert sessions.csrf_ok(mine, mine.csrf_token)
    assert not sessions.csrf_ok(mine, other.csrf_token)
    assert not sessions.csrf_ok(mine, None)
    assert not sessions.csrf_ok(mine, "")
    # Stateless: the token comes back the same from the cookie alone.
    again = sessions.read(sessions.cookie(mine))
    assert again is not None and again.csrf_token == mine.csrf_token


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="API key"):
        KeySessions(b"")
