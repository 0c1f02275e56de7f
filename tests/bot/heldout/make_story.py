"""Write story.json: a held-out business story for the OpenTrace bot.

Nordwind Logistik, a freight forwarder in Hamburg with a US customs desk in Newark, runs six
batch jobs. Two weeks of history (2026-11-11 to the morning of 2026-11-24) are generated from
a fixed seed, so the file is long but always the same.

The bad night, Monday 23 → Tuesday 24 November 2026 (Europe/Berlin): the rate aggregator
FreightHub switched its nightly rate file to ';' as the delimiter. The carrier rate import read
only 212 of 18,306 lines, stopped after validation and still reported "succeeded"; the freight
invoice audit then failed for lack of tariffs; the US customs export (a separate machine in
New York) did not start at all; the pallet demand forecast is still running when the
questions are asked.

Every event time has its seconds in 3..27 and every run's end lies 0..15 s past a whole
minute after its start, so clock times and durations read the same whether a reader
truncates or rounds to the minute.

Usage: python tests/bot/heldout/make_story.py   (writes story.json next to this file)
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SEED = 2611
NOW = "2026-11-24T08:40:00+01:00"
FIRST_DAY = date(2026, 11, 11)
LAST_DAY = date(2026, 11, 24)
BAD_DAY = date(2026, 11, 24)
OUT = Path(__file__).with_name("story.json")

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"

JOBS: dict[str, dict[str, Any]] = {
    "carrier-rates-import": {
        "title": "Carrier rate import",
        "description": "Loads the nightly FreightHub rate file (lane rates of all contract "
                       "carriers) into the tariff table used by the freight audit and quoting.",
        "aliases": ["rate import", "rates import", "the rates", "frachtraten import", "tariff load"],
        "owner": "Katrin Vogel",
        "timezone": BERLIN,
        "schedule": "30 1 * * *",
        "expect": {
            "start_within": "30m",
            "max_runtime": "2h",
            "milestones": [{"name": "tariffs-published", "by": "2h30m"}],
            "metrics": {"rates_parsed": {"usual": True, "min": 10000},
                        "rates_rejected": {"usual": True}},
            "final_milestone": "tariffs-published",
        },
        "alert": ["Freight Ops"],
    },
    "freight-audit": {
        "title": "Freight invoice audit",
        "description": "Checks yesterday's carrier invoices against the contracted lane tariffs "
                       "and files disputes for overcharges.",
        "aliases": ["freight audit", "invoice audit", "the audit", "rechnungsprüfung",
                    "overcharge check"],
        "owner": "Marco Esposito",
        "timezone": BERLIN,
        "schedule": "0 4 * * *",
        "expect": {
            "start_within": "30m",
            "max_runtime": "2h",
            "milestones": [{"name": "disputes-filed", "by": "2h"}],
            "metrics": {"overcharge_eur": {"usual": True}, "invoices_checked": {"usual": True}},
            "final_milestone": "disputes-filed",
        },
        "alert": ["Freight Ops", "Finance Controlling"],
    },
    "customs-export": {
        "title": "US customs filing export",
        "description": "Builds the ACE entry filings for the day's inbound US shipments and "
                       "submits them to CBP through the customs broker's gateway.",
        "aliases": ["customs export", "ACE filing", "zollexport", "the customs run", "CBP filings"],
        "owner": "Dana Whitfield",
        "timezone": NEW_YORK,
        "schedule": "15 22 * * 1-5",
        "expect": {
            "start_within": "45m",
            "max_runtime": "1h",
            "metrics": {"filings_rejected": {"max": 5}},
            "final_milestone": "acks-received",
        },
        "alert": ["Customs US"],
    },
    "tracking-sync": {
        "title": "Shipment tracking sync",
        "description": "Pulls carrier tracking events from the TrackHub API and updates the "
                       "shipment status in the TMS.",
        "aliases": ["tracking sync", "the sync", "trackhub sync", "sendungsverfolgung"],
        "owner": "",
        "timezone": "UTC",
        "schedule": "5 */4 * * *",
        "expect": {
            "start_within": "15m",
            "max_runtime": "1h",
            "metrics": {"shipments_updated": {"usual": True}},
        },
        "alert": [],
    },
    "demand-forecast": {
        "title": "Pallet demand forecast",
        "description": "Forecasts daily pallet demand per warehouse for the next 28 days from "
                       "two years of pallet movements.",
        "aliases": ["forecast", "demand forecast", "the forecast", "palettenprognose"],
        "owner": "Priya Raman",
        "timezone": "UTC",
        "schedule": "0 6 * * *",
        "expect": {
            "start_within": "30m",
            "max_runtime": "4h",
            "milestones": [{"name": "forecast-published", "by": "3h30m"}],
            "metrics": {"forecast_mape": {"max": 15}},
            "final_milestone": "forecast-published",
        },
        "alert": ["Planning"],
    },
    "carrier-scorecard": {
        "title": "Weekly carrier scorecard",
        "description": "On-time and damage KPIs per carrier for the past week, as an Excel "
                       "workbook in the Ops SharePoint.",
        "aliases": ["scorecard", "carrier scorecard", "the weekly report", "kpi report"],
        "owner": "",
        "timezone": BERLIN,
        "schedule": "0 7 * * 1",
        "expect": {"start_within": "1h", "final_milestone": "workbook-shared"},
        "alert": ["Freight Ops"],
    },
}


@dataclass
class Run:
    """Builds the events of one run; times are whole minutes after the start's minute."""

    job: str
    key: str
    zone: str
    base: datetime  # the start's minute, aware, in the job's zone
    start_second: int
    rng: random.Random
    events: list[dict[str, Any]] = field(default_factory=list)

    last: datetime | None = None

    def _at(self, minute: float, second: int | None = None) -> str:
        """The event's time; events of one run never share or reverse their order."""
        sec = self.rng.randint(3, 27) if second is None else second
        moment = self.base + timedelta(minutes=minute, seconds=sec)
        if self.last is not None and moment <= self.last:
            if second is not None:  # a finish keeps its second: move it a minute on
                while moment <= self.last:
                    moment += timedelta(minutes=1)
            else:
                moment = self.last + timedelta(seconds=1)
        self.last = moment
        return stamp(moment, self.zone)

    def add(self, kind: str, minute: float, second: int | None = None, **fields: Any) -> None:
        self.events.append({"job": self.job, "kind": kind, "run": self.key,
                            "at": self._at(minute, second), **fields})

    def start(self, attributes: dict[str, Any]) -> None:
        self.add("start", 0, self.start_second, attributes=attributes)

    def finish(self, minute: int, status: str, text: str | None = None) -> None:
        second = self.start_second + self.rng.randint(0, 15)
        fields: dict[str, Any] = {"status": status}
        if text is not None:
            fields["text"] = text
        self.add("finish", minute, second, **fields)


