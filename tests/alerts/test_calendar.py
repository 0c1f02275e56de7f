"""The watcher's calendars give what the schedule functions give, however they are asked:
the occurrences in a span and the shortest gap ahead, forwards, backwards and across both
changes of the clocks, while working out only what is asked."""

import random
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from alerts.schedule import cron_trigger, occurrences, shortest_gap
from alerts.watcher import Calendar

SCHEDULES = ["30 2 * * *", "0 * * * *", "5 0 * * 1-5", "0 3 * * 0", "0 1 1 * *"]
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney"]
BASE = datetime(2026, 3, 1, tzinfo=UTC)  # March to October: the clocks change on both sides


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_a_calendar_answers_as_the_schedule_functions(schedule: str, zone: str) -> None:
    """Asked as the watcher asks (a job's next spans, in time order), a calendar holds what
    going from one occurrence to the next from its first request holds. (Around a change of
    the clocks APScheduler's next time can depend on where it starts, so that is the truth.)"""
    rng = random.Random(f"{schedule}/{zone}")
    trigger = cron_trigger(schedule, zone)
    calendar = Calendar(trigger)
    starts = sorted(BASE + timedelta(hours=rng.randint(0, 24 * 240), minutes=rng.choice([0, 7, 30]))
                    for _ in range(10))
    anchor = starts[0] - Calendar.AHEAD
    every: list[datetime] = []  # enough for the last start's span and its sixty samples
    for moment in occurrences(trigger, anchor, starts[-1] + Calendar.GAP_HORIZON, limit=100_000):
        every.append(moment)
        if moment > starts[-1] + timedelta(days=8) and \
                sum(1 for m in every[-Calendar.GAP_SAMPLES:] if m > starts[-1]) == Calendar.GAP_SAMPLES:
            break
    for start in starts:
        span = timedelta(hours=rng.choice([1, 6, 30, 24 * 8]))
        after, until = max(start - span, anchor), start + span
        assert calendar.between(after, until) == [
            moment for moment in every if after < moment <= until], start
        later = [moment for moment in every
                 if start < moment <= start + Calendar.GAP_HORIZON][:Calendar.GAP_SAMPLES]
        assert calendar.shortest_gap(start) == min(b - a for a, b in pairwise(later)), start


@pytest.mark.parametrize("zone", ZONES)
def test_asking_for_earlier_times_works_them_out_too(zone: str) -> None:
    trigger = cron_trigger("0 * * * *", zone)
    calendar = Calendar(trigger)
    late, early = datetime(2026, 6, 10, tzinfo=UTC), datetime(2026, 6, 2, tzinfo=UTC)
    calendar.between(late, late + timedelta(days=1))

    assert calendar.between(early, late) == list(occurrences(trigger, early, late, limit=10_000))
    assert calendar.shortest_gap(early) == shortest_gap(trigger, early)


def test_planning_works_out_no_more_than_the_next_sixty_occurrences() -> None:
    calendar = Calendar(cron_trigger("*/15 * * * *", "UTC"))
    start = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)

    calendar.shortest_gap(start)

    assert len(calendar._times) <= 4 * 24 + 61  # a day (AHEAD) before the start, 60 samples after
    assert len(calendar.between(start - timedelta(days=2), start + timedelta(days=2))) > 4 * 24 * 3
