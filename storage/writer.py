"""Group commit for incoming events.

Every request hands its batch to one writer task per process and waits. The writer takes
everything queued (up to `max_group_events`), writes it in one transaction and answers each
request only after that transaction commits. Under load, batches fill themselves while the
previous commit runs, so the cost of a commit (an fsync on SQLite) is shared by every request
waiting; at idle, a lone event is written at once.

The statements that run once per event or per run (the events insert, the runs' time spans,
start and finish facts) go to the driver as its own SQL, with timestamps and JSON made once per
event exactly as the column types would make them (SQLite: multi-row INSERTs; PostgreSQL: one
statement over column arrays). Creating jobs and runs stays Core.
"""

import asyncio
import contextlib
import json
import logging
import secrets
import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, partial
from itertools import chain
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import job_state
from storage.engine import in_sqlite_thread
from storage.models import Event, Job, Run
from storage.types import aware_utc, write_json
from storage.types import sqlite_utc as sqlite_utc  # also storage.watch's

log = logging.getLogger(__name__)

JOBS = Job.__table__  # type: ignore[attr-defined]
RUNS = Run.__table__  # type: ignore[attr-defined]
EVENTS = Event.__table__  # type: ignore[attr-defined]
CACHE_LIMIT = 100_000
T = TypeVar("T")
HOLD_CONNECTION_SECONDS = 1.0


@dataclass(slots=True)  # not frozen: a frozen __init__ costs a setattr call per field
class IncomingEvent:
    """A validated event, in storage terms; read-only by convention."""

    job: str
    run: str | None
    kind: str
    at: datetime
    key: str | None = None
    name: str | None = None
    value: float | None = None
    status: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WriteResult:
    accepted: int
    duplicates: int
    runs: list[tuple[str, str]]


class NoOpenRun(Exception):
    """An event without a run key names a job that has no unfinished run."""

    def __init__(self, index: int, job: str) -> None:
        super().__init__(f"job {job!r} has no unfinished run: send a start first, or give `run`")
        self.index = index
        self.job = job


class StorageUnavailable(Exception):
    """The database did not take the write; nothing of the batch was stored."""


class WriterClosed(StorageUnavailable):
    pass


@dataclass
class _Request:
    events: list[IncomingEvent]
    received_at: datetime
    future: asyncio.Future[WriteResult]


@dataclass
class _Placed:
    """An event with the run it belongs to."""

    event: IncomingEvent
    job_id: int
    run_key: str


@dataclass
class _Plan:
    request: _Request
    placed: list[_Placed]


def new_run_key(at: datetime) -> str:
    return f"{at:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


