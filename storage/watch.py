"""Queries the watcher needs: jobs due for a check, runs still going, and the watcher's
bookmark on each job."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Event, Job, Run


async def due_jobs(now: datetime, limit: int = 500, *, session: AsyncSession) -> Sequence[Job]:
    query = (select(Job).where(col(Job.next_check_at) <= now)
             .order_by(col(Job.next_check_at)).limit(limit))
    return (await session.exec(query)).all()


async def next_check_at(*, session: AsyncSession) -> datetime | None:
    return (await session.exec(select(func.min(Job.next_check_at)))).one()


async def runs_to_judge(job: Job, recent: datetime,
                        oldest_running: datetime, *, session: AsyncSession) -> Sequence[Run]:
    """Runs started since `recent`, and runs still going that started since `oldest_running`."""
    query = select(Run).where(Run.job_id == job.id, col(Run.started_at) >= min(recent, oldest_running),
                              (col(Run.started_at) >= recent) | col(Run.finished_at).is_(None))
    return (await session.exec(query.order_by(col(Run.started_at)))).all()


async def jobs_of_runs_due(run_ids: set[int], now: datetime, *, session: AsyncSession) -> None:
    if not run_ids:
        return
    jobs = select(Run.job_id).where(col(Run.id).in_(run_ids))
    await session.exec(update(Job).where(
        col(Job.id).in_(jobs),
        (col(Job.next_check_at).is_(None)) | (col(Job.next_check_at) > now),
    ).values(next_check_at=now))


async def reached_milestones(run: Run, *, session: AsyncSession) -> dict[str, datetime]:
    """Each milestone the run reached, with the first time it did."""
    query = (select(Event.name, func.min(Event.at)).where(
        Event.run_id == run.id, Event.kind == "milestone", Event.status == "reached")
        .group_by(col(Event.name)))
    return {name: at for name, at in (await session.exec(query)).all() if name}


async def set_bookmark(job: Job, checked_until: datetime | None,
                       next_check: datetime | None, *, session: AsyncSession) -> None:
    await session.exec(update(Job).where(col(Job.id) == job.id).values(
        checked_until=checked_until, next_check_at=next_check))


async def check_soon(job_id: int, at: datetime, *, session: AsyncSession) -> None:
    """Bring a job's next check forward to `at` (never push it back)."""
    await session.exec(update(Job).where(
        col(Job.id) == job_id,
        (col(Job.next_check_at).is_(None)) | (col(Job.next_check_at) > at),
    ).values(next_check_at=at))
