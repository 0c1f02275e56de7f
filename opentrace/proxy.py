"""Behind a reverse proxy: who the client really is, and the URL it really called.

A proxy in front of OpenTrace opens its own connection, so the server sees the proxy's address
and the proxy's upstream scheme and host. Proxies say what the client used in `X-Forwarded-For`,
`X-Forwarded-Proto` and `X-Forwarded-Host`, but any client can send those headers too; so they
are believed only when the direct peer is one of `OPENTRACE_TRUSTED_PROXIES`, and otherwise
ignored.

The client is the rightmost `X-Forwarded-For` address that is not a trusted proxy: each proxy
appends the address it was connected from, so everything left of the first untrusted hop was
written by someone who could write anything. Of `X-Forwarded-Proto` and `X-Forwarded-Host` the
rightmost value is taken, the one the nearest proxy set.

RFC 7239 `Forwarded` is not read: a proxy that sets one header family passes the other through
from the client untouched, so believing both would let any client pick its own address.

Handlers see the request as the client made it (`request.remote`, `.scheme`, `.host`, `.url`),
so the audit log's origin, a ping's `remote_addr` and generated links need no proxy knowledge.
The access log is handed the request as it arrived, so the client is also kept on it under
`CLIENT`.
"""

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import MultiMapping

from ingest.auth import BASE_URL

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

CLIENT = web.RequestKey("client", str)  # the client's address, for the access log
# A host name, an IPv4 address or a bracketed IPv6 address, with an optional port; anything
# else (a path, a user, spaces) is not a host a link may point at.
HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
                  r"[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
SCHEMES = ("http", "https")


@dataclass(frozen=True)
class Seen:
    """A request as its client made it."""

    client: str | None
    scheme: str
    host: str


@dataclass(frozen=True)
class Forwarding:
    """What the app knows about its reverse proxies and its external address."""

    trusted: tuple[Network, ...] = ()
    public_url: str = ""  # without a trailing slash; empty: each request's scheme and host

    @property
    def needed(self) -> bool:
        """False when no proxy is trusted and no public URL is set: every request is taken as
        it arrived, and the middleware is left out of the hot path altogether."""
        return bool(self.trusted or self.public_url)

    def trusts(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self.trusted)

    def seen(self, remote: str | None, scheme: str, host: str,
             headers: MultiMapping[str]) -> Seen:
        """The request as its client made it, from what the direct peer forwarded when that
        peer is a trusted proxy."""
        peer = parse_address(remote)
        if not self.trusts(peer):
            return Seen(remote, scheme, host)
        client = peer
        for hop in reversed(_values(headers.getall("X-Forwarded-For", ()))):
            if not self.trusts(client):
                break
            address = parse_address(hop)
            if address is None:  # a proxy wrote something that is no address: stop at it
                break
            client = address
        proto = _rightmost(headers.getall("X-Forwarded-Proto", ())).lower()
        forwarded_host = _rightmost(headers.getall("X-Forwarded-Host", ()))
        return Seen(str(client),
                    proto if proto in SCHEMES else scheme,
                    forwarded_host if HOST.fullmatch(forwarded_host) else host)


FORWARDING = web.AppKey("forwarding", Forwarding)


@web.middleware
async def forwarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    forwarding = request.app[FORWARDING]
    seen = forwarding.seen(request.remote, request.scheme, request.host, request.headers)
    if seen.client is not None:
        request[CLIENT] = seen.client
    request[BASE_URL] = forwarding.public_url or f"{seen.scheme}://{seen.host}"
    if seen == Seen(request.remote, request.scheme, request.host):
        return await handler(request)
    as_made = request.clone(remote=seen.client or "", scheme=seen.scheme, host=seen.host)
    try:
        return await handler(as_made)
    finally:
        # A clone has its own copy of the request's state; what handlers note on it (the caller
        # the access log names) must reach the request the access log is handed.
        request.update(as_made)


def parse_address(text: str | None) -> Address | None:
    """An address as peers and proxies write it: `203.0.113.7`, `203.0.113.7:5123`,
    `2001:db8::1`, `[2001:db8::1]:443`; an IPv4 address a dual-stack socket reports as
    `::ffff:203.0.113.7` is that IPv4 address."""
    if not text:
        return None
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _values(headers: Iterable[str]) -> list[str]:
    """The comma-separated values of every copy of a header, in order."""
    return [value.strip() for header in headers for value in header.split(",") if value.strip()]


def _rightmost(headers: Iterable[str]) -> str:
    values = _values(headers)
    return values[-1] if values else ""
