"""A definition judges runs from then on (issue #12).

The payroll export has reported for a few nights before anyone defines it. Then its owner
sends a definition: it should end with 'report-published', and start by 02:30. The nights
that ended before that never reached 'report-published' — nobody had asked them to — and
must not be alerted on now. A night still running when the definition arrives is judged by
it, and so is every later one. Telemetry goes through the real ingest contract (a real
server on 127.0.0.1, SQLite and PostgreSQL); the watcher judges on the injected clock."""

from datetime import datetime
from typing import Any

from alerts.watcher import Watcher
from tests.alerts.test_watcher import berlin, report, run_ids, stored_alerts
from tests.conftest import Api, Clock

JOB = "payroll-export"
DEFINITION = {
    "title": "Payroll export", "timezone": "Europe/Berlin", "schedule": "0 2 * * *",
    "expect": {"start_within": "30m", "final_milestone": "report-published"},
}


def night(day: int, *, until: str = "finish", published: bool = False) -> list[dict[str, Any]]:
    """A night that reads its file and ends successfully — reaching 'report-published' only
    when `published`; cut off before its finish (still running) when `until` is "read"."""
    run = {"job": JOB, "run": f"2026-11-{day:02}"}
    events = [{**run, "kind": "start", "at": berlin(day, 2, 1).isoformat()},
              {**run, "kind": "milestone", "name": "file-read", "at": berlin(day, 2, 5).isoformat()}]
    if until == "read":
        return events
    if published:
        events.append({**run, "kind": "milestone", "name": "report-published",
                       "at": berlin(day, 2, 30).isoformat()})
    return [*events, {**run, "kind": "finish", "status": "succeeded",
                      "at": berlin(day, 2, 40).isoformat()}]


async def send(api: Api, clock: Clock, events: list[dict[str, Any]], at: datetime) -> None:
    """Telemetry that reaches a replica that does not judge (so it is left marked)."""
    clock.now = at
    await api.send_ok(events)


async def test_runs_that_ended_before_the_definition_are_never_alerted_on(
    api: Api, clock: Clock,
) -> None:
    watcher = Watcher(api.engine, clock=clock)
    # Five nights, none publishing a report: four judged as they reported (with no definition
    # there is nothing to find), the last one not judged yet when the definition comes.
    for day in (18, 19, 20, 21):
        assert await report(api, watcher, clock, night(day), berlin(day, 2, 41)) == []
    await send(api, clock, night(22), berlin(22, 2, 41))

    clock.now = berlin(22, 10)
    assert (await api.put(f"/v1/jobs/{JOB}", DEFINITION)).status == 200
    right_after = await watcher.check_due()
    clock.now = berlin(23, 9)
    did_not_run = await watcher.check_due()
    bad_night = await report(api, watcher, clock, night(24), berlin(24, 2, 41))
    good_night = await report(api, watcher, clock, night(25, published=True), berlin(25, 2, 41))

    assert right_after == []
    assert [o.alert.kind for o in did_not_run] == ["did_not_start"]
    assert [(o.alert.kind, o.alert.run_id) for o in bad_night] == [
        ("ended_early", (await run_ids(api, JOB, ["2026-11-24"]))[0])]
    assert "without reaching 'report-published'" in bad_night[0].alert.reason
    assert good_night == []
    alerts = await stored_alerts(api)
    assert [alert.kind for alert in alerts] == ["did_not_start", "ended_early"]
    assert {alert.state for alert in alerts} == {"resolved"}  # the good night resolved both


async def test_a_run_still_going_when_the_definition_comes_is_judged_by_it(
    api: Api, clock: Clock,
) -> None:
    watcher = Watcher(api.engine, clock=clock)
    await send(api, clock, night(21), berlin(21, 2, 41))
    await send(api, clock, night(22, until="read"), berlin(22, 2, 6))

    clock.now = berlin(22, 2, 10)
    assert (await api.put(f"/v1/jobs/{JOB}", DEFINITION)).status == 200
    right_after = await watcher.check_due()
    as_it_ends = await report(api, watcher, clock, night(22)[2:], berlin(22, 2, 41))

    assert right_after == []
    assert [(o.alert.kind, o.alert.run_id) for o in as_it_ends] == [
        ("ended_early", (await run_ids(api, JOB, ["2026-11-22"]))[0])]
    assert len(await stored_alerts(api)) == 1  # nothing about the night before


async def test_a_definition_sent_again_unchanged_moves_nothing(api: Api, clock: Clock) -> None:
    """Sending the same definition again (a deploy that PUTs every job) is no new definition:
    a night that ended before the second PUT, reported after the first, is still judged."""
    watcher = Watcher(api.engine, clock=clock)
    clock.now = berlin(17, 12)
    assert (await api.put(f"/v1/jobs/{JOB}", DEFINITION)).status == 201
    assert await watcher.check_due() == []
    await send(api, clock, night(18), berlin(18, 2, 41))  # judged by nobody yet

    clock.now = berlin(18, 2, 50)
    assert (await api.put(f"/v1/jobs/{JOB}", {**DEFINITION, "title": "Payroll export (SAP)"})
            ).status == 200
    opened = await watcher.check_due()

    assert [o.alert.kind for o in opened] == ["ended_early"]


async def test_a_night_reported_after_the_definition_is_judged_though_it_ran_before(
    api: Api, clock: Clock,
) -> None:
    """A backfill (a night uploaded late, after the definition was set) is news to OpenTrace:
    it is judged, though it ran before the definition."""
    watcher = Watcher(api.engine, clock=clock)
    clock.now = berlin(22, 10)
    assert (await api.put(f"/v1/jobs/{JOB}", DEFINITION)).status == 201
    assert await watcher.check_due() == []

    backfilled = await report(api, watcher, clock, night(21), berlin(22, 11))

    assert [o.alert.kind for o in backfilled] == ["ended_early"]
