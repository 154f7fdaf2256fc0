"""Which addresses the web fetcher may connect to ([`address_refusal`]) (the DNS resolver that enforces it is
`mmreason.synth.web.resolver.GuardedResolver`).

Refused by default: loopback, private (RFC 1918, unique-local IPv6), carrier-grade NAT, link-local, the cloud
metadata addresses, multicast, reserved, unspecified — anything that is not a global unicast address — also when
written as an IPv4-mapped or NAT64 IPv6 address. `allow` networks are the explicit opt-in (the tests serve their
fixture site on `127.0.0.1` and allow exactly that).

The resolver is aiohttp's (`aiohttp.abc.AbstractResolver`): the connector connects only to the addresses it
returns, so the addresses checked are the addresses used — a DNS answer cannot change between check and connect
(DNS rebinding) — and every hop of a redirect chain resolves through it. A host with any refused address is
refused as a whole. IP-literal hosts skip resolvers in aiohttp; the fetcher checks them with [`address_refusal`]
before each request.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class AddressRefused(OSError):
    """A host resolves to an address the policy refuses (the message says which and why)."""


def networks(specs: Iterable[str]) -> tuple[IPNetwork, ...]:
    """`"127.0.0.1"`, `"10.0.0.0/8"`, ... as networks (a bare address is a /32 or /128)."""
    return tuple(ipaddress.ip_network(spec.strip(), strict=False) for spec in specs if spec.strip())


def _embedded(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def address_refusal(address: str | IPAddress, allow: tuple[IPNetwork, ...] = ()) -> str | None:
    """Why the fetcher may not connect to `address`, or `None` when it may.

    Args:
        address: an IPv4/IPv6 address (a scope suffix such as `%eth0` is ignored).
        allow: networks allowed although they are not public.
    """
    try:
        ip = ipaddress.ip_address(str(address).split("%")[0])
    except ValueError:
        return f"not an IP address: {str(address)[:100]!r}"
    inner = _embedded(ip)
    if any(ip in net or inner in net for net in allow if net.version in (ip.version, inner.version)):
        return None
    for candidate in dict.fromkeys((inner, ip)):  # the embedded IPv4 address first: its reason is the telling one
        if candidate in METADATA:
            return f"cloud metadata address {candidate}"
        if candidate.is_loopback:
            return f"loopback address {candidate}"
        if candidate.is_link_local:
            return f"link-local address {candidate}"
        if candidate.is_unspecified:
            return f"unspecified address {candidate}"
        if candidate.is_multicast:
            return f"multicast address {candidate}"
        if isinstance(candidate, ipaddress.IPv4Address) and candidate in _CGNAT:
            return f"carrier-grade NAT address {candidate}"
        if candidate.is_private:
            return f"private address {candidate}"
        if candidate.is_reserved or not candidate.is_global:
            return f"non-public address {candidate}"
    return None


def is_ip_literal(host: str) -> bool:
    """Whether a URL host is an IP address (IPv6 with or without brackets)."""
    try:
        ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return False
    return True


__all__ = ["METADATA", "AddressRefused", "address_refusal", "is_ip_literal", "networks"]
