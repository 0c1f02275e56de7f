"""Facts that are stored become askable without a hand-written intent per field; runs can be
counted and listed as the watcher judges them; and a question the engine cannot place is
answered with what it understood and the closest readings as buttons, never with an answer
to another question."""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot.engine import Answerer
from bot.stored import Stored, best_facts, flatten
from tests.bot.story import NOW, tell_the_story
from tests.bot.test_cards import validate_cards
from tests.conftest import Clock, start_api

BERLIN = "Europe/Berlin"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def answerer(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Answerer]:
    path: Path = tmp_path_factory.mktemp("understanding") / "ot.db"
    clock = Clock(NOW - timedelta(days=8))
    api = await start_api(f"sqlite:///{path}", clock)
    await tell_the_story(api)
    clock.now = NOW
    try:
        yield Answerer(api.engine, clock=clock)
    finally:
        await api.client.close()


async def ask(answerer: Answerer, question: str) -> str:
    return (await answerer.reply(question, timezone=BERLIN)).text


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("question", "expected"), [
    ("who owns the import?", "data-team owns Nightly product import"),
    ("who do i ping about the import", "data-team"),
    ("wer ist zuständig für den import?", "data-team"),
    ("which machine ran the import last night", "etl-1"),
    ("which server did the import run on", "etl-1"),
])
async def test_a_stored_fact_is_found_by_its_key_or_a_natural_word(
        answerer: Answerer, question: str, expected: str) -> None:
    assert expected in await ask(answerer, question)


def test_any_field_inside_a_payload_is_found_by_its_key_or_its_value() -> None:
    fields = [Stored(key, value, "payload") for key, value in flatten(
        "invoice-batch", {"batch_id": "INV-20261119", "target": {"sharepoint_folder": "Ops/KPI"},
                          "tabs": [1, 2, 3]})]

    by_key = best_facts({"batch"}, [], fields, "what batch did it check")
    by_words = best_facts({"sharepoint", "folder"}, [], fields, "which sharepoint folder")
    by_value = best_facts(set(), [], fields, "when did it switch to INV-20261119")

    assert by_key[0].fact.value == "INV-20261119"
    assert by_words[0].fact == Stored("invoice-batch.target.sharepoint_folder", "Ops/KPI", "payload")
    assert by_value[0].fact.key == "invoice-batch.batch_id"
    assert ("invoice-batch.tabs", "1, 2, 3") in flatten("invoice-batch", {"tabs": [1, 2, 3]})


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("question", "expected"), [
    ("what version was the import on last night",
     "I don't know: Nightly product import's runs report no version; a job sends it as a start attribute"),
    ("which git commit was the import built from", "report no commit"),
    ("how big was the import file in MB", "report no size"),
    ("who owns the customer export", "No owner is set for"),
])
async def test_a_missing_fact_says_so_and_where_it_would_come_from(
        answerer: Answerer, question: str, expected: str) -> None:
    text = await ask(answerer, question)

    assert expected in text, text
    assert not text.startswith(("Yes", "No —"))


@pytest.mark.asyncio(loop_scope="module")
async def test_a_job_without_a_schedule_says_where_one_would_come_from(answerer: Answerer) -> None:
    text = await ask(answerer, "when does the import run next")

    assert text.startswith("I don't know when Nightly product import runs: no schedule is set")


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("question", "expected"), [
    ("how many times did the import run this week", "Nightly product import ran 3 times this week"),
    ("how often did the import fail this week", "Nightly product import failed once this week"),
    ("how many times has the import run so far", "ran 8 times so far"),
    ("last 2 runs of the import", "The last 2 runs of Nightly product import:"),
    ("when was the last good run of the import", "last good run started yesterday at 00:12"),
    ("did the import fail today?", "Yes — today's Nightly product import started at 00:12"),
    ("did the customer export fail yesterday?", "No — yesterday's customer-export"),
])
async def test_runs_are_counted_and_listed_as_the_watcher_judges_them(
        answerer: Answerer, question: str, expected: str) -> None:
    text = await ask(answerer, question)

    assert expected in text, text


@pytest.mark.asyncio(loop_scope="module")
async def test_the_last_good_run_is_never_one_that_ended_early(answerer: Answerer) -> None:
    text = await ask(answerer, "last successful run of the import")

    assert "(run 2026-11-24)" in text and "(run 2026-11-25)" not in text.split(".")[0]


@pytest.mark.asyncio(loop_scope="module")
async def test_an_all_jobs_yes_no_question_starts_with_yes_or_no(answerer: Answerer) -> None:
    broken = await ask(answerer, "is anything broken?")
    fine = await ask(answerer, "did everything go ok last night?")

    assert broken.startswith("Yes — ")
    assert fine.startswith("No — ") and "Nightly product import" in fine.split("\n")[0]


@pytest.mark.asyncio(loop_scope="module")
async def test_a_word_it_cannot_place_is_answered_with_readings_as_buttons(
        answerer: Answerer) -> None:
    reply = await answerer.reply("which sharepoint folder does the import go to", timezone=BERLIN)

    assert reply.text.startswith("I'm not sure what 'folder' and 'sharepoint' means for "
                                 "Nightly product import.")
    assert reply.card is not None
    actions = reply.card["actions"]
    assert [a["type"] for a in actions] == ["Action.Submit"] * 3
    asked = [a["data"]["msteams"]["value"] for a in actions]
    assert all(a["data"]["msteams"]["type"] == "imBack" for a in actions)
    assert asked[0] == "did the Nightly product import run?"
    assert validate_cards({"choices": reply.card}) == {"choices": []}
    for question in asked:  # every reading is answered surely, not with another "not sure"
        answer = await ask(answerer, question)
        assert not answer.startswith("I'm not sure"), answer
