"""Read queries and job definitions. Functions take `*, session` and return table models."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, true
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from storage.alerts import Alert
from storage.models import Event, Job, Run


@dataclass(frozen=True)
class JobWithLastRun:
    job: Job
    last_run: Run | None


def latest_run_ids(*, succeeded: bool = False) -> SelectOfScalar[Any]:
    """Each job's latest run id (`succeeded`: latest run that said it succeeded): one indexed
    probe per job (ix_runs_job_started), so the cost grows with jobs, not with runs."""
    latest_id = (
        select(Run.id)
        .where(Run.job_id == Job.id, col(Run.status) == "succeeded" if succeeded else true())
        .order_by(col(Run.started_at).desc(), col(Run.id).desc())
        .limit(1)
        .correlate(Job)
        .scalar_subquery()
    )
    return select(latest_id).select_from(Job)


async def list_jobs(*, session: AsyncSession) -> list[JobWithLastRun]:
    jobs = (await session.exec(select(Job).order_by(col(Job.slug)))).all()
    last_ids = [i for i in (await session.exec(latest_run_ids())).all() if i is not None]
    runs = (await session.exec(select(Run).where(col(Run.id).in_(last_ids)))).all() if last_ids else []
    by_job = {run.job_id: run for run in runs}
    return [JobWithLastRun(job, by_job.get(job.id or 0)) for job in jobs]


async def last_runs(job_ids: Sequence[int], *, session: AsyncSession) -> dict[int, Run]:
    """The latest run of each of these jobs (by start), by job id; jobs without runs are
    missing. An index probe per job, like `list_jobs`."""
    if not job_ids:
        return {}
    latest = latest_run_ids().where(col(Job.id).in_(list(job_ids)))
    ids = [i for i in (await session.exec(latest)).all() if i is not None]
    runs = (await session.exec(select(Run).where(col(Run.id).in_(ids)))).all() if ids else []
    return {run.job_id: run for run in runs}


async def runs_of_jobs(job_ids: Sequence[int], *, since: datetime, until: datetime, limit: int,
                       session: AsyncSession) -> dict[int, list[Run]]:
    """`list_runs(job, since=, until=, limit=)` for many jobs in one query, by job id, each
    newest first: an indexed range scan per job (ix_runs_job_started)."""
    if not job_ids:
        return {}
    order = (col(Run.started_at).desc(), col(Run.id).desc())
    ranked = (select(col(Run.id).label("id"),
                     func.row_number().over(partition_by=col(Run.job_id), order_by=order).label("n"))
              .where(col(Run.job_id).in_(list(job_ids)), Run.started_at >= since,
                     Run.started_at < until)
              .subquery())
    query = select(Run).join(ranked, ranked.c.id == Run.id).where(ranked.c.n <= limit) \
        .order_by(col(Run.job_id), *order)
    found: dict[int, list[Run]] = {job_id: [] for job_id in job_ids}
    for run in (await session.exec(query)).all():
        found.setdefault(run.job_id, []).append(run)
    return found


async def alerts_about_occurrences(job_ids: Sequence[int], kinds: Sequence[str], *,
                                   since: datetime, until: datetime,
                                   session: AsyncSession) -> Sequence[Alert]:
    """The alerts, open or resolved, about scheduled occurrences in [since, until): the
    nights a job was due and did not start, for "did everything go ok last night?"."""
    if not job_ids:
        return []
    query = select(Alert).where(col(Alert.job_id).in_(job_ids), col(Alert.kind).in_(kinds),
                                col(Alert.occurrence_at) >= since, col(Alert.occurrence_at) < until)
    return (await session.exec(query.order_by(col(Alert.occurrence_at)))).all()


async def all_jobs(*, session: AsyncSession) -> Sequence[Job]:
    return (await session.exec(select(Job).order_by(col(Job.slug)))).all()


async def jobs_signature(*, session: AsyncSession) -> tuple[int, datetime | None]:
    """How many jobs there are and when one last changed: cheap, and it changes whenever the
    job list does, so a cache of anything built from the jobs knows when to rebuild."""
    count, changed = (await session.exec(select(func.count(), func.max(Job.updated_at)))).one()
    return int(count), changed


async def run_ids(job_slug: str, keys: Sequence[str], *, session: AsyncSession) -> list[int]:
    """The ids of a job's runs with these keys."""
    query = select(Run.id).join(Job).where(Job.slug == job_slug, col(Run.key).in_(keys))
    return [run_id for run_id in (await session.exec(query)).all() if run_id is not None]


