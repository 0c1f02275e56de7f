"""Queries the watcher needs, each for a whole set of due jobs or judged runs at once:
claiming the jobs whose next check has come, the runs of their scheduled occurrences and the
milestones those reached, the runs still to look at (not judged since their last write, or
still going) with what is kept of them, their events and the histories they are judged
against, alerts and deliveries written in bulk, what judging worked out and the runs it
judged, and the watcher's bookmark on each job.

Runs, events and histories come back as plain tuples, never as table models: a pass reads
tens of thousands of rows, and building a model per row cost more than reading it. Their
timestamps are read as `UTCDateTime` reads them, by one function each (`_read`): a first
pass reads millions of them."""

import json
import sqlite3
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import (
    BigInteger,
    DateTime,
    String,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    text,
    true,
    type_coerce,
    union,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType
from sqlmodel import col
from sqlmodel import select as select_models
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.alert_states import ALERT_STATES, OPEN, PENDING, RESOLVED
from storage.alerts import Alert, Delivery, Subscription
from storage.job_state import HISTORY_KINDS, JUDGEMENTS, REVISIONS
from storage.models import PENDING_RUNS, UNFINISHED_RUNS, Event, Job, Run
from storage.types import UTCDateTime
from storage.writer import sqlite_utc

IDS_PER_QUERY = 5_000  # bound parameters per statement stay far below both drivers' limits
JOBS = Job.__table__  # type: ignore[attr-defined]
RUNS = Run.__table__  # type: ignore[attr-defined]
EVENTS = Event.__table__  # type: ignore[attr-defined]
DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]
SUBSCRIPTIONS = Subscription.__table__  # type: ignore[attr-defined]
SUCCEEDED = "succeeded"
NO_DATA: dict[str, Any] = {}  # shared by every event read without its data: never written to
K = TypeVar("K")


class _ReadUTC(UTCDateTime):
    """`UTCDateTime` as the watcher reads it in bulk: the same aware UTC datetimes, each
    made by one call rather than through the type's chain of processors."""

    cache_ok = True

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        return _sqlite_utc_read if dialect.name == "sqlite" else _aware_utc_read


def _sqlite_utc_read(value: str | None) -> datetime | None:
    """SQLite's naive UTC text, as `UTCDateTime` reads it. Parsed with the offset appended:
    `replace(tzinfo=…)` costs ten times the parse."""
    if value is None:
        return None
    try:
        return _parse(value + "+00:00")
    except ValueError:  # text with an offset of its own (or none at all): as `UTCDateTime` reads it
        found = _parse(value)
        return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


_parse = datetime.fromisoformat


def _aware_utc_read(value: datetime | None) -> datetime | None:
    """asyncpg gives `timestamptz` in UTC already."""
    return value if value is None or value.tzinfo is UTC else value.astimezone(UTC)


READ_UTC = _ReadUTC()


def _read(column: Any) -> Any:
    """A column to select: its timestamps read by `READ_UTC`, anything else as it is."""
    return type_coerce(column, READ_UTC) if isinstance(column.type, UTCDateTime) else column


# --- jobs ----------------------------------------------------------------------------------------

class JobMark(NamedTuple):
    """What the watcher reads of a job on every pass; the definition itself only when
    `updated_at` says it changed."""

    id: int
    updated_at: datetime
    checked_until: datetime | None
    defined_at: datetime | None
    definition_digest: str | None
    runs_check_at: datetime | None
    next_check_at: datetime | None  # as claimed (or read): `set_bookmarks` sees whether it moved
    revision: int = 0  # the job's revision (`storage.job_state`), read with the rest


MARK_COLUMNS = (*(_read(c) for c in (
    JOBS.c.id, JOBS.c.updated_at, JOBS.c.checked_until, JOBS.c.defined_at,
    JOBS.c.definition_digest, JOBS.c.runs_check_at, JOBS.c.next_check_at)),
    func.coalesce(select(REVISIONS.c.revision).where(REVISIONS.c.job_id == JOBS.c.id).correlate(JOBS)
                  .scalar_subquery(), 0))


async def claim_due(now: datetime, lease_until: datetime, limit: int, *,
                    session: AsyncSession) -> list[JobMark]:
    """Take up to `limit` jobs whose next check has come, with their revisions (read before
    any of their telemetry, as `keep_judged` needs them). On PostgreSQL, in one conditional
    UPDATE that moves their next check to `lease_until`: a job another watcher took first no
    longer matches, so two replicas share the due jobs and never judge one twice; should this
    watcher die before it sets the bookmarks, the jobs fall due again at `lease_until`. Commit
    straight after. SQLite serves a single process (`alerts.leadership`): nothing to share,
    so the due jobs are only read — a write of every due job, and a commit, less a pass."""
    due = (select(JOBS.c.id).where(JOBS.c.next_check_at <= now)
           .order_by(JOBS.c.next_check_at, JOBS.c.id).limit(limit))
    if _dialect(session) != "postgresql":
        query: Any = select(*MARK_COLUMNS).where(JOBS.c.id.in_(due))
    else:
        due = due.with_for_update(skip_locked=True)  # a row being claimed is skipped, not awaited
        query = (update(JOBS).where(JOBS.c.id.in_(due), JOBS.c.next_check_at <= now)
                 .values(next_check_at=lease_until).returning(*MARK_COLUMNS))
    rows = (await (await session.connection()).execute(query)).all()
    return sorted((JobMark(*row) for row in rows), key=lambda mark: mark.id)


