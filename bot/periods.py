"""Which runs a question is about: "today", "last night", "on Friday", "the 18th", "25.11.",
"over the weekend", "2 days ago", "last week", "from Monday to Wednesday", "the 02:00 run" —
as calendar days in the asker's time zone, DST included; English with the German words
teams mix in ("gestern", "am Montag", "letzte Woche").

It reads the normalized question (`bot.language.normalize` keeps "25.11.", "11/25",
"2026-11-25" and "02:00" whole). A day named without its year is the most recent such day:
"Friday" on a Wednesday is last Friday, "the 28th" on the 26th the 28th of last month."""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from itertools import pairwise
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from bot.language import DATE_PREPOSITIONS

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
GERMAN_WEEKDAYS = ["montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag"]
WEEKDAY_NUMBER = {d: i for names in (WEEKDAYS, GERMAN_WEEKDAYS) for i, d in enumerate(names)} | {
    "sonnabend": 5, "mon": 0, "tue": 1, "tues": 1, "thu": 3, "thur": 3, "thurs": 3, "fri": 4,
    "wed": 2, "sat": 5, "sun": 6}
WORDLIKE_WEEKDAYS = {"wed", "sat", "sun"}  # a day only after "on", "last", "since"…
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"]
GERMAN_MONTHS = ["januar", "februar", "maerz", "april", "mai", "juni", "juli", "august",
                 "september", "oktober", "november", "dezember"]
MONTH_NUMBER = {m: i + 1 for names in (MONTHS, GERMAN_MONTHS) for i, m in enumerate(names)} | {
    m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9, "okt": 10, "dez": 12}
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
                "fourteen": 14, "thirty": 30, "einem": 1, "einer": 1, "zwei": 2, "drei": 3, "vier": 4,
                "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10}
EVERY_WEEKDAY_WEEKS = 13  # "on Fridays": the Fridays of about the last three months
NIGHT_STARTS = time(18, 0)  # a night's runs start after 18:00 and before noon the next day
NIGHT_ENDS = time(12, 0)
RUN_EARLY, RUN_LATE = timedelta(minutes=15), timedelta(minutes=45)  # "the 02:00 run" started
# Words that end a "the 3rd …" or "Nov 3 …" which is not a date: "the 2nd run", "may 3 rows".
COUNTED = frozenset({
    "run", "runs", "attempt", "attempts", "time", "times", "try", "tries", "retry", "retries",
    "step", "steps", "stage", "stages", "file", "files", "job", "jobs", "row", "rows", "record",
    "records", "batch", "batches", "one", "ones", "item", "items", "line", "lines", "page", "pages",
    "place", "version", "release", "milestone", "milestones", "error", "errors", "warning",
    "warnings", "task", "tasks", "chunk", "chunks", "part", "parts", "product", "products",
    "biggest", "largest", "highest", "longest", "last", "latest"})
AFTER_MAY_THE_VERB = frozenset({"be", "have", "not", "fail", "run", "need", "take", "still",
                                "also", "never"})
VERSION_WORDS = frozenset({"version", "v", "release", "build", "python", "java", "node", "patch"})


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


ORDINALS = [_ordinal(n) for n in range(1, 32)]
TIME_WORDS = [
    "today", "tonight", "yesterday", "yday", "night", "nights", "last", "this", "past",
    "previous", "week", "weeks", "weekend", "weekends", "month", "months", "year", "years",
    "jahr", "morning", "evening",
    "overnight", "day", "days", "ago", "before", "since", "between", "from", "until", "hours",
    "oclock", *WEEKDAYS, *(f"{d}s" for d in WEEKDAYS), *MONTHS, *GERMAN_WEEKDAYS, "sonnabend",
    *GERMAN_MONTHS, "heute", "gestern", "vorgestern", "nacht", "abend", "morgen", "woche",
    "wochenende", "monat", "tage", "letzte", "letzten", "letzter", "letztes", "diese",
    "diesen", "dieser", "dieses", "vorige", "vorigen", "vergangene", "vergangenen", "seit", "uhr",
    *NUMBER_WORDS, *ORDINALS, *(str(n) for n in range(32)), *(f"{n:02}" for n in range(10)),
    *(f"{h}{m}" for h in range(1, 13) for m in ("am", "pm"))]

