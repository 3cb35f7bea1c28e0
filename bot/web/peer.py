"""Who is on the other end of a request: the client's address, through trusted proxies.

Behind a reverse proxy every request comes from the proxy, so limits per address would
count the whole council as one client. ``X-Forwarded-For`` names the real client, but
anyone can send that header: it is believed only when the direct peer is one of
``ITBOT_TRUSTED_PROXIES``, and then read from the right, skipping the trusted hops, so the
first untrusted address is the client (anything to its left is the client's own claim).

>>> import ipaddress
>>> proxies = (ipaddress.ip_network("10.0.0.0/8"),)
>>> client_address_of("10.0.0.2", ["198.51.100.7, 203.0.113.9, 10.0.0.3"], proxies)
'203.0.113.9'
>>> client_address_of("192.0.2.1", ["203.0.113.9"], proxies)
'192.0.2.1'
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web

from bot.settings.signin import Network
from bot.web import keys

FORWARDED_FOR = "X-Forwarded-For"


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address_of(peer: str, forwarded: Sequence[str], proxies: Sequence[Network]) -> str:
    """The client's address given the direct ``peer``, the ``X-Forwarded-For`` headers (in
    order) and the trusted proxies: the rightmost hop that is not a trusted proxy."""
    if not proxies or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for header in forwarded for hop in header.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return client  # a garbled hop: believe no further than the last good proxy
        client = hop
        if not _trusted(hop, proxies):
            return hop
    return client


def client_address(request: web.Request) -> str:
    """The address of whoever sent ``request`` (for limits and logs); ``unknown`` if none."""
    peer = request.remote or "unknown"
    settings = request.config_dict.get(keys.SETTINGS)
    proxies = settings.trusted_proxies if settings is not None else ()
    return client_address_of(peer, request.headers.getall(FORWARDED_FOR, []), proxies)
