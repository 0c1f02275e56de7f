"""Bad input gets a clear 4xx naming the field, and never changes what is stored."""

import asyncio
import json
import sqlite3
from typing import Any

import asyncpg
import pytest

from tests.conftest import Api, Clock, start_api

JOB = "nightly-product-import"
GOOD = {"job": JOB, "run": "r1", "kind": "metric", "name": "rows", "value": 1}


@pytest.fixture
async def seeded(api: Api) -> Api:
    await api.send_ok([{"job": JOB, "run": "r1", "kind": "start"}, GOOD])
    return api


async def assert_rejected(api: Api, body: bytes | Any, status: int, field: str | None = None,
                          index: int = 0) -> dict[str, Any]:
    before = await api.stored()
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await api.client.post("/v1/events", data=data, headers=api.auth("ingest"))
    answer = await response.json()
    assert response.status == status, answer
    assert answer["error"]
    if field is not None:
        assert {"index": index, "field": field} in [
            {"index": d["index"], "field": d["field"]} for d in answer["details"]], answer
    assert await api.stored() == before
    return answer  # type: ignore[no-any-return]


@pytest.mark.parametrize(("event", "field"), [
    ({**GOOD, "value": "12"}, "value"),
    ({**GOOD, "value": True}, "value"),
    ({**GOOD, "value": None}, "value"),
    ({**GOOD, "value": 10**400}, "value"),
    ({**GOOD, "job": "Nightly Import"}, "job"),
    ({**GOOD, "job": "x" * 129}, "job"),
    ({**GOOD, "job": ".."}, "job"),
    ({**GOOD, "run": "r" * 129}, "run"),
    ({**GOOD, "id": ""}, "id"),
    ({**GOOD, "name": "n" * 10_000}, "name"),
    ({**GOOD, "name": "nul\x00byte"}, "name"),
    ({**GOOD, "vaule": 3}, "vaule"),
    ({**GOOD, "kind": "metrics"}, "kind"),
    ({k: v for k, v in GOOD.items() if k != "kind"}, "kind"),
    ({k: v for k, v in GOOD.items() if k != "job"}, "job"),
    ({**GOOD, "at": "2026-11-25T06:00:00"}, "at"),
    ({**GOOD, "at": "2026-11-25 06:00"}, "at"),
    ({**GOOD, "at": "2026-02-30T06:00:00Z"}, "at"),
    ({**GOOD, "at": 1764050400}, "at"),
    ({"job": JOB, "run": "r1", "kind": "note", "text": "t" * 4001}, "text"),
    ({"job": JOB, "run": "r1", "kind": "note", "text": "x", "level": "fatal"}, "level"),
    ({"job": JOB, "run": "r1", "kind": "progress", "done": -1}, "done"),
    ({"job": JOB, "run": "r1", "kind": "duration", "name": "d", "seconds": -0.5}, "seconds"),
    ({"job": JOB, "run": "r1", "kind": "milestone", "name": "m", "status": "done"}, "status"),
    ({"job": JOB, "run": "r1", "kind": "finish", "status": "ok"}, "status"),
    ({"job": JOB, "run": "r1", "kind": "finish"}, "status"),
    ({"job": JOB, "run": "r1", "kind": "start", "attributes": ["not", "an", "object"]},
     "attributes"),
    ({"job": JOB, "run": "r1", "kind": "payload", "name": "p", "data": "x" * 70_000}, "data"),
    ({"job": JOB, "run": "r1", "kind": "payload", "name": "p",
      "data": json.loads("[" * 40 + "]" * 40)}, "data"),
])
async def test_an_invalid_event_is_refused_with_its_field_named(
    seeded: Api, event: dict[str, Any], field: str
) -> None:
    await assert_rejected(seeded, event, 422, field)


async def test_one_bad_event_rejects_the_whole_batch(seeded: Api) -> None:
    batch = [{**GOOD, "value": i, "id": f"ok{i}"} for i in range(10)]
    batch[7] = {**GOOD, "at": "yesterday"}

    answer = await assert_rejected(seeded, batch, 422, "at", index=7)

    assert "nothing was stored" in answer["error"]


async def test_every_invalid_event_of_a_batch_is_listed(seeded: Api) -> None:
    batch = [GOOD, {**GOOD, "value": "x"}, GOOD, {**GOOD, "kind": "nope"}]

    answer = await assert_rejected(seeded, batch, 422)

    assert {(d["index"], d["field"]) for d in answer["details"]} == {(1, "value"), (3, "kind")}


async def test_an_event_without_run_for_a_job_with_no_open_run_is_a_422(seeded: Api) -> None:
    await seeded.send_ok({"job": JOB, "run": "r1", "kind": "finish", "status": "succeeded"})

    answer = await assert_rejected(
        seeded, [{**GOOD, "run": "r9"}, {"job": JOB, "kind": "note", "text": "where?"}], 422, "run",
        index=1)

    assert "no unfinished run" in answer["details"][0]["message"]


