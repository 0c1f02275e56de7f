"""`GET /v1/audit` (admin): the audit log, newest first, read-only — the API has no way to
change or delete an entry."""

from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from ingest.auth import ADMIN, BASE_URL, authorize
from ingest.context import INGEST
from ingest.documents import timestamp
from ingest.query_params import int_param, text_param, time_param
from storage.audit import AuditEntry, audit_entries

FILTERS = ("action", "actor", "target")


async def list_audit(request: web.Request) -> web.Response:
    await authorize(request, ADMIN)
    since, until = time_param(request, "since"), time_param(request, "until")
    texts = {name: text_param(request, name) for name in FILTERS}
    limit = int_param(request, "limit", 100, 1, 1000)
    before = int_param(request, "before", 2**62, 1, 2**62) if "before" in request.query else None
    async with AsyncSession(request.app[INGEST].engine) as session:
        entries = await audit_entries(since=since, until=until, before_id=before, limit=limit,
                                      session=session, **texts)
    following = None
    if len(entries) == limit:
        query = {k: v for k, v in request.query.items() if k != "before"}
        # Absolute, so that a client can follow it as it is (a relative one needs joining, and
        # behind a proxy that strips a path prefix it would lead past the prefix).
        base = request.get(BASE_URL) or f"{request.scheme}://{request.host}"
        following = f"{base}{request.path}?{urlencode({**query, 'before': entries[-1].id})}"
    return web.json_response({"entries": [audit_document(e) for e in entries],
                              "next": following})


def audit_document(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": timestamp(entry.at), "actor": entry.actor,
            "action": entry.action, "target": entry.target, "origin": entry.origin,
            "details": entry.details}