_WEEKDAY = "|".join(sorted(WEEKDAY_NUMBER, key=len, reverse=True))
_MONTH = "|".join(sorted(MONTH_NUMBER, key=len, reverse=True))
_NUMBER = r"\d{1,2}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_LAST = r"last|previous|letzte[nrs]?|vorige[nrs]?|vergangene[nrs]?"
_THIS = r"this|diese[nrs]?"


class _Started(Protocol):
    started_at: datetime


R = TypeVar("R", bound=_Started)


@dataclass(frozen=True)
class Period:
    label: str  # reads after a verb: "today", "last night", "on Monday 23 Nov"
    start: datetime  # aware, in the asker's zone
    end: datetime
    days: tuple[date, ...]  # the calendar days the label names, for "today's" wording
    # The start time of the run the question names ("the 02:00 run"): start and end are then
    # narrowed to that run's start (15 min before to 45 min after) when the period is one day
    # or one night; over several days the caller keeps the runs started near it.
    at_time: time | None = None
    # Only these days of the week (Monday 0), for "on Fridays", "on weekends": empty, all.
    weekdays: frozenset[int] = frozenset()

    def covers(self, moment: datetime) -> bool:
        return self.start.astimezone(UTC) <= moment.astimezone(UTC) < self.end.astimezone(UTC) \
            and (not self.weekdays or moment.astimezone(self.start.tzinfo).weekday() in self.weekdays)

    def chosen(self, runs: Sequence[R]) -> list[R]:
        """The runs that started in the period: on its days of the week, when it has them."""
        return [run for run in runs if self.covers(run.started_at)] if self.weekdays else list(runs)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def day_period(label: str, day: date, zone: ZoneInfo) -> Period:
    return Period(label, local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone),
                  (day,))


def days_period(label: str, first: date, last: date, zone: ZoneInfo) -> Period:
    days = tuple(first + timedelta(days=i) for i in range((last - first).days + 1))
    return Period(label, local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone),
                  days)


def night_period(label: str, evening: date, zone: ZoneInfo) -> Period:
    morning = evening + timedelta(days=1)
    return Period(label, datetime.combine(evening, NIGHT_STARTS, tzinfo=zone),
                  datetime.combine(morning, NIGHT_ENDS, tzinfo=zone), (evening, morning))


def find_period(text: str, now: datetime, zone: ZoneInfo) -> Period | None:
    """The period a normalized question names, or None when it names none. With a run named
    by its start time ("the 02:00 run", "the run at 2am") the period is that run's start."""
    local_now = now.astimezone(zone)
    context = _Context(text, local_now, zone)
    period = _named_period(context)
    at = find_run_time(text)
    if period is not None and at is None:
        period = _part_of_day(period, text, zone)
    return period if at is None else _at_time(period, at, context)


# Parts of a day asked about with the day: "yesterday afternoon", "the evening syncs on Sunday".
PARTS_OF_DAY = {"morning": (time(0), time(12)), "afternoon": (time(12), time(18)),
                "evening": (time(17), None), "nachmittag": (time(12), time(18)),
                "vormittag": (time(0), time(12))}


def _part_of_day(period: Period, text: str, zone: ZoneInfo) -> Period:
    """One day narrowed to the part of it the question names (a day's end is midnight)."""
    if len(period.days) != 1 or period.weekdays or period.label.endswith(("morning", "night")):
        return period
    part = next((word for word in text.split() if word in PARTS_OF_DAY), None)
    if part is None:
        return period
    day = period.days[0]
    begins, ends = PARTS_OF_DAY[part]
    end = datetime.combine(day, ends, tzinfo=zone) if ends else period.end
    label = f"{period.label} {part}" if period.label == "yesterday" else f"{period.label} in the {part}"
    return replace(period, label=label, start=datetime.combine(day, begins, tzinfo=zone), end=end)