async def job_marks(job_ids: Collection[int], *, session: AsyncSession) -> list[JobMark]:
    found: list[JobMark] = []
    for chunk in _chunks(sorted(job_ids)):
        query = select(*MARK_COLUMNS).where(_among(JOBS.c.id, chunk, session))
        found += [JobMark(*row) for row in (await (await session.connection()).execute(query)).all()]
    return sorted(found, key=lambda mark: mark.id)


class DefinitionRow(NamedTuple):
    """What judging reads of a job's definition."""

    id: int
    slug: str
    title: str
    schedule: str | None
    timezone: str | None
    expect: dict[str, Any]
    updated_at: datetime


async def definitions(job_ids: Collection[int], *, session: AsyncSession) -> list[DefinitionRow]:
    found: list[DefinitionRow] = []
    for chunk in _chunks(sorted(job_ids)):
        query = select(JOBS.c.id, JOBS.c.slug, JOBS.c.title, JOBS.c.schedule, JOBS.c.timezone,
                       JOBS.c.expect, JOBS.c.updated_at).where(_among(JOBS.c.id, chunk, session))
        found += [DefinitionRow(*row) for row in (await (await session.connection()).execute(query)).all()]
    return found


async def jobs_by_id(job_ids: Collection[int], *, session: AsyncSession) -> dict[int, Job]:
    """These jobs as table models: the jobs whose alerts are sent."""
    found: dict[int, Job] = {}
    for chunk in _chunks(sorted(job_ids)):
        for job in (await session.exec(select_models(Job).where(col(Job.id).in_(chunk)))).all():
            found[job.id or 0] = job
    return found


async def next_check_at(*, session: AsyncSession) -> datetime | None:
    return (await session.exec(select_models(func.min(Job.next_check_at)))).one()


async def revisions_of_runs(run_ids: Collection[int], *, session: AsyncSession) -> dict[int, int]:
    """The revision of each job these runs belong to (`storage.job_state`), to be read
    before the runs themselves."""
    found: dict[int, int] = {}
    for chunk in _chunks(sorted(run_ids)):
        query = select(RUNS.c.job_id, func.coalesce(REVISIONS.c.revision, 0)).select_from(
            RUNS.outerjoin(REVISIONS, REVISIONS.c.job_id == RUNS.c.job_id)).where(
            _among(RUNS.c.id, chunk, session))
        found.update({job_id: revision for job_id, revision in
                      (await (await session.connection()).execute(query)).all()})
    return found


async def without_jit(session: AsyncSession) -> None:
    """On PostgreSQL, no JIT compilation for the rest of this transaction. The watcher's
    queries are index ranges per job, over in milliseconds; the planner, misjudging how many
    rows a range per job holds, took some for costly enough to compile — 200-500 ms each."""
    if _dialect(session) == "postgresql":
        await (await session.connection()).execute(text("SET LOCAL jit = off"))


# --- runs ----------------------------------------------------------------------------------------

class RunRow(NamedTuple):
    """A run as judging reads it (`alerts.expectations.RunLike`)."""

    id: int
    job_id: int
    key: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    last_event_at: datetime
    summary: str | None
    created_at: datetime | None = None  # when OpenTrace first heard of it


RUN_COLUMNS = tuple(_read(c) for c in (
    RUNS.c.id, RUNS.c.job_id, RUNS.c.key, RUNS.c.status, RUNS.c.started_at, RUNS.c.finished_at,
    RUNS.c.last_event_at, RUNS.c.summary, RUNS.c.created_at))


async def runs_in_windows(windows: dict[int, tuple[datetime, datetime]], *,
                          session: AsyncSession) -> dict[int, list[RunRow]]:
    """Each job's runs that started in its window [from, until), oldest first: one indexed
    range per job (ix_runs_job_started), the windows sent as one parameter (a JSON list on
    SQLite, arrays on PostgreSQL) so that the statement is the same for any windows."""
    found: dict[int, list[RunRow]] = defaultdict(list)
    items = sorted(windows.items())
    for start in range(0, len(items), IDS_PER_QUERY):
        chunk = items[start:start + IDS_PER_QUERY]
        if _dialect(session) == "postgresql":
            stamp = postgresql.ARRAY(postgresql.TIMESTAMP(timezone=True))
            given: Any = func.unnest(
                bindparam(None, [job_id for job_id, _ in chunk], type_=postgresql.ARRAY(BigInteger)),
                bindparam(None, [since for _, (since, _) in chunk], type_=stamp),
                bindparam(None, [until for _, (_, until) in chunk], type_=stamp),
            ).table_valued("job", "since", "until").render_derived()
            job, since, until = given.c.job, given.c.since, given.c.until
        else:
            stamps: dict[datetime, str] = {}  # windows are shared by jobs alike
            given = func.json_each(bindparam(None, json.dumps(
                [[job_id, _stamp(since, stamps), _stamp(until, stamps)]
                 for job_id, (since, until) in chunk]), type_=String)).table_valued("value")
            job, since, until = (func.json_extract(given.c.value, f"$[{i}]") for i in range(3))
        query = (select(*RUN_COLUMNS).select_from(given).join(RUNS, and_(
            RUNS.c.job_id == job, RUNS.c.started_at >= since, RUNS.c.started_at < until))
            .order_by(RUNS.c.job_id, RUNS.c.started_at, RUNS.c.id))
        for row in (await (await session.connection()).execute(query)).all():
            found[row[1]].append(RunRow(*row))
    return found