def stamp(moment: datetime, zone: str) -> str:
    """RFC 3339 in the job's own zone (what its host would send); UTC as Z."""
    local = moment.astimezone(ZoneInfo(zone))
    text = local.isoformat(timespec="seconds")
    return text.replace("+00:00", "Z") if zone == "UTC" else text


def new_run(rng: random.Random, job: str, key: str, zone: str, day: date, clock: time,
            delay_max: int = 2) -> Run:
    base = datetime.combine(day, clock, ZoneInfo(zone)) + timedelta(minutes=rng.randint(0, delay_max))
    return Run(job, key, zone, base, rng.randint(3, 12), rng)


def days() -> list[date]:
    return [FIRST_DAY + timedelta(days=i) for i in range((LAST_DAY - FIRST_DAY).days + 1)]


def rates_import(rng: random.Random) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for day in days():
        run = new_run(rng, "carrier-rates-import", f"rates-{day:%Y%m%d}", BERLIN, day, time(1, 30))
        version = "4.7.2" if day < date(2026, 11, 20) else "4.8.0"
        run.start({"host": "etl-fra-2", "version": version, "trigger": "cron"})
        run.add("payload", 0.5, name="input-file",
                data={"path": f"/data/in/carrier_rates_{day.isoformat()}.csv",
                      "vendor": "FreightHub", "carriers": 14})
        run.add("milestone", 1, name="file-received")
        if day == BAD_DAY:
            run.add("note", 2, level="warning",
                    text="18,094 of 18,306 lines skipped: expected 11 columns, found 1 "
                         "(delimiter changed to ';'?)")
            run.add("metric", 2, name="rates_parsed", value=212, unit="rows")
            run.add("metric", 2, name="rates_rejected", value=18094, unit="rows")
            run.add("milestone", 2, name="rates-validated")
            run.finish(2, "succeeded", "done")
            events += run.events
            continue
        parsed = rng.randint(18180, 18480)
        rejected = rng.randint(18, 61)
        validate = rng.randint(16, 19)
        if day == date(2026, 11, 17):
            run.add("note", validate - 3, level="warning",
                    text="Baltic Express: fuel surcharge column empty, defaulted to 0 %")
        run.add("metric", validate, name="rates_parsed", value=parsed, unit="rows")
        run.add("metric", validate, name="rates_rejected", value=rejected, unit="rows")
        run.add("milestone", validate, name="rates-validated")
        load = rng.randint(28, 34)
        loaded = parsed - rejected
        run.add("progress", validate + load // 2, done=loaded // 2, total=loaded, unit="rows",
                stage="loading")
        run.add("progress", validate + load - 1, done=loaded, total=loaded, unit="rows",
                stage="loading")
        run.add("duration", validate + load, name="db-load", seconds=load * 60 + rng.randint(0, 20))
        run.add("milestone", validate + load, name="rates-loaded")
        publish = validate + load + rng.randint(6, 9)
        run.add("milestone", publish, name="tariffs-published")
        run.add("payload", publish, name="output",
                data={"table": "tariffs.lane_rates", "snapshot": f"lane_rates_{day:%Y%m%d}"})
        run.finish(publish + 1, "succeeded")
        events += run.events
    return events


