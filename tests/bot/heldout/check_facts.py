"""Cross-check questions.json against values read straight from story.json's events.

make_questions.py derives its facts through helpers (runs by local date, renderings); this
script re-derives a sample by scanning raw events another way, in the asker's zone, and fails
loudly when the two disagree. Run it after make_story.py and make_questions.py.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).parent
STORY = json.loads((HERE / "story.json").read_text(encoding="utf-8"))
QUESTIONS = {q["question"]: q
             for q in json.loads((HERE / "questions.json").read_text(encoding="utf-8"))}


def events(job: str, run_prefix: str) -> list[dict[str, Any]]:
    return [e for e in STORY["events"] if e["job"] == job and e["run"] == run_prefix]


def local(stamp: str, zone: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(ZoneInfo(zone))


def value(job: str, run: str, kind: str, name: str | None = None, field: str = "value") -> Any:
    for event in events(job, run):
        if event["kind"] == kind and (name is None or event.get("name") == name):
            return event[field]
    raise KeyError((job, run, kind, name))


def minutes(job: str, run: str) -> int:
    evs = events(job, run)
    first, final = (datetime.fromisoformat(e["at"].replace("Z", "+00:00")) for e in (evs[0], evs[-1]))
    seconds = (final - first).total_seconds()
    return int(seconds // 60)


def hm(job: str, run: str, which: int, zone: str) -> str:
    return local(events(job, run)[which]["at"], zone).strftime("%H:%M")


B, NY = "Europe/Berlin", "America/New_York"
RATES, AUDIT, ACE = "carrier-rates-import", "freight-audit", "customs-export"
FORECAST, TRACK, CARD = "demand-forecast", "tracking-sync", "carrier-scorecard"


def metric(job: str, run: str, name: str) -> float:
    return float(value(job, run, "metric", name))


def payload(job: str, run: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = value(job, run, "payload", name, "data")
    return data


def attribute(job: str, run: str, key: str) -> str:
    return str(value(job, run, "start", field="attributes")[key])


def grouped(number: float) -> str:
    return f"{int(number):,}"


forecast_progress = [e for e in events(FORECAST, "forecast-20261124") if e["kind"] == "progress"]
forecast_23 = minutes(FORECAST, "forecast-20261123")
CHECKS: list[tuple[str, str]] = [
    ("which file did the rate import read last night",
     payload(RATES, "rates-20261124", "input-file")["path"].split("/")[-1]),
    ("how many rates did we load last night", grouped(metric(RATES, "rates-20261124", "rates_parsed"))),
    ("when did the rate import finish last night", hm(RATES, "rates-20261124", -1, B)),
    ("how long did the rate import run last night", f"{minutes(RATES, 'rates-20261124')} min"),
    ("when did the customs export last run", hm(ACE, "ace-20261120", 0, B)),
    ("when did the customs run last go out?", hm(ACE, "ace-20261120", 0, NY)),
    ("did ace filing go out friday night?", hm(ACE, "ace-20261120", 0, NY)),
    ("how many filings did customs submit on friday",
     grouped(metric(ACE, "ace-20261120", "filings_submitted"))),
    ("which port did the customs export file for on thursday",
     payload(ACE, "ace-20261119", "output")["port"]),
    ("what xml file did the customs export write on wednesday",
     payload(ACE, "ace-20261118", "output")["file"].split("/")[-1]),
    ("how long was the customs export on friday", f"{minutes(ACE, 'ace-20261120')} min"),
    ("which host did the audit run on saturday", attribute(AUDIT, "audit-20261121", "host")),
    ("what invoice batch did the audit check on the 20th",
     payload(AUDIT, "audit-20261120", "input")["batch"]),
    ("how much overcharge did the audit find on the 20th",
     grouped(metric(AUDIT, "audit-20261120", "overcharge_eur"))),
    ("how many invoices did the audit check yesterday",
     grouped(metric(AUDIT, "audit-20261123", "invoices_checked"))),
    ("wie lange hat das audit am sonntag gedauert?", f"{minutes(AUDIT, 'audit-20261122')} min"),
    ("did the audit rerun on the 18th work", hm(AUDIT, "audit-20261118-rerun", 0, B)),
    ("when did today's forecast kick off", hm(FORECAST, "forecast-20261124", 0, "Asia/Kolkata")),
    ("how far along is the forecast", str(int(forecast_progress[-1]["done"]))),
    ("what was the forecast error yesterday",
     f"{metric(FORECAST, 'forecast-20261123', 'forecast_mape'):g}"),
    ("how long did the forecast take yesterday", f"{forecast_23 // 60} h {forecast_23 % 60} min"),
    ("did the tracking sync fail on monday?", hm(TRACK, "track-20261123T1605Z", 0, B)),
    ("how many shipments did the last tracking sync update",
     grouped(metric(TRACK, "track-20261124T0405Z", "shipments_updated"))),
    ("where did the scorecard get saved yesterday",
     payload(CARD, "scorecard-2026-W47", "output")["file"].split("/")[-1]),
    ("what was the on-time rate in the latest carrier scorecard",
     f"{metric(CARD, 'scorecard-2026-W47', 'on_time_pct'):g}"),
    ("who owns the rate import", STORY["jobs"][RATES]["owner"]),
    ("what version was the rate import on on the 18th", attribute(RATES, "rates-20261118", "version")),
    ("how long did the db load take in the rate import on the 20th",
     f"{int(value(RATES, 'rates-20261120', 'duration', 'db-load', 'seconds') // 60)} min"),
]


def main() -> None:
    assert not STORY["jobs"][TRACK]["owner"] and not STORY["jobs"][CARD]["owner"]
    assert not [e for e in STORY["events"] if e["job"] == ACE and e["run"] >= "ace-20261123"]
    now = datetime.fromisoformat(STORY["now"])
    assert all(datetime.fromisoformat(e["at"].replace("Z", "+00:00")) < now for e in STORY["events"])
    for question, expected in CHECKS:
        facts = QUESTIONS[question]["expect"]["facts"]
        assert any(expected in group for group in facts), (question, expected, facts)
    print(f"{len(CHECKS)} facts agree with the raw events")


if __name__ == "__main__":
    main()
