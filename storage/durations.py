"""Durations as a job definition writes them ("30m", "6h", "1h30m", "2d"): the stored text and
what it means are one thing, read the same way by validation, the watcher and snoozes."""

import re
from datetime import timedelta

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
