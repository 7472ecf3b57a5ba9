"""Which addresses Alex may connect to: IP literals in every written form, one DNS lookup
per connection, and the check that every address is globally routable."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from typing import Final

from alex.research.fetch.errors import FetchFailedError, FetchRefusedError
from alex.research.fetch.policy import FetchPolicy

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud instance metadata services. Already non-global, but named in refusals, and refused
# even for an allow-listed host: no research source ever lives there.
_METADATA_ADDRESSES: Final = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
        ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
_SHARED_ADDRESS_SPACE: Final = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")

# One part of an IPv4 address as inet_aton and the WHATWG URL parser read it: decimal,
# 0x-hex or 0-octal. A host made only of such parts is an IP address, however it is written.
_NUMERIC_PART: Final = re.compile(r"^(?:0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)$")
_OCTET: Final = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_DOTTED_QUAD: Final = re.compile(rf"^{_OCTET}(?:\.{_OCTET}){{3}}$")


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address a host made only of numeric parts means (``127.1``, ``0x7f000001``).

    Raises FetchRefusedError when it is numeric but no valid address. None for a name.
    """
    parts = host.removesuffix(".").split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMERIC_PART.match(part) for part in parts):
        return None
    values: list[int] = []
    for part in parts:
        if part[:2].lower() == "0x":
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            values.append(int(part, 8))
        else:
            values.append(int(part))
    # All parts but the last are one byte each; the last fills the remaining bytes.
    last_limit = 256 ** (5 - len(values))
    if any(value > 255 for value in values[:-1]) or values[-1] >= last_limit:
        raise FetchRefusedError(
            f"host {host!r} looks like a numeric IP address but is not a valid one",
            reason="numeric-host",
        )
    number = 0
    for value in values[:-1]:
        number = number * 256 + value
    number = number * last_limit + values[-1]
    return ipaddress.IPv4Address(number)


def _ip_literal(host: str) -> IPAddress | None:
    """The address when the host is an IP literal, None when it is a name to resolve.

    Refuses IPv4 addresses in any form but plain dotted-quad: resolvers, proxies and URL
    parsers disagree about ``0177.0.0.1`` (octal or decimal?), so none of them is accepted.
    """
    if ":" in host:
        try:
            # A zone ("fe80::1%25eth0") names an interface: link-local only, refused below.
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise FetchRefusedError(
                f"host {host!r} is not a valid IPv6 address", reason="invalid-url"
            ) from None
    if _DOTTED_QUAD.match(host):
        return ipaddress.IPv4Address(host)
    legacy = _legacy_ipv4(host)
    if legacy is not None:
        raise FetchRefusedError(
            f"host {host!r} is an IP address written in a non-standard numeric form "
            f"(it means {legacy}); only dotted-quad IPv4 addresses are accepted",
            reason="numeric-host",
        )
    return None


def _classify(address: IPAddress) -> str | None:
    """Why an address is not a public one, or None when it is."""
    if address in _METADATA_ADDRESSES:
        return "a cloud metadata service address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED_ADDRESS_SPACE:
        return "a carrier-grade NAT (shared) address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a globally routable address"
    return None


def address_problem(address: IPAddress) -> str | None:
    """Why Alex must not connect to ``address`` (e.g. "a loopback address"), or None.

    IPv6 forms that carry an IPv4 address (mapped, 6to4, Teredo, NAT64) are judged by the
    IPv4 address they lead to as well.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            inner = _classify(address.ipv4_mapped)
            return f"an IPv4-mapped form of {address.ipv4_mapped}, {inner}" if inner else None
        if address.sixtofour is not None:
            inner = _classify(address.sixtofour)
            if inner:
                return f"a 6to4 address embedding {address.sixtofour}, {inner}"
        if address.teredo is not None:
            return f"a Teredo address (tunnelling to {address.teredo[1]})"
        if address in _NAT64:
            # On an IPv6-only network with DNS64 every public IPv4 site has such an address:
            # judge the IPv4 address inside, not the reserved-looking prefix.
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
            inner = _classify(embedded)
            return f"a NAT64 address embedding {embedded}, {inner}" if inner else None
    return _classify(address)


def _check_addresses(
    host: str, port: int, addresses: Iterable[IPAddress], policy: FetchPolicy, *, literal: bool
) -> None:
    allowed = policy.allows(host, port)
    for address in addresses:
        if allowed and address not in _METADATA_ADDRESSES:
            continue
        problem = address_problem(address)
        if problem:
            subject = f"{host} is" if literal else f"host {host!r} resolves to {address},"
            raise FetchRefusedError(f"{subject} {problem}", reason="address")


def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the name resolves to (one lookup), in the resolver's order."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise FetchFailedError(f"could not resolve host {host!r}: {error}", reason="dns") from None
    addresses: list[IPAddress] = []
    for family, _, _, _, sockaddr in answers:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchFailedError(f"host {host!r} has no IP address", reason="dns")
    return addresses


def checked_addresses(host: str, port: int, policy: FetchPolicy) -> list[IPAddress]:
    """Resolve ``host`` once and return its addresses if every one may be connected to.

    Raises FetchRefusedError naming the first address that is not public (unless the host
    is allow-listed), FetchFailedError when the name does not resolve.
    """
    literal = _ip_literal(host)
    addresses = [literal] if literal is not None else _resolve(host, port)
    _check_addresses(host, port, addresses, policy, literal=literal is not None)
    return addresses
