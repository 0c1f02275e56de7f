"""Write questions.json: held-out questions about story.json, with facts read from the story.

Every fact below is looked up in story.json (start times, metrics, payloads, attributes …) and
rendered in the asker's time zone, so a change to the story cannot leave a stale answer
behind. Each question names its kind; the split is decided per kind by a hash of the id
(sorted by hash, alternating), so dev and test hold about half of every kind.

Usage: python tests/bot/heldout/make_questions.py   (after make_story.py)
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).parent
STORY = json.loads((HERE / "story.json").read_text(encoding="utf-8"))
NOW = datetime.fromisoformat(STORY["now"])

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
LONDON = "Europe/London"
KOLKATA = "Asia/Kolkata"

NOT_SUCCESS = ["successful", "successfully", "succeeded"]
NOT_SUCCESS_DE = [*NOT_SUCCESS, "erfolgreich"]


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@dataclass
class Run:
    job: str
    key: str
    start: datetime
    attributes: dict[str, Any]
    end: datetime | None = None
    status: str | None = None
    text: str | None = None
    milestones: list[tuple[str, str]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    payloads: dict[str, Any] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    progress: list[dict[str, Any]] = field(default_factory=list)

    @property
    def finished(self) -> datetime:
        assert self.end is not None, f"{self.key} has not finished"
        return self.end

    @property
    def seconds(self) -> float:
        assert self.end is not None, f"{self.key} has not finished"
        return (self.end - self.start).total_seconds()


def load_runs() -> dict[str, list[Run]]:
    runs: dict[tuple[str, str], Run] = {}
    for event in STORY["events"]:
        key = (event["job"], event["run"])
        at = parse(event["at"])
        kind = event["kind"]
        if kind == "start":
            runs[key] = Run(event["job"], event["run"], at, event.get("attributes", {}))
            continue
        run = runs[key]
        if kind == "finish":
            run.end, run.status, run.text = at, event["status"], event.get("text")
        elif kind == "milestone":
            run.milestones.append((event["name"], event.get("status", "reached")))
        elif kind == "metric":
            run.metrics[event["name"]] = event["value"]
        elif kind == "payload":
            run.payloads[event["name"]] = event["data"]
        elif kind == "duration":
            run.durations[event["name"]] = event["seconds"]
        elif kind == "note":
            run.notes.append(event["text"])
        elif kind == "progress":
            run.progress.append(event)
    by_job: dict[str, list[Run]] = defaultdict(list)
    for run in runs.values():
        by_job[run.job].append(run)
    for job_runs in by_job.values():
        job_runs.sort(key=lambda r: r.start)
    return by_job


RUNS = load_runs()


def on(job: str, day: int, tz: str = BERLIN) -> Run:
    """The one scheduled run of `job` that started on November `day` in zone `tz`."""
    found = [r for r in RUNS[job] if r.start.astimezone(ZoneInfo(tz)).date() == date(2026, 11, day)
             and r.attributes.get("trigger") != "manual"]
    assert len(found) == 1, (job, day, tz, [r.key for r in found])
    return found[0]


def last(job: str) -> Run:
    return RUNS[job][-1]


def last_finished(job: str) -> Run:
    return [r for r in RUNS[job] if r.end is not None][-1]


# --- renderings: every acceptable spelling of one fact --------------------------------------

def clock(moment: datetime, tz: str = BERLIN) -> list[str]:
    """"01:31" and "1:31"; afternoon times also as "7:31 pm"."""
    local = moment.astimezone(ZoneInfo(tz))
    hour, minute = local.hour, local.minute
    assert local.second < 30, f"{local} would round differently"
    alts = [f"{hour:02d}:{minute:02d}", f"{hour}:{minute:02d}"]
    if hour >= 12:
        twelve = hour - 12 or 12
        alts += [f"{twelve}:{minute:02d} pm", f"{twelve}:{minute:02d}pm", f"{twelve}:{minute:02d} p.m."]
    return list(dict.fromkeys(alts))


def clocks_between(first: datetime, last_: datetime, tz: str = BERLIN) -> list[str]:
    alts: list[str] = []
    moment = first
    while moment <= last_:
        alts += clock(moment.replace(second=0), tz)
        moment += timedelta(minutes=1)
    return alts


def num(value: float) -> list[str]:
    """8911 → "8911", "8,911", "8.911", "8 911"; 8.4 → "8.4", "8,4"."""
    if float(value).is_integer():
        n = int(value)
        grouped = f"{n:,}"
        return list(dict.fromkeys([str(n), grouped, grouped.replace(",", "."),
                                   grouped.replace(",", " ")]))
    text = f"{value:g}"
    return [text, text.replace(".", ",")]


def minutes_text(total_minutes: int) -> list[str]:
    hours, minutes = divmod(total_minutes, 60)
    if hours == 0:
        return [f"{minutes} min", f"{minutes}m", f"{minutes} minute"]
    return [f"{hours} h {minutes} min", f"{hours}h {minutes}m", f"{hours}h{minutes:02d}",
            f"{hours} h {minutes:02d}", f"{hours}h {minutes:02d}", f"{hours}:{minutes:02d}",
            f"{hours} hours {minutes} min", f"{hours} hours and {minutes} min",
            f"{hours} hour {minutes} min", f"{hours} hr {minutes} min", f"{hours} hrs {minutes} min",
            f"{hours} std {minutes} min", f"{hours} std. {minutes} min", f"{total_minutes} min"]


def dur(seconds: float, slack: int = 0) -> list[str]:
    """A duration as whole minutes (seconds part < 30, so floor and round agree), ± slack."""
    whole = int(seconds // 60)
    assert slack or seconds % 60 < 30, f"{seconds} s would round differently"
    alts: list[str] = []
    for minutes in range(whole - slack, whole + slack + 1):
        alts += minutes_text(minutes)
    if seconds < 120:
        alts += [f"{int(seconds)} s", f"{int(seconds)} seconds", f"{int(seconds)} sec"]
    return alts


def usual_seconds(job: str) -> float:
    """Median duration of the job's complete successful runs."""
    return median(r.seconds for r in RUNS[job]
                  if r.status == "succeeded" and len(r.milestones) >= 3)