async def runs_by_id(run_ids: Collection[int], *, session: AsyncSession) -> list["WatchedRun"]:
    """These runs, in id order, with what is kept of them."""
    found: list[WatchedRun] = []
    for chunk in _chunks(sorted(run_ids)):
        found += await _watched(_among(RUNS.c.id, chunk, session), session)
    return sorted(found, key=lambda watched: watched.run.id)


async def reached_milestones(run_ids: Collection[int], *,
                             session: AsyncSession) -> dict[int, dict[str, datetime]]:
    """Each milestone each run reached, with the first time it did."""
    reached: dict[int, dict[str, datetime]] = defaultdict(dict)
    for chunk in _chunks(sorted(run_ids)):
        query = (select(EVENTS.c.run_id, EVENTS.c.name, _read(func.min(EVENTS.c.at))).where(
            _among(EVENTS.c.run_id, chunk, session), EVENTS.c.kind == "milestone",
            EVENTS.c.status == "reached")
            .group_by(EVENTS.c.run_id, EVENTS.c.name))
        for run_id, name, at in (await (await session.connection()).execute(query)).all():
            if name:
                reached[run_id][name] = at
    return reached


class WatchedRun(NamedTuple):
    """A run the watcher looks at, and what is kept of it: a run still going that was judged
    has its silence limit stored, under the definition of `definition_at` (`kept`; the limit
    itself may be None: too little history)."""

    run: RunRow
    pending: bool
    kept: bool
    definition_at: datetime | None
    stall_after: float | None


async def jobs_with_pending(job_ids: Collection[int], since: datetime, *,
                            session: AsyncSession) -> set[int]:
    """Which of these jobs have a run that started since `since` and was written to since it
    was last judged: the partial index ix_runs_pending alone answers."""
    found: set[int] = set()
    for chunk in _chunks(sorted(job_ids)):
        query = select(RUNS.c.job_id).distinct().where(
            _among(RUNS.c.job_id, chunk, session), RUNS.c.started_at >= since, NOT_JUDGED)
        found.update(job_id for (job_id,) in (await (await session.connection()).execute(query)).all())
    return found


async def pending_runs(job_ids: Collection[int], since: datetime, *,
                       session: AsyncSession) -> list[WatchedRun]:
    """The runs of these jobs that started since `since` and were written to since they were
    last judged (a range of the partial index ix_runs_pending per job)."""
    found: list[WatchedRun] = []
    for chunk in _chunks(sorted(job_ids)):
        found += await _watched(and_(_among(RUNS.c.job_id, chunk, session),
                                     RUNS.c.started_at >= since, NOT_JUDGED), session)
    return found


async def running_runs(job_ids: Collection[int], since: datetime, *,
                       session: AsyncSession) -> list[WatchedRun]:
    """The runs of these jobs that started since `since`, are still going and were judged as
    they are (a range of the partial index ix_runs_unfinished per job)."""
    found: list[WatchedRun] = []
    for chunk in _chunks(sorted(job_ids)):
        found += await _watched(and_(_among(RUNS.c.job_id, chunk, session),
                                     RUNS.c.started_at >= since, UNFINISHED,
                                     RUNS.c.pending.is_(False)), session)
    return found


async def watched_runs(job_ids: Collection[int], since: datetime, *,
                       session: AsyncSession) -> list[WatchedRun]:
    """The runs of these jobs that started since `since` and are not judged since their last
    write, or still going, by job, oldest first: a range of the partial indexes
    ix_runs_pending and ix_runs_unfinished per job, whatever the jobs' history."""
    found: list[WatchedRun] = []
    for chunk in _chunks(sorted(job_ids)):
        mine = and_(_among(RUNS.c.job_id, chunk, session), RUNS.c.started_at >= since)
        found += await _watched(and_(mine, NOT_JUDGED), session)
        found += await _watched(and_(mine, UNFINISHED, RUNS.c.pending.is_(False)), session)
    return sorted(found, key=lambda watched: (watched.run.job_id, watched.run.started_at,
                                              watched.run.id))


# Written as the indexes' conditions are, so that SQLite (which matches them term by term) uses them.
NOT_JUDGED, UNFINISHED = text(PENDING_RUNS), text(UNFINISHED_RUNS)


def _kept_of_run(column: Any) -> Any:
    """What is kept of a run still going (`WatchedRun`), looked up by the run's id: a
    subquery per run, where a join let PostgreSQL, misjudging how many runs match, read
    every judgement there is."""
    return (select(column).where(JUDGEMENTS.c.run_id == RUNS.c.id, RUNS.c.finished_at.is_(None),
                                 JUDGEMENTS.c.state.is_(None))
            .correlate(RUNS).scalar_subquery())


