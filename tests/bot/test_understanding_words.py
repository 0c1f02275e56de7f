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
