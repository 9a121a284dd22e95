"""The client's real address behind the reverse proxies the operator named, and only those.

``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only when the connection comes
from an address of ``CAPDB_TRUSTED_PROXIES``: anyone else could write them, to escape a
rate limit or to put someone else's address in the audit trail. Like Werkzeug's
``ProxyFix``, but keyed on the peer's address rather than on a count of hops, so that a
request reaching gunicorn directly keeps its own address whatever it claims.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(setting: str) -> tuple[Network, ...]:
    """The networks of a comma-separated list of addresses or CIDR networks.

    Raises ValueError on anything else, such as a host name.
    """
    return tuple(ipaddress.ip_network(item.strip()) for item in setting.split(",") if item.strip())


def is_trusted(address: str, proxies: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(peer: str, forwarded_for: str, proxies: tuple[Network, ...]) -> str:
    """The first address, from the right, that is not one of the trusted proxies.

    Each proxy appends the address it received the request from; entries left of the
    first untrusted one were written by the client and are not believed.
    """
    if not is_trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer


class TrustedProxies:
    """WSGI middleware giving the application the client's address and scheme."""

    def __init__(self, app: WSGIApplication, proxies: tuple[Network, ...]) -> None:
        self.app = app
        self.proxies = proxies

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        peer = environ.get("REMOTE_ADDR", "")
        if self.proxies and is_trusted(peer, self.proxies):
            address = client_address(peer, environ.get("HTTP_X_FORWARDED_FOR", ""), self.proxies)
            if is_address(address):
                environ["REMOTE_ADDR"] = address
            # The proxy nearest to us says how the client reached the front door.
            proto = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[-1].strip().lower()
            if proto in {"http", "https"}:
                environ["wsgi.url_scheme"] = proto
            environ["capdb.proxy_addr"] = peer
        return self.app(environ, start_response)


def is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
