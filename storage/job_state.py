"""What answers keep about jobs between questions, correct on every replica of one database.

`job_revisions` holds a number per job that the event writer raises in the same transaction
as every write to the job's runs and events (`note_writes`). Anything built from a job's
telemetry and labelled with the revision read *before* the telemetry is still exact while
the number is unchanged: one indexed read tells every replica what changed.

`run_judgements` keeps each finished run's judged state ("ended_early", "unusual"…), which
otherwise takes the run's events and its twenty previous successful runs to work out. A run's
judgement depends only on its own telemetry, its job's definition and its job's runs that
started before it, so the writer deletes a job's judgements from the earliest start a write
touches onward, and a judgement made from a job's telemetry at revision r is stored only if
the job is still at revision r (`keep_judgements`; on PostgreSQL the check takes a share
lock on the revision row, so it waits for a writer that is about to raise it).

The watcher keeps two more things in the same rows, under the same rules
(`storage.watch.keep_judged`): a finished run's own facts (`RunFacts`: what it adds to the
histories of the runs after it, so a history is read as twenty short rows, not as twenty
runs' events), and, for a run still going, how long it may stay silent (its history's
`stall_limit`) — which a write to the run itself leaves in place, as it depends only on the
runs before it. A row may hold facts only (a run read as history, never judged itself) or a
silence limit only: its `state` is None and it is no judgement (`stored_judgements` leaves
it out)."""

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, partial
from itertools import pairwise
from types import ModuleType
from typing import Any, NamedTuple, Protocol

from sqlalchemy import BigInteger, Column, Index, Text, bindparam, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.engine import in_sqlite_thread
from storage.models import Run
from storage.types import UTCDateTime, aware_utc, sqlite_utc, write_json


class JobRevision(SQLModel, table=True):
    __tablename__ = "job_revisions"

    # No foreign keys here or below: these rows describe, they never hold a job or run in place.
    job_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    revision: int = Field(sa_column=Column(BigInteger, nullable=False))


class RunJudgement(SQLModel, table=True):
    __tablename__ = "run_judgements"
    __table_args__ = (Index("ix_run_judgements_job_started", "job_id", "started_at"),)

    run_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    job_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    started_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # The judged state of a finished run; None where the row only keeps what follows.
    state: str | None = Field(default=None, max_length=16)
    # The job definition it was judged under (`jobs.updated_at`): a new one judges afresh.
    definition_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # A finished run's own facts, as later runs' histories need them (`RunFacts`, as JSON).
    facts: str | None = Field(default=None, sa_column=Column(Text))
    # A run still going, judged with nothing found since: how long it may be silent (seconds;
    # None without enough history). Forgotten with the row when it or an earlier run is written.
    stall_after: float | None = None


REVISIONS = JobRevision.__table__  # type: ignore[attr-defined]
JUDGEMENTS = RunJudgement.__table__  # type: ignore[attr-defined]
RUNS = Run.__table__  # type: ignore[attr-defined]
IDS_PER_QUERY = 5_000


# --- the write path -----------------------------------------------------------------------------

