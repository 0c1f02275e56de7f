"""Every change a person makes is accountable: who, when, what and from where, readable by
admins at GET /v1/audit, and never changed or deleted — not by the API, not by the database."""

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel.ext.asyncio.session import AsyncSession
from yarl import URL

from storage.audit import record_change
from tests.conftest import Api, Clock

IMPORT = "nightly-product-import"


async def audit(api: Api, query: str = "") -> list[dict[str, object]]:
    response = await api.get(f"/v1/audit{query}", scope="admin")
    body = await response.json()
    assert response.status == 200, body
    return body["entries"]  # type: ignore[no-any-return]


async def test_defining_a_job_is_recorded_with_the_token_the_time_and_what_changed(
    api: Api, clock: Clock
) -> None:
    await api.put(f"/v1/jobs/{IMPORT}", {"title": "Nightly import", "owner": "data-team"})
    clock.advance(minutes=5)
    await api.put(f"/v1/jobs/{IMPORT}", {"title": "Nightly import", "owner": "sales-ops"})
    await api.put(f"/v1/jobs/{IMPORT}", {"title": "Nightly import", "owner": "sales-ops"})

    changed, created = await audit(api)

    assert (created["action"], created["target"], created["actor"]) == (
        "job.defined", IMPORT, "token test-admin")
    assert created["origin"] == "127.0.0.1"
    assert created["details"]["created"] is True  # type: ignore[index]
    assert changed["at"] == "2026-11-25T06:05:00Z"
    assert changed["details"] == {"created": False,
                                  "changed": {"owner": {"from": "data-team", "to": "sales-ops"}}}


async def test_only_admins_read_it(api: Api) -> None:
    statuses = [(await api.get("/v1/audit", scope=scope)).status
                for scope in (None, "ingest", "read")]

    assert statuses == [401, 403, 403]


async def test_filters_and_pages_newest_first(api: Api, clock: Clock) -> None:
    for n in range(5):
        clock.advance(minutes=1)
        await api.put(f"/v1/jobs/job-{n}", {"title": f"Job {n}"})

    response = await api.get("/v1/audit?limit=2&action=job", scope="admin")
    page = await response.json()
    assert page["next"].startswith(f"http://127.0.0.1:{api.client.port}/v1/audit?")  # absolute
    following = await api.get(URL(page["next"]).path_qs, scope="admin")
    second = await following.json()
    targeted = await audit(api, "?target=job-3")
    since = await audit(api, "?since=2026-11-25T06:04:00%2B00:00")

    assert [e["target"] for e in page["entries"]] == ["job-4", "job-3"]
    assert [e["target"] for e in second["entries"]] == ["job-2", "job-1"]
    assert [e["target"] for e in targeted] == ["job-3"]
    assert [e["target"] for e in since] == ["job-4", "job-3"]


@pytest.mark.parametrize(("query", "field"), [
    ("?limit=0", "limit"), ("?limit=x", "limit"), ("?since=yesterday", "since"),
    ("?before=-1", "before"), (f"?actor={'x' * 300}", "actor"),
])
async def test_bad_parameters_are_named(api: Api, query: str, field: str) -> None:
    response = await api.get(f"/v1/audit{query}", scope="admin")

    body = await response.json()
    assert response.status == 422
    assert body["details"][0]["field"] == field


async def test_the_api_offers_no_way_to_change_it(api: Api) -> None:
    await api.put(f"/v1/jobs/{IMPORT}", {"title": "Nightly import"})
    headers = api.auth("admin")

    statuses = [(await api.client.request(method, "/v1/audit", headers=headers)).status
                for method in ("POST", "PUT", "PATCH", "DELETE")]

    assert set(statuses) == {405}
    assert len(await audit(api)) == 1


async def test_the_database_refuses_to_rewrite_or_delete_an_entry(api: Api, clock: Clock) -> None:
    async with AsyncSession(api.engine) as session:
        record_change("token.created", actor="cli ana", target="ci", origin="laptop",
                      at=clock(), session=session)
        await session.commit()

    for statement in ("UPDATE audit SET actor = 'someone else'", "DELETE FROM audit"):
        async with AsyncSession(api.engine) as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.exec(text(statement))  # type: ignore[call-overload]

    [entry] = await audit(api)
    assert entry["actor"] == "cli ana"


async def test_old_entries_stay_readable_by_time(api: Api, clock: Clock) -> None:
    await api.put(f"/v1/jobs/{IMPORT}", {"title": "Nightly import"})
    clock.advance(days=500)  # longer than retention: the audit log is not pruned with events
    await api.put(f"/v1/jobs/{IMPORT}", {"title": "Nightly product import"})

    until = (clock() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [e["details"]["created"] for e in await audit(api, f"?until={until}")] == [True]  # type: ignore[index]
