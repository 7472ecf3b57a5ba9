"""What one fetch may do (``FetchPolicy``): timeouts, size, redirects, allow-listed hosts."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import httpx

from alex import __version__

if TYPE_CHECKING:
    from alex.config import Settings

USER_AGENT: Final = f"Alex/{__version__} (Agentic Lifetime Equities Explainer; research fetcher)"
DEFAULT_MAX_BYTES: Final = 2_000_000


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """What one fetch may do. Timeouts are in seconds; ``total_timeout`` covers every hop."""

    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 15.0
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = 5
    # host[:port] entries whose loopback/private addresses are allowed (exact host match;
    # no port means any port). Normalised to a frozenset of "host" / "host:port".
    allow_hosts: Collection[str] = field(default_factory=frozenset)
    user_agent: str = USER_AGENT

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "read_timeout", "total_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        if self.max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        if self.max_redirects < 0:
            raise ValueError("max_redirects must be 0 or more")
        if isinstance(self.allow_hosts, str):
            raise TypeError("allow_hosts is a collection of host[:port] entries, not one string")
        normalised = frozenset(_normalise_allow_entry(entry) for entry in self.allow_hosts)
        object.__setattr__(self, "allow_hosts", normalised)

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchPolicy:
        """The policy ``ALEX_FETCH_*`` describes. Connecting gets at most 5 s of the total."""
        total = settings.fetch_timeout_seconds
        return cls(
            connect_timeout=min(5.0, total),
            read_timeout=total,
            total_timeout=total,
            max_bytes=settings.fetch_max_bytes,
            allow_hosts=settings.fetch_allow_hosts,
        )

    def allows(self, host: str, port: int) -> bool:
        """Whether ``host:port`` is allow-listed (so its private addresses are accepted)."""
        host = _bracketed(_canonical_host(host))
        return host in self.allow_hosts or f"{host}:{port}" in self.allow_hosts


def _canonical_host(host: str) -> str:
    # "Example.COM." and "example.com" are one DNS name.
    return host.strip().lower().removesuffix(".")


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _normalise_allow_entry(entry: str) -> str:
    text = entry.strip()
    try:
        parsed = httpx.URL(f"http://{text}")
    except httpx.InvalidURL as error:
        raise ValueError(f"allow_hosts entry {entry!r} is not host[:port]: {error}") from None
    if not text or not parsed.host or parsed.userinfo or parsed.raw_path not in (b"/", b""):
        raise ValueError(f"allow_hosts entry {entry!r} is not host[:port]")
    host = _bracketed(_canonical_host(parsed.raw_host.decode("ascii")))
    return host if parsed.port is None else f"{host}:{parsed.port}"
