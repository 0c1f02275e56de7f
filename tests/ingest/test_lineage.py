"""A pipeline that speaks OpenLineage reports its runs to OpenTrace through the real
`openlineage-python` client's HTTP transport, and reads them back as OpenTrace runs."""

import asyncio
import gzip
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attr
import pytest
import requests
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    RunFacet,
    data_quality_metrics_input_dataset,
    error_message_run,
    nominal_time_run,
    output_statistics_output_dataset,
    parent_run,
)
from openlineage.client.transport.http import HttpConfig, HttpTransport

from ingest import lineage
from ingest.schemas import SLUG
from tests.conftest import Api

PATH = "/api/v1/lineage"
NAMESPACE = "airflow://etl-prod"
NAME = "Nightly_Import.load_orders"
JOB = "airflow-etl-prod-nightly_import.load_orders"
RUN_ID = "0195f5c6-7c2a-7d3e-9a41-1b2c3d4e5f60"
PARENT_RUN_ID = "0195f5c6-0000-7000-8000-000000000001"
PRODUCER = "https://github.com/example/orders-pipeline/v1"
ORDERS_CSV = "/data/supplier/orders-2026-11-25.csv"


@attr.define
class ReleaseRunFacet(RunFacet):
    """A custom facet, as a pipeline would define its own."""

    release: str
    batches: int


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No openlineage.yml, OPENLINEAGE_* variable or proxy setting of the developer's reaches the client."""
    for name in [key for key in os.environ if key.upper().startswith(("OPENLINEAGE", "HTTP_PROXY",
                                                                       "HTTPS_PROXY", "ALL_PROXY"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)


Emit = Callable[..., OpenLineageClient]


@pytest.fixture
def openlineage(api: Api, isolated: None) -> Iterator[Emit]:
    """Makes OpenLineage clients configured as a user would: HTTP transport, api_key auth."""
    made: list[OpenLineageClient] = []

    def make(token: str | None = None, **transport: Any) -> OpenLineageClient:
        config = HttpConfig.from_dict({
            "url": f"http://127.0.0.1:{api.client.port}",
            "endpoint": "api/v1/lineage",
            "auth": {"type": "api_key", "apiKey": token or api.tokens["ingest"]},
            "timeout": 10,
            "retry": {"total": 0, "status_forcelist": []},  # a failure shows at once
            **transport,
        })
        session = requests.Session()
        session.trust_env = False  # no proxy, no .netrc: straight to 127.0.0.1
        config.session = session
        client = OpenLineageClient(
            transport=HttpTransport(config),
            config={"facets": {"source_code_location": {"disabled": True}}},
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


async def emit(client: OpenLineageClient, event: RunEvent) -> None:
    """The client is synchronous: send from a thread so the server on this loop can answer."""
    await asyncio.to_thread(client.emit, event)


def run_event(
    state: RunState | None,
    at: str,
    *,
    run_facets: dict[str, Any] | None = None,
    inputs: list[InputDataset] | None = None,
    outputs: list[OutputDataset] | None = None,
    namespace: str = NAMESPACE,
    name: str = NAME,
) -> RunEvent:
    return RunEvent(
        eventType=state,
        eventTime=at,
        run=Run(runId=RUN_ID, facets=run_facets or {}),
        job=Job(namespace=namespace, name=name),
        producer=PRODUCER,
        inputs=inputs or [],
        outputs=outputs or [],
    )


def orders_input(rows: int, name: str = ORDERS_CSV) -> InputDataset:
    metrics = data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet(
        columnMetrics={}, rowCount=rows)
    return InputDataset(namespace="file", name=name, inputFacets={"dataQualityMetrics": metrics})


def orders_output(rows: int, size: int) -> OutputDataset:
    statistics = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(rowCount=rows, size=size)
    return OutputDataset(namespace="postgres://warehouse:5432", name="sales.public.orders",
                         outputFacets={"outputStatistics": statistics})


def raw_event(state: str | None = "START", **changes: Any) -> dict[str, Any]:
    """A RunEvent as JSON, for what the client would refuse to build."""
    event: dict[str, Any] = {
        "eventTime": "2026-11-25T06:00:00+01:00",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": RUN_ID},
        "job": {"namespace": NAMESPACE, "name": NAME},
    }
    if state is not None:
        event["eventType"] = state
    return {**event, **changes}


async def post(api: Api, body: Any, scope: str | None = "ingest") -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **api.auth(scope)}
    response = await api.client.post(PATH, data=data, headers=headers)
    return response.status, await response.json()


async def stored_run(api: Api, job: str = JOB, run: str = RUN_ID) -> dict[str, Any]:
    report: dict[str, Any] = await api.get_ok(f"/v1/jobs/{job}/runs/{run}")
    return report


def payload(report: dict[str, Any], name: str) -> Any:
    [found] = [p["data"] for p in report["payloads"] if p["name"] == name]
    return found


# --- the client's events, stored ------------------------------------------------------------


async def test_a_start_and_a_complete_from_the_openlineage_client_make_a_succeeded_run(
    api: Api, openlineage: Emit
) -> None:
    client = openlineage()
    nominal = nominal_time_run.NominalTimeRunFacet(
        nominalStartTime="2026-11-25T05:00:00Z", nominalEndTime="2026-11-26T05:00:00Z")
    parent = parent_run.ParentRunFacet(run=parent_run.Run(runId=PARENT_RUN_ID),
                                       job=parent_run.Job(namespace=NAMESPACE, name="Nightly_Import"))
    release = ReleaseRunFacet(release="2026.11.3", batches=4)

    await emit(client, run_event(
        RunState.START, "2026-11-25T06:00:00+01:00",
        run_facets={"nominalTime": nominal, "parent": parent, "release": release},
        inputs=[orders_input(rows=1200)]))
    await emit(client, run_event(
        RunState.COMPLETE, "2026-11-25T06:05:30+01:00",
        outputs=[orders_output(rows=1180, size=52_000)]))

    report = await stored_run(api)
    assert report["status"] == "succeeded"
    assert (report["started_at"], report["finished_at"]) == ("2026-11-25T05:00:00Z", "2026-11-25T05:05:30Z")
    assert report["duration_seconds"] == 330
    assert report["attributes"] == {
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "nominalStartTime": "2026-11-25T05:00:00Z",
        "nominalEndTime": "2026-11-26T05:00:00Z",
        "parent": {"namespace": NAMESPACE, "name": "Nightly_Import", "runId": PARENT_RUN_ID},
    }
    # "which file did it read, which table did it write?"
    [read] = payload(report, "inputs")["datasets"]
    assert (read["namespace"], read["name"]) == ("file", ORDERS_CSV)
    assert read["inputFacets"]["dataQualityMetrics"]["rowCount"] == 1200
    [written] = payload(report, "outputs")["datasets"]
    assert (written["namespace"], written["name"]) == ("postgres://warehouse:5432", "sales.public.orders")
    assert {name: (m["value"], m["unit"]) for name, m in report["metrics"].items()} == {
        "rows_read": (1200, "rows"), "rows_written": (1180, "rows"), "bytes_written": (52_000, "bytes")}
    facets = [p["data"] for p in report["payloads"] if p["name"] == "openlineage.facets"]
    assert facets[0]["run"]["release"].items() >= {"release": "2026.11.3", "batches": 4}.items()
    assert facets[0]["run"]["nominalTime"]["nominalStartTime"] == "2026-11-25T05:00:00Z"
    kinds = [e["kind"] for e in report["events"]]
    assert (kinds[0], kinds[-1]) == ("start", "finish")
    assert report["notes"] == []


async def test_the_job_is_named_after_the_openlineage_namespace_and_name(
    api: Api, openlineage: Emit
) -> None:
    await emit(openlineage(), run_event(RunState.START, "2026-11-25T06:00:00Z"))

    job = await api.get_ok(f"/v1/jobs/{JOB}")

    assert job["title"] == NAME
    assert job["aliases"] == [f"{NAMESPACE}/{NAME}"]


async def test_a_failed_run_keeps_its_error_as_an_error_note_and_its_stack_trace(
    api: Api, openlineage: Emit
) -> None:
    trace = "Traceback (most recent call last):\n" + '  File "load.py", line 12, in load\n' * 3000 \
        + "KeyError: 'EAN13'\n"
    error = error_message_run.ErrorMessageRunFacet(
        message="KeyError: 'EAN13'\nwhile loading batch 3", programmingLanguage="PYTHON", stackTrace=trace)
    client = openlineage()
    await emit(client, run_event(RunState.START, "2026-11-25T06:00:00Z"))

    await emit(client, run_event(RunState.FAIL, "2026-11-25T06:02:00Z", run_facets={"errorMessage": error}))

    report = await stored_run(api)
    assert report["status"] == "failed"
    assert report["summary"] == "KeyError: 'EAN13'"
    assert report["notes"] == [{"level": "error", "at": "2026-11-25T06:02:00Z",
                                "text": "[PYTHON] KeyError: 'EAN13'\nwhile loading batch 3"}]
    stored = payload(report, "openlineage.errorMessage")
    assert stored["programmingLanguage"] == "PYTHON"
    # over 64 KiB: the head and the tail of the stack trace are kept
    assert len(json.dumps(stored, ensure_ascii=False).encode()) <= 64 * 1024
    assert stored["stackTrace"].startswith("Traceback (most recent call last):")
    assert stored["stackTrace"].endswith("KeyError: 'EAN13'\n")
    assert "characters, some left out" in stored["stackTrace"]


async def test_a_long_error_message_is_cut_to_4000_characters_in_the_note(api: Api) -> None:
    message = "x" * 10_000
    body = raw_event("FAIL", run={"runId": RUN_ID, "facets": {
        "errorMessage": {"message": message, "programmingLanguage": "JAVA"}}})

    status, _ = await post(api, body)

    assert status == 202
    report = await stored_run(api)
    [note] = report["notes"]
    assert note["level"] == "error" and len(note["text"]) == 4000 and note["text"].startswith("[JAVA] xxx")
    assert payload(report, "openlineage.errorMessage")["message"] == message


@pytest.mark.parametrize(("state", "status"), [("ABORT", "cancelled"), ("COMPLETE", "succeeded")])
async def test_abort_and_complete_finish_the_run(api: Api, state: str, status: str) -> None:
    await post(api, raw_event("START"))

    answer, _ = await post(api, raw_event(state, eventTime="2026-11-25T06:10:00+01:00"))

    assert answer == 202
    report = await stored_run(api)
    assert report["status"] == status and report["finished_at"] == "2026-11-25T05:10:00Z"


async def test_running_is_a_progress_heartbeat_with_the_rows_written_so_far(api: Api) -> None:
    await post(api, raw_event("START"))
    await post(api, raw_event("RUNNING", eventTime="2026-11-25T06:01:00+01:00"))
    first = (await stored_run(api))["progress"]

    written = {"namespace": "s3://lake", "name": "orders",
               "outputFacets": {"outputStatistics": {"rowCount": 700}}}
    await post(api, raw_event("RUNNING", eventTime="2026-11-25T06:02:00+01:00", outputs=[written]))

    report = await stored_run(api)
    assert first == {"done": 0, "total": None, "unit": None, "stage": "running", "at": "2026-11-25T05:01:00Z"}
    assert report["progress"] == {"done": 700, "total": None, "unit": "rows", "stage": "running",
                                  "at": "2026-11-25T05:02:00Z"}
    assert report["status"] == "running" and report["notes"] == []


@pytest.mark.parametrize(("state", "text"), [
    ("OTHER", "OpenLineage OTHER event"),
    (None, "OpenLineage event without eventType"),
    ("RESUME", "OpenLineage event of unknown eventType 'RESUME'"),
])
async def test_other_and_missing_event_types_become_a_note(api: Api, state: str | None, text: str) -> None:
    status, _ = await post(api, raw_event(state, job={
        "namespace": NAMESPACE, "name": NAME, "facets": {"jobType": {"jobType": "TASK"}}}))

    assert status == 202
    report = await stored_run(api)
    assert report["notes"] == [{"level": "info", "text": text, "at": "2026-11-25T05:00:00Z"}]
    assert report["status"] == "running"
    assert payload(report, "openlineage.facets") == {"job": {"jobType": {"jobType": "TASK"}}}


async def test_several_datasets_give_totals_and_a_metric_per_dataset(api: Api, openlineage: Emit) -> None:
    inputs = [orders_input(1000, "/data/in/orders.csv"), orders_input(200, "/data/in/returns.csv")]

    await emit(openlineage(), run_event(RunState.COMPLETE, "2026-11-25T06:00:00Z", inputs=inputs))

    metrics = (await stored_run(api))["metrics"]
    assert {name: m["value"] for name, m in metrics.items()} == {
        "rows_read": 1200, "/data/in/orders.csv:rows_read": 1000, "/data/in/returns.csv:rows_read": 200}


async def test_a_long_dataset_name_keeps_its_tail_in_a_metric_name_of_at_most_128(api: Api) -> None:
    names = ["/lake/" + "deep/" * 40 + f"part-{i}.parquet" for i in range(2)]
    inputs = [{"namespace": "s3://lake", "name": n, "inputFacets": {"inputStatistics": {"rowCount": 5}}}
              for n in names]

    await post(api, raw_event("COMPLETE", inputs=inputs))

    metrics = (await stored_run(api))["metrics"]
    per_dataset = sorted(name for name in metrics if name != "rows_read")
    assert len(per_dataset) == 2 and all(len(name) <= 128 for name in per_dataset)
    assert per_dataset[0].endswith("part-0.parquet:rows_read")
    assert per_dataset[1].endswith("part-1.parquet:rows_read")


# --- what does not fit ----------------------------------------------------------------------


async def test_facets_over_64_kib_are_left_out_largest_first_and_the_payload_says_so(api: Api) -> None:
    facets = {"huge": {"blob": "z" * 100_000}, "release": {"release": "2026.11.3"}}

    status, _ = await post(api, raw_event("START", run={"runId": RUN_ID, "facets": facets}))

    assert status == 202
    stored = payload(await stored_run(api), "openlineage.facets")
    assert stored["run"] == {"release": {"release": "2026.11.3"}}
    assert stored["leftOut"] == ["run.huge"]
    assert "64 KiB" in stored["truncated"]


async def test_datasets_over_64_kib_lose_their_facets_but_keep_their_names(api: Api) -> None:
    inputs = [{"namespace": "file", "name": f"/data/in/part-{i}.csv",
               "facets": {"schema": {"fields": [{"name": f"c{j}", "type": "STRING"} for j in range(400)]}}}
              for i in range(20)]

    status, _ = await post(api, raw_event("START", inputs=inputs))

    assert status == 202
    stored = payload(await stored_run(api), "inputs")
    assert [d["name"] for d in stored["datasets"]] == [f"/data/in/part-{i}.csv" for i in range(20)]
    assert "truncated" in stored
    assert any(d.get("leftOut") == ["facets.schema"] for d in stored["datasets"])
    assert len(json.dumps(stored, ensure_ascii=False).encode()) <= 64 * 1024


async def test_facet_text_no_column_can_hold_is_replaced_not_refused(api: Api) -> None:
    facets = {"custom": {"text": "nul\u0000here", "deep": json.loads("[" * 40 + "]" * 40)}}

    status, _ = await post(api, raw_event("START", run={"runId": RUN_ID, "facets": facets}))

    assert status == 202
    stored = payload(await stored_run(api), "openlineage.facets")
    assert stored["run"]["custom"]["text"] == "nul\ufffdhere"
    assert "nested too deeply" in json.dumps(stored["run"]["custom"]["deep"])


# --- jobs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("namespace", "name", "slug"), [
    ("airflow://etl-prod", "Nightly_Import.load_orders", JOB),
    ("default", "Müller  Export // weekly", "default-muller-export-weekly"),
    ("", "...", "openlineage-"),
])
def test_job_slugs_are_v1_slugs(namespace: str, name: str, slug: str) -> None:
    made = lineage.job_slug(namespace, name)
    assert made.startswith(slug)
    assert SLUG.match(made) and made.strip(".")


