"""Who is calling, as far as the abuse limits are concerned: the client's IP address.

It is the socket peer (in Lambda, Mangum puts API Gateway's `requestContext.http.sourceIp` there),
unless the peer is one of the proxies the operator names (`SKILLSESSION_TRUSTED_PROXIES`): then
it is the first address of `X-Forwarded-For`, read from the right, that is not a trusted proxy
(each proxy appends the address it received the request from, so what lies left of the last
untrusted hop may have been written by the client itself). `skillsession serve` switches
uvicorn's own proxy-header handling off, so that this is the one place that reads the header.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Annotated

from fastapi import Depends, Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"  # no peer address (a test client, a Unix socket)


@functools.lru_cache(maxsize=8)
def networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in trusted)


def _trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(peer: str | None, forwarded_for: str | None, trusted: tuple[str, ...]) -> str:
    """The client's address, given the socket peer, the `X-Forwarded-For` header (all of its
    values joined by commas) and the trusted proxies."""
    address = peer or UNKNOWN
    proxies = networks(trusted)
    if not proxies or not forwarded_for or not _trusted(address, proxies):
        return address
    for hop in reversed(forwarded_for.split(",")):
        hop = hop.strip()
        if not hop:
            continue
        try:
            hop = str(ipaddress.ip_address(hop))
        except ValueError:
            return address  # garbage in the chain: the last proxy is all we know
        if not _trusted(hop, proxies):
            return hop
    return address  # every hop a proxy of ours


def _from_request(request: Request) -> str:
    settings = request.app.state.deps.settings
    forwarded = ",".join(request.headers.getlist("x-forwarded-for")) or None
    peer = request.client.host if request.client else None
    return client_address(peer, forwarded, tuple(settings.trusted_proxies))


ClientAddress = Annotated[str, Depends(_from_request)]
