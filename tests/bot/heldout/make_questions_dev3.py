# ruff: noqa: E501 - questions and their facts read best one per line
"""Write questions_dev3.json: a third, independent set of development questions ("dev3") over
the Nordwind Logistik story in story.json.

Written without reading the engine, as sales and ops people type them in Teams: fragments,
typos, German, polite long sentences, jobs named by what they read or write or by their owner,
askers from Los Angeles to Sydney. None repeats a `dev2` question (questions_extra.json).
Every fact is read from the story (events, job definitions, `now`) by code; relative days
("yesterday", "sunday") are resolved in the asker's own zone. A few facts are re-derived from
the raw events by a second route at the end (`cross_check`), so a changed story fails loudly.

Usage: python tests/bot/heldout/make_questions_dev3.py   (writes questions_dev3.json)
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
STORY = json.loads((HERE / "story.json").read_text(encoding="utf-8"))
OUT = HERE / "questions_dev3.json"

NOW = datetime.fromisoformat(STORY["now"])
JOBS: dict[str, dict[str, Any]] = STORY["jobs"]

BER, NYC, UTCZ = "Europe/Berlin", "America/New_York", "UTC"
LON, ROM, KOL, SIN, CHI = "Europe/London", "Europe/Rome", "Asia/Kolkata", "Asia/Singapore", "America/Chicago"
LAX, SYD, DXB, WAW, SAO = ("America/Los_Angeles", "Australia/Sydney", "Asia/Dubai", "Europe/Warsaw",
                           "America/Sao_Paulo")

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


def near(i: int) -> datetime:
    """A moment between the story's last event and `now`: everything told has happened."""
    lo = LAST_EVENT.replace(microsecond=0) + timedelta(seconds=15)
    step = (NOW - lo) / 4
    return lo + step * (i % 5)


def stamp(moment: datetime, zone: str) -> str:
    return local(moment, zone).replace(microsecond=0).isoformat()


def q(kind: str, question: str, tz: str, asked: datetime, *, first: str | None = None,
      facts: Iterable[list[str]] = (), forbidden: Iterable[str] = (),
      about: Iterable[RunView] = ()) -> None:
    """One question; `about` names the runs the answer is about: if one of them is bad, the
    answer must not call anything "successful"."""
    assert asked <= NOW, question
    assert first in (None, "yes", "no", "unsure"), question
    about = list(about)
    banned = list(dict.fromkeys([*forbidden, *(SUCCESS_WORDS if any(bad(r) for r in about) else [])]))
    groups = [list(dict.fromkeys(g)) for g in facts]
    assert all(groups), question
    QUESTIONS.append({
        "id": f"y{len(QUESTIONS) + 1:03d}",
        "split": "dev3",
        "kind": kind,
        "question": question,
        "asked_at": stamp(asked, tz),
        "tz": tz,
        "expect": {"first": first, "facts": groups, "forbidden": banned},
    })