# The writer runs these in every commit, so they are the drivers' own SQL, made once: no
# statement building or bind processing per row. Timestamps arrive as `storage.types.sqlite_utc`
# (SQLite) or `aware_utc` (PostgreSQL) made them. A job's revision goes up by one per write; a
# write forgets the job's judgements from the earliest of each touched run's start (as stored,
# before this write moves it) and its new events onward — except the silence limit kept for the
# run written to while it goes on: that depends only on the runs before it, which this write
# leaves as they are (unless it moves its start).
# On SQLite each is one statement over a JSON list (one step, not one per job or run): the
# revisions of the listed jobs; the judgements that any listed (job, run, earliest new `at`)
# makes stale, with the run's start as stored.
_SQLITE_RAISE_REVISION = (
    "INSERT INTO job_revisions (job_id, revision) SELECT value, 1 FROM json_each(?) WHERE true"
    " ON CONFLICT (job_id) DO UPDATE SET revision = job_revisions.revision + 1"
)
_SQLITE_FORGET_JUDGEMENTS = (
    "DELETE FROM run_judgements WHERE run_id IN ("
    " SELECT j.run_id FROM (SELECT json_extract(value, '$[0]') AS job_id,"
    " json_extract(value, '$[1]') AS run_id, json_extract(value, '$[2]') AS first"
    " FROM json_each(?)) AS u"
    " LEFT JOIN runs AS r ON r.id = u.run_id"
    " JOIN run_judgements AS j ON j.job_id = u.job_id"
    " WHERE (j.started_at >= u.first OR j.started_at >= r.started_at)"
    " AND NOT (j.run_id = u.run_id AND j.state IS NULL AND j.facts IS NULL"
    " AND u.first >= r.started_at))"
)
def pg_note_writes(first: int) -> str:
    """`note_writes` on PostgreSQL as two data-modifying CTEs, `raised` and `forgotten`, over
    four arrays bound from parameter `$first` on (`pg_note_writes_arguments`), so that the
    writer can send them in the same statement as its own writes. The revision rows are
    locked first and in job id order (the ORDER BY), as `keep_judgements` locks them: the
    DELETE waits for `raised` in a one-time filter, and a statement that changes anything
    else must wait for `forgotten` the same way. Every part of a statement reads the
    snapshot it started with, so the DELETE sees the runs' start times as stored before."""
    jobs, job, run, at = (f"${first + i}" for i in range(4))
    return (
        "raised AS ("
        " INSERT INTO job_revisions (job_id, revision)"
        f" SELECT w.job_id, 1 FROM unnest({jobs}::bigint[]) AS w(job_id) ORDER BY w.job_id"
        " ON CONFLICT (job_id) DO UPDATE SET revision = job_revisions.revision + 1 RETURNING 1),"
        " forgotten AS ("
        " DELETE FROM run_judgements AS j"
        f" USING unnest({job}::bigint[], {run}::bigint[], {at}::timestamptz[]) AS w(job_id, run_id, first)"
        " WHERE (SELECT count(*) FROM raised) >= 0 AND j.job_id = w.job_id"
        " AND (j.started_at >= w.first OR j.started_at >= (SELECT started_at FROM runs WHERE id = w.run_id))"
        " AND NOT (j.run_id = w.run_id AND j.state IS NULL AND j.facts IS NULL"
        " AND w.first >= (SELECT started_at FROM runs WHERE id = w.run_id))"
        " RETURNING 1)"
    )


def pg_note_writes_arguments(touched: dict[int, tuple[int, datetime]]) -> tuple[list[Any], ...]:
    """The four arrays `pg_note_writes` takes: the jobs written to, and (job, run, earliest
    new `at`) of each run written to."""
    forget = sorted(touched.items())
    return (sorted({job_id for job_id, _ in touched.values()}),
            [job_id for _, (job_id, _) in forget], [run_id for run_id, _ in forget],
            [aware_utc(at) for _, (_, at) in forget])


_PG_NOTE_WRITES = f"WITH {pg_note_writes(1)} SELECT count(*) FROM forgotten"


async def note_writes(conn: AsyncConnection, touched: dict[int, tuple[int, datetime]]) -> None:
    """Inside the writer's transaction, before the runs' summary columns change: raise the
    revision of every job written to, and forget the judgements its write may change —
    from the earliest of each touched run's start (as stored) and its new events onward.
    `touched`: run id -> (job id, the earliest `at` of its new events). Jobs in id order,
    so two writers (or a writer and `keep_judgements`) always lock revision rows alike.
    (The event writer runs the same statements in its own: `pg_note_writes`, `note_writes_sqlite`.)"""
    if not touched:
        return
    if conn.dialect.name == "postgresql":
        await conn.exec_driver_sql(_PG_NOTE_WRITES, [pg_note_writes_arguments(touched)])
    else:
        await in_sqlite_thread(conn, partial(note_writes_sqlite, touched=touched))