async def _watched(where: ColumnElement[bool], session: AsyncSession) -> list[WatchedRun]:
    query = select(*RUN_COLUMNS, RUNS.c.pending, _kept_of_run(JUDGEMENTS.c.run_id),
                   _read(_kept_of_run(JUDGEMENTS.c.definition_at)),
                   _kept_of_run(JUDGEMENTS.c.stall_after)).where(where)
    return [WatchedRun(RunRow(*row[:9]), bool(row[9]), row[10] is not None, row[11], row[12])
            for row in (await (await session.connection()).execute(query)).all()]


class EventRow(NamedTuple):
    """An event as judging reads it (`alerts.expectations.EventLike`); `data` only where
    judging words it (a failed milestone's text), empty elsewhere."""

    run_id: int
    kind: str
    at: datetime
    name: str | None
    value: float | None
    status: str | None
    data: dict[str, Any]


async def judging_events(finished: Collection[int], running: dict[int, Collection[str]], *,
                         session: AsyncSession) -> dict[int, list[EventRow]]:
    """What judging reads of runs' timelines, by run id, each in time order: of finished runs
    every event a history reads (their facts are kept for later runs' histories); of runs still
    going, their milestones and the metrics named in `running[run id]`. A long run's thousands
    of progress events, and its metrics nobody set bounds on, are never read."""
    names = sorted({name for wanted in running.values() for name in wanted})
    going = EVENTS.c.kind == "milestone"
    if names:
        going = or_(going, and_(EVENTS.c.kind == "metric", EVENTS.c.name.in_(names)))
    data = case((and_(EVENTS.c.kind == "milestone", EVENTS.c.status == "failed"), EVENTS.c.data),
                else_=None)
    found: dict[int, list[EventRow]] = defaultdict(list)
    wanted = [(run_id, True) for run_id in finished] + [(run_id, False) for run_id in running]
    for start in range(0, len(wanted), IDS_PER_QUERY):
        chunk = wanted[start:start + IDS_PER_QUERY]
        done = [run_id for run_id, is_finished in chunk if is_finished]
        still = [run_id for run_id, is_finished in chunk if not is_finished]
        conditions = []
        if done:
            conditions.append(and_(_among(EVENTS.c.run_id, done, session),
                                   EVENTS.c.kind.in_(HISTORY_KINDS)))
        if still:
            conditions.append(and_(_among(EVENTS.c.run_id, still, session), going))
        query = (select(EVENTS.c.run_id, EVENTS.c.kind, _read(EVENTS.c.at), EVENTS.c.name, EVENTS.c.value,
                        EVENTS.c.status, data).where(or_(*conditions))
                 .order_by(EVENTS.c.run_id, EVENTS.c.at, EVENTS.c.id))
        for row in (await (await session.connection()).execute(query)).all():
            if row[1] == "metric" and row[0] in running and row[3] not in running[row[0]]:
                continue  # named for another run of the chunk, not this one's job
            found[row[0]].append(EventRow(*row[:6], row[6] or NO_DATA))
    return found


class PastRow(NamedTuple):
    """A successful run as histories need it: its facts as kept (None when not kept yet)."""

    id: int
    job_id: int
    started_at: datetime
    finished_at: datetime
    facts: str | None


async def past_successes(anchors: Collection[int], limit: int, *,
                         session: AsyncSession) -> list[PastRow]:
    """For each anchor run: the `limit` latest successful runs of its job that started
    before it, and every successful run of its job that started since it, with their facts
    as kept. Judging a job's runs from its earliest one onward needs no more: each one's
    history is the `limit` latest of these that started before it."""
    anchor, past = aliased(RUNS), aliased(RUNS)
    found: dict[int, PastRow] = {}
    for chunk in _chunks(sorted(anchors)):
        if _dialect(session) == "postgresql":
            query = _past_successes_pg(anchor, past, chunk, limit, session)
        else:
            query = _past_successes_sqlite(anchor, past, chunk, limit, session)
        for row in (await (await session.connection()).execute(query)).all():
            found[row[0]] = PastRow(*row)
    return sorted(found.values(), key=lambda r: (r.job_id, r.started_at, r.id))


def _past_successes_sqlite(anchor: Any, past: Any, chunk: list[int], limit: int,
                           session: AsyncSession) -> Any:
    before = (select(past.c.id).where(past.c.job_id == anchor.c.job_id, past.c.status == SUCCEEDED,
                                      past.c.started_at < anchor.c.started_at)
              .order_by(past.c.started_at.desc()).limit(limit))  # index order: stops at `limit`
    earlier = select(past.c.id).select_from(anchor).join(
        past, past.c.id.in_(before.correlate(anchor).scalar_subquery()))
    since = select(past.c.id).select_from(anchor).join(past, and_(
        past.c.job_id == anchor.c.job_id, past.c.status == SUCCEEDED,
        past.c.started_at >= anchor.c.started_at))
    ids = earlier.where(_among(anchor.c.id, chunk, session)).union(
        since.where(_among(anchor.c.id, chunk, session)))
    return (select(RUNS.c.id, RUNS.c.job_id, _read(RUNS.c.started_at), _read(RUNS.c.finished_at),
                   _facts_of(RUNS.c.id)).where(RUNS.c.id.in_(ids)))