def test_long_job_names_that_differ_at_the_end_get_distinct_slugs_of_128() -> None:
    first = lineage.job_slug("spark", "x" * 300 + "a")
    second = lineage.job_slug("spark", "x" * 300 + "b")
    assert len(first) == len(second) == 128 and first != second


async def test_a_title_and_aliases_set_by_an_admin_are_never_overwritten(api: Api) -> None:
    response = await api.put(f"/v1/jobs/{JOB}", {"title": "Order import", "aliases": ["orders"]})
    assert response.status == 201

    await post(api, raw_event("START"))

    job = await api.get_ok(f"/v1/jobs/{JOB}")
    assert (job["title"], job["aliases"]) == ("Order import", ["orders"])


async def test_an_admin_title_is_kept_when_the_job_only_gets_its_alias(api: Api) -> None:
    await api.put(f"/v1/jobs/{JOB}", {"title": "Order import"})

    await post(api, raw_event("START"))

    job = await api.get_ok(f"/v1/jobs/{JOB}")
    assert (job["title"], job["aliases"]) == ("Order import", [f"{NAMESPACE}/{NAME}"])


# --- retries --------------------------------------------------------------------------------


async def test_a_retried_run_event_is_acknowledged_as_duplicates_and_stored_once(api: Api) -> None:
    body = raw_event("COMPLETE", inputs=[{"namespace": "file", "name": ORDERS_CSV,
                                          "inputFacets": {"dataQualityMetrics": {"rowCount": 3}}}])
    status, first = await post(api, body)
    assert status == 202 and first["duplicates"] == 0
    before = await api.stored()

    status, again = await post(api, body)

    assert status == 202
    assert (again["accepted"], again["duplicates"]) == (0, first["accepted"])
    assert again["runs"] == [{"job": JOB, "run": RUN_ID}]
    assert await api.stored() == before


