"""How numbers, times and durations read for people: in alert reasons, in the bot's answers
and on its cards — one definition, so a card never says what the text says differently."""

import math
from datetime import date, datetime, tzinfo

from alerts.baselines import Usual

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def number(value: float) -> str:
    """8911 → "8,911"; 12.5 → "12.5"; 0.333333 → "0.33"; 0.00042 → "0.00042"."""
    if not math.isfinite(value):
        return str(value)
    small = value != 0 and abs(value) < 0.01
    text = f"{value:.2g}" if small else f"{value:,.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def quantity(value: float, unit: str | None) -> str:
    return f"{number(value)} {unit}" if unit else number(value)


def duration(seconds: float) -> str:
    """A duration as people say it: "45 s", "22 min", "1 h 40 min", "2 days 3 h"."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"


def clock_time(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def date_time(at: datetime, *, same_day_as: datetime | None = None) -> str:
    """"Wed 25 Nov 00:12" in the datetime's own zone (English whatever the locale), or
    "00:12" on the day of `same_day_as`."""
    if same_day_as is not None and at.date() == same_day_as.date():
        return clock_time(at)
    return f"{DAYS[at.weekday()]} {at.day:02d} {MONTHS[at.month - 1]} {clock_time(at)}"


def zoned_timestamp(at: datetime, zone: tzinfo) -> str:
    """"2026-11-26 06:00 CET" — a full time stamp for logs and listings, in `zone`, with the
    zone's abbreviation (or its offset, "+03", where it has none)."""
    local = at.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or local.strftime('%z')}"


def usual_range(usual: Usual) -> str:
    """"~40 (30\N{EN DASH}50)", or "~40" when every recent run had the same value."""
    text = f"~{number(usual.median)}"
    if usual.low != usual.high:
        text += f" ({number(usual.low)}\N{EN DASH}{number(usual.high)})"
    return text


def day_name(day: date, today: date) -> str:
    """"today", "yesterday", "Monday" within a week, else "Mon 16 Nov"."""
    delta = (today - day).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "yesterday"
    if delta == -1:
        return "tomorrow"
    if 1 < delta < 7:
        return day.strftime("%A")
    return day.strftime("%a %d %b").replace(" 0", " ")


def moment(at: datetime, today: date) -> str:
    """"at 00:12" today, "yesterday at 23:50", "Monday at 00:12"."""
    day = day_name(at.date(), today)
    return f"at {clock_time(at)}" if day == "today" else f"{day} at {clock_time(at)}"


def listing(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def quoted(name: str) -> str:
    return f"'{name}'"


def capital(text: str) -> str:
    """Capitalise a sentence without lowering the rest ("today's ETL" → "Today's ETL")."""
    return text[:1].upper() + text[1:]
