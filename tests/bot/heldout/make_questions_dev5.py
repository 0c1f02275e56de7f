# ruff: noqa: E501 - questions and their facts read best one per line
"""Write questions_dev5.json: a fifth, independent set of development questions ("dev5") over
the Nordwind Logistik story in story.json.

Written without reading the engine, in the style and with the kinds of the `dev` questions
(short Teams messages, mostly from Hamburg, some from the customs desk in New York and a few
from Kolkata or Singapore, a little German, the odd typo). None repeats a `dev2`, `dev3` or
`dev4` question (questions_extra.json, questions_dev3.json, questions_dev4.json). Every fact is
read from the story by code (helpers copied from make_questions_dev4.py); relative days are
resolved in the asker's own zone, and every question is asked at the story's `now`, written
with the asker's own UTC offset.

Usage: python tests/bot/heldout/make_questions_dev5.py   (writes questions_dev5.json)
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
OUT = HERE / "questions_dev5.json"

NOW = datetime.fromisoformat(STORY["now"])
JOBS: dict[str, dict[str, Any]] = STORY["jobs"]

BER, NYC, KOL, SGP = "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Singapore"

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
        "id": f"v{len(QUESTIONS) + 1:03d}",
        "split": "dev5",
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
    assert local(NOW, NYC).date() == today and local(NOW, KOL).date() == today

    rates = {r.local_day(): r for r in RUNS["carrier-rates-import"]}
    rates_now, rates_prev = rates[today], rates[yesterday]
    audit_now = run_on("freight-audit", today)
    audit_prev = run_on("freight-audit", yesterday)
    forecast_now = RUNS["demand-forecast"][-1]
    assert forecast_now.status is None
    syncs = RUNS["tracking-sync"]
    _sync_503, sync_oauth = [r for r in syncs if r.status == "failed"]
    cards = RUNS["carrier-scorecard"]
    customs = RUNS["customs-export"]
    assert bad(rates_now) and audit_now.status == "failed" and not bad(rates_prev)
    a18_first, a18_rerun = runs_on("freight-audit", date(2026, 11, 18))
    assert a18_first.status == "failed" and not bad(a18_rerun)
    customs_missed = last_due("customs-export", NOW)
    assert not [r for r in customs if r.start >= customs_missed - timedelta(hours=1)]
    sat, sun, fri, thu, wed = (back_to(d, BER) for d in (5, 6, 4, 3, 2))
    assert (sat, sun, fri, thu, wed) == (date(2026, 11, 21), date(2026, 11, 22), date(2026, 11, 20),
                                         date(2026, 11, 19), date(2026, 11, 18))

    def audit_day(day: date) -> RunView:
        return run_on("freight-audit", day)

    def ace(day: date) -> RunView:
        return run_on("customs-export", day, NYC)

    def fc(day: date, zone: str = BER) -> RunView:
        return run_on("demand-forecast", day, zone)

    def sync_at(day: date, hour: int, minute: int, zone: str) -> RunView:
        return run_at("tracking-sync", datetime.combine(day, time(hour, minute), ZoneInfo(zone)))

    def when(run: RunView, zone: str = BER) -> list[str]:
        assert run.end is not None, run.key
        return clocks(run.start, run.end, zone=zone)

    # ================================================================ did it run
    k = "did_it_run"
    r14 = rates[date(2026, 11, 14)]
    q(k, "frachtraten import am 14. gelaufen?", BER, first="yes", facts=[when(r14)], about=[r14])
    s0105 = sync_at(today, 1, 5, BER)
    assert s0105.status == "succeeded"
    q(k, "did the 01:05 sync run this morning?", BER, first="yes", facts=[when(s0105)], about=[s0105])
    ny_today = local(NOW, NYC).date()
    assert not runs_on("customs-export", ny_today, NYC)
    next_ace = next_due("customs-export", NOW)
    assert local(next_ace, NYC).date() == ny_today
    q(k, "has customs run yet today?", NYC, first="no", facts=[clock(next_ace, NYC)])
    a12 = audit_day(date(2026, 11, 12))
    q(k, "did the invoice audit run on the 12th", BER, first="yes", facts=[when(a12)], about=[a12])
    f11 = fc(date(2026, 11, 11), KOL)
    q(k, "was the forecast published on the 11th?", KOL, first="yes",
      facts=[clocks(f11.milestone_at("forecast-published"), f11.end, zone=KOL)], about=[f11])
    s20 = runs_on("tracking-sync", fri, BER)
    assert len(s20) == 6 and all(r.status == "succeeded" and not bad(r) for r in s20)
    q(k, "did all six syncs go through on the 20th?", BER, first="yes",
      facts=[[*count_words(6), "all", "alle"]], about=s20)
    r16 = rates[date(2026, 11, 16)]
    q(k, "did the tariff load finish on the 16th", BER, first="yes", facts=[when(r16)], about=[r16])
    a19 = audit_day(thu)
    q(k, "overcharge check on the 19th - finished ok?", BER, first="yes", facts=[when(a19)], about=[a19])
    c16 = run_on("carrier-scorecard", date(2026, 11, 16))
    q(k, "did the weekly report run on the 16th?", BER, first="yes", facts=[when(c16)], about=[c16])
    s_sun0505 = sync_at(sun, 5, 5, BER)
    assert s_sun0505.status == "succeeded"
    q(k, "did the trackhub sync run at 05:05 on sunday", BER, first="yes", facts=[when(s_sun0505)],
      about=[s_sun0505])
    q(k, "did the rates import finish ok the night before last?", BER, first="yes",
      facts=[when(rates_prev)], about=[rates_prev])
    other_fails = [r for r in RUNS["freight-audit"] if bad(r) and r not in (a18_first, audit_now)]
    assert not other_fails
    q(k, "has the audit failed on any day apart from the 18th and today?", BER, first="no")
    f_sat, f_sun = fc(sat), fc(sun)
    q(k, "did the palettenprognose run at all over the weekend", BER, first="yes",
      facts=[when(f_sat), when(f_sun)], about=[f_sat, f_sun])
    a12ny = ace(date(2026, 11, 12))
    q(k, "did the ace filing run on thursday the 12th?", NYC, first="yes", facts=[when(a12ny, NYC)],
      about=[a12ny])

    # ================================================================ what happened
    k = "what_happened"
    rate_note = rates_now.notes()[0]
    columns = int(re.search(r"expected (\d+) columns", rate_note).group(1))
    q(k, "how many columns does the rate import expect in the file?", BER, facts=[num(columns)],
      about=[rates_now])
    audit_note = audit_now.notes()[0]
    expected = int(re.search(r"expected > ([\d,]+)", audit_note).group(1).replace(",", ""))
    q(k, "how many lane rates was the audit expecting in the tariff table", BER,
      facts=[num(expected)], about=[audit_now, rates_now])
    final_text = audit_now.finish_event["text"]
    assert final_text.startswith("Tariff table incomplete")
    q(k, "what was the audit's final status message this morning?", BER,
      facts=[["tariff table incomplete", "incomplete", "unvollständig"], num(1847)], about=[audit_now])
    q(k, "what time did the audit error out today", BER,
      facts=[clocks(audit_now.end, parse(audit_now.of("note")[0]["at"]), zone=BER)], about=[audit_now])
    assert "401" in sync_oauth.finish_event["text"] and not sync_oauth.notes()
    q(k, "was the sync failure yesterday afternoon a trackhub outage?", BER, first="no",
      facts=[["token", "401", "oauth", "unauthorized"]], about=[sync_oauth])
    r17 = rates[date(2026, 11, 17)]
    carrier17 = r17.notes()[0].split(":")[0]
    q(k, "which carrier's rates had a problem on the 17th", BER, facts=[[carrier17]], about=[r17])
    assert "defaulted to 0 %" in r17.notes()[0]
    q(k, "what did the import default the missing fuel surcharge to?", BER,
      facts=[["0 %", "0%", "zero", "null", "0 percent", "0 prozent"]], about=[r17])
    noted = [r for r in customs if r.notes()]
    assert len(noted) == 1 and noted[0].local_day(NYC) == date(2026, 11, 19) and "HTS" in noted[0].notes()[0]
    q(k, "besides the HTS thing on the 19th, has the customs export ever logged a warning?", NYC, first="no")
    assert rates_now.finish_event["text"] == "done"
    q(k, "wat did the rate import's finish message say last night", BER,
      facts=[[rates_now.finish_event["text"]]], about=[rates_now])

    # ================================================================ start attributes
    k = "attributes"
    q(k, "what host did the audit rerun on the 18th use", BER, facts=[[a18_rerun.attributes["host"]]])
    r20 = rates[fri]
    assert r20.attributes["version"] == "4.8.0" and rates[thu].attributes["version"] != "4.8.0"
    q(k, "was the rate import already on 4.8.0 on the 20th?", BER, first="yes",
      facts=[["4.8.0"], day_words(r20.local_day(), NOW, BER)], about=[r20])
    f18 = fc(wed, KOL)
    assert f18.attributes["version"] == "0.9.2"
    q(k, "was the forecast still on 0.9.2 on the 18th?", KOL, first="yes", facts=[["0.9.2"]], about=[f18])
    s_fri0905 = sync_at(fri, 9, 5, BER)
    q(k, "what triggered the 09:05 sync on friday", BER,
      facts=[[s_fri0905.attributes["trigger"], "scheduled", "zeitplan"]], about=[s_fri0905])
    assert rates_now.attributes["trigger"] == "cron"
    q(k, "was last night's rate import started by cron or by hand?", BER,
      facts=[["cron", "scheduled", "schedule"]], about=[rates_now])
    a21 = audit_day(sat)
    assert a21.attributes["host"] == "etl-fra-4"
    q(k, "which version did the audit run on the day it used etl-fra-4", BER,
      facts=[[a21.attributes["version"]]], about=[a21])
    assert len({c.attributes["host"] for c in cards}) == 1
    q(k, "did both scorecards run on the same host?", BER, first="yes", facts=[[cards[0].attributes["host"]]])
    q(k, "which version of the rates import was running when the delimiter broke", BER,
      facts=[[rates_now.attributes["version"]]], about=[rates_now])
    f_mon = fc(yesterday)
    q(k, "welcher host hat die prognose gestern gerechnet?", BER, facts=[[f_mon.attributes["host"]]],
      about=[f_mon])

    # ================================================================ payloads
    k = "payload"
    a19ny = ace(date(2026, 11, 19))
    q(k, "which ace batch had the HTS rejections", NYC, facts=[[a19ny.payload("output")["batch"]]],
      about=[a19ny])
    q(k, "which port were the rejected filings on the 19th for", NYC,
      facts=[[a19ny.payload("output")["port"]]], about=[a19ny])
    assert not [e for e in audit_now.of("payload") if e["name"] == "output"]
    q(k, "is there a disputes xlsx for today?", BER, first="no", about=[audit_now])
    q(k, "tariff snapshto from the 20th?", BER, facts=[[r20.payload("output")["snapshot"]]], about=[r20])
    q(k, "monday's audit: which batch went in and which disputes file came out?", BER,
      facts=[[audit_prev.payload("input")["batch"]], [file_name(audit_prev.payload("output")["file"])]],
      about=[audit_prev])
    assert not [e for e in a18_first.of("payload") if e["name"] == "output"]
    q(k, "did the first audit run on the 18th write a disputes file?", BER, first="no", about=[a18_first])
    last_xml = file_name(customs[-1].payload("output")["file"])
    q(k, "which ace xml was the last one written", NYC, facts=[[last_xml]], about=[customs[-1]])
    in_dir = rates_prev.payload("input-file")["path"].rsplit("/", 1)[0]
    q(k, "where does the rate import pick up its file from?", BER, facts=[[in_dir, in_dir + "/"]])
    r19 = rates[thu]
    q(k, "full path of the rate file from the 19th pls", BER, facts=[[r19.payload("input-file")["path"]]],
      about=[r19])

    # ================================================================ metrics
    k = "metrics"
    mon_syncs = [r for r in runs_on("tracking-sync", yesterday, BER) if r.metric("shipments_updated") is not None]
    q(k, "biggest shipments_updated of any sync yesterday?", BER,
      facts=[num(max(r.metric("shipments_updated") for r in mon_syncs))], about=mon_syncs)
    errors_mon = int(sum(r.metric("api_errors") for r in mon_syncs))
    q(k, "how many api errors did the syncs have in total yesterday", BER, facts=[count_words(errors_mon)])
    euro_runs = [r for r in RUNS["freight-audit"] if r.metric("overcharge_eur") is not None]
    top = max(euro_runs, key=lambda r: r.metric("overcharge_eur"))
    q(k, "highest overchrage eur in the last two weeks?", BER,
      facts=[num(top.metric("overcharge_eur")), day_words(top.local_day(), NOW, BER)], about=[top])
    q(k, "fewest customs filings submitted in one night?", NYC,
      facts=[num(min(r.metric("filings_submitted") for r in customs))])
    mapes = [r.metric("forecast_mape") for r in RUNS["demand-forecast"] if r.metric("forecast_mape") is not None]
    q(k, "whats the best (lowest) mape we've had so far", KOL, facts=[num(min(mapes))])
    q(k, "rates parsed on the 14th", BER, facts=[num(r14.metric("rates_parsed"))], about=[r14])
    q(k, "how many invoices did the audit rerun on the 18th check?", BER,
      facts=[num(a18_rerun.metric("invoices_checked"))], about=[a18_rerun])
    low = JOBS["carrier-rates-import"]["expect"]["metrics"]["rates_parsed"]["min"]
    assert rates_now.metric("rates_parsed") < low
    q(k, "is 212 below the minimum the rate import is supposed to parse?", BER, first="yes",
      facts=[num(low)], about=[rates_now])
    limit = JOBS["demand-forecast"]["expect"]["metrics"]["forecast_mape"]["max"]
    assert max(mapes) <= limit
    q(k, f"has the mape ever gone above the {limit}% limit", BER, first="no")
    f_wed = fc(wed)
    q(k, "wie hoch war der mape am mittwoch?", BER, facts=[num(f_wed.metric("forecast_mape"))], about=[f_wed])

    # ================================================================ lists
    k = "lists"
    weekday_only = [s for s, j in JOBS.items() if j["schedule"].split()[4] == "1-5"]
    q(k, "which jobs only run on weekdays", BER, facts=[NAMES[s] for s in weekday_only])
    berlin_jobs = [s for s, j in JOBS.items() if j["timezone"] == BER]
    q(k, "which jobs are scheduled in berlin time", BER, facts=[NAMES[s] for s in berlin_jobs])
    last4 = [rates[today - timedelta(days=i)] for i in (3, 2, 1, 0)]
    q(k, "rates_parsed for the last 4 nights?", BER,
      facts=[num(r.metric("rates_parsed")) for r in last4], about=last4)
    teams = list(dict.fromkeys(t for j in JOBS.values() for t in j["alert"]))
    q(k, "which teams get alerts from any of the jobs", BER, facts=[[t] for t in teams])
    warned = sorted({e["job"] for e in STORY["events"] if e["kind"] == "note" and e.get("level") == "warning"})
    assert warned == ["carrier-rates-import", "customs-export", "tracking-sync"]
    q(k, "which jobs logged warnings (not errors) in the last two weeks", BER,
      facts=[NAMES[s] for s in warned])
    lo, _hi = day_bounds(today, BER)
    six = lo + timedelta(hours=6)
    early = [r for v in RUNS.values() for r in v if lo <= r.start < six]
    early_jobs = sorted({r.job for r in early})
    assert early_jobs == ["carrier-rates-import", "freight-audit", "tracking-sync"]
    q(k, "what ran between midnight and 6 this morning", BER, facts=[NAMES[s] for s in early_jobs],
      about=early)
    monday_only = [s for s, j in JOBS.items() if j["schedule"].split()[4] == "1"]
    q(k, "welche jobs laufen nur montags?", BER, facts=[NAMES[s] for s in monday_only])

    # ================================================================ schedules
    k = "schedule"
    q(k, "how long can the audit run before it counts as too slow", BER,
      facts=[hour_words(span(JOBS["freight-audit"]["expect"]["max_runtime"]))])
    assert _field_matches(JOBS["customs-export"]["schedule"].split()[4], 5)
    fri_ace = next(t for t in due_moments("customs-export", NOW, NOW + timedelta(days=7)) if t.weekday() == 4)
    q(k, "is the customs export scheduled on friday nights too?", NYC, first="yes", facts=[clock(fri_ace, NYC)])
    sync_within = span(JOBS["tracking-sync"]["expect"]["start_within"])
    q(k, "how much slack does the tracking sync get on its start time", BER,
      facts=[minutes_words(int(sync_within.total_seconds() // 60))])
    q(k, "rate import start time for me in singapore?", SGP,
      facts=[clock(next_due("carrier-rates-import", NOW), SGP)])
    assert "max_runtime" not in JOBS["carrier-scorecard"]["expect"]
    q(k, "does the scorecard have a max runtime set?", BER, first="no")
    q(k, "does the audit start before or after the rate import", BER,
      facts=[["after", "nach", "danach", "later"], clock(next_due("freight-audit", NOW), BER)])
    next_rates = next_due("carrier-rates-import", NOW)
    rates_within = span(JOBS["carrier-rates-import"]["expect"]["start_within"])
    q(k, "what's the latest the rate import can start before its flagged late", BER,
      facts=[clock(next_rates + rates_within, BER) + minutes_words(int(rates_within.total_seconds() // 60))])

    # ================================================================ durations
    k = "durations"
    mon_done = [r for r in runs_on("tracking-sync", yesterday, BER) if r.end is not None]
    slow = max(mon_done, key=lambda r: r.seconds)
    q(k, "how long was the slowest sync yesterday", BER, facts=[dur(slow.seconds)], about=[slow])
    done_fc = [r for r in RUNS["demand-forecast"] if r.end is not None]
    quick = min(r.seconds for r in done_fc)
    q(k, "shortest forecast run so far?", KOL, facts=[dur(quick)])
    q(k, "how long did the customs run take on the night with the HTS rejects", NYC,
      facts=[dur(a19ny.seconds)], about=[a19ny])
    q(k, "how long did the audit take on the 21st, the one on etl-fra-4", BER, facts=[dur(a21.seconds)],
      about=[a21])
    r18 = rates[wed]
    q(k, "wie lange hat der frachtraten import am 18. gedauert?", BER, facts=[dur(r18.seconds)], about=[r18])
    validate = (rates_prev.milestone_at("rates-validated") - rates_prev.start).total_seconds()
    q(k, "monday's rate import: how long from start to rates-validated?", BER, facts=[dur(validate)],
      about=[rates_prev])
    total = sum(r.seconds for r in mon_done)
    q(k, "total runtime of all syncs yesterday added up?", BER, facts=[dur(total)], about=mon_done)

    # ================================================================ running now
    k = "running"
    q(k, "are the audit or the rate import still running?", BER, first="no")
    prog = forecast_now.of("progress")
    q(k, "how many progress updates has the forecast sent today", BER, facts=[count_words(len(prog))],
      about=[forecast_now])
    q(k, "is the running forecast past data-loaded yet?", BER, first="yes",
      facts=[clock(forecast_now.milestone_at("data-loaded"), BER)], about=[forecast_now])
    assert forecast_now.metric("forecast_mape") is None
    q(k, "is there a mape for today's forecast yet", BER, first="no", about=[forecast_now])
    p26 = next(e for e in prog if e["done"] >= 26)
    q(k, "when did teh forecast pass 26 warehouses", BER, facts=[clock(parse(p26["at"]), BER)],
      about=[forecast_now])
    q(k, "whats the only job running right now and who owns it", BER,
      facts=[NAMES["demand-forecast"], [JOBS["demand-forecast"]["owner"]]], about=[forecast_now])

    # ================================================================ counting
    k = "counting"
    big = [r for r in syncs if (r.metric("shipments_updated") or 0) > 3000]
    q(k, "how many syncs updated more than 3000 shipments", BER, facts=[count_words(len(big))])
    over6k = [r for r in RUNS["freight-audit"] if (r.metric("invoices_checked") or 0) > 6000]
    q(k, "how many audit runs checked over 6000 invoices?", BER, facts=[count_words(len(over6k))])
    failed = [r for v in RUNS.values() for r in v if r.status == "failed"]
    assert len(failed) == 4
    q(k, "how many runs ended in status failed altogether", BER, facts=[count_words(len(failed))])
    fri_ace_runs = [r for r in customs if r.local_day(NYC).weekday() == 4]
    q(k, "how many friday customs runs have there been", NYC, facts=[count_words(len(fri_ace_runs))])
    with_errors = [r for r in syncs if (r.metric("api_errors") or 0) > 0]
    q(k, "how many syncs had at least one api error", BER, facts=[count_words(len(with_errors))])
    fail_days = {r.local_day(BER) for r in failed}
    q(k, "on how many days did some job fail?", BER, facts=[count_words(len(fail_days))])

    # ================================================================ unknown jobs / data
    k = "unknown"
    q(k, "did the customs broker gateway have an outage last night?", NYC, first="unsure")
    q(k, "whats dana whitfield's slack handle", NYC, first="unsure")
    q(k, "did the proof-of-delivery upload run last night?", BER, first="unsure")
    q(k, "how much ram does ml-gpu-1 have", BER, first="unsure")
    q(k, "who at freighthub changed the delimiter?", BER, first="unsure", about=[rates_now])
    q(k, "wie viele lkw waren gestern unterwegs?", BER, first="unsure")

    # ================================================================ lateness
    k = "lateness"
    audit_by = span(JOBS["freight-audit"]["expect"]["milestones"][0]["by"])
    filed = audit_prev.milestone_at("disputes-filed")
    assert filed - last_due("freight-audit", audit_prev.start) < audit_by
    q(k, "were the disputes filed on time on monday?", BER, first="yes", facts=[clock(filed, BER)],
      about=[audit_prev])
    f12 = fc(date(2026, 11, 12))
    pub12 = f12.milestone_at("forecast-published")
    assert local(pub12, BER).time() < time(10, 30)
    q(k, "was the forecast out before 10:30 on the 12th?", BER, first="yes", facts=[clock(pub12, BER)],
      about=[f12])
    for r in syncs:
        assert r.start - last_due("tracking-sync", r.start + timedelta(seconds=1)) < sync_within
    q(k, "has any tracking sync started more than 15 min late?", BER, first="no")
    assert c16.start - last_due("carrier-scorecard", c16.start) < span(JOBS["carrier-scorecard"]["expect"]["start_within"])
    q(k, "did the scorecard start on time on the 16th", BER, first="yes", facts=[clock(c16.start, BER)],
      about=[c16])
    deadline = last_due("carrier-rates-import", rates_now.start) + span(
        JOBS["carrier-rates-import"]["expect"]["milestones"][0]["by"])
    assert deadline < NOW and rates_now.milestone("tariffs-published") is None
    q(k, "did the rate import miss its tariffs-published deadline last night?", BER, first="yes",
      facts=[clock(deadline, BER)], about=[rates_now])

    # ================================================================ owners
    k = "owner"
    owner = {slug: job["owner"] for slug, job in JOBS.items()}
    assert not owner["carrier-rates-import"].startswith("Marco")
    q(k, "is marco the owner of the rate import?", BER, first="no", facts=[[owner["carrier-rates-import"]]])
    assert [s for s, who in owner.items() if who.startswith("Dana")] == ["customs-export"]
    q(k, "does dana own more than one job", NYC, first="no", facts=[NAMES["customs-export"]])
    q(k, "which team is alerted when the scorecard fails", BER,
      facts=[[t] for t in JOBS["carrier-scorecard"]["alert"]])
    assert not JOBS["tracking-sync"]["alert"]
    q(k, "does the tracking sync alert anyone?", BER, first="no")
    assert sync_oauth.local_day(BER) == yesterday and not owner["tracking-sync"]
    q(k, "who owns the job that failed yesterday afternoon", BER, first="unsure", about=[sync_oauth])

    # ================================================================ not started
    k = "not_started"
    missed_day = local(customs_missed, NYC).date()
    q(k, f"why is there no customs xml for the {ordinal(missed_day.day)}", NYC, facts=[NOT_STARTED])
    q(k, "when was monday's ace filing supposed to start in berlin time", BER,
      facts=[clock(customs_missed, BER)])
    assert not [r for r in customs if r.local_day(NYC) > fri]
    q(k, "any events at all from the customs export since the weekend?", NYC, first="no")
    q(k, "customs export monday 23rd: did it fail or never start?", NYC, facts=[NOT_STARTED])

    # ================================================================ comparisons
    k = "compare"
    r21, r22 = rates[sat], rates[sun]
    q(k, "was the rates import faster on the 21st or the 22nd", BER,
      facts=[dur(r21.seconds), dur(r22.seconds)], about=[r21, r22])
    s0505 = sync_at(today, 5, 5, BER)
    q(k, "more api errors at 01:05 or 05:05 this morning?", BER,
      facts=[count_words(int(s0105.metric("api_errors"))), count_words(int(s0505.metric("api_errors")))],
      about=[s0105, s0505])
    a20 = audit_day(fri)
    q(k, "was the audit on friday slower than on thursday?", BER,
      first="yes" if a20.seconds > a19.seconds else "no", facts=[dur(a20.seconds), dur(a19.seconds)],
      about=[a20, a19])
    a18ny = ace(date(2026, 11, 18))
    q(k, "did customs filings go up from wednesday 18th to thursday 19th?", NYC,
      first="yes" if a19ny.metric("filings_submitted") > a18ny.metric("filings_submitted") else "no",
      facts=[num(a18ny.metric("filings_submitted")), num(a19ny.metric("filings_submitted"))],
      about=[a18ny, a19ny])

    # ================================================================ overall
    k = "overall"
    lo17, hi17 = day_bounds(date(2026, 11, 17), BER)
    runs17 = [r for v in RUNS.values() for r in v if lo17 <= r.start < hi17]
    assert runs17 and not any(bad(r) for r in runs17)
    q(k, "was tuesday the 17th a clean day?", BER, first="yes")
    q(k, "what do i need to tell the customs team this morning?", NYC,
      facts=[NAMES["customs-export"], NOT_STARTED])
    noon = datetime.combine(yesterday, time(12), ZoneInfo(BER))
    flagged = [r for v in RUNS.values() for r in v if r.start >= noon and bad(r)]
    assert sorted({r.job for r in flagged}) == ["carrier-rates-import", "freight-audit", "tracking-sync"]
    q(k, "any red flags since yesterday noon?", BER,
      facts=[NAMES[s] for s in sorted({r.job for r in flagged})] + [NAMES["customs-export"]], about=flagged)


def cross_check() -> None:
    """A few facts by a second route (the raw events), the zone offsets, and no repeats."""
    events = STORY["events"]

    def by_question(text: str) -> dict[str, Any]:
        return next(item["expect"] for item in QUESTIONS if item["question"] == text)

    # failed finishes in the raw events
    failed = [e for e in events if e["kind"] == "finish" and e["status"] == "failed"]
    assert "4" in by_question("how many runs ended in status failed altogether")["facts"][0]
    assert len(failed) == 4
    # the HTS note lies in the run with the Savannah batch of the 19th
    note = next(e for e in events if e["kind"] == "note" and "HTS" in e["text"])
    out = next(e for e in events if e["run"] == note["run"] and e["kind"] == "payload")
    assert out["data"]["batch"] in by_question("which ace batch had the HTS rejections")["facts"][0]
    assert out["data"]["port"] == "Savannah"
    # rate import minimum: 10,000 from the job definition
    assert "10,000" in by_question("is 212 below the minimum the rate import is supposed to parse?")["facts"][0]
    # Singapore: 01:30 Berlin is 08:30 SGT
    assert "08:30" in by_question("rate import start time for me in singapore?")["facts"][0]
    # Monday's ace filing was due 22:15 New York = 04:15 Berlin
    assert "04:15" in by_question("when was monday's ace filing supposed to start in berlin time")["facts"][0]
    for item in QUESTIONS:
        assert item["split"] == "dev5" and parse(item["asked_at"]) == NOW
        offset = parse(item["asked_at"]).utcoffset()
        assert offset == local(NOW, item["tz"]).utcoffset(), item["question"]
        if "212" in item["question"] or any("212" in group for group in item["expect"]["facts"]):
            assert "successful" in item["expect"]["forbidden"], item["question"]
    seen: set[str] = set()
    for name in ("questions_extra.json", "questions_dev3.json", "questions_dev4.json"):
        path = HERE / name
        if path.exists():
            seen |= {re.sub(r"\W+", " ", item["question"].lower()).strip()
                     for item in json.loads(path.read_text(encoding="utf-8"))}
    mine = [re.sub(r"\W+", " ", item["question"].lower()).strip() for item in QUESTIONS]
    assert len(mine) == len(set(mine)) and not seen & set(mine), seen & set(mine)


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