ONCE = ["once", "1 time", "one time", "1 failure", "one failure", "1 of", "one of", "1 failed",
        "one failed", "1 run", "one run", "1x", "einmal", "1 mal", "1 fehl"]
TWICE = ["twice", "2 times", "two times", "2 failures", "two failures", "2 failed", "two failed",
         "2 runs", "two runs", "2x", "zweimal", "2 mal", "2 fehl"]


def count(n: int) -> list[str]:
    words = {2: "two", 5: "five", 6: "six"}
    alts = [f"{n} runs", f"{n} times", f"{n} ran", f"{n} mal", f"{n}x", f"ran {n}",
            f"{n} scheduled", f"{n} successful", f"{n} completed", f"{n} of", f"{n} tracking",
            f"{n} customs", f"{n} rate", f"{n} scorecard"]
    if n in words:
        alts += [f"{words[n]} runs", f"{words[n]} times", f"{words[n]} of", f"ran {words[n]}"]
    if n == 2:
        alts += ["twice", "zweimal"]
    return alts


NOT_STARTED = ["did not start", "didn't start", "didn’t start", "not started", "never started",
               "hasn't started", "has not started", "no run", "did not run", "didn't run",
               "not run", "missing", "nicht gestartet", "nicht gelaufen", "kein lauf"]
ENDED_EARLY = ["early", "stopped", "did not reach", "didn't reach", "never reached", "not reach",
               "incomplete", "only 212", "abgebrochen", "früh"]

RATES = ["rate import", "rates import", "carrier rate", "frachtraten", "tariff load"]
AUDIT = ["audit", "rechnungsprüfung", "overcharge check"]
CUSTOMS = ["customs", "zoll", "ace filing", "cbp"]
TRACKING = ["tracking", "trackhub", "sendungsverfolgung"]
FORECAST = ["forecast", "palettenprognose"]
SCORECARD = ["scorecard", "kpi report", "weekly report"]


# --- the questions ----------------------------------------------------------------------------

QUESTIONS: list[dict[str, Any]] = []


def q(kind: str, question: str, first: str | None, facts: list[list[str]],
      forbidden: list[str] | None = None, tz: str = BERLIN) -> None:
    for group in facts:
        assert group, question
    QUESTIONS.append({"kind": kind, "question": question, "asked_at": STORY["now"], "tz": tz,
                      "expect": {"first": first, "facts": facts, "forbidden": forbidden or []}})


bad_rates = on("carrier-rates-import", 24)
bad_audit = on("freight-audit", 24)
forecast_now = last("demand-forecast")
assert forecast_now.end is None
progress_done = int(forecast_now.progress[-1]["done"])
progress_total = int(forecast_now.progress[-1]["total"])
customs_due = datetime(2026, 11, 23, 22, 15, tzinfo=ZoneInfo(NEW_YORK))
customs_last = last("customs-export")
assert not [r for r in RUNS["customs-export"] if r.start > datetime(2026, 11, 23, tzinfo=ZoneInfo(NEW_YORK))]
audit_18 = on("freight-audit", 18)
audit_rerun = next(r for r in RUNS["freight-audit"] if r.key.endswith("rerun"))
track_fail_23 = next(r for r in RUNS["tracking-sync"] if r.status == "failed"
                     and r.start.date() == date(2026, 11, 23))
track_fail_19 = next(r for r in RUNS["tracking-sync"] if r.status == "failed"
                     and r.start.date() == date(2026, 11, 19))
track_last = last_finished("tracking-sync")

