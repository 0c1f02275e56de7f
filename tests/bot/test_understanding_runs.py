"""Questions about more than one run, or about one part of a run, answered from what is stored
on the seed story: runs counted by a condition, a number over a period, a milestone asked
about by name, a value across runs, a fact jobs seldom report — and never a confident
answer about something that is not stored."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot.engine import Answerer
from tests.bot.story import NOW, tell_the_story
from tests.conftest import Api, Clock, start_api

BERLIN = "Europe/Berlin"


@dataclass
class Told:
    answerer: Answerer
    api: Api
    clock: Clock


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def told(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Told]:
    path: Path = tmp_path_factory.mktemp("runs") / "ot.db"
    clock = Clock(NOW - timedelta(days=8))
    api = await start_api(f"sqlite:///{path}", clock)
    await tell_the_story(api)
    await api.put("/v1/jobs/price-import", {"owner": "Ana Lopez", "timezone": "Europe/Berlin"})
    clock.now = NOW
    try:
        yield Told(Answerer(api.engine, clock=clock), api, clock)
    finally:
        await api.client.close()


async def ask(told: Told, question: str) -> str:
    return (await told.answerer.reply(question, timezone=BERLIN)).text


@pytest.mark.asyncio(loop_scope="module")
async def test_runs_are_counted_by_a_number_they_reported(told: Told) -> None:
    # The seven normal nights skipped 30-50 rows; the bad night 8,911.
    more = await ask(told, "how many nights did the import skip more than 40 rows?")
    fewer = await ask(told, "how many import runs skipped fewer than 40 rows")

    assert more.startswith("5 of 8 runs of Nightly product import so far reported more than 40 "
                           "rows skipped")
    assert "ended early" in more  # the bad night is one of them, and said to be bad
    assert fewer.startswith("3 of 8 runs of Nightly product import so far reported fewer than 40")


@pytest.mark.asyncio(loop_scope="module")
async def test_runs_are_counted_by_a_milestone_they_reached(told: Told) -> None:
    answer = await ask(told, "how many import runs got the report published?")

    assert answer.startswith("7 of 8 runs of Nightly product import so far reached "
                             "'report-published'")


@pytest.mark.asyncio(loop_scope="module")
async def test_a_number_over_a_period_is_summed_with_each_run(told: Told) -> None:
    answer = await ask(told, "total rows skipped by the import this week")

    # This week (Monday 23 to Wednesday 25 Nov): 36 + 42 + 8,911.
    assert answer.splitlines()[0] == ("Rows skipped in Nightly product import this week: "
                                      "8,989 rows in total over 3 runs.")
    assert "- Wed 25 Nov 00:12: 8,911 rows" in answer


@pytest.mark.asyncio(loop_scope="module")
async def test_the_slowest_of_recent_runs(told: Told) -> None:
    answer = await ask(told, "which was the fastest import run?")

    assert answer.startswith("Run time in Nightly product import in the last 30 days: the least "
                             "was 19 min, Wed 25 Nov 00:12")


@pytest.mark.asyncio(loop_scope="module")
async def test_a_milestone_named_is_answered_first(told: Told) -> None:
    reached = await ask(told, "did the import get past reading the file today?")
    missed = await ask(told, "has the report been published today?")

    assert reached.startswith("Yes — 'file-read' was reached at 00:14 (today's Nightly product "
                              "import), but the run then ended early.")
    assert missed.startswith("No — 'report-published' was not reached: today's Nightly product "
                             "import ended at 00:31 without it.")


@pytest.mark.asyncio(loop_scope="module")
async def test_a_value_across_runs(told: Told) -> None:
    answer = await ask(told, "was the import ever run on a different machine?")

    assert answer.startswith("No — host of Nightly product import over its last 8 runs: "
                             "1 different value — etl-1.")


@pytest.mark.asyncio(loop_scope="module")
async def test_a_job_is_named_by_its_owner(told: Told) -> None:
    answer = await ask(told, "did Ana's import work?")

    assert answer.startswith("No — today's price-import started at 03:00 and failed at 03:07")


@pytest.mark.asyncio(loop_scope="module")
async def test_a_fact_nobody_reported_is_said_to_be_unknown(told: Told) -> None:
    exit_code = await ask(told, "exit code of the failed price import?")

    assert exit_code.startswith("I don't know: price-import's runs report no exit code")


@pytest.mark.asyncio(loop_scope="module")
async def test_the_exit_code_in_a_finish_text_is_found(told: Told) -> None:
    answerer, api = told.answerer, told.api
    run = {"job": "backup", "run": "b-1"}
    await api.send_ok([{**run, "kind": "start", "at": (NOW - timedelta(hours=2)).isoformat()},
                       {**run, "kind": "finish", "at": (NOW - timedelta(hours=1)).isoformat(),
                        "status": "failed", "text": "command failed: pg_dump (exit code 3)"}])

    answer = (await answerer.reply("what was the exit code of the backup?", timezone=BERLIN)).text

    assert "exit code 3" in answer.splitlines()[0]


@pytest.mark.asyncio(loop_scope="module")
async def test_a_running_job_is_judged_by_its_pace(told: Told) -> None:
    answerer, api = told.answerer, told.api
    told.clock.now = NOW + timedelta(seconds=1)  # a definition changed a moment later
    defined = await api.put("/v1/jobs/inventory-sync", {
        "timezone": "Europe/Berlin", "schedule": "0 7 * * *", "expect": {"max_runtime": "3h"}})
    assert defined.status in (200, 201), await defined.text()
    # Half the items in 30 min from 07:00: about 08:00 at this pace, well before 10:00.
    answer = (await answerer.reply("will the inventory sync make its deadline at this pace?",
                                   timezone=BERLIN)).text

    assert answer.startswith("Yes — inventory-sync is running (stage 'warehouse-b', 50% done: "
                             "5,000 of 10,000 items); at its pace it should finish about 08:00, "
                             "before the end of its longest runtime is due at 10:00.")


@pytest.mark.asyncio(loop_scope="module")
async def test_what_a_run_logged_is_found_by_the_question_words(told: Told) -> None:
    answer = await ask(told, "when did the price import complain about a negative price?")

    first = answer.splitlines()[0]
    assert first.startswith("price-import logged this on Wed 25 Nov at 03:06")
    assert "negative price for SKU 4711" in first


@pytest.mark.asyncio(loop_scope="module")
async def test_times_in_the_zone_the_question_names(told: Told) -> None:
    answerer, api = told.answerer, told.api
    told.clock.now = NOW + timedelta(seconds=2)
    defined = await api.put("/v1/jobs/customer-export", {"timezone": "Europe/Berlin",
                                                         "schedule": "0 5 * * *"})
    assert defined.status in (200, 201), await defined.text()

    answer = (await answerer.reply("what time does the customer export run in new york time?",
                                   timezone=BERLIN)).text

    # 05:00 in Berlin is 23:00 the evening before in New York (both on standard time).
    assert "next today at 23:00 New York time" in answer.splitlines()[0]


@pytest.mark.asyncio(loop_scope="module")
async def test_progress_of_the_run_going(told: Told) -> None:
    left = await ask(told, "how many items are left in the inventory sync?")
    halfway = await ask(told, "has the inventory sync passed the halfway mark yet?")

    assert left.startswith("Today's inventory-sync has 5,000 items left of 10,000 (reported at "
                           "07:30, stage 'warehouse-b'); expected to finish about 08:00.")
    assert halfway.startswith("Yes — today's inventory-sync is 50% done")


@pytest.mark.asyncio(loop_scope="module")
async def test_a_job_named_by_its_state(told: Told) -> None:
    answer = await ask(told, "which machine is the running job on?")

    assert answer.startswith("I don't know: inventory-sync's runs report no host")
