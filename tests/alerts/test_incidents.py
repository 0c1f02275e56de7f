"""Which alert leads an incident's card, and which only repeats another: pure rules on the
alerts and runs of one incident (how alerts are grouped is told through the real server in
tests/bot/test_incident_cards.py)."""

from datetime import UTC, datetime, timedelta

from alerts.incidents import Incident
from storage.alerts import Alert
from storage.models import Job, Run

NIGHT = datetime(2026, 11, 24, 23, 12, tzinfo=UTC)  # 00:12 in Berlin
JOB = Job(id=1, slug="nightly-product-import", title="Nightly product import",
          created_at=NIGHT, updated_at=NIGHT)


def alert(alert_id: int, kind: str, minutes: int, *, state: str = "open",
          finished_after: int | None = 19) -> tuple[Alert, Run]:
    run = Run(id=7, job_id=1, key="2026-11-25", started_at=NIGHT, last_event_at=NIGHT,
              created_at=NIGHT, status="partial",
              finished_at=None if finished_after is None else NIGHT + timedelta(minutes=finished_after))
    return Alert(id=alert_id, job_id=1, kind=kind, key=f"run:2026-11-25:{alert_id}", run_id=7,
                 reason=kind, opened_at=NIGHT + timedelta(minutes=minutes), state=state), run


def incident(*found: tuple[Alert, Run]) -> Incident:
    return Incident(JOB, [a for a, _ in found], {7: found[0][1]})


def test_alerts_found_at_the_same_moment_are_led_by_the_worst() -> None:
    told = incident(alert(1, "ended_early", 19), alert(2, "metric_out_of_range", 19))

    assert told.headline.kind == "ended_early"
    assert [a.kind for a in told.newest_first()] == ["ended_early", "metric_out_of_range"]


def test_a_milestone_missed_after_the_run_ended_early_repeats_it_and_never_leads() -> None:
    told = incident(alert(1, "metric_out_of_range", 18), alert(2, "ended_early", 19),
                    alert(3, "milestone_missed", 348))

    assert [told.repeats(a) for a in told.alerts] == [False, False, True]
    assert told.headline.kind == "ended_early"
    assert told.newest_first()[0].kind == "milestone_missed"  # still listed, newest first


def test_a_milestone_missed_while_the_run_still_goes_is_news() -> None:
    running = incident(alert(1, "metric_out_of_range", 18, finished_after=None),
                       alert(2, "milestone_missed", 348, finished_after=None))
    no_early_end = incident(alert(1, "metric_out_of_range", 18), alert(2, "milestone_missed", 348))

    assert not running.repeats(running.alerts[1]) and running.headline.kind == "milestone_missed"
    assert not no_early_end.repeats(no_early_end.alerts[1])


def test_an_open_alert_leads_over_a_newer_one_already_resolved() -> None:
    told = incident(alert(1, "metric_out_of_range", 18),
                    alert(2, "milestone_missed", 348, state="resolved", finished_after=None))

    assert told.headline.kind == "metric_out_of_range"
    assert not told.resolved
    assert incident(alert(1, "failed", 18, state="resolved")).resolved
