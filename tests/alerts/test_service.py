"""The watcher inside the running server, on the wall clock: deadlines are judged when they
fall due (no coarse poll), and with two server processes on one PostgreSQL database exactly
one of them judges and sends — until it dies and the other takes over."""

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ingest.context import INGEST
from storage.clock import utc_now
from storage.models import Job
from tests.alerts.conftest import Webhook
from tests.conftest import start_api
from tests.opentrace.test_metrics import scrape
from tests.serving import free_port, opentrace_command, wait_for_health

DEADLINE_SECONDS = 2


def overrunning_job(hook: Webhook) -> dict[str, object]:
    return {"expect": {"max_runtime": f"{DEADLINE_SECONDS}s"}, "alert": [hook.url]}


async def posts_within(hook: Webhook, seconds: float, count: int = 1) -> list[dict[str, object]]:
    deadline = time.monotonic() + seconds
    while len(hook.posts) < count and (left := deadline - time.monotonic()) > 0:
        hook.arrived.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hook.arrived.wait(), left)
    return hook.posts


async def test_a_deadline_is_judged_the_moment_it_falls_due(
    database_url: str, webhook: Webhook
) -> None:
    api = await start_api(database_url, utc_now, watch=True)  # type: ignore[arg-type]
    try:
        assert (await api.put("/v1/jobs/etl", overrunning_job(webhook))).status in (200, 201)
        started = time.monotonic()
        await api.send_ok({"job": "etl", "run": "r1", "kind": "start"})

        [post] = await posts_within(webhook, DEADLINE_SECONDS + 5)
        waited = time.monotonic() - started
        await asyncio.sleep(1.5)  # nothing more arrives: once per run
        samples = await scrape(api)
    finally:
        await api.client.close()

    assert samples[("opentrace_alerts_opened_total", (("kind", "overran"),))] == 1
    assert samples[("opentrace_alert_deliveries_total",
                    (("channel", "webhook"), ("outcome", "sent")))] == 1
    assert samples[("opentrace_scheduler_lag_seconds_count", ())] >= 1
    assert samples[("opentrace_scheduler_lag_seconds_sum", ())] < 1.0

    assert DEADLINE_SECONDS - 0.2 <= waited <= DEADLINE_SECONDS + 2.5, waited
    assert "running for 2 s, longer than its maximum of 2s" in str(post["text"])
    assert len(webhook.posts) == 1


async def test_many_definitions_at_once_plan_the_watcher_without_skipped_wake_ups(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Each definition wakes the watcher; a wake-up that comes while a pass runs has that pass
    followed by one more, instead of being skipped by the scheduler with a warning apiece,
    and every job is judged within the second (not at the next sweep)."""
    api = await start_api(database_url, utc_now, watch=True)  # type: ignore[arg-type]
    caplog.set_level(logging.WARNING, logger="apscheduler")
    try:
        answers = await asyncio.gather(*(api.put(f"/v1/jobs/etl-{n}", {
            "schedule": "0 3 * * *", "expect": {"start_within": "30m"}}) for n in range(40)))
        assert {answer.status for answer in answers} == {201}
        await asyncio.sleep(1.0)
        engine = api.client.app[INGEST].engine
        async with AsyncSession(engine) as session:
            unjudged = (await session.exec(select(func.count()).select_from(Job).where(
                col(Job.next_check_at) <= utc_now()))).one()
    finally:
        await api.client.close()

    assert unjudged == 0
    assert [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()] == []


class Replica:
    """`opentrace serve` as its own process, with its output kept in a file."""

    def __init__(self, name: str, url: str, tmp_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / f"{name}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENTRACE_")}
        env.update(OPENTRACE_DATABASE_URL=url, OPENTRACE_AUTH="off", OPENTRACE_WATCH="on")
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [*opentrace_command(), "serve", "--port", str(self.port)], env=env,
                stdout=out, stderr=subprocess.STDOUT, text=True)
        wait_for_health(self.url, self.process)

    @property
    def leads(self) -> bool:
        return "now judges deadlines and sends alerts" in self.log.read_text()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def replicas(postgres_url: str, tmp_path: Path) -> Iterator[list[Replica]]:
    started = [Replica("a", postgres_url, tmp_path), Replica("b", postgres_url, tmp_path)]
    yield started
    for replica in started:
        replica.kill()


async def leader_of(replicas: list[Replica], seconds: float = 10) -> Replica:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        leading = [r for r in replicas if r.leads]
        if leading:
            return leading[0]
        await asyncio.sleep(0.1)
    raise AssertionError("no replica took the lead")


async def post(session: aiohttp.ClientSession, url: str, body: object, method: str = "POST") -> int:
    async with session.request(method, url, json=body) as response:
        return response.status


async def test_two_replicas_on_one_database_send_once_and_take_over_when_one_dies(
    replicas: list[Replica], webhook: Webhook
) -> None:
    first = await leader_of(replicas)
    other = next(r for r in replicas if r is not first)
    async with aiohttp.ClientSession() as http:
        assert await post(http, f"{other.url}/v1/jobs/etl", overrunning_job(webhook), "PUT") \
            in (200, 201)
        # Telemetry reaches the replica that does not lead.
        assert await post(http, f"{other.url}/v1/events",
                          {"job": "etl", "run": "r1", "kind": "start"}) == 202
        await posts_within(webhook, 15)
        await asyncio.sleep(2)
        assert len(webhook.posts) == 1
        assert not other.leads

        first.kill()
        assert await leader_of([other], seconds=15) is other
        assert await post(http, f"{other.url}/v1/events",
                          {"job": "etl", "run": "r2", "kind": "start"}) == 202
        await posts_within(webhook, 15, count=2)
        await asyncio.sleep(2)

    assert [str(p["text"]).count("running for") for p in webhook.posts] == [1, 1]
    assert len(webhook.posts) == 2