def note_writes_sqlite(db: sqlite3.Connection, touched: dict[int, tuple[int, datetime]]) -> None:
    """`note_writes` on SQLite's own connection, on its thread (the writer runs it there with
    the rest of its transaction)."""
    if not touched:
        return
    db.execute(_SQLITE_RAISE_REVISION, (write_json(sorted({job_id for job_id, _ in touched.values()})),))
    db.execute(_SQLITE_FORGET_JUDGEMENTS, (write_json([
        [job_id, run_id, sqlite_utc(at)] for run_id, (job_id, at) in sorted(touched.items())]),))


# --- the read path --------------------------------------------------------------------------------

async def revisions(*, session: AsyncSession, job_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Each job's revision (0: never written to since revisions were kept). Read it before
    the telemetry that is to be labelled with it."""
    query = select(REVISIONS.c.job_id, REVISIONS.c.revision)
    wanted = None if job_ids is None else sorted(set(job_ids))
    if wanted is not None and len(wanted) <= IDS_PER_QUERY:
        query = query.where(REVISIONS.c.job_id.in_(wanted))
    connection = await session.connection()
    found = {job_id: revision for job_id, revision in (await connection.execute(query)).all()}
    if wanted is None:
        return found
    return {job_id: found.get(job_id, 0) for job_id in wanted}


@dataclass(frozen=True)
class Judgement:
    run_id: int
    job_id: int
    started_at: datetime
    state: str
    definition_at: datetime


async def stored_judgements(run_ids: Sequence[int], *, session: AsyncSession) -> dict[int, Judgement]:
    """The stored judgements of these runs, by run id (those not stored are missing)."""
    found: dict[int, Judgement] = {}
    ids = sorted(set(run_ids))
    connection = await session.connection()
    for start in range(0, len(ids), IDS_PER_QUERY):
        query = select(JUDGEMENTS.c.run_id, JUDGEMENTS.c.job_id, JUDGEMENTS.c.started_at,
                       JUDGEMENTS.c.state, JUDGEMENTS.c.definition_at) \
            .where(JUDGEMENTS.c.run_id.in_(ids[start:start + IDS_PER_QUERY]),
                   JUDGEMENTS.c.state.is_not(None))
        for row in (await connection.execute(query)).all():
            found[row[0]] = Judgement(*row)
    return found


def _keep_judgements(dialect: ModuleType) -> Any:
    """INSERT … SELECT a judgement WHERE the job's revision is still the one seen (on
    PostgreSQL under a share lock of the revision row), replacing one already there but not
    the watcher's facts beside it."""
    current: Any = select(literal_column("1")).select_from(REVISIONS).where(
        REVISIONS.c.job_id == bindparam("job"), REVISIONS.c.revision == bindparam("seen")
    ).with_for_update(read=True)
    names = ("run_id", "job_id", "started_at", "state", "definition_at")
    values: Any = select(bindparam("rid", type_=BigInteger), bindparam("job", type_=BigInteger),
                         bindparam("started", type_=UTCDateTime), bindparam("state"),
                         bindparam("defined", type_=UTCDateTime)).where(current.exists())
    insert: Any = dialect.insert(JUDGEMENTS).from_select(names, values)
    return insert.on_conflict_do_update(index_elements=[JUDGEMENTS.c.run_id], set_={
        name: insert.excluded[name] for name in names[1:]})


async def keep_judgements(judgements: Sequence[Judgement], seen: dict[int, int], *,
                          session: AsyncSession) -> int:
    """Store judgements made from telemetry read after revision `seen[job_id]` was; those
    of a job whose revision moved on since are dropped (they may be stale). Commits; returns
    how many were offered for a revision still current."""
    rows = sorted((j for j in judgements if j.job_id in seen), key=lambda j: (j.job_id, j.run_id))
    if not rows:
        return 0
    connection = await session.connection()
    await connection.execute(KEEP[connection.dialect.name], [
        {"rid": j.run_id, "job": j.job_id, "started": j.started_at, "state": j.state,
         "defined": j.definition_at, "seen": seen[j.job_id]} for j in rows])
    await session.commit()
    return len(rows)


KEEP = {"postgresql": _keep_judgements(postgresql), "sqlite": _keep_judgements(sqlite)}




