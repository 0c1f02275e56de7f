"""A job reports its run through POST /v1/events and reads it back as a timeline."""

from typing import Any

from tests.conftest import Api, Clock

JOB = "nightly-product-import"


async def test_one_curl_line_starts_a_run_and_the_server_names_it(api: Api) -> None:
    body = await api.send_ok({"job": JOB, "kind": "start", "attributes": {"host": "etl-1"}})

    assert body["accepted"] == 1 and body["duplicates"] == 0
    [run] = body["runs"]
    assert run["job"] == JOB and run["run"]
    report = await api.get_ok(f"/v1/jobs/{JOB}/runs/{run['run']}")
    assert report["status"] == "running"
    assert report["attributes"] == {"host": "etl-1"}
    assert report["started_at"] == "2026-11-25T06:00:00Z"  # the injected clock: `at` defaulted


async def test_every_kind_is_stored_and_folded_into_the_run_report(api: Api) -> None:
    run = {"job": JOB, "run": "2026-11-25"}
    await api.send_ok([
        {**run, "kind": "start", "at": "2026-11-25T00:12:00+01:00", "attributes": {"trigger": "cron"}},
        {**run, "kind": "progress", "at": "2026-11-25T00:20:00+01:00", "done": 500, "total": 1000,
         "unit": "rows", "stage": "matching"},
        {**run, "kind": "metric", "at": "2026-11-25T00:30:00+01:00", "name": "rows_skipped",
         "value": 8911, "unit": "rows"},
        {**run, "kind": "note", "at": "2026-11-25T00:31:00+01:00", "text": "unknown column 'EAN13'",
         "level": "warning"},
        {**run, "kind": "payload", "at": "2026-11-25T00:13:00+01:00", "name": "input-file",
         "data": {"path": "/data/supplier/products-2026-11-25.csv", "bytes": 1234567}},
        {**run, "kind": "duration", "at": "2026-11-25T00:32:00+01:00", "name": "matching",
         "seconds": 42.5},
        {**run, "kind": "milestone", "at": "2026-11-25T00:14:00+01:00", "name": "file-read"},
        {**run, "kind": "milestone", "at": "2026-11-25T00:33:00+01:00", "name": "products-matched",
         "status": "failed", "text": "too many skipped rows"},
        {**run, "kind": "finish", "at": "2026-11-25T00:34:00+01:00", "status": "partial",
         "text": "exited early"},
    ])

    report = await api.get_ok(f"/v1/jobs/{JOB}/runs/2026-11-25")

    assert report["status"] == "partial"
    assert report["summary"] == "exited early"
    assert report["started_at"] == "2026-11-24T23:12:00Z"
    assert report["finished_at"] == "2026-11-24T23:34:00Z"
    assert report["duration_seconds"] == 22 * 60
    assert [(m["name"], m["status"]) for m in report["milestones"]] == [
        ("file-read", "reached"), ("products-matched", "failed")]
    assert report["milestones"][1]["text"] == "too many skipped rows"
    assert report["metrics"] == {"rows_skipped": {"value": 8911, "unit": "rows",
                                                  "at": "2026-11-24T23:30:00Z"}}
    assert report["progress"] == {"done": 500, "total": 1000, "unit": "rows", "stage": "matching",
                                  "at": "2026-11-24T23:20:00Z"}
    assert report["notes"] == [{"level": "warning", "text": "unknown column 'EAN13'",
                                "at": "2026-11-24T23:31:00Z"}]
    assert report["payloads"][0]["data"]["path"] == "/data/supplier/products-2026-11-25.csv"
    assert report["durations"] == [{"name": "matching", "seconds": 42.5,
                                    "at": "2026-11-24T23:32:00Z"}]
    kinds = [e["kind"] for e in report["events"]]
    assert kinds == ["start", "payload", "milestone", "progress", "metric", "note", "duration",
                     "milestone", "finish"]  # ordered by `at`, not by arrival


async def test_events_without_a_run_attach_to_the_jobs_latest_unfinished_run(api: Api) -> None:
    first = (await api.send_ok({"job": JOB, "kind": "start"}))["runs"][0]["run"]
    await api.send_ok({"job": JOB, "kind": "finish", "status": "succeeded"})
    api_clock_run = (await api.send_ok({"job": JOB, "kind": "start", "run": "second"}))["runs"][0]

    body = await api.send_ok({"job": JOB, "kind": "metric", "name": "rows", "value": 3})

    assert body["runs"] == [api_clock_run] and api_clock_run["run"] == "second"
    assert (await api.get_ok(f"/v1/jobs/{JOB}/runs/{first}"))["status"] == "succeeded"


async def test_a_batch_can_start_report_and_finish_a_run_without_naming_it(api: Api) -> None:
    body = await api.send_ok([
        {"job": JOB, "kind": "start"},
        {"job": JOB, "kind": "milestone", "name": "file-read"},
        {"job": JOB, "kind": "finish", "status": "succeeded"},
    ])

    [run] = body["runs"]
    report = await api.get_ok(f"/v1/jobs/{JOB}/runs/{run['run']}")
    assert report["status"] == "succeeded" and len(report["events"]) == 3