def freight_audit(rng: random.Random) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for day in days():
        batch_day = day - timedelta(days=1)
        run = new_run(rng, "freight-audit", f"audit-{day:%Y%m%d}", BERLIN, day, time(4, 0))
        host = "etl-fra-4" if day == date(2026, 11, 21) else "etl-fra-3"
        run.start({"host": host, "version": "2.3.0", "trigger": "cron"})
        run.add("payload", 0.5, name="input",
                data={"batch": f"INV-{batch_day:%Y%m%d}",
                      "path": f"/data/in/invoices/{batch_day.isoformat()}/", "carriers": 14})
        if day == date(2026, 11, 18):
            run.add("note", 15, level="error",
                    text="sftp.carrierhub.example: connection timed out (attempt 3 of 3)")
            run.add("milestone", 15, name="invoices-loaded", status="failed", text="SFTP timeout")
            run.finish(15, "failed", "Could not fetch invoices from sftp.carrierhub.example: "
                                     "connection timed out after 3 retries")
            events += run.events
            events += audit_success(rng, day, "audit-20261118-rerun", time(9, 30),
                                    {"host": "etl-fra-3", "version": "2.3.0",
                                     "trigger": "manual", "user": "m.esposito"})
            continue
        if day == BAD_DAY:
            run.add("milestone", 7, name="invoices-loaded")
            run.add("note", 13, level="error",
                    text="No tariff for 1,847 of 6,212 invoice lines: tariff table holds 212 lane "
                         "rates (expected > 18,000)")
            run.add("milestone", 13, name="tariffs-matched", status="failed",
                    text="1,847 invoice lines without tariff")
            run.finish(13, "failed", "Tariff table incomplete: no tariff for 1847 invoice lines")
            events += run.events
            continue
        events += audit_body(rng, run, day)
    return events


def audit_success(rng: random.Random, day: date, key: str, clock: time,
                  attributes: dict[str, Any]) -> list[dict[str, Any]]:
    run = new_run(rng, "freight-audit", key, BERLIN, day, clock)
    batch_day = day - timedelta(days=1)
    run.start(attributes)
    run.add("payload", 0.5, name="input",
            data={"batch": f"INV-{batch_day:%Y%m%d}",
                  "path": f"/data/in/invoices/{batch_day.isoformat()}/", "carriers": 14})
    return audit_body(rng, run, day)


