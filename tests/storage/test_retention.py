"""Retention: old runs lose their detail events but keep their summary, so every history
answer (usual values, milestones, longest silences, the latest metric names) is the same
before and after pruning; recent runs are not touched; SQLite gives the space back."""

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.baselines import usual
from storage import history, queries, watch
from storage.engine import create_engine, migrate
from storage.models import Job, Run
from storage.retention import OldRun, Pruner, StoredEvent, doomed_events
from storage.writer import EventWriter, IncomingEvent

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
RETENTION = timedelta(days=400)
CUTOFF = NOW - RETENTION
DETAIL_KINDS = {"progress", "note", "duration"}


def night(job: str, key: str, start: datetime, rng: random.Random, *,
          outcome: str = "succeeded") -> list[IncomingEvent]:
    """One run with every kind of event, at irregular times; metrics reported several times."""
    events = [IncomingEvent(job, key, "start", start, key=f"{key}-start",
                            data={"attributes": {"host": "etl-1"}})]
    at = start
    for step in range(rng.randint(3, 8)):
        at += timedelta(seconds=rng.randint(5, 600))
        kind = rng.choice(["progress", "metric", "payload", "note", "duration", "metric"])
        if kind == "progress":
            events.append(IncomingEvent(job, key, "progress", at, data={"done": step, "total": 10}))
        elif kind == "metric":
            events.append(IncomingEvent(job, key, "metric", at, name="rows",
                                        value=float(rng.randint(90, 110)), data={"unit": "rows"}))
        elif kind == "payload":
            events.append(IncomingEvent(job, key, "payload", at, name="input-file",
                                        data={"data": {"path": f"/data/{key}.csv"}}))
        elif kind == "note":
            events.append(IncomingEvent(job, key, "note", at, data={"text": "x" * 200}))
        else:
            events.append(IncomingEvent(job, key, "duration", at, name="read",
                                        data={"seconds": 3.5}))
        if step in (1, 3):
            events.append(IncomingEvent(job, key, "milestone", at, name=f"step-{step}",
                                        status="reached"))
    at += timedelta(seconds=rng.randint(5, 900))
    events.append(IncomingEvent(job, key, "metric", at, name="skipped",
                                value=float(rng.randint(30, 50))))
    if outcome != "running":
        at += timedelta(seconds=rng.randint(1, 60))
        events.append(IncomingEvent(job, key, "finish", at, status=outcome, data={"text": outcome}))
    return events


async def seed(engine: AsyncEngine) -> None:
    """Three jobs: a nightly one across 500 days, a monthly one (so the history of its recent
    runs reaches far back into pruned ones), and one with an old run that never finished."""
    rng = random.Random(7)
    writer = EventWriter(engine)
    writer.start()
    try:
        batch: list[IncomingEvent] = []
        for day in range(500, 0, -1):
            start = NOW - timedelta(days=day, hours=rng.randint(1, 5))
            outcome = "failed" if day % 17 == 0 else "partial" if day % 23 == 0 else "succeeded"
            batch += night("nightly", f"n{day}", start, rng, outcome=outcome)
            if day % 30 == 0:
                batch += night("monthly", f"m{day}", start, rng)
            if len(batch) >= 500 or day == 1:
                await writer.write(batch, NOW)
                batch = []
        await writer.write(night("stuck", "s1", NOW - timedelta(days=450), rng, outcome="running"), NOW)
        await writer.write(night("stuck", "s2", NOW - timedelta(days=2), rng), NOW)
    finally:
        await writer.close()


@pytest.fixture
async def engine(engine: AsyncEngine) -> AsyncEngine:
    """The migrated test database, seeded with the story above."""
    await seed(engine)
    return engine


