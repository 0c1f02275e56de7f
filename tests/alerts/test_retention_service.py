"""Retention inside the running server: the leading replica prunes old runs soon after it
starts, on its (injected) clock; recent runs and every run's summary stay; 0 keeps all."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from alerts import service
from tests.conftest import Api, Clock, start_api

WAIT_SECONDS = 20
POLL_SECONDS = 0.1


def a_night(run: str, start: Any) -> list[dict[str, Any]]:
    def at(minutes: float) -> str:
        return (start + timedelta(minutes=minutes)).isoformat()

    return [
        {"job": "etl", "run": run, "kind": "start", "at": at(0), "attributes": {"host": "etl-1"}},
        {"job": "etl", "run": run, "kind": "payload", "name": "input-file", "at": at(1),
         "data": {"path": "/data/products.csv"}},
        {"job": "etl", "run": run, "kind": "progress", "done": 10, "total": 20, "at": at(2)},
        {"job": "etl", "run": run, "kind": "metric", "name": "rows_skipped", "value": 7, "at": at(3)},
        {"job": "etl", "run": run, "kind": "milestone", "name": "file-read", "at": at(4)},
        {"job": "etl", "run": run, "kind": "note", "text": "slow disk", "at": at(5)},
        {"job": "etl", "run": run, "kind": "duration", "name": "read", "seconds": 12, "at": at(6)},
        {"job": "etl", "run": run, "kind": "metric", "name": "rows_skipped", "value": 41, "at": at(7)},
        {"job": "etl", "run": run, "kind": "finish", "status": "failed", "text": "boom", "at": at(8)},
    ]


async def seeded(database_url: str, clock: Clock) -> None:
    """Two runs written by a server that keeps everything: one 401 days old, one 399."""
    api = await start_api(database_url, clock, retention_days=0)
    try:
        await api.send_ok(a_night("old", clock.now - timedelta(days=401)))
        await api.send_ok(a_night("recent", clock.now - timedelta(days=399)))
    finally:
        await api.client.close()


async def kinds(api: Api, run: str) -> list[str]:
    body = await api.get_ok(f"/v1/jobs/etl/runs/{run}")
    return [event["kind"] for event in body["events"]]


async def test_the_leader_prunes_old_runs_soon_after_it_starts(
    database_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seeded(database_url, clock)
    monkeypatch.setattr(service, "PRUNE_FIRST_AFTER_SECONDS", 0.2)
    api = await start_api(database_url, clock, watch=True, retention_days=400)
    try:
        recent_before = await api.get_ok("/v1/jobs/etl/runs/recent")
        for _ in range(int(WAIT_SECONDS / POLL_SECONDS)):
            if len(await kinds(api, "old")) == 4:
                break
            await asyncio.sleep(POLL_SECONDS)
        old = await api.get_ok("/v1/jobs/etl/runs/old")
        recent = await api.get_ok("/v1/jobs/etl/runs/recent")
    finally:
        await api.client.close()

    assert [e["kind"] for e in old["events"]] == ["start", "milestone", "metric", "finish"]
    assert old["status"] == "failed" and old["duration_seconds"] == 480
    assert old["milestones"][0]["name"] == "file-read"
    assert old["metrics"]["rows_skipped"]["value"] == 41
    assert recent == recent_before and len(recent["events"]) == 9


async def test_zero_keeps_everything(
    database_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seeded(database_url, clock)
    monkeypatch.setattr(service, "PRUNE_FIRST_AFTER_SECONDS", 0.0)
    clock.advance(days=3650)
    api = await start_api(database_url, clock, watch=True, retention_days=0)
    try:
        await asyncio.sleep(1.5)
        assert len(await kinds(api, "old")) == 9
        assert len(await kinds(api, "recent")) == 9
    finally:
        await api.client.close()
