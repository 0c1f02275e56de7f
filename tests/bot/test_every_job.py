"""Questions about every job at once, on the seed story: runs counted across jobs, a fact of
each job's definition, and the jobs one person owns."""

import pytest

from tests.bot.test_understanding_runs import Told, ask, told

__all__ = ["told"]  # the seed story's module fixture, shared


@pytest.mark.asyncio(loop_scope="module")
async def test_runs_of_every_job_are_counted_as_judged(told: Told) -> None:
    answer = await ask(told, "how many runs failed altogether?")

    # The import said "partial" and ended early; the price import failed: both count.
    assert answer.startswith("2 of 18 runs of your 5 jobs since Wed 18 Nov (all stored): "
                             "1 ended early and 1 failed.")
    assert "- Nightly product import: ended early today at 00:12" in answer
    assert "- price-import: failed today at 03:00" in answer


@pytest.mark.asyncio(loop_scope="module")
async def test_the_days_some_job_failed(told: Told) -> None:
    answer = await ask(told, "on how many days did some job fail?")

    assert answer.startswith("On 1 day since Wed 18 Nov (all stored) a job failed or did not "
                             "finish well: today (Nightly product import (ended early) and "
                             "price-import).")


@pytest.mark.asyncio(loop_scope="module")
async def test_who_owns_which_job(told: Told) -> None:
    answer = await ask(told, "who owns which job?")

    assert answer.startswith("The owners of your 5 jobs, from their definitions.")
    assert "- Nightly product import: data-team" in answer
    assert "- price-import: Ana Lopez" in answer
    assert "None set for" in answer and "(`owner` in the job definition)" in answer


@pytest.mark.asyncio(loop_scope="module")
async def test_the_jobs_of_one_person(told: Told) -> None:
    answer = await ask(told, "does ana own more than one job?")

    assert answer.startswith("No — Ana Lopez owns only price-import (from the job definitions).")
