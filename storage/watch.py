"""Queries the watcher needs, each for a whole set of due jobs or judged runs at once:
claiming the jobs whose next check has come, the runs of their scheduled occurrences and the
milestones those reached, the runs to judge with their events and open alerts, alerts and
deliveries written in bulk, and the watcher's bookmark on each job."""

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, case, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.alert_states import OPEN, PENDING, RESOLVED
from storage.alerts import Alert, Delivery
from storage.models import Event, Job, Run
from storage.types import UTCDateTime

IDS_PER_QUERY = 5_000  # bound parameters per statement stay far below both drivers' limits
JOBS = Job.__table__  # type: ignore[attr-defined]
DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]
K = TypeVar("K")


async def claim_due(now: datetime, lease_until: datetime, limit: int, *,
                    session: AsyncSession) -> list[Job]:
    """Take up to `limit` jobs whose next check has come, in one conditional UPDATE that moves
    their next check to `lease_until`: a job another watcher took first no longer matches, so
    two replicas share the due jobs and never judge one twice. Should this watcher die before
    it sets the bookmarks, the jobs fall due again at `lease_until`. Commit straight after."""
    due = (select(Job.id).where(col(Job.next_check_at) <= now)
           .order_by(col(Job.next_check_at), col(Job.id)).limit(limit))
    if _dialect(session) == "postgresql":
        due = due.with_for_update(skip_locked=True)  # a row being claimed is skipped, not awaited
    query = (update(Job).where(col(Job.id).in_(due), col(Job.next_check_at) <= now)
             .values(next_check_at=lease_until).returning(Job)
             .execution_options(synchronize_session=False))
    return sorted((await session.exec(query)).scalars().all(), key=lambda job: job.id or 0)


async def next_check_at(*, session: AsyncSession) -> datetime | None:
    return (await session.exec(select(func.min(Job.next_check_at)))).one()


async def runs_in_windows(windows: dict[int, tuple[datetime, datetime]], *,
                          session: AsyncSession) -> dict[int, list[Run]]:
    """Each job's runs that started in its window [from, until), oldest first: one indexed
    range per job (ix_runs_job_started), jobs with the same window sharing one IN list."""
    found: dict[int, list[Run]] = defaultdict(list)
    for condition in _per_window(windows, lambda ids, window: and_(
            col(Run.job_id).in_(ids), col(Run.started_at) >= window[0],
            col(Run.started_at) < window[1])):
        query = select(Run).where(condition).order_by(col(Run.started_at), col(Run.id))
        for run in (await session.exec(query)).all():
            found[run.job_id].append(run)
    return found


async def reached_milestones(run_ids: Collection[int], *,
                             session: AsyncSession) -> dict[int, dict[str, datetime]]:
    """Each milestone each run reached, with the first time it did."""
    reached: dict[int, dict[str, datetime]] = defaultdict(dict)
    for chunk in _chunks(sorted(run_ids)):
        query = (select(Event.run_id, Event.name, func.min(Event.at)).where(
            col(Event.run_id).in_(chunk), Event.kind == "milestone", Event.status == "reached")
            .group_by(col(Event.run_id), col(Event.name)))
        for run_id, name, at in (await session.exec(query)).all():
            if name:
                reached[run_id][name] = at
    return reached


@dataclass(frozen=True)
class RunsToJudge:
    """Which of a job's runs a deadline pass judges: runs still going that started since
    `oldest_running`, and runs started since `recent` that reported anything after
    `changed_after` (all of them when it is None)."""

    recent: datetime
    oldest_running: datetime
    changed_after: datetime | None


