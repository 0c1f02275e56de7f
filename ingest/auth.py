"""Bearer tokens and scopes. `OPENTRACE_AUTH=off` lets every request through."""

from dataclasses import dataclass

from aiohttp import web

from ingest.context import INGEST
from ingest.errors import Forbidden, Unauthorized

CALLER = web.RequestKey("caller", str)  # the request's caller name, for the access log
# Where links the server returns start: OPENTRACE_PUBLIC_URL, or the scheme and host the client
# used (as a trusted proxy forwarded them). The app's proxy middleware sets it; without it a
# handler takes the request's own scheme and host.
BASE_URL = web.RequestKey("base_url", str)
WRITE = frozenset({"ingest", "admin"})
READ = frozenset({"read", "admin"})
ADMIN = frozenset({"admin"})


@dataclass(frozen=True)
class Caller:
    """Who made a request, as the audit log names them."""

    name: str  # "token ops-admin", or "anonymous" with auth off
    origin: str  # the client's address (behind a trusted proxy, the one it forwarded)


async def authorize(request: web.Request, allowed: frozenset[str]) -> Caller:
    ingest = request.app[INGEST]
    origin = request.remote or "unknown address"
    if not ingest.auth:
        return Caller("anonymous (OPENTRACE_AUTH=off)", origin)
    caller = await _token_caller(request, allowed, origin)
    request[CALLER] = caller.name
    return caller


async def _token_caller(request: web.Request, allowed: frozenset[str], origin: str) -> Caller:
    ingest = request.app[INGEST]
    header = request.headers.get("Authorization", "")
    if not header:
        raise Unauthorized("missing Authorization header: send 'Authorization: Bearer <token>'")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    identity = await ingest.tokens.identify(token)
    if identity is None:
        raise Unauthorized("unknown or revoked token")
    if identity.scope not in allowed:
        needed = " or ".join(sorted(allowed))
        raise Forbidden(f"this is a {identity.scope} token; this request needs scope {needed}")
    return Caller(f"token {identity.name}", origin)
