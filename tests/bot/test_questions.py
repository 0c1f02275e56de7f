"""Sales and ops people ask in their own words; each answer must carry the facts that matter.

The story is told once through the real ingest contract (a real server on 127.0.0.1, a real
SQLite file), then every question goes to the same engine the Teams bot and `opentrace ask`
use, with the clock set to Wednesday 25 November 2026, 08:00 in Berlin."""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.engine import Answerer
from tests.bot.story import NOW, tell_the_story
from tests.conftest import Clock, start_api

BERLIN = "Europe/Berlin"
# (question, the asker's zone, facts the answer must contain, words it must not contain)
TABLE: list[tuple[str, str | None, list[str], list[str]]] = [
    # did it run / is it done — today, last night, yesterday, a weekday, a date
    ("Has the import run today?", BERLIN, ["No —", "today", "00:12", "'file-read'",
                                           "'report-published'", "8,911", "usually about 41"], []),
    ("did the import run today", BERLIN, ["No —", "stopped early"], ["Yes"]),
    ("<at>OpenTrace</at> has the import finished?", BERLIN, ["No —", "stopped early"], ["<at>"]),
    ("is the import done", BERLIN, ["No —", "00:12"], []),
    ("did the nightly product import succeed last night", BERLIN, ["No —", "last night"], []),
    ("was last night's import ok", BERLIN, ["No —", "last night"], []),
    ("did the import run tonight", BERLIN, ["No —"], []),
    ("Did the import finish yesterday?", BERLIN, ["Yes —", "yesterday", "01:52", "1 h 40 min"], []),
    ("did the import run on monday", BERLIN, ["Yes —", "Monday 23 Nov", "01:52"], []),
    ("did the import run last wednesday", BERLIN, ["Yes —", "18 Nov"], []),
    ("did the import run on 22 nov", BERLIN, ["Yes —", "22 Nov"], []),
    ("did the import run on the 21st of november", BERLIN, ["Yes —", "21 Nov"], []),
    ("did the import run on 2026-11-20", BERLIN, ["Yes —", "20 Nov"], []),
    ("did the import run this week", BERLIN, ["No —", "stopped early"], []),
    ("import status", BERLIN, ["No —", "00:12"], []),
    ("DID THE IMPORT RUN TODAY???", BERLIN, ["No —"], []),
    ("did the improt finsih yesterday", BERLIN, ["Yes —", "yesterday"], []),
    ("has the product import completed", BERLIN, ["No —"], []),
    ("is the inventory sync still running", BERLIN, ["still running", "50% done", "warehouse-b",
                                                     "5,000 of 10,000 items"], []),
    ("is the inventory sync done yet", BERLIN, ["Not yet", "07:00"], []),
    ("did the customer export run yesterday", BERLIN, ["Yes —", "05:20"], []),
    ("did the customer export run today", BERLIN, ["No —", "has not run today",
                                                   "yesterday at 05:00"], []),
    ("did the price import run today", BERLIN, ["No —", "failed at 03:07"], []),
    # a run that already ended is not running, whatever became of it; a failure's reason
    # reads as one sentence, and what it did not reach as the next
    ("is the customer export running", BERLIN, ["No — it is not running", "05:20"], ["Yes"]),
    ("is the price import still running?", BERLIN, ["No — it is not running", "failed at 03:07"], []),
    ("is the customer export ok", BERLIN, ["Yes —", "yesterday"], []),
    # the asker's own time zone decides what "today" is
    ("did the import run today", "America/New_York", ["No —", "has not run today",
                                                      "yesterday at 18:12"], []),
    ("did the import run today", None, ["No —", "00:12"], []),  # the job's zone: Berlin
    ("did the import run yesterday", "Asia/Tokyo", ["Yes —", "09:52"], []),
    # what happened / why / which milestone / where did it stop
    ("what happened to the import last night", BERLIN, ["stopped early", "'file-read'",
                                                         "EAN13", "8,911"], ["No —"]),
    ("why did the price import fail", BERLIN, ["ValueError: negative price for SKU 4711",
                                               "'prices-validated'"], ["No —"]),
    ("which milestone failed in the price import", BERLIN, ["'prices-validated'"], []),
    ("where did the import stop last night", BERLIN, ["'file-read'"], []),
    ("what went wrong with the import", BERLIN, ["'file-read'", "EAN13"], []),
    ("why did the import fail", BERLIN, ["stopped early", "EAN13"], []),
    ("warnings from the import last night", BERLIN, ["Warning at 00:20", "EAN13"], []),
    ("errors in the price import", BERLIN, ["ValueError"], []),
    ("what happened to the import yesterday", BERLIN, ["Nothing went wrong"], []),
    # how many, and is that normal
    ("how many rows were skipped last night", BERLIN, ["8,911", "about 41", "30–50",
                                                       "far from normal"], []),
    ("how many rows were skipped last night, is that normal?", BERLIN, ["8,911",
                                                                        "far from normal"], []),
    ("how many rows did the import skip yesterday", BERLIN, ["42", "That is normal"], []),
    ("how many rows were processed last night", BERLIN, ["1,204"], []),
    ("how many products were matched on monday", BERLIN, ["118,230"], []),
    ("how many rows were skipped on monday", BERLIN, ["36"], []),
    ("how many rows were skiped", BERLIN, ["8,911"], []),
    ("number of skipped rows in the import", BERLIN, ["8,911"], []),
    ("is 8911 skipped rows normal for the import", BERLIN, ["far from normal"], []),
    # which file / what did it produce
    ("which file did the import read", BERLIN, ["/data/supplier/products-2026-11-25.csv"], []),
    ("what input file did the import use on monday", BERLIN, ["products-2026-11-23.csv"], []),
    ("what did the import produce yesterday", BERLIN, ["/reports/sales-2026-11-24.xlsx"], []),
    ("what did the import produce today", BERLIN, ["reported no output", "'report-published'"],
     []),
    ("what did the price import read", BERLIN, ["did not report an input file"], []),
    # how long, usually, when will it be done
    ("how long did the import take yesterday", BERLIN, ["took 1 h 40 min"], []),
    ("how long did the import take last night", BERLIN, ["19 min", "usually 1 h 40 min"], []),
    ("how long does the import usually take", BERLIN, ["usually takes 1 h 40 min",
                                                       "7 successful runs"], []),
    ("how long did the price import take", BERLIN, ["7 min"], []),
    ("when will the inventory sync be done", BERLIN, ["08:00", "50% done"], []),
    ("eta for the inventory sync", BERLIN, ["08:00"], []),
    ("when will the import be done", BERLIN, ["already ended", "00:31"], []),
    ("how far is the inventory sync", BERLIN, ["50% done"], []),
    # everything at once
    ("anything late?", BERLIN, ["customer-export", "usually runs every 24 h"], []),
    ("whats late", BERLIN, ["customer-export", "usually runs every 24 h"], ["not sure"]),
    ("when will the inventory sync of warehouse b be finished", BERLIN, ["08:00"], ["Not yet"]),
    ("is anything broken", BERLIN, ["need attention", "Nightly product import", "price-import"],
     []),
    ("status of everything", BERLIN, ["of 5 jobs need attention", "inventory-sync"], []),
    ("any failures?", BERLIN, ["price-import", "failed"], []),
    # what it knows, help, and what it cannot answer
    ("what jobs do you know", BERLIN, ["5 jobs", "nightly-product-import", "'the import'",
                                       "customer-export", "inventory-sync", "price-import"], []),
    ("which jobs do you know?", BERLIN, ["5 jobs"], []),
    ("help", BERLIN, ["did the import run today", "anything late"], []),
    ("what can you do", BERLIN, ["how many rows were skipped"], []),
    ("asdfgh", BERLIN, ["not sure", "help"], []),
    ("did the foo run today", BERLIN, ["don't know a job called 'foo'", "customer-export"], []),
    ("what's late?", BERLIN, ["customer-export"], ["not sure"]),
    ("did it run today", BERLIN, ["I'm not sure which job you mean", "price-import"], []),
    ("did the customer job run", BERLIN, ["I'm not sure which one you mean", "customer-export",
                                          "customer-import"], []),
    ("did the customer import run", BERLIN, ["Yes —", "04:03"], []),
    ("", BERLIN, ["did the import run today"], []),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def answerer(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Answerer]:
    path: Path = tmp_path_factory.mktemp("story") / "opentrace.db"
    clock = Clock(NOW - timedelta(days=8))
    api = await start_api(f"sqlite:///{path}", clock)
    await tell_the_story(api)
    clock.now = NOW
    yield Answerer(api.engine, clock=clock, default_timezone="UTC")
    await api.client.close()


def test_the_table_holds_at_least_sixty_different_questions() -> None:
    assert len({(q, tz) for q, tz, *_ in TABLE}) >= 60


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("question", "zone", "facts", "absent"), TABLE,
                         ids=[f"{q[:50]}|{tz}" for q, tz, *_ in TABLE])