def _past_successes_pg(anchor: Any, past: Any, chunk: list[int], limit: int,
                       session: AsyncSession) -> Any:
    """Both parts read per anchor along ix_runs_job_started (LATERAL; the second kept from
    being made a join, OFFSET 0), each run's columns with them: as a join, PostgreSQL —
    misjudging how many runs match — read the whole table, and compiled the plan (JIT)."""
    columns = (past.c.id, past.c.job_id, past.c.started_at, past.c.finished_at)
    mine = (past.c.job_id == anchor.c.job_id, past.c.status == SUCCEEDED)
    before = (select(*columns).where(*mine, past.c.started_at < anchor.c.started_at)
              .order_by(past.c.started_at.desc()).limit(limit).correlate(anchor).lateral())
    after = (select(*columns).where(*mine, past.c.started_at >= anchor.c.started_at)
             .offset(0).correlate(anchor).lateral())
    both = union(*(select(part.c.id, part.c.job_id, part.c.started_at, part.c.finished_at)
                   .select_from(anchor).join(part, true()).where(_among(anchor.c.id, chunk, session))
                   for part in (before, after))).subquery()
    return select(both.c.id, both.c.job_id, _read(both.c.started_at), _read(both.c.finished_at),
                  _facts_of(both.c.id))


def _facts_of(run_id: Any) -> Any:
    """A run's facts as kept, looked up by its id: joined, PostgreSQL read every judgement."""
    return select(JUDGEMENTS.c.facts).where(JUDGEMENTS.c.run_id == run_id).scalar_subquery()


async def history_events(run_ids: Collection[int], *,
                         session: AsyncSession) -> dict[int, list[EventRow]]:
    """The events a history reads of these runs (`HISTORY_KINDS`), by run, in time order."""
    found: dict[int, list[EventRow]] = defaultdict(list)
    for chunk in _chunks(sorted(run_ids)):
        query = (select(EVENTS.c.run_id, EVENTS.c.kind, _read(EVENTS.c.at), EVENTS.c.name, EVENTS.c.value,
                        EVENTS.c.status)
                 .where(_among(EVENTS.c.run_id, chunk, session), EVENTS.c.kind.in_(HISTORY_KINDS))
                 .order_by(EVENTS.c.run_id, EVENTS.c.at, EVENTS.c.id))
        for row in (await (await session.connection()).execute(query)).all():
            found[row[0]].append(EventRow(*row, NO_DATA))
    return found


@dataclass(frozen=True, slots=True)
class Watched:
    """What the watcher keeps of one run it judged (`keep_judged`, in `run_judgements` beside
    the answers' judgements): a finished run's state (and its facts, when it succeeded), or a
    running run's silence limit — or, for a run only read as history, its facts alone (`state`
    None, `facts_only`)."""

    run_id: int
    job_id: int
    started_at: datetime
    definition_at: datetime
    state: str | None = None
    facts: str | None = None
    stall_after: float | None = None
    facts_only: bool = False


def _store(dialect: Any, replaced: tuple[str, ...]) -> Any:
    insert: Any = dialect.insert(JUDGEMENTS)
    return insert.on_conflict_do_update(index_elements=[JUDGEMENTS.c.run_id], set_={
        name: insert.excluded[name] for name in replaced})


# What the watcher stores replaces what was there; facts alone leave the judgement beside them.
STORE = {name: (_store(dialect, ("job_id", "started_at", "state", "definition_at", "facts",
                                 "stall_after")), _store(dialect, ("facts",)))
         for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}


async def keep_judged(kept: Sequence[Watched], judged: Iterable[tuple[int, int]],
                      seen: dict[int, int], *, session: AsyncSession) -> set[int]:
    """Store what judging worked out (`Watched`) and clear the mark of the
    (run id, job id) runs it judged — for the jobs whose revision is still `seen[job id]`, the
    one read before their telemetry; returns those jobs. A job written to since keeps its
    runs marked, to be judged again. The revisions are held until the caller's transaction
    ends, so no writer can raise one in between: on SQLite this takes the write lock, on
    PostgreSQL a share lock of each revision row (a writer about to raise one is waited for,
    and then its revision has moved on)."""
    judged = list(judged)
    jobs = {job_id for _, job_id in judged} | {row.job_id for row in kept}
    if not jobs:
        return set()
    connection = await session.connection()
    if connection.dialect.name == "sqlite":
        driver = (await connection.get_raw_connection()).driver_connection
        if driver is not None and not driver.in_transaction:
            await connection.exec_driver_sql("BEGIN IMMEDIATE")
    current: dict[int, int] = {}
    for chunk in _chunks(sorted(jobs)):
        query = (select(REVISIONS.c.job_id, REVISIONS.c.revision)
                 .where(_among(REVISIONS.c.job_id, chunk, session)).order_by(REVISIONS.c.job_id)
                 .with_for_update(read=True))
        current.update({job_id: revision for job_id, revision in (await connection.execute(query)).all()})
    still = {job_id for job_id in jobs if job_id in current and current[job_id] == seen.get(job_id)}
    whole, facts_only = STORE[connection.dialect.name]
    for statement, only_facts in ((whole, False), (facts_only, True)):
        await _many(session, statement, [
            {"run_id": r.run_id, "job_id": r.job_id, "started_at": r.started_at, "state": r.state,
             "definition_at": r.definition_at, "facts": r.facts, "stall_after": r.stall_after}
            for r in sorted(kept, key=lambda r: (r.job_id, r.run_id))
            if r.job_id in still and r.facts_only == only_facts])
    cleared = sorted(run_id for run_id, job_id in judged if job_id in still)
    if connection.dialect.name == "postgresql":
        for chunk in _chunks(cleared):  # one statement, not a round trip per run
            await connection.execute(update(RUNS).where(_among(RUNS.c.id, chunk, session))
                                     .values(pending=False))
    else:
        await _many(session, CLEAR_PENDING, [{"rid": run_id} for run_id in cleared])
    return still


