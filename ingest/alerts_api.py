"""`GET /v1/alerts`: what the watcher found, what it told whom, and what failed to send."""

from typing import Any

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from ingest.auth import READ, authorize
from ingest.errors import Invalid
from opentrace.keys import ENGINE
from storage import alerts
from storage.models import Job
from storage.reports import alert_document

STATES = ("open", "acknowledged", "resolved")


async def list_alerts(request: web.Request) -> web.Response:
    await authorize(request, READ)
    state = request.query.get("state") or None
    if state is not None and state not in STATES:
        raise Invalid("invalid query parameter state", [
            {"index": 0, "field": "state", "message": f"must be one of {', '.join(STATES)}"}])
    try:
        limit = int(request.query.get("limit", "100"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 1000:
        raise Invalid("invalid query parameter limit", [
            {"index": 0, "field": "limit", "message": "must be an integer 1..1000"}])
    async with AsyncSession(request.app[ENGINE], expire_on_commit=False) as session:
        found = await alerts.list_alerts(session, state=state, limit=limit)
        deliveries = await alerts.deliveries_of(session, [a.id or 0 for a in found])
        jobs: dict[int, Any] = {}
        for alert in found:
            if alert.job_id not in jobs:
                jobs[alert.job_id] = await session.get(Job, alert.job_id)
    by_alert: dict[int, list[Any]] = {}
    for delivery in deliveries:
        by_alert.setdefault(delivery.alert_id, []).append(delivery)
    return web.json_response({"alerts": [
        alert_document(a, jobs[a.job_id].slug, by_alert.get(a.id or 0, [])) for a in found]})