def at_same_time(period: Period, like: Period, now: datetime, zone: ZoneInfo) -> Period:
    """`period` narrowed to the run time `like` names: "the midnight sync today vs yesterday"
    compares yesterday's midnight run, not all of yesterday's."""
    if like.at_time is None or period.at_time is not None:
        return period
    return _at_time(period, like.at_time, _Context("", now.astimezone(zone), zone)) or period


def find_run_time(text: str) -> time | None:
    """The start time a question names a run by: "the 02:00 run", "the run at 2am", "did the
    import run at 14:30", "the 2 o'clock run" — not "was it still running at 3am"."""
    for pattern in _RUN_TIME:
        for match in pattern.finditer(text):
            if found := _clock(match.group("h"), match.group("m"), match.group("ampm")):
                return found
    if named := _NAMED_TIME.search(text):  # "the midnight sync", "the noon run"
        return time(12) if named["word"] in ("noon", "midday", "mittag") else time(0)
    return None


@dataclass(frozen=True)
class _Context:
    text: str
    now: datetime  # local
    zone: ZoneInfo

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def month_first(self) -> bool:  # "11/5" is 5 Nov in the US, 11 May elsewhere
        return str(self.zone.key or "").startswith(("America/", "US/"))

    @cached_property
    def mentions(self) -> list["_Mention"]:
        return _mentions(self)


def _named_period(c: _Context) -> Period | None:
    for reader in (_every_weekday, _range, _since, _past_days, _weekend, _iso_week, _week_or_month,
                   _night, _morning):
        if period := reader(c):
            return period
    for mention in c.mentions:
        if (day := mention.resolve(c.today)) is not None:
            named = c.text[mention.start:mention.end]
            label = "yesterday" if named in ("yesterday", "yday", "gestern") else _on(day, c.today)
            return day_period(label, day, c.zone)
    return None


# --- days named one at a time ----------------------------------------------------------------

@dataclass(frozen=True)
class _Mention:
    """A day the question names, resolved against a reference day: the most recent such day
    on or before it (the end of a range is the start's reference)."""

    start: int
    end: int
    resolve: Callable[[date], date | None]


def _mentions(c: _Context) -> list[_Mention]:
    """The days the text names, in order of how surely they are days (an explicit date before
    a weekday before "the 18th"), none overlapping another."""
    found: list[_Mention] = []
    for pattern, reader in _DAY_READERS:
        for match in pattern.finditer(c.text):
            if any(m.start < match.end() and match.start() < m.end for m in found):
                continue
            resolve = reader(match, c)
            if resolve is not None:
                found.append(_Mention(match.start(), match.end(), resolve))
    return found


def _previous_word(text: str, position: int) -> str:
    before = text[:position].split()
    return before[-1] if before else ""


def _next_word(text: str, position: int) -> str:
    after = text[position:].split()
    return after[0] if after else ""


def _fixed(day: date | None) -> Callable[[date], date | None] | None:
    return None if day is None else (lambda _ref: day)