async def test_each_question_gets_the_facts_that_matter(
    answerer: Answerer, question: str, zone: str | None, facts: list[str], absent: list[str]
) -> None:
    reply = await answerer.reply(question, timezone=zone)

    for fact in facts:
        assert fact in reply.text, f"{fact!r} missing from:\n{reply.text}"
    for word in absent:
        assert word not in reply.text, f"{word!r} should not be in:\n{reply.text}"
    assert "Traceback" not in reply.text
    assert reply.card is not None


@pytest.mark.asyncio(loop_scope="module")
async def test_a_follow_up_keeps_the_job_and_the_night(answerer: Answerer) -> None:
    first = await answerer.reply("how many rows were skipped last night?", timezone=BERLIN,
                                 conversation="chat-1")
    normal = await answerer.reply("is that normal?", timezone=BERLIN, conversation="chat-1")
    file = await answerer.reply("which file did it read", timezone=BERLIN, conversation="chat-1")
    elsewhere = await answerer.reply("is that normal?", timezone=BERLIN, conversation="chat-2")

    assert "8,911" in first.text
    assert "far from normal" in normal.text and "8,911" in normal.text
    assert "products-2026-11-25.csv" in file.text
    assert "8,911" not in elsewhere.text  # another conversation has no such context


@pytest.mark.asyncio(loop_scope="module")
async def test_the_first_sentence_answers_the_question(answerer: Answerer) -> None:
    reply = await answerer.reply("Has the import run today?", timezone=BERLIN)

    first: Any = reply.text.split("\n", 1)[0]
    assert first.startswith("No — today's Nightly product import started at 00:12 but stopped "
                            "early after 'file-read'")