def at(text: str, zone: str) -> datetime:
    """A wall-clock moment in `zone` ("2026-11-23 10:20")."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def build() -> None:
    today = local(NOW, BER).date()
    yesterday = today - timedelta(days=1)

    rates = {r.local_day(): r for r in RUNS["carrier-rates-import"]}
    rates_now, rates_prev = rates[today], rates[yesterday]
    audit_now = run_on("freight-audit", today)
    audit_prev = run_on("freight-audit", yesterday)
    forecast_now = RUNS["demand-forecast"][-1]
    assert forecast_now.status is None
    syncs = RUNS["tracking-sync"]
    finished_syncs = [r for r in syncs if r.end is not None]
    last_sync = finished_syncs[-1]
    sync_503, sync_oauth = [r for r in syncs if r.status == "failed"]
    cards = RUNS["carrier-scorecard"]
    monday_card, _prev_card = cards[-1], cards[-2]
    customs = RUNS["customs-export"]
    progress = forecast_now.of("progress")[-1]
    done, total = progress["done"], progress["total"]
    assert bad(rates_now) and audit_now.status == "failed" and not bad(rates_prev)

    def audit_day(day: date) -> RunView:
        return run_on("freight-audit", day)

    def ace(day: date) -> RunView:
        return run_on("customs-export", day, NYC)

    def fc(day: date) -> RunView:
        return run_on("demand-forecast", day, UTCZ)

    # Customs: the weekday New York left without a run
    customs_missed = last_due("customs-export", NOW)
    assert not [r for r in customs if r.start >= customs_missed - timedelta(hours=1)]
    customs_deadline = customs_missed + span(JOBS["customs-export"]["expect"]["start_within"])

    def missed_customs_facts(zone: str, asked: datetime) -> list[str]:
        return [*clocks(customs_missed, customs_deadline, zone=zone),
                *durs((asked - customs_missed).total_seconds(),
                      (asked - customs_deadline).total_seconds())]

    # Forecast: how far, when it may end, and its deadline
    past_fc = [r for r in RUNS["demand-forecast"] if r.end is not None and not bad(r)]
    ends_tod = [local(r.end, "UTC").time() for r in past_fc]
    elapsed = (parse(progress["at"]) - forecast_now.start).total_seconds()
    projected = forecast_now.start + timedelta(seconds=elapsed * total / done)
    day0 = forecast_now.start.astimezone(UTC).date()
    window_lo = datetime.combine(day0, min(min(ends_tod), projected.astimezone(UTC).time()), UTC) \
        - timedelta(minutes=5)
    window_hi = datetime.combine(day0, max(max(ends_tod), projected.astimezone(UTC).time()), UTC) \
        + timedelta(minutes=5)
    fc_rule = JOBS["demand-forecast"]["expect"]["milestones"][0]
    publish_by = forecast_now.start.replace(second=0, minute=0) + span(fc_rule["by"])

    def eta(zone: str, asked: datetime) -> list[str]:
        out: list[str] = []
        t = window_lo.replace(second=0)
        while t <= window_hi:
            out += clock(t, zone)
            t += timedelta(minutes=1)
        lo_min = int((window_lo - asked).total_seconds() // 60)
        hi_min = int((window_hi - asked).total_seconds() // 60) + 1
        for m in range(max(lo_min, 1), hi_min + 1):
            out += minutes_words(m)
        if lo_min <= 60 <= hi_min:
            out += ["an hour", "1 hour", "one hour", "1h", "1 h", "eine stunde", "einer stunde"]
        return out

    next_sync = next_due("tracking-sync", NOW)
    NOT_STARTED = [*DID_NOT_START, "no events", "nothing", "kein lauf", "keinen lauf"]

    # ================================================================ ran / finished
    k = "ran"
    t = near(0)
    sunday = local(t, BER).date() - timedelta(days=(local(t, BER).date().weekday() + 1) % 7 or 7)
    assert sunday.weekday() == 6
    a_sun = audit_day(sunday)
    q(k, "did the overcharge check run on sunday?", BER, t, first="yes",
      facts=[clocks(a_sun.start, a_sun.end, zone=BER)], about=[a_sun])
    q(k, "did the nightly import and the export both run?", BER, near(1), first="no",
      facts=[NAMES["customs-export"], NOT_STARTED], about=[rates_now])
    s_0405 = run_at("tracking-sync", datetime.combine(local(NOW, LON).date(), time(4, 5), ZoneInfo(LON)))
    assert s_0405.status == "succeeded"
    q(k, "the 04:05 sync this morning - go through?", LON, near(2), first="yes",
      facts=[clock(s_0405.end, LON) + num(s_0405.metric("shipments_updated"))], about=[s_0405])
    t = near(3)
    wed_ny = local(t, NYC).date() - timedelta(days=(local(t, NYC).date().weekday() - 2) % 7 or 7)
    ace_wed = ace(wed_ny)
    q(k, "CBP filings go out wednesday?", NYC, t, first="yes",
      facts=[clock(ace_wed.end, NYC) + num(ace_wed.metric("filings_submitted"))], about=[ace_wed])
    t = near(4)
    syd_yday = local(t, SYD).date() - timedelta(days=1)
    fc_syd = run_on("demand-forecast", syd_yday, SYD)
    q(k, "did the pallet forecast finish yesterday?", SYD, t, first="yes",
      facts=[clock(fc_syd.end, SYD)], about=[fc_syd])
    t = near(0)
    assert local(next_sync, UTCZ).hour == 8 and next_sync > t
    q(k, "did the 08:05 sync run yet today", UTCZ, t, first="no", facts=[clock(next_sync, UTCZ)])
    w46 = next(r for r in cards if r.key.endswith("W46"))
    q(k, "scorecard for week 46 - was it produced?", BER, near(1), first="yes",
      facts=[day_words(w46.local_day(), near(1), BER)], about=[w46])
    asked = at("2026-11-18 09:00", BER)
    a18_first, a18_rerun = runs_on("freight-audit", date(2026, 11, 18))
    assert a18_first.status == "failed" and a18_rerun.start > asked
    q(k, "invoice audit done this morning?", BER, asked,
      facts=[FAILED, clock(a18_first.end, BER)], about=[a18_first])
    t = near(2)
    sat = week_start(t, BER).date() - timedelta(days=2)
    r_sat, r_sun = rates[sat], rates[sat + timedelta(days=1)]
    q(k, "did the frachtraten import run on the weekend", BER, t, first="yes",
      facts=[clocks(r_sat.start, r_sat.end, zone=BER), clocks(r_sun.start, r_sun.end, zone=BER)],
      about=[r_sat, r_sun])
    f_sun = run_on("demand-forecast", sunday, BER)
    q(k, "hat die palettenprognose am sonntag geklappt?", BER, near(3), first="yes",
      facts=[clock(f_sun.end, BER)], about=[f_sun])
    t = near(4)
    thu_chi = local(t, CHI).date() - timedelta(days=(local(t, CHI).date().weekday() - 3) % 7 or 7)
    ace_thu = run_on("customs-export", thu_chi, CHI)
    q(k, "customs export thursday night - did it go??", CHI, t, first="yes",
      facts=[clock(ace_thu.end, CHI)], about=[ace_thu])

    q(k, "the one that reads /data/in/invoices - did it run today?", BER, near(0),
      facts=[FAILED, clock(audit_now.end, BER)], about=[audit_now])
    t = near(1)
    sao_yday = local(t, SAO).date() - timedelta(days=1)
    sao_failed = [r for r in runs_on("tracking-sync", sao_yday, SAO) if r.status == "failed"]
    assert sao_failed == [sync_oauth]
    q(k, "did the sync fail yesterday?", SAO, t, first="yes",
      facts=[clock(sync_oauth.start, SAO), ["oauth", "token", "401", "unauthorized", "unauthorised"]],
      about=[sync_oauth])

    # ================================================================ status of one job
    k = "status"
    t = near(2)
    g_rates = good_runs("carrier-rates-import", NOW)[-1]
    assert "tariffs-published" not in [e["name"] for e in rates_now.of("milestone")]
    q(k, f"is {rates_prev.payload('output')['table']} up to date?", BER, t, first="no",
      facts=[num(rates_now.metric("rates_parsed")) + day_words(g_rates.local_day(), t, BER)
             + [g_rates.payload("output")["snapshot"]]], about=[rates_now])
    q(k, "status of the freight audit?", BER, near(0), facts=[FAILED, clock(audit_now.end, BER)],
      about=[audit_now])
    q(k, "how's Katrin's import looking today", BER, near(1),
      facts=[num(rates_now.metric("rates_parsed"))], about=[rates_now])
    q(k, "how is priyas forecast doing", SIN, near(2), facts=[num(done)], about=[forecast_now])
    q(k, "status vom trackhub sync?", BER, near(3),
      facts=[clocks(last_sync.start, last_sync.end, zone=BER)], about=[last_sync])
    q(k, "is dana's customs job healthy", NYC, near(4), first="no", facts=[NOT_STARTED])
    t = near(0)
    q(k, "scorecard statsu", BER, t, facts=[day_words(monday_card.local_day(), t, BER)],
      about=[monday_card])
    q(k, "how did marco's job do", ROM, near(1), facts=[FAILED], about=[audit_now])
    asked = at("2026-11-23 16:30", UTCZ)
    assert sync_oauth.start < asked < sync_oauth.start + timedelta(hours=4)
    q(k, "tracking sync ok?", UTCZ, asked, first="no",
      facts=[["oauth", "token", "401", "unauthorized", "unauthorised"]], about=[sync_oauth])
    t = near(2)
    q(k, "where are we with the customs filings", LAX, t,
      facts=[NOT_STARTED, missed_customs_facts(LAX, t)])
    q(k, "rate import: green or red?", BER, near(3), facts=[num(rates_now.metric("rates_parsed"))],
      about=[rates_now])

    # ================================================================ late / on time
    k = "late"
    t = near(4)
    q(k, "how late is the customs export now", DXB, t, facts=[missed_customs_facts(DXB, t)])
    q(k, "anything overdue?", SYD, near(0), first="yes", facts=[NAMES["customs-export"]])
    t = near(1)
    proj_publish = projected + timedelta(minutes=9)
    assert proj_publish < publish_by and window_hi < publish_by
    q(k, f"at this pace will the forecast make its {local(publish_by, BER):%H:%M} deadline?", BER, t,
      first="yes", facts=[eta(BER, t)], about=[forecast_now])
    due_audit = last_due("freight-audit", audit_now.end)
    assert audit_now.start - due_audit < timedelta(minutes=1)
    q(k, "did the audit start late today", BER, near(2), first="no",
      facts=[clock(audit_now.start, BER)], about=[audit_now])
    due_rates = last_due("carrier-rates-import", rates_now.end)
    assert rates_now.start - due_rates < span(JOBS["carrier-rates-import"]["expect"]["start_within"])
    q(k, "did the rate import start on time this morning?", BER, near(3), first="yes",
      facts=[clock(rates_now.start, BER)], about=[rates_now])
    due_card = last_due("carrier-scorecard", monday_card.end)
    assert monday_card.start - due_card < span(JOBS["carrier-scorecard"]["expect"]["start_within"])
    q(k, "was the scorecard late this week", BER, near(4), first="no",
      facts=[clock(monday_card.start, BER)], about=[monday_card])
    t = near(0)
    thu_ny = local(t, NYC).date() - timedelta(days=(local(t, NYC).date().weekday() - 3) % 7 or 7)
    ace19 = ace(thu_ny)
    delay = (ace19.start - last_due("customs-export", ace19.start + timedelta(minutes=1))).total_seconds()
    q(k, "by how many minutes was the customs job late starting on thursday", NYC, t,
      facts=[[*dur(delay), f"{int(delay // 60)} minutes", "two minutes", "zwei minuten"]], about=[ace19])
    t = near(1)
    q(k, "wie viel verspätung hat der zollexport?", BER, t, facts=[missed_customs_facts(BER, t)])
    t = near(2)
    assert next_sync > t
    q(k, "is the tracking sync behind", UTCZ, t, first="no",
      facts=[clocks(next_sync, last_sync.start, last_sync.end, zone=UTCZ)], about=[last_sync])
    q(k, "customs export was supposed to start when, in my time?", KOL, near(3),
      facts=[clock(customs_missed, KOL)])

    # ================================================================ metrics
    k = "metric"
    d21 = date(2026, 11, 21)
    a21 = audit_day(d21)
    q(k, "Good morning, could you please tell me how many overcharges the audit found on the 21st?", BER, near(4),
      facts=[num(a21.metric("overcharges_found"))], about=[a21])
    q(k, "how many euros of overcharges did we catch yesterday", BER, near(0),
      facts=[num(audit_prev.metric("overcharge_eur"))], about=[audit_prev])
    r12 = run_on("carrier-rates-import", date(2026, 11, 12), LON)
    q(k, "rates rejected on 11/12?", LON, near(1), facts=[num(r12.metric("rates_rejected"))],
      about=[r12])
    t = near(2)
    lo, hi = day_bounds(local(t, UTCZ).date() - timedelta(days=1), UTCZ)
    ysyncs = started_between("tracking-sync", lo, hi)
    shipped = sum(r.metric("shipments_updated") or 0 for r in ysyncs)
    q(k, "total shipments updated by the sync yesteday", UTCZ, t, facts=[num(shipped)],
      about=[r for r in ysyncs if not bad(r)])
    t = near(3)
    tue_ny = local(t, NYC).date() - timedelta(days=7)
    assert tue_ny.weekday() == 1
    ace_tue = ace(tue_ny)
    q(k, f"filings submitted on tuesday the {ordinal(tue_ny.day)}", NYC, t,
      facts=[num(ace_tue.metric("filings_submitted"))], about=[ace_tue])
    mapes = [r.metric("forecast_mape") for r in past_fc]
    q(k, "whats the typical mape for the forcast", KOL, near(4), facts=[usual_numbers(mapes)])
    good_audits = good_runs("freight-audit", NOW)
    weekend_audits = [r for r in good_audits if (r.local_day() - timedelta(days=1)).weekday() >= 5]
    q(k, "overcharge eur sunday vs usual?", BER, near(0),
      facts=[num(a_sun.metric("overcharge_eur")),
             usual_numbers([r.metric("overcharge_eur") for r in good_audits if r is not a_sun])
             + usual_numbers([r.metric("overcharge_eur") for r in weekend_audits if r is not a_sun])],
      about=[a_sun])
    q(k, f"on-time % in the scorecard from the {ordinal(w46.local_day().day)}", BER, near(1),
      facts=[num(w46.metric("on_time_pct"))], about=[w46])
    q(k, "how many carriers got scored in the last scorecard", BER, near(2),
      facts=[num(monday_card.metric("carriers_scored"))], about=[monday_card])
    q(k, "api errors in the last sync?", UTCZ, near(3),
      facts=[num(last_sync.metric("api_errors"))], about=[last_sync])
    q(k, "rates_parsed this week", BER, near(4),
      facts=[num(rates_prev.metric("rates_parsed")), num(rates_now.metric("rates_parsed"))],
      about=[rates_prev, rates_now])
    t = near(0)
    s_eve = run_at("tracking-sync", datetime.combine(yesterday, time(21, 5), ZoneInfo(BER)))
    assert s_eve.local_day(BER) == local(t, BER).date() - timedelta(days=1)
    q(k, "wie viele sendungen hat der sync gestern um 21:05 aktualisiert", BER, t,
      facts=[num(s_eve.metric("shipments_updated"))], about=[s_eve])
    t = near(1)
    ws = week_start(t, NYC)
    last_week_ace = started_between("customs-export", ws - timedelta(days=7), ws)
    rejected = sum(r.metric("filings_rejected") for r in last_week_ace)
    q(k, "filings rejected last week, total", NYC, t, facts=[num(rejected)], about=last_week_ace)
    audit_note = audit_now.notes()[0]
    lines_missing, lines_all = (int(x.replace(",", "")) for x in
                                re.search(r"for ([\d,]+) of ([\d,]+) invoice lines", audit_note).groups())
    q(k, "how many invoice lines did the audit try to check this morning", BER, near(2),
      facts=[num(lines_all)], about=[audit_now])
    night_syncs = [r for r in finished_syncs if not bad(r) and local(r.start, UTCZ).hour in (0, 4)
                   and r is not last_sync]
    day_syncs = [r for r in finished_syncs if not bad(r) and r is not last_sync]
    q(k, "is the last sync's shipment count in line with usual", UTCZ, near(3),
      facts=[num(last_sync.metric("shipments_updated")),
             usual_numbers([r.metric("shipments_updated") for r in night_syncs])
             + usual_numbers([r.metric("shipments_updated") for r in day_syncs])],
      about=[last_sync])

    # ================================================================ counts
    k = "count"
    n = len(RUNS["freight-audit"])
    q(k, f"how many audits ran in total since the {ordinal(RUNS['freight-audit'][0].local_day().day)}",
      BER, near(4), facts=[num(n)])
    t = near(0)
    n = len(started_between("tracking-sync", *day_bounds(local(t, BER).date(), BER)))
    q(k, "wie viele syncs sind heute schon gelaufen", BER, t, facts=[count_words(n)])
    t = near(1)
    ws = week_start(t, NYC)
    submitted = sum(r.metric("filings_submitted") for r in
                    started_between("customs-export", ws - timedelta(days=7), ws))
    q(k, "how many customs filings did we submit last week in total", NYC, t, facts=[num(submitted)])
    t = near(2)
    n = len(started_between("tracking-sync", week_start(t, BER), t))
    q(k, "how many tracking syncs ran this week", BER, t, facts=[count_words(n)])
    t = near(3)
    month0 = datetime.combine(local(t, KOL).date().replace(day=1), time(0), ZoneInfo(KOL))
    n = sum(1 for r in RUNS["demand-forecast"] if r.start >= month0 and r.milestone("forecast-published"))
    q(k, "how many forecasts got published this month", KOL, t, facts=[num(n)])
    v480 = [r for r in RUNS["carrier-rates-import"] if r.attributes["version"] == "4.8.0"]
    q(k, "how many runs has the rate import done on 4.8.0", BER, near(4), facts=[count_words(len(v480))])
    with_rejects = [r for r in customs if r.metric("filings_rejected")]
    q(k, "how many customs runs had rejected filings", NYC, near(0),
      facts=[count_words(len(with_rejects))])
    t = near(1)
    ws = week_start(t, UTCZ)
    retried = [r for r in started_between("tracking-sync", ws, t)
               if any("retried" in text for text in r.notes())]
    q(k, "how many syncs this week had retried api calls", UTCZ, t, facts=[count_words(len(retried))])
    t = near(2)
    n = len(runs_on("freight-audit", local(t, SYD).date() - timedelta(days=1), SYD))
    q(k, "how many audit runs yesterday?", SYD, t, facts=[count_words(n)])
    small = [r for r in RUNS["freight-audit"] if (r.metric("invoices_checked") or 10**9) < 3000]
    q(k, "how many days did the audit check fewer than 3000 invoices", BER, near(3),
      facts=[count_words(len({r.local_day() for r in small}))])
    t = near(4)
    month0 = datetime.combine(local(t, NYC).date().replace(day=1), time(0), ZoneInfo(NYC))
    n = len(started_between("customs-export", month0, t))
    q(k, "how many customs runs this month", NYC, t, facts=[count_words(n)])

    # ================================================================ listing runs
    k = "list"
    last4 = syncs[-4:]
    assert any(r.status == "failed" for r in last4)
    q(k, "list the last 4 syncs", UTCZ, near(0),
      facts=[clock(r.start, UTCZ) for r in last4] + [FAILED])
    t = near(1)
    yday_bad = [r for v in RUNS.values() for r in v
                if r.local_day(BER) == local(t, BER).date() - timedelta(days=1) and bad(r)]
    assert [r.job for r in yday_bad] == ["tracking-sync"]
    q(k, "what failed yesterday", BER, t,
      facts=[NAMES["tracking-sync"], clocks(yday_bad[0].start, yday_bad[0].end, zone=BER)],
      about=yday_bad)
    t = near(2)
    ws = week_start(t, BER)
    week_audits = started_between("freight-audit", ws - timedelta(days=7), ws)
    q(k, "show me all audit runs from last week", BER, t,
      facts=[day_words(d, t, BER) for d in sorted({r.local_day() for r in week_audits})] + [FAILED])
    t = near(3)
    q(k, "customs runs this month with rejections?", NYC, t,
      facts=[day_words(r.local_day(NYC), t, NYC) for r in with_rejects], about=with_rejects)
    t = near(4)
    last3 = past_fc[-3:]
    q(k, "last 3 finished forecasts w/ mape", KOL, t,
      facts=[day_words(r.local_day(KOL), t, KOL) for r in last3]
      + [num(r.metric("forecast_mape")) for r in last3], about=last3)
    versions = list(dict.fromkeys(r.attributes["version"] for r in RUNS["carrier-rates-import"]))
    assert len(versions) == 2
    q(k, "which versions has the rate import run on lately", BER, near(0), facts=[[v] for v in versions])
    t = near(1)
    sat_lo, sat_hi = day_bounds(sat, BER)
    sat_jobs = sorted({r.job for v in RUNS.values() for r in v if sat_lo <= r.start < sat_hi})
    q(k, "which jobs ran on saturday", BER, t,
      facts=[NAMES[j] for j in ("carrier-rates-import", "freight-audit", "demand-forecast",
                                "tracking-sync")])
    assert {"carrier-rates-import", "freight-audit", "demand-forecast", "tracking-sync"} <= set(sat_jobs)
    t = near(2)
    ws = week_start(t, BER)
    lw_failed = [r for v in RUNS.values() for r in v
                 if ws - timedelta(days=7) <= r.start < ws and r.status == "failed"]
    q(k, "failed runs last week?", BER, t,
      facts=[NAMES[r.job] for r in lw_failed] + [day_words(r.local_day(BER), t, BER) for r in lw_failed])
    t = near(3)
    this_week_ace = started_between("customs-export", week_start(t, NYC), t)
    assert not this_week_ace
    q(k, "list the runs of the customs export this week", NYC, t,
      facts=[[*NOT_STARTED, "none", "no runs", "keine", "zero", "0 runs"]])

    # ================================================================ milestones
    k = "milestone"
    q(k, "sind die tarife heute veröffentlicht worden?", BER, near(4), first="no",
      facts=[[*num(rates_now.metric("rates_parsed")), "rates-validated", "validated", "validation", "validierung", "validiert"]],
      about=[rates_now])
    a20 = audit_day(date(2026, 11, 20))
    q(k, "when were the disputes filed on friday?", BER, near(0),
      facts=[clock(a20.milestone_at("disputes-filed"), BER)], about=[a20])
    q(k, "what time did the CBP acks come back thursday", NYC, near(1),
      facts=[clock(ace19.milestone_at("acks-received"), NYC)], about=[ace19])
    t = near(2)
    fc_sin = run_on("demand-forecast", local(t, SIN).date() - timedelta(days=1), SIN)
    q(k, "at what time was the forecast published yesterday", SIN, t,
      facts=[clock(fc_sin.milestone_at("forecast-published"), SIN)], about=[fc_sin])
    loaded = audit_now.milestone("invoices-loaded")
    assert loaded.get("status", "reached") == "reached"
    q(k, "did the audit get past loading invoices today?", BER, near(3), first="yes",
      facts=[clock(parse(loaded["at"]), BER)], about=[audit_now])
    q(k, "when did the rates file arrive last night", BER, near(4),
      facts=[clock(rates_now.milestone_at("file-received"), BER)], about=[rates_now])
    q(k, "did the scorecard workbook get shared on monday", BER, near(0), first="yes",
      facts=[clock(monday_card.milestone_at("workbook-shared"), BER)], about=[monday_card])
    failed_step = [e["name"] for e in audit_now.of("milestone") if e.get("status") == "failed"]
    assert failed_step == ["tariffs-matched"]
    q(k, "which step did the audit fail at this morning", BER, near(1),
      facts=[["tariffs-matched", "tariffs matched", "tariff matching", "tariff-matching",
              "matching tariffs", "matching the tariffs", "tariff match"]], about=[audit_now])
    last_ms = rates_now.of("milestone")[-1]["name"]
    assert last_ms == "rates-validated"
    q(k, "how far did the rate import get today", BER, near(2),
      facts=[["rates-validated", "validated", "validation", "validierung", "validiert"]],
      about=[rates_now])
    q(k, "were the customs filings submitted this evening? im in LA", LAX, near(3), first="no",
      facts=[NOT_STARTED])
    q(k, "did we send out overcharge disputes to carriers today", BER, near(4), first="no",
      facts=[FAILED], about=[audit_now])
    q(k, "when did the sync last fetch events", UTCZ, near(0),
      facts=[clock(last_sync.milestone_at("events-fetched"), UTCZ)], about=[last_sync])
    q(k, "when did the forecast finish loading data today", KOL, near(1),
      facts=[clock(forecast_now.milestone_at("data-loaded"), KOL)], about=[forecast_now])

    # ================================================================ durations
    k = "duration"
    ace16 = ace(date(2026, 11, 16))
    q(k, "how long did the ACE filling take on 11/16", NYC, near(2), facts=[dur(ace16.seconds)],
      about=[ace16])
    q(k, "how long does the invoice audit normally run", BER, near(3),
      facts=[usual_durations([r.seconds for r in good_audits])])
    t = near(4)
    longest = max(r.seconds for r in past_fc)
    close = [r for r in past_fc if longest - r.seconds < 60]
    q(k, "longest forecast run in the last two weeks?", KOL, t,
      facts=[dur(longest), [w for r in close for w in day_words(r.local_day(KOL), t, KOL)]],
      about=close)
    t = near(0)
    loads = [r for r in RUNS["carrier-rates-import"] if r.of("duration")]
    slowest = max(r.duration("db-load") for r in loads)
    close = [r for r in loads if slowest - r.duration("db-load") < 60]
    q(k, "which rate import had the slowest db load", BER, t,
      facts=[[w for r in close for w in day_words(r.local_day(), t, BER)], dur(slowest)], about=close)
    q(k, f"wie lange lief der scorecard-job am {w46.local_day().day}.?", BER, near(1),
      facts=[dur(w46.seconds)], about=[w46])
    t = near(2)
    fc_y = run_on("demand-forecast", local(t, KOL).date() - timedelta(days=1), KOL)
    between = (fc_y.milestone_at("forecast-computed") - fc_y.milestone_at("data-loaded")).total_seconds()
    q(k, "yesterdays forecast: how long between data loaded and forecast computed?", KOL, t,
      facts=[dur(between)], about=[fc_y])
    s_0005 = run_at("tracking-sync", datetime.combine(local(NOW, UTCZ).date(), time(0, 5), UTC))
    q(k, "how long did the midnight sync take today", UTCZ, near(3), facts=[dur(s_0005.seconds)],
      about=[s_0005])
    q(k, "how long did the failed audit on the 18th run before it gave up", BER, near(4),
      facts=[dur(a18_first.seconds)], about=[a18_first])
    t = near(0)
    la_yday = local(t, LAX).date() - timedelta(days=1)
    assert la_yday.weekday() == 6 and not runs_on("customs-export", la_yday, LAX)
    q(k, "how long did yesterday's customs run take", LAX, t,
      facts=[[*day_words(la_yday, t, LAX), "weekend", "wochenende", "weekdays", "mon-fri", "monday to friday", "no run", "didn't run", "did not run"]])
    t = near(1)
    q(k, "how long has ml-gpu-1 been busy with today's forecast", SIN, t,
      facts=[dur((t - forecast_now.start).total_seconds())], about=[forecast_now])
    t = near(2)
    fri_ny = local(t, NYC).date() - timedelta(days=(local(t, NYC).date().weekday() - 4) % 7 or 7)
    ace_fri = ace(fri_ny)
    between = (ace_fri.milestone_at("acks-received") - ace_fri.milestone_at("filings-built")).total_seconds()
    q(k, "friday's customs run: time from filings built to acks received?", NYC, t,
      facts=[dur(between)], about=[ace_fri])

    # ================================================================ comparisons
    k = "compare"
    # friday's run was good: "successful" may describe it, the failure must be said
    q(k, "audit runtime today vs friday", BER, near(3),
      facts=[dur(audit_now.seconds), dur(a20.seconds), FAILED])
    s_0005_prev = run_at("tracking-sync", datetime.combine(yesterday, time(0, 5), UTC))
    q(k, "midnight sync today vs yesterday - shipments?", UTCZ, near(4),
      facts=[num(s_0005.metric("shipments_updated")), num(s_0005_prev.metric("shipments_updated"))],
      about=[s_0005, s_0005_prev])
    q(k, "Montag vs Dienstag beim rate import: wie viele zeilen abgelehnt?", BER, near(0),
      facts=[num(rates_prev.metric("rates_rejected")), num(rates_now.metric("rates_rejected"))],
      about=[rates_prev, rates_now])
    t = near(1)
    mon_k = local(t, KOL).date() - timedelta(days=1)
    f_mon, f_sun_k = run_on("demand-forecast", mon_k, KOL), run_on("demand-forecast", mon_k - timedelta(days=1), KOL)
    assert mon_k.weekday() == 0
    q(k, "forecast runtime monday vs sunday", KOL, t,
      facts=[dur(f_mon.seconds), dur(f_sun_k.seconds)], about=[f_mon, f_sun_k])
    t = near(2)
    a19 = audit_day(date(2026, 11, 19))
    more = a20 if a20.metric("invoices_checked") > a19.metric("invoices_checked") else a19
    q(k, "were more invoices checked on thursday or on friday", BER, t,
      facts=[num(a19.metric("invoices_checked")), num(a20.metric("invoices_checked")),
             day_words(more.local_day(), t, BER)], about=[a19, a20])
    ace_fri_before = ace(fri_ny - timedelta(days=7))
    more_now = ace_fri.metric("filings_submitted") > ace_fri_before.metric("filings_submitted")
    q(k, "did customs submit more filings this friday than the friday before?", NYC, near(3),
      first="yes" if more_now else "no",
      facts=[num(ace_fri.metric("filings_submitted")), num(ace_fri_before.metric("filings_submitted"))],
      about=[ace_fri, ace_fri_before])
    a_mon_prev = audit_day(yesterday - timedelta(days=7))
    q(k, "overcharges found this monday vs last monday", BER, near(4),
      facts=[num(audit_prev.metric("overcharges_found")), num(a_mon_prev.metric("overcharges_found"))],
      about=[audit_prev, a_mon_prev])
    # the rerun was good: calling it successful is right, so nothing is forbidden here
    q(k, "can you compare the two audit runs on the 18th for me?", BER, near(0),
      facts=[FAILED, clock(a18_first.start, BER), clock(a18_rerun.start, BER)])
    f19, f20 = fc(date(2026, 11, 19)), fc(date(2026, 11, 20))
    q(k, "mape thursday vs friday?", KOL, near(1),
      facts=[num(f19.metric("forecast_mape")), num(f20.metric("forecast_mape"))], about=[f19, f20])
    assert rates_now.end < audit_now.start
    q(k, "did the rates import finish before the audit started today?", WAW, near(1), first="yes",
      facts=[clock(rates_now.end, WAW), clock(audit_now.start, WAW)], about=[rates_now])
    r_last_tue = rates[today - timedelta(days=7)]
    q(k, "how does this morning's rates_parsed compare to last tuesday", BER, near(2),
      facts=[num(rates_now.metric("rates_parsed")), num(r_last_tue.metric("rates_parsed"))],
      about=[rates_now, r_last_tue])

    # ================================================================ why / what went wrong
    k = "why"
    q(k, "dana here - any error logged for the missing ACE run?", NYC, near(3), first="no",
      facts=[NOT_STARTED])
    q(k, "invoice audit says tariff table incomplete - whats up with that?", BER, near(4),
      facts=[num(rates_now.metric("rates_parsed"))], about=[audit_now, rates_now])
    t = near(0)
    q(k, "what did the error say on the failed sync on the 19th", LON, t,
      facts=[["503", "unavailable"]], about=[sync_503])
    r17 = rates[date(2026, 11, 17)]
    carrier17 = r17.notes()[0].split(":")[0]
    t = near(1)
    q(k, f"was there a problem with {carrier17} rates at some point?", BER, t, first="yes",
      facts=[day_words(r17.local_day(), t, BER), ["fuel surcharge", "surcharge", "zuschlag"]],
      about=[r17])
    t = near(2)
    assert any("sftp" in text for text in a18_first.notes())
    q(k, "was carrierhub down at some point?", BER, t, first="yes",
      facts=[["sftp", "timed out", "timeout", "time out"], day_words(a18_first.local_day(), t, BER)],
      about=[a18_first])
    t = near(3)
    assert sync_oauth.local_day(UTCZ) == local(t, UTCZ).date() - timedelta(days=1)
    q(k, "why did shipment statuses stop updating yesterday afternoon", UTCZ, t,
      facts=[["oauth", "token", "401", "unauthorized", "unauthorised"]], about=[sync_oauth])
    err = next(e for e in audit_now.of("note") if e["level"] == "error")
    q(k, f"what error did the audit log at {local(parse(err['at']), BER):%-H:%M}", BER, near(4),
      facts=[num(lines_missing)], about=[audit_now])
    q(k, "whats the root cause of this mornings mess?", BER, near(0),
      facts=[["delimiter", "';'", '";"', "semicolon", "columns", "trennzeichen", "semikolon"]],
      about=[rates_now])
    assert not f20.notes()
    q(k, "forecast mape jumped on friday, anything logged?", KOL, near(1), first="no",
      facts=[num(f20.metric("forecast_mape"))], about=[f20])

    # ================================================================ running now
    k = "running"
    q(k, "which jobs are active right now", SIN, near(2), facts=[NAMES["demand-forecast"], num(done)],
      about=[forecast_now])
    q(k, "is the forecast stuck?", KOL, near(3), first="no",
      facts=[num(done) + clock(parse(progress["at"]), KOL)], about=[forecast_now])
    q(k, "how many warehouses has the forecast done so far", BER, near(4),
      facts=[num(done), num(total)], about=[forecast_now])
    q(k, "is the customs export running now", NYC, near(0), first="no", facts=[NOT_STARTED])
    pct = 100 * done / total
    q(k, "what % through is the palettenprognose", BER, near(1),
      facts=[[f"{round(pct)}", f"{pct:.1f}", f"{pct:.1f}".replace(".", ","), f"{round(pct, -1):.0f}%",
              f"{round(pct, -1):.0f} %", f"{done}/{total}", f"{done} of {total}", f"{done} von {total}"]],
      about=[forecast_now])
    q(k, "when did the current forecast run start", KOL, near(2), facts=[clock(forecast_now.start, KOL)],
      about=[forecast_now])
    t = near(3)
    q(k, "is the scorecard running", BER, t, first="no",
      facts=[["monday", "mondays", "montag", "montags", *day_words(monday_card.local_day(), t, BER), *day_words(local(next_due("carrier-scorecard", t), BER).date(), t, BER)]])
    assert forecast_now.attributes["host"] == "ml-gpu-1"
    q(k, "any job running on ml-gpu-1 right now?", BER, near(4), first="yes",
      facts=[NAMES["demand-forecast"]], about=[forecast_now])
    dataset = forecast_now.payload("input")["dataset"]
    q(k, f"has the {dataset.split('.')[-1]} forecast finished?", SIN, near(0), first="no",
      facts=[num(done)], about=[forecast_now])

    # ================================================================ last good run
    k = "last_good"
    g = good_runs("carrier-rates-import", NOW)[-1]
    q(k, "which tariff snapshot is the last good one?", BER, near(0),
      facts=[[g.payload("output")["snapshot"]]], about=[g])
    t = near(1)
    g = good_runs("freight-audit", t)[-1]
    q(k, "audit last ran clean when?", SYD, t,
      facts=[day_words(g.local_day(SYD), t, SYD), clocks(g.start, g.end, zone=SYD)], about=[g])
    g = good_runs("tracking-sync", sync_oauth.start)[-1]
    q(k, "when did the tracking sync last succeed before the oauth failure", UTCZ, near(2),
      facts=[clocks(g.start, g.end, zone=UTCZ)], about=[g])
    t = near(3)
    g = good_runs("customs-export", t)[-1]
    q(k, "Hi there, I'm on the West Coast - when was the last time the customs filing export actually finished?", LAX, t,
      facts=[day_words(g.local_day(LAX), t, LAX), clocks(g.start, g.end, zone=LAX)], about=[g])
    t = near(4)
    g = good_runs("demand-forecast", t)[-1]
    q(k, "mape of the last good forecast", KOL, t,
      facts=[num(g.metric("forecast_mape"))], about=[g])

    # ================================================================ start attributes
    k = "attribute"
    hosts = [r.attributes["host"] for r in RUNS["freight-audit"]]
    usual_host = statistics.mode(hosts)
    odd = [r for r in RUNS["freight-audit"] if r.attributes["host"] != usual_host]
    assert len(odd) == 1
    q(k, "which sever runs the invoice audit", BER, near(0), facts=[[usual_host]])
    t = near(1)
    q(k, "was the audit ever run on a different box?", BER, t, first="yes",
      facts=[[odd[0].attributes["host"]], day_words(odd[0].local_day(), t, BER)], about=odd)
    q(k, "what version is the freight audit on", ROM, near(2),
      facts=[[audit_now.attributes["version"]]])
    t = near(3)
    first_093 = next(r for r in RUNS["demand-forecast"] if r.attributes["version"] == "0.9.3")
    q(k, "when did the forecast move to 0.9.3", KOL, t, facts=[day_words(first_093.local_day(KOL), t, KOL)])
    q(k, "hows the rate import triggered", BER, near(4), facts=[[rates_now.attributes["trigger"]]])
    q(k, "what host is the scorecard built on", BER, near(0), facts=[[monday_card.attributes["host"]]])
    q(k, "tracking sync version?", UTCZ, near(1), facts=[[last_sync.attributes["version"]]])
    assert last_sync.attributes["trigger"] == "schedule"
    q(k, "is the sync started by cron or airflow?", UTCZ, near(2),
      facts=[["schedule", "scheduled", "scheduler", "zeitplan"]])
    q(k, "what version did the rate import run before 4.8.0", BER, near(3), facts=[[versions[0]]])

    # ================================================================ payloads
    k = "payload"
    t = near(4)
    inv_path = a20.payload("input")["path"]
    q(k, "which invoice folder did the audit read on friday", BER, t,
      facts=[[inv_path, inv_path.rstrip("/"), "invoices/" + file_name(inv_path)]], about=[a20])
    out_prev = audit_prev.payload("output")["file"]
    q(k, "disputes file name from yesterday?", BER, near(0), facts=[[file_name(out_prev)]],
      about=[audit_prev])
    q(k, "how many tabs does the disputes workbook have", WAW, near(1),
      facts=[num(audit_prev.payload("output")["tabs"])])
    q(k, "whats the file name of the week 46 scorecard", BER, near(2),
      facts=[[file_name(w46.payload("output")["file"])]], about=[w46])
    q(k, "customs xml for wednesday?", NYC, near(3), facts=[[file_name(ace_wed.payload("output")["file"])]],
      about=[ace_wed])
    q(k, "how many days ahead does the pallet forecast go", KOL, near(4),
      facts=[num(fc_sin.payload("output")["horizon_days"])])
    q(k, "how many carriers are in the freighthub rate file", WAW, near(0),
      facts=[num(rates_now.payload("input-file")["carriers"])])
    t = near(1)
    q(k, "what file did the rates job laod on sunday", BER, t,
      facts=[[file_name(rates[sunday].payload("input-file")["path"])]], about=[rates[sunday]])
    ports = sorted({r.payload("output")["port"] for r in customs})
    q(k, "which ports do the ACE batches go through", NYC, near(2), facts=[[p] for p in ports])
    q(k, "output table of the rates import?", BER, near(3),
      facts=[[rates_prev.payload("output")["table"]]])
    q(k, "which invoice batch did the rerun on the 18th go through", BER, near(4),
      facts=[[a18_rerun.payload("input")["batch"]]], about=[a18_rerun])

    # ================================================================ owners / alerts
    k = "owner"
    owner = {slug: job["owner"] for slug, job in JOBS.items()}
    q(k, "who should i call about the overcharge disputes", BER, near(0), facts=[[owner["freight-audit"]]])
    table = fc_sin.payload("output")["table"]
    q(k, f"who owns the job that writes {table}", SIN, near(1), facts=[[owner["demand-forecast"]]])
    q(k, "hello, quick question from the sales team: whose job loads the tariff table we quote from?", BER, near(2), facts=[[owner["carrier-rates-import"]]])
    q(k, "who's the contact for the job that failed this morning", ROM, near(3),
      facts=[[owner[audit_now.job]]])
    q(k, "who gets notified if the customs export breaks", NYC, near(4),
      facts=[[c] for c in JOBS["customs-export"]["alert"]])
    q(k, "which team gets the alerts for the forecast", KOL, near(0),
      facts=[[c] for c in JOBS["demand-forecast"]["alert"]])
    assert owner["freight-audit"] != "Katrin Vogel"
    q(k, "is Katrin the owner of the audit?", BER, near(1), first="no", facts=[[owner["freight-audit"]]])
    marco = [slug for slug, who in owner.items() if who.startswith("Marco")]
    q(k, "which jobs does Marco own", BER, near(2), facts=[NAMES[s] for s in marco])
    orphans = [slug for slug, who in owner.items() if not who]
    q(k, "which jobs dont have an owner?", BER, near(3), facts=[NAMES[s] for s in orphans])
    q(k, "wer ist owner vom zollexport", BER, near(4), facts=[[owner["customs-export"]]])

    # ================================================================ schedules / next due
    k = "schedule"
    t = near(0)
    q(k, "what time does the audit kick off in new york time", NYC, t,
      facts=[clock(next_due("freight-audit", t), NYC)])
    q(k, "what timezone is the customs export scheduled in", LON, near(1),
      facts=[[JOBS["customs-export"]["timezone"], "New York", "Eastern", "EST", "US/Eastern"]])
    t = near(2)
    q(k, "cron for the rate import?", BER, t,
      facts=[[JOBS["carrier-rates-import"]["schedule"], *clock(next_due("carrier-rates-import", t), BER)]])
    t = near(3)
    q(k, "when is the next forecast run", SIN, t, facts=[clock(next_due("demand-forecast", t), SIN)])
    t = near(4)
    card_next = next_due("carrier-scorecard", t)
    q(k, "wann läuft der scorecard job", BER, t,
      facts=[["monday", "mondays", "montag", "montags", *day_words(local(card_next, BER).date(), t, BER)],
             clock(card_next, BER)])
    assert JOBS["freight-audit"]["schedule"].endswith("* * *")
    q(k, "does the audit run on sundays", BER, near(0), first="yes",
      facts=[[*clock(next_due("freight-audit", near(0)), BER), "daily", "every day", "täglich", "jeden tag", "each day", "7 days"]])
    t = near(1)
    q(k, "next customs export, london time", LON, t, facts=[clock(next_due("customs-export", t), LON)])
    max_rt = span(JOBS["carrier-rates-import"]["expect"]["max_runtime"])
    q(k, "how long is the rate import allowed to run", BER, near(2), facts=[dur(max_rt.total_seconds())])
    disputes_by = last_due("freight-audit", NOW) + span(JOBS["freight-audit"]["expect"]["milestones"][0]["by"])
    q(k, "whats the deadline for the audit to file disputes", BER, near(3), facts=[clock(disputes_by, BER)])
    tariffs_by = last_due("carrier-rates-import", NOW) + span(
        JOBS["carrier-rates-import"]["expect"]["milestones"][0]["by"])
    q(k, "by what time should the tariffs be published each night?", BER, near(4),
      facts=[clock(tariffs_by, BER)])
    t = near(0)
    card_next = next_due("carrier-scorecard", t)
    q(k, "when's the next scorecard, my time", SYD, t,
      facts=[clock(card_next, SYD), day_words(local(card_next, SYD).date(), t, SYD)])
    t = near(1)
    q(k, "next sync in india time", KOL, t, facts=[clock(next_due("tracking-sync", t), KOL)])

    # ================================================================ overviews
    k = "overall"
    night = [NAMES["carrier-rates-import"], NAMES["freight-audit"], NAMES["customs-export"]]
    q(k, "what failed last night?", BER, near(2), facts=night, about=[rates_now, audit_now])
    q(k, "morning summary pls", SIN, near(3), facts=[*night, NAMES["demand-forecast"]],
      about=[rates_now, audit_now])
    t = near(4)
    sun_lo, sun_hi = day_bounds(sunday, BER)
    sun_runs = [r for v in RUNS.values() for r in v if sun_lo <= r.start < sun_hi]
    assert sun_runs and not any(bad(r) for r in sun_runs)
    q(k, "was everything green on sunday?", BER, t, first="yes")
    t = near(0)
    q(k, "war gestern alles grün?", BER, t, first="no",
      facts=[NAMES["tracking-sync"], clocks(yday_bad[0].start, yday_bad[0].end, zone=BER)],
      about=yday_bad)
    q(k, "which jobs need attention right now", NYC, near(1), facts=night, about=[rates_now, audit_now])
    q(k, "quick health check across all six jobs pls", LON, near(2),
      facts=[*night, NAMES["demand-forecast"]], about=[rates_now, audit_now])
    q(k, "anything off with the customs filings this week?", NYC, near(3), first="yes",
      facts=[NOT_STARTED])
    t = near(4)
    q(k, "did everything run on wednesday the 18th?", BER, t,
      facts=[NAMES["freight-audit"], FAILED, clock(a18_rerun.start, BER)])
    q(k, "hi, sales here - can I promise customers that today's rate quotes are right?", BER, near(0),
      first="no", facts=[num(rates_now.metric("rates_parsed"))], about=[rates_now])
    q(k, "whats broken and who do I talk to?", BER, near(1),
      facts=[[owner[j], *owner[j].split()] for j in ("carrier-rates-import", "freight-audit",
                                                     "customs-export")],
      about=[rates_now, audit_now])

    # ================================================================ unknown jobs / data
    k = "unknown"
    q(k, "did the EDI invoice import run today", BER, near(2), first="unsure")
    q(k, "status of the warehouse slotting job?", LON, near(3), first="unsure")
    q(k, "who owns the billing export", BER, near(4), first="unsure")
    q(k, "how many pallets did the forecast predict for the hamburg warehouse", BER, near(0),
      first="unsure")
    q(k, "whats the memory usage of the audit", BER, near(1), first="unsure")
    q(k, "when does the port call sync run", NYC, near(2), first="unsure")
    q(k, "which carrier had the worst on-time % in the scorecard", BER, near(3), first="unsure")
    q(k, "how big was the disputes file yesterday", BER, near(4), first="unsure")
    q(k, "ist der lagerbestand-export heute gelaufen?", BER, near(0), first="unsure")
    q(k, "exit code of the failed audit?", BER, near(1), first="unsure", about=[audit_now])
    q(k, "invoice OCR job ok?", ROM, near(2), first="unsure")

    # ================================================================ ambiguous names
    k = "ambiguous"
    assert rates_prev.of("duration") and forecast_now.milestone("data-loaded")
    q(k, "did the data load finish?", BER, near(3), first="unsure",
      facts=[NAMES["carrier-rates-import"], NAMES["demand-forecast"]])
    assert JOBS["tracking-sync"]["timezone"] == JOBS["demand-forecast"]["timezone"] == "UTC"
    q(k, "the UTC job - ok?", LON, near(4), first="unsure",
      facts=[NAMES["tracking-sync"], NAMES["demand-forecast"]])
    q(k, "did the publish step run today", BER, near(0), first="unsure",
      facts=[NAMES["carrier-rates-import"], NAMES["demand-forecast"]])
    q(k, "the daily job failed?", BER, near(1), first="unsure",
      facts=[NAMES["carrier-rates-import"], NAMES["freight-audit"]])
    q(k, "is the berlin job ok", ROM, near(2), first="unsure",
      facts=[NAMES["carrier-rates-import"], NAMES["freight-audit"]])


# ---------------------------------------------------------------------------------------------
# A second route to some facts: the raw events, no RunView


def cross_check() -> None:
    events = STORY["events"]

    def of(job: str, kind: str) -> list[dict[str, Any]]:
        return [e for e in events if e["job"] == job and e["kind"] == kind]

    def expect_of(qid: str) -> dict[str, Any]:
        return next(item["expect"] for item in QUESTIONS if item["id"] == qid)

    def by_question(text: str) -> dict[str, Any]:
        return next(item["expect"] for item in QUESTIONS if item["question"] == text)

    # yesterday's (UTC) shipments: the sum straight from the metric events
    total = sum(e["value"] for e in of("tracking-sync", "metric")
                if e["name"] == "shipments_updated" and e["at"].startswith("2026-11-23"))
    assert f"{total:,}" in by_question("total shipments updated by the sync yesteday")["facts"][0]
    # last week's customs filings (New York, 16 to 20 November)
    submitted = sum(e["value"] for e in of("customs-export", "metric")
                    if e["name"] == "filings_submitted" and "2026-11-16" <= e["at"][:10] <= "2026-11-20")
    assert str(submitted) in by_question(
        "how many customs filings did we submit last week in total")["facts"][0]
    # audit runs: one start event each
    starts = of("freight-audit", "start")
    assert str(len(starts)) in by_question("how many audits ran in total since the 11th")["facts"][0]
    # the 8:05 sync is still to come: no start event at or after 08:00 UTC today
    assert not [e for e in of("tracking-sync", "start") if e["at"] >= "2026-11-24T08:00"]
    # the audit failed at tariff matching, at 04:13 Berlin
    failed = [e for e in of("freight-audit", "milestone") if e.get("status") == "failed"
              and e["at"].startswith("2026-11-24")]
    assert failed[0]["name"] == "tariffs-matched" and failed[0]["at"][11:16] == "04:13"
    # the 4am Berlin audit is 22:00 the evening before in New York
    assert "22:00" in by_question("what time does the audit kick off in new york time")["facts"][0]
    # the customs export was due at 22:15 New York = 08:45 in Kolkata; no event since
    assert "08:45" in by_question("customs export was supposed to start when, in my time?")["facts"][0]
    assert not [e for e in events if e["job"] == "customs-export" and e["at"] >= "2026-11-23T22"]
    # the forecast: 38 of 64 warehouses at the last progress event
    last_progress = of("demand-forecast", "progress")[-1]
    assert (last_progress["done"], last_progress["total"]) == (38, 64)
    # Sydney's yesterday is 23 November: the forecast that started 17:00 there
    syd = by_question("did the pallet forecast finish yesterday?")
    end = next(e["at"] for e in of("demand-forecast", "finish") if e["run"] == "forecast-20261123")
    assert local(parse(end), SYD).strftime("%H:%M") in syd["facts"][0]
    # Los Angeles' yesterday is Sunday 22 November: no customs events that day in New York
    assert not [e for e in of("customs-export", "start") if e["at"].startswith("2026-11-22")]
    # the bad rate import's 212 always comes with "successful" forbidden
    for item in QUESTIONS:
        assert parse(item["asked_at"]) <= NOW and item["split"] == "dev3"
        offset = parse(item["asked_at"]).utcoffset()
        assert offset == local(parse(item["asked_at"]), item["tz"]).utcoffset(), item["question"]
        if any("212" in group for group in item["expect"]["facts"]):
            assert "successful" in item["expect"]["forbidden"], item["question"]
    # no question repeats a dev2 question
    extra = HERE / "questions_extra.json"
    if extra.exists():
        seen = {re.sub(r"\W+", " ", item["question"].lower()).strip()
                for item in json.loads(extra.read_text(encoding="utf-8"))}
        for item in QUESTIONS:
            assert re.sub(r"\W+", " ", item["question"].lower()).strip() not in seen, item["question"]
    ids = [item["id"] for item in QUESTIONS]
    assert len(ids) == len(set(ids)) and expect_of("y001")


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
