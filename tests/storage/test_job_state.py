"""What answers keep between questions stays exact on every replica: each write to a job's
telemetry raises its revision and forgets the run judgements it may change, in the writer's
own transaction, and a judgement made from telemetry a write overtook is never stored."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import job_state, queries
from storage.engine import create_engine, migrate
from storage.job_state import Judgement
from storage.models import Run
from storage.writer import IncomingEvent
from tests.conftest import write_events

DAY = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def night(job: str, day: int) -> list[IncomingEvent]:
    start = DAY + timedelta(days=day)
    key = f"night-{day}"
    return [IncomingEvent(job, key, "start", start),
            IncomingEvent(job, key, "milestone", start + timedelta(minutes=5), name="file-read",
                          status="reached"),
            IncomingEvent(job, key, "finish", start + timedelta(minutes=30), status="succeeded")]




async def runs_of(engine: AsyncEngine, slug: str) -> list[Run]:
    async with AsyncSession(engine) as session:
        job = await queries.get_job(slug, session=session)
        assert job is not None
        return list(await queries.list_runs(job, oldest_first=True, session=session))


async def judge_all(engine: AsyncEngine, slug: str, seen: dict[int, int]) -> int:
    """Store a judgement of every run of the job, as made at the revisions `seen`."""
    runs = await runs_of(engine, slug)
    async with AsyncSession(engine) as session:
        job = await queries.get_job(slug, session=session)
        assert job is not None
        return await job_state.keep_judgements(
            [Judgement(run.id or 0, run.job_id, run.started_at, "succeeded", job.updated_at)
             for run in runs], seen, session=session)


async def stored(engine: AsyncEngine, slug: str) -> list[str]:
    runs = await runs_of(engine, slug)
    async with AsyncSession(engine) as session:
        found = await job_state.stored_judgements([run.id or 0 for run in runs], session=session)
    return [run.key for run in runs if run.id in found]


async def revisions(engine: AsyncEngine) -> dict[int, int]:
    async with AsyncSession(engine) as session:
        return await job_state.revisions(session=session)


async def test_every_write_raises_the_revision_of_the_jobs_it_wrote_to(engine: AsyncEngine) -> None:
    await write_events(engine, night("import", 0) + night("export", 0))
    first = await revisions(engine)
    await write_events(engine, night("import", 1))
    second = await revisions(engine)

    [import_id] = {run.job_id for run in await runs_of(engine, "import")}
    [export_id] = {run.job_id for run in await runs_of(engine, "export")}
    assert second[import_id] == first[import_id] + 1
    assert second[export_id] == first[export_id]


async def test_a_late_event_forgets_the_judgements_of_its_run_and_every_later_one(
        engine: AsyncEngine) -> None:
    await write_events(engine, [e for day in range(4) for e in night("import", day)] + night("export", 2))
    await judge_all(engine, "import", await revisions(engine))
    await judge_all(engine, "export", await revisions(engine))
    assert await stored(engine, "import") == ["night-0", "night-1", "night-2", "night-3"]

    late = DAY + timedelta(days=1, minutes=20)
    await write_events(engine, [IncomingEvent("import", "night-1", "metric", late, name="rows", value=5)])

    assert await stored(engine, "import") == ["night-0"]  # night-1's history holds night-0
    assert await stored(engine, "export") == ["night-2"]  # another job: untouched


async def test_a_judgement_made_before_a_write_is_not_stored(engine: AsyncEngine) -> None:
    await write_events(engine, night("import", 0))
    seen = await revisions(engine)
    await write_events(engine, night("import", 1))  # overtakes whatever was read at `seen`

    assert await judge_all(engine, "import", seen) == 2  # offered…
    assert await stored(engine, "import") == []  # …and refused
    await judge_all(engine, "import", await revisions(engine))
    assert await stored(engine, "import") == ["night-0", "night-1"]


async def test_storing_waits_for_a_writer_about_to_raise_the_revision(postgres_url: str) -> None:
    """Two replicas on one PostgreSQL: a judgement being stored while another replica's
    writer commits waits for it, and then sees that its reading is out of date."""
    engine = create_engine(postgres_url)
    try:
        await migrate(engine)
        await write_events(engine, night("import", 0))
        seen = await revisions(engine)
        [run] = await runs_of(engine, "import")
        async with engine.connect() as writer:
            transaction = await writer.begin()
            await job_state.note_writes(writer, {run.id or 0: (run.job_id, run.started_at)})
            storing = asyncio.create_task(judge_all(engine, "import", seen))
            await asyncio.sleep(0.5)
            assert not storing.done()  # waits on the revision row the writer holds
            await transaction.commit()
        await storing
        assert await stored(engine, "import") == []
    finally:
        await engine.dispose()
