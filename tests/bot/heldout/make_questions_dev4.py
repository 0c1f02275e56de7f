# ruff: noqa: E501 - questions and their facts read best one per line
"""Write questions_dev4.json: a fourth, independent set of development questions ("dev4") over
the Nordwind Logistik story in story.json.

Written without reading the engine, in the style and with the kinds of the `dev` questions
(short Teams messages, mostly from Hamburg, some from the customs desk in New York, a little
German, the odd typo), as a second batch from the same person: other jobs, other days, other
facts, other wordings. None repeats a `dev2` or `dev3` question (questions_extra.json,
questions_dev3.json). Every fact is read from the story (events, job definitions, `now`) by
code; relative days ("yesterday", "saturday") are resolved in the asker's own zone, and every
question is asked at the story's `now`. A few facts are re-derived from the raw events by a
second route at the end (`cross_check`), so a changed story fails loudly.

Usage: python tests/bot/heldout/make_questions_dev4.py   (writes questions_dev4.json)
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
STORY = json.loads((HERE / "story.json").read_text(encoding="utf-8"))
OUT = HERE / "questions_dev4.json"

NOW = datetime.fromisoformat(STORY["now"])
JOBS: dict[str, dict[str, Any]] = STORY["jobs"]

BER, NYC, KOL = "Europe/Berlin", "America/New_York", "Asia/Kolkata"

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
MONATE = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
          "Oktober", "November", "Dezember"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
TAGE = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]
SUCCESS_WORDS = ["successful", "successfully"]


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


# ---------------------------------------------------------------------------------------------
# The story, read into runs


@dataclass
class RunView:
    job: str
    key: str
    events: list[dict[str, Any]] = field(default_factory=list)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["kind"] == kind]

    @property
    def start(self) -> datetime:
        return parse(self.of("start")[0]["at"])

    @property
    def finish_event(self) -> dict[str, Any] | None:
        found = self.of("finish")
        return found[0] if found else None

    @property
    def end(self) -> datetime | None:
        event = self.finish_event
        return parse(event["at"]) if event else None

    @property
    def status(self) -> str | None:
        event = self.finish_event
        return event["status"] if event else None

    @property
    def seconds(self) -> float:
        assert self.end is not None, self.key
        return (self.end - self.start).total_seconds()

    @property
    def attributes(self) -> dict[str, Any]:
        return dict(self.of("start")[0].get("attributes", {}))

    def metric(self, name: str) -> float | None:
        found = [e["value"] for e in self.of("metric") if e["name"] == name]
        return found[-1] if found else None

    def milestone(self, name: str) -> dict[str, Any] | None:
        found = [e for e in self.of("milestone") if e["name"] == name]
        return found[-1] if found else None

    def milestone_at(self, name: str) -> datetime:
        event = self.milestone(name)
        assert event is not None, (self.key, name)
        return parse(event["at"])

    def payload(self, name: str) -> dict[str, Any]:
        found = [e["data"] for e in self.of("payload") if e["name"] == name]
        assert found, (self.key, name)
        return dict(found[-1])

    def duration(self, name: str) -> float:
        found = [e["seconds"] for e in self.of("duration") if e["name"] == name]
        assert found, (self.key, name)
        return float(found[-1])

    def notes(self) -> list[str]:
        return [e["text"] for e in self.of("note")]

    def local_day(self, zone: str | None = None) -> date:
        return self.start.astimezone(ZoneInfo(zone or JOBS[self.job]["timezone"])).date()


def read_runs() -> dict[str, list[RunView]]:
    table: dict[tuple[str, str], RunView] = {}
    for event in STORY["events"]:
        table.setdefault((event["job"], event["run"]), RunView(event["job"], event["run"]))
        table[(event["job"], event["run"])].events.append(event)
    runs: dict[str, list[RunView]] = {slug: [] for slug in JOBS}
    for view in table.values():
        view.events.sort(key=lambda e: parse(e["at"]))
        runs[view.job].append(view)
    for views in runs.values():
        views.sort(key=lambda r: r.start)
    return runs


RUNS = read_runs()
LAST_EVENT = max(parse(e["at"]) for e in STORY["events"])


def runs_on(job: str, day: date, zone: str | None = None) -> list[RunView]:
    return [r for r in RUNS[job] if r.local_day(zone) == day]


def run_on(job: str, day: date, zone: str | None = None) -> RunView:
    found = runs_on(job, day, zone)
    assert len(found) == 1, (job, day, [r.key for r in found])
    return found[0]


def run_at(job: str, moment: datetime) -> RunView:
    """The run of `job` whose start lies in the minute of `moment`."""
    found = [r for r in RUNS[job] if r.start.replace(second=0) == moment.replace(second=0)]
    assert len(found) == 1, (job, moment)
    return found[0]


def usual_values(job: str, name: str, before: datetime) -> list[float]:
    values = []
    for r in RUNS[job]:
        value = r.metric(name)
        if r.start < before and value is not None and not bad(r, check_usual=False):
            values.append(value)
    return values


def bad(run: RunView, check_usual: bool = True) -> bool:
    """What the story makes bad: not succeeded, a failed milestone, the final milestone never
    reached, a metric outside its limits, or a metric far (5x) from the job's usual value."""
    expect = JOBS[run.job].get("expect", {})
    if run.status is None:
        return False  # still running: neither good nor bad yet
    if run.status != "succeeded":
        return True
    if any(e.get("status", "reached") != "reached" for e in run.of("milestone")):
        return True
    final = expect.get("final_milestone")
    if final and run.milestone(final) is None:
        return True
    for name, rule in expect.get("metrics", {}).items():
        value = run.metric(name)
        if value is None:
            continue
        if "min" in rule and value < rule["min"]:
            return True
        if "max" in rule and value > rule["max"]:
            return True
        if check_usual and rule.get("usual"):
            others = [v for v in usual_values(run.job, name, NOW + timedelta(days=1))
                      if v != value]
            middle = statistics.median(others)
            if middle and not (middle / 5 <= value <= middle * 5):
                return True
    return False


def good_runs(job: str, before: datetime) -> list[RunView]:
    return [r for r in RUNS[job] if r.end is not None and r.end <= before and not bad(r)]


# ---------------------------------------------------------------------------------------------
# Spellings


def local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def clock(moment: datetime, zone: str) -> list[str]:
    """A clock time in `zone`, 24 h and 12 h ("23:41", "11:41 pm"); seconds are dropped."""
    t = local(moment, zone)
    h, m = t.hour, t.minute
    out = [f"{h:02d}:{m:02d}", f"{h}:{m:02d}", f"{h:02d}.{m:02d} uhr", f"{h}.{m:02d} uhr"]
    h12, half = (h % 12 or 12), ("am" if h < 12 else "pm")
    out += [f"{h12}:{m:02d} {half}", f"{h12}:{m:02d}{half}", f"{h12}:{m:02d} {half[0]}.m."]
    if m == 0:
        out += [f"{h12} {half}", f"{h12}{half}", f"{h} uhr"]
    return list(dict.fromkeys(out))


