"""The seed story, told through the ingest contract: seven normal nights of the nightly
product import, then the night the supplier changed the file format. Plus a few other jobs
so that questions have something to choose between."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.conftest import Api

BERLIN = ZoneInfo("Europe/Berlin")
IMPORT = "nightly-product-import"
# "Now" in the story: Wednesday 25 November 2026, 08:00 in Berlin.
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=BERLIN)
NORMAL_SKIPPED = [41, 38, 45, 30, 50, 36, 42]


def at(day: int, hour: int, minute: int) -> str:
    return datetime(2026, 11, day, hour, minute, tzinfo=BERLIN).isoformat()


def normal_night(day: int, skipped: int) -> list[dict[str, Any]]:
    run = {"job": IMPORT, "run": f"2026-11-{day:02}"}
    return [
        {**run, "kind": "start", "at": at(day, 0, 12), "attributes": {"host": "etl-1"}},
        {**run, "kind": "payload", "at": at(day, 0, 13), "name": "input-file",
         "data": {"path": f"/data/supplier/products-2026-11-{day:02}.csv"}},
        {**run, "kind": "milestone", "at": at(day, 0, 14), "name": "file-read"},
        {**run, "kind": "metric", "at": at(day, 0, 40), "name": "rows_processed",
         "value": 120_000 + day * 10, "unit": "rows"},
        {**run, "kind": "metric", "at": at(day, 0, 40), "name": "rows_skipped", "value": skipped,
         "unit": "rows"},
        {**run, "kind": "metric", "at": at(day, 1, 10), "name": "products_matched",
         "value": 118_000 + day * 10},
        {**run, "kind": "milestone", "at": at(day, 1, 10), "name": "products-matched"},
        {**run, "kind": "milestone", "at": at(day, 1, 30), "name": "promotions-applied"},
        {**run, "kind": "payload", "at": at(day, 1, 50), "name": "output-report",
         "data": {"path": f"/reports/sales-2026-11-{day:02}.xlsx"}},
        {**run, "kind": "milestone", "at": at(day, 1, 50), "name": "report-published"},
        {**run, "kind": "finish", "at": at(day, 1, 52), "status": "succeeded"},
    ]


def the_bad_night() -> list[dict[str, Any]]:
    run = {"job": IMPORT, "run": "2026-11-25"}
    return [
        {**run, "kind": "start", "at": at(25, 0, 12), "attributes": {"host": "etl-1"}},
        {**run, "kind": "payload", "at": at(25, 0, 13), "name": "input-file",
         "data": {"path": "/data/supplier/products-2026-11-25.csv"}},
        {**run, "kind": "milestone", "at": at(25, 0, 14), "name": "file-read"},
        {**run, "kind": "note", "at": at(25, 0, 20), "level": "warning",
         "text": "unknown column 'EAN13' in supplier file"},
        {**run, "kind": "metric", "at": at(25, 0, 30), "name": "rows_processed", "value": 1_204,
         "unit": "rows"},
        {**run, "kind": "metric", "at": at(25, 0, 30), "name": "rows_skipped", "value": 8_911,
         "unit": "rows"},
        {**run, "kind": "finish", "at": at(25, 0, 31), "status": "partial",
         "text": "exited early: too many rows skipped"},
    ]


def other_jobs() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for day in range(18, 25):  # a daily export, fine
        run = {"job": "customer-export", "run": f"2026-11-{day:02}"}
        events += [{**run, "kind": "start", "at": at(day, 5, 0)},
                   {**run, "kind": "finish", "at": at(day, 5, 20), "status": "succeeded"}]
    sync = {"job": "inventory-sync", "run": "2026-11-25"}  # running now, half way
    events += [{**sync, "kind": "start", "at": at(25, 7, 0)},
               {**sync, "kind": "progress", "at": at(25, 7, 30), "done": 5_000, "total": 10_000,
                "unit": "items", "stage": "warehouse-b"}]
    customer = {"job": "customer-import", "run": "2026-11-24"}  # fine, weekly
    events += [{**customer, "kind": "start", "at": at(24, 4, 0)},
               {**customer, "kind": "finish", "at": at(24, 4, 3), "status": "succeeded"}]
    price = {"job": "price-import", "run": "2026-11-25"}  # failed
    events += [{**price, "kind": "start", "at": at(25, 3, 0)},
               {**price, "kind": "milestone", "at": at(25, 3, 5), "name": "prices-downloaded"},
               {**price, "kind": "milestone", "at": at(25, 3, 6), "name": "prices-validated",
                "status": "failed", "text": "negative price for SKU 4711"},
               {**price, "kind": "note", "at": at(25, 3, 6), "level": "error",
                "text": "ValueError: negative price for SKU 4711"},
               {**price, "kind": "finish", "at": at(25, 3, 7), "status": "failed",
                "text": "ValueError: negative price for SKU 4711"}]
    return events


async def tell_the_story(api: Api) -> None:
    response = await api.put(f"/v1/jobs/{IMPORT}", {
        "title": "Nightly product import", "aliases": ["the import", "product import"],
        "owner": "data-team", "timezone": "Europe/Berlin"})
    assert response.status in (200, 201)
    for offset, skipped in enumerate(NORMAL_SKIPPED):
        await api.send_ok(normal_night(18 + offset, skipped))
    await api.send_ok(the_bad_night())
    await api.send_ok(other_jobs())


def story_now() -> datetime:
    return NOW + timedelta(0)
