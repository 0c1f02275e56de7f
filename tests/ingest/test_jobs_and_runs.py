"""People and the bot read jobs and runs back; admins define jobs."""

from typing import Any

import pytest

from tests.conftest import Api

JOB = "nightly-product-import"


async def run_of(api: Api, job: str, key: str, start: str, finish: str | None = None,
                 status: str = "succeeded") -> None:
    events: list[dict[str, Any]] = [{"job": job, "run": key, "kind": "start", "at": start}]
    if finish:
        events.append({"job": job, "run": key, "kind": "finish", "status": status, "at": finish})
    await api.send_ok(events)


async def test_the_job_list_shows_each_jobs_state_and_last_run(api: Api) -> None:
    await run_of(api, "import", "mon", "2026-11-23T00:10:00Z", "2026-11-23T01:00:00Z")
    await run_of(api, "import", "tue", "2026-11-24T00:10:00Z", "2026-11-24T00:20:00Z", "partial")
    await run_of(api, "report", "tue", "2026-11-24T05:00:00Z")
    await run_of(api, "cleanup", "x", "2026-11-24T05:00:00Z", "2026-11-24T05:01:00Z", "failed")
    await api.put("/v1/jobs/idle", {"title": "Never ran"})

    jobs = {j["job"]: j for j in (await api.get_ok("/v1/jobs"))["jobs"]}

    assert {slug: j["state"] for slug, j in jobs.items()} == {
        "import": "partial", "report": "running", "cleanup": "failed", "idle": "unknown"}
    assert jobs["import"]["last_run"]["run"] == "tue"
    assert jobs["import"]["last_run"]["duration_seconds"] == 600
    assert jobs["idle"]["last_run"] is None


async def test_runs_are_listed_newest_first_within_a_window(api: Api) -> None:
    for day in range(1, 11):
        await run_of(api, JOB, f"d{day:02}", f"2026-11-{day:02}T00:12:00+01:00",
                     f"2026-11-{day:02}T02:00:00+01:00")

    everything = await api.get_ok(f"/v1/jobs/{JOB}/runs")
    window = await api.get_ok(
        f"/v1/jobs/{JOB}/runs?since=2026-11-03T00:00:00%2B01:00&until=2026-11-06T00:00:00%2B01:00")
    latest_two = await api.get_ok(f"/v1/jobs/{JOB}/runs?limit=2")

    assert [r["run"] for r in everything["runs"]] == [f"d{d:02}" for d in range(10, 0, -1)]
    assert [r["run"] for r in window["runs"]] == ["d05", "d04", "d03"]
    assert [r["run"] for r in latest_two["runs"]] == ["d10", "d09"]


@pytest.mark.parametrize(("query", "field"), [
    ("since=yesterday", "since"), ("until=2026-11-01T00:00:00", "until"),
    ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=ten", "limit"),
])
async def test_bad_run_queries_name_the_parameter(api: Api, query: str, field: str) -> None:
    await run_of(api, JOB, "r", "2026-11-01T00:00:00Z")

    response = await api.get(f"/v1/jobs/{JOB}/runs?{query}")

    assert response.status == 422
    assert (await response.json())["details"][0]["field"] == field


async def test_an_admin_defines_a_job_with_aliases_and_timezone(api: Api) -> None:
    response = await api.put(f"/v1/jobs/{JOB}", {
        "title": "Nightly product import", "description": "Supplier feed → catalogue",
        "aliases": ["the import", "product import"], "owner": "data-team",
        "timezone": "Europe/Berlin"})

    assert response.status == 201
    job = await api.get_ok(f"/v1/jobs/{JOB}")
    assert job["title"] == "Nightly product import"
    assert job["aliases"] == ["the import", "product import"]
    assert job["timezone"] == "Europe/Berlin"


async def test_put_replaces_the_definition_and_keeps_the_runs(api: Api) -> None:
    await run_of(api, JOB, "r1", "2026-11-01T00:00:00Z")
    await api.put(f"/v1/jobs/{JOB}", {"title": "Old", "owner": "someone"})

    response = await api.put(f"/v1/jobs/{JOB}", {"title": "New"})

    assert response.status == 200
    job = await api.get_ok(f"/v1/jobs/{JOB}")
    assert (job["title"], job["owner"]) == ("New", "")
    assert len((await api.get_ok(f"/v1/jobs/{JOB}/runs"))["runs"]) == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"aliases": "the import"}, "aliases"),
    ({"aliases": [""]}, "aliases.0"),
    ({"title": ""}, "title"),
    ({"titel": "typo"}, "titel"),
    ({"owner": 7}, "owner"),
])
async def test_a_bad_definition_names_the_field_and_changes_nothing(
    api: Api, body: dict[str, Any], field: str
) -> None:
    await api.put(f"/v1/jobs/{JOB}", {"title": "Kept"})

    response = await api.put(f"/v1/jobs/{JOB}", body)

    assert response.status == 422
    assert field in [d["field"] for d in (await response.json())["details"]]
    assert (await api.get_ok(f"/v1/jobs/{JOB}"))["title"] == "Kept"


async def test_a_definition_for_an_impossible_slug_is_refused(api: Api) -> None:
    response = await api.put("/v1/jobs/Not%20A%20Slug", {"title": "x"})

    assert response.status == 422
    assert (await response.json())["details"][0]["field"] == "job"


async def test_health_answers_when_the_database_does(api: Api) -> None:
    response = await api.client.get("/healthz")

    assert response.status == 200
    assert await response.json() == {"status": "ok"}
