"""Retention: a run older than the cutoff keeps its summary; its detail events go.

What stays of an old run is everything the history queries read (`storage/history.py`,
`storage/watch.py`, the watcher's judgements): the run row itself (status, times, attributes,
final text), its start and finish events, every milestone event, and per metric name the one
event whose value counts (the last by time). A successful run, which "usual" is learned from,
also keeps just enough of its other metric and payload events that its longest silence (what
the stall judgement is based on) and whether it reported a payload read exactly as before —
see `doomed_events`. Progress, notes, durations, the other payloads and superseded metric
values are deleted.

What an old run keeps is moved: written again, in the same order, at the end of the table,
and its old rows deleted. Deleting only the details would leave every old page partly full,
and neither SQLite (rows are stored in id order, new ones always at the end) nor PostgreSQL's
indexes put new rows into such pages, so the database would go on growing. Moved, the old
pages empty completely: new events reuse them, and on SQLite they are given back to the file
system a few at a time (`PRAGMA incremental_vacuum`).

Transactions are short: at most `batch_rows` events deleted or moved in each, and after each
a pause at least PACE times as long as the transaction took (never under `pause_seconds`),
so the group-commit writer is never held up for long and pruning slows down by itself when
the database is busy."""

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, delete, or_, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Event, Run

log = logging.getLogger(__name__)
T = TypeVar("T")

RUNS = Run.__table__  # type: ignore[attr-defined]
EVENTS = Event.__table__  # type: ignore[attr-defined]
SUCCESS = "succeeded"
KEPT_KINDS = frozenset({"start", "finish", "milestone"})
HISTORY_KINDS = frozenset({"metric", "milestone", "payload"})  # what `successful_history` reads
BATCH_ROWS = 1000  # events per delete transaction
RUNS_PER_READ = 500  # old runs whose events are read and planned at once
PAUSE_SECONDS = 0.1  # at least, between two transactions: the writer gets the database
PACE = 9.0  # and at least this many times what the last transaction (or read) took
MAX_READS_PER_PASS = 100_000  # a bound, far above any real history (50 million runs)
VACUUM_PAGES = 2000  # SQLite pages (8 MB at the default 4 KiB) given back per step
# An existing SQLite file made without auto_vacuum is rebuilt once (VACUUM) to turn it on, but
# only when it is this small: VACUUM holds the write lock for as long as it copies the file.
SWITCH_TO_INCREMENTAL_MAX_BYTES = 64 * 1024 * 1024
AUTO_VACUUM_NONE, AUTO_VACUUM_INCREMENTAL = 0, 2


@dataclass(frozen=True, slots=True)
class OldRun:
    id: int
    status: str
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """What planning needs of an event: never its `data`."""

    id: int
    run_id: int
    kind: str
    name: str | None
    has_value: bool
    at: datetime


@dataclass
class PruneReport:
    runs: int = 0  # old runs looked at
    deleted: int = 0  # events deleted
    moved: int = 0  # events kept, written again at the end of the table
    transactions: int = 0
    pages_freed: int = 0  # SQLite pages given back to the file system
    seconds: float = 0.0
    finished: bool = True  # False when stopped early (the lead was lost)


def doomed_events(run: OldRun, events: Sequence[StoredEvent]) -> list[int]:
    """The ids of an old run's events that retention deletes.

    Kept: start, finish, milestones, and per metric name the event `successful_history` takes
    the value from (the last with a value, by time then id). For a successful finished run
    also: one payload when it reported any, and enough of its other metric and payload events
    that its longest silence between start, those events and finish stays what it was."""
    ordered = sorted(events, key=lambda e: (e.at, e.id))
    keep = {e.id for e in ordered if e.kind in KEPT_KINDS}
    last_metric: dict[str, StoredEvent] = {}
    for event in ordered:
        if event.kind == "metric" and event.name is not None:
            current = last_metric.get(event.name)
            if current is None or event.has_value or not current.has_value:
                last_metric[event.name] = event
    keep |= {e.id for e in last_metric.values()}
    if run.status == SUCCESS and run.finished_at is not None:
        history = [e for e in ordered if e.kind in HISTORY_KINDS]
        keep |= _gap_keepers(run.started_at, run.finished_at, history, keep)
        payloads = [e for e in history if e.kind == "payload"]
        if payloads and not any(p.id in keep for p in payloads):
            keep.add(payloads[0].id)
    return [e.id for e in ordered if e.id not in keep]


