"""Cron's weekday field means what cron says: 1-5 is Monday to Friday, 0 and 7 are Sunday.
(APScheduler 3 counts from Monday = 0; read as-is, a weekday job ran Tuesday to Saturday.)"""

from datetime import UTC, datetime, timedelta

import pytest

from alerts.schedule import cron_trigger, occurrences


def weekdays_of(expression: str) -> list[str]:
    trigger = cron_trigger(expression, "Europe/Berlin")
    start = datetime(2026, 11, 22, 12, tzinfo=UTC)  # a Sunday
    return [t.strftime("%a") for t in occurrences(trigger, start, start + timedelta(days=7))]


@pytest.mark.parametrize(("weekday", "days"), [
    ("1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
    ("0", ["Sun"]), ("7", ["Sun"]),
    ("6,0", ["Sat", "Sun"]),
    ("5-7", ["Fri", "Sat", "Sun"]),
    ("*/2", ["Tue", "Thu", "Sat", "Sun"]),  # cron: 0,2,4,6
    ("1-5/2", ["Mon", "Wed", "Fri"]),
    ("mon-fri", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
    ("*", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
])
def test_a_weekday_field_means_what_cron_means(weekday: str, days: list[str]) -> None:
    assert weekdays_of(f"0 6 * * {weekday}") == days


@pytest.mark.parametrize("weekday", ["8", "5-2", "1-5/0", "funday"])
def test_a_weekday_field_cron_would_refuse_is_refused(weekday: str) -> None:
    with pytest.raises(ValueError, match="not a valid cron expression"):
        cron_trigger(f"0 6 * * {weekday}", "UTC")