# did it run / yes-no status
q("did_it_run", "did the rate import go thru ok last night?", "no", [ENDED_EARLY], NOT_SUCCESS)
q("did_it_run", "has the freight audit run today", "no", [["failed", "fail", "error"]])
q("did_it_run", "did the customs export run last night?", "no", [NOT_STARTED], tz=NEW_YORK)
q("did_it_run", "is the forecast done yet", "no", [["running", str(progress_done)]])
q("did_it_run", "is the palettenprognose still running?", "yes",
  [[str(progress_done), "59%", "59 %"]])
q("did_it_run", "did the tracking sync run this morning", "yes",
  [clock(track_last.start) + clock(RUNS["tracking-sync"][-2].start)])
q("did_it_run", "did the scorecard go out yesterday", "yes",
  [clock(on("carrier-scorecard", 23).start) + clock(on("carrier-scorecard", 23).finished)])
q("did_it_run", "did ace filing go out friday night?", "yes",
  [clock(on("customs-export", 20, NEW_YORK).start, NEW_YORK)], tz=NEW_YORK)
q("did_it_run", "did the audit run ok on the 18th", None,
  [["failed", "fail"], ["rerun", "re-run", "manual", "second run", *clock(audit_rerun.start)]])
q("did_it_run", "was the rates import ok on sunday", "yes",
  [clock(on("carrier-rates-import", 22).start) + clock(on("carrier-rates-import", 22).finished)])
q("did_it_run", "did anything fail over the weekend", "no", [])
q("did_it_run", "did the tracking sync fail on monday?", "yes",
  [clock(track_fail_23.start) + clock(track_fail_23.finished), ["token", "401", "oauth"]])
q("did_it_run", "did the audit rerun on the 18th work", "yes",
  [clock(audit_rerun.start) + clock(audit_rerun.finished)])
q("did_it_run", "is the audit running rn", "no", [["failed", "fail", *clock(bad_audit.finished)]])
q("did_it_run", "is teh tracking sync running at the moment", "no",
  [clock(track_last.start) + clock(track_last.finished)])
q("did_it_run", "has the zollexport started yet", "no", [NOT_STARTED])
q("did_it_run", "did the forecast start on time today", "yes", [clock(forecast_now.start)])
q("did_it_run", "did the rate import hit tariffs-published last night", "no",
  [["rates-validated", "rates validated"]], NOT_SUCCESS)
q("did_it_run", "was the rate file ok last night", "no", [["212", *num(18094)]])
q("did_it_run", "lief der export heute nacht?", "no", [NOT_STARTED])
q("did_it_run", "hat der tracking sync am montag irgendwann gefailt?", "yes",
  [clock(track_fail_23.start) + clock(track_fail_23.finished)])

# what happened / why
q("what_happened", "why did the audit fail last night", None,
  [["tariff"], num(1847)])
q("what_happened", "what happened with the freight audit on the 18th?", None,
  [["sftp", "timed out", "timeout"]])
q("what_happened", "why did tracking sync blow up on monday", None, [["token", "401", "oauth"]])
q("what_happened", "what went wrong w/ the tracking sync on thursday the 19th", None,
  [["503", "unavailable"]])
q("what_happened", "what happened to the rate import last night", None,
  [["212"], ["rates-validated", "rates validated", "tariffs-published", "tariffs published", *ENDED_EARLY]],
  NOT_SUCCESS)
q("what_happened", "where did the rates import stop last night?", None,
  [["rates-validated", "rates validated"]], NOT_SUCCESS)
q("what_happened", "any warnings in the rate import last night", None,
  [["delimiter", "11 columns", "';'", *num(18094)]])
q("what_happened", "what error did the audit log this morning", None,
  [["no tariff", "tariff table", *num(1847)]])
q("what_happened", "warum ist das audit heute nacht abgebrochen?", None,
  [["tariff", "tarif"], num(1847)])
q("what_happened", "whats the last milestone the freight audit got to last night", None,
  [["invoices-loaded", "invoices loaded", "tariffs-matched", "tariffs matched"]])
q("what_happened", "what did the rate import warn about on the 17th?", None,
  [["baltic express"], ["fuel surcharge"]])
q("what_happened", "why were filings rejected in the customs run on the 19th", None,
  [["hts"]], tz=NEW_YORK)
q("what_happened", "did the rate import finish last night or did it crash", None,
  [ENDED_EARLY], NOT_SUCCESS)
q("what_happened", "the rates job says succeeded, did it actually load everything?", "no",
  [["212"]], ["successful", "successfully"])
q("what_happened", "hat der frachtraten import heute nacht geklappt?", "no",
  [["212", "rates-validated", "rates validated", *ENDED_EARLY]], NOT_SUCCESS_DE)
q("what_happened", "when did the rate import finish last night", None, [clock(bad_rates.finished)],
  NOT_SUCCESS)

