"""The v1 HTTP contract's routes."""

from aiohttp import web

from ingest import alerts_api, audit_api, events_api, jobs_api, lineage, pings
from ingest.openapi import get_openapi

ROUTES = [
    web.post("/v1/events", events_api.post_events, name="events"),
    web.get("/v1/jobs", jobs_api.list_jobs, name="jobs"),
    web.get("/v1/jobs/{job}", jobs_api.get_job, name="job"),
    web.put("/v1/jobs/{job}", jobs_api.put_job, name="put-job"),
    web.get("/v1/jobs/{job}/runs", jobs_api.list_runs, name="runs"),
    web.get("/v1/jobs/{job}/runs/{run}", jobs_api.get_run, name="run"),
    web.get("/v1/alerts", alerts_api.list_alerts, name="alerts"),
    web.get("/v1/audit", audit_api.list_audit, name="audit"),
    web.get("/v1/openapi.json", get_openapi, name="openapi"),
    *lineage.ROUTES,
    *pings.ROUTES,
]