def _gap_keepers(started_at: datetime, finished_at: datetime, history: list[StoredEvent],
                 fixed: set[int]) -> set[int]:
    """Events to keep so that the longest gap between consecutive moments (start, every
    history event, finish) stays exactly what it is, given that `fixed` are kept anyway.

    Greedy: walking in time, an event is kept when skipping it would open a gap longer than
    the longest one. Every gap left is then at most that long, and the longest one survives
    (its two ends are consecutive, so whatever gap covers it is at least as long)."""
    moments: list[tuple[datetime, int | None]] = sorted(
        [(started_at, None), (finished_at, None), *((e.at, e.id) for e in history)],
        key=lambda moment: moment[0])
    longest = max(b[0] - a[0] for a, b in pairwise(moments))  # start and finish: never empty
    keep = {moment_id for _, moment_id in (moments[0], moments[-1]) if moment_id is not None}
    last_kept = moments[0][0]
    for index in range(1, len(moments) - 1):
        at, moment_id = moments[index]
        if moment_id is None or moment_id in fixed or moments[index + 1][0] - last_kept > longest:
            if moment_id is not None:
                keep.add(moment_id)
            last_kept = at
    return keep


class Pruner:
    """Deletes old runs' detail events and moves what they keep, a few at a time.

    Runs are visited in start order with a cursor kept between passes, so an hourly pass only
    reads the runs that aged past the cutoff since the last one; a new process (or a new
    leader) starts again from the oldest run, which costs one read of what old runs kept."""

    def __init__(self, engine: AsyncEngine, *, batch_rows: int = BATCH_ROWS,
                 pause_seconds: float = PAUSE_SECONDS, runs_per_read: int = RUNS_PER_READ) -> None:
        self._engine = engine
        self._batch_rows = batch_rows
        self._pause = pause_seconds
        self._runs_per_read = runs_per_read
        self._cursor: tuple[datetime, int] | None = None  # the last old run fully pruned
        self._warned_no_auto_vacuum = False

    async def prune(self, cutoff: datetime, *,
                    keep_going: Callable[[], bool] = lambda: True) -> PruneReport:
        """One pass over the runs that started before `cutoff`; `keep_going` is asked before
        each transaction (the leader stops when it loses the lead)."""
        report = PruneReport()
        began = time.monotonic()
        for _ in range(MAX_READS_PER_PASS):
            runs = await self._next_old_runs(cutoff)
            if not runs:
                break
            report.runs += len(runs)
            if not await self._prune_runs(runs, report, keep_going):
                report.finished = False
                break
            last = runs[-1]
            self._cursor = (last.started_at, last.id)
        if report.finished and self._engine.dialect.name == "sqlite":
            report.pages_freed = await self._reclaim_sqlite_space(keep_going)
        report.seconds = time.monotonic() - began
        if report.deleted or report.pages_freed:
            log.info("retention: deleted %d events of %d runs started before %s in %.1f s "
                     "(%d transactions, %d kept events moved); %d pages given back",
                     report.deleted, report.runs, f"{cutoff:%Y-%m-%d %H:%M}Z", report.seconds,
                     report.transactions, report.moved, report.pages_freed)
        return report

    async def _next_old_runs(self, cutoff: datetime) -> list[OldRun]:
        query = select(RUNS.c.id, RUNS.c.status, RUNS.c.started_at, RUNS.c.finished_at) \
            .where(RUNS.c.started_at < cutoff)
        if self._cursor is not None:
            started, run_id = self._cursor
            query = query.where(or_(RUNS.c.started_at > started,
                                    and_(RUNS.c.started_at == started, RUNS.c.id > run_id)))
        query = query.order_by(RUNS.c.started_at, RUNS.c.id).limit(self._runs_per_read)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [OldRun(*row) for row in rows]

    async def _prune_runs(self, runs: list[OldRun], report: PruneReport,
                          keep_going: Callable[[], bool]) -> bool:
        """Delete the doomed events of these runs and move the rest; False when stopped."""
        began = time.monotonic()
        query = select(EVENTS.c.id, EVENTS.c.run_id, EVENTS.c.kind, EVENTS.c.name,
                       EVENTS.c.value.is_not(None), EVENTS.c.at) \
            .where(EVENTS.c.run_id.in_([r.id for r in runs]))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        by_run: dict[int, list[StoredEvent]] = {}
        for row in rows:
            event = StoredEvent(row[0], row[1], row[2], row[3], bool(row[4]), row[5])
            by_run.setdefault(event.run_id, []).append(event)
        work: list[tuple[int, bool]] = []  # (event id, moved?), each run's kept events in order
        for run in runs:
            events = by_run.get(run.id, [])
            doomed = set(doomed_events(run, events))
            if doomed:  # a run with nothing to delete (pruned before) stays where it is
                work += [(e.id, e.id not in doomed)
                         for e in sorted(events, key=lambda e: (e.at, e.id))]
        await self._rest(time.monotonic() - began)
        for chunk in _chunks(work, self._batch_rows):
            if not keep_going():
                return False
            began = time.monotonic()
            moved = await self._rewrite(chunk)
            report.deleted += len(chunk) - moved
            report.moved += moved
            report.transactions += 1
            await self._rest(time.monotonic() - began)
        return True

    async def _rewrite(self, chunk: list[tuple[int, bool]]) -> int:
        """One transaction: delete the chunk's events, writing the kept ones again (in the
        chunk's order, so new ids keep each run's order); returns how many were moved."""
        order = {event_id: index for index, (event_id, moved) in enumerate(chunk) if moved}
        async with self._engine.begin() as conn:
            # Rows are copied as the driver gives them (no JSON or time conversion: cheaper).
            found = (await conn.execute(_SELECT_MOVED, {"ids": list(order)})).all() if order else []
            # Only what this transaction deleted is written again: should another replica's
            # pass overlap this one (a change of leader), no event is ever written twice.
            deleted = set((await conn.execute(delete(EVENTS).where(
                EVENTS.c.id.in_([i for i, _ in chunk])).returning(EVENTS.c.id))).scalars())
            kept = [dict(zip(MOVED_COLUMNS, row[1:], strict=True))
                    for row in sorted(found, key=lambda row: order[row[0]]) if row[0] in deleted]
            if kept:
                await conn.execute(_INSERT_MOVED, kept)
        return len(kept)

    async def _rest(self, busy_seconds: float) -> None:
        await asyncio.sleep(max(self._pause, PACE * busy_seconds) if self._pause else 0)

    async def _reclaim_sqlite_space(self, keep_going: Callable[[], bool]) -> int:
        """Give freed pages back to the file system, VACUUM_PAGES per short step. A file
        made before auto_vacuum was turned on is switched once, when it is small enough;
        a larger one keeps reusing its free pages (it stops growing but does not shrink)."""
        mode, free, pages, page_size = await self._sqlite_pragmas(
            "auto_vacuum", "freelist_count", "page_count", "page_size")
        if mode == AUTO_VACUUM_NONE:
            if pages * page_size <= SWITCH_TO_INCREMENTAL_MAX_BYTES:
                await self._sqlite_script("PRAGMA auto_vacuum=INCREMENTAL; VACUUM")
                log.info("retention: the SQLite file now gives freed space back (auto_vacuum=incremental)")
                return free
            if not self._warned_no_auto_vacuum:
                self._warned_no_auto_vacuum = True
                log.warning(
                    "retention: this SQLite file (%d MB) was made without auto_vacuum, so it reuses "
                    "the space pruning frees but never shrinks. To make it shrink, stop the server "
                    "and run once: sqlite3 <file> 'PRAGMA auto_vacuum=INCREMENTAL; VACUUM;'",
                    pages * page_size // 2**20)
            return 0
        if mode != AUTO_VACUUM_INCREMENTAL:
            return 0  # FULL: SQLite gives pages back at every commit by itself
        freed = 0
        for _ in range(free // VACUUM_PAGES + 1):
            if free == 0 or not keep_going():
                break
            began = time.monotonic()
            await self._sqlite_script(f"PRAGMA incremental_vacuum({VACUUM_PAGES})")
            (left,) = await self._sqlite_pragmas("freelist_count")
            freed, free = freed + free - left, left
            if free:
                await self._rest(time.monotonic() - began)
        return freed

    async def _sqlite_pragmas(self, *names: str) -> list[int]:
        async with self._engine.connect() as conn:
            return [int((await conn.execute(text(f"PRAGMA {name}"))).scalar_one()) for name in names]

    async def _sqlite_script(self, script: str) -> None:
        """Run through the driver's `executescript`: Python's sqlite3 steps a plain `execute`
        of `incremental_vacuum` only once, which frees a single page."""
        async with self._engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection
            await driver.executescript(script)


MOVED_COLUMNS = ("run_id", "kind", "at", "received_at", "key", "name", "value", "status", "data")
# The JSON as text on both backends, so that PostgreSQL's driver takes it back unchanged.
_SELECT_MOVED = text(f"SELECT id, {', '.join(MOVED_COLUMNS[:-1])}, CAST(data AS TEXT) FROM events "
                     "WHERE id IN :ids").bindparams(bindparam("ids", expanding=True))
_INSERT_MOVED = text(f"INSERT INTO events ({', '.join(MOVED_COLUMNS)}) "
                     f"VALUES ({', '.join(':' + c for c in MOVED_COLUMNS)})")


def _chunks(items: list[T], size: int) -> Iterable[list[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
