"""Words people type, on the seed story: chat spellings, a job's name ending in a verb
("the product import's finish text"), "since the weekend", "any events", and a job named by
what failed in a period."""

import pytest

from tests.bot.test_understanding_runs import Told, ask, told

__all__ = ["told"]  # the seed story's module fixture, shared


@pytest.mark.asyncio(loop_scope="module")
async def test_a_name_ending_in_import_is_not_the_verb(told: Told) -> None:
    answer = await ask(told, "wat did the product import's finish message say last night")

    assert answer.startswith("Finish message of last night's Nightly product import: exited "
                             "early: too many rows skipped")


@pytest.mark.asyncio(loop_scope="module")
async def test_since_the_weekend_and_any_events(told: Told) -> None:
    # Wednesday 25 Nov: the weekly customer import last ran on Tuesday, after the weekend;
    # a run named within a longer period is named by its own day.
    since = await ask(told, "any events from the customer import since the weekend?")
    before = await ask(told, "any events from the customer export since last week?")

    assert since.startswith("Yes — yesterday's customer-import started at 04:00")
    assert before.startswith("Yes — yesterday's customer-export started at 05:00")


@pytest.mark.asyncio(loop_scope="module")
async def test_the_job_that_failed_in_a_period(told: Told) -> None:
    this_morning = await ask(told, "who owns the job that failed this morning?")
    last_week = await ask(told, "who owns the job that failed on the 20th?")

    assert this_morning.startswith("Ana Lopez owns price-import")
    assert last_week.startswith("I'm not sure which job you mean.")  # nothing failed that day


@pytest.mark.asyncio(loop_scope="module")
async def test_whose_jobs_are_broken(told: Told) -> None:
    answer = await ask(told, "whose jobs are broken right now?")

    assert "Nightly product import (owner data-team)" in answer.splitlines()[0]
    assert "price-import (owner Ana Lopez)" in answer.splitlines()[0]


@pytest.mark.asyncio(loop_scope="module")
async def test_a_file_named_by_what_it_holds_is_the_one_written(told: Told) -> None:
    answer = await ask(told, "wo liegt die sales-datei vom product import am 24.?")

    assert answer.startswith("Nightly product import on Tuesday 24 Nov produced "
                             "/reports/sales-2026-11-24.xlsx")


@pytest.mark.asyncio(loop_scope="module")
async def test_runs_counted_by_what_they_logged(told: Told) -> None:
    answer = await ask(told, "how many product imports logged a warning?")

    assert answer.startswith("1 of 8 runs of Nightly product import so far logged a warning")


@pytest.mark.asyncio(loop_scope="module")
async def test_a_day_it_was_not_due(told: Told) -> None:
    defined = await told.api.put("/v1/jobs/customer-import", {"timezone": "Europe/Berlin",
                                                               "schedule": "0 4 * * 2"})
    assert defined.status in (200, 201)

    answer = await ask(told, "did the customer import run on sunday?")

    assert answer.startswith("No — customer-import has not run on Sunday 22 Nov — it was not due "
                             "then: it runs every Tuesday at 04:00 Berlin time.")


@pytest.mark.asyncio(loop_scope="module")
async def test_the_last_runs_with_the_number_or_milestone_asked(told: Told) -> None:
    worked = await ask(told, "rows skipped for the last 3 imports that worked?")
    published = await ask(told, "when did the last 2 product imports get the report published?")

    # The bad night ended early: it is not one that worked.
    assert worked.startswith("The last 3 runs of Nightly product import that did not fail:\n"
                             "- Yesterday at 00:12: succeeded, rows skipped 42 rows")
    assert "2026-11-25" not in worked
    assert "- Yesterday at 00:12: succeeded, 'report-published' at 01:50" in published


@pytest.mark.asyncio(loop_scope="module")
async def test_what_time_the_running_job_started(told: Told) -> None:
    answer = await ask(told, "what time did the job thats running now start?")

    assert answer.startswith("Today's inventory-sync started at 07:00 and is still running")


@pytest.mark.asyncio(loop_scope="module")
async def test_a_name_with_words_of_another_job_is_not_ours(told: Told) -> None:
    other = await ask(told, "did the customer booking export run today?")
    plural = await ask(told, "did the inventory syncs run today?")

    assert other.startswith("I don't know a job called 'booking export'.")
    assert plural.startswith("Not yet — today's inventory-sync started at 07:00")
