"""Group commit for incoming events.

Every request hands its batch to one writer task per process and waits. The writer takes
everything queued (up to `max_group_events`), writes it in one transaction with Core
statements and answers each request only after that transaction commits. Under load,
batches fill themselves while the previous commit runs, so the cost of a commit (an fsync
on SQLite) is shared by every request waiting; at idle, a lone event is written at once.
"""

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, false, select, true, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.models import Event, Job, Run
from storage.types import UTCDateTime

log = logging.getLogger(__name__)

JOBS = Job.__table__  # type: ignore[attr-defined]
RUNS = Run.__table__  # type: ignore[attr-defined]
EVENTS = Event.__table__  # type: ignore[attr-defined]
CACHE_LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    """A validated event, in storage terms."""

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
        self._max_group_events = max_group_events
        self._queue: asyncio.Queue[_Request] = asyncio.Queue()
        self._job_ids: dict[str, int] = {}
        self._run_ids: dict[tuple[int, str], int] = {}
        self._task: asyncio.Task[None] | None = None
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
        while True:
            group = await self._take_group()
            live = [r for r in group if r.events]
            if live:
                await self._write_group(live)
            if len(live) < len(group):  # the close() marker: drain what is left, then stop
                while not self._queue.empty():
                    await self._write_group([r for r in await self._take_group() if r.events])
                return

    async def _take_group(self) -> list[_Request]:
        group = [await self._queue.get()]
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
        async with self._engine.begin() as conn:
            job_ids = await self._resolve_jobs(conn, group, new_jobs)
            plans = await self._plan(conn, group, job_ids)
            run_ids = await self._resolve_runs(conn, plans, new_runs)
            results = await self._store(conn, plans, run_ids, job_ids)
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
                    "created_at": plans[0].request.received_at,
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
        seen = await self._stored_keys(conn, plans, run_ids)
        rows: list[dict[str, Any]] = []
        fresh: list[tuple[int, IncomingEvent]] = []
        results = []
        slugs = {job_id: slug for slug, job_id in job_ids.items()}
        for plan in plans:
            duplicates = 0
            runs: dict[tuple[str, str], None] = {}
            for p in plan.placed:
                run_id = run_ids[(p.job_id, p.run_key)]
                runs[(slugs[p.job_id], p.run_key)] = None
                e = p.event
                if e.key is not None:
                    if (run_id, e.key) in seen:
                        duplicates += 1
                        continue
                    seen.add((run_id, e.key))
                rows.append({
                    "run_id": run_id, "kind": e.kind, "at": e.at,
                    "received_at": plan.request.received_at, "key": e.key, "name": e.name,
                    "value": e.value, "status": e.status, "data": e.data,
                })
                fresh.append((run_id, e))
            results.append(WriteResult(len(plan.placed) - duplicates, duplicates, list(runs)))
        if rows:
            await conn.execute(self._insert_ignoring_conflicts(EVENTS), rows)
            await self._update_runs(conn, fresh)
        return results

    async def _stored_keys(
        self, conn: AsyncConnection, plans: list[_Plan], run_ids: dict[tuple[int, str], int]
    ) -> set[tuple[int, str]]:
        wanted = {(run_ids[(p.job_id, p.run_key)], p.event.key)
                  for plan in plans for p in plan.placed if p.event.key is not None}
        if not wanted:
            return set()
        query = select(EVENTS.c.run_id, EVENTS.c.key).where(
            EVENTS.c.run_id.in_({r for r, _ in wanted}), EVENTS.c.key.in_({k for _, k in wanted})
        )
        stored = {(run_id, key) for run_id, key in (await conn.execute(query)).all()}
        return stored & wanted

    async def _update_runs(self, conn: AsyncConnection, fresh: list[tuple[int, IncomingEvent]]) -> None:
        """Keep each run's summary columns current: time span, start facts, final status."""
        spans: dict[int, tuple[datetime, datetime]] = {}
        starts: dict[int, IncomingEvent] = {}
        finishes: dict[int, IncomingEvent] = {}
        for run_id, e in fresh:
            first, last = spans.get(run_id, (e.at, e.at))
            spans[run_id] = (min(first, e.at), max(last, e.at))
            if e.kind == "start":
                starts[run_id] = e
            elif e.kind == "finish" and (run_id not in finishes or finishes[run_id].at <= e.at):
                finishes[run_id] = e
        await conn.execute(_SPAN_UPDATE, [
            {"rid": run_id, "first": first, "last": last} for run_id, (first, last) in spans.items()
        ])
        if starts:
            await conn.execute(_START_UPDATE, [
                {"rid": run_id, "at": e.at, "attrs": e.data.get("attributes", {})}
                for run_id, e in starts.items()
            ])
        if finishes:
            await conn.execute(_FINISH_UPDATE, [
                {"rid": run_id, "at": e.at, "status": e.status, "text": e.data.get("text")}
                for run_id, e in finishes.items()
            ])

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


def _fail(group: list[_Request], exc: Exception) -> None:
    for request in group:
        if not request.future.done():
            request.future.set_exception(exc)


_FIRST = bindparam("first", type_=UTCDateTime)
_LAST = bindparam("last", type_=UTCDateTime)
_AT = bindparam("at", type_=UTCDateTime)
_SPAN_UPDATE = (
    update(RUNS)
    .where(RUNS.c.id == bindparam("rid"))
    .values(
        last_event_at=case((RUNS.c.last_event_at < _LAST, _LAST), else_=RUNS.c.last_event_at),
        started_at=case(
            (and_(RUNS.c.has_start == false(), RUNS.c.started_at > _FIRST), _FIRST),
            else_=RUNS.c.started_at,
        ),
    )
)
_START_UPDATE = (
    update(RUNS)
    .where(RUNS.c.id == bindparam("rid"))
    .values(started_at=_AT, has_start=true(), attributes=bindparam("attrs", type_=RUNS.c.attributes.type))
)
_FINISH_UPDATE = (
    update(RUNS)
    .where(
        RUNS.c.id == bindparam("rid"),
        (RUNS.c.finished_at.is_(None)) | (RUNS.c.finished_at <= _AT),
    )
    .values(status=bindparam("status"), finished_at=_AT, summary=bindparam("text"))
)