class EventWriter:
    def __init__(self, engine: AsyncEngine, *, max_group_events: int = 500) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name
        # Timestamps as the driver takes them, made once per event (see `sqlite_utc`).
        self._utc = sqlite_utc if self._dialect == "sqlite" else aware_utc
        self._max_group_events = max_group_events
        self._queue: asyncio.Queue[_Request] = asyncio.Queue()
        self._job_ids: dict[str, int] = {}
        self._run_ids: dict[tuple[int, str], int] = {}
        self._task: asyncio.Task[None] | None = None
        self._conn: AsyncConnection | None = None
        self._closing = False
        # Called after each commit with the ids of the runs it touched (the watcher judges them).
        self.listeners: list[Callable[[set[int]], None]] = []

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="event-writer")

    async def close(self) -> None:
        """Stop taking batches, finish those already queued, then stop."""
        self._closing = True
        if self._task is None:
            return
        self._queue.put_nowait(_Request([], datetime.min, asyncio.get_running_loop().create_future()))
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def write(self, events: list[IncomingEvent], received_at: datetime) -> WriteResult:
        """Store a batch atomically; returns once it is committed.

        Raises NoOpenRun (nothing of the batch stored) or StorageUnavailable."""
        if self._closing or self._task is None or self._task.done():
            raise WriterClosed("the server is shutting down")
        future: asyncio.Future[WriteResult] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Request(events, received_at, future))
        return await future

    async def _run(self) -> None:
        try:
            while True:
                group = await self._take_group()
                live = [r for r in group if r.events]
                if live:
                    await self._write_group(live)
                if len(live) < len(group):  # the close() marker: drain what is left, then stop
                    while not self._queue.empty():
                        await self._write_group([r for r in await self._take_group() if r.events])
                    return
        finally:
            await self._release()

    async def _next_request(self) -> _Request:
        if self._conn is not None and self._queue.empty():
            try:
                return await asyncio.wait_for(self._queue.get(), HOLD_CONNECTION_SECONDS)
            except TimeoutError:
                await self._release()
        return await self._queue.get()

    async def _connection(self) -> AsyncConnection:
        """The writer's connection. It is kept from one group to the next while requests keep
        coming (no pool checkout, reset or pre-ping per commit) and given back to the pool after
        HOLD_CONNECTION_SECONDS without one, or when a write fails, so that a connection the
        database dropped is replaced by the pool's pre-ping on the next write, as elsewhere."""
        if self._conn is None:
            self._conn = await self._engine.connect()
        return self._conn

    async def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def _take_group(self) -> list[_Request]:
        group = [await self._next_request()]
        size = len(group[0].events)
        while size < self._max_group_events and not self._queue.empty():
            request = self._queue.get_nowait()
            group.append(request)
            size += len(request.events)
        return group

    async def _write_group(self, group: list[_Request]) -> None:
        group = [r for r in group if not r.future.done()]
        if not group:
            return
        try:
            await self._commit(group)
        except DBAPIError as exc:
            if len(group) == 1:
                log.warning("write failed: %s", exc)
                _fail(group, StorageUnavailable(str(exc.orig)))
                return
            # Try each request alone so that one request's trouble cannot fail its neighbours.
            for request in group:
                await self._write_group([request])
        except Exception as exc:
            log.exception("event write failed")
            _fail(group, exc)

    async def _commit(self, group: list[_Request]) -> None:
        new_jobs: dict[str, int] = {}
        new_runs: dict[tuple[int, str], int] = {}
        conn = await self._connection()
        try:
            # One transaction: SQLAlchemy's, begun by the first statement it runs (none when
            # every job and run is known), and on SQLite the driver's, which `_store` commits
            # itself with the writes; SQLAlchemy's commit is then an empty one.
            job_ids = await self._resolve_jobs(conn, group, new_jobs)
            plans = await self._plan(conn, group, job_ids)
            run_ids = await self._resolve_runs(conn, plans, new_runs)
            results = await self._store(conn, plans, run_ids, job_ids)
            if conn.in_transaction():
                await conn.commit()
        except BaseException:
            await self._release()
            raise
        self._remember(new_jobs, new_runs)
        for plan, result in zip(plans, results, strict=True):
            if not plan.request.future.done():
                plan.request.future.set_result(result)
        touched = {run_ids[(p.job_id, p.run_key)] for plan in plans for p in plan.placed}
        for listener in self.listeners:
            try:
                listener(touched)
            except Exception:
                log.exception("a commit listener failed")

    async def _resolve_jobs(
        self, conn: AsyncConnection, group: list[_Request], new: dict[str, int]
    ) -> dict[str, int]:
        slugs = {e.job for r in group for e in r.events}
        known = {s: self._job_ids[s] for s in slugs if s in self._job_ids}
        missing = slugs - known.keys()
        if missing:
            now = group[0].received_at
            rows: list[dict[str, Any]] = [
                {"slug": s, "title": s, "description": "", "aliases": [], "owner": "",
                 "timezone": None, "schedule": None, "expect": {}, "alert": [],
                 "created_at": now, "updated_at": now}
                for s in sorted(missing)
            ]
            await conn.execute(self._insert_ignoring_conflicts(JOBS), rows)
            found = await conn.execute(select(JOBS.c.slug, JOBS.c.id).where(JOBS.c.slug.in_(missing)))
            new.update({slug: job_id for slug, job_id in found.all()})
            known.update(new)
        return known

    async def _plan(
        self, conn: AsyncConnection, group: list[_Request], job_ids: dict[str, int]
    ) -> list[_Plan]:
        """Give every event its run key; requests naming no open run are answered now."""
        events = [e for r in group for e in r.events]
        state = _RunState(
            open_runs=await self._latest_open_runs(
                conn, {job_ids[e.job] for e in events if e.run is None and e.kind != "start"}),
            started_by_id=await self._runs_started_by_id(
                conn, {(job_ids[e.job], e.key) for e in events
                       if e.run is None and e.kind == "start" and e.key is not None}),
        )
        plans = []
        for request in group:
            trial = state.copy()
            try:
                placed = [trial.place(i, e, job_ids[e.job]) for i, e in enumerate(request.events)]
            except NoOpenRun as exc:
                if not request.future.done():
                    request.future.set_exception(exc)
                continue
            state = trial
            plans.append(_Plan(request, placed))
        return plans

    async def _runs_started_by_id(
        self, conn: AsyncConnection, wanted: set[tuple[int, str]]
    ) -> dict[tuple[int, str], str]:
        """Runs already started by these (job, event id) pairs, so that a retried start that
        names no run lands on the run its first attempt created instead of a new one."""
        if not wanted:
            return {}
        query = (
            select(RUNS.c.job_id, EVENTS.c.key, RUNS.c.key)
            .join(RUNS, RUNS.c.id == EVENTS.c.run_id)
            .where(RUNS.c.job_id.in_({j for j, _ in wanted}), EVENTS.c.kind == "start",
                   EVENTS.c.key.in_({k for _, k in wanted}))
        )
        found = {(job_id, event_key): run_key
                 for job_id, event_key, run_key in (await conn.execute(query)).all()}
        return {pair: run_key for pair, run_key in found.items() if pair in wanted}

    async def _latest_open_runs(
        self, conn: AsyncConnection, job_ids: Iterable[int]
    ) -> dict[int, str | None]:
        latest: dict[int, str | None] = {}
        for job_id in job_ids:
            query = (
                select(RUNS.c.key)
                .where(RUNS.c.job_id == job_id, RUNS.c.finished_at.is_(None))
                .order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc())
                .limit(1)
            )
            latest[job_id] = (await conn.execute(query)).scalar()
        return latest

    async def _resolve_runs(
        self, conn: AsyncConnection, plans: list[_Plan], new: dict[tuple[int, str], int]
    ) -> dict[tuple[int, str], int]:
        first_seen: dict[tuple[int, str], _Placed] = {}
        for plan in plans:
            for p in plan.placed:
                first_seen.setdefault((p.job_id, p.run_key), p)
        known = {k: self._run_ids[k] for k in first_seen if k in self._run_ids}
        missing = [k for k in first_seen if k not in known]
        if not missing:
            return known
        found = await self._select_runs(conn, missing)
        absent = [k for k in missing if k not in found]
        if absent:
            rows: list[dict[str, Any]] = []
            for job_id, key in absent:
                p = first_seen[(job_id, key)]
                rows.append({
                    "job_id": job_id, "key": key, "status": "running",
                    "started_at": p.event.at, "has_start": False, "finished_at": None,
                    "last_event_at": p.event.at, "attributes": {}, "summary": None,
                    "created_at": plans[0].request.received_at, "pending": True,
                })
            await conn.execute(self._insert_ignoring_conflicts(RUNS), rows)
            found.update(await self._select_runs(conn, absent))
        new.update(found)
        known.update(found)
        return known

    async def _select_runs(
        self, conn: AsyncConnection, pairs: list[tuple[int, str]]
    ) -> dict[tuple[int, str], int]:
        query = select(RUNS.c.job_id, RUNS.c.key, RUNS.c.id).where(
            tuple_(RUNS.c.job_id, RUNS.c.key).in_(pairs)
        )
        return {(job_id, key): run_id for job_id, key, run_id in (await conn.execute(query)).all()}

    async def _store(
        self,
        conn: AsyncConnection,
        plans: list[_Plan],
        run_ids: dict[tuple[int, str], int],
        job_ids: dict[str, int],
    ) -> list[WriteResult]:
        """Insert the group's new events, note the writes for `job_state` and bring the runs'
        summary columns up to date. On SQLite this happens in one trip to the driver's thread,
        the commit included (`_store_sqlite`)."""
        if self._dialect == "sqlite":
            try:
                return await in_sqlite_thread(conn, partial(
                    self._store_sqlite, plans=plans, run_ids=run_ids, job_ids=job_ids))
            except sqlite3.Error as exc:
                raise DBAPIError.instance("(event write)", None, exc, sqlite3.Error) from exc
        return await self._store_pg(conn, plans, run_ids, job_ids)

    async def _store_pg(
        self,
        conn: AsyncConnection,
        plans: list[_Plan],
        run_ids: dict[tuple[int, str], int],
        job_ids: dict[str, int],
    ) -> list[WriteResult]:
        """`_store` on PostgreSQL: the events, `job_state`'s notes and the runs' summary columns
        in one statement (`_pg_write`). When it is the transaction's only statement — every
        job and run known — it goes to asyncpg as it is, with no BEGIN and COMMIT round trips:
        one statement is atomic by itself.

        Another writer (another replica) may store the same event ids between the look-up of
        the stored ids and this statement: the database then keeps its rows, this statement
        names the rows it did not insert, and they count as duplicates here."""
        alone = not conn.in_transaction()
        driver: Any = (await conn.get_raw_connection()).driver_connection
        wanted = _wanted_keys(plans, run_ids)
        seen: set[tuple[int, str]] = set()
        if wanted:
            pairs = sorted(wanted)
            keys = ([r for r, _ in pairs], [k for _, k in pairs])
            found: Any = await _pg(driver.fetch(_PG_STORED_KEYS, *keys)) if alone else \
                (await conn.exec_driver_sql(_PG_STORED_KEYS, [keys])).all()
            seen = {(run_id, key) for run_id, key in found}
        batch = self._batch(plans, run_ids, job_ids, seen)
        if not batch.rows:
            return batch.results
        events = [list(column) for column in zip(*batch.rows, strict=True)]
        arguments = (*job_state.pg_note_writes_arguments(batch.touched), *events)
        statement = _pg_write(facts=bool(batch.starts or batch.finishes),
                              keyed=any(key is not None for key in events[4]))
        if alone:
            dropped: Any = await _pg(driver.fetch(statement, *arguments))
        else:
            result = await conn.exec_driver_sql(statement, [arguments])
            dropped = result.all() if result.returns_rows else []
        if not dropped:
            return batch.results
        return _recount(plans, run_ids, batch.results, {(run_id, key) for run_id, key in dropped})

    def _store_sqlite(
        self,
        db: sqlite3.Connection,
        plans: list[_Plan],
        run_ids: dict[tuple[int, str], int],
        job_ids: dict[str, int],
    ) -> list[WriteResult]:
        """`_store` on SQLite, on the driver's thread, then the commit (or the rollback of
        everything the transaction holds, the jobs and runs `_commit` created included)."""
        try:
            wanted = _wanted_keys(plans, run_ids)
            seen: set[tuple[int, str]] = set()
            if wanted:
                given = json.dumps(sorted(wanted))
                seen = {(run_id, key) for run_id, key in db.execute(_SQLITE_STORED_KEYS, (given,))}
            batch = self._batch(plans, run_ids, job_ids, seen)
            if batch.rows:
                if not db.in_transaction:
                    db.execute("BEGIN")
                _insert_events_sqlite(db, batch.rows)
                job_state.note_writes_sqlite(db, batch.touched)  # before the runs' start times move
                _update_runs_sqlite(db, batch)
            db.commit()
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.rollback()
            raise
        return batch.results

    def _batch(
        self,
        plans: list[_Plan],
        run_ids: dict[tuple[int, str], int],
        job_ids: dict[str, int],
        seen: set[tuple[int, str]],
    ) -> "_Batch":
        """The group's new event rows as the driver takes them (duplicates of `seen`, the
        stored (run id, event id) pairs, and of each other left out), and each request's answer."""
        batch = _Batch()
        rows, spans, starts, finishes = batch.rows, batch.spans, batch.starts, batch.finishes
        slugs = {job_id: slug for slug, job_id in job_ids.items()}
        utc, json_text = self._utc, write_json
        for plan in plans:
            duplicates = 0
            runs: dict[tuple[str, str], None] = {}
            received, received_at = plan.request.received_at, utc(plan.request.received_at)
            for p in plan.placed:
                run_id = run_ids[(p.job_id, p.run_key)]
                runs[(slugs[p.job_id], p.run_key)] = None
                e = p.event
                if e.key is not None:
                    if (run_id, e.key) in seen:
                        duplicates += 1
                        continue
                    seen.add((run_id, e.key))
                at = received_at if e.at is received else utc(e.at)
                rows.append((run_id, e.kind, at, received_at, e.key, e.name, e.value, e.status,
                             json_text(e.data)))
                span = spans.get(run_id)
                if span is None:
                    spans[run_id] = _Span(p.job_id, e.at, e.at)
                elif e.at < span.first:
                    span.first = e.at
                elif e.at > span.last:
                    span.last = e.at
                if e.kind == "start":
                    starts[run_id] = e
                elif e.kind == "finish" and (run_id not in finishes or finishes[run_id].at <= e.at):
                    finishes[run_id] = e
            batch.results.append(WriteResult(len(plan.placed) - duplicates, duplicates, list(runs)))
        return batch

    def _insert_ignoring_conflicts(self, table: Any) -> Any:
        dialect = postgresql if self._dialect == "postgresql" else sqlite
        return dialect.insert(table).on_conflict_do_nothing()

    def _remember(self, jobs: dict[str, int], runs: dict[tuple[int, str], int]) -> None:
        if len(self._run_ids) + len(runs) > CACHE_LIMIT:
            self._run_ids.clear()
        self._job_ids.update(jobs)
        self._run_ids.update(runs)


