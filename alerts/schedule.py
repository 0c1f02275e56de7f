"""A job's schedule as pure functions: cron expressions in the job's time zone, the
occurrences they produce, and the checks a definition's deadlines must pass. Deadlines are
computed here from the stored definition, so every reader (validation, the watcher,
answers) agrees on them."""

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from storage.durations import parse_duration


def cron_trigger(expression: str, zone: str) -> CronTrigger:
    """A standard five-field cron expression, evaluated in the job's own time zone (so a
    02:30 job follows the wall clock through DST changes)."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"{expression!r} needs the 5 standard cron fields: minute hour day month weekday")
    try:
        minute, hour, day, month, weekday = fields
        return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                           day_of_week=apscheduler_weekdays(weekday), timezone=ZoneInfo(zone))
    except (ValueError, KeyError) as exc:
        raise ValueError(f"{expression!r} is not a valid cron expression: {exc}") from None


CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def apscheduler_weekdays(field: str) -> str:
    """Standard cron's weekday field as APScheduler 3 reads it. In cron 0 and 7 are Sunday and
    1-5 is Monday to Friday; APScheduler counts from Monday = 0 (its `from_crontab` passes the
    numbers through, so "1-5" would run Tuesday to Saturday). Numbers are turned into day names,
    which both read alike; a range that wraps past Saturday becomes a list."""
    if field == "*" or not any(c.isdigit() for c in field):
        return field
    days: set[int] = set()
    for item in field.split(","):
        span, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"weekday step must be at least 1 in {field!r}")
        if span == "*":
            low, high = 0, 6
        else:
            first, _, last = span.partition("-")
            low, high = _weekday_number(first), _weekday_number(last or first)
            if last and high == 0 and low > 0:
                high = 7  # "5-7" or "5-sun": Friday to Sunday
        if high < low:
            raise ValueError(f"weekday range {span!r} runs backwards")
        days.update(day % 7 for day in range(low, high + 1, step))
    return ",".join(CRON_DAYS[day] for day in sorted(days))


def _weekday_number(text: str) -> int:
    if text.isdigit():
        number = int(text)
        if number > 7:
            raise ValueError(f"weekday {number} is outside 0-7")
        return number  # 7 is Sunday too; callers fold it with % 7
    if text.lower() in CRON_DAYS:
        return CRON_DAYS.index(text.lower())
    raise ValueError(f"unknown weekday {text!r}")


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


def schedule_problems(schedule: str | None, zone: str | None, start_within: str | None,
                      milestone_deadlines: Sequence[str]) -> list[tuple[str, str]]:
    """(field, message) for what only a definition's fields together can tell: the cron
    expression in the job's zone, and deadlines that fall beyond the next occurrence."""
    if schedule is None:
        if start_within:
            return [("expect.start_within", "a start deadline needs a schedule")]
        if milestone_deadlines:
            return [("expect.milestones", "milestone deadlines need a schedule")]
        return []
    try:
        trigger = cron_trigger(schedule, zone or "UTC")
    except ValueError as exc:
        return [("schedule", str(exc))]
    gap = shortest_gap(trigger, datetime.now(UTC))
    problems = []
    if start_within and parse_duration(start_within) >= gap:
        problems.append(("expect.start_within", f"{start_within} reaches the next "
                                                f"occurrence ({_gap(gap)} apart)"))
    for index, by in enumerate(milestone_deadlines):
        if parse_duration(by) >= gap:
            problems.append((f"expect.milestones.{index}.by", f"{by} reaches the next "
                                                              f"occurrence ({_gap(gap)} apart)"))
    return problems


def _gap(gap: timedelta) -> str:
    hours = gap.total_seconds() / 3600
    return f"{hours:g} h" if hours < 48 else f"{hours / 24:g} days"
