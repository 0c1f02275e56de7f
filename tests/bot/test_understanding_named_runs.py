"""A run named by what it logged, two questions in one, a typo of a key only one run
reported, a day of several runs and a day of the week for every week — on the seed story with
one more night after the bad one (so that the bad night is no longer the latest run) and an
hourly sync that failed once this morning."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot.engine import Answerer
from tests.bot.story import NOW, at, normal_night, tell_the_story
from tests.bot.test_cards import validate_cards
from tests.conftest import Clock, start_api

BERLIN = "Europe/Berlin"


@dataclass
class Told:
    answerer: Answerer
    clock: Clock


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def told(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Told]:
    path: Path = tmp_path_factory.mktemp("named") / "ot.db"
    clock = Clock(NOW - timedelta(days=8))
    api = await start_api(f"sqlite:///{path}", clock)
    await tell_the_story(api)
    clock.now = NOW + timedelta(days=1)
    await api.send_ok(normal_night(26, 44))  # the supplier fixed the file: a normal night again
    for hour, status in ((6, "succeeded"), (7, "failed"), (8, "succeeded")):
        run = {"job": "hourly-sync", "run": f"26-{hour}"}
        await api.send_ok([{**run, "kind": "start", "at": at(26, hour, 0)},
                           {**run, "kind": "payload", "at": at(26, hour, 1), "name": "source",
                            "data": {"carriers": 41, "port": "Savannah" if hour == 7 else "Newark"}},
                           {**run, "kind": "finish", "at": at(26, hour, 4), "status": status}])
    for day, week in ((16, 46), (23, 47)):  # a weekly report names the week it covers
        run = {"job": "weekly-report", "run": f"w{week}"}
        await api.send_ok([{**run, "kind": "start", "at": at(day, 7, 0)},
                           {**run, "kind": "payload", "at": at(day, 7, 5), "name": "output",
                            "data": {"file": f"/reports/carriers_2026-W{week}.xlsx"}},
                           {**run, "kind": "finish", "at": at(day, 7, 9), "status": "succeeded"}])
    clock.now = NOW + timedelta(days=1, hours=1)
    try:
        yield Told(Answerer(api.engine, clock=clock), clock)
    finally:
        await api.client.close()


async def ask(told: Told, question: str) -> str:
    return (await told.answerer.reply(question, timezone=BERLIN)).text


@pytest.mark.asyncio(loop_scope="module")
async def test_a_run_is_named_by_what_it_logged(told: Told) -> None:
    took = await ask(told, "how long did the import take on the night with the EAN13 warning?")
    read = await ask(told, "which file did the import read when it hit the EAN13 column?")
    latest = await ask(told, "how long did the import take?")

    assert took.startswith("Yesterday's Nightly product import took 19 min")
    assert "products-2026-11-25.csv" in read.splitlines()[0]
    assert latest.startswith("Today's Nightly product import took 1 h 40 min")  # the night after


@pytest.mark.asyncio(loop_scope="module")
async def test_two_questions_in_one_are_both_answered(told: Told) -> None:
    answer = await ask(told, "the import on the 24th: which file did it read and which host ran it?")

    first, second = answer.split("\n\n")
    assert "products-2026-11-24.csv" in first.splitlines()[0]
    assert "etl-1" in second.splitlines()[0]
    reply = await told.answerer.reply("which file did the import read and who owns it?",
                                      timezone=BERLIN)
    assert reply.card is not None and len(reply.card["body"]) > 1
    assert "data-team" in reply.text.split("\n\n")[1]  # "it" is the job of the first question


@pytest.mark.asyncio(loop_scope="module")
async def test_a_typo_of_a_key_one_run_reported(told: Told) -> None:
    answer = await ask(told, "the import's output-rpeort on the 24th?")

    assert "/reports/sales-2026-11-24.xlsx" in answer.splitlines()[0]


@pytest.mark.asyncio(loop_scope="module")
async def test_the_card_of_two_answers_is_a_valid_adaptive_card(told: Told) -> None:
    reply = await told.answerer.reply("the import on the 24th: which file did it read and how "
                                      "long did it take?", timezone=BERLIN)

    assert reply.card is not None
    assert validate_cards({"two answers": reply.card}) == {"two answers": []}


@pytest.mark.asyncio(loop_scope="module")
async def test_a_day_of_several_runs_says_how_each_went(told: Told) -> None:
    ran = await ask(told, "did the hourly sync run this morning?")
    failed = await ask(told, "hourly sync this morning - did it fail?")

    assert ran.startswith("Yes — three runs of hourly-sync this morning: the run at 06:00 "
                          "succeeded, the run at 07:00 failed and the run at 08:00 succeeded.")
    assert failed.startswith("Yes — three runs of hourly-sync this morning:")


@pytest.mark.asyncio(loop_scope="module")
async def test_runs_on_a_day_of_every_week(told: Told) -> None:
    answer = await ask(told, "how many times did the import run on wednesdays?")

    # Wednesday 18 and Wednesday 25 November, the bad night.
    assert answer.startswith("Nightly product import ran twice on Wednesdays (2 runs: ")
    assert "ended early" in answer.splitlines()[0]


@pytest.mark.asyncio(loop_scope="module")
async def test_which_one_of_a_number_stored_is_not_answered_with_the_number(told: Told) -> None:
    answer = await ask(told, "which carrier had the most delays in the hourly sync?")

    # 41 is how many carriers there were, not which one had the most of anything.
    assert answer.startswith("I'm not sure what ")
    assert "41" not in answer.splitlines()[0]


@pytest.mark.asyncio(loop_scope="module")
async def test_runs_counted_by_how_long_they_took_when_they_ended_and_where_they_went(
        told: Told) -> None:
    longer = await ask(told, "how many import runs took longer than an hour?")
    later = await ask(told, "how many import runs finished after 01:00?")
    savannah = await ask(told, "how many hourly sync runs went to savannah?")

    # Eight normal nights of 1 h 40 min; the bad night ended after 19 min, at 00:31.
    assert longer.startswith("8 of 9 runs of Nightly product import so far took longer than 1 h")
    assert later.startswith("8 of 9 runs of Nightly product import so far finished after 01:00")
    assert savannah.startswith("1 of 3 runs of hourly-sync so far ran with source port Savannah")


@pytest.mark.asyncio(loop_scope="module")
async def test_a_weekly_report_is_named_by_the_week_it_covers(told: Told) -> None:
    which = await ask(told, "which file is the week 46 weekly report?")
    went_out = await ask(told, "weekly report for kw 47 - did it go out?")

    # Week 46's report was made on Monday 16 Nov, in week 47.
    assert "/reports/carriers_2026-W46.xlsx" in which.splitlines()[0]
    assert went_out.startswith("Yes — weekly-report on Mon 23 Nov")


@pytest.mark.asyncio(loop_scope="module")
async def test_a_value_on_two_days_and_a_rerun_asked_about(told: Told) -> None:
    same = await ask(told, "was the import on the same host yesterday and on the 24th?")
    rerun = await ask(told, "did the hourly sync rerun this morning have any problems?")

    assert same == "Yes — Nightly product import ran on host etl-1 both yesterday and on Tuesday 24 Nov."
    # The latest of the morning's runs, not the one that failed before it.
    assert rerun.startswith("No — nothing was logged as a warning or error: hourly-sync this "
                            "morning finished successfully (started 08:00, finished 08:04).")


@pytest.mark.asyncio(loop_scope="module")
async def test_a_value_against_the_usual_one(told: Told) -> None:
    answer = await ask(told, "did the import run on its usual host last night?")

    assert answer == ("Yes — Nightly product import ran on host etl-1, its usual one: etl-1 (8 of "
                      "the 8 runs before it).")
