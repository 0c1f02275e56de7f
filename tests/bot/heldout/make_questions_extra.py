"""Write questions_extra.json: a second, independent set of development questions ("dev2") over
the Nordwind Logistik story in story.json.

Written without reading the engine, as people would type them in Teams. Every fact is read from
the story (events, job definitions, `now`) by code; a few are re-derived from the raw events by a
second route at the end (`cross_check`), so a changed story fails loudly instead of drifting.

Usage: python tests/bot/heldout/make_questions_extra.py   (writes questions_extra.json)
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
STORY = json.loads((HERE / "story.json").read_text(encoding="utf-8"))
OUT = HERE / "questions_extra.json"

NOW = datetime.fromisoformat(STORY["now"])
JOBS: dict[str, dict[str, Any]] = STORY["jobs"]

BER, NYC, UTCZ = "Europe/Berlin", "America/New_York", "UTC"
LON, ROM, KOL, SIN, CHI = "Europe/London", "Europe/Rome", "Asia/Kolkata", "Asia/Singapore", "America/Chicago"

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
    assert asked <= NOW, question
    about = list(about)
    banned = list(dict.fromkeys([*forbidden, *(SUCCESS_WORDS if any(bad(r) for r in about) else [])]))
    groups = [list(dict.fromkeys(g)) for g in facts]
    assert all(groups), question
    QUESTIONS.append({
        "id": f"x{len(QUESTIONS) + 1:03d}",
        "split": "dev2",
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
    audits_today = runs_on("freight-audit", today)
    audit_now = audits_today[0]
    audit_prev = run_on("freight-audit", yesterday)
    forecast_now = RUNS["demand-forecast"][-1]
    assert forecast_now.status is None
    forecast_prev = run_on("demand-forecast", yesterday)
    syncs = RUNS["tracking-sync"]
    sync_failed = [r for r in syncs if r.status == "failed"]
    last_sync = [r for r in syncs if r.end is not None][-1]
    cards = RUNS["carrier-scorecard"]
    customs = RUNS["customs-export"]
    progress = forecast_now.of("progress")[-1]

    # Customs: the weekday the story leaves without a run, in New York
    customs_missed = last_due("customs-export", NOW)
    assert not [r for r in customs if r.start >= customs_missed - timedelta(hours=1)]
    customs_deadline = customs_missed + span(JOBS["customs-export"]["expect"]["start_within"])
    assert bad(rates_now) and audit_now.status == "failed"

    def missed_customs_facts(zone: str, asked: datetime) -> list[str]:
        return [*clocks(customs_missed, customs_deadline, zone=zone),
                *durs((asked - customs_missed).total_seconds(),
                      (asked - customs_deadline).total_seconds())]

    # Forecast: how far, and when it may end
    done, total = progress["done"], progress["total"]
    past = [r for r in RUNS["demand-forecast"] if r.end is not None and not bad(r)]
    ends_tod = [local(r.end, "UTC").replace(year=2000, month=1, day=1) for r in past]
    elapsed = (parse(progress["at"]) - forecast_now.start).total_seconds()
    projected = forecast_now.start + timedelta(seconds=elapsed * total / done)
    earliest = min(min(t.time() for t in ends_tod), projected.astimezone(UTC).time())
    latest = max(max(t.time() for t in ends_tod), projected.astimezone(UTC).time())
    day0 = forecast_now.start.astimezone(UTC).date()
    window_lo = datetime.combine(day0, earliest, UTC) - timedelta(minutes=5)
    window_hi = datetime.combine(day0, latest, UTC) + timedelta(minutes=5)

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

    # ---------------------------------------------------------------- ran / finished
    k = "ran"
    t = near(0)
    q(k, "did the rate import run last night?", BER, t,
      facts=[clocks(rates_now.start, rates_now.end, zone=BER), num(rates_now.metric("rates_parsed"))],
      about=[rates_now])
    t = near(1)
    q(k, "frachtraten import heute nacht gelaufen?", BER, t,
      facts=[num(rates_now.metric("rates_parsed"))], about=[rates_now])
    q(k, "customer asks if todays carrier rates are loaded. are they?", BER, near(2), first="no",
      facts=[num(rates_now.metric("rates_parsed"))], about=[rates_now])
    q(k, "has the invoice audit finished this morning", BER, near(3),
      facts=[FAILED, clock(audit_now.end, BER)], about=[audit_now])
    q(k, "did the freight audit go through ok today", ROM, near(4), first="no",
      facts=[FAILED], about=[audit_now])
    q(k, "forecast done yet?", KOL, near(0), first="no",
      facts=[num(done), num(total)], about=[forecast_now])
    monday = cards[-1]
    q(k, "did the kpi report go out monday", BER, near(1), first="yes",
      facts=[clocks(monday.start, monday.end, zone=BER)], about=[monday])
    q(k, "scorecard ran this week?", LON, near(2), first="yes",
      facts=[clocks(monday.start, monday.end, zone=LON)], about=[monday])
    d18 = date(2026, 11, 18)
    first18, rerun18 = runs_on("freight-audit", d18)
    q(k, "audit on the 18th - did it run?", BER, near(3), first="yes",
      facts=[FAILED, clocks(rerun18.start, rerun18.end, zone=BER)], about=[first18])
    friday_ny = date(2026, 11, 20)
    ace_fri = run_on("customs-export", friday_ny)
    q(k, "did the ACE filing run friday night?", NYC, near(4), first="yes",
      facts=[clocks(ace_fri.start, ace_fri.end, zone=NYC)], about=[ace_fri])
    q(k, "zollexport gestern abend gelaufen?", BER, near(0), first="no",
      facts=[clocks(customs_missed, customs_deadline, customs_missed, zone=BER)
             + clock(customs_missed, NYC)])
    q(k, "did the customs export run tonight", NYC, near(1), first="no",
      facts=[clocks(customs_missed, customs_deadline, zone=NYC)])
    d20 = date(2026, 11, 20)
    r20 = rates[d20]
    q(k, "rates import am 20.11. ok?", BER, near(2), first="yes",
      facts=[clocks(r20.start, r20.end, zone=BER)], about=[r20])
    sync_night = [r for r in syncs if r.local_day(UTCZ) == today and r.end is not None]
    q(k, "did the sync run this morning", UTCZ, near(3), first="yes",
      facts=[clocks(*(x.start for x in sync_night), *(x.end for x in sync_night), zone=UTCZ)],
      about=sync_night)
    q(k, "hat die sendungsverfolgung heute nacht geklappt?", BER, near(4), first="yes",
      facts=[clocks(*(x.start for x in sync_night), *(x.end for x in sync_night), zone=BER)],
      about=sync_night)
    f18 = run_on("demand-forecast", d18, UTCZ)
    q(k, "did the pallet forecast finish on the 18th?", KOL, near(0), first="yes",
      facts=[clock(f18.end, KOL)], about=[f18])
    asked = at("2026-11-23 10:20", BER)
    q(k, "scorecard out this morning?", BER, asked, first="yes",
      facts=[clocks(monday.start, monday.end, zone=BER)], about=[monday])
    asked = at("2026-11-20 23:05", NYC)
    q(k, "customs done for tonight?", NYC, asked, first="yes",
      facts=[clock(ace_fri.end, NYC)], about=[ace_fri])

    # ---------------------------------------------------------------- what happened / why
    k = "why"
    note_audit = audit_now.notes()[0]
    lines_no_tariff = int(re.search(r"for ([\d,]+) of", note_audit).group(1).replace(",", ""))
    q(k, "why did the audit fail this morning", BER, near(1),
      facts=[["tariff", "tarif"], num(lines_no_tariff)], about=[audit_now])
    rate_note = rates_now.notes()[0]
    skipped, lines = (int(x.replace(",", "")) for x in
                      re.search(r"([\d,]+) of ([\d,]+) lines", rate_note).groups())
    q(k, "what happened with the rates import last night??", BER, near(2),
      facts=[num(rates_now.metric("rates_parsed")), nums(skipped, lines)], about=[rates_now])
    q(k, "rechnungsprüfung heute rot, warum?", BER, near(3),
      facts=[["tariff", "tarif"], num(lines_no_tariff)], about=[audit_now])
    q(k, "why didnt the customs export run last night", NYC, near(4),
      facts=[DID_NOT_START, clocks(customs_missed, customs_deadline, zone=NYC)])
    q(k, "what went wrong with the invoice audit on Nov 18", BER, near(0),
      facts=[["sftp", "timed out", "timeout", "time out"]], about=[first18])
    sync_oauth = sync_failed[-1]
    asked = at("2026-11-23 17:30", LON)
    q(k, f"why did the {local(sync_oauth.start, LON):%H:%M} sync fail", LON, asked,
      facts=[["oauth", "token", "401", "unauthorized"]], about=[sync_oauth])
    sync_503 = sync_failed[0]
    q(k, f"why did the tracking sync fail on {DAYS[sync_503.local_day(BER).weekday()].lower()}",
      BER, near(1), facts=[["503", "unavailable"]], about=[sync_503])
    q(k, "is the audit problem because of the rate import?", BER, near(2), first="yes",
      facts=[num(rates_now.metric("rates_parsed"))], about=[audit_now, rates_now])
    q(k, f"why only {int(rates_now.metric('rates_parsed'))} rates today??", BER, near(3),
      facts=[["delimiter", "';'", '";"', "semicolon", "columns", "trennzeichen"]], about=[rates_now])
    r17 = rates[date(2026, 11, 17)]
    warn17 = r17.notes()[0]
    carrier17 = warn17.split(":")[0]
    asked = at("2026-11-17 09:10", BER)
    q(k, "any warnings in the rates import last night?", BER, asked, first="yes",
      facts=[[carrier17], ["fuel surcharge", "surcharge"]], about=[r17])
    ace19 = run_on("customs-export", date(2026, 11, 19))
    q(k, "customs on the 19th had rejects? what was wrong", NYC, near(4),
      facts=[num(ace19.metric("filings_rejected")), ["hts"]], about=[ace19])

    # ---------------------------------------------------------------- running now
    k = "running"
    q(k, "whats running rn", BER, near(4), facts=[NAMES["demand-forecast"], num(done)],
      about=[forecast_now])
    q(k, "anything running at the moment?", KOL, near(3), first="yes",
      facts=[NAMES["demand-forecast"], num(done)], about=[forecast_now])
    next_sync = next_due("tracking-sync", NOW)
    q(k, "is the sync running right now", UTCZ, near(1), first="no",
      facts=[clocks(next_sync, last_sync.end, last_sync.start, zone=UTCZ)], about=[last_sync])
    q(k, "is the palettenprognose still going", KOL, near(0), first="yes", facts=[num(done)],
      about=[forecast_now])
    q(k, "how far along is the demand forecast", SIN, near(4), facts=[num(done), num(total)],
      about=[forecast_now])
    q(k, "is the audit still running?", BER, near(3), first="no",
      facts=[FAILED, clock(audit_now.end, BER)], about=[audit_now])
    q(k, "rate import still running or done?", BER, near(1),
      facts=[clock(rates_now.end, BER)], about=[rates_now])

    # ---------------------------------------------------------------- not started / late / ETA
    k = "late"
    t = near(0)
    q(k, "customs export late?", NYC, t, first="yes", facts=[missed_customs_facts(NYC, t)])
    t = near(1)
    q(k, "has the zollexport started yet", BER, t, first="no", facts=[missed_customs_facts(BER, t)])
    t = near(2)
    q(k, "how far behind are the CBP filings", NYC, t, facts=[missed_customs_facts(NYC, t)])
    t = near(3)
    q(k, "when will the forecast be done", KOL, t, facts=[eta(KOL, t)], about=[forecast_now])
    t = near(4)
    q(k, "ETA palettenprognose?", BER, t, facts=[eta(BER, t)], about=[forecast_now])
    publish_by = forecast_now.start.replace(second=0, minute=0) + span(
        JOBS["demand-forecast"]["expect"]["milestones"][0]["by"])
    t = near(0)
    q(k, "is the forecast behind schedule", BER, t, first="no", facts=[num(done) + eta(BER, t)],
      about=[forecast_now])
    q(k, "anything that should have started by now but didnt?", BER, near(1), first="yes",
      facts=[NAMES["customs-export"]])
    q(k, "by when does the forecast have to be published", BER, near(3),
      facts=[clock(publish_by, BER)], about=[forecast_now])
    t = near(4)
    q(k, "customs run for monday still pending? its 3am here", NYC, t, first="yes",
      facts=[missed_customs_facts(NYC, t)])
    t = near(0)
    q(k, "did the customs export run yesterday evening", NYC, t, first="no",
      facts=[missed_customs_facts(NYC, t)])

    # ---------------------------------------------------------------- metrics
    k = "metric"
    q(k, "how many rates did the import parse last night", BER, near(1),
      facts=[num(rates_now.metric("rates_parsed"))], about=[rates_now])
    q(k, "rates_rejected heute?", BER, near(2), facts=[num(rates_now.metric("rates_rejected"))],
      about=[rates_now])
    q(k, "how many lane rates do we normally get in the nightly file", BER, near(3),
      facts=[usual_numbers(usual_values("carrier-rates-import", "rates_parsed", rates_now.start))])
    asked = at("2026-11-20 09:00", BER)
    a_thu = run_on("freight-audit", local(asked, BER).date() - timedelta(days=1))
    q(k, "how many invoices did the audit check yesterday", BER, asked,
      facts=[num(a_thu.metric("invoices_checked"))], about=[a_thu])
    a20 = run_on("freight-audit", d20)
    q(k, "overcharge_eur on friday?", BER, near(0), facts=[num(a20.metric("overcharge_eur"))],
      about=[a20])
    a19 = run_on("freight-audit", date(2026, 11, 19))
    q(k, "how much overcharge did the audit find on the 19th", ROM, near(1),
      facts=[num(a19.metric("overcharge_eur"))], about=[a19])
    q(k, "forecast mape yesterday", KOL, near(2), facts=[num(forecast_prev.metric("forecast_mape"))],
      about=[forecast_prev])
    f22 = run_on("demand-forecast", date(2026, 11, 22), UTCZ)
    q(k, "how accurate was the demand forecast on sunday", SIN, near(3),
      facts=[num(f22.metric("forecast_mape"))], about=[f22])
    q(k, "on time % in the latest carrier scorecard", BER, near(4),
      facts=[num(monday.metric("on_time_pct"))], about=[monday])
    q(k, "how many shipments did the last sync update", UTCZ, near(0),
      facts=[num(last_sync.metric("shipments_updated"))], about=[last_sync])
    q(k, "how many filings did we send to CBP friday", NYC, near(1),
      facts=[num(ace_fri.metric("filings_submitted"))], about=[ace_fri])
    q(k, f"rejected filings on {ace19.local_day(CHI):%m/%d}?", CHI, near(2),
      facts=[num(ace19.metric("filings_rejected"))], about=[ace19])
    q(k, f"is {int(rates_now.metric('rates_parsed'))} parsed rates normal?", BER, near(3), first="no",
      facts=[usual_numbers(usual_values("carrier-rates-import", "rates_parsed", rates_now.start))],
      about=[rates_now])
    q(k, "wie viele rechnungen hat die prüfung am 20.11. geprüft", BER, near(4),
      facts=[num(a20.metric("invoices_checked"))], about=[a20])
    q(k, "how many rows get rejected in the rate import usually", BER, near(1),
      facts=[usual_numbers(usual_values("carrier-rates-import", "rates_rejected", rates_now.start))])
    asked = at("2026-11-22 11:00", BER)
    a22 = run_on("freight-audit", date(2026, 11, 22))
    q(k, "how many invoices in the audit today", BER, asked,
      facts=[num(a22.metric("invoices_checked"))], about=[a22])

    # ---------------------------------------------------------------- counting
    k = "count"

    def week_start(moment: datetime, zone: str) -> datetime:
        d = local(moment, zone).date()
        return datetime.combine(d - timedelta(days=d.weekday()), time(0), ZoneInfo(zone))

    def count(job: str, lo: datetime, hi: datetime, status: str | None = "any") -> int:
        return sum(1 for r in RUNS[job] if lo <= r.start < hi and (status == "any" or r.status == status))

    t = near(2)
    ws = week_start(t, BER)
    n = count("tracking-sync", ws, t, "failed")
    q(k, "how many times did the sync fail this week", BER, t, facts=[num(n) + (["once"] if n == 1 else [])])
    t = near(3)
    month0 = datetime.combine(local(t, BER).date().replace(day=1), time(0), ZoneInfo(BER))
    n = count("tracking-sync", month0, t, "failed")
    q(k, "wie oft ist die sendungsverfolgung diesen monat gescheitert", BER, t,
      facts=[num(n) + (["zweimal", "twice"] if n == 2 else [])])
    t = near(4)
    n = count("freight-audit", t - timedelta(days=14), t, "failed")
    q(k, "how many audit runs failed in the last 2 weeks", ROM, t,
      facts=[num(n) + (["twice", "zweimal"] if n == 2 else [])])
    t = near(0)
    ws = week_start(t, BER)
    n = count("carrier-rates-import", ws - timedelta(days=7), ws)
    q(k, "how many times did the rate import run last week", BER, t, facts=[num(n)])
    t = near(1)
    ws = week_start(t, NYC)
    n = count("customs-export", ws - timedelta(days=7), ws)
    q(k, "# of customs export runs last week?", NYC, t, facts=[num(n)])
    t = near(2)
    d0 = local(t, UTCZ).date() - timedelta(days=1)
    lo = datetime.combine(d0, time(0), UTC)
    n = count("tracking-sync", lo, lo + timedelta(days=1))
    q(k, "how many sync runs yesterday", UTCZ, t, facts=[num(n)])
    t = near(3)
    ws = week_start(t, KOL)
    n = count("demand-forecast", ws - timedelta(days=7), ws, "succeeded")
    q(k, "how many forecast runs completed last week", KOL, t, facts=[num(n)])
    manual = [r for r in RUNS["freight-audit"] if r.attributes.get("trigger") == "manual"]
    q(k, "how often was the audit started by hand", BER, near(4),
      facts=[num(len(manual)) + (["once", "one", "einmal"] if len(manual) == 1 else [])],
      about=manual)
    q(k, "how many scorecards have we got so far", BER, near(0), facts=[num(len(cards))])
    t = near(1)
    sat = week_start(t, LON) - timedelta(days=2)
    n = count("tracking-sync", sat, sat + timedelta(days=2))
    q(k, "how many syncs ran over the weekend", LON, t, facts=[num(n)])
    asked = at("2026-11-22 11:00", BER)
    ws = week_start(asked, BER)
    n = count("tracking-sync", ws, asked, "failed")
    q(k, "how many failed syncs this week so far?", BER, asked,
      facts=[num(n) + (["once", "one"] if n == 1 else [])])

    # ---------------------------------------------------------------- listing
    k = "list"
    last3 = RUNS["freight-audit"][-3:]
    t = near(2)
    q(k, "last 3 audit runs", BER, t,
      facts=[day_words(r.local_day(), t, BER) for r in last3] + [FAILED], about=last3)
    t = near(3)
    ws = week_start(t, BER)
    failed_week = [r for v in RUNS.values() for r in v if r.start >= ws and r.status == "failed"]
    q(k, "show me failed runs this week", BER, t,
      facts=[NAMES[j] for j in sorted({r.job for r in failed_week})])
    q(k, "list the failed syncs", LON, near(4),
      facts=[clock(r.start, LON) for r in sync_failed])
    last5 = RUNS["carrier-rates-import"][-5:]
    t = near(0)
    q(k, "letzte 5 frachtraten imports", BER, t,
      facts=[day_words(r.local_day(), t, BER) for r in last5]
      + [num(rates_now.metric("rates_parsed"))], about=last5)
    t = near(1)
    ws = week_start(t, NYC)
    last_week_ace = [r for r in customs if ws - timedelta(days=7) <= r.start < ws]
    q(k, "customs runs last week pls", NYC, t,
      facts=[day_words(r.local_day(), t, NYC) for r in last_week_ace])
    month_failed = [r for v in RUNS.values() for r in v if r.status == "failed"]
    q(k, "which jobs failed in november", BER, near(2),
      facts=[NAMES[j] for j in sorted({r.job for r in month_failed})])
    t = near(3)
    ws = week_start(t, KOL)
    week_fc = [r for r in RUNS["demand-forecast"] if r.start >= ws]
    q(k, "forecast runs this week", KOL, t,
      facts=[day_words(r.local_day(KOL), t, KOL) for r in week_fc] + [["running", "läuft", "in progress"]])
    t = near(4)
    q(k, "last two scorecards?", BER, t, facts=[day_words(r.local_day(), t, BER) for r in cards[-2:]])
    t = near(0)
    q(k, "when did the sync last fail", LON, t,
      facts=[day_words(sync_oauth.local_day(LON), t, LON), clock(sync_oauth.start, LON)],
      about=[sync_oauth])

    # ---------------------------------------------------------------- last good run
    k = "last_good"

    def last_good(job: str, before: datetime) -> RunView:
        found = good_runs(job, before)
        assert found and not bad(found[-1])
        return found[-1]

    t = near(1)
    g = last_good("carrier-rates-import", t)
    q(k, "when was the last good rate import", BER, t,
      facts=[day_words(g.local_day(), t, BER), clocks(g.start, g.end, zone=BER)])
    # the audit is asked about before its rerun on the 18th: the last good run then is a weekday
    # batch, so no one can argue about the smaller weekend batches being "far from usual"
    t = at("2026-11-18 08:30", BER)
    g = last_good("freight-audit", t)
    assert g.local_day() == date(2026, 11, 17) and (g.local_day() - timedelta(days=1)).weekday() < 5
    q(k, "last successful audit?", BER, t,
      facts=[day_words(g.local_day(), t, BER), clocks(g.start, g.end, zone=BER)])
    t = near(3)
    g = last_good("customs-export", t)
    q(k, "letzter erfolgreicher zollexport?", BER, t,
      facts=[day_words(g.local_day(NYC), t, BER) + day_words(g.local_day(BER), t, BER),
             clocks(g.start, g.end, zone=BER)])
    t = near(4)
    g = last_good("tracking-sync", t)
    q(k, "last good sync?", UTCZ, t, facts=[clocks(g.start, g.end, zone=UTCZ)])
    t = at("2026-11-18 08:45", ROM)
    g = last_good("freight-audit", t)
    q(k, "when did the invoice audit last work properly", ROM, t,
      facts=[day_words(g.local_day(), t, ROM)])
    t = near(1)
    g = last_good("carrier-rates-import", t)
    published = g.milestone_at("tariffs-published")
    q(k, "when were tariffs last published properly", BER, t,
      facts=[day_words(g.local_day(), t, BER), clocks(published, g.end, zone=BER)])
    t = near(2)
    g = last_good("demand-forecast", t)
    q(k, "last complete forecast run?", KOL, t,
      facts=[day_words(g.local_day(KOL), t, KOL), clocks(g.start, g.end, zone=KOL)])
    t = near(3)
    g = last_good("customs-export", t)
    q(k, "when did the ACE filing last go out ok", NYC, t,
      facts=[day_words(g.local_day(NYC), t, NYC), clocks(g.start, g.end, zone=NYC)])

    # ---------------------------------------------------------------- durations
    k = "duration"
    q(k, "how long did the rate import take last night", BER, near(4),
      facts=[dur(rates_now.seconds)], about=[rates_now])
    rates_good = good_runs("carrier-rates-import", rates_now.start)
    q(k, "how long does the rate import usually take", BER, near(0),
      facts=[usual_durations([r.seconds for r in rates_good])])
    asked = at("2026-11-23 09:00", BER)
    a_sun = run_on("freight-audit", local(asked, BER).date() - timedelta(days=1))
    q(k, "wie lange hat die rechnungsprüfung gestern gedauert", BER, asked,
      facts=[dur(a_sun.seconds)], about=[a_sun])
    fc_good = good_runs("demand-forecast", forecast_prev.start)
    q(k, "how long did the forecast take yesterday vs normal", KOL, near(2),
      facts=[dur(forecast_prev.seconds), usual_durations([r.seconds for r in fc_good])],
      about=[forecast_prev])
    q(k, "customs export runtime on friday", NYC, near(3), facts=[dur(ace_fri.seconds)],
      about=[ace_fri])
    r23 = rates_prev
    q(k, "how long was the db load in the rates import on the 23rd", BER, near(4),
      facts=[dur(r23.duration("db-load"))], about=[r23])
    between = (r23.milestone_at("tariffs-published") - r23.milestone_at("file-received")).total_seconds()
    q(k, "yesterday's rate import: time from file received to tariffs published?", BER, near(0),
      facts=[dur(between)], about=[r23])
    between = (a20.milestone_at("disputes-filed") - a20.milestone_at("invoices-loaded")).total_seconds()
    q(k, "audit 20.11. how long from invoices loaded to disputes filed", BER, near(1),
      facts=[dur(between)], about=[a20])
    t = near(2)
    q(k, "how long has the forecast been running so far", KOL, t,
      facts=[dur((t - forecast_now.start).total_seconds())], about=[forecast_now])
    t = near(3)
    q(k, f"how long did the {local(sync_oauth.start, UTCZ):%H:%M} sync take yesterday", UTCZ, t,
      facts=[dur(sync_oauth.seconds)], about=[sync_oauth])
    q(k, "how long did the scorecard take on monday", BER, near(4), facts=[dur(monday.seconds)],
      about=[monday])
    q(k, f"how long was the {local(rerun18.start, BER):%H:%M} audit rerun on the 18th", BER, near(0),
      facts=[dur(rerun18.seconds)], about=[rerun18])
    gap = (audit_now.end - rates_now.end).total_seconds()
    q(k, "how much time between the rate import finishing and the audit failing today", BER, near(1),
      facts=[dur(gap)], about=[rates_now, audit_now])

    # ---------------------------------------------------------------- comparisons
    k = "compare"
    q(k, "rates parsed today vs yesterday", BER, near(2),
      facts=[num(rates_now.metric("rates_parsed")), num(rates_prev.metric("rates_parsed"))],
      about=[rates_now, rates_prev])
    q(k, "overcharge eur friday vs thursday?", BER, near(3),
      facts=[num(a20.metric("overcharge_eur")), num(a19.metric("overcharge_eur"))], about=[a20, a19])
    a22 = run_on("freight-audit", date(2026, 11, 22))
    faster = audit_prev.seconds < a22.seconds
    q(k, "was the audit quicker yesterday than on sunday?", BER, near(4),
      first="yes" if faster else "no", facts=[dur(audit_prev.seconds), dur(a22.seconds)],
      about=[audit_prev, a22])
    asked = at("2026-11-23 15:00", KOL)
    f_y = run_on("demand-forecast", local(asked, KOL).date() - timedelta(days=1), UTCZ)
    f_before = run_on("demand-forecast", local(asked, KOL).date() - timedelta(days=2), UTCZ)
    q(k, "forecast mape yesterday vs the day before", KOL, asked,
      facts=[num(f_y.metric("forecast_mape")), num(f_before.metric("forecast_mape"))],
      about=[f_y, f_before])
    s08 = run_at("tracking-sync", datetime.combine(yesterday, time(8, 5), UTC))
    s12 = run_at("tracking-sync", datetime.combine(yesterday, time(12, 5), UTC))
    q(k, "shipments updated yesterday 08:05 sync vs 12:05 sync", UTCZ, near(1),
      facts=[num(s08.metric("shipments_updated")), num(s12.metric("shipments_updated"))],
      about=[s08, s12])
    q(k, "cbp filings friday vs thursday", NYC, near(2),
      facts=[num(ace_fri.metric("filings_submitted")), num(ace19.metric("filings_submitted"))],
      about=[ace_fri, ace19])
    prev_card = cards[-2]
    dropped = monday.metric("on_time_pct") < prev_card.metric("on_time_pct")
    q(k, "did on-time go down in this week's scorecard vs last week?", BER, near(3),
      first="yes" if dropped else "no",
      facts=[num(monday.metric("on_time_pct")), num(prev_card.metric("on_time_pct"))],
      about=[monday, prev_card])
    q(k, "rate import runtime heute vs gestern", BER, near(4),
      facts=[dur(rates_now.seconds), dur(rates_prev.seconds)], about=[rates_now, rates_prev])
    a16 = run_on("freight-audit", yesterday - timedelta(days=7))
    q(k, "invoices checked monday vs the monday before", BER, near(0),
      facts=[num(audit_prev.metric("invoices_checked")), num(a16.metric("invoices_checked"))],
      about=[audit_prev, a16])
    r19, r20b = rates[date(2026, 11, 19)], rates[date(2026, 11, 20)]
    assert r19.local_day(LON) == date(2026, 11, 19) and r20b.local_day(LON) == date(2026, 11, 20)
    q(k, "rejected rates on the 19th compared to the 20th", LON, near(1),
      facts=[num(r19.metric("rates_rejected")), num(r20b.metric("rates_rejected"))], about=[r19, r20b])

    # ---------------------------------------------------------------- attributes
    k = "attribute"
    q(k, "which host does the rate import run on", BER, near(2),
      facts=[[rates_now.attributes["host"]]])
    q(k, "what version was the rate import last night", BER, near(3),
      facts=[[rates_now.attributes["version"]]], about=[rates_now])
    new_version = rates_now.attributes["version"]
    first_new = next(r for r in RUNS["carrier-rates-import"] if r.attributes["version"] == new_version)
    t = near(4)
    q(k, f"when did the rate import switch to {new_version.rsplit('.', 1)[0]}", BER, t,
      facts=[day_words(first_new.local_day(), t, BER)])
    q(k, "who kicked off the audit rerun on the 18th", ROM, near(0),
      facts=[[rerun18.attributes["user"]], ["manual", "by hand", "manuell"]], about=[rerun18])
    a21 = run_on("freight-audit", date(2026, 11, 21))
    asked = at("2026-11-21 10:00", BER)
    q(k, "which host ran the audit today", BER, asked, facts=[[a21.attributes["host"]]], about=[a21])
    q(k, "forecast version today?", KOL, near(1), facts=[[forecast_now.attributes["version"]]],
      about=[forecast_now])
    q(k, "how does the forecast get triggered", KOL, near(2),
      facts=[[forecast_now.attributes["trigger"]]])
    assert "host" not in last_sync.attributes
    q(k, "what machine is the tracking sync on", UTCZ, near(3), first="unsure")
    q(k, "customs export host?", NYC, near(4), facts=[[ace_fri.attributes["host"]]])
    q(k, "version of the ACE filing job on friday", NYC, near(0),
      facts=[[ace_fri.attributes["version"]]], about=[ace_fri])
    q(k, "was the audit on the 21st started by cron?", BER, near(1),
      first="yes" if a21.attributes["trigger"] == "cron" else "no", facts=[[a21.attributes["trigger"]]],
      about=[a21])

    # ---------------------------------------------------------------- payloads
    k = "payload"
    rate_file = rates_now.payload("input-file")
    q(k, "which file did the rate import read last night", BER, near(2),
      facts=[[rate_file["path"].rsplit("/", 1)[1]]], about=[rates_now])
    q(k, "who sends us the rate file", BER, near(3), facts=[[rate_file["vendor"]]])
    q(k, "what batch did the audit process today", BER, near(0),
      facts=[[audit_now.payload("input")["batch"]]], about=[audit_now])
    disputes = a20.payload("output")["file"]
    q(k, "where's the disputes excel from friday", BER, near(1),
      facts=[[disputes.rsplit("/", 1)[1], disputes]], about=[a20])
    q(k, "which port was the customs batch on thursday", NYC, near(2),
      facts=[[ace19.payload("output")["port"]]], about=[ace19])
    q(k, "ACE batch id from friday?", NYC, near(3), facts=[[ace_fri.payload("output")["batch"]]],
      about=[ace_fri])
    source = last_sync.payload("source")
    q(k, "which api does the sync pull from", UTCZ, near(4), facts=[[source["api"]]])
    q(k, "how many carriers does the tracking sync cover", LON, near(0), facts=[num(source["carriers"])])
    fc_in = forecast_now.payload("input")
    q(k, "what dataset does the pallet forecast read", KOL, near(1), facts=[[fc_in["dataset"]]])
    q(k, "how many weeks of history go into the forecast", KOL, near(2),
      facts=[num(fc_in["history_weeks"])])
    card_out = monday.payload("output")
    q(k, "where can i find the latest scorecard xlsx", BER, near(3),
      facts=[[card_out["file"].rsplit("/", 1)[1], card_out["file"]], [card_out["sharepoint"]]],
      about=[monday])
    fc_out = forecast_prev.payload("output")
    q(k, "which table does the forecast write to", SIN, near(4), facts=[[fc_out["table"]]])
    q(k, "snapshot name of yesterdays tariffs", BER, near(0),
      facts=[[rates_prev.payload("output")["snapshot"]]], about=[rates_prev])

    # ---------------------------------------------------------------- owners
    k = "owner"
    q(k, "who owns the rate import", BER, near(1), facts=[[JOBS["carrier-rates-import"]["owner"]]])
    q(k, "wer ist für die rechnungsprüfung zuständig", BER, near(2),
      facts=[[JOBS["freight-audit"]["owner"]]])
    q(k, "who do i ping about the customs export", NYC, near(3),
      facts=[[JOBS["customs-export"]["owner"]]])
    q(k, "forecast owner?", KOL, near(4), facts=[[JOBS["demand-forecast"]["owner"]]])
    assert not JOBS["tracking-sync"]["owner"] and not JOBS["carrier-scorecard"]["owner"]
    q(k, "who owns the tracking sync", LON, near(0), first="unsure")
    q(k, "wer kümmert sich um den kpi report", BER, near(1), first="unsure")
    q(k, "who gets alerted when the audit fails", BER, near(2),
      facts=[[c] for c in JOBS["freight-audit"]["alert"]])

    # ---------------------------------------------------------------- schedules / next due
    k = "schedule"
    t = near(4)
    q(k, "when does the audit run next", BER, t,
      facts=[clock(next_due("freight-audit", t), BER)])
    t = near(0)
    q(k, "when's the next sync", BER, t, facts=[clock(next_due("tracking-sync", t), BER)])
    t = near(1)
    card_next = next_due("carrier-scorecard", t)
    q(k, "when is the next scorecard due", BER, t,
      facts=[clock(card_next, BER), day_words(local(card_next, BER).date(), t, BER)])
    q(k, "customs export schedule?", CHI, near(2), facts=[clock(customs_missed, CHI), WEEKDAYS])
    q(k, "what time does the forecast normally start", KOL, near(3),
      facts=[clock(forecast_now.start.replace(second=0), KOL)])
    gaps = {(b.start.replace(second=0) - a.start.replace(second=0)) for a, b in pairwise(syncs)}
    hours = int(min(gaps).total_seconds() // 3600)
    q(k, "how often does the sync run", UTCZ, near(4),
      facts=[[f"{hours} hours", f"{hours}h", f"{hours} h", "four hours", f"every {hours}",
              f"{hours} stunden", f"{hours}-hour", f"{hours}-hourly", "every fourth hour"]])
    t = near(0)
    q(k, "next rate import?", SIN, t, facts=[clock(next_due("carrier-rates-import", t), SIN)])
    weekend_runs = [r for r in customs if r.local_day(NYC).weekday() >= 5]
    assert not weekend_runs
    q(k, "does the customs export run on weekends", NYC, near(1), first="no", facts=[WEEKDAYS])
    t = near(2)
    q(k, "when is the next customs export due", BER, t,
      facts=[clock(next_due("customs-export", t), BER)])

    # ---------------------------------------------------------------- overall
    k = "overall"
    night = [NAMES["carrier-rates-import"], NAMES["freight-audit"], NAMES["customs-export"]]
    q(k, "all good this morning?", BER, near(3), first="no", facts=night, about=[rates_now])
    q(k, "anything broken?", LON, near(4), first="yes", facts=night, about=[rates_now])
    q(k, "status update pls", BER, near(0), facts=night, about=[rates_now])
    q(k, "alles ok bei den jobs heute nacht?", BER, near(1), first="no", facts=night,
      about=[rates_now])
    q(k, "any issues i should warn customers about today?", NYC, near(2),
      facts=[NAMES["carrier-rates-import"], NAMES["freight-audit"]], about=[rates_now])
    q(k, "how did last night go", KOL, near(3), facts=night, about=[rates_now])
    t = near(4)
    sat = week_start(t, BER) - timedelta(days=2)
    weekend = [r for v in RUNS.values() for r in v if sat <= r.start < sat + timedelta(days=2)]
    assert weekend and not any(r.status != "succeeded" for r in weekend)
    q(k, "did any job fail over the weekend?", BER, t, first="no")
    d19 = date(2026, 11, 19)
    asked = near(1)
    day19 = [r for v in RUNS.values() for r in v if r.local_day(BER) == d19]
    bad19 = [r for r in day19 if bad(r)]
    assert [r.job for r in bad19] == ["tracking-sync"]
    q(k, "any problems on thursday the 19th?", BER, asked, first="yes",
      facts=[NAMES["tracking-sync"], clock(bad19[0].start, BER)], about=bad19)
    t = near(0)
    fri = week_start(t, NYC) - timedelta(days=3)
    friday = [r for v in RUNS.values() for r in v if fri <= r.start < fri + timedelta(days=1)]
    assert friday and not any(bad(r) for r in friday)
    q(k, "was last friday clean?", NYC, t, first="yes")

    # ---------------------------------------------------------------- unknowns
    k = "unknown"
    q(k, "did the payroll export run?", BER, near(1), first="unsure")
    q(k, "hat der SAP upload heute geklappt", BER, near(2), first="unsure")
    q(k, "how big was the rate file in MB last night", BER, near(3), first="unsure",
      about=[rates_now])
    q(k, "cpu usage of the forecast?", KOL, near(4), first="unsure")
    q(k, "what's the damage rate in this week's carrier scorecard", BER, near(0), first="unsure")
    q(k, "which carrier had the most overcharges on friday", ROM, near(1), first="unsure")
    q(k, "did the DHL label print job run tonight", BER, near(2), first="unsure")
    assert "version" not in monday.attributes
    q(k, "what version is the scorecard on", BER, near(3), first="unsure")
    q(k, "how much did the forecast run cost us yesterday", KOL, near(4), first="unsure")
    q(k, "fuel price import ok yesterday?", LON, near(0), first="unsure")

    # ---------------------------------------------------------------- ambiguous
    k = "ambiguous"
    q(k, "did the carrier job run today", BER, near(1), first="unsure",
      facts=[NAMES["carrier-rates-import"], NAMES["carrier-scorecard"]])
    q(k, "how long did the nightly job take", BER, near(2), first="unsure")
    q(k, "shipments job ok?", NYC, near(3), first="unsure",
      facts=[NAMES["tracking-sync"], NAMES["customs-export"]])
    q(k, "status of the tariff job?", BER, near(4), first="unsure",
      facts=[NAMES["carrier-rates-import"], NAMES["freight-audit"]])
    q(k, "did the hub job run ok", LON, near(0), first="unsure",
      facts=[NAMES["carrier-rates-import"], NAMES["tracking-sync"]])
    q(k, "the 6am job on monday, did it run?", LON, near(1), first="unsure",
      facts=[NAMES["demand-forecast"], NAMES["carrier-scorecard"]])
    q(k, "wann lief der carrier job zuletzt", BER, near(2), first="unsure",
      facts=[NAMES["carrier-rates-import"], NAMES["carrier-scorecard"]])
    q(k, "is the excel thing ready", ROM, near(3), first="unsure",
      facts=[NAMES["carrier-scorecard"], NAMES["freight-audit"]])


# ---------------------------------------------------------------------------------------------
# A second route to some facts: the raw events, no RunView


def cross_check() -> None:
    events = STORY["events"]
    # sync failures: finish events with status failed
    failed = [e for e in events if e["job"] == "tracking-sync" and e["kind"] == "finish"
              and e["status"] == "failed"]
    assert len(failed) == len([r for r in RUNS["tracking-sync"] if r.status == "failed"]) == 2
    # last night's parsed rates: the note's "skipped of lines" against the metric
    day = local(NOW, BER).date().isoformat()
    note = next(e for e in events if e["job"] == "carrier-rates-import" and e["kind"] == "note"
                and e["at"].startswith(day))
    skipped, lines = (int(x.replace(",", "")) for x in re.findall(r"[\d,]{3,}", note["text"])[:2])
    parsed = next(e["value"] for e in events if e["job"] == "carrier-rates-import"
                  and e["kind"] == "metric" and e["name"] == "rates_parsed" and e["at"].startswith(day))
    assert lines - skipped == parsed
    # the last published tariffs come from the last good rate import
    published = [e for e in events if e["job"] == "carrier-rates-import" and e["kind"] == "milestone"
                 and e["name"] == "tariffs-published"]
    assert published[-1]["run"] == good_runs("carrier-rates-import", NOW)[-1].key
    # audit yesterday: duration straight from the start and finish strings
    yday = (local(NOW, BER).date() - timedelta(days=1)).strftime("%Y%m%d")
    start = next(e["at"] for e in events if e["run"] == f"audit-{yday}" and e["kind"] == "start")
    end = next(e["at"] for e in events if e["run"] == f"audit-{yday}" and e["kind"] == "finish")
    assert (parse(end) - parse(start)).total_seconds() == run_on(
        "freight-audit", local(NOW, BER).date() - timedelta(days=1)).seconds
    # the next sync: four hours after the last start's minute
    last_start = max(parse(e["at"]) for e in events if e["job"] == "tracking-sync" and e["kind"] == "start")
    assert next_due("tracking-sync", NOW) == last_start.replace(second=0) + timedelta(hours=4)
    # customs: no event at all for New York's last weekday before now
    missed = last_due("customs-export", NOW)
    assert not [e for e in events if e["job"] == "customs-export" and parse(e["at"]) >= missed]
    # the forecast is the only run without a finish
    open_runs = {e["run"] for e in events} - {e["run"] for e in events if e["kind"] == "finish"}
    assert open_runs == {RUNS["demand-forecast"][-1].key}
    # a question whose facts carry last night's 212 forbids calling anything successful
    for item in QUESTIONS:
        assert parse(item["asked_at"]) <= NOW and item["split"] == "dev2"
        if any(str(parsed) in group for group in item["expect"]["facts"]):
            assert "successful" in item["expect"]["forbidden"], item["question"]


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
