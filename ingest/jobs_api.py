"""Reads of jobs and runs, and job definitions."""


from aiohttp import web
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from ingest.auth import ADMIN, READ, authorize
from ingest.context import INGEST
from ingest.documents import job_document, job_state, run_report, run_summary
from ingest.errors import Invalid, NotFound, details
from ingest.events_api import decode_json, read_body
from ingest.query_params import int_param, time_param
from ingest.schemas import SLUG_RULE, JobDefinition, is_slug
from storage import queries
from storage.audit import record_change
from storage.models import Job

MAX_RUNS_LIMIT = 1000


def _session(request: web.Request) -> AsyncSession:
    return AsyncSession(request.app[INGEST].engine, expire_on_commit=False)


async def list_jobs(request: web.Request) -> web.Response:
    await authorize(request, READ)
    async with _session(request) as session:
        rows = await queries.list_jobs(session=session)
    return web.json_response({"jobs": [
        {
            **job_document(row.job),
            "state": job_state(row.last_run),
            "last_run": run_summary(row.job, row.last_run) if row.last_run else None,
        }
        for row in rows
    ]})


async def get_job(request: web.Request) -> web.Response:
    await authorize(request, READ)
    async with _session(request) as session:
        job = await _job(request, session)
    return web.json_response(job_document(job))


async def put_job(request: web.Request) -> web.Response:
    caller = await authorize(request, ADMIN)
    slug = request.match_info["job"]
    if not is_slug(slug):
        raise Invalid("invalid job slug", [{"index": 0, "field": "job", "message": SLUG_RULE}])
    body = decode_json(await read_body(request))
    if not isinstance(body, dict):
        raise Invalid("send one job definition object", [
            {"index": 0, "field": "(body)", "message": "must be a JSON object"}])
    try:
        definition = JobDefinition.model_validate(body)
    except ValidationError as exc:
        raise Invalid("invalid job definition; nothing was changed", details(exc)) from None
    problems = request.app[INGEST].schedule_problems(definition)
    if problems:
        raise Invalid("invalid job definition; nothing was changed", [
            {"index": 0, "field": field, "message": message} for field, message in problems])
    fields = definition.model_dump()
    fields["title"] = fields["title"] or slug
    now = request.app[INGEST].clock()
    async with _session(request) as session:
        existing = await queries.get_job(slug, session=session)
        changes = queries.definition_changes(existing, fields)
        job = await queries.put_job(slug, fields, now, session=session, commit=False)
        if changes:
            record_change("job.defined", actor=caller.name, target=slug, origin=caller.origin,
                          at=now, details={"created": existing is None, "changed": changes},
                          session=session)
        await session.commit()
        await session.refresh(job)
        warnings = await request.app[INGEST].definition_warnings(session, job)
    existed = existing is not None
    for changed in request.app[INGEST].on_job_change:
        changed()
    return web.json_response({**job_document(job), "warnings": warnings},
                             status=200 if existed else 201)


async def list_runs(request: web.Request) -> web.Response:
    await authorize(request, READ)
    since = time_param(request, "since")
    until = time_param(request, "until")
    limit = int_param(request, "limit", 50, 1, MAX_RUNS_LIMIT)
    async with _session(request) as session:
        job = await _job(request, session)
        runs = await queries.list_runs(job, since=since, until=until, limit=limit, session=session)
    return web.json_response({"job": job.slug, "runs": [run_summary(job, r) for r in runs]})


async def get_run(request: web.Request) -> web.Response:
    await authorize(request, READ)
    async with _session(request) as session:
        job = await _job(request, session)
        key = request.match_info["run"]
        run = await queries.get_run(job, key, session=session)
        if run is None:
            raise NotFound(f"job {job.slug!r} has no run {key!r}")
        events = await queries.run_events(run, session=session)
    return web.json_response(run_report(job, run, events))


async def _job(request: web.Request, session: AsyncSession) -> Job:
    slug = request.match_info["job"]
    job = await queries.get_job(slug, session=session)
    if job is None:
        raise NotFound(f"unknown job {slug!r}")
    return job