@pytest.mark.parametrize(("body", "fragment"), [
    (b"{not json", "not valid JSON"),
    (b"", "empty body"),
    (b'{"job": "a", "kind": "note", "text": "\xff\xfe"}', "UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "JSON"),
    (b'{"job": "a", "kind": "metric", "name": "x", "value": NaN}', "NaN"),
    (b'"just a string"', "event object"),
    (b"1" * 5000, "JSON"),
])
async def test_unparseable_bodies_are_a_400(seeded: Api, body: bytes, fragment: str) -> None:
    answer = await assert_rejected(seeded, body, 400)

    assert fragment in answer["error"]


async def test_an_empty_array_is_a_422(seeded: Api) -> None:
    await assert_rejected(seeded, [], 422, "(body)")


async def test_more_than_a_thousand_events_is_a_413(seeded: Api) -> None:
    answer = await assert_rejected(seeded, [GOOD] * 1001, 413)

    assert "1000" in answer["error"]


async def test_a_body_over_one_mebibyte_is_a_413(seeded: Api) -> None:
    huge = [{"job": JOB, "run": "r1", "kind": "note", "text": "t" * 2000} for _ in range(600)]
    assert len(json.dumps(huge)) > 1024 * 1024

    await assert_rejected(seeded, huge, 413)


async def test_a_chunked_body_over_the_limit_is_a_413_too(seeded: Api) -> None:
    async def chunks() -> Any:
        for _ in range(20):
            yield b" " * 65536

    before = await seeded.stored()
    response = await seeded.client.post("/v1/events", data=chunks(), headers=seeded.auth("ingest"))

    assert response.status == 413
    assert "error" in await response.json()
    assert await seeded.stored() == before


@pytest.mark.parametrize(("headers", "fragment"), [
    ({}, "missing"),
    ({"Authorization": "Bearer"}, "Bearer <token>"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, "Bearer <token>"),
    ({"Authorization": "Bearer ot_not-a-real-token"}, "unknown"),
    ({"Authorization": "Bearer \u00e9t\u00e9"}, "unknown"),
])
async def test_writes_without_a_valid_token_are_a_401(
    seeded: Api, headers: dict[str, str], fragment: str
) -> None:
    before = await seeded.stored()
    response = await seeded.client.post("/v1/events", json=GOOD, headers=headers)

    assert response.status == 401
    assert fragment in (await response.json())["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert await seeded.stored() == before


async def test_scopes_are_enforced_with_a_403(seeded: Api) -> None:
    assert (await seeded.send(GOOD, scope="read")).status == 403
    assert (await seeded.get("/v1/jobs", scope="ingest")).status == 403
    assert (await seeded.put(f"/v1/jobs/{JOB}", {"title": "x"}, scope="ingest")).status == 403
    assert (await seeded.put(f"/v1/jobs/{JOB}", {"title": "x"}, scope="read")).status == 403
    assert (await seeded.send(GOOD, scope="admin")).status == 202
    assert (await seeded.get("/v1/jobs", scope="admin")).status == 200


async def test_reads_need_a_token_too(seeded: Api) -> None:
    response = await seeded.get("/v1/jobs", scope=None)

    assert response.status == 401


async def test_unknown_jobs_runs_and_routes_are_a_404(seeded: Api) -> None:
    for path in ("/v1/jobs/nobody", "/v1/jobs/nobody/runs", f"/v1/jobs/{JOB}/runs/r404",
                 "/v1/nothing-here"):
        response = await seeded.get(path)
        assert response.status == 404, path
        assert (await response.json())["error"]


async def test_a_wrong_method_is_a_405_with_allow(seeded: Api) -> None:
    response = await seeded.client.delete("/v1/events", headers=seeded.auth("admin"))

    assert response.status == 405
    assert "POST" in response.headers["Allow"]


async def test_auth_off_lets_a_newcomer_curl_without_a_token(database_url: str, clock: Clock) -> None:
    api = await start_api(database_url, clock, auth=False)
    try:
        assert (await api.send(GOOD, scope=None)).status == 202
        assert (await api.get("/v1/jobs", scope=None)).status == 200
    finally:
        await api.client.close()


async def test_storage_that_cannot_take_the_write_is_a_503_and_stores_nothing(
    database_url: str, clock: Clock
) -> None:
    api = await start_api(database_url, clock, db_timeout_seconds=0.3)
    try:
        await api.send_ok([{"job": JOB, "run": "r1", "kind": "start"}, GOOD])
        before = await api.stored()
        async with hold_write_lock(database_url):
            response = await api.send([{**GOOD, "value": 2}, {**GOOD, "value": 3}])
            answer = await response.json()
        assert response.status == 503, answer
        assert int(response.headers["Retry-After"]) > 0
        assert "storage" in answer["error"]
        assert await api.stored() == before
        assert (await api.send({**GOOD, "value": 4})).status == 202  # and it recovers
    finally:
        await api.client.close()


class hold_write_lock:
    """Another connection holding the tables, as a long migration or backup would."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite: sqlite3.Connection | None = None
        self.pg: asyncpg.Connection | None = None
        self.tx: Any = None

    async def __aenter__(self) -> None:
        if self.url.startswith("sqlite"):
            self.sqlite = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            self.sqlite.execute("BEGIN EXCLUSIVE")
            return
        self.pg = await asyncpg.connect(self.url)
        self.tx = self.pg.transaction()
        await self.tx.start()
        await self.pg.execute("LOCK TABLE events, runs IN ACCESS EXCLUSIVE MODE")

    async def __aexit__(self, *exc: object) -> None:
        if self.sqlite is not None:
            self.sqlite.execute("ROLLBACK")
            self.sqlite.close()
        if self.pg is not None:
            await self.tx.rollback()
            await self.pg.close()
        await asyncio.sleep(0)
