"""All-jobs answers and run counts come from what the engine keeps between questions (job
snapshots, stored run judgements) and are the same, word for word, as answers worked out
afresh — also after late telemetry changes a judgement, and on a second replica."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.answer_state import AnswerState, Snapshot
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


async def period_runs(engine: AsyncEngine, state: AnswerState, *, until: datetime,
                      limit: int = 500) -> dict[str, list[tuple[str, str]]]:
    """Each job's judged runs of the night before NOW, by slug, as (run key, state)."""
    since, end = FIRST + timedelta(days=22, hours=12), FIRST + timedelta(days=23, hours=12)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        jobs = {job.id or 0: job for job in await queries.all_jobs(session=session)}
        found = await state.judged_runs(jobs, since=since, end=end, until=until, limit=limit,
                                        session=session)
    return {jobs[job_id].slug: [(j.run.key, j.state) for j in runs] for job_id, runs in found.items()}


async def test_a_period_is_read_again_only_for_the_jobs_written_to(
        engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    await write_events(engine, [e for day in range(23) for job in ("nightly-import", "export")
                                for e in night(job, day)]
                       + night("nightly-import", 23, reached=("file-read",)) + night("export", 23))
    read: list[int] = []
    runs_of_jobs = queries.runs_of_jobs

    async def counted(job_ids: list[int], **kwargs: Any) -> Any:
        read.append(len(job_ids))
        return await runs_of_jobs(job_ids, **kwargs)

    monkeypatch.setattr(queries, "runs_of_jobs", counted)
    kept, afresh = AnswerState(), AnswerState(keep=False)
    first = await period_runs(engine, kept, until=NOW)
    assert first == await period_runs(engine, afresh, until=NOW)
    assert first == {"nightly-import": [("2026-11-25", "ended_early")],
                     "export": [("2026-11-25", "succeeded")]}
    read.clear()
    later = NOW + timedelta(hours=1)  # the clock moves on within the period: nothing is read
    assert await period_runs(engine, kept, until=later) == first
    assert read == []
    # Before the runs started, from what was kept.
    assert await period_runs(engine, kept, until=FIRST + timedelta(days=23)) == \
        {"nightly-import": [], "export": []}

    await write_events(engine, [IncomingEvent(
        "nightly-import", "2026-11-25", "milestone", FIRST + timedelta(days=23, minutes=90),
        name="report-published", status="reached")])
    read.clear()
    second = await period_runs(engine, kept, until=later)
    assert read == [1]  # the import alone
    assert second == await period_runs(engine, afresh, until=later)
    assert second["nightly-import"] == [("2026-11-25", "succeeded")]


async def test_a_period_with_more_runs_than_the_limit_is_read_as_asked(engine: AsyncEngine) -> None:
    start = FIRST + timedelta(days=23)
    reruns = [replace(e, run=f"rerun-{i}", at=e.at + timedelta(hours=i))
              for i in (1, 2) for e in night("nightly-import", 23, minutes=5)]
    await write_events(engine, night("nightly-import", 23) + reruns)
    kept, afresh = AnswerState(), AnswerState(keep=False)
    until = start + timedelta(minutes=90)
    assert await period_runs(engine, kept, until=until + timedelta(hours=4), limit=2) == \
        await period_runs(engine, afresh, until=until + timedelta(hours=4), limit=2)
    assert await period_runs(engine, kept, until=until, limit=2) == \
        await period_runs(engine, afresh, until=until, limit=2) == \
        {"nightly-import": [("rerun-1", "succeeded"), ("2026-11-25", "succeeded")]}


def test_a_snapshot_works_out_the_usual_gap_between_starts_once() -> None:
    starts = [FIRST + timedelta(days=day, minutes=minutes) for day, minutes in
              ((0, 0), (1, 0), (2, 30), (3, 0), (4, 0))]
    snapshot = Snapshot(1, None, starts)
    assert snapshot.usual_gap == (86_400.0, 1.4826 * 900)  # gaps 1 d, 1 d 30 min, 23 h 30 min, 1 d
    assert snapshot.usual_gap is snapshot.usual_gap
    assert Snapshot(1, None, starts[:3]).usual_gap is None  # two gaps say nothing usual yet
