"""`GET /v1/alerts` lists what the watcher found, filtered by state."""

from alerts.watcher import Watcher
from tests.alerts.test_watcher import berlin
from tests.conftest import Api, Clock


async def test_alerts_are_listed_by_state(api: Api, clock: Clock) -> None:
    clock.now = berlin(23, 12)
    await api.put("/v1/jobs/etl", {"timezone": "Europe/Berlin", "schedule": "0 1 * * *"})
    watcher = Watcher(api.engine, clock=clock)
    clock.now = berlin(25, 12)
    assert len(await watcher.check_due()) == 2

    everything = await api.get_ok("/v1/alerts")
    open_ones = await api.get_ok("/v1/alerts?state=open")
    resolved = await api.get_ok("/v1/alerts?state=resolved")

    assert [a["kind"] for a in everything["alerts"]] == ["did_not_start", "did_not_start"]
    assert [a["occurrence_at"] for a in everything["alerts"]] == [
        "2026-11-25T00:00:00Z", "2026-11-24T00:00:00Z"]  # newest first
    assert everything["alerts"][0]["job"] == "etl"
    assert len(open_ones["alerts"]) == 2 and resolved["alerts"] == []


async def test_bad_alert_queries_are_refused(api: Api) -> None:
    for query, field in (("state=sleeping", "state"), ("limit=0", "limit")):
        response = await api.get(f"/v1/alerts?{query}")
        assert response.status == 422
        assert (await response.json())["details"][0]["field"] == field
    assert (await api.get("/v1/alerts", scope=None)).status == 401
    assert (await api.get("/v1/alerts", scope="ingest")).status == 403
