"""What the watcher keeps so that it reads only what changed stays exact: the writer marks
every run it writes to in the write's own transaction, a mark is cleared only by a judgement
that saw the run as written, a history made of kept facts is the history made of events, and
an existing database upgrades with the runs the previous watcher would still have judged
marked."""

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from alembic import command
from alembic.config import Config
from sqlalchemy import BindParameter, Connection, bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import history, job_state, queries, watch
from storage.engine import MIGRATIONS, create_engine, migrate
from storage.job_state import PastRun, PastRuns, RunFacts, facts_of
from storage.models import Run
from storage.types import UTCDateTime
from storage.watch import Watched
from storage.writer import IncomingEvent
from tests.conftest import write_events

DAY = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)


def night(job: str, day: int, rng: random.Random, *, outcome: str = "succeeded") -> list[IncomingEvent]:
    """A run with every kind a history reads, at irregular times, and some it does not."""
    key = f"{job}-{day}"
    start = DAY + timedelta(days=day, minutes=rng.randint(0, 90))
    events = [IncomingEvent(job, key, "start", start)]
    at = start
    for step in range(rng.randint(2, 9)):
        at += timedelta(seconds=rng.randint(1, 900))
        kind = rng.choice(["metric", "metric", "milestone", "payload", "progress", "note"])
        if kind == "metric":
            events.append(IncomingEvent(job, key, "metric", at, name=rng.choice(["rows", "skipped"]),
                                        value=float(rng.randint(1, 100))))
        elif kind == "milestone":
            events.append(IncomingEvent(job, key, "milestone", at, name=rng.choice(["read", "load", "done"]),
                                        status=rng.choice(["reached", "reached", "failed"])))
        elif kind == "payload":
            events.append(IncomingEvent(job, key, "payload", at, name="file", data={"data": {"n": step}}))
        else:
            events.append(IncomingEvent(job, key, kind, at, data={"text": "x"}))
    if outcome != "running":
        events.append(IncomingEvent(job, key, "finish", at + timedelta(seconds=rng.randint(1, 60)),
                                    status=outcome))
    return events


async def runs_of(engine: AsyncEngine, slug: str) -> list[Run]:
    async with AsyncSession(engine) as session:
        job = await queries.get_job(slug, session=session)
        assert job is not None
        return list(await queries.list_runs(job, oldest_first=True, limit=None, session=session))


async def pending(engine: AsyncEngine) -> dict[str, bool]:
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT key, pending FROM runs ORDER BY id"))).all()
    return {key: bool(mark) for key, mark in rows}


async def test_a_history_of_kept_facts_is_the_history_of_events(engine: AsyncEngine) -> None:
    rng = random.Random(11)
    events = [e for day in range(40) for e in night(
        "import", day, rng, outcome=rng.choice(["succeeded"] * 5 + ["failed", "partial"]))]
    await write_events(engine, events)
    runs = await runs_of(engine, "import")
    succeeded = [run for run in runs if run.status == "succeeded"]
    async with AsyncSession(engine) as session:
        expected = await history.successful_histories(runs, session=session)
        timelines = await watch.history_events([run.id or 0 for run in succeeded], session=session)
    kept = sorted((PastRun(run.id or 0, run.started_at, run.finished_at or run.started_at,
                           RunFacts.from_json(facts_of(run.started_at, run.finished_at or run.started_at,
                                                       timelines[run.id or 0]).to_json()))
                   for run in succeeded), key=lambda past: (past.started_at, past.id))

    for run in runs:
        before = [past for past in kept if past.started_at < run.started_at][-20:]
        made, read = PastRuns(before), expected[run.id or 0]
        assert ([r.id for r in made.runs], made.durations, made.metrics, made.milestones,
                made.milestone_order, made.longest_gaps, made.outputs_seen) == (
            [r.id for r in read.runs], read.durations, read.metrics, read.milestones,
            read.milestone_order, read.longest_gaps, read.outputs_seen)


async def keep(engine: AsyncEngine, kept: list[Watched], judged: list[Run],
               seen: dict[int, int]) -> set[int]:
    async with AsyncSession(engine) as session:
        still = await watch.keep_judged(kept, [(run.id or 0, run.job_id) for run in judged], seen,
                                        session=session)
        await session.commit()
    return still