async def unjudged_runs(*, limit: int, session: AsyncSession) -> list[Run]:
    """Finished runs without a stored judgement, job by job, oldest first."""
    query = (select(Run).outerjoin(JUDGEMENTS, JUDGEMENTS.c.run_id == Run.id)
             .where(JUDGEMENTS.c.state.is_(None), RUNS.c.finished_at.is_not(None))
             .order_by(RUNS.c.job_id, RUNS.c.started_at).limit(limit))
    connection = await session.connection()
    return [Run.model_validate(row._mapping) for row in (await connection.execute(query)).all()]


# --- a run's own facts, and histories made of them -------------------------------------------------

HISTORY_KINDS = ("metric", "milestone", "payload")  # what a history reads of a run's events


class FactEvent(Protocol):
    """What facts need of an event: a table model or a row of these columns."""

    @property
    def kind(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def name(self) -> str | None: ...
    @property
    def value(self) -> float | None: ...
    @property
    def status(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What a finished run adds to the histories of its job's later runs, exactly as
    `storage.history.history_of` reads it from the run's events: its longest silence (between
    start, the events of `HISTORY_KINDS` and finish), the milestones it reached (in the order
    first reached), the last value of each metric (in the order first reported) and whether it
    reported a payload."""

    gap: float
    milestones: tuple[str, ...]
    metrics: dict[str, float]
    payload: bool

    def to_json(self) -> str:
        return json.dumps({"g": self.gap, "m": self.milestones, "v": self.metrics,
                           "p": self.payload}, separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> "RunFacts":
        found = json.loads(text)
        return RunFacts(found["g"], tuple(found["m"]), found["v"], found["p"])


def facts_of(started_at: datetime, finished_at: datetime, events: Iterable[FactEvent]) -> RunFacts:
    """A finished run's facts from its events of `HISTORY_KINDS`, ordered by time and id."""
    moments = [started_at]
    milestones: dict[str, None] = {}
    metrics: dict[str, float] = {}
    payload = False
    for event in events:
        moments.append(event.at)
        if event.kind == "metric" and event.name is not None and event.value is not None:
            metrics[event.name] = event.value
        elif event.kind == "milestone" and event.status == "reached" and event.name:
            milestones.setdefault(event.name)
        elif event.kind == "payload":
            payload = True
    moments.sort()
    moments.append(finished_at)
    gap = max(((b - a).total_seconds() for a, b in pairwise(moments)), default=0.0)
    return RunFacts(gap, tuple(milestones), metrics, payload)


class PastRun(NamedTuple):
    """A successful run as a history holds it."""

    id: int
    started_at: datetime
    finished_at: datetime
    facts: RunFacts


class PastRuns:
    """A history (`storage.history.RunHistory`, as judging reads it) made of stored facts: a
    job's successful runs before the one judged, oldest first. Each part is worked out when
    first read, in the order `history_of` works it out (metrics and milestones run by run in
    id order), so that judging gives the same findings either way."""

    def __init__(self, runs: Sequence[PastRun]) -> None:
        self.runs = runs

    @cached_property
    def durations(self) -> list[float]:
        return [(r.finished_at - r.started_at).total_seconds() for r in self.runs]

    @cached_property
    def longest_gaps(self) -> list[float]:
        return [r.facts.gap for r in self.runs]

    @cached_property
    def _by_id(self) -> list[PastRun]:
        return sorted(self.runs, key=lambda r: r.id)

    @cached_property
    def metrics(self) -> dict[str, list[float]]:
        found: dict[str, list[float]] = {}
        for run in self._by_id:
            for name, value in run.facts.metrics.items():
                found.setdefault(name, []).append(value)
        return found

    @cached_property
    def milestones(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for run in self._by_id:
            for name in run.facts.milestones:
                found[name] = found.get(name, 0) + 1
        return found

    @cached_property
    def milestone_order(self) -> list[str]:
        return list({name: None for run in self._by_id for name in run.facts.milestones})

    @cached_property
    def outputs_seen(self) -> int:
        return sum(1 for run in self.runs if run.facts.payload)
