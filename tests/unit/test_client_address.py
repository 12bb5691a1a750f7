"""The client address the abuse limits count by: the peer, unless the peer is a trusted proxy."""

from __future__ import annotations

import pytest

from skillsession.http.client_address import UNKNOWN, client_address
from skillsession.settings import Settings

PROXIES = ("10.0.0.0/8", "192.0.2.7")


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.5", None, (), "203.0.113.5"),  # no proxies: the peer
        ("203.0.113.5", "198.51.100.1", (), "203.0.113.5"),  # the header of a stranger: ignored
        ("203.0.113.5", "198.51.100.1", PROXIES, "203.0.113.5"),  # peer not a proxy: ignored
        ("10.1.2.3", "198.51.100.1", PROXIES, "198.51.100.1"),  # one proxy
        ("10.1.2.3", "198.51.100.1, 192.0.2.7", PROXIES, "198.51.100.1"),  # two proxies
        # whatever the client wrote itself lies left of the first untrusted hop
        ("10.1.2.3", "1.1.1.1, 198.51.100.1, 10.9.9.9", PROXIES, "198.51.100.1"),
        ("10.1.2.3", "10.4.4.4, 192.0.2.7", PROXIES, "10.1.2.3"),  # every hop ours
        ("10.1.2.3", "not-an-ip, 198.51.100.1", PROXIES, "198.51.100.1"),
        ("10.1.2.3", "198.51.100.1, garbage", PROXIES, "10.1.2.3"),  # garbage: the proxy
        ("10.1.2.3", " , ", PROXIES, "10.1.2.3"),
        ("10.1.2.3", "2001:DB8::1", PROXIES, "2001:db8::1"),  # written as an address is
        (None, "198.51.100.1", PROXIES, UNKNOWN),  # no peer (a test client)
    ],
)
def test_client_address(peer, forwarded, trusted, expected):
    assert client_address(peer, forwarded, trusted) == expected


def test_trusted_proxies_must_be_addresses_or_networks():
    assert Settings(trusted_proxies=[" 10.0.0.0/8", "::1"], _env_file=None).trusted_proxies == [
        "10.0.0.0/8",
        "::1",
    ]
    with pytest.raises(ValueError, match="not an IP address or network: 'proxy.local'"):
        Settings(trusted_proxies=["proxy.local"], _env_file=None)