async def answers(engine: AsyncEngine) -> dict[str, Any]:
    """What every history query answers, for every job and every run's "before"."""
    result: dict[str, Any] = {}
    async with AsyncSession(engine) as session:
        jobs = (await session.exec(select(Job))).all()
        runs = (await session.exec(select(Run).order_by(Run.id))).all()  # type: ignore[arg-type]
        result["runs"] = [r.model_dump() for r in runs]
        result["latest metric names"] = await history.last_run_metric_names(session=session)
        result["recent starts"] = await history.recent_starts(session=session)
        for job in jobs:
            for before in [NOW, *(r.started_at for r in runs if r.job_id == job.id)]:
                h = await history.successful_history(job, before=before, session=session)
                result[f"{job.slug} before {before}"] = (
                    [r.id for r in h.runs], h.metrics, h.milestones, h.milestone_order,
                    h.outputs_seen, h.longest_gaps, h.durations,
                    {name: usual(values) for name, values in h.metrics.items()})
        for run in runs:
            result[f"milestones of {run.id}"] = dict(
                await watch.reached_milestones([run.id or 0], session=session))
    return result


async def events_by_run(engine: AsyncEngine) -> dict[int, list[tuple[Any, ...]]]:
    async with engine.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT run_id, id, kind, name, value, status, at FROM events ORDER BY run_id, at, id"
        ))).all()
    by_run: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_run.setdefault(row[0], []).append(tuple(row[1:]))
    return by_run


async def old_run_ids(engine: AsyncEngine) -> dict[int, str]:
    async with AsyncSession(engine) as session:
        runs = (await session.exec(select(Run).where(Run.started_at < CUTOFF))).all()
        return {r.id or 0: r.status for r in runs}


async def test_old_runs_lose_their_details_and_recent_runs_are_untouched(engine: AsyncEngine) -> None:
    before = await events_by_run(engine)
    old = await old_run_ids(engine)

    report = await Pruner(engine, pause_seconds=0, batch_rows=100).prune(CUTOFF)

    after = await events_by_run(engine)
    assert report.finished and report.deleted > 0 and report.transactions > 1
    assert report.deleted == sum(map(len, before.values())) - sum(map(len, after.values()))
    assert len(old) > 100
    for run_id, events in before.items():
        if run_id not in old:
            assert after[run_id] == events  # recent runs: every event as it was
            continue
        kept = [e[1:] for e in after[run_id]]  # kept events are moved: new ids, same order
        assert sorted(after[run_id]) == after[run_id]
        kinds = [e[0] for e in kept]
        assert not DETAIL_KINDS & set(kinds)
        assert [e[1:] for e in events if e[1] in ("start", "finish", "milestone")] == \
            [e for e in kept if e[0] in ("start", "finish", "milestone")]
        metrics = [e for e in kept if e[0] == "metric"]
        last = {e[2]: e[1:] for e in events if e[1] == "metric"}
        assert set(last.values()) <= set(metrics)  # each name's final value stays
        if old[run_id] != "succeeded":  # only what "usual" learns from keeps any more
            assert metrics == sorted(last.values(), key=lambda e: e[4])
            assert "payload" not in kinds


async def test_history_and_usual_answers_are_the_same_after_pruning(engine: AsyncEngine) -> None:
    expected = await answers(engine)
    await Pruner(engine, pause_seconds=0).prune(CUTOFF)
    assert await answers(engine) == expected


async def test_a_second_pass_finds_nothing_and_a_later_cutoff_takes_the_next_runs(
    engine: AsyncEngine
) -> None:
    pruner = Pruner(engine, pause_seconds=0)
    await pruner.prune(CUTOFF - timedelta(days=50))
    assert (await pruner.prune(CUTOFF - timedelta(days=50))).runs == 0
    later = await pruner.prune(CUTOFF)
    assert 40 <= later.runs <= 60 and later.deleted > 0
    assert (await Pruner(engine, pause_seconds=0).prune(CUTOFF)).deleted == 0  # a new process


async def test_losing_the_lead_stops_a_pass_between_transactions(engine: AsyncEngine) -> None:
    allowed = iter([True, True])
    report = await Pruner(engine, pause_seconds=0, batch_rows=50).prune(
        CUTOFF, keep_going=lambda: next(allowed, False))
    assert not report.finished and report.transactions == 2
    assert report.deleted + report.moved == 100


