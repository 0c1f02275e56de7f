"""Which runs a question is about: "today", "last night", "yesterday", "on Monday",
"24 Nov", "this week" — as calendar days in the asker's time zone, DST included."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
SHORT_WEEKDAYS = {d[:3]: i for i, d in enumerate(WEEKDAYS)} | {"tues": 1, "thur": 3, "thurs": 3}
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"]
MONTH_NUMBER = {m: i + 1 for i, m in enumerate(MONTHS)} | {m[:3]: i + 1 for i, m in enumerate(MONTHS)}
MONTH_NUMBER["sept"] = 9
NIGHT_STARTS = time(18, 0)  # a night's runs start after 18:00 and before noon the next day
NIGHT_ENDS = time(12, 0)
TIME_WORDS = ["today", "tonight", "yesterday", "night", "last", "this", "week", "morning",
              "overnight", *WEEKDAYS, *MONTHS]


@dataclass(frozen=True)
class Period:
    label: str  # reads after a verb: "today", "last night", "on Monday 23 Nov"
    start: datetime  # aware, in the asker's zone
    end: datetime
    days: tuple[date, ...]  # the calendar days the label names, for "today's" wording

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def day_period(label: str, day: date, zone: ZoneInfo) -> Period:
    return Period(label, local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone),
                  (day,))


def find_period(text: str, now: datetime, zone: ZoneInfo) -> Period | None:
    """The period a normalized question names, or None when it names none."""
    today = now.astimezone(zone).date()
    if re.search(r"\b(last night|overnight|tonight)\b", text):
        yesterday = today - timedelta(days=1)
        return Period("last night", datetime.combine(yesterday, NIGHT_STARTS, tzinfo=zone),
                      datetime.combine(today, NIGHT_ENDS, tzinfo=zone), (yesterday, today))
    if re.search(r"\b(today|this morning)\b", text):
        return day_period("today", today, zone)
    if re.search(r"\b(yesterday|yday)\b", text):
        return day_period("yesterday", today - timedelta(days=1), zone)
    if re.search(r"\bthis week\b", text):
        monday = today - timedelta(days=today.weekday())
        return Period("this week", local_midnight(monday, zone),
                      local_midnight(today + timedelta(days=1), zone),
                      tuple(monday + timedelta(days=i) for i in range((today - monday).days + 1)))
    return _weekday(text, today, zone) or _date(text, today, zone)


def _weekday(text: str, today: date, zone: ZoneInfo) -> Period | None:
    for match in re.finditer(r"\b(last )?([a-z]+)\b", text):
        index = _weekday_index(match.group(2))
        if index is None:
            continue
        back = (today.weekday() - index) % 7
        if match.group(1) and back == 0:
            back = 7
        day = today - timedelta(days=back)
        label = "today" if back == 0 else f"on {day.strftime('%A')} {day.day} {day.strftime('%b')}"
        return day_period(label, day, zone)
    return None


def _weekday_index(word: str) -> int | None:
    if word in WEEKDAYS:
        return WEEKDAYS.index(word)
    if word.endswith("s") and word[:-1] in WEEKDAYS:  # "mondays"
        return WEEKDAYS.index(word[:-1])
    return SHORT_WEEKDAYS.get(word)


def _date(text: str, today: date, zone: ZoneInfo) -> Period | None:
    day = _iso_date(text) or _named_date(text, today)
    if day is None:
        return None
    return day_period(f"on {day.strftime('%a')} {day.day} {day.strftime('%b')}", day, zone)


def _iso_date(text: str) -> date | None:
    match = re.search(r"\b(\d{4}) (\d{1,2}) (\d{1,2})\b", text)  # 2026-11-24 after normalizing
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _named_date(text: str, today: date) -> date | None:
    day_first = [(m.group(1), m.group(2)) for m in
                 re.finditer(r"\b(\d{1,2})(?:st|nd|rd|th)? (?:of )?([a-z]+)\b", text)]
    month_first = [(m.group(2), m.group(1)) for m in
                   re.finditer(r"\b([a-z]+) (\d{1,2})(?:st|nd|rd|th)?\b", text)]
    for day_text, month_text in day_first + month_first:
        month = MONTH_NUMBER.get(month_text)
        if month is None:
            continue
        for year in (today.year, today.year - 1):  # the most recent such day, not a future one
            try:
                day = date(year, month, int(day_text))
            except ValueError:
                break
            if day <= today:
                return day
    return None
