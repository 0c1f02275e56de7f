"""A run's progress reports over time: when it passed a number, how far it was at a moment,
how many reports it sent — answered from what the run reported, in the asker's clock."""

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from bot.engine import Answerer
from tests.conftest import Clock, start_api

BERLIN = ZoneInfo("Europe/Berlin")
STARTED = datetime(2026, 11, 26, 7, 0, tzinfo=BERLIN)
# (minute after the start, warehouses done of 64)
REPORTS = ((20, 9), (40, 17), (60, 26), (80, 35))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def answerer(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Answerer]:
    path: Path = tmp_path_factory.mktemp("progress") / "ot.db"
    clock = Clock(STARTED)
    api = await start_api(f"sqlite:///{path}", clock)
    defined = await api.put("/v1/jobs/pallet-forecast", {"timezone": "Europe/Berlin",
                                                         "schedule": "0 7 * * *",
                                                         "expect": {"max_runtime": "2h"}})
    assert defined.status in (200, 201)
    run = {"job": "pallet-forecast", "run": "2026-11-26"}
    events = [{**run, "kind": "start", "at": STARTED.isoformat()},
              {**run, "kind": "milestone", "name": "data-loaded",
               "at": STARTED.replace(minute=12).isoformat()}] + [
        {**run, "kind": "progress", "at": STARTED.replace(hour=7 + minute // 60, minute=minute % 60)
         .isoformat(), "done": done, "total": 64, "unit": "warehouses", "stage": "forecasting"}
        for minute, done in REPORTS]
    await api.send_ok(events)
    clock.now = datetime(2026, 11, 26, 8, 30, tzinfo=BERLIN)
    try:
        yield Answerer(api.engine, clock=clock)
    finally:
        await api.client.close()


async def ask(answerer: Answerer, question: str, zone: str = "Europe/Berlin") -> str:
    return (await answerer.reply(question, timezone=zone)).text


@pytest.mark.asyncio(loop_scope="module")
async def test_when_a_running_job_passed_a_number(answerer: Answerer) -> None:
    answer = await ask(answerer, "when did the pallet forecast pass 20 warehouses?")
    in_new_york = await ask(answerer, "when did the pallet forecast reach 26 warehouses?",
                            "America/New_York")
    not_yet = await ask(answerer, "when did the pallet forecast pass 50 warehouses?")

    assert answer == ("Today's pallet-forecast passed 20 warehouses at 08:00 (26 of 64 "
                      "warehouses reported then).")
    assert "passed 26 warehouses at 02:00" in in_new_york  # 08:00 in Berlin
    assert not_yet.startswith("Not yet — today's pallet-forecast has reported 35 of 64 "
                              "warehouses so far (at 08:20), not 50 warehouses.")


@pytest.mark.asyncio(loop_scope="module")
async def test_how_far_it_was_at_a_moment(answerer: Answerer) -> None:
    answer = await ask(answerer, "how many warehouses had the pallet forecast done by 7:45?")
    before_any = await ask(answerer, "how many warehouses had the pallet forecast done by 7:10?")

    assert answer == ("By 07:45, today's pallet-forecast had done 17 of 64 warehouses "
                      "(reported at 07:40).")
    assert before_any == "Today's pallet-forecast had reported no progress by 07:10."


@pytest.mark.asyncio(loop_scope="module")
async def test_how_many_progress_updates(answerer: Answerer) -> None:
    answer = await ask(answerer, "how many progress updates has the pallet forecast sent today?")

    assert answer.startswith("Today's pallet-forecast sent 4 progress updates: 07:20 (9 of 64 "
                             "warehouses), 07:40 (17 of 64 warehouses)")


@pytest.mark.asyncio(loop_scope="module")
async def test_still_doing_what_a_reached_milestone_marks_as_done(answerer: Answerer) -> None:
    answer = await ask(answerer, "is the pallet forecast still loading data?")

    assert answer.startswith("No — 'data-loaded' was reached at 07:12 (today's pallet-forecast); "
                             "it is now at stage 'forecasting'.")


@pytest.mark.asyncio(loop_scope="module")
async def test_how_long_until_the_run_reaches_its_max_runtime(answerer: Answerer) -> None:
    answer = await ask(answerer, "how long until the pallet forecast hits its max runtime?")

    # Started at 07:00 with a 2 h limit; asked at 08:30.
    assert answer == ("30 min — pallet-forecast's run started at 07:00, so it reaches its 2 h "
                      "`max_runtime` at 09:00.")