async def get_job(slug: str, *, session: AsyncSession) -> Job | None:
    return (await session.exec(select(Job).where(Job.slug == slug))).first()


async def put_job(slug: str, fields: dict[str, Any], now: datetime, *, session: AsyncSession,
                  commit: bool = True) -> Job:
    """Create a job, or set the given definition fields of an existing one (callers that
    replace a definition pass every field)."""
    job = await get_job(slug, session=session)
    if job is None:
        job = Job(slug=slug, created_at=now, updated_at=now, **fields)
    else:
        for name, value in fields.items():
            setattr(job, name, value)
        job.updated_at = now
    job.next_check_at = now  # the watcher works out the new deadlines at its next pass
    session.add(job)
    if commit:
        await session.commit()
        await session.refresh(job)
    return job


def definition_changes(job: Job | None, fields: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What setting `fields` on `job` changes, as {field: {"from": old, "to": new}} — for the
    audit log. A new job changes every field from nothing."""
    return {name: {"from": getattr(job, name) if job else None, "to": value}
            for name, value in fields.items()
            if job is None or getattr(job, name) != value}


async def list_runs(
    job: Job,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 50,
    oldest_first: bool = False,
    session: AsyncSession,
) -> Sequence[Run]:
    """The job's runs that started in [since, until), newest first (or oldest first); every
    one of them when `limit` is None. One indexed range scan (ix_runs_job_started)."""
    query = select(Run).where(Run.job_id == job.id)
    if since is not None:
        query = query.where(Run.started_at >= since)
    if until is not None:
        query = query.where(Run.started_at < until)
    order = (col(Run.started_at), col(Run.id)) if oldest_first else \
        (col(Run.started_at).desc(), col(Run.id).desc())
    query = query.order_by(*order)
    if limit is not None:
        query = query.limit(limit)
    return (await session.exec(query)).all()


async def get_run(job: Job, key: str, *, session: AsyncSession) -> Run | None:
    query = select(Run).where(Run.job_id == job.id, Run.key == key)
    return (await session.exec(query)).first()


async def run_events(run: Run, *, session: AsyncSession, kinds: Sequence[str] | None = None,
                     names: Sequence[str] | None = None) -> Sequence[Event]:
    """The run's timeline, ordered by `at`; only the given kinds and names when set."""
    query = select(Event).where(Event.run_id == run.id)
    if kinds is not None:
        query = query.where(col(Event.kind).in_(kinds))
    if names is not None:
        query = query.where(col(Event.name).in_(names))
    return (await session.exec(query.order_by(col(Event.at), col(Event.id)))).all()


async def count_events(*, session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(Event))).one()


async def ping(*, session: AsyncSession) -> None:
    await session.exec(select(1))


async def events_of_runs(run_ids: Sequence[int], *, session: AsyncSession) -> dict[int, list[Event]]:
    """Every event of the given runs, by run id, each run's ordered by `at`."""
    found: dict[int, list[Event]] = {run_id: [] for run_id in run_ids}
    for start in range(0, len(run_ids), 5_000):
        chunk = list(run_ids[start:start + 5_000])
        query = select(Event).where(col(Event.run_id).in_(chunk)).order_by(
            col(Event.run_id), col(Event.at), col(Event.id))
        for event in (await session.exec(query)).all():
            found.setdefault(event.run_id, []).append(event)
    return found