def clocks(*moments: datetime, zone: str) -> list[str]:
    out: list[str] = []
    for moment in moments:
        out += clock(moment, zone)
    return list(dict.fromkeys(out))


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def day_words(day: date, asked: datetime | None = None, zone: str | None = None) -> list[str]:
    """A calendar day, written many ways; relative words when the asker's day makes them true."""
    mon, monat = MONTHS[day.month - 1], MONATE[day.month - 1]
    out = [f"{mon[:3]} {day.day}", f"{mon} {day.day}", f"{day.day} {mon[:3]}", f"{day.day} {mon}",
           f"{mon[:3]}. {day.day}", f"{day.day}.{day.month}.", f"{day.day:02d}.{day.month:02d}.",
           day.isoformat(), f"{day.month}/{day.day}", f"{day.day}/{day.month}", ordinal(day.day),
           f"{day.day}. {monat}", f"{day.day}. {monat[:3]}"]
    if asked is not None and zone is not None:
        today = local(asked, zone).date()
        delta = (today - day).days
        if delta == 0:
            out += ["today", "heute", "this morning", "heute morgen", "heute früh", "last night",
                    "tonight", "overnight", "heute nacht"]
        elif delta == 1:
            out += ["yesterday", "gestern"]
        if -6 <= delta <= 6:
            out += [DAYS[day.weekday()], TAGE[day.weekday()]]
    return list(dict.fromkeys(out))


def num(value: float) -> list[str]:
    """A number as people and bots write it: 18,212 · 18212 · 18.212 · 18 212; 8.4 · 8,4."""
    if isinstance(value, float) and not value.is_integer():
        text = f"{value}"
        return [text, text.replace(".", ",")]
    n = int(value)
    if abs(n) < 1000:
        return [str(n)]
    grouped = f"{n:,}"
    return [grouped, str(n), grouped.replace(",", "."), grouped.replace(",", " ")]


def nums(*values: float) -> list[str]:
    out: list[str] = []
    for value in values:
        out += num(value)
    return list(dict.fromkeys(out))


def minutes_words(m: int) -> list[str]:
    h, mm = divmod(m, 60)
    if h == 0:
        return [f"{m} min", f"{m}min", f"{m}m", f"{m} minute", f"{m} mins", f"{m} minuten",
                f"0:{m:02d}", f"0h {m}m", f"0 h {m} min"]
    out = [f"{h}h {mm}m", f"{h}h {mm:02d}m", f"{h}h{mm:02d}", f"{h}h{mm}m", f"{h} h {mm} min",
           f"{h} h {mm:02d} min", f"{h}h {mm}min", f"{h}h {mm:02d}min", f"{h}:{mm:02d}",
           f"{h} hours {mm} min", f"{h} hours and {mm} min", f"{h} hour {mm} min",
           f"{h} hour and {mm} min", f"{h} hr {mm} min", f"{h} hrs {mm} min", f"{h} h {mm} m",
           f"{h} std {mm} min", f"{h} std. {mm} min", f"{h} stunden {mm} min",
           f"{h} stunde {mm} min", f"{h} stunden und {mm} min", f"{h} stunde und {mm} min",
           f"{m} min", f"{m} minutes"]
    if mm == 0:
        out += [f"{h}h", f"{h} h", f"{h} hour", f"{h} hours", f"{h} std", f"{h} stunde"]
    return out