CLEAR_PENDING = update(RUNS).where(RUNS.c.id == bindparam("rid")).values(pending=False)


# --- alerts ---------------------------------------------------------------------------------------

class OpenAlert(NamedTuple):
    """An alert not resolved yet, as judging reads it (resolving, snoozes)."""

    id: int
    job_id: int
    kind: str
    key: str
    run_id: int | None
    opened_at: datetime
    snoozed_until: datetime | None


ALERTS = Alert.__table__  # type: ignore[attr-defined]
OPEN_ALERT_COLUMNS = tuple(_read(c) for c in (
    ALERTS.c.id, ALERTS.c.job_id, ALERTS.c.kind, ALERTS.c.key, ALERTS.c.run_id, ALERTS.c.opened_at,
    ALERTS.c.snoozed_until))


UNRESOLVED = [state for state in ALERT_STATES if state != RESOLVED]


async def unresolved_alerts(about_runs: dict[int, Collection[int]], since_ended: dict[int, datetime],
                            snoozing: Collection[int], now: datetime, *,
                            session: AsyncSession) -> dict[int, list[OpenAlert]]:
    """The alerts not yet resolved that judging runs could resolve, or that could quiet new
    ones, by job, oldest first: those about the runs `about_runs[job]`; those of each job of
    `since_ended` opened by then (a run of it that succeeded fully resolves them); and those of
    the jobs `snoozing` snoozed beyond `now`. A job's other alerts are not read. Each an index
    range (state, job) per job."""
    found: dict[int, OpenAlert] = {}
    unresolved = ALERTS.c.state.in_(UNRESOLVED)
    connection = await session.connection()
    conditions = _per_window({job_id: None for job_id in about_runs}, lambda ids, _: and_(
        ALERTS.c.job_id.in_(ids), ALERTS.c.run_id.in_(
            sorted({run_id for job_id in ids for run_id in about_runs[job_id]}))))
    # One bound for all (the latest): an index range per job, where a bound per job would not be.
    latest = max(since_ended.values(), default=None)
    conditions += [and_(ALERTS.c.job_id.in_(chunk), ALERTS.c.opened_at <= latest)
                   for chunk in _chunks(sorted(since_ended))]
    conditions += [and_(ALERTS.c.job_id.in_(chunk), ALERTS.c.snoozed_until > now)
                   for chunk in _chunks(sorted(snoozing))]
    for condition in conditions:
        query = select(*OPEN_ALERT_COLUMNS).where(unresolved, condition)
        found.update({row[0]: OpenAlert(*row) for row in (await connection.execute(query)).all()})
    by_job: dict[int, list[OpenAlert]] = defaultdict(list)
    for alert_id in sorted(found):
        by_job[found[alert_id].job_id].append(found[alert_id])
    return by_job


UNRESOLVED = [state for state in ALERT_STATES if state != RESOLVED]


@dataclass(frozen=True)
class NewAlert:
    job_id: int
    kind: str
    key: str
    reason: str
    run_id: int | None
    occurrence_at: datetime | None
    facts: dict[str, Any]


class OpenedAlert(NamedTuple):
    """An alert as it was opened (the columns of `storage.alerts.Alert` that opening sets)."""

    id: int
    job_id: int
    kind: str
    key: str
    reason: str
    run_id: int | None
    occurrence_at: datetime | None
    state: str
    facts: dict[str, Any]
    opened_at: datetime
    snoozed_until: datetime | None = None


async def open_alerts(new: Sequence[NewAlert], now: datetime, *,
                      session: AsyncSession) -> dict[tuple[int, str, str], OpenedAlert]:
    """Open every alert of `new` that does not exist yet, by (job, kind, key): the unique key
    makes an alert judged twice (after a restart, by two watchers at once) open once. One
    statement, its rows sent as the driver batches them. Returns only the alerts this call
    opened."""
    if not new:
        return {}
    rows = [{"job_id": a.job_id, "kind": a.kind, "key": a.key, "reason": a.reason[:2000],
             "run_id": a.run_id, "occurrence_at": a.occurrence_at, "state": OPEN,
             "facts": a.facts, "opened_at": now} for a in new]
    query = _insert_ignoring_conflicts(session, ALERTS).returning(
        *(ALERTS.c[name] for name in OpenedAlert._fields[:-1]))
    opened: dict[tuple[int, str, str], OpenedAlert] = {}
    for row in (await (await session.connection()).execute(query, rows)).all():
        alert = OpenedAlert(*row)
        opened[(alert.job_id, alert.kind, alert.key)] = alert
    return opened


