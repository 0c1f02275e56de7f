"""A job's schedule as pure functions: durations like "1h30m", cron expressions in the job's
time zone, and the occurrences they produce. Deadlines are computed here from the stored
definition, so every reader (validation, the watcher, answers) agrees on them."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
MAX_DURATION = timedelta(days=366)


def parse_duration(text: str) -> timedelta:
    """ "30m", "6h", "1h30m", "2d", "45s" → timedelta; anything else is a ValueError."""
    match = DURATION.match(text.strip().lower()) if isinstance(text, str) else None
    if not match or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration such as 30m, 6h, 1h30m or 2d")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    value = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if value > MAX_DURATION:
        raise ValueError(f"{text!r} is longer than a year")
    return value


def cron_trigger(expression: str, zone: str) -> CronTrigger:
    """A standard five-field cron expression, evaluated in the job's own time zone (so a
    02:30 job follows the wall clock through DST changes)."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"{expression!r} needs the 5 standard cron fields: minute hour day month weekday")
    try:
        return CronTrigger.from_crontab(expression, timezone=ZoneInfo(zone))
    except (ValueError, KeyError) as exc:
        raise ValueError(f"{expression!r} is not a valid cron expression: {exc}") from None


def occurrences(trigger: CronTrigger, after: datetime, until: datetime,
                limit: int = 1000) -> Iterator[datetime]:
    """Scheduled times in (after, until], oldest first, as aware datetimes.

    On the night clocks fall back, a wall time like 02:30 happens twice; cron runs the job
    once, so the repeat is not an occurrence. A wall time that does not exist (clocks
    spring forward) falls just after the gap."""
    previous: datetime | None = None
    now = after + timedelta(microseconds=1)
    for _ in range(limit):
        # Ask from an instant in UTC each time: given its own previous fire time, APScheduler
        # 3.x repeats the second 02:30 of a fall-back night forever.
        nxt = trigger.get_next_fire_time(None, now)
        if nxt is None or nxt > until:
            return
        if previous is None or nxt.replace(tzinfo=None) != previous.replace(tzinfo=None):
            yield nxt
        previous, now = nxt, nxt.astimezone(UTC) + timedelta(seconds=1)


def previous_occurrence(trigger: CronTrigger, now: datetime, lookback: timedelta) -> datetime | None:
    """The latest scheduled time at or before `now`, within `lookback`."""
    latest = None
    for moment in occurrences(trigger, now - lookback, now):
        latest = moment
    return latest


def shortest_gap(trigger: CronTrigger, start: datetime, samples: int = 60) -> timedelta:
    """The shortest time between two consecutive occurrences over the next `samples`."""
    times = list(occurrences(trigger, start, start + timedelta(days=800), limit=samples))
    gaps = [b - a for a, b in pairwise(times)]
    return min(gaps) if gaps else timedelta(days=366)