def _exact(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_day(month: int, day: int, year: int | None) -> Callable[[date], date | None] | None:
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return None
    if year is not None:
        return _fixed(_exact(year, month, day))

    def resolve(ref: date) -> date | None:
        for y in range(ref.year, ref.year - 5, -1):  # 29 Feb may be years back
            found = _exact(y, month, day)
            if found is not None and found <= ref:
                return found
        return None
    return resolve


def _year(text: str | None) -> int | None:
    if not text:
        return None
    return int(text) + 2000 if len(text) == 2 else int(text)


def _read_iso(match: re.Match[str], c: _Context) -> Callable[[date], date | None] | None:
    return _fixed(_exact(int(match["y"]), int(match["mo"]), int(match["d"])))


def _read_dotted(match: re.Match[str], c: _Context) -> Callable[[date], date | None] | None:
    before = _previous_word(c.text, match.start())
    if before in VERSION_WORDS or (not match["dot"] and before not in DATE_PREPOSITIONS):
        return None  # "version 2.11", "1.5 hours"
    return _month_day(int(match["mo"]), int(match["d"]), _year(match["y"]))


def _read_slashed(match: re.Match[str], c: _Context) -> Callable[[date], date | None] | None:
    first, second = int(match["a"]), int(match["b"])
    if _previous_word(c.text, match.start()) in VERSION_WORDS or match.group() == "24/7" \
            or _next_word(c.text, match.end()) == "of":  # "3/4 of the rows"
        return None
    month_first = second > 12 or (c.month_first and first <= 12)
    month, day = (first, second) if month_first else (second, first)
    custom = _month_day(month, day, _year(match["y"]))
    other = _month_day(day, month, None) if first <= 12 and second <= 12 and not match["y"] else None
    if custom is None or other is None:
        return custom

    def resolve(ref: date) -> date | None:
        # The zone's custom decides, unless it reads as a day of an earlier year than the
        # other reading: "11/12" asked in London in November 2026 is not 11 Dec 2025.
        usual, unusual = custom(ref), other(ref)
        if usual is not None and unusual is not None and usual.year < unusual.year:
            return unusual
        return usual
    return resolve


def _read_named(match: re.Match[str], c: _Context) -> Callable[[date], date | None] | None:
    month_word, following = match["month"] or match["month2"], _next_word(c.text, match.end())
    suffix = match["s1"] or match["s2"]
    if following in COUNTED and not suffix and not match["y"]:
        return None  # "nov 3 runs"
    if month_word == "may" and not suffix and not match["of"] and (
            following in AFTER_MAY_THE_VERB or (match["d1"] is None and not match["y"]
                                                and following not in ("", "at", "and", "or", "to"))):
        return None  # "3 may be late", "may 3 …" where "may" is the verb
    return _month_day(MONTH_NUMBER[month_word], int(match["d1"] or match["d2"]), _year(match["y"]))


def _read_relative(match: re.Match[str], c: _Context) -> Callable[[date], date | None] | None:
    word, count, unit = match.group(), match["n"] or match["n2"], match["unit"] or match["unit2"]
    if "before" in word or word == "vorgestern":
        back = 2
    elif count:
        back = _number(count) * (7 if unit.startswith(("week", "woche")) else 1)
    else:
        back = 1 if word in ("yesterday", "yday", "gestern") else 0
    return _fixed(c.today - timedelta(days=back))


def _read_weekday(match: re.Match[str], c: _Context) -> Callable[[date], date | None] | None:
    name = match["day"]
    if name in WORDLIKE_WEEKDAYS and not match["qualifier"] \
            and _previous_word(c.text, match.start()) not in DATE_PREPOSITIONS:
        return None  # "the job sat idle"
    index, last = WEEKDAY_NUMBER[name], bool(match["qualifier"] and re.match(_LAST, match["qualifier"]))

    def resolve(ref: date) -> date:
        back = (ref.weekday() - index) % 7
        return ref - timedelta(days=7 if last and back == 0 else back)
    return resolve


def _read_day_of_month(match: re.Match[str], c: _Context) -> Callable[[date], date | None] | None:
    number = int(match["d"])
    if not 1 <= number <= 31 or _next_word(c.text, match.end()) in COUNTED \
            or _previous_word(c.text, match.start()) in ("top", "first", "last"):
        return None  # "the 2nd run", "the top 3rd"

    def resolve(ref: date) -> date | None:
        year, month = ref.year, ref.month
        for _ in range(12):
            found = _exact(year, month, number)
            if found is not None and found <= ref:
                return found
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        return None
    return resolve


_Reader = Callable[[re.Match[str], _Context], Callable[[date], date | None] | None]
_DAY_READERS: list[tuple[re.Pattern[str], _Reader]] = [
    (re.compile(r"\b(?P<y>\d{4})[-/ ](?P<mo>\d{1,2})[-/ ](?P<d>\d{1,2})\b"), _read_iso),
    (re.compile(r"(?<![\w./])(?P<d>\d{1,2})\.(?P<mo>\d{1,2})(?:(?P<dot>\.)(?P<y>\d{4}|\d{2})?)?"
                r"(?![\w/:]|\.\d)"), _read_dotted),
    (re.compile(r"(?<![\w./])(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<y>\d{4}|\d{2}))?(?![\w/.])"),
     _read_slashed),
    (re.compile(rf"\b(?:(?P<d1>\d{{1,2}})(?P<s1>st|nd|rd|th)? (?P<of>of )?(?P<month>{_MONTH})"
                rf"|(?P<month2>{_MONTH}) (?:the )?(?P<d2>\d{{1,2}})(?P<s2>st|nd|rd|th)?)"
                r"(?: (?P<y>\d{4}))?\b"), _read_named),
    (re.compile(rf"\b(?:(?:the )?day before yesterday|vorgestern|yesterday|yday|gestern|today"
                rf"|heute|(?P<n>{_NUMBER}) (?P<unit>days?|weeks?) ago"
                rf"|vor (?P<n2>{_NUMBER}) (?P<unit2>tagen?|wochen?))\b"),
     _read_relative),
    # "Tuesday the 17th": the day of the month decides, the weekday only says it aloud.
    (re.compile(rf"\b(?:{_WEEKDAY}),? (?:the )?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b"), _read_day_of_month),
    (re.compile(rf"\b(?:(?P<qualifier>{_LAST}|{_THIS}) )?"
                rf"(?P<day>{_WEEKDAY})s?\b"), _read_weekday),
    (re.compile(r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)\b"), _read_day_of_month),
]


def _number(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


# --- periods of more than one day, nights and mornings --------------------------------------

_RANGE = re.compile(r"\b(?:from|between|vom|von|zwischen)\b")
_RANGE_JOIN = re.compile(r" (?:to|and|until|till|through|thru|bis|und|zum) (?:the )?")
_SINCE = re.compile(r"\b(?:since|seit)\b")
_PAST = re.compile(rf"\b(?P<word>past|last|previous|letzten|vergangenen) (?P<n>{_NUMBER}) "
                   r"(?P<unit>days|nights|tage|tagen|naechte|hours|stunden|weeks|wochen)\b"
                   r"|\bpast (?P<week>week)\b")
# "on Fridays", "on weekends", "on a weekend", "every Friday", "each weekend".
_EVERY_WEEKDAY = re.compile(rf"\b(?:(?:on|at|over) (?:(?P<weekend>weekends|a weekend|the weekends)|"
                            rf"(?P<day>(?:{_WEEKDAY})s))|(?:every|each|jeden|jedes) "
                            rf"(?:(?P<weekend_>weekend|wochenende)|(?P<day_>{_WEEKDAY})))\b")
# "how many Friday runs", "how often on a Friday": a count of those days' runs.
_COUNTED_WEEKDAY = re.compile(rf"\b(?:how many|how often|wie oft|wie viele)\b.*\b(?:(?P<day>{_WEEKDAY})"
                              rf"(?: \w+)? (?:runs|exports|imports|syncs|loads|jobs)|"
                              rf"(?P<weekend>weekend) (?:runs|days))\b")
_WEEKEND = re.compile(rf"\b(?:(?P<last>{_LAST}) )?(?:weekends?|wochenende)\b")
_WEEK_OR_MONTH = re.compile(rf"\b(?:(?P<last>{_LAST})|{_THIS}) (?P<unit>week|woche|month|monat)\b")
_LAST_NIGHT = re.compile(r"\b(?:last night|overnight|tonight|heute nacht|letzte nacht|gestern nacht"
                         r"|gestern abend|yesterday (?:night|evening))\b")
_THIS_EVENING = re.compile(r"\b(?:this|heute) (?:evening|abend)\b")
_WEEKDAY_NIGHT = re.compile(rf"\b(?:(?P<last>{_LAST}) )?(?P<day>{_WEEKDAY}) ?(?:night|evening|nacht|abend)\b")
_MORNING = re.compile(r"\b(?:(?P<yesterday>yesterday|gestern)|this|heute) (?:morning|morgen|frueh)\b")


def _range(c: _Context) -> Period | None:
    """ "from Monday to Wednesday", "between the 20th and the 22nd", "vom 20.11. bis 22.11." """
    keyword = _RANGE.search(c.text)
    if keyword is None:
        return None
    mentions = sorted((m for m in c.mentions if m.start >= keyword.end()), key=lambda m: m.start)
    for first, second in pairwise(mentions):
        if not _RANGE_JOIN.fullmatch(c.text[first.end:second.start]):
            continue
        last = second.resolve(c.today)
        start = first.resolve(last) if last else None  # the start's most recent before the end
        if start is None or last is None:
            return None
        start, last = min(start, last), max(start, last)
        if start == last:
            return day_period(_on(start, c.today), start, c.zone)
        return days_period(f"between {_short(start, c.today)} and {_short(last, c.today)}", start,
                           last, c.zone)
    return None


def _since(c: _Context) -> Period | None:
    for keyword in _SINCE.finditer(c.text):
        for mention in c.mentions:
            if re.fullmatch(r" (?:the |on )?", c.text[keyword.end():mention.start]) and (
                    day := mention.resolve(c.today)) is not None:
                return days_period(f"since {_long(day, c.today)}", min(day, c.today), c.today, c.zone)
        after = c.text[keyword.end():]
        if re.match(r" (?:the |last )?(?:weekend|wochenende)\b", after):
            # "since the weekend": from the Saturday of the last weekend that has begun
            saturday = c.today - timedelta(days=(c.today.weekday() - 5) % 7)
            return days_period(f"since {_long(saturday, c.today)}", saturday, c.today, c.zone)
        if re.match(r" (?:last|this) (?:week|woche)\b", after):
            monday = c.today - timedelta(days=c.today.weekday() + (7 if "last" in after[:6] else 0))
            return days_period(f"since {_long(monday, c.today)}", monday, c.today, c.zone)
    return None


def _past_days(c: _Context) -> Period | None:
    """ "past 3 days", "last 7 days" (today and the days before it), "past 24 hours". """
    match = _PAST.search(c.text)
    if match is None:
        return None
    if match["week"]:
        count, unit, word = 7, "days", "past"
    else:
        count, unit = _number(match["n"]), match["unit"]
        word = match["word"] if match["word"] in ("past", "last") else "past"
    if count == 0:
        return None
    if unit in ("hours", "stunden"):
        start = (c.now.astimezone(UTC) - timedelta(hours=count)).astimezone(c.zone)
        days = tuple(start.date() + timedelta(days=i) for i in range((c.today - start.date()).days + 1))
        return Period(f"in the {word} {count} hours", start, local_midnight(c.today + timedelta(days=1),
                                                                           c.zone), days)
    if unit in ("weeks", "wochen"):
        count *= 7
    label = f"in the {word} {count} days" if count > 1 else "today"
    return days_period(label, c.today - timedelta(days=count - 1), c.today, c.zone)


def _every_weekday(c: _Context) -> Period | None:
    """"On Fridays", "on weekends", "on a weekend", "every Friday", "how many Friday runs":
    those days of the week over the last EVERY_WEEKDAY_WEEKS weeks (today included)."""
    match = _EVERY_WEEKDAY.search(c.text) or _COUNTED_WEEKDAY.search(c.text)
    if match is None:
        return None
    named = {key.rstrip("_"): value for key, value in match.groupdict().items() if value}
    if "weekend" in named:
        weekdays, label = frozenset({5, 6}), "on weekends"
    else:
        day = named["day"]
        number = WEEKDAY_NUMBER.get(day, WEEKDAY_NUMBER.get(day[:-1], 0))  # "fridays"
        weekdays, label = frozenset({number}), f"on {WEEKDAYS[number].capitalize()}s"
    first = c.today - timedelta(weeks=EVERY_WEEKDAY_WEEKS)
    days = tuple(day for day in (first + timedelta(days=i) for i in range((c.today - first).days + 1))
                 if day.weekday() in weekdays)
    end = local_midnight(c.today + timedelta(days=1), c.zone)
    return Period(label, local_midnight(first, c.zone), end, days, weekdays=weekdays)


def _weekend(c: _Context) -> Period | None:
    """The most recent weekend not in the future, Saturday 00:00 to Monday 00:00; "last
    weekend" asked on a Saturday or Sunday is the one before."""
    match = _WEEKEND.search(c.text)
    if match is None:
        return None
    saturday = c.today - timedelta(days=(c.today.weekday() - 5) % 7)
    if match["last"] and c.today.weekday() >= 5:
        saturday -= timedelta(days=7)
    sunday = saturday + timedelta(days=1)
    first = f"{saturday.day}–" if saturday.month == sunday.month else \
        f"{saturday.day} {_month(saturday)} – "
    label = f"over the weekend of {first}{sunday.day} {_month(sunday)}{_year_suffix(sunday, c.today)}"
    return days_period(label, saturday, sunday, c.zone)


# "week 46", "KW 46", "calendar week 46", "W46", "2026-W46": an ISO week.
ISO_WEEK = re.compile(r"\b(?:(?P<year>\d{4}) ?)?(?:(?:calendar |iso )?week|kw|wk|woche|w) ?(?P<n>\d{1,2})\b")


def _iso_week(c: _Context) -> Period | None:
    """An ISO week by its number: of this year, or of the last when it has not begun yet."""
    match = ISO_WEEK.search(c.text)
    if match is None or not 1 <= int(match["n"]) <= 53:
        return None
    number = int(match["n"])
    year = int(match["year"]) if match["year"] else c.today.isocalendar().year
    try:
        monday = date.fromisocalendar(year, number, 1)
    except ValueError:
        return None
    if monday > c.today and not match["year"]:
        try:
            monday = date.fromisocalendar(year - 1, number, 1)
        except ValueError:
            return None
    sunday = monday + timedelta(days=6)
    label = f"in week {number} ({monday.day} {_month(monday)} – {sunday.day} {_month(sunday)})"
    return days_period(label, monday, min(sunday, max(monday, c.today)), c.zone)


def _week_or_month(c: _Context) -> Period | None:
    match = _WEEK_OR_MONTH.search(c.text)
    if match is None:
        return None
    week = match["unit"] in ("week", "woche")
    if week:
        first = c.today - timedelta(days=c.today.weekday())
        if not match["last"]:
            return days_period("this week", first, c.today, c.zone)
        return days_period("last week", first - timedelta(days=7), first - timedelta(days=1), c.zone)
    first = c.today.replace(day=1)
    if not match["last"]:
        return days_period("this month", first, c.today, c.zone)
    end = first - timedelta(days=1)
    return days_period("last month", end.replace(day=1), end, c.zone)


def _night(c: _Context) -> Period | None:
    """ "last night" (and "tonight", for nightly runs): yesterday 18:00 to today noon; "Friday
    night": Friday 18:00 to Saturday noon, the most recent one that has begun."""
    if _THIS_EVENING.search(c.text) or (c.now.time() >= NIGHT_STARTS and "tonight" in c.text.split()):
        return night_period("tonight", c.today, c.zone)  # asked in the evening: the night to come
    if re.search(r"\b(?:the )?night before last\b|\bvorletzte nacht\b", c.text):
        return night_period("the night before last", c.today - timedelta(days=2), c.zone)
    if _LAST_NIGHT.search(c.text):
        return night_period("last night", c.today - timedelta(days=1), c.zone)
    match = _WEEKDAY_NIGHT.search(c.text)
    if match is None:
        return None
    index = WEEKDAY_NUMBER[match["day"]]
    back = (c.today.weekday() - index) % 7
    if back == 0 and (match["last"] or c.now.time() < NIGHT_STARTS):
        back = 7
    evening = c.today - timedelta(days=back)
    return night_period(f"on the night of {_long(evening, c.today)}", evening, c.zone)


def _morning(c: _Context) -> Period | None:
    match = _MORNING.search(c.text)
    if match is None:
        return None
    day = c.today - timedelta(days=1 if match["yesterday"] else 0)
    label = "yesterday morning" if match["yesterday"] else "this morning"
    return Period(label, local_midnight(day, c.zone), datetime.combine(day, NIGHT_ENDS, tzinfo=c.zone),
                  (day,))


# --- a run named by its start time -------------------------------------------------------------

_TIME = r"(?P<h>\d{1,2})(?::(?P<m>\d{2}))?(?: ?(?P<ampm>am|pm|a m|p m|oclock|uhr))?(?![\w:])"
_RUN_TIME = [
    re.compile(rf"\bthe {_TIME} (?=[a-z])"),  # "the 02:00 run", "the 2am import"
    re.compile(r"\b(?:run|runs|ran|job|one|started|start|starts|starting|scheduled|kicked off|launched"
               r"|triggered|import|export|lauf|sync|syncs|load|batch|feed|upload|extract)"
               rf" (?:at|of|from|um) {_TIME}"),  # "the run at 2am", "sync at 01:05"
    re.compile(rf"\b{_TIME} (?=(?:run|runs|sync|syncs|import|export|job|one|batch|load|lauf)\b)"),
]


_NAMED_TIME = re.compile(r"\b(?P<word>midnight|mitternacht|noon|midday|mittag) (?:[a-z]+ )?"
                         r"(?:run|runs|sync|import|export|job|lauf|one|batch|load)\b")


def _clock(hour_text: str, minute_text: str | None, suffix: str | None) -> time | None:
    """ "02:00", "2am", "2:30 p m", "14 uhr"; a bare "2" is not a time."""
    if minute_text is None and suffix is None:
        return None
    hour, minute = int(hour_text), int(minute_text or 0)
    if suffix in ("am", "a m", "pm", "p m"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix in ("pm", "p m") else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _at_time(period: Period | None, at: time, c: _Context) -> Period | None:
    clock = f"{at.hour:02}:{at.minute:02}"
    if period is None:
        day = c.today if at <= c.now.time() else c.today - timedelta(days=1)
        label = f"at {clock} {'today' if day == c.today else 'yesterday'}"
    elif _is_night(period):
        day = period.days[0] if at >= NIGHT_ENDS else period.days[1]
        label = f"at {clock} {period.label}"
    elif len(period.days) == 1:
        day, label = period.days[0], f"at {clock} {period.label}"
    else:
        return replace(period, at_time=at)  # several days: the runs started near `at` each day
    start, end = run_window(day, at, c.zone)
    return Period(label, start, end, (day,), at)


def run_window(day: date, at: time, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """When a run that was due at `at` on `day` started: 15 min before to 45 min after; a
    time that DST skips or repeats covers both readings (the 02:30 run on a spring-forward
    night starts just after the gap, at 03:00)."""
    moments = [datetime.combine(day, at, tzinfo=zone).replace(fold=fold).astimezone(UTC)
               for fold in (0, 1)]
    return (min(moments) - RUN_EARLY).astimezone(zone), (max(moments) + RUN_LATE).astimezone(zone)


def _is_night(period: Period) -> bool:
    return len(period.days) == 2 and period.start.time() == NIGHT_STARTS \
        and period.end.time() == NIGHT_ENDS


# --- how periods read --------------------------------------------------------------------------

def _month(day: date) -> str:
    return MONTHS[day.month - 1][:3].capitalize()


def _year_suffix(day: date, today: date) -> str:
    return "" if day.year == today.year else f" {day.year}"


def _long(day: date, today: date) -> str:
    """ "Friday 20 Nov", "Friday 20 Nov 2025" """
    return f"{WEEKDAYS[day.weekday()].capitalize()} {day.day} {_month(day)}{_year_suffix(day, today)}"


def _short(day: date, today: date) -> str:
    """ "Fri 20 Nov" """
    return f"{WEEKDAYS[day.weekday()][:3].capitalize()} {day.day} {_month(day)}{_year_suffix(day, today)}"


def _on(day: date, today: date) -> str:
    return "today" if day == today else f"on {_long(day, today)}"