@dataclass
class _RunState:
    """Which run is each job's latest open one, and which runs keyless starts created, as
    the events of a group are placed in order."""

    open_runs: dict[int, str | None]
    started_by_id: dict[tuple[int, str], str]

    def copy(self) -> "_RunState":
        return _RunState(dict(self.open_runs), dict(self.started_by_id))

    def place(self, index: int, event: IncomingEvent, job_id: int) -> _Placed:
        key = event.run
        if key is None and event.kind == "start":
            retried = self.started_by_id.get((job_id, event.key)) if event.key else None
            key = retried or new_run_key(event.at)
            if event.key:
                self.started_by_id[(job_id, event.key)] = key
        elif key is None:
            key = self.open_runs.get(job_id)
            if key is None:
                raise NoOpenRun(index, event.job)
        if event.kind == "start":
            self.open_runs[job_id] = key
        elif event.kind == "finish" and self.open_runs.get(job_id) == key:
            self.open_runs[job_id] = None
        return _Placed(event, job_id, key)


@dataclass(slots=True)
class _Span:
    """The job of a run written to, and the earliest and latest `at` of its new events."""

    job_id: int
    first: datetime
    last: datetime


@dataclass(slots=True)
class _Batch:
    """A group's new events as rows for the driver, and what they change in their runs' summary
    columns: each run's span of new events, the start that names it, the latest finish; and
    each request's answer. (On PostgreSQL, where another writer may store some of the rows
    first, `_pg_write` works out the runs' changes from the rows it inserts instead, and
    `_recount` corrects the answers.)"""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    spans: dict[int, _Span] = field(default_factory=dict)
    starts: dict[int, IncomingEvent] = field(default_factory=dict)
    finishes: dict[int, IncomingEvent] = field(default_factory=dict)
    results: list[WriteResult] = field(default_factory=list)

    @property
    def touched(self) -> dict[int, tuple[int, datetime]]:
        """Run id -> (job id, the earliest `at` of its new events), for `job_state.note_writes`."""
        return {run_id: (span.job_id, span.first) for run_id, span in self.spans.items()}


