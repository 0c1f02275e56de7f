"""Two watchers on one PostgreSQL database, judging the same due minute at the same time: each
claims its own share of the due jobs, and every alert (and every message about it) is opened
exactly once."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

import alerts.watcher
from alerts.watcher import Watcher
from storage.alerts import Alert, Delivery, subscribe
from storage.engine import create_engine
from tests.alerts.test_watcher import berlin
from tests.conftest import Api, Clock, start_api

SALES = "19:sales-channel@thread.tacv2"
NIGHTLY = {"timezone": "Europe/Berlin", "schedule": "10 0 * * *",
           "expect": {"start_within": "30m", "milestones": [{"name": "report-published", "by": "5h50m"}]}}
STARTED, SILENT = 12, 18  # jobs whose night starts (and misses its milestone), jobs that never start


@pytest.fixture
async def api(postgres_url: str, clock: Clock) -> AsyncIterator[Api]:
    api = await start_api(postgres_url, clock)
    yield api
    await api.client.close()


async def test_two_watchers_judging_the_same_minute_open_each_alert_once(
    api: Api, clock: Clock, postgres_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(alerts.watcher, "BATCH", 4)  # many small claims, so the two interleave
    clock.now = berlin(24, 12)
    slugs = [f"import-{n:02d}" for n in range(STARTED + SILENT)]
    for slug in slugs:
        assert (await api.put(f"/v1/jobs/{slug}", NIGHTLY)).status in (200, 201)
    async with AsyncSession(api.engine) as session:
        for slug in slugs:
            await subscribe(SALES, slug, clock.now, session=session)
    clock.now = berlin(25, 0, 15)
    await api.send_ok([{"job": slug, "run": "night", "kind": "start"} for slug in slugs[:STARTED]])
    engines = [create_engine(postgres_url) for _ in range(2)]
    try:
        first, second = (Watcher(engine, clock=clock) for engine in engines)
        clock.now = berlin(25, 6, 0, 1)  # both deadlines of the night have passed

        mine, theirs = await asyncio.gather(first.check_due(), second.check_due())
        again = await first.check_due() + await second.check_due()
    finally:
        for engine in engines:
            await engine.dispose()

    opened = [(o.job.slug, o.alert.kind, o.alert.key) for o in mine + theirs]
    assert len(opened) == len(set(opened)) == STARTED + SILENT
    assert Counter(kind for _, kind, _ in opened) == {"milestone_missed": STARTED, "did_not_start": SILENT}
    assert mine and theirs, "both watchers took a share of the due jobs"
    assert again == []
    async with AsyncSession(api.engine) as session:
        stored = (await session.exec(select(Alert))).all()
        told = (await session.exec(select(Delivery))).all()
    assert len(stored) == STARTED + SILENT
    assert Counter(d.alert_id for d in told) == dict.fromkeys((a.id for a in stored), 1)