# did not start
q("not_started", "why didnt the customs export start?", None, [NOT_STARTED])
q("not_started", "when did the customs export last run", None,
  [clock(customs_last.start), ["21", "saturday", "sat", "samstag"]])
q("not_started", "when did the customs run last go out?", None,
  [clock(customs_last.start, NEW_YORK), ["20", "friday", "fri"]], tz=NEW_YORK)
q("not_started", "was the ace filing late last night", "yes", [NOT_STARTED])
q("not_started", "wann lief der zollexport zuletzt?", None,
  [clock(customs_last.start), ["21", "samstag", "saturday", "sa."]])

# still running / progress
q("running", "how far along is the forecast", None, [[str(progress_done)], [str(progress_total)]])
q("running", "when will the forecast be done?", None,
  [clocks_between(datetime(2026, 11, 24, 8, 30, tzinfo=ZoneInfo("UTC")),
                  datetime(2026, 11, 24, 8, 59, tzinfo=ZoneInfo("UTC")))])
q("running", "when did today's forecast kick off", None, [clock(forecast_now.start, KOLKATA)],
  tz=KOLKATA)
q("running", "which stage is the demand forecast in right now", None, [["forecasting"]])
q("running", "how many warehouses has the forecast done so far", None, [[str(progress_done)]])
q("running", "ist der forecast schon fertig?", "no", [[str(progress_done), "läuft", "running"]])
q("running", "is the forecast running late?", "no", [])
q("running", "how long has the forecast been running", None,
  [minutes_text(int((NOW - forecast_now.start).total_seconds() // 60))
   + minutes_text(int((NOW - forecast_now.start).total_seconds() // 60) + 1)])

# counting
q("counting", "how many times did the audit fail this week", None, [ONCE])
q("counting", "how many times did the freight audit fail in the last 2 weeks", None, [TWICE])
q("counting", "how often did tracking sync fail this week?", None, [ONCE])
q("counting", "how many tracking sync runs failed since the 15th", None, [TWICE])
q("counting", "how many tracking runs were there yesterday", None, [count(6)])
q("counting", "how many times did the customs export run last week", None, [count(5)])
q("counting", "how many times has the rate import run this week", None, [count(2)])
q("counting", "wie oft ist der tracking sync diese woche fehlgeschlagen?", None, [ONCE])
q("counting", "how many times has the scorecard run so far", None, [count(2)])

# lists
q("lists", "what failed last night?", None, [AUDIT])
q("lists", "what failed yesterday", None, [TRACKING])
q("lists", "what broke on the 18th", None, [AUDIT])
q("lists", "which jobs failed on the 19th?", None, [TRACKING])
q("lists", "what jobs do you know", None, [RATES, AUDIT, CUSTOMS, TRACKING, FORECAST, SCORECARD])
q("lists", "whats running right now", None, [FORECAST])
q("lists", "what ran last night", None, [RATES, AUDIT])
q("lists", "is anything broken?", "yes", [AUDIT, CUSTOMS, RATES])
q("lists", "status of everything pls", None, [AUDIT, CUSTOMS, RATES])
q("lists", "which jobs ran on sunday", None, [RATES, AUDIT, TRACKING, FORECAST])
q("lists", "was ist heute nacht schiefgelaufen?", None, [AUDIT, CUSTOMS, RATES])

# lateness
q("lateness", "anything late?", "yes", [CUSTOMS, RATES])
q("lateness", "how far behind is the customs export", None,
  [clock(customs_due) + clock(customs_due + timedelta(minutes=45))
   + minutes_text(int((NOW - customs_due).total_seconds() // 60))
   + minutes_text(int((NOW - customs_due).total_seconds() // 60) - 45)])
q("lateness", "is the rates import late", "yes",
  [["tariffs-published", "tariffs published", *clock(datetime(2026, 11, 24, 4, 0, tzinfo=ZoneInfo(BERLIN)))]],
  NOT_SUCCESS)
q("lateness", "is the tracking sync late?", "no",
  [clock(track_last.start) + clock(datetime(2026, 11, 24, 8, 5, tzinfo=ZoneInfo("UTC")))])
q("lateness", "is the forecast behind schedule", "no", [])
q("lateness", "ist irgendwas verspätet?", "yes", [CUSTOMS, RATES])
q("lateness", "whats overdue right now", None, [CUSTOMS, RATES])
q("lateness", "was the forecast late on friday", "no", [clock(on("demand-forecast", 20).finished)])
q("lateness", "how late is the ace filing", None,
  [clock(customs_due, NEW_YORK) + clock(customs_due + timedelta(minutes=45), NEW_YORK)], tz=NEW_YORK)

# owners
OWNERS = {j: d["owner"] for j, d in STORY["jobs"].items()}
q("owner", "who owns the rate import", None, [[OWNERS["carrier-rates-import"]]])
q("owner", "who do i ping about the freight audit", None, [[OWNERS["freight-audit"]]])
q("owner", "whos the owner of the customs run", None, [[OWNERS["customs-export"]]], tz=NEW_YORK)
q("owner", "wer ist owner vom forecast?", None, [[OWNERS["demand-forecast"]]])
q("owner", "who is responsible for the overcharge check", None, [[OWNERS["freight-audit"]]])
q("owner", "whos the contact for palettenprognose", None, [[OWNERS["demand-forecast"]]])
q("owner", "who should i talk to about the tariff load failing", None,
  [[OWNERS["carrier-rates-import"]]])

# schedule / next run
next_customs = datetime(2026, 11, 24, 22, 15, tzinfo=ZoneInfo(NEW_YORK))
q("schedule", "when does the rate import run next", None,
  [clock(datetime(2026, 11, 25, 1, 30, tzinfo=ZoneInfo(BERLIN)))])
q("schedule", "when's the next customs export", None, [clock(next_customs)])
q("schedule", "when does the ace filing run tonight", None, [clock(next_customs, NEW_YORK)],
  tz=NEW_YORK)
q("schedule", "when does the scorecard run next?", None,
  [[*clock(datetime(2026, 11, 30, 7, 0, tzinfo=ZoneInfo(BERLIN))), "7 am", "7am"],
   ["monday", "mon", "30", "montag"]])
q("schedule", "when is the next tracking sync", None,
  [clock(datetime(2026, 11, 24, 8, 5, tzinfo=ZoneInfo("UTC")))])
q("schedule", "what time does the freight audit run", None,
  [[*clock(datetime(2026, 11, 25, 4, 0, tzinfo=ZoneInfo(BERLIN)), LONDON), "3 am", "3am"]],
  tz=LONDON)
q("schedule", "what time does the rate import kick off in my time", None,
  [clock(datetime(2026, 11, 25, 1, 30, tzinfo=ZoneInfo(BERLIN)), NEW_YORK)], tz=NEW_YORK)
q("schedule", "wann läuft die scorecard als nächstes?", None,
  [clock(datetime(2026, 11, 30, 7, 0, tzinfo=ZoneInfo(BERLIN))), ["montag", "monday", "mo", "30"]])
q("schedule", "how often does the tracking sync run", None,
  [["4 hours", "four hours", "4 h", "4h", "every 4", "alle 4", "6 times", "six times"]])
q("schedule", "does the customs export run on weekends", "no",
  [["weekday", "monday", "mon–fri", "mon-fri", "montag", "werktag"]])
q("schedule", "when is the forecast supposed to be published", None,
  [clock(datetime(2026, 11, 24, 9, 30, tzinfo=ZoneInfo("UTC")))])
q("schedule", "what time does the forecast run every day", None,
  [clock(datetime(2026, 11, 25, 6, 0, tzinfo=ZoneInfo("UTC")), KOLKATA)], tz=KOLKATA)

# attributes
q("attributes", "which server ran the rate import last night", None,
  [[bad_rates.attributes["host"]]], NOT_SUCCESS)
q("attributes", "what version was the rate import on on the 18th", None,
  [[on("carrier-rates-import", 18).attributes["version"]]])
q("attributes", "what version did the rates import run last night", None,
  [[bad_rates.attributes["version"]]])
q("attributes", "which host did the audit run on saturday", None,
  [[on("freight-audit", 21).attributes["host"]]])
q("attributes", "what triggered the audit rerun on the 18th", None,
  [[audit_rerun.attributes["trigger"]]])
q("attributes", "who kicked off the second audit run on the 18th?", None,
  [[audit_rerun.attributes["user"], "esposito"]])
q("attributes", "what version is the forecast on", None, [[forecast_now.attributes["version"]]])
q("attributes", "when did the forecast switch to 0.9.3", None,
  [["19", "thursday", "thu", "donnerstag"]])
q("attributes", "which machine does the ace filing run on", None,
  [[customs_last.attributes["host"]]], tz=NEW_YORK)
q("attributes", "how was the forecast triggered this morning", None,
  [[forecast_now.attributes["trigger"]]])
q("attributes", "auf welchem server lief der import heute nacht?", None,
  [[bad_rates.attributes["host"]]])
q("attributes", "which version of the customs export ran on friday", None,
  [[on("customs-export", 20, NEW_YORK).attributes["version"]]], tz=NEW_YORK)
q("attributes", "welche version hatte der forecast heute morgen?", None,
  [[forecast_now.attributes["version"]]])
q("attributes", "which host ran the audit last night", None, [[bad_audit.attributes["host"]]])
q("attributes", "what version was tracking sync running last time", None,
  [[track_last.attributes["version"]]])

# payloads
q("payload", "which file did the rate import read last night", None,
  [[Path(bad_rates.payloads["input-file"]["path"]).name]])
q("payload", "which vendor sends the rate file", None,
  [[bad_rates.payloads["input-file"]["vendor"]]])
q("payload", "what invoice batch did the audit check on the 20th", None,
  [[on("freight-audit", 20).payloads["input"]["batch"]]])
q("payload", "where did the scorecard get saved yesterday", None,
  [[Path(on("carrier-scorecard", 23).payloads["output"]["file"]).name]])
q("payload", "how many tabs does the scorecard workbook have", None,
  [[str(on("carrier-scorecard", 23).payloads["output"]["tabs"]), "seven"]])
q("payload", "which port did the customs export file for on thursday", None,
  [[on("customs-export", 19, NEW_YORK).payloads["output"]["port"]]], tz=NEW_YORK)
q("payload", "which dataset does the forecast read from", None,
  [[forecast_now.payloads["input"]["dataset"]]])
q("payload", "where does the forecast write its output", None,
  [[on("demand-forecast", 23).payloads["output"]["table"]]])
q("payload", "what file did the audit produce on sunday", None,
  [[Path(on("freight-audit", 22).payloads["output"]["file"]).name]])
q("payload", "welche datei hat der rate import am montag gelesen?", None,
  [[Path(on("carrier-rates-import", 23).payloads["input-file"]["path"]).name]])
q("payload", "which folder did the audit read invoices from last night", None,
  [[bad_audit.payloads["input"]["path"], bad_audit.payloads["input"]["path"].rstrip("/")]])
q("payload", "what xml file did the customs export write on wednesday", None,
  [[Path(on("customs-export", 18, NEW_YORK).payloads["output"]["file"]).name]], tz=NEW_YORK)
q("payload", "how many carriers are in the freighthub rate file", None,
  [num(bad_rates.payloads["input-file"]["carriers"])])
q("payload", "which api does the tracking sync pull from", None, [["trackhub"]])
q("payload", "which sharepoint folder does the scorecard go to", None,
  [[on("carrier-scorecard", 23).payloads["output"]["sharepoint"]]])
q("payload", "what table did the rate import write to on the 22nd", None,
  [[on("carrier-rates-import", 22).payloads["output"]["table"]]])

# metrics
q("metrics", "how many rates did we load last night", None,
  [num(bad_rates.metrics["rates_parsed"])], NOT_SUCCESS)
q("metrics", "how many rows were rejected in the rate import last night", None,
  [num(bad_rates.metrics["rates_rejected"])])
q("metrics", "was last night's rate count normal?", "no", [num(bad_rates.metrics["rates_parsed"])])
q("metrics", "how much overcharge did the audit find on the 20th", None,
  [num(on("freight-audit", 20).metrics["overcharge_eur"])])
q("metrics", "what was the forecast error yesterday", None,
  [num(on("demand-forecast", 23).metrics["forecast_mape"])])
q("metrics", "how many filings did customs submit on friday", None,
  [num(on("customs-export", 20, NEW_YORK).metrics["filings_submitted"])], tz=NEW_YORK)
q("metrics", "how many shipments did the last tracking sync update", None,
  [num(track_last.metrics["shipments_updated"])])
q("metrics", "was the rejected-rows count in the rate import normal on the 17th", "yes",
  [num(on("carrier-rates-import", 17).metrics["rates_rejected"])])
q("metrics", "how many invoices did the audit check yesterday", None,
  [num(on("freight-audit", 23).metrics["invoices_checked"])])
q("metrics", "wie viele rechnungen hat das audit am 20. geprüft?", None,
  [num(on("freight-audit", 20).metrics["invoices_checked"])])
q("metrics", "what was the on-time rate in the latest carrier scorecard", None,
  [num(on("carrier-scorecard", 23).metrics["on_time_pct"])])
q("metrics", "how many overcharged invoices did the audit find on monday", None,
  [num(on("freight-audit", 23).metrics["overcharges_found"])])
q("metrics", "how many api errors did the tracking sync have in its last run", None,
  [num(track_last.metrics["api_errors"])])
q("metrics", "wie viele raten wurden heute nacht importiert?", None,
  [num(bad_rates.metrics["rates_parsed"])], NOT_SUCCESS_DE)
q("metrics", "how many filings got rejected on the 19th", None,
  [[*num(on("customs-export", 19, NEW_YORK).metrics["filings_rejected"]), "two"]], tz=NEW_YORK)
q("metrics", "what was the forecast mape on the 20th", None,
  [num(on("demand-forecast", 20).metrics["forecast_mape"])])

# durations
q("durations", "how long did the rate import take on sunday", None,
  [dur(on("carrier-rates-import", 22).seconds)])
q("durations", "how long does the rate import usually take", None,
  [dur(usual_seconds("carrier-rates-import"), slack=1)])
q("durations", "how long did the forecast take yesterday", None,
  [dur(on("demand-forecast", 23).seconds)])
q("durations", "how long did the db load take in the rate import on the 20th", None,
  [dur(on("carrier-rates-import", 20).durations["db-load"])])
q("durations", "wie lange hat das audit am sonntag gedauert?", None,
  [dur(on("freight-audit", 22).seconds)])
q("durations", "how long was the customs export on friday", None,
  [dur(on("customs-export", 20, NEW_YORK).seconds)], tz=NEW_YORK)
q("durations", "how long did the failed tracking sync on monday take", None,
  [dur(track_fail_23.seconds)])
q("durations", "how long does the customs export usually take", None,
  [dur(usual_seconds("customs-export"), slack=1)], tz=NEW_YORK)
q("durations", "how long did the scorecard take yesterday", None,
  [dur(on("carrier-scorecard", 23).seconds)])
q("durations", "how long did the rate import run last night", None, [dur(bad_rates.seconds)],
  NOT_SUCCESS)
q("durations", "how long did the audit run before it failed last night", None,
  [dur(bad_audit.seconds)])

# comparisons
r20, r21 = on("carrier-rates-import", 20), on("carrier-rates-import", 21)
assert r20.metrics["rates_parsed"] > r21.metrics["rates_parsed"]
q("compare", "did the rate import load more rates on the 20th or the 21st?", None,
  [num(r20.metrics["rates_parsed"]), num(r21.metrics["rates_parsed"])])
a22, a23 = on("freight-audit", 22), on("freight-audit", 23)
assert a23.seconds < a22.seconds
q("compare", "was the audit faster on monday than on sunday", "yes",
  [dur(a23.seconds), dur(a22.seconds)])
q("compare", "compare the overcharge found on the 22nd vs the 23rd", None,
  [num(a22.metrics["overcharge_eur"]), num(a23.metrics["overcharge_eur"])])
q("compare", "was last night's rate count lower than the night before", "yes",
  [num(bad_rates.metrics["rates_parsed"]),
   num(on("carrier-rates-import", 23).metrics["rates_parsed"])])
f22, f23 = on("demand-forecast", 22), on("demand-forecast", 23)
assert f23.seconds > f22.seconds
q("compare", "did the forecast take longer yesterday than on sunday", "yes",
  [dur(f23.seconds), dur(f22.seconds)])
c19, c20 = on("customs-export", 19, NEW_YORK), on("customs-export", 20, NEW_YORK)
assert c20.metrics["filings_submitted"] > c19.metrics["filings_submitted"]
q("compare", "more customs filings on friday or thursday?", None,
  [num(c20.metrics["filings_submitted"]), num(c19.metrics["filings_submitted"])], tz=NEW_YORK)
s16, s23 = on("carrier-scorecard", 16), on("carrier-scorecard", 23)
q("compare", "on-time % in the scorecard this week vs last week?", None,
  [num(s23.metrics["on_time_pct"]), num(s16.metrics["on_time_pct"])])

# overall
q("overall", "did everything go ok last night?", "no", [AUDIT, RATES, CUSTOMS])
q("overall", "all good this morning?", "no", [AUDIT])
q("overall", "lief alles glatt letzte nacht?", "no", [AUDIT, RATES, CUSTOMS])
q("overall", "quick status check pls, anything i need to worry about?", "yes", [AUDIT, CUSTOMS])

# not stored: the honest answer is "I don't know"
q("unknown", "who owns tracking sync", "unsure", [])
q("unknown", "wer ist zuständig für die scorecard?", "unsure", [])
q("unknown", "who owns the kpi report", "unsure", [])
q("unknown", "which server did the tracking sync run on last", "unsure", [])
q("unknown", "what version is the scorecard on", "unsure", [])
q("unknown", "did the payroll export run last night?", "unsure", [])
q("unknown", "how big was the rate file last night in MB", "unsure", [])
q("unknown", "how many trucks left the hamburg depot yesterday", "unsure", [])
q("unknown", "whats katrin vogels phone number", "unsure", [])
q("unknown", "who changed the freighthub file format", "unsure", [])
q("unknown", "which git commit was the audit built from last night", "unsure", [])
q("unknown", "did the label printing job run this morning?", "unsure", [])


def second_batch() -> None:
    """More phrasings of the same kinds: nicknames, typos, other askers."""
    q("did_it_run", "did teh rates run last nite", "no", [ENDED_EARLY], NOT_SUCCESS)
    q("did_it_run", "did the overcharge check run ok yesterday", "yes",
      [clock(a23.start) + clock(a23.finished)])
    q("did_it_run", "has the tariff load finished today", "no", [ENDED_EARLY], NOT_SUCCESS)
    q("did_it_run", "did the kpi report run this week", "yes", [clock(s23.start)])
    q("did_it_run", "did the cbp filings go out on wednesday?", "yes",
      [clock(on("customs-export", 18, NEW_YORK).start, NEW_YORK)], tz=NEW_YORK)
    q("what_happened", "what did the audit say when it failed on the 18th", None,
      [["sftp", "timed out", "timeout", "connection"]])
    q("what_happened", "whats up with the invoice audit", None, [["failed", "fail"], ["tariff"]])
    q("what_happened", "why did the sync fail on the 19th?", None, [["503", "unavailable"]])
    q("not_started", "is the customs export running?", "no", [NOT_STARTED])
    q("not_started", "did the zollexport start on monday night?", "no", [NOT_STARTED],
      tz=NEW_YORK)
    q("running", "how much of the palettenprognose is done", None,
      [[str(progress_done)], [str(progress_total)]])
    q("running", "what time did the forecast start today", None, [clock(forecast_now.start)])
    q("counting", "how many times did the forecast fail this month?", None,
      [["0", "none", "no failed", "not fail", "zero", "never", "no fail", "didn't fail",
        "did not fail", "hasn't failed", "has not failed"]])
    q("counting", "how many audit runs were there on the 18th", None, [count(2)])
    q("lists", "which jobs had errors this week", None, [AUDIT, TRACKING])
    q("lists", "what failed on monday", None, [TRACKING])
    q("lateness", "is anything behind right now?", "yes", [CUSTOMS])
    q("lateness", "is the audit late", None, [["failed", "fail", "disputes-filed", "disputes filed"]])
    q("owner", "who's in charge of the tracking sync", "unsure", [])
    q("owner", "who owns the customs export", None, [[OWNERS["customs-export"]]])
    q("schedule", "when does the overcharge check run", None,
      [clock(datetime(2026, 11, 25, 4, 0, tzinfo=ZoneInfo(BERLIN)))])
    q("schedule", "when is the next forecast", None,
      [clock(datetime(2026, 11, 25, 6, 0, tzinfo=ZoneInfo("UTC")))])
    q("attributes", "which server ran the overcharge check on the 20th", None,
      [[on("freight-audit", 20).attributes["host"]]])
    q("attributes", "which gpu box does the forecast run on", None,
      [[forecast_now.attributes["host"]]])
    q("payload", "which file did the tariff load read on the 21st", None,
      [[Path(r21.payloads["input-file"]["path"]).name]])
    q("payload", "which batch did the overcharge check work on last night", None,
      [[bad_audit.payloads["input"]["batch"]]])
    q("metrics", "how many rates were parsed on monday", None,
      [num(on("carrier-rates-import", 23).metrics["rates_parsed"])])
    q("metrics", "how many shipments did the tracking sync update on monday at 17:05", None,
      [["failed", "fail", "none", "no shipments", "0"]])
    q("durations", "how long did the audit take on the 20th", None,
      [dur(on("freight-audit", 20).seconds)])
    q("durations", "how long did the db load take on sunday", None,
      [dur(on("carrier-rates-import", 22).durations["db-load"])])
    r13, r16 = on("carrier-rates-import", 13), on("carrier-rates-import", 16)
    assert r16.seconds // 60 > r13.seconds // 60
    q("compare", "was the rate import slower on the 16th than on the 13th?", "yes",
      [dur(r16.seconds), dur(r13.seconds)])
    q("compare", "did the audit find more overcharges on the 19th or the 20th?", None,
      [num(on("freight-audit", 19).metrics["overcharge_eur"]),
       num(on("freight-audit", 20).metrics["overcharge_eur"])])
    q("overall", "did all the nightly jobs run?", "no", [CUSTOMS])
    q("durations", "wie lange dauert der frachtraten import normalerweise?", None,
      [dur(usual_seconds("carrier-rates-import"), slack=1)])
    q("payload", "welcher lieferant schickt die frachtraten datei?", None,
      [[bad_rates.payloads["input-file"]["vendor"]]])
    q("running", "wann ist der forecast fertig?", None,
      [clocks_between(datetime(2026, 11, 24, 8, 30, tzinfo=ZoneInfo("UTC")),
                      datetime(2026, 11, 24, 8, 59, tzinfo=ZoneInfo("UTC")))])
    q("not_started", "lief der export gestern?", "no", [NOT_STARTED], tz=NEW_YORK)


second_batch()


def assign_ids_and_splits(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ids in order; per kind, sorted by sha256(id), alternately dev and test."""
    for index, item in enumerate(items, start=1):
        item["id"] = f"q{index:03d}"
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_kind[item["kind"]].append(item)
    position = 0  # runs on across kinds, so odd-sized kinds do not all favour one split
    for kind in sorted(by_kind):
        group = sorted(by_kind[kind], key=lambda item: hashlib.sha256(item["id"].encode()).hexdigest())
        for item in group:
            item["split"] = "dev" if position % 2 == 0 else "test"
            position += 1
    order = ["id", "split", "kind", "question", "asked_at", "tz", "expect"]
    return [{key: item[key] for key in order} for item in items]


def main() -> None:
    items = assign_ids_and_splits(QUESTIONS)
    out = HERE / "questions.json"
    out.write_text(json.dumps(items, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out} with {len(items)} questions")


if __name__ == "__main__":
    main()