async def resolve_alerts(resolved: Sequence[tuple[int, str]], now: datetime, *,
                         session: AsyncSession) -> None:
    """Resolve these (alert id, resolution) alerts at `now`, unless resolved already."""
    rows = [{"alert": alert_id, "resolution": resolution[:2000], "at": now}
            for alert_id, resolution in sorted(resolved)]
    if _dialect(session) != "postgresql":
        await _many(session, RESOLVE, rows)
        return
    for start in range(0, len(rows), IDS_PER_QUERY):  # one statement, not a round trip per alert
        chunk = rows[start:start + IDS_PER_QUERY]
        given = _unnest(("alert", BigInteger, [row["alert"] for row in chunk]),
                        ("resolution", String, [row["resolution"] for row in chunk]))
        await (await session.connection()).execute(
            update(ALERTS).where(ALERTS.c.id == given.c.alert, ALERTS.c.state != RESOLVED)
            .values(state=RESOLVED, resolved_at=now, resolution=given.c.resolution))


RESOLVE = update(ALERTS).where(ALERTS.c.id == bindparam("alert"), ALERTS.c.state != RESOLVED).values(
    state=RESOLVED, resolved_at=bindparam("at", type_=UTCDateTime()),
    resolution=bindparam("resolution"))


async def subscribers_of(slugs: Collection[str], *, session: AsyncSession) -> dict[str, list[str]]:
    """`storage.alerts.subscribers` of many jobs at once, by job slug."""
    found: dict[str, list[str]] = defaultdict(list)
    for chunk in _chunks(sorted(slugs)):
        query = (select(SUBSCRIPTIONS.c.job, SUBSCRIPTIONS.c.conversation_id)
                 .where(SUBSCRIPTIONS.c.job.in_(chunk))
                 .order_by(SUBSCRIPTIONS.c.job, SUBSCRIPTIONS.c.conversation_id))
        for job, conversation in (await (await session.connection()).execute(query)).all():
            found[job].append(conversation)
    return found


