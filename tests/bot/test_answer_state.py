"""All-jobs answers and run counts come from what the engine keeps between questions (job
snapshots, stored run judgements) and are the same, word for word, as answers worked out
afresh — also after late telemetry changes a judgement, and on a second replica."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engine import Answerer
from storage import job_state, queries
from storage.writer import IncomingEvent
from tests.conftest import write_events

FIRST = datetime(2026, 11, 2, 0, 12, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
QUESTIONS = ("did anything fail last night?", "did everything go ok last night?",
             "how many times did the import run this month?", "show the last 3 runs of the import",
             "status of everything", "anything late?", "how many times did the export fail this month?")


def night(job: str, day: int, *, reached: tuple[str, ...] = ("file-read", "report-published"),
          minutes: int = 100) -> list[IncomingEvent]:
    start = FIRST + timedelta(days=day)
    key = f"{start:%Y-%m-%d}"
    events = [IncomingEvent(job, key, "start", start)]
    for i, name in enumerate(reached):
        events.append(IncomingEvent(job, key, "milestone", start + timedelta(minutes=10 * (i + 1)),
                                    name=name, status="reached"))
    events.append(IncomingEvent(job, key, "finish", start + timedelta(minutes=minutes),
                                status="succeeded"))
    return events


@pytest.fixture
async def engine(engine: AsyncEngine) -> AsyncEngine:
    """The migrated test database, with the import defined the day before the first night."""
    async with AsyncSession(engine) as session:
        await queries.put_job("nightly-import", {"title": "Nightly import", "aliases": ["the import"]},
                              FIRST - timedelta(days=1), session=session)
    return engine


async def answers(answerer: Answerer) -> list[str]:
    return [(await answerer.reply(q, timezone="Europe/Berlin")).text for q in QUESTIONS]


async def test_kept_answers_are_the_answers_worked_out_afresh(engine: AsyncEngine) -> None:
    nights = [e for day in range(23) for job in ("nightly-import", "export")
              for e in night(job, day)]
    await write_events(engine, nights + night("nightly-import", 23, reached=("file-read",))
                + night("export", 23))
    kept = Answerer(engine, clock=lambda: NOW)
    afresh = Answerer(engine, clock=lambda: NOW, keep_state=False)

    first = await answers(kept)
    assert first == await answers(afresh)
    assert first == await answers(kept)  # now from what was kept
    assert first[0].startswith("Yes — 1 of 2 jobs failed last night: Nightly import — ended early")
    async with AsyncSession(engine) as session:
        stored = await job_state.stored_judgements(list(range(1, 100)), session=session)
    assert len(stored) == 48  # every run counted was judged once, for every replica

    # The missing milestone arrives late: the night was fine after all.
    late = FIRST + timedelta(days=23, minutes=90)
    await write_events(engine, [IncomingEvent("nightly-import", f"{FIRST + timedelta(days=23):%Y-%m-%d}",
                                       "milestone", late, name="report-published", status="reached")])
    second = await answers(kept)
    assert second == await answers(afresh)
    assert second[0].startswith("No — nothing failed last night: 2 runs of 2 jobs, all fine.")

    # A new night, seen by a second replica that kept nothing yet and by the first one.
    await write_events(engine, night("export", 24, reached=("file-read",), minutes=20))
    later = NOW + timedelta(days=1)
    replica = Answerer(engine, clock=lambda: later)
    assert await answers(replica) == await answers(Answerer(engine, clock=lambda: later,
                                                            keep_state=False))


async def test_a_new_definition_judges_the_runs_again(engine: AsyncEngine) -> None:
    await write_events(engine, [e for day in range(24) for e in night("nightly-import", day)])
    kept = Answerer(engine, clock=lambda: NOW)
    before = await answers(kept)
    async with AsyncSession(engine) as session:
        await queries.put_job("nightly-import", {"expect": {"final_milestone": "archived"}},
                              NOW, session=session)
    after = await answers(kept)
    assert after == await answers(Answerer(engine, clock=lambda: NOW, keep_state=False))
    assert after != before
