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
lock on the revision row, so it waits for a writer that is about to raise it)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Any

from sqlalchemy import BigInteger, Column, Index, bindparam, literal_column, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Run
from storage.types import UTCDateTime


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
    state: str = Field(max_length=16)
    # The job definition it was judged under (`jobs.updated_at`): a new one judges afresh.
    definition_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


REVISIONS = JobRevision.__table__  # type: ignore[attr-defined]
JUDGEMENTS = RunJudgement.__table__  # type: ignore[attr-defined]
RUNS = Run.__table__  # type: ignore[attr-defined]
IDS_PER_QUERY = 5_000


# --- the write path -----------------------------------------------------------------------------

def _raise_revision(dialect: ModuleType) -> Any:
    insert = dialect.insert(REVISIONS).values(job_id=bindparam("job"), revision=1)
    return insert.on_conflict_do_update(index_elements=[REVISIONS.c.job_id],
                                        set_={"revision": REVISIONS.c.revision + 1})


# Built once: the writer runs these in every commit, and building them cost more than running them.
RAISE_REVISION = {"postgresql": _raise_revision(postgresql), "sqlite": _raise_revision(sqlite)}
FORGET_JUDGEMENTS = JUDGEMENTS.delete().where(
    JUDGEMENTS.c.job_id == bindparam("job"),
    or_(JUDGEMENTS.c.started_at >= bindparam("first", type_=UTCDateTime),
        JUDGEMENTS.c.started_at >= select(RUNS.c.started_at)
        .where(RUNS.c.id == bindparam("rid")).scalar_subquery()))


async def note_writes(conn: AsyncConnection, touched: dict[int, tuple[int, datetime]]) -> None:
    """Inside the writer's transaction, before the runs' summary columns change: raise the
    revision of every job written to, and forget the judgements its write may change —
    from the earliest of each touched run's start (as stored) and its new events onward.
    `touched`: run id -> (job id, the earliest `at` of its new events). Jobs in id order,
    so two writers (or a writer and `keep_judgements`) always lock revision rows alike."""
    if not touched:
        return
    jobs = sorted({job_id for job_id, _ in touched.values()})
    await conn.execute(RAISE_REVISION[conn.dialect.name], [{"job": job_id} for job_id in jobs])
    await conn.execute(FORGET_JUDGEMENTS, [{"job": job_id, "rid": run_id, "first": at}
                                           for run_id, (job_id, at) in sorted(touched.items())])


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
            .where(JUDGEMENTS.c.run_id.in_(ids[start:start + IDS_PER_QUERY]))
        for row in (await connection.execute(query)).all():
            found[row[0]] = Judgement(*row)
    return found


async def keep_judgements(judgements: Sequence[Judgement], seen: dict[int, int], *,
                          session: AsyncSession) -> int:
    """Store judgements made from telemetry read after revision `seen[job_id]` was; those
    of a job whose revision moved on since are dropped (they may be stale). Commits; returns
    how many were offered for a revision still current."""
    rows = sorted((j for j in judgements if j.job_id in seen), key=lambda j: (j.job_id, j.run_id))
    if not rows:
        return 0
    dialect = postgresql if session.bind is not None and session.bind.dialect.name == "postgresql" \
        else sqlite
    current: Any = select(literal_column("1")).select_from(REVISIONS).where(
        REVISIONS.c.job_id == bindparam("job"), REVISIONS.c.revision == bindparam("seen")
    ).with_for_update(read=True)
    names = ("run_id", "job_id", "started_at", "state", "definition_at")
    values: Any = select(bindparam("rid", type_=BigInteger), bindparam("job", type_=BigInteger),
                    bindparam("started", type_=UTCDateTime), bindparam("state"),
                    bindparam("defined", type_=UTCDateTime)).where(current.exists())
    insert: Any = dialect.insert(JUDGEMENTS).from_select(names, values)
    insert = insert.on_conflict_do_update(index_elements=[JUDGEMENTS.c.run_id], set_={
        name: insert.excluded[name] for name in names[1:]})
    connection = await session.connection()
    await connection.execute(insert, [
        {"rid": j.run_id, "job": j.job_id, "started": j.started_at, "state": j.state,
         "defined": j.definition_at, "seen": seen[j.job_id]} for j in rows])
    await session.commit()
    return len(rows)



async def unjudged_runs(*, limit: int, session: AsyncSession) -> list[Run]:
    """Finished runs without a stored judgement, job by job, oldest first."""
    query = (select(Run).outerjoin(JUDGEMENTS, JUDGEMENTS.c.run_id == Run.id)
             .where(JUDGEMENTS.c.run_id.is_(None), RUNS.c.finished_at.is_not(None))
             .order_by(RUNS.c.job_id, RUNS.c.started_at).limit(limit))
    connection = await session.connection()
    return [Run.model_validate(row._mapping) for row in (await connection.execute(query)).all()]