def _wanted_keys(plans: list[_Plan], run_ids: dict[tuple[int, str], int]) -> set[tuple[int, str]]:
    """The (run id, event id) pairs of the group's events that carry an id."""
    return {(run_ids[(p.job_id, p.run_key)], p.event.key)
            for plan in plans for p in plan.placed if p.event.key is not None}


def _recount(
    plans: list[_Plan],
    run_ids: dict[tuple[int, str], int],
    results: list[WriteResult],
    dropped: set[tuple[int, str]],
) -> list[WriteResult]:
    """The answers once the rows of the `dropped` (run id, event id) pairs turned out to be
    stored already: each was sent for its first event in the group, which becomes a duplicate
    (later ones with its id are counted duplicates by `_batch` already)."""
    left = set(dropped)
    answers = []
    for plan, result in zip(plans, results, strict=True):
        lost = 0
        for p in plan.placed:
            key = p.event.key
            if key is not None and (pair := (run_ids[(p.job_id, p.run_key)], key)) in left:
                left.discard(pair)
                lost += 1
        answers.append(WriteResult(result.accepted - lost, result.duplicates + lost, result.runs)
                       if lost else result)
    return answers


def _insert_events_sqlite(db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Multi-row INSERTs of up to ROWS_PER_INSERT rows: per row, executemany would step the
    statement once and hand the GIL back and forth once."""
    for start in range(0, len(rows), ROWS_PER_INSERT):
        chunk = rows[start:start + ROWS_PER_INSERT]
        db.execute(_sqlite_insert_events(len(chunk)), list(chain.from_iterable(chunk)))


def _update_runs_sqlite(db: sqlite3.Connection, batch: _Batch) -> None:
    """Keep each run's summary columns current: time span, start facts, final status. JSON as
    SQLAlchemy's JSON type writes it, timestamps as `sqlite_utc` makes them."""
    db.execute(_SQLITE_SPAN_UPDATE, (write_json([
        [run_id, sqlite_utc(span.first), sqlite_utc(span.last)] for run_id, span in batch.spans.items()]),))
    if batch.starts:
        db.executemany(_SQLITE_START_UPDATE, [
            (sqlite_utc(e.at), write_json(e.data.get("attributes", {})), run_id)
            for run_id, e in batch.starts.items()])
    if batch.finishes:
        db.executemany(_SQLITE_FINISH_UPDATE, [
            (e.status, sqlite_utc(e.at), e.data.get("text"), run_id)
            for run_id, e in batch.finishes.items()])


async def _pg(statement: Awaitable[T]) -> T:
    """A statement sent to asyncpg directly, its errors as SQLAlchemy's (as `_write_group`
    and the error answers expect them)."""
    try:
        return await statement
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DBAPIError.instance("(event write)", None, exc, Exception) from exc


def _fail(group: list[_Request], exc: Exception) -> None:
    for request in group:
        if not request.future.done():
            request.future.set_exception(exc)


# The per-event statements in the driver's own SQL: no bind processing per row. Timestamps
# arrive as `self._utc` made them; `data` as the JSON text SQLAlchemy's JSON type would write.
ROWS_PER_INSERT = 100  # 900 parameters: below even old SQLite builds' limit of 999


@cache
def _sqlite_insert_events(rows: int) -> str:
    """The events INSERT for `rows` rows; each size is prepared once (sqlite3 keeps the last
    128 statements of a connection)."""
    values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * rows)
    return ("INSERT INTO events (run_id, kind, at, received_at, key, name, value, status, data)"
            f" VALUES {values} ON CONFLICT DO NOTHING")
