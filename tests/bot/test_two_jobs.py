"""Questions about two jobs at once: which ran first, the time between them, the same host,
and whether one job's bad run explains another's — linked only by what a job's description
says of the other, and said so when nothing links them."""

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from bot.engine import Answerer
from tests.conftest import Clock, start_api

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 25, 8, 30, tzinfo=BERLIN)


def at(hour: int, minute: int) -> str:
    return datetime(2026, 11, 25, hour, minute, tzinfo=BERLIN).isoformat()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def answerer(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Answerer]:
    path: Path = tmp_path_factory.mktemp("two") / "ot.db"
    clock = Clock(NOW)
    api = await start_api(f"sqlite:///{path}", clock)
    definitions = {
        "rate-import": {"title": "Rate import", "timezone": "Europe/Berlin", "schedule": "30 1 * * *",
                        "description": "Loads the carriers' rate file into the tariff table used "
                                       "by the invoice audit."},
        "invoice-audit": {"title": "Invoice audit", "timezone": "Europe/Berlin",
                          "schedule": "0 4 * * *", "description": "Checks invoices against tariffs."},
        "price-feed": {"title": "Price feed", "timezone": "Europe/Berlin"},
    }
    for slug, definition in definitions.items():
        assert (await api.put(f"/v1/jobs/{slug}", definition)).status in (200, 201)
    rates, audit, feed = ({"job": slug, "run": "25"} for slug in definitions)
    await api.send_ok([
        {**rates, "kind": "start", "at": at(1, 31), "attributes": {"host": "etl-1"}},
        {**rates, "kind": "finish", "at": at(1, 34), "status": "partial",
         "text": "stopped: delimiter changed"},
        {**audit, "kind": "start", "at": at(4, 0), "attributes": {"host": "etl-2"}},
        {**audit, "kind": "finish", "at": at(4, 14), "status": "failed",
         "text": "Tariff table incomplete"},
        {**feed, "kind": "start", "at": at(5, 0)},
        {**feed, "kind": "finish", "at": at(5, 2), "status": "failed", "text": "timeout"},
    ])
    try:
        yield Answerer(api.engine, clock=clock)
    finally:
        await api.client.close()


async def ask(answerer: Answerer, question: str) -> str:
    return (await answerer.reply(question, timezone="Europe/Berlin")).text


@pytest.mark.asyncio(loop_scope="module")
async def test_which_ran_first_and_the_time_between(answerer: Answerer) -> None:
    order = await ask(answerer, "did the rate import finish before the invoice audit started?")
    between = await ask(answerer, "how much time between the rate import finishing and the "
                                  "invoice audit failing?")
    scheduled = await ask(answerer, "how much time is there between the rate import and the "
                                    "invoice audit starting?")

    assert order == ("Yes — Rate import stopped early at 01:34, 2 h 26 min before Invoice audit "
                     "started at 04:00.")
    assert between.startswith("2 h 40 min — Rate import stopped early at 01:34 (stopped: "
                              "delimiter changed), and Invoice audit failed at 04:14 (Tariff table "
                              "incomplete).")
    assert scheduled.startswith("2 h 30 min between their scheduled starts — Rate import at "
                                "01:30, Invoice audit at 04:00")


@pytest.mark.asyncio(loop_scope="module")
async def test_the_same_host(answerer: Answerer) -> None:
    answer = await ask(answerer, "does the rate import run on the same server as the invoice audit?")

    assert answer == "No — Rate import ran on host etl-1, Invoice audit on etl-2."


@pytest.mark.asyncio(loop_scope="module")
async def test_a_cause_only_where_a_description_links_the_jobs(answerer: Answerer) -> None:
    linked = await ask(answerer, "is the invoice audit failure because of the rate import?")
    knock_on = await ask(answerer, "did the rate import problem break anything else?")
    unlinked = await ask(answerer, "is the price feed failure because of the rate import?")

    assert linked.startswith("Yes, likely — Rate import stopped early at 01:34 (stopped: delimiter "
                             "changed), before Invoice audit failed at 04:14 (Tariff table "
                             "incomplete). Rate import's description says: 'Loads the carriers' "
                             "rate file into the tariff table used by the invoice audit'.")
    assert knock_on.startswith("Yes, likely — after Rate import stopped early at 01:34")
    assert "Invoice audit failed at 04:14" in knock_on and "Price feed" not in knock_on
    assert unlinked.startswith("I can't tell: Rate import stopped early at 01:34")
    assert unlinked.endswith("but nothing links the two jobs (neither's description names the "
                             "other).")


@pytest.mark.asyncio(loop_scope="module")
async def test_a_job_named_by_what_its_description_says_it_does(answerer: Answerer) -> None:
    answer = await ask(answerer, "who owns the job that reads the carriers file?")

    assert answer.startswith("No owner is set for Rate import")