async def runs_to_judge(wanted: dict[int, RunsToJudge], *,
                        session: AsyncSession) -> dict[int, list[Run]]:
    """The runs `wanted` names, by job, oldest first; jobs asking the same share an IN list."""
    def condition(ids: list[int], want: RunsToJudge) -> ColumnElement[bool]:
        changed: ColumnElement[bool] = col(Run.started_at) >= want.recent
        if want.changed_after is not None:
            changed = and_(changed, or_(col(Run.last_event_at) > want.changed_after,
                                        col(Run.created_at) > want.changed_after))
        return and_(col(Run.job_id).in_(ids),
                    col(Run.started_at) >= min(want.recent, want.oldest_running),
                    or_(changed, col(Run.finished_at).is_(None)))

    found: dict[int, list[Run]] = defaultdict(list)
    for where in _per_window(wanted, condition):
        query = select(Run).where(where).order_by(col(Run.started_at), col(Run.id))
        for run in (await session.exec(query)).all():
            found[run.job_id].append(run)
    return found


async def runs_and_jobs(run_ids: Collection[int], *,
                        session: AsyncSession) -> tuple[list[Run], dict[int, Job]]:
    """These runs, in id order, and their jobs."""
    runs: list[Run] = []
    for chunk in _chunks(sorted(run_ids)):
        runs += (await session.exec(select(Run).where(col(Run.id).in_(chunk)))).all()
    jobs = {}
    for chunk in _chunks(sorted({run.job_id for run in runs})):
        for job in (await session.exec(select(Job).where(col(Job.id).in_(chunk)))).all():
            jobs[job.id or 0] = job
    return sorted(runs, key=lambda run: run.id or 0), jobs


async def judging_events(metric_names: dict[int, Collection[str]], *,
                         session: AsyncSession) -> dict[int, list[Event]]:
    """What judging a run reads of its timeline, by run id: its milestones, then the metrics
    named in `metric_names[run id]`, each in time order. A long run's thousands of progress
    events, and metrics nobody set bounds on, are never read."""
    names = sorted({name for wanted in metric_names.values() for name in wanted})
    kinds = or_(col(Event.kind) == "milestone",
                and_(col(Event.kind) == "metric", col(Event.name).in_(names))) if names \
        else col(Event.kind) == "milestone"
    milestones: dict[int, list[Event]] = defaultdict(list)
    metrics: dict[int, list[Event]] = defaultdict(list)
    for chunk in _chunks(sorted(metric_names)):
        query = (select(Event).where(col(Event.run_id).in_(chunk), kinds)
                 .order_by(col(Event.at), col(Event.id)))
        for event in (await session.exec(query)).all():
            if event.kind == "milestone":
                milestones[event.run_id].append(event)
            elif event.name in metric_names[event.run_id]:
                metrics[event.run_id].append(event)
    return {run_id: milestones[run_id] + metrics[run_id] for run_id in metric_names}


async def unresolved_alerts(job_ids: Collection[int], *,
                            session: AsyncSession) -> dict[int, list[Alert]]:
    """Every alert of these jobs not yet resolved, by job, oldest first."""
    found: dict[int, list[Alert]] = defaultdict(list)
    for chunk in _chunks(sorted(job_ids)):
        query = (select(Alert).where(col(Alert.job_id).in_(chunk), col(Alert.state) != RESOLVED)
                 .order_by(col(Alert.id)))
        for alert in (await session.exec(query)).all():
            found[alert.job_id].append(alert)
    return found


@dataclass(frozen=True)
class NewAlert:
    job_id: int
    kind: str
    key: str
    reason: str
    run_id: int | None
    occurrence_at: datetime | None
    facts: dict[str, Any]