def audit_body(rng: random.Random, run: Run, day: date) -> list[dict[str, Any]]:
    weekend_batch = (day - timedelta(days=1)).weekday() >= 5
    invoices = rng.randint(2100, 2600) if weekend_batch else rng.randint(5700, 6400)
    loaded = rng.randint(5, 8)
    run.add("milestone", loaded, name="invoices-loaded")
    matched = loaded + (rng.randint(14, 17) if weekend_batch else rng.randint(24, 28))
    run.add("metric", matched, name="invoices_checked", value=invoices, unit="invoices")
    run.add("milestone", matched, name="tariffs-matched")
    found = round(invoices * rng.uniform(0.009, 0.013))
    euros = found * rng.randint(160, 210)
    run.add("metric", matched + 1, name="overcharges_found", value=found, unit="invoices")
    run.add("metric", matched + 1, name="overcharge_eur", value=euros, unit="EUR")
    filed = matched + rng.randint(9, 12)
    run.add("milestone", filed, name="disputes-filed")
    run.add("payload", filed, name="output",
            data={"file": f"/data/out/disputes/disputes_{day.isoformat()}.xlsx", "tabs": 3})
    run.finish(filed + 1, "succeeded")
    return run.events


CUSTOMS_PORTS = {0: "Newark", 1: "Savannah", 2: "Newark", 3: "Savannah", 4: "Newark"}


def customs_export(rng: random.Random) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for day in days():
        # Monday 23 November (New York) never started: no events at all.
        if day.weekday() >= 5 or day >= date(2026, 11, 23):
            continue
        run = new_run(rng, "customs-export", f"ace-{day:%Y%m%d}", NEW_YORK, day, time(22, 15))
        run.start({"host": "ace-gw-1", "version": "1.12.4", "trigger": "cron"})
        built = rng.randint(5, 7)
        run.add("milestone", built, name="filings-built")
        submitted = rng.randint(280, 420)
        rejected = 2 if day == date(2026, 11, 19) else rng.randint(0, 1)
        run.add("payload", built, name="output",
                data={"batch": f"ACE-{day:%Y%m%d}-01", "port": CUSTOMS_PORTS[day.weekday()],
                      "file": f"/data/out/customs/ace_{day.isoformat()}.xml"})
        sent = built + rng.randint(5, 7)
        run.add("milestone", sent, name="filings-submitted")
        run.add("metric", sent, name="filings_submitted", value=submitted, unit="filings")
        acks = sent + rng.randint(6, 10)
        if rejected == 2:
            run.add("note", acks, level="warning", text="2 filings rejected by CBP: missing HTS code")
        run.add("metric", acks, name="filings_rejected", value=rejected, unit="filings")
        run.add("milestone", acks, name="acks-received")
        run.finish(acks + 1, "succeeded")
        events += run.events
    return events


def tracking_sync(rng: random.Random) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    last = datetime(2026, 11, 24, 4, 5, tzinfo=UTC)
    for day in days():
        for hour in range(0, 24, 4):
            if datetime.combine(day, time(hour, 5), UTC) > last:
                break
            run = new_run(rng, "tracking-sync", f"track-{day:%Y%m%d}T{hour:02d}05Z", "UTC", day,
                          time(hour, 5), delay_max=0)
            run.start({"version": "3.2.1", "trigger": "schedule"})
            run.add("payload", 0, name="source", data={"api": "TrackHub v2", "carriers": 41})
            when = (day, hour)
            if when == (date(2026, 11, 19), 12):
                run.add("note", 3, level="error", text="TrackHub API returned HTTP 503 for all 41 carriers")
                run.finish(3, "failed", "TrackHub API unavailable (HTTP 503)")
                events += run.events
                continue
            if when == (date(2026, 11, 23), 16):
                run.finish(1, "failed", "TrackHub OAuth token expired (401 Unauthorized)")
                events += run.events
                continue
            fetched = rng.randint(3, 6)
            run.add("milestone", fetched, name="events-fetched")
            night = hour in (0, 4)
            updated = rng.randint(900, 1500) if night else rng.randint(1800, 3600)
            errors = rng.randint(0, 4)
            end = fetched + rng.randint(3, 8)
            if errors >= 3:
                run.add("note", end, level="warning", text=f"{errors} carrier API calls retried")
            run.add("metric", end, name="shipments_updated", value=updated, unit="shipments")
            run.add("metric", end, name="api_errors", value=errors, unit="errors")
            run.add("milestone", end, name="shipments-updated")
            run.finish(end, "succeeded")
            events += run.events
    return events