def dur(seconds: float) -> list[str]:
    """A length of time in minutes, truncated or rounded (both are right)."""
    candidates = {int(seconds // 60), int((seconds + 30) // 60)}
    out: list[str] = []
    for m in sorted(candidates):
        out += minutes_words(m)
    return list(dict.fromkeys(out))


def durs(*seconds: float) -> list[str]:
    out: list[str] = []
    for value in seconds:
        out += dur(value)
    return list(dict.fromkeys(out))


def usual_numbers(values: list[float]) -> list[str]:
    """What "usually" may honestly be: median, mean, the range ends, the rounded middle; over all
    earlier good runs or the last 7 or 10 of them (`values` in time order)."""
    out: list[str] = []
    for window in (values, values[-7:], values[-10:]):
        out += _usual_numbers(window)
    return list(dict.fromkeys(out))


def _usual_numbers(values: list[float]) -> list[str]:
    middle, mean = statistics.median(values), statistics.fmean(values)
    if all(float(v).is_integer() for v in values):
        picks: list[float] = [round(middle), round(mean), min(values), max(values)]
        if middle >= 1000:
            picks += [round(middle, -2), round(mean, -2)]
        picks = [int(p) for p in picks]
    else:
        picks = [round(middle, 1), round(mean, 1), min(values), max(values)]
        picks = [int(p) if float(p).is_integer() else p for p in picks]
        picks += [round(middle), round(mean)]
    out: list[str] = []
    for pick in picks:
        out += num(pick)
    return list(dict.fromkeys(out))


def usual_durations(values: list[float]) -> list[str]:
    out: list[str] = []
    for window in (values, values[-7:], values[-10:]):
        out += durs(statistics.median(window), statistics.fmean(window), min(window), max(window))
    return list(dict.fromkeys(out))


# Job names as an answer would spell them
NAMES = {
    "carrier-rates-import": ["rate import", "rates import", "carrier rate", "carrier-rates",
                             "frachtraten", "tariff load", "rate file"],
    "freight-audit": ["audit", "rechnungsprüfung"],
    "customs-export": ["customs", "zollexport", "ace filing", "cbp"],
    "tracking-sync": ["tracking", "sync", "sendungsverfolgung", "trackhub"],
    "demand-forecast": ["forecast", "palettenprognose", "prognose"],
    "carrier-scorecard": ["scorecard", "kpi report", "weekly report"],
}
DID_NOT_START = ["not start", "didn't start", "did not start", "never started", "hasn't started",
                 "has not started", "not started", "no run", "hasn't run", "has not run",
                 "didn't run", "did not run", "not run", "missing", "no start", "nicht gestartet",
                 "nicht gelaufen", "overdue", "late", "missed"]
FAILED = ["fail", "fehlgeschlagen", "abgebrochen", "error"]
WEEKDAYS = ["weekday", "mon-fri", "mon–fri", "monday to friday", "monday through friday",
            "monday–friday", "monday-friday", "montag bis freitag", "werktags", "mo-fr", "mo–fr"]


# ---------------------------------------------------------------------------------------------
# Cron: the next moments a job is due


def _field_matches(spec: str, value: int) -> bool:
    for part in spec.split(","):
        if part == "*":
            return True
        if part.startswith("*/"):
            if value % int(part[2:]) == 0:
                return True
        elif "-" in part:
            low, high = (int(x) for x in part.split("-"))
            if low <= value <= high:
                return True
        elif int(part) == value:
            return True
    return False


def due_moments(job: str, after: datetime, before: datetime) -> list[datetime]:
    minute, hour, _dom, _month, dow = JOBS[job]["schedule"].split()
    zone = ZoneInfo(JOBS[job]["timezone"])
    t = after.astimezone(zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
    found = []
    while t < before:
        cron_dow = (t.weekday() + 1) % 7
        if _field_matches(minute, t.minute) and _field_matches(hour, t.hour) \
                and _field_matches(dow, cron_dow):
            found.append(t)
        t += timedelta(minutes=1)
    return found


def next_due(job: str, after: datetime) -> datetime:
    return due_moments(job, after, after + timedelta(days=8))[0]


def last_due(job: str, before: datetime) -> datetime:
    return due_moments(job, before - timedelta(days=3), before)[-1]


def span(spec: str) -> timedelta:
    total = timedelta()
    for amount, unit in re.findall(r"(\d+)([hm])", spec):
        total += timedelta(hours=int(amount)) if unit == "h" else timedelta(minutes=int(amount))
    return total



WORDS = {1: ["one", "once", "einmal", "eins", "ein"], 2: ["two", "twice", "zwei", "zweimal"],
         3: ["three", "drei"], 4: ["four", "vier"], 5: ["five", "fünf"], 6: ["six", "sechs"],
         7: ["seven", "sieben"], 8: ["eight", "acht"]}


def count_words(n: int) -> list[str]:
    """A small count as a digit or a word."""
    return list(dict.fromkeys(num(n) + WORDS.get(n, [])))


def week_start(moment: datetime, zone: str) -> datetime:
    d = local(moment, zone).date()
    return datetime.combine(d - timedelta(days=d.weekday()), time(0), ZoneInfo(zone))


def day_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    lo = datetime.combine(day, time(0), ZoneInfo(zone))
    return lo, datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(zone))


def started_between(job: str, lo: datetime, hi: datetime) -> list[RunView]:
    return [r for r in RUNS[job] if lo <= r.start < hi]


def file_name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[1]


# ---------------------------------------------------------------------------------------------
# Questions

QUESTIONS: list[dict[str, Any]] = []
NOT_STARTED = [*DID_NOT_START, "no events", "kein lauf", "keinen lauf"]
EVERY_DAY = ["daily", "every day", "each day", "7 days", "seven days", "täglich", "jeden tag",
             "saturdays", "sundays", "weekends too", "auch am wochenende"]


def stamp(moment: datetime, zone: str) -> str:
    return local(moment, zone).replace(microsecond=0).isoformat()


def q(kind: str, question: str, tz: str, *, first: str | None = None,
      facts: Iterable[list[str]] = (), forbidden: Iterable[str] = (),
      about: Iterable[RunView] = ()) -> None:
    """One question, asked at the story's `now` from zone `tz`; `about` names the runs the answer
    is about: if one of them is bad, the answer must not call anything "successful"."""
    assert first in (None, "yes", "no", "unsure"), question
    about = list(about)
    banned = list(dict.fromkeys([*forbidden, *(SUCCESS_WORDS if any(bad(r) for r in about) else [])]))
    groups = [list(dict.fromkeys(g)) for g in facts]
    assert all(groups), question
    QUESTIONS.append({
        "id": f"z{len(QUESTIONS) + 1:03d}",
        "split": "dev4",
        "kind": kind,
        "question": question,
        "asked_at": stamp(NOW, tz),
        "tz": tz,
        "expect": {"first": first, "facts": groups, "forbidden": banned},
    })


def hour_words(length: timedelta) -> list[str]:
    """A whole number of hours, as digits or words."""
    hours, rest = divmod(int(length.total_seconds()), 3600)
    assert not rest and 1 <= hours <= 8
    words = {1: ["one hour", "an hour", "eine stunde"], 4: ["four hours", "vier stunden"]}.get(hours, [])
    return [*minutes_words(hours * 60), *words]


def back_to(weekday: int, zone: str) -> date:
    """The last day before the asker's today that falls on `weekday` (0 = Monday): what "on
    saturday" means on a Tuesday."""
    today = local(NOW, zone).date()
    return today - timedelta(days=(today.weekday() - weekday) % 7 or 7)


def build() -> None:
    today = local(NOW, BER).date()
    yesterday = today - timedelta(days=1)
    ws = week_start(NOW, BER)
    assert local(NOW, NYC).date() == today  # New York's Tuesday has begun too (02:40)

    rates = {r.local_day(): r for r in RUNS["carrier-rates-import"]}
    rates_now, rates_prev = rates[today], rates[yesterday]
    audit_now = run_on("freight-audit", today)
    audit_prev = run_on("freight-audit", yesterday)
    forecast_now = RUNS["demand-forecast"][-1]
    assert forecast_now.status is None
    syncs = RUNS["tracking-sync"]
    finished_syncs = [r for r in syncs if r.end is not None]
    sync_503, sync_oauth = [r for r in syncs if r.status == "failed"]
    cards = RUNS["carrier-scorecard"]
    customs = RUNS["customs-export"]
    progress = forecast_now.of("progress")[-1]
    done, total = progress["done"], progress["total"]
    assert bad(rates_now) and audit_now.status == "failed" and not bad(rates_prev)
    a18_first, a18_rerun = runs_on("freight-audit", date(2026, 11, 18))
    assert a18_first.status == "failed" and not bad(a18_rerun)

    def audit_day(day: date) -> RunView:
        return run_on("freight-audit", day)

    def ace(day: date) -> RunView:
        return run_on("customs-export", day, NYC)

    def fc(day: date) -> RunView:
        return run_on("demand-forecast", day, BER)

    def sync_at(day: date, hour: int, minute: int, zone: str) -> RunView:
        return run_at("tracking-sync", datetime.combine(day, time(hour, minute), ZoneInfo(zone)))

    customs_missed = last_due("customs-export", NOW)
    assert not [r for r in customs if r.start >= customs_missed - timedelta(hours=1)]
    night = [NAMES["carrier-rates-import"], NAMES["freight-audit"], NAMES["customs-export"]]

    sat, sun, fri, thu = back_to(5, BER), back_to(6, BER), back_to(4, BER), back_to(3, BER)
    assert (sat, sun, fri, thu) == (date(2026, 11, 21), date(2026, 11, 22), date(2026, 11, 20),
                                    date(2026, 11, 19))

    # ================================================================ did it run
    k = "did_it_run"
    r13 = rates[date(2026, 11, 13)]
    q(k, "did the rates import run on the 13th", BER, first="yes",
      facts=[clocks(r13.start, r13.end, zone=BER)], about=[r13])
    f_sat = fc(sat)
    q(k, "did the forecast get published on saturday?", BER, first="yes",
      facts=[clocks(f_sat.milestone_at("forecast-published"), f_sat.end, zone=BER)], about=[f_sat])
    a17 = ace(date(2026, 11, 17))
    q(k, "did the ace filing go out on tuesday the 17th?", NYC, first="yes",
      facts=[clocks(a17.start, a17.end, zone=NYC)], about=[a17])
    a16 = ace(date(2026, 11, 16))
    q(k, "customs export ran monday the 16th?", NYC, first="yes",
      facts=[clocks(a16.start, a16.end, zone=NYC)], about=[a16])
    s2105 = sync_at(yesterday, 21, 5, BER)
    assert s2105.status == "succeeded"
    q(k, "did the 21:05 tracking sync run last night", BER, first="yes",
      facts=[clocks(s2105.start, s2105.end, zone=BER)], about=[s2105])
    assert sync_at(thu, 13, 5, BER) is sync_503
    q(k, "did the 13:05 sync on thursday go thru?", BER, first="no", facts=[["503", "unavailable"]],
      about=[sync_503])
    a_sat = audit_day(sat)
    q(k, "did the rechnungsprüfung run ok on saturday?", BER, first="yes",
      facts=[clocks(a_sat.start, a_sat.end, zone=BER)], about=[a_sat])
    assert not runs_on("carrier-scorecard", today)
    q(k, "did the scorecard run today?", BER, first="no",
      facts=[["monday", "mondays", "montag", "montags", "weekly", "wöchentlich",
              *day_words(cards[-1].local_day(), NOW, BER)]])
    month0 = datetime.combine(today.replace(day=1), time(0), ZoneInfo(BER))
    assert not [r for r in RUNS["demand-forecast"] if r.start >= month0 and r.status not in (None, "succeeded")]
    q(k, "has the forecast failed at all this month", BER, first="no")
    evening = [sync_at(sun, 17, 5, BER), sync_at(sun, 21, 5, BER)]
    assert all(r.status == "succeeded" for r in evening)
    q(k, "did the evening syncs run on sunday", BER, first="yes",
      facts=[clocks(r.start, r.end, zone=BER) for r in evening], about=evening)
    a11 = ace(date(2026, 11, 11))
    q(k, "did the ace filing run on the 11th", NYC, first="yes",
      facts=[clocks(a11.start, a11.end, zone=NYC)], about=[a11])
    s0905 = sync_at(fri, 9, 5, BER)
    assert s0905.status == "succeeded"
    q(k, "did the sync run at 09:05 on friday", BER, first="yes",
      facts=[clocks(s0905.start, s0905.end, zone=BER)], about=[s0905])
    r21 = rates[sat]
    q(k, "did the rate import publish tariffs on the 21st", BER, first="yes",
      facts=[clocks(r21.milestone_at("tariffs-published"), r21.end, zone=BER)], about=[r21])
    assert all(r.status == "succeeded" and not bad(r) for r in cards)
    q(k, "has the scorecard ever failed", BER, first="no")
    sat_syncs = runs_on("tracking-sync", sat, BER)
    assert len(sat_syncs) == 6 and all(r.status == "succeeded" for r in sat_syncs)
    q(k, "did any tracking sync fail on saturday", BER, first="no")
    a_fri = audit_day(fri)
    q(k, "lief die rechnungsprüfung am freitag?", BER, first="yes",
      facts=[clocks(a_fri.start, a_fri.end, zone=BER)], about=[a_fri])
    f_thu = fc(thu)
    assert local(f_thu.end, BER).hour < 10
    q(k, "did the forecast finish before 10 on thursday", BER, first="yes",
      facts=[clocks(f_thu.milestone_at("forecast-published"), f_thu.end, zone=BER)], about=[f_thu])
    a15 = audit_day(date(2026, 11, 15))
    q(k, "did teh audit run on the 15th", BER, first="yes",
      facts=[clocks(a15.start, a15.end, zone=BER)], about=[a15])
    a13 = ace(date(2026, 11, 13))
    q(k, "did customs run on friday the 13th?", NYC, first="yes",
      facts=[clocks(a13.start, a13.end, zone=NYC)], about=[a13])

    # ================================================================ what happened
    k = "what_happened"
    rate_note = rates_now.notes()[0]
    skipped, lines = (int(x.replace(",", "")) for x in
                      re.search(r"([\d,]+) of ([\d,]+) lines", rate_note).groups())
    assert skipped == rates_now.metric("rates_rejected")
    q(k, "how many lines were in the rate file last night", BER, facts=[num(lines)], about=[rates_now])
    lw_warned = [r for r in started_between("carrier-rates-import", ws - timedelta(days=7), ws) if r.notes()]
    assert len(lw_warned) == 1
    r17 = lw_warned[0]
    carrier17 = r17.notes()[0].split(":")[0]
    q(k, "were there any warnings in the rate import last week?", BER, first="yes",
      facts=[[carrier17], ["fuel surcharge", "surcharge", "zuschlag"]], about=[r17])
    sftp_note = a18_first.notes()[0]
    attempts = int(re.search(r"attempt (\d+) of (\d+)", sftp_note).group(2))
    q(k, "how many times did the audit try the sftp server on the 18th before giving up", BER,
      facts=[count_words(attempts)], about=[a18_first])
    sftp_host = sftp_note.split(":")[0]
    q(k, "which server couldnt the audit reach on the 18th", BER,
      facts=[[sftp_host, sftp_host.split(".")[1]]], about=[a18_first])
    assert "';'" in rate_note
    q(k, "what delimiter is freighthub using now?", BER,
      facts=[["';'", '";"', "semicolon", "semikolon", "delimiter ;", "to ;", "(;)"]], about=[rates_now])
    q(k, "did the rate import problem break anything else?", BER, first="yes",
      facts=[NAMES["freight-audit"]], about=[rates_now, audit_now])
    q(k, "whats going on with the customs export", BER, facts=[NOT_STARTED])
    assert not any("sftp" in text for text in [*audit_now.notes(), audit_now.finish_event["text"]])
    q(k, "was this mornings audit failure the sftp thing again?", BER, first="no",
      facts=[["tariff", "tarif"]], about=[audit_now])
    sun_syncs = runs_on("tracking-sync", sun, BER)
    assert any("retried" in text for r in sun_syncs for text in r.notes())
    assert not any(bad(r) for r in sun_syncs)
    q(k, "any warnings from the tracking sync on sunday?", BER, first="yes",
      facts=[["retried", "retry", "retries", "retrying", "wiederholt"]], about=sun_syncs)
    hit = int(re.search(r"for all (\d+) carriers", sync_503.notes()[0]).group(1))
    q(k, "how many carriers did the trackhub outage on the 19th hit", BER, facts=[num(hit)],
      about=[sync_503])
    q(k, "why is the tariff table so small this morning?", BER,
      facts=[num(rates_now.metric("rates_parsed"))], about=[rates_now])
    # the rerun was good: the answer may call it successful
    q(k, "after the audit failed on the 18th did anyone rerun it", BER, first="yes",
      facts=[clocks(a18_rerun.start, a18_rerun.end, zone=BER)])
    assert "token expired" in sync_oauth.finish_event["text"]
    q(k, "when did the trackhub token expire", BER,
      facts=[day_words(sync_oauth.local_day(BER), NOW, BER), clocks(sync_oauth.start, sync_oauth.end, zone=BER)],
      about=[sync_oauth])

    # ================================================================ start attributes
    k = "attributes"
    f15 = fc(date(2026, 11, 15))
    q(k, "what version was the forecast on the 15th", BER, facts=[[f15.attributes["version"]]], about=[f15])
    q(k, "which version of the rate import ran on saturday", BER, facts=[[r21.attributes["version"]]],
      about=[r21])
    assert a18_rerun.attributes["trigger"] == "manual"
    q(k, "was the audit rerun on the 18th kicked off by a person?", BER, first="yes",
      facts=[["manual", "manually", "by hand", "manuell", a18_rerun.attributes["user"]]])
    q(k, "which server did the audit use last night", BER, facts=[[audit_now.attributes["host"]]],
      about=[audit_now])
    q(k, "is the scorecard triggered by cron?", BER, facts=[[cards[-1].attributes["trigger"]]])
    audit_versions = {r.attributes["version"] for r in RUNS["freight-audit"]}
    assert len(audit_versions) == 1
    q(k, f"is the audit still on {audit_now.attributes['version']}?", BER, first="yes",
      facts=[[audit_now.attributes["version"]]])
    fc_versions = list(dict.fromkeys(r.attributes["version"] for r in RUNS["demand-forecast"]))
    assert len(fc_versions) == 2
    q(k, f"which forecast version came before {fc_versions[1]}", BER, facts=[[fc_versions[0]]])
    q(k, "how was the 4am audit on the 18th started", BER,
      facts=[[a18_first.attributes["trigger"], "scheduled", "schedule", "zeitplan"]], about=[a18_first])
    rate_hosts = list(dict.fromkeys(r.attributes["host"] for r in RUNS["carrier-rates-import"]))
    assert len(rate_hosts) == 1
    q(k, "did the rate import ever run on a different host?", BER, first="no", facts=[rate_hosts])
    q(k, "how is the customs export triggered", BER, facts=[[customs[-1].attributes["trigger"]]])
    q(k, "which forecast versions ran this month", BER, facts=[[v] for v in fc_versions])
    rate_versions = list(dict.fromkeys(r.attributes["version"] for r in RUNS["carrier-rates-import"]))
    last_old = [r for r in RUNS["carrier-rates-import"] if r.attributes["version"] == rate_versions[0]][-1]
    q(k, f"what was the last day the rate import ran on {rate_versions[0]}", BER,
      facts=[day_words(last_old.local_day(), NOW, BER)], about=[last_old])
    q(k, "welche version hat der zollexport?", BER, facts=[[customs[-1].attributes["version"]]])
    ace_versions = list(dict.fromkeys(r.attributes["version"] for r in customs))
    assert len(ace_versions) == 1
    q(k, "did the customs export version change in the last two weeks?", BER, first="no",
      facts=[ace_versions])

    # ================================================================ payloads
    k = "payload"
    q(k, "monday 16th ace batch - newark or savannah?", NYC,
      facts=[[a16.payload("output")["port"]]], about=[a16])
    a_wed = ace(back_to(2, NYC))
    assert a_wed.local_day(NYC) == date(2026, 11, 18)
    q(k, "whats the batch id of wednesdays customs filing", NYC,
      facts=[[a_wed.payload("output")["batch"]]], about=[a_wed])
    r15 = rates[date(2026, 11, 15)]
    q(k, "which snapshot did the rate import write on the 15th", BER,
      facts=[[r15.payload("output")["snapshot"]]], about=[r15])
    q(k, "how many sheets are in the carrier scorecard excel", BER,
      facts=[num(cards[-1].payload("output")["tabs"])])
    q(k, "how many carriers' invoices does the audit check", BER,
      facts=[num(audit_now.payload("input")["carriers"])])
    assert not [e for e in rates_now.of("payload") if e["name"] == "output"]
    q(k, "did the rate import write a tariff snapshot last night?", BER, first="no", about=[rates_now])
    port_wed = a_wed.payload("output")["port"]
    assert port_wed != "Savannah"
    q(k, "did the wednesday customs batch go to savannah?", NYC, first="no", facts=[[port_wed]],
      about=[a_wed])
    disputes_dir = audit_prev.payload("output")["file"].rsplit("/", 1)[0]
    q(k, "which folder does the audit put the disputes in", BER, facts=[[disputes_dir]])
    customs_dir = customs[-1].payload("output")["file"].rsplit("/", 1)[0]
    q(k, "where do the customs xml files end up", BER, facts=[[customs_dir]])
    api = finished_syncs[-1].payload("source")["api"]
    q(k, "which trackhub api version does the sync call", BER, facts=[[api, api.split()[-1]]])
    q(k, "whats the disputes file from the 18th called", BER,
      facts=[[file_name(a18_rerun.payload("output")["file"])]], about=[a18_rerun])
    q(k, "which invoice batch did the saturday audit check", BER,
      facts=[[a_sat.payload("input")["batch"]]], about=[a_sat])
    r20 = rates[date(2026, 11, 20)]
    q(k, "wie hieß die ratendatei am 20.?", BER, facts=[[file_name(r20.payload("input-file")["path"])]],
      about=[r20])

    # ================================================================ metrics
    k = "metrics"
    q(k, "how many lane rates came in on the 20th", BER, facts=[num(r20.metric("rates_parsed"))],
      about=[r20])
    a14 = audit_day(date(2026, 11, 14))
    q(k, "overcharge eur on the 14th?", BER, facts=[num(a14.metric("overcharge_eur"))], about=[a14])
    q(k, "how many overcharges did the rerun on the 18th find", BER,
      facts=[num(a18_rerun.metric("overcharges_found")) + num(a18_rerun.metric("overcharge_eur"))],
      about=[a18_rerun])
    a12 = ace(date(2026, 11, 12))
    q(k, "# of ACE filings submitted on the 12th?", NYC,
      facts=[num(a12.metric("filings_submitted"))], about=[a12])
    s1305 = sync_at(yesterday, 13, 5, BER)
    q(k, "how many shipments did the 13:05 sync update on monday", BER,
      facts=[num(s1305.metric("shipments_updated"))], about=[s1305])
    q(k, "api errors in last nights 21:05 sync?", BER,
      facts=[count_words(int(s2105.metric("api_errors")))], about=[s2105])
    audit_note = audit_now.notes()[0]
    missing = int(re.search(r"No tariff for ([\d,]+) of", audit_note).group(1).replace(",", ""))
    q(k, "how many invoice lines had no tariff this morning", BER, facts=[num(missing)],
      about=[audit_now])
    q(k, "how many warehouses does the forecast cover", BER,
      facts=[num(fc(yesterday).metric("warehouses_forecast"))])
    a_fri_ny = ace(back_to(4, NYC))
    q(k, "how many filings were rejected on friday", NYC,
      facts=[count_words(int(a_fri_ny.metric("filings_rejected")))], about=[a_fri_ny])
    q(k, "rates rejectd on saturday?", BER, facts=[num(r21.metric("rates_rejected"))], about=[r21])
    a13b = audit_day(date(2026, 11, 13))
    q(k, "invoices checked by the audit on fri 13th?", BER,
      facts=[num(a13b.metric("invoices_checked"))], about=[a13b])
    loaded = rates_prev.of("progress")[-1]["total"]
    assert loaded == rates_prev.metric("rates_parsed") - rates_prev.metric("rates_rejected")
    q(k, "how many rates actually got loaded into the tariff table on monday", BER, facts=[num(loaded)],
      about=[rates_prev])
    q(k, "wie viele überzahlungen hat die prüfung am samstag gefunden?", BER,
      facts=[num(a_sat.metric("overcharges_found")) + num(a_sat.metric("overcharge_eur"))],
      about=[a_sat])
    f_sun = fc(sun)
    assert f_sun.metric("forecast_mape") <= JOBS["demand-forecast"]["expect"]["metrics"]["forecast_mape"]["max"]
    q(k, "was the mape within its limit on sunday?", BER, first="yes",
      facts=[num(f_sun.metric("forecast_mape"))], about=[f_sun])

    # ================================================================ lists
    k = "lists"
    d18 = date(2026, 11, 18)
    failed18 = sorted({r.job for v in RUNS.values() for r in v if r.local_day(BER) == d18 and bad(r)})
    assert failed18 == ["freight-audit"]
    q(k, "welche jobs sind am 18. fehlgeschlagen?", BER, facts=[NAMES[j] for j in failed18])
    # Monday's run was good, today's failed: no word is banned
    week_audits = started_between("freight-audit", ws, NOW)
    q(k, "list the audit runs this week", BER,
      facts=[day_words(r.local_day(), NOW, BER) for r in week_audits] + [FAILED])
    all_failed = [r for v in RUNS.values() for r in v if r.status == "failed"]
    assert len(all_failed) == 4
    q(k, "list every failure from the last two weeks", BER,
      facts=[NAMES[j] for j in sorted({r.job for r in all_failed})]
      + [day_words(r.local_day(BER), NOW, BER) for r in all_failed], about=all_failed)
    freight_ops = [s for s, j in JOBS.items() if "Freight Ops" in j["alert"]]
    q(k, "which jobs alert freight ops", BER, facts=[NAMES[s] for s in freight_ops])
    utc_jobs = [s for s, j in JOBS.items() if j["timezone"] == "UTC"]
    q(k, "which jobs are scheduled in utc", BER, facts=[NAMES[s] for s in utc_jobs])
    etl = sorted({r.job for v in RUNS.values() for r in v if r.attributes.get("host", "").startswith("etl-")})
    q(k, "which jobs run on the etl boxes", BER, facts=[NAMES[s] for s in etl])
    lw_fc = started_between("demand-forecast", ws - timedelta(days=7), ws)
    assert len(lw_fc) == 7
    q(k, "show me the forecast mape for each day last week", BER,
      facts=[num(r.metric("forecast_mape")) for r in lw_fc], about=lw_fc)
    last3 = customs[-3:]
    q(k, "last 3 ace filings?", NYC, facts=[day_words(r.local_day(NYC), NOW, NYC) for r in last3],
      about=last3)
    no_alert = [s for s, j in JOBS.items() if not j["alert"]]
    q(k, "which jobs have no alerts set up", BER, facts=[NAMES[s] for s in no_alert])
    warned = [r for r in RUNS["carrier-rates-import"] if r.notes()]
    assert len(warned) == 2
    q(k, "on which days did the rate import log a warning", BER,
      facts=[day_words(r.local_day(), NOW, BER) for r in warned])

    # ================================================================ schedules
    k = "schedule"
    fc_max = span(JOBS["demand-forecast"]["expect"]["max_runtime"])
    q(k, "how long may the forecast run before its flagged as too slow", BER,
      facts=[hour_words(fc_max)])
    within = span(JOBS["customs-export"]["expect"]["start_within"])
    next_ace = next_due("customs-export", NOW)
    q(k, "how late can the customs export start before it counts as late", NYC,
      facts=[minutes_words(int(within.total_seconds() // 60)) + clock(next_ace + within, NYC)])
    assert JOBS["demand-forecast"]["schedule"].endswith("* * *")
    q(k, "is the forecast also running saturdays and sundays?", BER, first="yes",
      facts=[EVERY_DAY + clock(next_due("demand-forecast", NOW), BER)])
    q(k, "what time does the freight audit run in IST", KOL, facts=[clock(next_due("freight-audit", NOW), KOL)])
    gap = next_due("freight-audit", NOW) - next_due("carrier-rates-import", NOW)
    assert gap == timedelta(hours=2, minutes=30)
    q(k, "how much time is there between the rate import and the audit starting", BER,
      facts=[[*minutes_words(150), "2.5 h", "2.5 hours", "2,5 h", "2,5 stunden", "two and a half", "zweieinhalb",
              "2½", *clock(next_due("freight-audit", NOW), BER)]])
    lo, hi = day_bounds(today, BER)
    today_syncs = due_moments("tracking-sync", lo - timedelta(minutes=1), hi)
    assert len(today_syncs) == 6
    nightly = [t for t in today_syncs if local(t, BER).hour < 6]
    q(k, "does the tracking sync run at night too", BER, first="yes",
      facts=[clocks(*nightly, zone=BER)])
    ace_max = span(JOBS["customs-export"]["expect"]["max_runtime"])
    q(k, "max runtime for the ace filing?", BER, facts=[hour_words(ace_max)])
    card_next = next_due("carrier-scorecard", NOW)
    assert local(card_next, BER).weekday() == 0
    q(k, "what time does the forecast kick off in new york time", BER,
      facts=[clock(next_due("demand-forecast", NOW), NYC)])
    q(k, "wann läuft die rechnungsprüfung?", BER, facts=[clock(next_due("freight-audit", NOW), BER)])
    q(k, "what times do the syncs run today in berlin time", BER, facts=[clock(t, BER) for t in today_syncs])

    # ================================================================ durations
    k = "durations"
    q(k, "how lnog did the forecast take on saturday", BER, facts=[dur(f_sat.seconds)], about=[f_sat])
    q(k, "how long did the customs run take on the 13th", NYC, facts=[dur(a13.seconds)], about=[a13])
    good_syncs = [r for r in finished_syncs if not bad(r)]
    q(k, "how long does a tracking sync usually take", BER,
      facts=[usual_durations([r.seconds for r in good_syncs])])
    finished_rates = [r for r in RUNS["carrier-rates-import"] if r.end is not None]
    longest = max(r.seconds for r in finished_rates)
    close = [r for r in finished_rates if longest - r.seconds < 60]
    q(k, "which rate import took the longest in the last two weeks", BER,
      facts=[[w for r in close for w in day_words(r.local_day(), NOW, BER)], dur(longest)], about=close)
    q(k, "how long did the 13:05 sync on the 19th run before it failed", BER, facts=[dur(sync_503.seconds)],
      about=[sync_503])
    load_secs = (forecast_now.milestone_at("data-loaded") - forecast_now.start).total_seconds()
    q(k, "how long did the forecast take to load data this morning", BER, facts=[dur(load_secs)],
      about=[forecast_now])
    nws = week_start(NOW, NYC)
    lw_ace = started_between("customs-export", nws - timedelta(days=7), nws)
    secs = [r.seconds for r in lw_ace]
    q(k, "average customs runtime last week?", NYC,
      facts=[durs(statistics.fmean(secs), statistics.median(secs))], about=lw_ace)
    q(k, "wie lange hat der forecast am donnerstag gebraucht?", BER, facts=[dur(f_thu.seconds)],
      about=[f_thu])
    invoices_in = (audit_now.milestone_at("invoices-loaded") - audit_now.start).total_seconds()
    q(k, "how long did it take the audit to load the invoices this morning", BER, facts=[dur(invoices_in)],
      about=[audit_now])
    q(k, "how long did the audit take on the 13th", BER, facts=[dur(a13b.seconds)], about=[a13b])

    # ================================================================ running now
    k = "running"
    open_runs = [r for v in RUNS.values() for r in v if r.end is None]
    assert open_runs == [forecast_now] and not forecast_now.attributes["host"].startswith("etl-")
    q(k, "is anything running on the etl boxes right now?", BER, first="no")
    q(k, "forecast still running? how many warehouses left", KOL, facts=[num(total - done)],
      about=[forecast_now])
    q(k, "when did the forecast last report progress", BER, facts=[clock(parse(progress["at"]), BER)],
      about=[forecast_now])
    q(k, "is anyone rerunning the audit right now", BER, first="no")
    history = forecast_now.payload("input")["history_weeks"]
    assert {r.payload("input")["history_weeks"] for r in RUNS["demand-forecast"]} == {history}
    q(k, f"is the running forecast using the usual {history} weeks of history?", BER, first="yes",
      facts=[num(history)], about=[forecast_now])
    q(k, "which box is the running job on", BER,
      facts=[[forecast_now.attributes["host"]], NAMES["demand-forecast"]], about=[forecast_now])
    q(k, "wie viele jobs laufen gerade?", BER,
      facts=[["1", "one", "only", "just", "nur", "einer", "ein", "single"], NAMES["demand-forecast"]])
    assert 2 * done > total
    q(k, "has the forecast passed the halfway mark yet", BER, first="yes", facts=[num(done)],
      about=[forecast_now])
    eight = datetime.combine(today, time(8, 0), ZoneInfo(BER))
    by_eight = [e for e in forecast_now.of("progress") if parse(e["at"]) <= eight][-1]
    q(k, "how many warehouses had the forecast done by 8 o'clock", BER, facts=[num(by_eight["done"])],
      about=[forecast_now])

    # ================================================================ counting
    k = "counting"
    q(k, "how many times has the tracking sync run altogether", BER,
      facts=[num(len(syncs))])
    old_fc = [r for r in RUNS["demand-forecast"] if r.attributes["version"] == fc_versions[0]]
    q(k, f"how many times did the forecast run on {fc_versions[0]}", BER, facts=[count_words(len(old_fc))])
    fra3 = [r for r in RUNS["freight-audit"] if r.attributes["host"] == "etl-fra-3"]
    q(k, "how many audit runs were on etl-fra-3", BER, facts=[count_words(len(fra3))])
    lw_audits = started_between("freight-audit", ws - timedelta(days=7), ws)
    found = sum(r.metric("overcharges_found") or 0 for r in lw_audits)
    euros = sum(r.metric("overcharge_eur") or 0 for r in lw_audits)
    q(k, "total overcharges found last week?", BER, facts=[num(found) + num(euros)])
    over9 = [r for r in RUNS["demand-forecast"] if (r.metric("forecast_mape") or 0) > 9]
    q(k, "on how many days was the mape above 9%?", BER, facts=[count_words(len(over9))])
    n19 = runs_on("tracking-sync", thu, BER)
    q(k, "how many syncs ran on the 19th", BER, facts=[count_words(len(n19))])
    month0_ny = datetime.combine(local(NOW, NYC).date().replace(day=1), time(0), ZoneInfo(NYC))
    submitted = sum(r.metric("filings_submitted") for r in customs if r.start >= month0_ny)
    q(k, "how many customs filings went out this month", NYC, facts=[num(submitted)])
    weekend_audits = [r for r in RUNS["freight-audit"] if r.local_day().weekday() >= 5]
    q(k, "how many times did the audit run on a weekend", BER, facts=[count_words(len(weekend_audits))])
    q(k, "total number of rate import runs so far?", BER,
      facts=[count_words(len(RUNS["carrier-rates-import"]))])

    # ================================================================ unknown jobs / data
    k = "unknown"
    odd = [r for r in RUNS["freight-audit"] if r.attributes["host"] != "etl-fra-3"]
    assert len(odd) == 1 and not odd[0].notes() and odd[0].local_day().day == 21
    q(k, f"why did the audit run on {odd[0].attributes['host']} on the 21st", BER, first="unsure")
    q(k, "whats marco esposito's email", BER, first="unsure")
    q(k, "how much disk space is left on etl-fra-2", BER, first="unsure")
    q(k, "which carrier had the most rejected rates last night", BER, first="unsure", about=[rates_now])
    q(k, "did the invoice archive job run last night", BER, first="unsure")
    q(k, "how many containers were in fridays ace filings", NYC, first="unsure")
    q(k, "when will the rate file problem be fixed?", BER, first="unsure", about=[rates_now])
    q(k, "wer ist der ansprechpartner bei freighthub?", BER, first="unsure")
    q(k, "which python version does the forecast run on", BER, first="unsure")

    # ================================================================ lateness
    k = "lateness"
    rates_within = span(JOBS["carrier-rates-import"]["expect"]["start_within"])
    r12 = rates[date(2026, 11, 12)]
    assert timedelta(0) < r12.start - last_due("carrier-rates-import", r12.start) < rates_within
    q(k, "did the rate import start late on the 12th", BER, first="no", facts=[clock(r12.start, BER)],
      about=[r12])
    assert timedelta(0) < a12.start - last_due("customs-export", a12.start) < within
    q(k, "did the ace filing start late on the 12th", NYC, first="no", facts=[clock(a12.start, NYC)],
      about=[a12])
    fc_rule = JOBS["demand-forecast"]["expect"]
    for r in RUNS["demand-forecast"]:
        due = last_due("demand-forecast", r.start)
        assert r.start - due < span(fc_rule["start_within"])
        if r.end is not None:
            assert r.milestone_at("forecast-published") - due < span(fc_rule["milestones"][0]["by"])
    q(k, "was the forecast late on any day in the last two weeks", BER, first="no")
    audit_rule = JOBS["freight-audit"]["expect"]
    due13 = last_due("freight-audit", a13b.start)
    assert a13b.milestone_at("disputes-filed") - due13 < span(audit_rule["milestones"][0]["by"])
    assert a13b.seconds < span(audit_rule["max_runtime"]).total_seconds()
    q(k, "did the audit finish late on the 13th", BER, first="no",
      facts=[clocks(a13b.end, a13b.milestone_at("disputes-filed"), zone=BER)], about=[a13b])
    r22 = rates[sun]
    pub = r22.milestone_at("tariffs-published")
    assert pub - last_due("carrier-rates-import", r22.start) < span(
        JOBS["carrier-rates-import"]["expect"]["milestones"][0]["by"])
    q(k, "were the tariffs published on time on sunday", BER, first="yes", facts=[clock(pub, BER)],
      about=[r22])
    q(k, "which jobs missed their deadlines last night", BER, facts=night, about=[rates_now, audit_now])
    s0505 = sync_at(today, 5, 5, BER)
    assert s0505.start - last_due("tracking-sync", s0505.start) < span(JOBS["tracking-sync"]["expect"]["start_within"])
    q(k, "was the 05:05 sync late this morning", BER, first="no", facts=[clock(s0505.start, BER)],
      about=[s0505])

    # ================================================================ owners
    k = "owner"
    owner = {slug: job["owner"] for slug, job in JOBS.items()}
    q(k, "who looks after the CBP filings?", NYC, facts=[[owner["customs-export"]]])
    katrin = [s for s, who in owner.items() if who.startswith("Katrin")]
    q(k, "what does katrin vogel look after", BER, facts=[NAMES[s] for s in katrin])
    assert [s for s, who in owner.items() if who.startswith("Priya")] == ["demand-forecast"]
    q(k, "does priya own anything besides the forecast?", BER, first="no")
    assert not owner["tracking-sync"]
    q(k, "wer ist owner von der sendungsverfolgung?", BER, first="unsure")
    assert not owner["demand-forecast"].startswith("Dana")
    q(k, "is dana the owner of the forecast", BER, first="no", facts=[[owner["demand-forecast"]]])
    q(k, "who gets alerted if the rate import breaks", BER,
      facts=[[c] for c in JOBS["carrier-rates-import"]["alert"]])
    q(k, "who do i talk to about the trackhub token", BER, first="unsure")

    # ================================================================ not started
    k = "not_started"
    q(k, "what time should the ace filing have kicked off last night", NYC, facts=[clock(customs_missed, NYC)])
    assert local(customs_missed, NYC).date() == local(NOW, NYC).date() - timedelta(days=1)
    q(k, "did the zollexport send anything to cbp yesterday evening", NYC, first="no", facts=[NOT_STARTED])
    q(k, "how many customs filings went out last night", BER,
      facts=[[*NOT_STARTED, "none", "no filings", "0", "zero", "keine"]])
    q(k, "was ace-gw-1 doing anything last night", BER, first="no", facts=[NOT_STARTED])
    q(k, f"is there an ACE batch for the {ordinal(local(customs_missed, NYC).day)}", NYC, first="no",
      facts=[NOT_STARTED])
    q(k, "has the customs job started yet today?", BER, first="no", facts=[NOT_STARTED])

    # ================================================================ comparisons
    k = "compare"
    f_fri = fc(fri)
    assert f_sat.seconds > f_fri.seconds
    q(k, "did the forecast take longer on friday or saturday", BER,
      facts=[dur(f_fri.seconds), dur(f_sat.seconds), ["saturday", "samstag"]], about=[f_fri, f_sat])
    f_mon = fc(yesterday)
    better = f_mon.metric("forecast_mape") < f_sun.metric("forecast_mape")
    q(k, "was the mape better on monday than sunday?", BER, first="yes" if better else "no",
      facts=[num(f_mon.metric("forecast_mape")), num(f_sun.metric("forecast_mape"))], about=[f_mon, f_sun])
    q(k, "more overcharge eur on saturday or friday?", BER,
      facts=[num(a_sat.metric("overcharge_eur")), num(a_fri.metric("overcharge_eur"))], about=[a_sat, a_fri])
    s_sun13, s_sun17 = sync_at(sun, 13, 5, BER), evening[0]
    q(k, "more shipments at 13:05 or 17:05 on sunday?", BER,
      facts=[num(s_sun13.metric("shipments_updated")), num(s_sun17.metric("shipments_updated"))],
      about=[s_sun13, s_sun17])
    q(k, "customs filings monday 16th vs tuesday 17th", NYC,
      facts=[num(a16.metric("filings_submitted")), num(a17.metric("filings_submitted"))], about=[a16, a17])
    a_sun = audit_day(sun)
    q(k, "audit invoices checked saturday vs sunday", BER,
      facts=[num(a_sat.metric("invoices_checked")), num(a_sun.metric("invoices_checked"))],
      about=[a_sat, a_sun])

    # ================================================================ overall
    k = "overall"
    lo16, hi16 = day_bounds(date(2026, 11, 16), BER)
    runs16 = [r for v in RUNS.values() for r in v if lo16 <= r.start < hi16]
    assert len({r.job for r in runs16}) == 5 and not any(bad(r) for r in runs16)
    q(k, "was monday the 16th all good?", BER, first="yes")
    q(k, "wie sieht's heute morgen aus?", BER, facts=night, about=[rates_now, audit_now])
    finance = [s for s, j in JOBS.items() if "Finance Controlling" in j["alert"]]
    q(k, "anything i need to tell finance about today?", BER, facts=[NAMES[s] for s in finance],
      about=[audit_now])


# ---------------------------------------------------------------------------------------------
# A second route to some facts: the raw events, no RunView


def cross_check() -> None:
    events = STORY["events"]

    def of(job: str, kind: str) -> list[dict[str, Any]]:
        return [e for e in events if e["job"] == job and e["kind"] == kind]

    def by_question(text: str) -> dict[str, Any]:
        return next(item["expect"] for item in QUESTIONS if item["question"] == text)

    # last night's rate file: parsed + skipped lines make the file's line count
    day = local(NOW, BER).date().isoformat()
    note = next(e["text"] for e in of("carrier-rates-import", "note") if e["at"].startswith(day))
    parsed = next(e["value"] for e in of("carrier-rates-import", "metric")
                  if e["name"] == "rates_parsed" and e["at"].startswith(day))
    skipped = next(e["value"] for e in of("carrier-rates-import", "metric")
                   if e["name"] == "rates_rejected" and e["at"].startswith(day))
    assert f"{parsed + skipped:,}" in note
    assert f"{parsed + skipped:,}" in by_question("how many lines were in the rate file last night")["facts"][0]
    # syncs: one start event per run
    n = len(of("tracking-sync", "start"))
    assert str(n) in by_question("how many times has the tracking sync run altogether")["facts"][0]
    # customs filings this month (New York): every filings_submitted metric
    total = sum(e["value"] for e in of("customs-export", "metric") if e["name"] == "filings_submitted")
    assert f"{total:,}" in by_question("how many customs filings went out this month")["facts"][0]
    # the forecast on 0.9.2: start events with that version
    n = sum(1 for e in of("demand-forecast", "start") if e["attributes"]["version"] == "0.9.2")
    assert str(n) in by_question("how many times did the forecast run on 0.9.2")["facts"][0]
    # overcharges found last week (Berlin 16 to 22 November), the rerun on the 18th included
    found = sum(e["value"] for e in of("freight-audit", "metric")
                if e["name"] == "overcharges_found" and "2026-11-16" <= e["at"][:10] <= "2026-11-22")
    assert str(found) in by_question("total overcharges found last week?")["facts"][0]
    # Saturday's forecast was published at 09:45 Berlin (08:45 UTC), a minute before it ended
    pub = next(e["at"] for e in of("demand-forecast", "milestone")
               if e["name"] == "forecast-published" and e["at"].startswith("2026-11-21"))
    assert pub.startswith("2026-11-21T08:45")
    assert "09:45" in by_question("did the forecast get published on saturday?")["facts"][0]
    # the audit rerun on the 18th: started 09:30 Berlin, by hand
    rerun = next(e for e in of("freight-audit", "start") if e["run"].endswith("rerun"))
    assert rerun["at"].startswith("2026-11-18T09:30") and rerun["attributes"]["trigger"] == "manual"
    # 08:30 in Kolkata is 04:00 in Berlin: the audit's hour
    assert "08:30" in by_question("what time does the freight audit run in IST")["facts"][0]
    # no customs event since Monday 22:15 New York
    assert not [e for e in events if e["job"] == "customs-export" and parse(e["at"]) >= parse("2026-11-23T22:00:00-05:00")]
    # forecast progress by 08:00 Berlin (07:00 UTC): the 06:52 UTC event
    last = [e for e in of("demand-forecast", "progress") if e["run"] == "forecast-20261124" and e["at"] < "2026-11-24T07:00"]
    assert str(last[-1]["done"]) in by_question("how many warehouses had the forecast done by 8 o'clock")["facts"][0]
    for item in QUESTIONS:
        assert item["split"] == "dev4" and parse(item["asked_at"]) == NOW
        offset = parse(item["asked_at"]).utcoffset()
        assert offset == local(NOW, item["tz"]).utcoffset(), item["question"]
        # a question whose facts carry last night's 212 forbids calling anything successful
        if any(str(parsed) in group for group in item["expect"]["facts"]):
            assert "successful" in item["expect"]["forbidden"], item["question"]
    # no question repeats an earlier development question, nor itself
    seen: set[str] = set()
    for name in ("questions_extra.json", "questions_dev3.json"):
        path = HERE / name
        if path.exists():
            seen |= {re.sub(r"\W+", " ", item["question"].lower()).strip()
                     for item in json.loads(path.read_text(encoding="utf-8"))}
    mine = [re.sub(r"\W+", " ", item["question"].lower()).strip() for item in QUESTIONS]
    assert len(mine) == len(set(mine)) and not seen & set(mine), seen & set(mine)
    ids = [item["id"] for item in QUESTIONS]
    assert len(ids) == len(set(ids))


def main() -> None:
    build()
    cross_check()
    OUT.write_text(json.dumps(QUESTIONS, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    kinds: dict[str, int] = {}
    for item in QUESTIONS:
        kinds[item["kind"]] = kinds.get(item["kind"], 0) + 1
    print(f"wrote {OUT.name} with {len(QUESTIONS)} questions: "
          + ", ".join(f"{k} {n}" for k, n in kinds.items()))


if __name__ == "__main__":
    main()
