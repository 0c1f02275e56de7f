"""Nobody should have to ask: the watcher notices, once, on schedule and as telemetry arrives.

Telemetry goes through the real ingest contract (a real server on 127.0.0.1, SQLite and
PostgreSQL); the watcher judges with the injected clock, moved by the test."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.watcher import Opened, Watcher
from bot.engine import Answerer
from storage.alerts import Alert, Delivery, subscribe
from storage.models import Job, Run
from tests.bot.story import BERLIN, IMPORT, normal_night, the_bad_night
from tests.conftest import Api, Clock

SALES = "19:sales-channel@thread.tacv2"
DEFINITION = {
    "title": "Nightly product import", "aliases": ["the import"], "timezone": "Europe/Berlin",
    "schedule": "10 0 * * *",
    "expect": {"start_within": "30m", "milestones": [{"name": "report-published", "by": "5h50m"}],
               "metrics": {"rows_skipped": {"usual": True}}, "final_milestone": "report-published"},
}


def berlin(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=BERLIN)


async def run_ids(api: Api, job: str, keys: list[str]) -> list[int]:
    async with AsyncSession(api.engine) as session:
        found = (await session.exec(select(Run).join(Job).where(
            Job.slug == job, Run.key.in_(keys)))).all()  # type: ignore[attr-defined]
        return [r.id for r in found if r.id is not None]


async def report(api: Api, watcher: Watcher, clock: Clock, events: list[dict[str, Any]],
                 at: datetime) -> list[Opened]:
    clock.now = at
    await api.send_ok(events)
    keys = sorted({e["run"] for e in events})
    return await watcher.judge_runs(await run_ids(api, events[0]["job"], keys))


async def stored_alerts(api: Api) -> list[Alert]:
    async with AsyncSession(api.engine) as session:
        return list((await session.exec(select(Alert).order_by(Alert.id))).all())  # type: ignore[arg-type]


async def deliveries(api: Api) -> list[tuple[str, str, str]]:
    async with AsyncSession(api.engine) as session:
        rows = (await session.exec(select(Alert.kind, Delivery.event, Delivery.target).join(
            Delivery, Delivery.alert_id == Alert.id).order_by(Delivery.id))).all()  # type: ignore[arg-type]
        return [tuple(r) for r in rows]


@pytest.fixture
async def watched(api: Api, clock: Clock) -> tuple[Api, Watcher, Clock]:
    """The import defined on 17 Nov, with seven normal nights behind it and a channel that
    subscribed to its alerts."""
    clock.now = berlin(17, 12)
    assert (await api.put(f"/v1/jobs/{IMPORT}", DEFINITION)).status in (200, 201)
    async with AsyncSession(api.engine) as session:
        await subscribe(SALES, IMPORT, clock.now, session=session)
    watcher = Watcher(api.engine, clock=clock)
    for day, skipped in zip(range(18, 25), [41, 38, 45, 30, 50, 36, 42], strict=True):
        assert await report(api, watcher, clock, normal_night(day, skipped), berlin(day, 2)) == []
        clock.now = berlin(day, 6, 0, 1)
        assert await watcher.check_due() == []
    return api, watcher, clock


async def test_the_seed_night_alerts_once_for_each_thing_that_went_wrong(
    watched: tuple[Api, Watcher, Clock],
) -> None:
    api, watcher, clock = watched

    as_it_ended = await report(api, watcher, clock, the_bad_night(), berlin(25, 0, 32))
    clock.now = berlin(25, 5, 59, 59)
    before_the_deadline = await watcher.check_due()
    clock.now = berlin(25, 6, 0, 0)
    at_the_deadline = await watcher.check_due()
    again = await watcher.check_due()
    judged_again = await watcher.judge_runs(await run_ids(api, IMPORT, ["2026-11-25"]))

    assert sorted(o.alert.kind for o in as_it_ended) == ["ended_early", "metric_out_of_range"]
    reasons = {o.alert.kind: o.alert.reason for o in as_it_ended}
    assert "without reaching 'report-published'" in reasons["ended_early"]
    assert "after 'file-read'" in reasons["ended_early"]
    assert reasons["metric_out_of_range"] == \
        "Nightly product import: 8,911 rows skipped, usually 30–50."
    assert before_the_deadline == []
    assert [o.alert.kind for o in at_the_deadline] == ["milestone_missed"]
    assert "'report-published' was due by 06:00" in at_the_deadline[0].alert.reason
    assert again == [] and judged_again == []
    assert len(await stored_alerts(api)) == 3
    assert sorted(await deliveries(api)) == [
        ("ended_early", "opened", SALES), ("metric_out_of_range", "opened", SALES),
        ("milestone_missed", "opened", SALES)]


async def test_a_night_without_a_start_alerts_at_the_start_deadline(
    watched: tuple[Api, Watcher, Clock],
) -> None:
    _api, watcher, clock = watched

    clock.now = berlin(25, 0, 39, 59)
    early = await watcher.check_due()
    clock.now = berlin(25, 0, 40)
    due = await watcher.check_due()
    clock.now = berlin(25, 6, 30)
    later = await watcher.check_due()

    assert early == []
    assert [o.alert.kind for o in due] == ["did_not_start"]
    assert due[0].alert.reason == ("Nightly product import was due to start at Wed 25 Nov 00:10 "
                                   "and has not started (30 min allowed).")
    assert later == []  # no milestone alert on top: the missing start is the news


async def test_a_later_good_night_resolves_everything_and_says_so_once(
    watched: tuple[Api, Watcher, Clock],
) -> None:
    api, watcher, clock = watched
    await report(api, watcher, clock, the_bad_night(), berlin(25, 0, 32))
    clock.now = berlin(25, 6, 1)
    await watcher.check_due()

    recovered = normal_night(26, 40)
    await report(api, watcher, clock, recovered, berlin(26, 2))
    await watcher.judge_runs(await run_ids(api, IMPORT, ["2026-11-26"]))

    alerts = await stored_alerts(api)
    assert {a.state for a in alerts} == {"resolved"}
    assert all("2026-11-26" in (a.resolution or "") for a in alerts)
    resolved = [d for d in await deliveries(api) if d[1] == "resolved"]
    assert sorted(resolved) == [
        ("ended_early", "resolved", SALES), ("metric_out_of_range", "resolved", SALES),
        ("milestone_missed", "resolved", SALES)]


async def test_a_milestone_reached_late_resolves_its_alert(
    watched: tuple[Api, Watcher, Clock],
) -> None:
    api, watcher, clock = watched
    night = [e for e in normal_night(25, 40) if e.get("name") != "report-published"
             and e["kind"] != "finish"]
    await report(api, watcher, clock, night, berlin(25, 2))
    clock.now = berlin(25, 6, 10)
    missed = await watcher.check_due()

    late = [{"job": IMPORT, "run": "2026-11-25", "kind": "milestone", "name": "report-published",
             "at": berlin(25, 6, 40).isoformat()}]
    await report(api, watcher, clock, late, berlin(25, 6, 40))

    assert [o.alert.kind for o in missed] == ["milestone_missed"]
    [alert] = await stored_alerts(api)
    assert alert.state == "resolved"
    assert alert.resolution == "'report-published' was reached after all (run 2026-11-25)."


async def test_a_restart_repeats_nothing_and_catches_up_once(
    watched: tuple[Api, Watcher, Clock],
) -> None:
    api, watcher, clock = watched
    clock.now = berlin(25, 1)
    first = await watcher.check_due()

    # The service is down for three nights, then starts again.
    clock.now = berlin(28, 9)
    restarted = Watcher(api.engine, clock=clock)
    caught_up = await restarted.check_due()
    once_more = await Watcher(api.engine, clock=clock).check_due()

    assert [o.alert.kind for o in first] == ["did_not_start"]
    assert sorted(o.alert.occurrence_at for o in caught_up
                  if o.alert.occurrence_at) == [berlin(26, 0, 10), berlin(27, 0, 10),
                                                berlin(28, 0, 10)]
    assert once_more == []
    assert len(await stored_alerts(api)) == 4


async def test_a_run_that_fails_alerts_as_it_fails(
    watched: tuple[Api, Watcher, Clock],
) -> None:
    api, watcher, clock = watched
    run = {"job": IMPORT, "run": "2026-11-25"}
    failing = [
        {**run, "kind": "start", "at": berlin(25, 0, 10).isoformat()},
        {**run, "kind": "milestone", "name": "file-read", "status": "failed",
         "text": "supplier file missing", "at": berlin(25, 0, 11).isoformat()},
        {**run, "kind": "finish", "status": "failed", "text": "FileNotFoundError",
         "at": berlin(25, 0, 11).isoformat()},
    ]

    opened = await report(api, watcher, clock, failing, berlin(25, 0, 12))

    assert sorted(o.alert.reason for o in opened) == [
        "Nightly product import failed: FileNotFoundError.",
        "Nightly product import: milestone 'file-read' failed: supplier file missing."]


async def test_a_run_past_its_maximum_runtime_alerts_at_that_instant(api: Api, clock: Clock) -> None:
    clock.now = berlin(24, 12)
    await api.put("/v1/jobs/etl", {"expect": {"max_runtime": "2h"}})
    watcher = Watcher(api.engine, clock=clock)
    await report(api, watcher, clock, [{"job": "etl", "run": "r1", "kind": "start",
                                        "at": berlin(25, 1).isoformat()}], berlin(25, 1))
    await watcher.check_due()

    assert await watcher.next_check_at() == berlin(25, 3)
    clock.now = berlin(25, 2, 59, 59)
    assert await watcher.check_due() == []
    clock.now = berlin(25, 3)
    [overran] = await watcher.check_due()
    assert overran.alert.reason == ("etl has been running for 2 h, longer than its maximum "
                                    "of 2h.")


@pytest.mark.parametrize(("month", "day", "started_utc", "why"), [
    (3, 29, (1, 0), "02:30 does not exist: cron starts the job at 03:00 CEST"),
    (10, 25, (0, 30), "02:30 happens twice: cron starts the job once"),
])
async def test_a_0230_berlin_job_behaves_on_both_dst_nights(
    api: Api, clock: Clock, month: int, day: int, started_utc: tuple[int, int], why: str
) -> None:
    clock.now = berlin(day - 1, 12, month=month)
    await api.put("/v1/jobs/dst-job", {"timezone": "Europe/Berlin", "schedule": "30 2 * * *",
                                       "expect": {"start_within": "20m"}})
    watcher = Watcher(api.engine, clock=clock)
    clock.now = berlin(day - 1, 13, month=month)
    assert await watcher.check_due() == []
    at = datetime(2026, month, day, *started_utc, tzinfo=UTC)
    await report(api, watcher, clock, [{"job": "dst-job", "run": "r", "kind": "start",
                                        "at": at.isoformat()},
                                       {"job": "dst-job", "run": "r", "kind": "finish",
                                        "status": "succeeded", "at": (at + timedelta(minutes=5))
                                        .isoformat()}], at + timedelta(minutes=5))

    clock.now = berlin(day, 12, month=month)
    assert await watcher.check_due() == [], why
    clock.now = berlin(day + 1, 12, month=month)
    [missing_next_night] = await watcher.check_due()
    assert missing_next_night.alert.kind == "did_not_start"


async def test_a_dst_night_without_a_run_alerts_once(api: Api, clock: Clock) -> None:
    clock.now = berlin(23, 12, month=10)
    await api.put("/v1/jobs/dst-job", {"timezone": "Europe/Berlin", "schedule": "30 2 * * *",
                                       "expect": {"start_within": "20m"}})
    watcher = Watcher(api.engine, clock=clock)
    clock.now = berlin(24, 12, month=10)
    await watcher.check_due()

    clock.now = berlin(25, 12, month=10)
    alerts = await watcher.check_due()

    # The first 02:30 (CEST); an ambiguous local time never compares equal across zones.
    assert [(o.alert.kind, o.alert.occurrence_at) for o in alerts] == [
        ("did_not_start", datetime(2026, 10, 25, 0, 30, tzinfo=UTC))]


async def test_the_bots_answer_uses_the_same_judgement(
    watched: tuple[Api, Watcher, Clock],
) -> None:
    api, watcher, clock = watched
    await report(api, watcher, clock, the_bad_night(), berlin(25, 0, 32))
    clock.now = berlin(25, 6, 1)
    await watcher.check_due()
    answerer = Answerer(api.engine, clock=clock)

    reply = await answerer.reply("has the import run today?", timezone="Europe/Berlin")

    assert reply.text.split("\n")[0] == (
        "No — today's Nightly product import started at 00:12 but stopped early after "
        "'file-read' and did not reach 'products-matched', 'promotions-applied' and "
        "'report-published'; it ended at 00:31; it is late: 'report-published' was due at 06:00.")


async def test_a_night_without_a_start_is_late_in_the_answer_too(
    watched: tuple[Api, Watcher, Clock],
) -> None:
    api, watcher, clock = watched
    clock.now = berlin(25, 8)
    await watcher.check_due()

    reply = await Answerer(api.engine, clock=clock).reply("did the import run today?",
                                                          timezone="Europe/Berlin")

    assert reply.text.startswith("No — Nightly product import has not run today, and it is "
                                 "late: it was due to start at 00:10.")
