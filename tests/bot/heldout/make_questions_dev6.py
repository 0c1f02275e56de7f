# ruff: noqa: E501 - questions and their facts read best one per line
"""Write questions_dev6.json: a sixth, independent set of development questions ("dev6") over
the Nordwind Logistik story in story.json.

Written without reading the engine, in the style and with the mix of kinds of the `dev`
questions (short Teams messages, mostly from Hamburg, some from the customs desk in New York and
a few from Kolkata or Singapore, a little German, the odd typo). None repeats a question of
`dev`, `dev2`, `dev3`, `dev4` or `dev5`. Every fact is read from the story by code, with the
helpers of make_questions_dev5.py (imported, not copied); relative days are resolved in the
asker's own zone, and every question is asked at the story's `now`, written with the asker's
own UTC offset.

Usage: python tests/bot/heldout/make_questions_dev6.py   (writes questions_dev6.json)
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_questions_dev5 import (
    BER,
    JOBS,
    KOL,
    NAMES,
    NOT_STARTED,
    NOW,
    NYC,
    RUNS,
    SGP,
    STORY,
    SUCCESS_WORDS,
    RunView,
    back_to,
    bad,
    clock,
    clocks,
    count_words,
    day_bounds,
    day_words,
    due_moments,
    dur,
    file_name,
    good_runs,
    local,
    next_due,
    num,
    parse,
    run_at,
    run_on,
    runs_on,
    span,
    stamp,
    usual_durations,
    week_start,
)

HERE = Path(__file__).resolve().parent
OUT = HERE / "questions_dev6.json"
QUESTIONS: list[dict[str, Any]] = []
MONDAY = ["monday", "montag", "mondays", "montags", "mon"]


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
        "id": f"w{len(QUESTIONS) + 1:03d}",
        "split": "dev6",
        "kind": kind,
        "question": question,
        "asked_at": stamp(NOW, tz),
        "tz": tz,
        "expect": {"first": first, "facts": groups, "forbidden": banned},
    })


def seconds_words(seconds: float) -> list[str]:
    s = int(seconds)
    return [f"{s} s", f"{s}s", f"{s} sec", f"{s} seconds", f"{s} sekunden"]


def total_words(runs: list[RunView], name: str) -> list[str]:
    return num(int(sum(r.metric(name) or 0 for r in runs)))


def build() -> None:
    today = local(NOW, BER).date()
    yesterday = today - timedelta(days=1)
    assert local(NOW, NYC).date() == today and local(NOW, KOL).date() == today
    assert local(NOW, SGP).date() == today

    rates = {r.local_day(): r for r in RUNS["carrier-rates-import"]}
    rates_now = rates[today]
    audit_now = run_on("freight-audit", today)
    forecast_now = RUNS["demand-forecast"][-1]
    assert forecast_now.status is None
    syncs = RUNS["tracking-sync"]
    sync_503, sync_oauth = [r for r in syncs if r.status == "failed"]
    customs = RUNS["customs-export"]
    assert bad(rates_now) and audit_now.status == "failed"
    a18_first, a18_rerun = runs_on("freight-audit", date(2026, 11, 18))
    assert a18_first.status == "failed" and not bad(a18_rerun)
    sat, sun, fri, thu = (back_to(d, BER) for d in (5, 6, 4, 3))
    assert (sat, sun, fri, thu) == (date(2026, 11, 21), date(2026, 11, 22), date(2026, 11, 20),
                                    date(2026, 11, 19))
    assert back_to(0, BER) == yesterday and back_to(0, NYC) == yesterday

    def audit_day(day: date) -> RunView:
        return run_on("freight-audit", day)

    def ace(day: date) -> RunView:
        return run_on("customs-export", day, NYC)

    def fc(day: date, zone: str = BER) -> RunView:
        return run_on("demand-forecast", day, zone)

    def sync_at(day: date, hour: int, minute: int, zone: str = BER) -> RunView:
        return run_at("tracking-sync", datetime.combine(day, time(hour, minute), ZoneInfo(zone)))

    def when(run: RunView, zone: str = BER) -> list[str]:
        assert run.end is not None, run.key
        return clocks(run.start, run.end, zone=zone)

    def ok(run: RunView) -> RunView:
        assert run.status == "succeeded" and not bad(run), run.key
        return run

    # ================================================================ did it run
    k = "did_it_run"
    r11 = ok(rates[date(2026, 11, 11)])
    q(k, "did the frachtraten import run on the 11th?", BER, first="yes", facts=[when(r11)], about=[r11])
    a17 = ok(audit_day(date(2026, 11, 17)))
    q(k, "invoice audit tuesday the 17th - did it go through?", BER, first="yes", facts=[when(a17)], about=[a17])
    assert not runs_on("customs-export", date(2026, 11, 14), NYC)
    q(k, "did customs run on saturday the 14th?", NYC, first="no")
    s_sat1705 = ok(sync_at(sat, 17, 5))
    q(k, "did the 17:05 sync run on saturday", BER, first="yes", facts=[when(s_sat1705)], about=[s_sat1705])
    s_mon1305 = ok(sync_at(yesterday, 13, 5))
    q(k, "did the 13:05 sync go through yesterdy", BER, first="yes", facts=[when(s_mon1305)], about=[s_mon1305])
    after_503 = ok(syncs[syncs.index(sync_503) + 1])
    q(k, "did the tracking sync recover after the 503 on the 19th?", BER, first="yes",
      facts=[when(after_503)], about=[after_503])
    f16 = ok(fc(date(2026, 11, 16), SGP))
    q(k, "did the pallet forecast get published on the 16th?", SGP, first="yes",
      facts=[clocks(f16.milestone_at("forecast-published"), f16.end, zone=SGP)], about=[f16])
    twice = [d for d in {r.local_day() for r in RUNS["freight-audit"]} if len(runs_on("freight-audit", d)) > 1]
    assert twice == [date(2026, 11, 18)]
    q(k, "did the audit ever run twice on the same day?", BER, first="yes", facts=[day_words(twice[0], NOW, BER)])
    r23 = ok(rates[yesterday])
    q(k, "did the rates import get to rates-loaded on monday?", BER, first="yes",
      facts=[clock(r23.milestone_at("rates-loaded"), BER)], about=[r23])
    next_sync = next_due("tracking-sync", NOW)
    assert local(next_sync, BER).time() == time(9, 5)
    q(k, "did the 09:05 sync run today", BER, first="no", facts=[clock(next_sync, BER)])
    a11 = ok(audit_day(date(2026, 11, 11)))
    assert a11.local_day(KOL) == date(2026, 11, 11)
    q(k, "audit on the 11th ok?", KOL, first="yes", facts=[when(a11, KOL)], about=[a11])
    s_mon0105 = ok(sync_at(yesterday, 1, 5))
    q(k, "sync at 01:05 on monday ok?", BER, first="yes", facts=[when(s_mon0105)], about=[s_mon0105])
    assert not runs_on("carrier-scorecard", sun) and JOBS["carrier-scorecard"]["schedule"].split()[4] == "1"
    q(k, "did the scorecard run on sunday", BER, first="no", facts=[MONDAY])
    f13 = ok(fc(date(2026, 11, 13)))
    q(k, "did the prognose finish on friday the 13th?", BER, first="yes", facts=[when(f13)], about=[f13])

    # ================================================================ what happened
    k = "what_happened"
    found = int(re.search(r"found (\d+)", rates_now.notes()[0]).group(1))
    q(k, "how many columns did the rate file actually have last night", BER,
      facts=[[*count_words(found), "single", "1 column", "one column"]], about=[rates_now])
    assert not sync_503.metric("shipments_updated") and "503" in sync_503.finish_event["text"]
    q(k, "the 13:05 sync on the 19th - did it get any shipments through at all?", BER, first="no",
      facts=[["503", "unavailable"]], about=[sync_503])
    loaded18 = a18_first.milestone("invoices-loaded")
    assert loaded18 is not None and loaded18.get("status") == "failed"
    q(k, "at which step did the audit on the 18th stop", BER,
      facts=[["invoices-loaded", "invoices loaded", "loading invoices", "loading the invoices",
              "load invoices", "load the invoices", "laden der rechnungen"]], about=[a18_first])
    held = int(re.search(r"holds (\d+) lane rates", audit_now.notes()[0]).group(1))
    assert held == rates_now.metric("rates_parsed")
    q(k, "was the tariff table empty when the audit ran this morning?", BER, first="no",
      facts=[num(held)], about=[audit_now, rates_now])
    assert [e["level"] for e in rates_now.of("note")] == ["warning"]
    q(k, "rate import last night: was that an error or just a warning?", BER,
      facts=[["warning", "warnung"]], about=[rates_now])
    assert not a18_rerun.notes()
    q(k, "did the audit rerun on the 18th have any problems?", BER, first="no",
      facts=[when(a18_rerun)], about=[a18_rerun])
    assert "sftp" in a18_first.notes()[0]
    q(k, "the audit failure on the 18th - was that the tariff problem too?", BER, first="no",
      facts=[["sftp", "timed out", "timeout", "time out", "connection"]], about=[a18_first])
    note_at = parse(rates_now.of("note")[0]["at"])
    q(k, "what time did the rate import log its warning last night", BER,
      facts=[clock(note_at, BER)], about=[rates_now])
    err18 = parse(a18_first.of("note")[0]["at"])
    q(k, "when did the audit log its error on the 18th", BER,
      facts=[clocks(err18, a18_first.end, zone=BER)], about=[a18_first])
    c23 = ok(run_on("carrier-scorecard", yesterday))
    assert not c23.notes()
    assert not c23.notes() and all(e.get("status", "reached") == "reached" for e in c23.of("milestone"))
    q(k, "any warnings or errors in the scorecard run yesterday?", BER, first="no", about=[c23])

    # ================================================================ start attributes
    k = "attributes"
    a20 = ok(audit_day(fri))
    q(k, "which host ran the audit on the 20th", BER, facts=[[a20.attributes["host"]]], about=[a20])
    r16 = ok(rates[date(2026, 11, 16)])
    q(k, "what version was the tariff load on on the 16th", BER, facts=[[r16.attributes["version"]]], about=[r16])
    f22 = ok(fc(sun))
    assert f22.attributes["version"] == "0.9.3"
    q(k, "was sunday's forecast already on 0.9.3?", BER, first="yes", facts=[["0.9.3"]], about=[f22])
    ace11 = ok(ace(date(2026, 11, 11)))
    q(k, "which version did the customs export run on the 11th", NYC, facts=[[ace11.attributes["version"]]],
      about=[ace11])
    rate_hosts = {r.attributes["host"] for r in RUNS["carrier-rates-import"]}
    audit_hosts = {r.attributes["host"] for r in RUNS["freight-audit"]}
    assert not rate_hosts & audit_hosts and len(rate_hosts) == 1
    q(k, "does the rate import run on the same server as the audit?", BER, first="no",
      facts=[sorted(rate_hosts), ["etl-fra-3"]])
    q(k, "what version was the tracking sync on when it failed on the 19th", BER,
      facts=[[sync_503.attributes["version"]]], about=[sync_503])
    q(k, "was monday's scorecard kicked off on schedule or by hand", BER,
      facts=[[c23.attributes["trigger"], "scheduled", "zeitplan", "geplant"]], about=[c23])
    a23 = ok(audit_day(yesterday))
    q(k, "welche version hatte die rechnungsprüfung am montag?", BER, facts=[[a23.attributes["version"]]],
      about=[a23])
    week = [r for r in RUNS["carrier-rates-import"] if r.start >= week_start(NOW, BER)]
    assert len(week) == 2 and len({r.attributes["version"] for r in week}) == 1
    q(k, "was the rate import on the same version yesterday and last night?", BER, first="yes",
      facts=[[week[0].attributes["version"]]], about=week)
    f12 = ok(fc(date(2026, 11, 12), KOL))
    q(k, "forecast version on the 12th?", KOL, facts=[[f12.attributes["version"]]], about=[f12])

    # ================================================================ payloads
    k = "payload"
    r21 = ok(rates[sat])
    q(k, "which file did the rate import load on the 21st", BER,
      facts=[[file_name(r21.payload("input-file")["path"])]], about=[r21])
    a15 = ok(audit_day(date(2026, 11, 15)))
    q(k, "what invoice batch did the audit go through on the 15th", BER,
      facts=[[a15.payload("input")["batch"]]], about=[a15])
    a19 = ok(audit_day(thu))
    out19 = a19.payload("output")["file"]
    q(k, "wo liegt die disputes-datei vom donnerstag?", BER, facts=[[file_name(out19), out19]], about=[a19])
    ace17 = ok(ace(date(2026, 11, 17)))
    q(k, "batch id of tuesday 17th's ace filing?", NYC, facts=[[ace17.payload("output")["batch"]]], about=[ace17])
    ace12 = ok(ace(date(2026, 11, 12)))
    q(k, "which port did the customs batch on the 12th go through", NYC,
      facts=[[ace12.payload("output")["port"]]], about=[ace12])
    q(k, "whats the scorecard file from week 47 called", BER,
      facts=[[file_name(c23.payload("output")["file"])]], about=[c23])
    first_rates = RUNS["carrier-rates-import"][0]
    q(k, "oldest tariff snapshot on record?", BER,
      facts=[[first_rates.payload("output")["snapshot"]]], about=[first_rates])
    folder = audit_now.payload("input")["path"]
    q(k, "which invoice folder did the audit read this morning?", BER,
      facts=[[folder, folder.rstrip("/")]], about=[audit_now])
    ace13 = ok(ace(date(2026, 11, 13)))
    q(k, "what xml did customs write on the 13th", NYC,
      facts=[[file_name(ace13.payload("output")["file"])]], about=[ace13])
    a21 = ok(audit_day(sat))
    q(k, "the audit on saturday - what did it output?", BER,
      facts=[[file_name(a21.payload("output")["file"])]], about=[a21])

    # ================================================================ metrics
    k = "metrics"
    q(k, "how many euros of overcharges did the audit flag on the 11th", BER, facts=[num(a11.metric("overcharge_eur"))], about=[a11])
    q(k, "how many overcharges did the audit find on thursday", BER,
      facts=[num(a19.metric("overcharges_found"))], about=[a19])
    r15 = ok(rates[date(2026, 11, 15)])
    q(k, "rates rejected on the 15th?", BER, facts=[num(r15.metric("rates_rejected"))], about=[r15])
    s_sat2105 = ok(sync_at(sat, 21, 5))
    q(k, "shipmnets updated by the 21:05 sync on saturday?", BER,
      facts=[num(s_sat2105.metric("shipments_updated"))], about=[s_sat2105])
    q(k, "how many filings did customs submit on the 13th", NYC,
      facts=[num(ace13.metric("filings_submitted"))], about=[ace13])
    f14 = ok(fc(date(2026, 11, 14), KOL))
    mape14 = f14.metric("forecast_mape")
    assert mape14 == 9.0
    q(k, "forecast mape on the 14th", KOL, facts=[["9.0", "9,0", "9", "9 %", "9%"]], about=[f14])
    errors = int(s_mon1305.metric("api_errors"))
    assert errors == 0
    q(k, "api errors in yesterday's 13:05 sync?", BER,
      facts=[["0", "zero", "none", "no api errors", "no errors", "keine", "null"]], about=[s_mon1305])
    q(k, "was last night's rejected-rows count normal for the rate import?", BER, first="no",
      facts=[num(rates_now.metric("rates_rejected"))], about=[rates_now])
    a22 = ok(audit_day(sun))
    q(k, "wie viele rechnungen wurden am sonntag geprüft?", BER, facts=[num(a22.metric("invoices_checked"))],
      about=[a22])
    limit = JOBS["customs-export"]["expect"]["metrics"]["filings_rejected"]["max"]
    q(k, "how many rejected filings can the customs export have before it gets flagged", NYC,
      facts=[count_words(limit)])

    # ================================================================ lists
    k = "lists"
    lo, hi = day_bounds(sun, BER)
    sunday_jobs = sorted({r.job for v in RUNS.values() for r in v if lo <= r.start < hi})
    assert sunday_jobs == ["carrier-rates-import", "demand-forecast", "freight-audit", "tracking-sync"]
    q(k, "what ran on sunday the 22nd?", BER, facts=[NAMES[s] for s in sunday_jobs])
    good_audits = good_runs("freight-audit", NOW)[-3:]
    assert [r.local_day() for r in good_audits] == [sat, sun, yesterday]
    q(k, "overcharge eur for the last 3 audits that worked?", BER,
      facts=[num(r.metric("overcharge_eur")) for r in good_audits], about=good_audits)
    owned = [s for s, j in JOBS.items() if j["owner"]]
    q(k, "which jobs have an owner", BER, facts=[[*NAMES[s], JOBS[s]["owner"]] for s in owned])
    ny_week = week_start(NOW, NYC)
    lo, hi = ny_week - timedelta(days=14), ny_week - timedelta(days=7)
    before_last = [r for r in customs if lo <= r.start < hi]
    assert [r.local_day(NYC) for r in before_last] == [date(2026, 11, 11), date(2026, 11, 12), date(2026, 11, 13)]
    q(k, "list the customs runs from the week before last", NYC,
      facts=[day_words(r.local_day(NYC)) for r in before_last], about=before_last)
    daily = [s for s, j in JOBS.items() if j["schedule"].split()[4] == "*"]
    q(k, "which jobs run every day", BER, facts=[NAMES[s] for s in daily])
    ny_jobs = [s for s, j in JOBS.items() if j["timezone"] == NYC]
    assert ny_jobs == ["customs-export"]
    q(k, "welche jobs laufen nach new yorker zeit?", BER, facts=[NAMES[s] for s in ny_jobs])
    last3 = [fc(today - timedelta(days=i)) for i in (3, 2, 1)]
    q(k, "when did the last three forecasts get published?", BER,
      facts=[clock(r.milestone_at("forecast-published"), BER) for r in last3], about=last3)
    lo, _hi = day_bounds(today, BER)
    tonight = [r for v in RUNS.values() for r in v if r.start >= lo and r.end is not None]
    fine = sorted({r.job for r in tonight if not bad(r)})
    assert fine == ["tracking-sync"]
    q(k, "which jobs came through fine last night", BER, facts=[NAMES[s] for s in fine])

    # ================================================================ schedules
    k = "schedule"
    next_card = next_due("carrier-scorecard", NOW)
    q(k, "what time does the scorecard run in singapore time", SGP, facts=[clock(next_card, SGP)])
    after_next = due_moments("tracking-sync", next_sync, next_sync + timedelta(hours=8))[0]
    q(k, "when's the sync after the 09:05 one", BER, facts=[clock(after_next, BER)])
    next_ace = next_due("customs-export", NOW)
    assert local(next_ace, NYC).date() == local(NOW, NYC).date()
    q(k, "is the ace filing going to run tonight?", NYC, first="yes", facts=[clock(next_ace, NYC)])
    q(k, "what timezone is the forecast scheduled in", BER, facts=[[JOBS["demand-forecast"]["timezone"]]])
    assert JOBS["carrier-rates-import"]["schedule"].split()[4] == "*"
    q(k, "is there a rate import on sunday nights too?", BER, first="yes",
      facts=[clock(next_due("carrier-rates-import", NOW), BER)])
    tomorrow_lo, tomorrow_hi = day_bounds(today + timedelta(days=1), BER)
    sync_times = due_moments("tracking-sync", tomorrow_lo - timedelta(minutes=1), tomorrow_hi)
    assert not [t for t in sync_times if local(t, BER).hour == 3]
    q(k, "does the tracking sync run at 03:05?", BER, first="no",
      facts=[clocks(*[t for t in sync_times if local(t, BER).hour in (1, 5)], zone=BER)])
    q(k, "what cron does the scorecard use", BER, facts=[[JOBS["carrier-scorecard"]["schedule"]]])
    _today_lo, today_hi = day_bounds(today, BER)
    left = due_moments("tracking-sync", NOW, today_hi)
    q(k, "how many syncs are still to come today?", BER, facts=[[*count_words(len(left)), *clock(left[-1], BER)]])

    # ================================================================ durations
    k = "durations"
    q(k, "how long did the forecast take on the 16th", BER, facts=[dur(f16.seconds)], about=[f16])
    q(k, "audit runtime on the 17th?", BER, facts=[dur(a17.seconds)], about=[a17])
    q(k, "how long did the customs run on the 17th take", NYC, facts=[dur(ace17.seconds)], about=[ace17])
    s_mon2105 = ok(sync_at(yesterday, 21, 5))
    q(k, "how long was last night's 21:05 sync", BER, facts=[dur(s_mon2105.seconds)], about=[s_mon2105])
    loads = [r.duration("db-load") for r in good_runs("carrier-rates-import", NOW)]
    q(k, "how long does the db load in the rate import usually take", BER, facts=[usual_durations(loads)])
    q(k, "how long did the failed sync yesterday run", BER,
      facts=[[*dur(sync_oauth.seconds), *seconds_words(sync_oauth.seconds)]], about=[sync_oauth])
    done_audits = [r for r in RUNS["freight-audit"] if r.end is not None]
    longest = max(done_audits, key=lambda r: r.seconds)
    runner_up = sorted(r.seconds for r in done_audits)[-2]
    assert not set(dur(runner_up)) & set(dur(longest.seconds))
    q(k, "longest audit run in the last 2 weeks?", BER,
      facts=[dur(longest.seconds), day_words(longest.local_day(), NOW, BER)], about=[longest])
    assert r11.local_day(SGP) == date(2026, 11, 11)
    q(k, "how long did the rate import take on the 11th", SGP, facts=[dur(r11.seconds)], about=[r11])

    # ================================================================ running now
    k = "running"
    prog = forecast_now.of("progress")
    p9, p38 = prog[0], prog[-1]
    assert (p9["done"], p38["done"]) == (9, 38)
    q(k, "how long did the forecast need to get from 9 to 38 warehouses", BER,
      facts=[dur((parse(p38["at"]) - parse(p9["at"])).total_seconds())], about=[forecast_now])
    limit_at = forecast_now.start + span(JOBS["demand-forecast"]["expect"]["max_runtime"])
    q(k, "how long until the forecast hits its max runtime?", BER,
      facts=[[*clock(limit_at, BER), *dur((limit_at - NOW).total_seconds())]], about=[forecast_now])
    q(k, "is the forecast still loading data?", BER, first="no",
      facts=[["forecasting", "data-loaded", "data loaded", *clock(forecast_now.milestone_at("data-loaded"), BER)]],
      about=[forecast_now])
    q(k, "what time did the job thats running now start, ny time?", NYC, facts=[clock(forecast_now.start, NYC)],
      about=[forecast_now])
    hosts = {r.attributes["host"] for r in RUNS["demand-forecast"]}
    assert hosts == {forecast_now.attributes["host"]}
    q(k, "is today's forecast running on its usual box?", BER, first="yes", facts=[sorted(hosts)],
      about=[forecast_now])
    last_seen = parse(p38["at"])
    q(k, "how long since the forecast last sent a progress update", BER,
      facts=[[*clock(last_seen, BER), *dur((NOW - last_seen).total_seconds()), *seconds_words((NOW - last_seen).total_seconds())]],
      about=[forecast_now])

    # ================================================================ counting
    k = "counting"
    old = [r for r in RUNS["carrier-rates-import"] if r.attributes["version"] == "4.7.2"]
    assert len(old) == 9
    q(k, "how many runs did the rate import do on 4.7.2", BER, facts=[[*count_words(len(old)), "nine", "neun"]])
    savannah = [r for r in customs if r.payload("output")["port"] == "Savannah"]
    q(k, "how many customs runs went to savannah?", NYC, facts=[count_words(len(savannah))])
    small = [r for r in syncs if r.metric("shipments_updated") is not None and r.metric("shipments_updated") < 1000]
    q(k, "how many syncs updated fewer than 1000 shipments", BER, facts=[count_words(len(small))])
    late_fc = [r for r in RUNS["demand-forecast"] if r.end is not None and local(r.end, BER).time() >= time(9, 46)]
    assert not [r for r in RUNS["demand-forecast"] if r.end is not None
                and time(9, 45) <= local(r.end, BER).time() < time(9, 46)]
    q(k, "how many forecasts finished after 9:45?", BER, facts=[count_words(len(late_fc))])
    warned = [r for r in RUNS["carrier-rates-import"] if any(e.get("level") == "warning" for e in r.of("note"))]
    q(k, "how many rate imports logged a warning", BER, facts=[count_words(len(warned))], about=warned)
    sun_syncs = runs_on("tracking-sync", sun, BER)
    assert all(not bad(r) for r in sun_syncs)
    q(k, "total shipments updated by all syncs on sunday?", BER,
      facts=[total_words(sun_syncs, "shipments_updated")], about=sun_syncs)
    slow_ace = [r for r in customs if r.seconds > 20 * 60]
    assert not [r for r in customs if 19 * 60 + 30 <= r.seconds <= 20 * 60 + 30]
    q(k, "how many ace runs took longer than 20 minutes", NYC, facts=[count_words(len(slow_ace))])

    # ================================================================ unknown jobs / data
    k = "unknown"
    q(k, "what delimiter did freighthub use before the switch?", BER, first="unsure", about=[rates_now])
    q(k, "did the container booking sync run this morning?", BER, first="unsure")
    q(k, "how many retries does the rate import do before giving up", BER, first="unsure")
    q(k, "when was etl-fra-3 last rebooted", BER, first="unsure")
    q(k, "ist der gefahrgut-export heute gelaufen?", BER, first="unsure")
    q(k, "who's on call for customs us tonight?", NYC, first="unsure")

    # ================================================================ lateness
    k = "lateness"
    a14 = ok(audit_day(date(2026, 11, 14)))
    within = span(JOBS["freight-audit"]["expect"]["start_within"])
    assert a14.start - datetime.combine(a14.local_day(), time(4), ZoneInfo(BER)) < within
    q(k, "did the audit start late on the 14th?", BER, first="no", facts=[clock(a14.start, BER)], about=[a14])
    ace20 = ok(ace(fri))
    assert ace20.start - datetime.combine(fri, time(22, 15), ZoneInfo(NYC)) < span(JOBS["customs-export"]["expect"]["start_within"])
    q(k, "was the customs export late starting on friday the 20th", NYC, first="no",
      facts=[clock(ace20.start, NYC)], about=[ace20])
    r13 = ok(rates[date(2026, 11, 13)])
    deadline13 = datetime.combine(r13.local_day(), time(1, 30), ZoneInfo(BER)) + span(
        JOBS["carrier-rates-import"]["expect"]["milestones"][0]["by"])
    assert r13.milestone_at("tariffs-published") < deadline13
    q(k, "were the tariffs published on time on the 13th", BER, first="yes",
      facts=[clock(r13.milestone_at("tariffs-published"), BER)], about=[r13])
    f21 = ok(fc(sat))
    pub21 = f21.milestone_at("forecast-published")
    fc_deadline = datetime.combine(sat, time(6), ZoneInfo("UTC")) + span(
        JOBS["demand-forecast"]["expect"]["milestones"][0]["by"])
    assert pub21 < fc_deadline and local(fc_deadline, BER).time() == time(10, 30)
    q(k, "forecast on the 21st - out before its deadline?", BER, first="yes", facts=[clock(pub21, BER)], about=[f21])
    due_fc = datetime.combine(today, time(6), ZoneInfo("UTC"))
    assert forecast_now.start - due_fc < span(JOBS["demand-forecast"]["expect"]["start_within"])
    q(k, "did the forecast start on time this morning?", BER, first="yes", facts=[clock(forecast_now.start, BER)],
      about=[forecast_now])
    late_at = next_ace + span(JOBS["customs-export"]["expect"]["start_within"])
    q(k, "at what point does tonight's customs run count as late", NYC, facts=[clock(late_at, NYC)])

    # ================================================================ owners
    k = "owner"
    q(k, "who owns the palettenprognose and which team gets its alerts?", BER,
      facts=[[JOBS["demand-forecast"]["owner"]], JOBS["demand-forecast"]["alert"]])
    assert JOBS["freight-audit"]["owner"] != JOBS["demand-forecast"]["owner"]
    q(k, "is priya the one to talk to about the audit?", BER, first="no", facts=[[JOBS["freight-audit"]["owner"]]])
    reads = [s for s in JOBS if any(e["kind"] == "payload" and e["data"].get("vendor") == "FreightHub"
                                    for r in RUNS[s] for e in r.events)]
    assert reads == ["carrier-rates-import"]
    q(k, "who owns the job that reads the freighthub file", BER, facts=[[JOBS[reads[0]]["owner"]]])
    broken = ["carrier-rates-import", "freight-audit", "customs-export"]
    q(k, "whose jobs are broken right now?", BER, facts=[[JOBS[s]["owner"]] for s in broken],
      about=[rates_now, audit_now])
    assert "TMS" in JOBS["tracking-sync"]["description"] and not JOBS["tracking-sync"]["owner"]
    q(k, "who owns the job that updates the shipment status in the TMS", BER, first="unsure")

    # ================================================================ not started
    k = "not_started"
    assert not [r for r in customs if r.start > datetime.combine(fri, time(23, 59), ZoneInfo(NYC))]
    q(k, "has anyone restarted the zollexport since it didnt start on monday?", BER, first="no")
    q(k, "which job didn't start at all last night?", BER, facts=[NAMES["customs-export"]])
    q(k, "where's yesterday's 22:15 ace run??", NYC, facts=[NOT_STARTED])
    missed = [t for t in due_moments("customs-export", NOW - timedelta(days=1), NOW)]
    assert len(missed) == 1 and local(missed[0], NYC).date() == yesterday
    q(k, "was the customs export even supposed to run on monday?", NYC, first="yes", facts=[clock(missed[0], NYC)])

    # ================================================================ comparisons
    k = "compare"
    r12 = ok(rates[date(2026, 11, 12)])
    q(k, "rates parsed on the 11th vs the 12th", BER,
      facts=[num(r11.metric("rates_parsed")), num(r12.metric("rates_parsed"))], about=[r11, r12])
    assert f22.seconds < f13.seconds
    q(k, "was the forecast quicker on the 22nd than on the 13th?", BER, first="yes",
      facts=[dur(f22.seconds), dur(f13.seconds)], about=[f22, f13])
    sat_syncs = runs_on("tracking-sync", sat, BER)
    assert all(not bad(r) for r in sat_syncs)
    q(k, "more shipments synced on saturday or on sunday, all syncs together?", BER,
      facts=[total_words(sat_syncs, "shipments_updated"), total_words(sun_syncs, "shipments_updated")],
      about=sat_syncs + sun_syncs)
    a15b = audit_day(sun - timedelta(days=7))
    assert a15b is a15 and a22.metric("overcharge_eur") > a15.metric("overcharge_eur")
    q(k, "was sunday's overcharge eur higher than the sunday before?", BER, first="yes",
      facts=[num(a22.metric("overcharge_eur")), num(a15.metric("overcharge_eur"))], about=[a22, a15])
    f16k, f11k = fc(date(2026, 11, 16), KOL), fc(date(2026, 11, 11), KOL)
    assert f16k.metric("forecast_mape") < f11k.metric("forecast_mape")
    q(k, "was the mape lower on the 16th than on the 11th?", KOL, first="yes",
      facts=[num(f16k.metric("forecast_mape")), num(f11k.metric("forecast_mape"))], about=[f16k, f11k])

    # ================================================================ overall
    k = "overall"
    lo13, hi13 = day_bounds(date(2026, 11, 13), BER)
    runs13 = [r for v in RUNS.values() for r in v if lo13 <= r.start < hi13]
    assert runs13 and not any(bad(r) for r in runs13)
    q(k, "was friday the 13th unlucky for any of the jobs?", BER, first="no")
    day_ago = NOW - timedelta(days=1)
    flagged = [r for v in RUNS.values() for r in v if r.start >= day_ago and bad(r)]
    assert sorted({r.job for r in flagged}) == ["carrier-rates-import", "freight-audit", "tracking-sync"]
    q(k, "last 24 hours in one line pls", BER,
      facts=[NAMES[s] for s in sorted({r.job for r in flagged})] + [NAMES["customs-export"]], about=flagged)
    lo23, hi23 = day_bounds(yesterday, BER)
    bad23 = [r for v in RUNS.values() for r in v if lo23 <= r.start < hi23 and bad(r)]
    assert bad23 == [sync_oauth]
    q(k, "was monday clean?", BER, first="no", facts=[NAMES["tracking-sync"]], about=bad23)



def cross_check() -> None:
    """A few facts by a second route (the raw events), the zone offsets, and no repeats."""
    events = STORY["events"]

    def by_question(text: str) -> dict[str, Any]:
        return next(item["expect"] for item in QUESTIONS if item["question"] == text)

    # rate import versions: 4.7.2 runs counted from the raw start events
    starts = [e for e in events if e["job"] == "carrier-rates-import" and e["kind"] == "start"
              and e["attributes"]["version"] == "4.7.2"]
    assert str(len(starts)) in by_question("how many runs did the rate import do on 4.7.2")["facts"][0]
    # Savannah ports in the raw payloads
    ports = [e for e in events if e["kind"] == "payload" and e["data"].get("port") == "Savannah"]
    assert str(len(ports)) in by_question("how many customs runs went to savannah?")["facts"][0]
    # Singapore: Monday 07:00 Berlin is 14:00 SGT
    assert "14:00" in by_question("what time does the scorecard run in singapore time")["facts"][0]
    # tonight's customs run counts as late at 23:00 New York
    assert "23:00" in by_question("at what point does tonight's customs run count as late")["facts"][0]
    # the forecast's max runtime ends at 11:00 Berlin
    assert "11:00" in by_question("how long until the forecast hits its max runtime?")["facts"][0]
    # Sunday audit, disputes at 04:34; the file names come straight from payloads
    assert "disputes_2026-11-19.xlsx" in by_question("wo liegt die disputes-datei vom donnerstag?")["facts"][0]
    for item in QUESTIONS:
        assert item["split"] == "dev6" and parse(item["asked_at"]) == NOW
        offset = parse(item["asked_at"]).utcoffset()
        assert offset == local(NOW, item["tz"]).utcoffset(), item["question"]
        for key in ("id", "split", "kind", "question", "asked_at", "tz", "expect"):
            assert key in item
        assert set(item["expect"]) == {"first", "facts", "forbidden"}
    seen: set[str] = set()
    for name in ("questions_extra.json", "questions_dev3.json", "questions_dev4.json",
                 "questions_dev5.json"):
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