# Which of the given (run id, event id) pairs are stored already, by the unique index.
_SQLITE_STORED_KEYS = (
    "SELECT e.run_id, e.key FROM json_each(?) AS w JOIN events AS e"
    " ON e.run_id = json_extract(w.value, '$[0]') AND e.key = json_extract(w.value, '$[1]')"
)
_PG_STORED_KEYS = (
    "SELECT e.run_id, e.key FROM unnest($1::bigint[], $2::text[]) AS w(run_id, key)"
    " JOIN events AS e ON e.run_id = w.run_id AND e.key = w.key"
)
# On PostgreSQL the whole write is one statement (`_pg_write`): `job_state`'s notes ($1-$4),
# the events ($5-$13, one array per column) and the runs' summary columns, which only the rows
# it inserts change: another writer (another replica) may have stored some of these event ids
# since they were looked up, and the unique index then drops the row. The events INSERT waits
# for `forgotten` in a one-time filter and the UPDATE reads what the INSERT returns, so rows
# are locked as `job_state.pg_note_writes` requires (revisions, then judgements, then runs);
# by the revision row, two writes to a job take turns, and the second finds the first's rows
# in the unique index.
_PG_INSERTED = (
    "inserted AS ("
    " INSERT INTO events (run_id, kind, at, received_at, key, name, value, status, data)"
    " SELECT e.run_id, e.kind, e.at, e.received_at, e.key, e.name, e.value, e.status, e.data::json"
    " FROM unnest($5::bigint[], $6::text[], $7::timestamptz[], $8::timestamptz[], $9::text[],"
    " $10::text[], $11::float8[], $12::text[], $13::text[])"
    " AS e(run_id, kind, at, received_at, key, name, value, status, data)"
    " WHERE (SELECT count(*) FROM forgotten) >= 0"
    " ON CONFLICT DO NOTHING RETURNING run_id, at, key"
)
_PG_SPANS = (
    " spans AS ("
    " SELECT run_id, min(at) AS span_first, max(at) AS span_last FROM inserted GROUP BY run_id)"
)
# The start that names a run (the last of the write) and the finish that ends it (the latest;
# of equal times, the last), as `_batch` picks them for SQLite. JSON `->` gives the text of
# `attributes` as it was written, i.e. as SQLAlchemy writes it.
_PG_FACTS = (
    ", starts AS ("
    " SELECT DISTINCT ON (run_id) run_id, at, coalesce(data -> 'attributes', '{}'::json) AS attributes"
    " FROM inserted WHERE kind = 'start' ORDER BY run_id, id DESC),"
    " finishes AS ("
    " SELECT DISTINCT ON (run_id) run_id, at, status, data ->> 'text' AS summary"
    " FROM inserted WHERE kind = 'finish' ORDER BY run_id, at DESC, id DESC)"
)
_PG_ENDS = "f.at IS NOT NULL AND (runs.finished_at IS NULL OR runs.finished_at <= f.at)"
_PG_UPDATE_RUNS = (
    "UPDATE runs SET"
    " last_event_at = CASE WHEN runs.last_event_at < u.span_last THEN u.span_last"
    " ELSE runs.last_event_at END,"
    " started_at = CASE WHEN NOT runs.has_start AND runs.started_at > u.span_first THEN u.span_first"
    " ELSE runs.started_at END,"
    " pending = true"
    " FROM spans AS u WHERE runs.id = u.run_id"
)
_PG_UPDATE_RUNS_AND_FACTS = (
    "UPDATE runs SET"
    " last_event_at = CASE WHEN runs.last_event_at < u.span_last THEN u.span_last"
    " ELSE runs.last_event_at END,"
    " started_at = CASE WHEN s.at IS NOT NULL THEN s.at"
    " WHEN NOT runs.has_start AND runs.started_at > u.span_first THEN u.span_first"
    " ELSE runs.started_at END,"
    " has_start = runs.has_start OR s.at IS NOT NULL,"
    " attributes = CASE WHEN s.at IS NOT NULL THEN s.attributes ELSE runs.attributes END,"
    f" status = CASE WHEN {_PG_ENDS} THEN f.status ELSE runs.status END,"
    f" finished_at = CASE WHEN {_PG_ENDS} THEN f.at ELSE runs.finished_at END,"
    f" summary = CASE WHEN {_PG_ENDS} THEN f.summary ELSE runs.summary END,"
    " pending = true"
    " FROM spans AS u LEFT JOIN starts AS s ON s.run_id = u.run_id"
    " LEFT JOIN finishes AS f ON f.run_id = u.run_id"
    " WHERE runs.id = u.run_id"
)
# What the statement answers: the (run id, event id) pairs it was given and did not insert.
_PG_DROPPED = (
    " SELECT w.run_id, w.key FROM unnest($5::bigint[], $9::text[]) AS w(run_id, key)"
    " WHERE w.key IS NOT NULL EXCEPT SELECT run_id, key FROM inserted"
)