async def test_the_client_sending_the_same_event_twice_stores_it_once(api: Api, openlineage: Emit) -> None:
    client = openlineage()
    event = run_event(RunState.START, "2026-11-25T06:00:00Z", inputs=[orders_input(5)])
    await emit(client, event)
    count = len((await stored_run(api))["events"])

    await emit(client, event)

    assert len((await stored_run(api))["events"]) == count


async def test_a_gzip_compressed_event_is_accepted(api: Api, openlineage: Emit) -> None:
    await emit(openlineage(compression="gzip"), run_event(RunState.START, "2026-11-25T06:00:00Z"))

    assert (await stored_run(api))["status"] == "running"


# --- refusals -------------------------------------------------------------------------------


def without(event: dict[str, Any], path: str) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(event))
    *parents, last = path.split(".")
    target = copy
    for part in parents:
        target = target[part]
    del target[last]
    return copy


@pytest.mark.parametrize(("body", "status", "field"), [
    (b"{not json", 400, None),
    (gzip.compress(b"{}"), 400, None),
    ([raw_event()], 422, "(body)"),
    (without(raw_event(), "run.runId"), 422, "run.runId"),
    (without(raw_event(), "job.name"), 422, "job.name"),
    (without(raw_event(), "job.namespace"), 422, "job.namespace"),
    (without(raw_event(), "eventTime"), 422, "eventTime"),
    (raw_event(eventTime="2026-11-25T06:00:00"), 422, "eventTime"),
    (raw_event(eventTime="2026-11-25"), 422, "eventTime"),
    (raw_event(run={"runId": "r" * 129}), 422, "run.runId"),
    (raw_event(run={"runId": 42}), 422, "run.runId"),
    (raw_event(job={"namespace": NAMESPACE, "name": ""}), 422, "job.name"),
    (raw_event(job={"namespace": NAMESPACE, "name": "nul\u0000"}), 422, "job.name"),
    (raw_event(eventType=3), 422, "eventType"),
    (raw_event(run={"runId": RUN_ID, "facets": ["not", "an", "object"]}), 422, "run.facets"),
    (raw_event(inputs={"namespace": "file"}), 422, "inputs"),
    (raw_event(inputs=[{"namespace": "file", "name": "/a"}, {"namespace": "file"}]), 422, "inputs.1.name"),
    ({"eventTime": "2026-11-25T06:00:00Z", "producer": PRODUCER,
      "dataset": {"namespace": "file", "name": "/a"}}, 422, "run"),
])
async def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(
    api: Api, body: Any, status: int, field: str | None
) -> None:
    await post(api, raw_event("START", run={"runId": "0195f5c6-aaaa-7000-8000-000000000000"}))
    before = await api.stored()

    answer, error = await post(api, body)

    assert answer == status, error
    assert error["error"]
    if field is not None:
        assert field in [d["field"] for d in error["details"]], error
    assert await api.stored() == before


@pytest.mark.parametrize(("scope", "headers", "status"), [
    (None, {}, 401),
    (None, {"Authorization": "Bearer not-a-token"}, 401),
    (None, {"Authorization": "Basic dXNlcjpwYXNz"}, 401),
    ("read", {}, 403),
])
async def test_a_request_without_an_ingest_token_is_refused_and_nothing_is_stored(
    api: Api, scope: str | None, headers: dict[str, str], status: int
) -> None:
    before = await api.stored()

    response = await api.client.post(PATH, json=raw_event(), headers={**api.auth(scope), **headers})

    assert response.status == status
    assert (await response.json())["error"]
    assert await api.stored() == before


async def test_the_client_raises_when_the_server_refuses_its_token(api: Api, openlineage: Emit) -> None:
    before = await api.stored()

    with pytest.raises(requests.HTTPError) as refused:
        await emit(openlineage(token="not-a-token"), run_event(RunState.START, "2026-11-25T06:00:00Z"))

    assert refused.value.response is not None and refused.value.response.status_code == 401
    assert await api.stored() == before
