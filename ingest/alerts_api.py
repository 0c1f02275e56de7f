"""`GET /v1/alerts`: what the watcher found, what it told whom, and what failed to send."""

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from ingest.auth import READ, authorize
from ingest.context import INGEST
from ingest.documents import alert_document
from ingest.errors import Invalid
from ingest.query_params import int_param
from storage.alert_states import ALERT_STATES
from storage.alerts import alert_reports


async def list_alerts(request: web.Request) -> web.Response:
    await authorize(request, READ)
    state = request.query.get("state") or None
    if state is not None and state not in ALERT_STATES:
        raise Invalid("invalid query parameter state", [
            {"index": 0, "field": "state", "message": f"must be one of {', '.join(ALERT_STATES)}"}])
    limit = int_param(request, "limit", 100, 1, 1000)
    async with AsyncSession(request.app[INGEST].engine, expire_on_commit=False) as session:
        reports = await alert_reports(state=state, limit=limit, session=session)
    return web.json_response({"alerts": [
        alert_document(report.alert, report.job, report.deliveries) for report in reports]})