async def test_a_retried_batch_is_acknowledged_as_duplicates_and_stored_once(api: Api) -> None:
    batch = [{"job": JOB, "run": "r1", "kind": "metric", "name": "rows", "value": i, "id": f"m{i}"}
             for i in range(5)]
    await api.send_ok(batch[:3])

    body = await api.send_ok(batch)

    assert (body["accepted"], body["duplicates"]) == (2, 3)
    report = await api.get_ok(f"/v1/jobs/{JOB}/runs/r1")
    assert sorted(e["id"] for e in report["events"]) == ["m0", "m1", "m2", "m3", "m4"]


async def test_the_same_id_twice_in_one_batch_is_stored_once(api: Api) -> None:
    event = {"job": JOB, "run": "r1", "kind": "note", "text": "hello", "id": "n1"}

    body = await api.send_ok([event, event])

    assert (body["accepted"], body["duplicates"]) == (1, 1)


async def test_the_same_id_in_another_run_is_a_different_event(api: Api) -> None:
    await api.send_ok({"job": JOB, "run": "a", "kind": "note", "text": "x", "id": "same"})

    body = await api.send_ok({"job": JOB, "run": "b", "kind": "note", "text": "x", "id": "same"})

    assert body["accepted"] == 1


async def test_events_arriving_before_start_and_after_finish_are_kept_in_time_order(
    api: Api,
) -> None:
    run = {"job": JOB, "run": "late-start"}
    await api.send_ok({**run, "kind": "metric", "name": "rows", "value": 1,
                       "at": "2026-11-25T01:00:00Z"})
    await api.send_ok({**run, "kind": "finish", "status": "succeeded", "at": "2026-11-25T03:00:00Z"})
    await api.send_ok({**run, "kind": "start", "at": "2026-11-25T00:30:00Z"})
    await api.send_ok({**run, "kind": "note", "text": "cleanup done", "at": "2026-11-25T03:05:00Z"})

    report = await api.get_ok(f"/v1/jobs/{JOB}/runs/late-start")

    assert [e["kind"] for e in report["events"]] == ["start", "metric", "finish", "note"]
    assert report["status"] == "succeeded"
    assert report["started_at"] == "2026-11-25T00:30:00Z"
    assert report["finished_at"] == "2026-11-25T03:00:00Z"
    assert report["last_event_at"] == "2026-11-25T03:05:00Z"


async def test_a_run_seen_before_its_start_begins_at_its_earliest_event(api: Api) -> None:
    run = {"job": JOB, "run": "no-start"}
    await api.send_ok({**run, "kind": "metric", "name": "x", "value": 1, "at": "2026-11-25T02:00:00Z"})
    await api.send_ok({**run, "kind": "metric", "name": "x", "value": 2, "at": "2026-11-25T01:00:00Z"})

    report = await api.get_ok(f"/v1/jobs/{JOB}/runs/no-start")

    assert report["started_at"] == "2026-11-25T01:00:00Z"
    # "latest value" means latest by `at`, not by arrival
    assert report["metrics"]["x"] == {"value": 1, "unit": None, "at": "2026-11-25T02:00:00Z"}


async def test_offsets_are_stored_in_utc_and_sub_microseconds_are_dropped(api: Api) -> None:
    await api.send_ok({"job": JOB, "run": "tz", "kind": "start",
                       "at": "2026-03-29T02:30:00.123456789-04:00"})

    report = await api.get_ok(f"/v1/jobs/{JOB}/runs/tz")

    assert report["started_at"] == "2026-03-29T06:30:00.123456Z"


async def test_a_job_seen_for_the_first_time_is_created_with_its_slug_as_title(api: Api) -> None:
    await api.send_ok({"job": "brand-new.job_1", "kind": "start"})

    job = await api.get_ok("/v1/jobs/brand-new.job_1")

    assert job["title"] == "brand-new.job_1" and job["aliases"] == []


async def test_concurrent_requests_are_all_committed_and_answered(api: Api) -> None:
    import asyncio

    async def one(i: int) -> dict[str, Any]:
        return await api.send_ok({"job": f"job-{i % 7}", "run": f"r{i % 3}", "kind": "metric",
                                  "name": "n", "value": i, "id": f"e{i}"})

    answers = await asyncio.gather(*(one(i) for i in range(300)))

    assert sum(a["accepted"] for a in answers) == 300
    total = 0
    for j in range(7):
        for r in range(3):
            response = await api.get(f"/v1/jobs/job-{j}/runs/r{r}")
            if response.status == 200:
                total += len((await response.json())["events"])
    assert total == 300


async def test_one_thousand_events_in_one_request_are_accepted(api: Api, clock: Clock) -> None:
    batch = [{"job": JOB, "run": "big", "kind": "progress", "done": i} for i in range(1000)]

    body = await api.send_ok(batch)

    assert body["accepted"] == 1000
    report = await api.get_ok(f"/v1/jobs/{JOB}/runs/big")
    assert len(report["events"]) == 1000


async def test_a_retried_start_without_a_run_lands_on_the_run_it_created(api: Api) -> None:
    start = {"job": JOB, "kind": "start", "id": "start-1"}
    first = await api.send_ok(start)

    again = await api.send_ok(start)
    twice_in_one_batch = await api.send_ok([{**start, "id": "start-2"}, {**start, "id": "start-2"}])

    assert again["runs"] == first["runs"]
    assert (again["accepted"], again["duplicates"]) == (0, 1)
    assert (twice_in_one_batch["accepted"], twice_in_one_batch["duplicates"]) == (1, 1)
    runs = (await api.get_ok(f"/v1/jobs/{JOB}/runs"))["runs"]
    assert len(runs) == 2