async def open_alerts(new: Sequence[NewAlert], now: datetime, *,
                      session: AsyncSession) -> dict[tuple[int, str, str], Alert]:
    """Open every alert of `new` that does not exist yet, by (job, kind, key), in one INSERT
    per few thousand: the unique key makes an alert judged twice (after a restart, by two
    watchers at once) open once. Returns only the alerts this call opened."""
    rows = [{"job_id": a.job_id, "kind": a.kind, "key": a.key, "reason": a.reason[:2000],
             "run_id": a.run_id, "occurrence_at": a.occurrence_at, "state": OPEN,
             "facts": a.facts, "opened_at": now} for a in new]
    opened: dict[tuple[int, str, str], Alert] = {}
    for start in range(0, len(rows), IDS_PER_QUERY // 10):
        query = (_insert_ignoring_conflicts(session, Alert)
                 .values(rows[start:start + IDS_PER_QUERY // 10]).returning(Alert))
        for alert in (await session.exec(query)).scalars().all():
            opened[(alert.job_id, alert.kind, alert.key)] = alert
    return opened


async def queue_deliveries(messages: Iterable[tuple[int, str, str, str]], now: datetime, *,
                           session: AsyncSession) -> None:
    """Queue (alert id, event, channel, target) messages; one already queued is not again."""
    rows = [{"alert_id": alert_id, "event": event, "channel": channel, "target": target[:500],
             "state": PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now}
            for alert_id, event, channel, target in messages]
    for start in range(0, len(rows), IDS_PER_QUERY // 10):
        await session.exec(_insert_ignoring_conflicts(session, DELIVERIES)
                           .values(rows[start:start + IDS_PER_QUERY // 10]))


async def set_bookmarks(bookmarks: dict[int, tuple[datetime | None, datetime | None]],
                        claimed: datetime, *, session: AsyncSession) -> None:
    """Set each job's (checked until, next check). A job whose next check moved away from
    the `claimed` value while it was judged (telemetry marked it due, its definition
    changed) keeps the earlier of the two: such a mark is never lost."""
    if not bookmarks:
        return
    nxt = bindparam("next_check", type_=UTCDateTime())
    current = JOBS.c.next_check_at
    query = update(JOBS).where(JOBS.c.id == bindparam("job")).values(
        checked_until=bindparam("checked_until", type_=UTCDateTime()),
        next_check_at=case(
            (current.is_(None) | (current == bindparam("claimed", type_=UTCDateTime())), nxt),
            (nxt.is_(None) | (current < nxt), current),
            else_=nxt))
    await session.exec(query, params=[
        {"job": job_id, "checked_until": until, "next_check": nxt_at, "claimed": claimed}
        for job_id, (until, nxt_at) in bookmarks.items()])


async def check_soon(due: dict[int, datetime], *, session: AsyncSession) -> None:
    """Bring each job's next check forward to its time (never push it back)."""
    if not due:
        return
    at = bindparam("at", type_=UTCDateTime())
    query = update(JOBS).where(JOBS.c.id == bindparam("job"),
                               JOBS.c.next_check_at.is_(None) | (JOBS.c.next_check_at > at)
                               ).values(next_check_at=at)
    await session.exec(query, params=[
        {"job": job_id, "at": when} for job_id, when in due.items()])


async def jobs_of_runs_due(run_ids: set[int], now: datetime, *, session: AsyncSession) -> None:
    if not run_ids:
        return
    jobs = select(Run.job_id).where(col(Run.id).in_(run_ids))
    await session.exec(update(Job).where(
        col(Job.id).in_(jobs),
        (col(Job.next_check_at).is_(None)) | (col(Job.next_check_at) > now),
    ).values(next_check_at=now))


# --- helpers ---------------------------------------------------------------------------------

def _per_window(wanted: dict[int, K], condition: Any) -> list[ColumnElement[bool]]:
    """WHERE clauses covering every job of `wanted`: jobs that want the same thing share one
    `condition(ids, thing)`, OR-ed together, at most IDS_PER_QUERY ids per clause."""
    groups: dict[K, list[int]] = defaultdict(list)
    for job_id, thing in wanted.items():
        groups[thing].append(job_id)
    clauses: list[ColumnElement[bool]] = []
    current: list[ColumnElement[bool]] = []
    size = 0
    for thing, ids in groups.items():
        for chunk in _chunks(sorted(ids)):
            if current and size + len(chunk) > IDS_PER_QUERY:
                clauses.append(or_(*current))
                current, size = [], 0
            current.append(condition(chunk, thing))
            size += len(chunk)
    if current:
        clauses.append(or_(*current))
    return clauses


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[start:start + IDS_PER_QUERY] for start in range(0, len(ids), IDS_PER_QUERY)]


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def _insert_ignoring_conflicts(session: AsyncSession, table: Any) -> Any:
    module = postgresql if _dialect(session) == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()
