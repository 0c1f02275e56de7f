"""A job's schedule as times and words, from its cron expression in its own zone: the
occurrences in a span, and "every day at 01:30 Berlin time", "Monday to Friday at 22:15 New
York time", "every 4 h (…)"."""

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from alerts.schedule import cron_trigger, occurrences
from alerts.wording import duration, listing
from storage.models import Job

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def zone_of(job: Job) -> ZoneInfo:
    return ZoneInfo(job.timezone or "UTC")


def place(zone: ZoneInfo) -> str:
    """ "Europe/Berlin" → "Berlin", "America/New_York" → "New York"."""
    return str(zone.key).rsplit("/", 1)[-1].replace("_", " ")


def upcoming(job: Job, after: datetime, until: datetime) -> list[datetime]:
    if not job.schedule:
        return []
    try:
        trigger = cron_trigger(job.schedule, job.timezone or "UTC")
    except ValueError:
        return []
    return list(occurrences(trigger, after, until, limit=400))


def in_words(job: Job, now: datetime) -> str:
    """The schedule as a phrase, from the occurrences it produces over the next weeks."""
    assert job.schedule
    zone = zone_of(job)
    times = [t.astimezone(zone) for t in upcoming(job, now, now + timedelta(days=28))]
    if not times:
        return f"on cron `{job.schedule}`"
    clocks = sorted({t.strftime("%H:%M") for t in times})
    days = sorted({t.weekday() for t in times})
    zone_words = f"{place(zone)} time"
    gaps = {(b - a) for a, b in itertools.pairwise(times)}
    if len(clocks) > 2 and len(days) == 7 and len(gaps) == 1:
        gap = gaps.pop()
        return (f"every {duration(gap.total_seconds())} ({listing(clocks[:8])} {zone_words})")
    when = listing(clocks) if len(clocks) <= 4 else f"{len(clocks)} times a day"
    if len(days) == 7:
        return f"every day at {when} {zone_words}"
    if days == [0, 1, 2, 3, 4]:
        return f"Monday to Friday at {when} {zone_words}"
    if days == [5, 6]:
        return f"on weekends at {when} {zone_words}"
    return f"every {listing([DAYS[d] for d in days])} at {when} {zone_words}"


def runs_on(job: Job, now: datetime, weekdays: set[int]) -> bool:
    zone = zone_of(job)
    return any(t.astimezone(zone).weekday() in weekdays
               for t in upcoming(job, now, now + timedelta(days=28)))
