"""Questions answered from a job's schedule alone, in the asker's clock: whether it runs at a
time of day or in a period, its cron, the runs still to come today, the run after another."""

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from bot.engine import Answerer
from tests.conftest import Clock, start_api

BERLIN = ZoneInfo("Europe/Berlin")
# Wednesday 25 November 2026, 10:40 in Berlin (09:40 UTC).
NOW = datetime(2026, 11, 25, 10, 40, tzinfo=BERLIN)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def answerer(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Answerer]:
    path: Path = tmp_path_factory.mktemp("schedules") / "ot.db"
    clock = Clock(NOW)
    api = await start_api(f"sqlite:///{path}", clock)
    for slug, definition in {
        "tracking-sync": {"title": "Tracking sync", "timezone": "UTC", "schedule": "5 */4 * * *"},
        "customs-export": {"title": "Customs export", "timezone": "America/New_York",
                           "schedule": "15 22 * * 1-5"},
        "forecast": {"title": "Forecast", "timezone": "Europe/Berlin", "schedule": "0 7 * * *",
                     "expect": {"milestones": [{"name": "forecast-published", "by": "3h30m"}]}},
    }.items():
        assert (await api.put(f"/v1/jobs/{slug}", definition)).status in (200, 201)
    for day, published in ((21, (9, 45)), (22, (10, 50))):  # the deadline is 10:30
        run = {"job": "forecast", "run": f"{day}"}
        await api.send_ok([
            {**run, "kind": "start", "at": datetime(2026, 11, day, 7, 0, tzinfo=BERLIN).isoformat()},
            {**run, "kind": "duration", "name": "model-fit", "seconds": 1800 if day == 21 else 2400,
             "at": datetime(2026, 11, day, 8, 0, tzinfo=BERLIN).isoformat()},
            {**run, "kind": "milestone", "name": "forecast-published",
             "at": datetime(2026, 11, day, *published, tzinfo=BERLIN).isoformat()},
            {**run, "kind": "finish", "status": "succeeded",
             "at": datetime(2026, 11, day, published[0], published[1] + 1, tzinfo=BERLIN).isoformat()}])
    try:
        yield Answerer(api.engine, clock=clock)
    finally:
        await api.client.close()


async def ask(answerer: Answerer, question: str) -> str:
    return (await answerer.reply(question, timezone="Europe/Berlin")).text


@pytest.mark.asyncio(loop_scope="module")
async def test_whether_it_runs_at_a_time_of_day(answerer: Answerer) -> None:
    no = await ask(answerer, "does the tracking sync run at 03:05?")
    yes = await ask(answerer, "does the tracking sync run at 05:05?")  # 04:05 UTC

    assert no.startswith("No — Tracking sync does not run at 03:05 your time: it runs every 4 h")
    assert no.endswith("— at 01:05, 05:05, 09:05, 13:05, 17:05 and 21:05 your time.")
    assert yes.startswith("Yes — Tracking sync runs at 05:05 your time")


@pytest.mark.asyncio(loop_scope="module")
async def test_its_cron_and_the_runs_still_to_come_today(answerer: Answerer) -> None:
    cron = await ask(answerer, "what cron does the tracking sync use")
    left = await ask(answerer, "how many syncs are still to come today?")
    after = await ask(answerer, "when's the sync after the 09:05 one")

    assert cron.startswith("Tracking sync runs on cron `5 */4 * * *` in UTC time")
    assert left.startswith("3 more runs of Tracking sync due today: at 13:05, 17:05 and 21:05.")
    assert after.startswith("The Tracking sync run after the 09:05 one is at 13:05")


@pytest.mark.asyncio(loop_scope="module")
async def test_whether_it_is_due_in_a_period(answerer: Answerer) -> None:
    tonight = await ask(answerer, "is the customs export going to run tonight?")
    sunday = await ask(answerer, "was the customs export supposed to run on sunday?")

    # Wednesday 22:15 in New York is Thursday 04:15 in Berlin, within tonight.
    assert tonight.startswith("Yes — Customs export is due to run tonight: tomorrow at 04:15")
    # Sunday in Berlin: Friday's 22:15 New York run was Saturday 04:15 here; nothing on Sunday.
    assert sunday.startswith("No — Customs export was not scheduled to run on Sunday 22 Nov")


@pytest.mark.asyncio(loop_scope="module")
async def test_whether_a_past_run_met_its_deadline(answerer: Answerer) -> None:
    met = await ask(answerer, "forecast on the 21st - out before its deadline?")
    missed = await ask(answerer, "was the forecast published before its deadline on the 22nd?")

    assert met == ("Yes — Forecast reached 'forecast-published' at 09:45 on Saturday 21 Nov, "
                   "before its 10:30 deadline.")
    assert missed == ("No — Forecast reached 'forecast-published' only at 10:50, after its 10:30 "
                      "deadline.")


@pytest.mark.asyncio(loop_scope="module")
async def test_how_long_a_timed_step_usually_takes(answerer: Answerer) -> None:
    step = await ask(answerer, "how long does the model fit in the forecast usually take?")
    whole = await ask(answerer, "how long does the forecast usually take?")

    assert step == "Model fit in Forecast took 30 min and 40 min in its successful runs so far."
    assert "Model fit" not in whole