async def test_every_write_marks_its_runs_and_only_a_judgement_that_saw_it_clears_the_mark(
        engine: AsyncEngine) -> None:
    rng = random.Random(3)
    await write_events(engine, night("import", 0, rng) + night("import", 1, rng, outcome="running"))
    first, second = await runs_of(engine, "import")
    assert await pending(engine) == {"import-0": True, "import-1": True}

    async with AsyncSession(engine) as session:
        seen = await job_state.revisions(session=session)
        going = await watch.watched_runs([first.job_id], DAY, session=session)
    assert [(w.run.key, w.pending, w.kept) for w in going] == [("import-0", True, False),
                                                                ("import-1", True, False)]
    late = DAY + timedelta(days=1, hours=3)  # a write the judgement below did not see
    await write_events(engine, [IncomingEvent("import", "import-1", "progress", late)])
    assert await keep(engine, [], [first, second], seen) == set()
    assert await pending(engine) == {"import-0": True, "import-1": True}

    async with AsyncSession(engine) as session:
        seen = await job_state.revisions(session=session)
    silence = Watched(second.id or 0, second.job_id, second.started_at, DAY, stall_after=900.0)
    assert await keep(engine, [silence], [first, second], seen) == {first.job_id}
    async with AsyncSession(engine) as session:
        going = await watch.watched_runs([first.job_id], DAY, session=session)
    assert await pending(engine) == {"import-0": False, "import-1": False}
    assert [(w.run.key, w.pending, w.kept, w.stall_after) for w in going] == [
        ("import-1", False, True, 900.0)]  # the finished run is no longer looked at

    # Its own write leaves its silence limit (worked out from the runs before it) in place …
    await write_events(engine, [IncomingEvent("import", "import-1", "progress", late)])
    async with AsyncSession(engine) as session:
        going = await watch.watched_runs([first.job_id], DAY, session=session)
        judged = await job_state.stored_judgements([second.id or 0], session=session)
    assert [(w.run.key, w.pending, w.kept) for w in going] == [("import-1", True, True)]
    assert judged == {}  # a silence limit is no judgement the bot could use
    # … a late event of the run before it does not.
    await write_events(engine, [IncomingEvent("import", "import-0", "metric", DAY + timedelta(minutes=5),
                                              name="rows", value=1.0)])
    async with AsyncSession(engine) as session:
        going = await watch.watched_runs([first.job_id], DAY, session=session)
    assert [(w.run.key, w.pending, w.kept) for w in going] == [("import-0", True, False),
                                                                ("import-1", True, False)]


async def test_keeping_waits_for_a_writer_about_to_raise_the_revision(postgres_url: str) -> None:
    """Two replicas on one PostgreSQL: a judgement kept while another replica's writer
    commits waits for it, and then leaves the run marked."""
    engine = create_engine(postgres_url)
    try:
        await migrate(engine)
        await write_events(engine, night("import", 0, random.Random(5)))
        [run] = await runs_of(engine, "import")
        async with AsyncSession(engine) as session:
            seen = await job_state.revisions(session=session)
        async with engine.connect() as writer:
            transaction = await writer.begin()
            await job_state.note_writes(writer, {run.id or 0: (run.job_id, run.started_at)})
            keeping = asyncio.create_task(keep(engine, [], [run], seen))
            await asyncio.sleep(0.5)
            assert not keeping.done()  # waits on the revision row the writer holds
            await transaction.commit()
        assert await keeping == set()
        assert await pending(engine) == {"import-0": True}
    finally:
        await engine.dispose()


def upgrade_to(revision: str) -> Callable[[Connection], None]:
    def upgrade(connection: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return upgrade


def at(*names: str) -> list[BindParameter[datetime]]:
    return [bindparam(name, type_=UTCDateTime) for name in names]


async def test_an_existing_database_upgrades_with_what_the_last_watcher_would_judge_marked(
        database_url: str) -> None:
    engine = create_engine(database_url)
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade_to("0007"))
        async with engine.begin() as conn:
            for job_id, checked in ((1, now - timedelta(hours=2)), (2, None)):
                await conn.execute(text(
                    "INSERT INTO jobs (id, slug, title, description, aliases, owner, expect, alert,"
                    " audience, checked_until, created_at, updated_at) VALUES (:id, :slug, :slug,"
                    " '', '[]', '', '{}', '[]', '[]', :checked, :created, :created)"
                ).bindparams(*at("checked", "created")),
                    {"id": job_id, "slug": f"job-{job_id}", "checked": checked,
                     "created": now - timedelta(days=30)})
            runs = [  # (job, key, started hours ago, last event hours ago, finished)
                (1, "judged", 5, 4, True), (1, "reported-since", 5, 1, True),
                (1, "going", 3, 3, False), (1, "old", 24 * 9, 24 * 9 - 1, True),
                (2, "never-checked", 10, 9, True), (2, "never-checked-old", 24 * 9, 24 * 9, True)]
            for number, (job_id, key, started, last, finished) in enumerate(runs, start=1):
                await conn.execute(text(
                    "INSERT INTO runs (id, job_id, key, status, started_at, has_start, finished_at,"
                    " last_event_at, attributes, created_at) VALUES (:id, :job, :key, :status,"
                    " :started, true, :finished, :last, '{}', :started)"
                ).bindparams(*at("started", "finished", "last")),
                    {"id": number, "job": job_id, "key": key,
                     "status": "succeeded" if finished else "running",
                     "started": now - timedelta(hours=started), "last": now - timedelta(hours=last),
                     "finished": now - timedelta(hours=last) if finished else None})
            await conn.execute(text(
                "INSERT INTO run_judgements (run_id, job_id, started_at, state, definition_at)"
                " VALUES (1, 1, :started, 'succeeded', :defined)").bindparams(*at("started", "defined")),
                {"started": now - timedelta(hours=5), "defined": now - timedelta(days=30)})
        await migrate(engine)
        marks = await pending(engine)
        async with AsyncSession(engine) as session:
            kept = await job_state.stored_judgements([1], session=session)
            job = await queries.get_job("job-1", session=session)
    finally:
        await engine.dispose()

    assert marks == {"judged": False, "reported-since": True, "going": False, "old": False,
                     "never-checked": True, "never-checked-old": False}
    assert [judgement.state for judgement in kept.values()] == ["succeeded"]
    assert job is not None and (job.defined_at, job.definition_digest) == (None, None)
