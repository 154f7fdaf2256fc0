"""[`GuardedResolver`]: aiohttp's DNS resolver with the address policy of `mmreason.synth.web.addresses`.

The connector connects only to the addresses a resolver returns, so the addresses checked are the addresses used
(a DNS answer cannot change between check and connect) and every hop of a redirect chain goes through it.
"""

from __future__ import annotations

import socket
from typing import Any

from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver

from .addresses import AddressRefused, IPNetwork, address_refusal


class GuardedResolver(AbstractResolver):
    """Resolves through aiohttp's default resolver and refuses a host with any refused address
    ([`AddressRefused`], an `OSError` aiohttp reports as a connection error).

    Args:
        allow: networks allowed although they are not public.
        overrides: `host → address` answers given without DNS (curl's `--resolve`; the tests' fixture hosts). They
            are checked like any other answer.
    """

    def __init__(self, allow: tuple[IPNetwork, ...] = (), overrides: dict[str, str] | None = None) -> None:
        self.allow = allow
        self.overrides = {host.lower(): address for host, address in (overrides or {}).items()}
        self._inner: DefaultResolver | None = None

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[dict[str, Any]]:
        """The host's addresses, every one allowed by the policy."""
        name = host.lower().rstrip(".")
        if name in self.overrides:
            address = self.overrides[name]
            results = [{"hostname": host, "host": address, "port": port,
                        "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                        "proto": 0, "flags": socket.AI_NUMERICHOST}]  # fmt: skip
        else:
            if self._inner is None:
                self._inner = DefaultResolver()
            results = await self._inner.resolve(host, port, family)
        for result in results:
            if reason := address_refusal(result["host"], self.allow):
                raise AddressRefused(f"{host} resolves to a refused address: {reason}")
        return results

    async def close(self) -> None:
        """Close the inner resolver."""
        if self._inner is not None:
            await self._inner.close()


__all__ = ["GuardedResolver"]