def moment(event_id: int, kind: str, seconds: float, name: str | None = None) -> StoredEvent:
    return StoredEvent(event_id, 1, kind, name, True, NOW + timedelta(seconds=seconds))


def longest_gap(run: OldRun, events: list[StoredEvent]) -> timedelta:
    times = sorted([run.started_at, run.finished_at or run.started_at,
                    *(e.at for e in events if e.kind in ("metric", "milestone", "payload"))])
    return max(b - a for a, b in pairwise(times))


def test_a_successful_run_keeps_exactly_its_longest_silence() -> None:
    rng = random.Random(3)
    for _ in range(300):
        run = OldRun(1, "succeeded", NOW, NOW + timedelta(seconds=rng.randint(1, 5000)))
        events = [moment(i, rng.choice(["metric", "payload", "progress", "milestone", "note"]),
                         rng.uniform(-10, 5010), name=rng.choice(["a", "b"])) for i in range(40)]
        doomed = set(doomed_events(run, events))
        kept = [e for e in events if e.id not in doomed]
        assert longest_gap(run, kept) == longest_gap(run, events)
        assert any(e.kind == "payload" for e in kept) == any(e.kind == "payload" for e in events)


def test_steady_metrics_of_a_failed_run_all_go_but_the_last() -> None:
    run = OldRun(1, "failed", NOW, NOW + timedelta(hours=1))
    events = [moment(i, "metric", i * 10, name="rows") for i in range(100)]
    events.append(moment(500, "progress", 5))
    assert sorted(doomed_events(run, events)) == [*range(99), 500]


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "opentrace.db"


async def test_a_new_sqlite_file_gives_pruned_space_back_and_stops_growing(
    sqlite_path: Path
) -> None:
    engine = create_engine(f"sqlite:///{sqlite_path}")
    try:
        await migrate(engine)
        await seed(engine)
        seeded = await pragma(engine, "page_count")
        report = await Pruner(engine, pause_seconds=0).prune(CUTOFF)
        pruned = await pragma(engine, "page_count")
        assert await pragma(engine, "auto_vacuum") == 2  # incremental
        assert await pragma(engine, "freelist_count") == 0
        assert report.pages_freed > 0 and pruned <= seeded - report.pages_freed

        # As many new events as were deleted (and their runs) take about the space pruning
        # gave back: the file ends where it was before pruning, give or take a few pages.
        writer = EventWriter(engine)
        writer.start()
        rng, written = random.Random(11), 0
        while written < report.deleted:
            events = night("later", f"l{written}", NOW, rng)
            await writer.write(events, NOW)
            written += len(events)
        await writer.close()
        assert await pragma(engine, "page_count") <= seeded * 1.02
    finally:
        await engine.dispose()


async def test_an_older_small_sqlite_file_is_switched_to_incremental_vacuum(sqlite_path: Path) -> None:
    with sqlite3.connect(sqlite_path) as connection:  # made before auto_vacuum was set
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE made_long_ago (x)")
    engine = create_engine(f"sqlite:///{sqlite_path}")
    try:
        await migrate(engine)
        await seed(engine)
        assert await pragma(engine, "auto_vacuum") == 0
        await Pruner(engine, pause_seconds=0).prune(CUTOFF)
        assert await pragma(engine, "auto_vacuum") == 2
        assert await pragma(engine, "freelist_count") == 0
    finally:
        await engine.dispose()


async def pragma(engine: AsyncEngine, name: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(f"PRAGMA {name}"))).scalar_one())


async def test_run_listings_and_a_run_timeline_still_answer(engine: AsyncEngine) -> None:
    await Pruner(engine, pause_seconds=0).prune(CUTOFF)
    async with AsyncSession(engine) as session:
        job = await queries.get_job("nightly", session=session)
        assert job is not None
        runs = await queries.list_runs(job, limit=None, session=session)
        oldest = runs[-1]
        timeline = await queries.run_events(oldest, session=session)
    assert len(runs) == 500
    assert timeline[0].kind == "start" and timeline[-1].kind == "finish"
    assert timeline[0].data == {"attributes": {"host": "etl-1"}}
