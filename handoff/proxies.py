"""Which address a request comes from, behind a reverse proxy.

Sanic reads the forwarding headers as configured (``configure_forwarding``:
``FORWARDED_SECRET``, ``PROXIES_COUNT``, ``REAL_IP_HEADER``), but it
believes ``X-Forwarded-For`` and a real-IP header from whoever sends them.
Here they count only when the connection's peer is one of the trusted
proxies (``HANDOFF_TRUSTED_PROXIES``). A ``Forwarded`` header carrying
``HANDOFF_FORWARDED_SECRET`` is believed from any peer: only the proxy
knows the secret (deploy/nginx/triage.conf.template sends it).

Anyone else is identified by the connection itself, so a client cannot
pick the address the log-in throttle counts against.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

__all__ = ["TrustedProxies", "configure_forwarding"]


def configure_forwarding(config: Any, *, proxies_count: int, real_ip_header: str, forwarded_secret: str) -> None:
    """Sanic's own proxy settings (``app.config``)."""
    config.PROXIES_COUNT = proxies_count
    config.REAL_IP_HEADER = real_ip_header or None
    config.FORWARDED_SECRET = forwarded_secret or None


class TrustedProxies:
    def __init__(self, networks: Iterable[str]) -> None:
        self._networks = [ipaddress.ip_network(n, strict=False) for n in networks]

    def trusts(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer.strip("[]"))
        except ValueError:
            return False
        return any(address in network for network in self._networks)

    def client_address(self, *, peer: str, forwarded: dict[str, Any]) -> str:
        """``peer``: the connection's address; ``forwarded``: what Sanic read
        from the forwarding headers (``request.forwarded``)."""
        named = str(forwarded.get("for") or "")
        if named and ("secret" in forwarded or self.trusts(peer)):
            return named
        return peer or "unknown"
