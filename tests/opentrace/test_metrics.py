"""Operators scrape OpenTrace's own health with Prometheus."""

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Api


async def scrape(api: Api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await api.client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def test_ingested_events_are_counted_by_kind(api: Api) -> None:
    await api.send_ok([{"job": "j", "run": "r", "kind": "start"},
                       {"job": "j", "run": "r", "kind": "metric", "name": "n", "value": 1},
                       {"job": "j", "run": "r", "kind": "metric", "name": "n", "value": 2}])

    samples = await scrape(api)

    path = ("path", "/v1/events")
    assert samples[("opentrace_events_ingested_total", (("kind", "metric"), path))] == 2
    assert samples[("opentrace_events_ingested_total", (("kind", "start"), path))] == 1
    assert samples[("opentrace_ingest_batch_events_count", ())] == 1
    assert samples[("opentrace_ingest_batch_events_sum", ())] == 3
    assert samples[("opentrace_ingest_seconds_count", (path,))] == 1


async def test_rejected_requests_are_counted_by_status(api: Api) -> None:
    await api.send({"job": "j", "kind": "nope"})
    await api.send({"job": "j", "kind": "start"}, scope=None)
    await api.send({"job": "j", "kind": "start"}, scope=None)

    samples = await scrape(api)

    assert samples[("opentrace_requests_rejected_total", (("status", "422"),))] == 1
    assert samples[("opentrace_requests_rejected_total", (("status", "401"),))] == 2
    assert ("opentrace_events_ingested_total", (("kind", "start"), ("path", "/v1/events"))) \
        not in samples


async def test_duplicates_are_counted_apart(api: Api) -> None:
    event = {"job": "j", "run": "r", "kind": "note", "text": "x", "id": "n1"}
    await api.send_ok(event)
    await api.send_ok(event)

    samples = await scrape(api)

    assert samples[("opentrace_events_duplicate_total", ())] == 1