async def queue_deliveries(messages: Iterable[tuple[int, str, str, str]], now: datetime, *,
                           session: AsyncSession) -> None:
    """Queue (alert id, event, channel, target) messages; one already queued is not again."""
    rows = [{"alert_id": alert_id, "event": event, "channel": channel, "target": target[:500],
             "state": PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now}
            for alert_id, event, channel, target in messages]
    for start in range(0, len(rows), IDS_PER_QUERY // 10):
        await session.exec(_insert_ignoring_conflicts(session, DELIVERIES)
                           .values(rows[start:start + IDS_PER_QUERY // 10]))


# --- bookmarks -------------------------------------------------------------------------------------

class Bookmark(NamedTuple):
    """A job's bookmark after a pass: deadlines judged until, the next check, and the
    definition judged by (`JobMark.defined_at`, `definition_digest`)."""

    checked_until: datetime | None
    next_check_at: datetime | None
    defined_at: datetime | None
    definition_digest: str | None
    runs_check_at: datetime | None


async def set_bookmarks(bookmarks: dict[int, Bookmark], claimed: dict[int, datetime | None], *,
                        session: AsyncSession) -> None:
    """Set each job's bookmark. A job whose next check moved away from its `claimed` value
    (`JobMark.next_check_at`) while it was judged (telemetry marked it due, its definition
    changed) keeps the earlier of the two: such a mark is never lost."""
    if not bookmarks:
        return
    rows = [{"job": job_id, "checked_until": mark.checked_until, "next_check": mark.next_check_at,
             "claimed": claimed[job_id], "defined_at": mark.defined_at,
             "digest": mark.definition_digest, "runs_check_at": mark.runs_check_at}
            for job_id, mark in sorted(bookmarks.items())]
    if _dialect(session) != "postgresql":
        await _many(session, SET_BOOKMARK, rows)
        return
    stamp = postgresql.TIMESTAMP(timezone=True)
    connection = await session.connection()
    for start in range(0, len(rows), IDS_PER_QUERY):  # one statement, not a round trip per job
        chunk = rows[start:start + IDS_PER_QUERY]
        # Locked in id order first, as writers lock jobs (a join could take them in any order).
        ids = [job_id for job_id, _ in sorted(bookmarks.items())][start:start + IDS_PER_QUERY]
        await connection.execute(select(JOBS.c.id).where(_among(JOBS.c.id, ids, session))
                                 .order_by(JOBS.c.id).with_for_update())
        given = _unnest(*((name, BigInteger if name == "job" else String if name == "digest" else stamp,
                           [row[name] for row in chunk]) for name in chunk[0]))
        following = given.c.next_check
        await connection.execute(update(JOBS).where(JOBS.c.id == given.c.job).values(
            checked_until=given.c.checked_until,
            next_check_at=case(
                (JOBS.c.next_check_at.is_(None) | (JOBS.c.next_check_at == given.c.claimed), following),
                (following.is_(None) | (JOBS.c.next_check_at < following), JOBS.c.next_check_at),
                else_=following),
            defined_at=given.c.defined_at, definition_digest=given.c.digest,
            runs_check_at=given.c.runs_check_at))


_NEXT = bindparam("next_check", type_=UTCDateTime())
SET_BOOKMARK = update(JOBS).where(JOBS.c.id == bindparam("job")).values(
    checked_until=bindparam("checked_until", type_=UTCDateTime()),
    next_check_at=case(
        (JOBS.c.next_check_at.is_(None)
         | (JOBS.c.next_check_at == bindparam("claimed", type_=UTCDateTime())), _NEXT),
        (_NEXT.is_(None) | (JOBS.c.next_check_at < _NEXT), JOBS.c.next_check_at),
        else_=_NEXT),
    defined_at=bindparam("defined_at", type_=UTCDateTime()),
    definition_digest=bindparam("digest"),
    runs_check_at=bindparam("runs_check_at", type_=UTCDateTime()))


async def check_soon(due: dict[int, datetime | None], now: datetime, *,
                     session: AsyncSession) -> None:
    """After judging runs of these jobs as their telemetry arrived: bring each job's next
    check forward to its time (never push it back), and have that check look at its runs
    still going (a write may have changed what is kept of them)."""
    if not due:
        return
    at = bindparam("at", type_=UTCDateTime())
    query = update(JOBS).where(JOBS.c.id == bindparam("job")).values(
        next_check_at=case((at.is_not(None) & (JOBS.c.next_check_at.is_(None)
                                                | (JOBS.c.next_check_at > at)), at),
                           else_=JOBS.c.next_check_at),
        runs_check_at=bindparam("now", type_=UTCDateTime()))
    await (await session.connection()).execute(query, [
        {"job": job_id, "at": when, "now": now} for job_id, when in sorted(due.items())])


async def jobs_of_runs_due(run_ids: set[int], now: datetime, *, session: AsyncSession) -> None:
    if not run_ids:
        return
    jobs = select(RUNS.c.job_id).where(RUNS.c.id.in_(run_ids))
    await session.exec(update(Job).where(
        col(Job.id).in_(jobs),
        (col(Job.next_check_at).is_(None)) | (col(Job.next_check_at) > now),
    ).values(next_check_at=now))


# --- helpers ---------------------------------------------------------------------------------

async def _many(session: AsyncSession, statement: Any, rows: list[dict[str, Any]]) -> None:
    """`statement` once per row. On SQLite straight to the driver, as the event writer writes:
    its row-by-row bind processing (a timestamp formatted in Python, several per row) cost
    several times what SQLite takes to run the statement."""
    if not rows:
        return
    connection = await session.connection()
    if connection.dialect.name != "sqlite":
        await connection.execute(statement, rows)
        return
    compiled = _compiled(statement, connection.dialect)
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    names = list(compiled.positiontup or [])
    constants = {name: compiled.params[name] for name in names if name not in rows[0]}
    if constants:  # values the statement sets itself
        rows = [{**constants, **row} for row in rows]
    # Timestamps as SQLite's text (rows share most: "now", the next deadline); the rest, bools
    # too, as the driver takes them. Where the statement does not say, each value tells.
    stamps = [index for index, name in enumerate(names)
              if isinstance(compiled.binds[name].type, UTCDateTime | DateTime | NullType)]
    formatted: dict[datetime, str] = {}
    get = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    values: list[Any] = [get(row) for row in rows]
    if stamps:
        values = [list(row) for row in values]
        for row in values:
            for index in stamps:
                found = row[index]
                if isinstance(found, datetime):
                    row[index] = _stamp(found, formatted)
    try:
        await driver.executemany(compiled.string, values)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(compiled.string, None, exc, sqlite3.Error) from exc


def _stamp(moment: datetime, known: dict[datetime, str]) -> str:
    """`sqlite_utc(moment)`, each moment formatted once."""
    found = known.get(moment)
    if found is None:
        found = known[moment] = sqlite_utc(moment)
    return found


@cache
def _compiled(statement: Any, dialect: Any) -> Any:
    return statement.compile(dialect=dialect)


def _unnest(*columns: tuple[str, Any, list[Any]]) -> Any:
    """Rows given as one array per column (PostgreSQL's unnest), to join in one statement."""
    return func.unnest(*(bindparam(None, values, type_=postgresql.ARRAY(kind))
                         for _, kind, values in columns)).table_valued(
        *(name for name, _, _ in columns)).render_derived()


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


def _among(column: Any, ids: Sequence[int], session: AsyncSession) -> ColumnElement[bool]:
    """`column IN ids` as one parameter — an array on PostgreSQL, a JSON list on SQLite — so
    that the statement's text is the same whatever the number of ids: each driver prepares
    and keeps it once, where thousands of placeholders made a new statement every pass."""
    found: ColumnElement[bool]
    if _dialect(session) == "postgresql":
        found = column == func.any(bindparam(None, list(ids), type_=postgresql.ARRAY(BigInteger)))
    else:
        listed = func.json_each(bindparam(None, json.dumps(list(ids)), type_=String)).table_valued("value")
        found = column.in_(select(listed.c.value))
    return found


def _chunks(ids: list[K]) -> list[list[K]]:
    return [ids[start:start + IDS_PER_QUERY] for start in range(0, len(ids), IDS_PER_QUERY)]


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def _insert_ignoring_conflicts(session: AsyncSession, table: Any) -> Any:
    module = postgresql if _dialect(session) == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()