@cache
def _pg_write(*, facts: bool, keyed: bool) -> str:
    """The write's statement, with only the parts the rows need, as each part costs planning
    time on every write: the start and finish facts only for rows with a start or finish, the
    pairs not inserted only for rows with event ids (rows without one never conflict)."""
    inserted = _PG_INSERTED + (", id, kind, status, data)," if facts else "),") + _PG_SPANS
    update = _PG_UPDATE_RUNS_AND_FACTS if facts else _PG_UPDATE_RUNS
    return (f"WITH {job_state.pg_note_writes(1)}, {inserted}{_PG_FACTS if facts else ''}"
            + (f", updated AS ({update}){_PG_DROPPED}" if keyed else f" {update}"))


# A run's time span: `last_event_at` only grows; `started_at` is the earliest event until a
# start event names it. Every run written to is touched here, so this is also where the run is
# marked for the watcher (`pending`), in the write's own transaction.
_SQLITE_SPAN_UPDATE = (
    "UPDATE runs SET"
    " last_event_at = CASE WHEN last_event_at < u.span_last THEN u.span_last ELSE last_event_at END,"
    " started_at = CASE WHEN has_start = 0 AND started_at > u.span_first THEN u.span_first"
    " ELSE started_at END,"
    " pending = 1"
    " FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS span_first,"
    " json_extract(value, '$[2]') AS span_last FROM json_each(?)) AS u"
    " WHERE runs.id = u.id"
)
# A start names the run's start time and attributes; the latest finish its end and status.
_SQLITE_START_UPDATE = "UPDATE runs SET started_at = ?, has_start = 1, attributes = ? WHERE id = ?"
_SQLITE_FINISH_UPDATE = (
    "UPDATE runs SET status = ?1, finished_at = ?2, summary = ?3"
    " WHERE id = ?4 AND (finished_at IS NULL OR finished_at <= ?2)"
)
