"""Bearer tokens and scopes. `OPENTRACE_AUTH=off` lets every request through."""

from aiohttp import web

from ingest.context import INGEST
from ingest.errors import Forbidden, Unauthorized

WRITE = frozenset({"ingest", "admin"})
READ = frozenset({"read", "admin"})
ADMIN = frozenset({"admin"})


async def authorize(request: web.Request, allowed: frozenset[str]) -> None:
    ingest = request.app[INGEST]
    if not ingest.auth:
        return
    header = request.headers.get("Authorization", "")
    if not header:
        raise Unauthorized("missing Authorization header: send 'Authorization: Bearer <token>'")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    scope = await ingest.tokens.scope_of(token)
    if scope is None:
        raise Unauthorized("unknown or revoked token")
    if scope not in allowed:
        needed = " or ".join(sorted(allowed))
        raise Forbidden(f"this is a {scope} token; this request needs scope {needed}")