def demand_forecast(rng: random.Random) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for day in days():
        run = new_run(rng, "demand-forecast", f"forecast-{day:%Y%m%d}", "UTC", day, time(6, 0),
                      delay_max=0)
        version = "0.9.2" if day < date(2026, 11, 19) else "0.9.3"
        run.start({"host": "ml-gpu-1", "version": version, "trigger": "airflow"})
        run.add("payload", 0.5, name="input",
                data={"dataset": "warehouse.pallet_movements", "history_weeks": 104})
        run.add("milestone", 12, name="data-loaded")
        if day == LAST_DAY:  # still running at question time
            for minute, done in ((32, 9), (52, 17), (72, 26), (92, 35), (98, 38)):
                run.add("progress", minute, done=done, total=64, unit="warehouses",
                        stage="forecasting")
            events += run.events
            continue
        compute = rng.randint(135, 152)
        for step in range(1, 4):
            run.add("progress", 12 + compute * step // 4, done=16 * step, total=64,
                    unit="warehouses", stage="forecasting")
        run.add("progress", 12 + compute, done=64, total=64, unit="warehouses", stage="forecasting")
        run.add("milestone", 12 + compute, name="forecast-computed")
        mape = round(rng.uniform(7.4, 9.6), 1)
        run.add("metric", 12 + compute, name="forecast_mape", value=mape, unit="%")
        run.add("metric", 12 + compute, name="warehouses_forecast", value=64, unit="warehouses")
        publish = 12 + compute + rng.randint(6, 9)
        run.add("milestone", publish, name="forecast-published")
        run.add("payload", publish, name="output",
                data={"table": "forecast.pallet_demand_daily", "horizon_days": 28})
        run.finish(publish, "succeeded")
        events += run.events
    return events


def carrier_scorecard(rng: random.Random) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for day, on_time in ((date(2026, 11, 16), 91.4), (date(2026, 11, 23), 88.9)):
        week = (day - timedelta(days=7)).isocalendar().week
        run = new_run(rng, "carrier-scorecard", f"scorecard-2026-W{week}", BERLIN, day, time(7, 0))
        run.start({"host": "bi-report-1", "trigger": "schedule"})
        run.add("milestone", 4, name="data-collected")
        run.add("metric", 8, name="on_time_pct", value=on_time, unit="%")
        run.add("metric", 8, name="carriers_scored", value=14, unit="carriers")
        run.add("milestone", 9, name="workbook-built")
        run.add("payload", 9, name="output",
                data={"file": f"/reports/scorecard/carrier_scorecard_2026-W{week}.xlsx",
                      "tabs": 7, "sharepoint": "Ops/Carrier Performance"})
        shared = rng.randint(11, 12)
        run.add("milestone", shared, name="workbook-shared")
        run.finish(shared, "succeeded")
        events += run.events
    return events


def build() -> dict[str, Any]:
    rng = random.Random(SEED)
    events: list[dict[str, Any]] = []
    for make in (rates_import, freight_audit, customs_export, tracking_sync, demand_forecast,
                 carrier_scorecard):
        events += make(rng)
    now = datetime.fromisoformat(NOW)
    events.sort(key=lambda e: (datetime.fromisoformat(e["at"].replace("Z", "+00:00")), e["job"]))
    for event in events:
        assert datetime.fromisoformat(event["at"].replace("Z", "+00:00")) < now, event
    return {"now": NOW, "jobs": JOBS, "events": events}


def main() -> None:
    story = build()
    OUT.write_text(json.dumps(story, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT} with {len(story['jobs'])} jobs and {len(story['events'])} events")


if __name__ == "__main__":
    main()