async def test_the_same_answers_come_from_postgresql_and_sqlite(api: Any, clock: Clock) -> None:
    clock.now = NOW - timedelta(days=8)
    await tell_the_story(api)
    clock.now = NOW
    answerer = Answerer(api.engine, clock=clock)

    today = await answerer.reply("has the import run today?", timezone=BERLIN)
    skipped = await answerer.reply("how many rows were skipped last night?", timezone=BERLIN)
    late = await answerer.reply("anything late?", timezone=BERLIN)

    assert today.text.startswith("No — today's Nightly product import started at 00:12")
    assert "8,911" in skipped.text and "far from normal" in skipped.text
    assert "customer-export" in late.text


def test_opentrace_ask_prints_what_the_bot_would_send(tmp_path: Path) -> None:
    import asyncio
    import os
    import subprocess

    from tests.serving import opentrace_command

    url = f"sqlite:///{tmp_path / 'ot.db'}"

    async def seed() -> None:
        api = await start_api(url, Clock(NOW - timedelta(days=8)))
        try:
            await tell_the_story(api)
        finally:
            await api.client.close()

    asyncio.run(seed())
    env = {**os.environ, "OPENTRACE_DATABASE_URL": url}
    result = subprocess.run(
        [*opentrace_command(), "ask", "has the import run today?", "--now",
         "2026-11-25T08:00:00+01:00", "--tz", "Europe/Berlin"],
        env=env, capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("No — today's Nightly product import started at 00:12")
    assert "Rows skipped: 8,911 rows (usually about 41, range 30–50)" in result.stdout
