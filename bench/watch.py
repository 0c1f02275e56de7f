"""The watcher on up to 100,000 scheduled jobs: time to evaluate one minute's deadlines, and memory.

What is measured
    A fresh database per backend (a temp SQLite file; a new PostgreSQL database on
    127.0.0.1:5432, dropped at the end) gets `--jobs` job definitions, seeded at random but
    reproducibly (random.Random per job): about half run nightly (most at :00 or :30 of the
    hours after midnight, a fifth on weekdays only), the rest hourly, every 15 minutes,
    during business hours, weekly or monthly; zones are the default (UTC), UTC, Europe/Berlin
    and America/New_York. Each has `start_within` and 1-3 milestone deadlines, some a
    `max_runtime`, a fifth a "rows_skipped: usual" metric; no alert targets and no
    conversations, so nothing is queued for delivery. Every definition is checked with the
    PUT /v1/jobs validation (JobDefinition + definition_problems) before it is written (each
    (schedule, zone)'s shortest gap worked out once: it is most of a check's cost).

    Their runs are inserted with Core (not through the ingest path): the last 9 days of
    occurrences (at most 100 per job), each started a little after its scheduled time,
    with its milestone and metric events. About 3 % of occurrences never start, 3 % stop
    early (later milestones missed, finished partial), 2 % fail, 1 % stall (never finish):
    the watcher's "started" and "did not start" paths both run.

    The database is what a restart finds after the watcher was down for `--downtime` hours
    (24 by default): every job defined before its first run (a definition judges from the
    moment it is set), judged up to `T0 - downtime` (`checked_until`) and due since then; the
    runs that reported during the downtime still carry the event writer's mark (`pending`),
    the others not; every job's revision raised. Nothing else the watcher keeps (run facts,
    silence limits) is there yet: as right after the upgrade that introduced them.

    The clock is a fake one. The busiest minute of the day (most schedule deadlines:
    start_within and milestone deadlines, counted from the definitions, in UTC minutes) is
    found first; T0 is two minutes before it.

    * first pass at T0: `check_due()` until no job is due. Every job is due: it judges the
      deadlines of the downtime and the runs that reported during it (a day of each by
      default), a one-off catch-up, reported on its own.
    * then minute by minute (the 2nd minute is the busiest), by the same watcher (as a server
      keeps it, with what it keeps in memory): the telemetry of the minute (runs starting,
      milestones, finishes, metrics) is written first, as the event writer would (the runs
      marked, the revisions raised; not timed); then `check_due()` is called until no job is
      due, each call timed with time.perf_counter. "ms per minute" is the sum of one minute's calls,
      against the aim of under 100 ms; "due" is the jobs due when the minute's evaluation
      began, "deadlines" the schedule deadlines that fell in the minute, "SQL" the statements
      the calls issued. When `--budget` seconds of wall time are spent (the watcher is slow),
      the remaining minutes are skipped, never before the busiest one.
    * the alerts the first pass and the minute-by-minute passes opened are compared with the
      plan, each for the deadlines of its own span: did_not_start for each occurrence
      without a run, milestone_missed for each milestone not reached by its deadline on a run
      that started. A mismatch is printed.
    * "SELECT 1" is one trivial round trip through an AsyncSession on the same engine, and
      the load average is printed: the machine's floor, to compare figures across machines.

    Memory: VmRSS (from /proc/self/status) of a bare interpreter (a child process), of this
    process with the app modules imported (the baseline), before and after seeding (seeding
    garbage collected, glibc's malloc_trim), the peak over the timed passes (VmHWM, reset
    through /proc/self/clear_refs just before them) and at the end. Then, untimed, on copies
    of the database as seeded (tracemalloc slows Python several-fold): one `check_due()`
    call of the first pass, and the first two minutes after a first pass of their own, each
    under tracemalloc: the Python memory one evaluation allocates at its peak, against the
    aim < 200 MB.

    `--profile` adds, on another copy, after a first pass and the minute before, the busiest
    minute under cProfile, with the SQL statements and the time inside the driver per storage
    function (and the watcher function that called it).

    The baseline: at the sizes of `--baseline-jobs`, the watcher as it was at `--baseline-ref`
    (read from git, with the storage queries and the judging functions it used then; the
    default is the last per-job watcher: one run query and one milestone query per occurrence,
    a history per run) runs the same first pass and minutes on another copy of the same
    seeded database, untraced. A closing table puts every watcher, backend and
    size side by side against the aims. Above 2,000 jobs the tracemalloc replays are skipped.

Run: python bench/watch.py [--jobs 1000[,10000...]] [--backend sqlite|postgresql|both]
                           [--minutes 10] [--downtime HOURS] [--baseline-jobs 200[,...]|0]
                           [--baseline-ref REV] [--budget SECONDS] [--per-minute] [--profile]
The default (1,000 jobs, a 200-job baseline, both backends) takes about three minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import ctypes
import gc
import io
import math
import os
import pstats
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import types
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from types import FrameType
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import greenlet  # type: ignore[import-untyped]
from sqlalchemy import bindparam, event, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

# Run as `python bench/watch.py`, bench/ is first on sys.path and bench/ingest.py would shadow
# the `ingest` package: the repository goes first.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from local_services import HOST, PG_PORT, postgresql_reachable

from alerts import schedule
from alerts.schedule import cron_trigger, occurrences
from alerts.watcher import Watcher
from ingest.schemas import JobDefinition
from opentrace.job_files import definition_problems
from storage import job_state
from storage.durations import parse_duration
from storage.engine import create_engine, migrate
from storage.models import Event, Job, Run
from storage.types import UTCDateTime

PG_USER = "postgres"
PG_ADMIN_DB = "test"
PG_TIMEOUT_SECONDS = 60.0
SEED = 5
AIM_MS_PER_MINUTE = 100.0
AIM_MB = 200.0
TRACE_UP_TO_JOBS = 2_000
BASELINE_REF = "d00f53b"  # the last commit with the per-job watcher
MINUTE = timedelta(minutes=1)
# The day whose busiest minute is looked for: Tue 24 Nov 2026 12:00 UTC to Wed 12:00 UTC
# (no DST change near it in Berlin or New York).
DAY_START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HISTORY = timedelta(days=9)  # runs inserted for the occurrences of the last 9 days ...
HISTORY_RUNS = 100  # ... at most this many per job (enough for the downtime's deadlines)
DOWNTIME = timedelta(hours=24)  # how long the watcher was down before the first pass
INSERT_CHUNK = 5_000
JOBS = Job.__table__  # type: ignore[attr-defined]
RUNS = Run.__table__  # type: ignore[attr-defined]
EVENTS = Event.__table__  # type: ignore[attr-defined]
REVISIONS = job_state.JobRevision.__table__  # type: ignore[attr-defined]
MILESTONE_NAMES = ("file-received", "file-read", "rows-loaded", "validated", "report-published",
                   "export-sent")
ZONES = (None, "UTC", "Europe/Berlin", "America/New_York")  # None: the watcher's default, UTC
ZONE_WEIGHTS = (0.55, 0.10, 0.25, 0.10)
# What happens to one scheduled occurrence.
OUTCOMES = ("normal", "missing", "stopped", "failed", "stalled")
OUTCOME_WEIGHTS = (0.91, 0.03, 0.03, 0.02, 0.01)
NIGHT_HOURS = (0, 1, 2, 3, 4, 5, 22, 23)  # nightly jobs, local time: most just after midnight
NIGHT_HOUR_WEIGHTS = (0.45, 0.15, 0.12, 0.08, 0.08, 0.07, 0.025, 0.025)


# --- the world: definitions and runs, pure and seeded -------------------------------------------


@dataclass(frozen=True)
class Shape:
    """A kind of schedule, with the expectations that fit it."""

    name: str
    weight: float
    start_within: tuple[tuple[str, float], ...]  # (duration, weight)
    milestone_by: tuple[str, ...]  # candidate milestone deadlines, ascending
    max_runtime: str
    max_runtime_share: float


SHAPES = (
    Shape("nightly", 0.55, (("15m", 0.25), ("30m", 0.60), ("1h", 0.15)),
          ("45m", "1h", "1h30m", "2h", "3h", "4h", "5h", "5h50m"), "8h", 0.3),
    Shape("business", 0.12, (("15m", 0.5), ("30m", 0.5)), ("45m", "1h", "2h"), "3h", 0.2),
    Shape("hourly", 0.12, (("10m", 1.0),), ("20m", "30m", "45m"), "50m", 0.2),
    Shape("quarter", 0.10, (("5m", 1.0),), ("8m", "10m", "12m"), "14m", 0.2),
    Shape("weekly", 0.06, (("30m", 1.0),), ("1h", "2h", "4h"), "8h", 0.2),
    Shape("monthly", 0.05, (("1h", 1.0),), ("2h", "4h", "8h"), "12h", 0.2),
)


@dataclass(frozen=True)
class JobPlan:
    id: int
    slug: str
    shape: str
    schedule: str
    zone: str | None
    expect: dict[str, Any]
    start_within: timedelta
    milestones: tuple[tuple[str, timedelta], ...]

    def definition(self) -> dict[str, Any]:
        """The body a PUT /v1/jobs/{job} would carry."""
        body: dict[str, Any] = {"title": self.title, "schedule": self.schedule, "expect": self.expect}
        if self.zone is not None:
            body["timezone"] = self.zone
        return body

    @property
    def title(self) -> str:
        return f"{self.shape.title()} job {self.id:05d}"

    def deadlines(self, occurrence: datetime) -> list[datetime]:
        return [occurrence + self.start_within] + [occurrence + by for _, by in self.milestones]


@dataclass(frozen=True, slots=True)
class EventPlan:
    at: datetime
    kind: str  # milestone | metric
    name: str
    status: str | None = None
    value: float | None = None


@dataclass(frozen=True, slots=True)
class RunPlan:
    """One run as it will have happened; `state_at` tells what the database holds at a moment."""

    id: int
    job_id: int
    key: str
    started_at: datetime
    finished_at: datetime | None  # None: it never finishes (stalled)
    status: str  # once finished
    events: tuple[EventPlan, ...]

    def moments(self) -> list[datetime]:
        """When something about the run arrives."""
        times = [self.started_at, *(e.at for e in self.events)]
        return times + ([self.finished_at] if self.finished_at else [])

    def row_at(self, moment: datetime, judged_until: datetime | None = None) -> dict[str, Any]:
        """The run as stored at `moment`; not judged since (`pending`) if it reported after
        `judged_until` (always, without one), as the event writer leaves it."""
        finished = self.finished_at is not None and self.finished_at <= moment
        last = max(t for t in self.moments() if t <= moment)
        return {"id": self.id, "job_id": self.job_id, "key": self.key,
                "status": self.status if finished else "running", "started_at": self.started_at,
                "has_start": True, "finished_at": self.finished_at if finished else None,
                "last_event_at": last, "attributes": {},
                "summary": "exit code 1" if finished and self.status == "failed" else None,
                "created_at": self.started_at,
                "pending": judged_until is None or last > judged_until}

    def event_rows(self, after: datetime | None, until: datetime, first_id: int) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for e in self.events:
            if (after is None or e.at > after) and e.at <= until:
                rows.append({"id": first_id + len(rows), "run_id": self.id, "kind": e.kind, "at": e.at,
                             "received_at": e.at, "key": None, "name": e.name, "value": e.value,
                             "status": e.status, "data": {}})
        return rows


@dataclass
class Expected:
    """What the plan says a window's passes must open (deadlines that fall in the window)."""

    did_not_start: int = 0
    milestone_missed: int = 0
    start_deadlines_with_run: int = 0


@dataclass
class World:
    jobs: list[JobPlan]
    t0: datetime
    minutes: int
    busiest: datetime  # the minute (its end) with most schedule deadlines
    deadlines_per_minute: Counter[datetime]  # minute end -> schedule deadlines in (end-1m, end]
    day_peaks: list[tuple[datetime, int]]  # the day's busiest minutes (their ends), most first
    downtime: timedelta = DOWNTIME

    @property
    def end(self) -> datetime:
        return self.t0 + self.minutes * MINUTE

    @property
    def down_since(self) -> datetime:
        """The watcher's last pass before the restart at T0: its bookmark on every job."""
        return self.t0 - self.downtime

    @property
    def defined_at(self) -> datetime:
        """When every definition was set: before any run, so that each is judged by it."""
        return self.t0 - HISTORY - DAY

    def minute_ends(self) -> list[datetime]:
        return [self.t0 + (i + 1) * MINUTE for i in range(self.minutes)]


def plan_world(job_count: int, minutes: int, downtime: timedelta = DOWNTIME) -> World:
    """The jobs, and T0 two minutes before the busiest minute of the day: the first minute after
    the first pass is an ordinary one, the second the busiest."""
    jobs = [plan_job(i + 1) for i in range(job_count)]
    per_minute = deadline_histogram(jobs, DAY_START, DAY_START + DAY)
    peaks = sorted(per_minute.items(), key=lambda item: (-item[1], item[0]))[:5]
    busiest = peaks[0][0]
    t0 = busiest - 2 * MINUTE
    window = deadline_histogram(jobs, t0, t0 + minutes * MINUTE)
    return World(jobs, t0, minutes, busiest, window, peaks, downtime)


def plan_job(job_id: int) -> JobPlan:
    rng = random.Random(f"{SEED}:job:{job_id}")
    shape = rng.choices(SHAPES, [s.weight for s in SHAPES])[0]
    zone = rng.choices(ZONES, ZONE_WEIGHTS)[0]
    within_text = rng.choices([d for d, _ in shape.start_within], [w for _, w in shape.start_within])[0]
    within = parse_duration(within_text)
    candidates = [b for b in shape.milestone_by if parse_duration(b) > within]
    count = rng.randint(1, min(3, len(candidates)))
    bys = sorted(rng.sample(candidates, count), key=parse_duration)
    names = sorted(rng.sample(MILESTONE_NAMES, count), key=MILESTONE_NAMES.index)
    expect: dict[str, Any] = {"start_within": within_text,
                              "milestones": [{"name": n, "by": b} for n, b in zip(names, bys, strict=True)]}
    if rng.random() < shape.max_runtime_share:
        expect["max_runtime"] = shape.max_runtime
    if rng.random() < 0.2:
        expect["metrics"] = {"rows_skipped": {"usual": True}}
    return JobPlan(job_id, f"{shape.name}-{job_id:05d}", shape.name, cron_for(shape.name, rng), zone,
                   expect, within, tuple((n, parse_duration(b)) for n, b in zip(names, bys, strict=True)))


def cron_for(shape: str, rng: random.Random) -> str:
    if shape == "nightly":
        odd_minute = rng.randrange(5, 60, 5)
        minute = rng.choices([0, 30, rng.choice([15, 45]), odd_minute], [0.7, 0.2, 0.06, 0.04])[0]
        hour = rng.choices(NIGHT_HOURS, NIGHT_HOUR_WEIGHTS)[0]
        weekdays = "1-5" if rng.random() < 0.2 else "*"
        return f"{minute} {hour} * * {weekdays}"
    if shape == "business":
        return f"{rng.choice([0, 30])} {rng.randint(6, 18)} * * 1-5"
    if shape == "hourly":
        return f"{rng.randrange(0, 60, 5)} * * * *"
    if shape == "quarter":
        return rng.choice(["*/15 * * * *", "*/15 6-20 * * 1-5"])
    if shape == "weekly":
        return f"0 {rng.randint(0, 6)} * * {rng.choice([0, 1, 6])}"
    return f"0 {rng.randint(0, 6)} 1 * *"


@cache
def scheduled(schedule: str, zone: str | None, after: datetime, until: datetime) -> tuple[datetime, ...]:
    """Occurrences in (after, until], as the watcher computes them (shared by identical schedules)."""
    return tuple(occurrences(cron_trigger(schedule, zone or "UTC"), after, until, limit=100_000))


def deadline_histogram(jobs: Sequence[JobPlan], start: datetime, end: datetime) -> Counter[datetime]:
    """Schedule deadlines per minute over (start, end], keyed by the minute's end."""
    counts: Counter[datetime] = Counter()
    for job in jobs:
        reach = max(job.deadlines(start)) - start
        for occurrence in scheduled(job.schedule, job.zone, start - reach, end):
            for at in job.deadlines(occurrence):
                if start < at <= end:
                    counts[minute_end(at)] += 1
    return counts


def minute_end(at: datetime) -> datetime:
    floor = at.replace(second=0, microsecond=0)
    return floor if floor == at else floor + MINUTE


def validate(jobs: Sequence[JobPlan]) -> int:
    """Every definition passes the PUT /v1/jobs checks; returns the distinct shapes checked.
    The shortest gap of each (schedule, zone) is worked out once (`schedule.shortest_gap` is
    most of a check's cost, and the same for every definition that shares them)."""
    seen: set[str] = set()
    gaps: dict[str, timedelta] = {}

    def shortest_gap(trigger: Any, start: datetime, samples: int = 60) -> timedelta:
        key = f"{trigger!r}:{samples}"
        if key not in gaps:
            gaps[key] = real_gap(trigger, start, samples)
        return gaps[key]

    real_gap = schedule.shortest_gap
    schedule.shortest_gap = shortest_gap
    try:
        for job in jobs:
            shape = repr((job.schedule, job.zone, job.expect))
            if shape in seen:
                continue
            seen.add(shape)
            problems = definition_problems(JobDefinition.model_validate(job.definition()))
            if problems:
                raise SystemExit(f"bench bug: {job.slug} {job.definition()} is refused: {problems}")
    finally:
        schedule.shortest_gap = real_gap
    return len(seen)


def plan_runs(job: JobPlan, world: World, expected: Expected, expected_first: Expected,
              first_id: int) -> list[RunPlan]:
    """The job's runs from 9 days (at most 100 occurrences) before T0 to the end of the window."""
    rng = random.Random(f"{SEED}:runs:{job.id}")
    before = scheduled(job.schedule, job.zone, world.t0 - HISTORY, world.t0)[-HISTORY_RUNS:]
    during = scheduled(job.schedule, job.zone, world.t0, world.end)
    runs: list[RunPlan] = []
    for occurrence in before + during:
        outcome = rng.choices(OUTCOMES, OUTCOME_WEIGHTS)[0]
        run = None if outcome == "missing" else plan_run(job, occurrence, outcome, rng, first_id + len(runs))
        count_expected(job, occurrence, run, (world.t0, world.end), expected)
        count_expected(job, occurrence, run, (world.down_since, world.t0), expected_first)
        if run is not None:
            runs.append(run)
    return runs


def plan_run(job: JobPlan, occurrence: datetime, outcome: str, rng: random.Random, run_id: int) -> RunPlan:
    started = occurrence + job.start_within * rng.uniform(0.0, 0.5)
    reached_all = len(job.milestones)
    if outcome in ("stopped", "failed", "stalled"):
        reached_all = rng.randint(0, len(job.milestones) - 1)
    events: list[EventPlan] = []
    last = started
    for name, by in job.milestones[:reached_all]:
        last = max(last + timedelta(seconds=1), occurrence + by * rng.uniform(0.4, 0.9))
        events.append(EventPlan(last, "milestone", name, status="reached"))
    status, finished = "succeeded", last + (job.milestones[-1][1] * 0.1) * rng.uniform(0.1, 1.0)
    if outcome == "failed":
        name = job.milestones[reached_all][0]
        events.append(EventPlan(finished, "milestone", name, status="failed"))
        status = "failed"
    elif outcome == "stopped":
        status = "partial"
    if "metrics" in job.expect and outcome != "stalled":
        skipped = 8_911.0 if outcome == "stopped" else float(rng.randint(30, 50))
        events.append(EventPlan(finished - timedelta(seconds=1), "metric", "rows_skipped", value=skipped))
    events.sort(key=lambda e: e.at)
    return RunPlan(run_id, job.id, f"{occurrence:%Y%m%dT%H%MZ}", started,
                   None if outcome == "stalled" else finished, status, tuple(events))


def count_expected(job: JobPlan, occurrence: datetime, run: RunPlan | None,
                   window: tuple[datetime, datetime], expected: Expected) -> None:
    """The alerts of one occurrence that fall due in the window (after, until]."""
    def in_window(at: datetime) -> bool:
        return window[0] < at <= window[1]

    if in_window(occurrence + job.start_within):
        if run is None:
            expected.did_not_start += 1
        else:
            expected.start_deadlines_with_run += 1
    if run is None:
        return
    for name, by in job.milestones:
        deadline = occurrence + by
        reached = [e.at for e in run.events if e.kind == "milestone" and e.name == name
                   and e.status == "reached" and e.at <= deadline]
        if in_window(deadline) and not reached:
            expected.milestone_missed += 1


# --- seeding --------------------------------------------------------------------------------------


@dataclass
class Seeded:
    jobs: int = 0
    runs: int = 0
    events: int = 0
    seconds: float = 0.0
    shapes_validated: int = 0
    expected: Expected = field(default_factory=Expected)  # by the minute-by-minute passes
    expected_first: Expected = field(default_factory=Expected)  # by the first pass
    pending: int = 0  # runs left marked for the watcher: they reported while it was down
    feed: list[RunPlan] = field(default_factory=list)  # runs with telemetry after T0


async def seed(engine: AsyncEngine, world: World) -> Seeded:
    """The database as a watcher down since `world.down_since` finds it at T0: jobs defined
    before their first run, each judged until then and due since; runs and events as they
    stand at T0, those that reported while it was down still marked for it, as the event
    writer marks them (and each job's revision raised). Runs generated job by job and
    inserted in chunks: only the window's runs stay in memory."""
    seeded = Seeded()
    started = time.perf_counter()
    seeded.shapes_validated = validate(world.jobs)
    async with engine.begin() as connection:
        rows = [job_row(job, world) for job in world.jobs]
        for chunk in chunks(rows, INSERT_CHUNK):
            await connection.execute(JOBS.insert(), chunk)
            await connection.execute(REVISIONS.insert(), [
                {"job_id": row["id"], "revision": 1} for row in chunk])
        seeded.jobs = len(rows)
        run_rows: list[dict[str, Any]] = []
        event_rows: list[dict[str, Any]] = []
        for job in world.jobs:
            for run in plan_runs(job, world, seeded.expected, seeded.expected_first, seeded.runs + 1):
                seeded.runs += 1
                if any(moment > world.t0 for moment in run.moments()):
                    seeded.feed.append(run)
                if run.started_at <= world.t0:
                    run_rows.append(run.row_at(world.t0, world.down_since))
                    seeded.pending += run_rows[-1]["pending"]
                    event_rows += run.event_rows(None, world.t0, seeded.events + len(event_rows) + 1)
            if len(run_rows) >= INSERT_CHUNK:
                seeded.events += await insert_runs(connection, run_rows, event_rows)
                run_rows, event_rows = [], []
        seeded.events += await insert_runs(connection, run_rows, event_rows)
        if connection.dialect.name == "postgresql":
            for table in ("jobs", "runs", "events"):
                await connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"))
    async with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            await connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        else:
            await connection.execute(text("ANALYZE"))
    seeded.seconds = time.perf_counter() - started
    return seeded


def job_row(job: JobPlan, world: World) -> dict[str, Any]:
    """As `put_job` left it at `world.defined_at`, with the bookmark the watcher left at its
    last pass (`world.down_since`), everything due since then."""
    return {"id": job.id, "slug": job.slug, "title": job.title, "description": "", "aliases": [],
            "owner": "", "timezone": job.zone, "schedule": job.schedule, "expect": job.expect,
            "alert": [], "checked_until": world.down_since, "next_check_at": world.down_since,
            "created_at": world.defined_at, "updated_at": world.defined_at}


async def insert_runs(connection: Any, runs: list[dict[str, Any]], events: list[dict[str, Any]]) -> int:
    for chunk in chunks(runs, INSERT_CHUNK):
        await connection.execute(RUNS.insert(), chunk)
    for chunk in chunks(events, INSERT_CHUNK):
        await connection.execute(EVENTS.insert(), chunk)
    return len(events)


def chunks(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


# --- telemetry arriving during the window ----------------------------------------------------------


RUN_UPDATE = update(RUNS).where(RUNS.c.id == bindparam("rid")).values(
    status=bindparam("new_status"), finished_at=bindparam("new_finished", type_=UTCDateTime()),
    last_event_at=bindparam("new_last", type_=UTCDateTime()), summary=bindparam("new_summary"),
    pending=True)


class Telemetry:
    """Writes, minute by minute, what the runs in the window report, as the event writer
    would have: the runs marked for the watcher, and their jobs' revisions raised (forgetting
    what is kept of the runs written to and later ones) in the same transaction."""

    def __init__(self, feed: list[RunPlan], t0: datetime) -> None:
        self._by_minute: dict[datetime, list[RunPlan]] = {}
        for run in feed:
            for end in sorted({minute_end(m) for m in run.moments() if m > t0}):
                self._by_minute.setdefault(end, []).append(run)
        self._next_event_id = 0

    async def write(self, engine: AsyncEngine, after: datetime, until: datetime) -> int:
        """Everything that happened in (after, until]; returns the rows written."""
        touched = {run.id: run for end, runs in self._by_minute.items() if after < end <= until
                   for run in runs}
        new_runs, changed, events = [], [], []
        writes: dict[int, tuple[int, datetime]] = {}  # run id -> (job id, earliest new moment)
        for run in touched.values():
            if run.started_at > until:
                continue
            writes[run.id] = (run.job_id, min(m for m in run.moments() if after < m <= until))
            row = run.row_at(until)
            if run.started_at > after:
                new_runs.append(row)
            else:
                changed.append({"rid": run.id, "new_status": row["status"],
                                "new_finished": row["finished_at"], "new_last": row["last_event_at"],
                                "new_summary": row["summary"]})
            events += run.event_rows(after, until, 0)
        async with engine.begin() as connection:
            if not self._next_event_id:
                self._next_event_id = (await connection.execute(select(func.max(EVENTS.c.id)))).scalar() or 0
            for row in events:
                self._next_event_id += 1
                row["id"] = self._next_event_id
            if new_runs:
                await connection.execute(RUNS.insert(), new_runs)
            await job_state.note_writes(connection, writes)  # before the runs' rows change
            if changed:
                await connection.execute(RUN_UPDATE, changed)
            if events:
                await connection.execute(EVENTS.insert(), events)
        return len(new_runs) + len(changed) + len(events)


# --- driving the watcher ---------------------------------------------------------------------------


@dataclass
class FakeClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


class StatementCounter:
    """Counts SQL statements on an engine (a cursor-execute listener: negligible cost)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._one)

    def _one(self, *_: Any) -> None:
        self.count += 1


@dataclass
class Pass:
    """One evaluation: `check_due()` called until no job is due at `at`."""

    at: datetime
    due: int  # jobs due when it began
    deadlines: int  # schedule deadlines that fell in the minute
    calls: list[float] = field(default_factory=list)  # seconds per check_due call
    opened: Counter[str] = field(default_factory=Counter)  # alerts opened, by kind
    statements: int = 0
    traced_peak: int = 0  # tracemalloc peak, bytes (traced runs only)

    @property
    def seconds(self) -> float:
        return sum(self.calls)


async def evaluate(watcher: Any, engine: AsyncEngine, counter: StatementCounter, at: datetime,
                   deadlines: int) -> Pass:
    due = await count_due(engine, at)
    result = Pass(at, due, deadlines)
    # Each call judges at least one due job and moves its next check past `at` (or an hour on,
    # if judging it raised), so due + 1 calls always suffice.
    for _ in range(due + 1):
        before = counter.count
        started = time.perf_counter()
        opened = await watcher.check_due()
        result.calls.append(time.perf_counter() - started)
        result.statements += counter.count - before
        result.opened.update(o.alert.kind for o in opened)
        if not await count_due(engine, at):
            break
    else:
        print(f"  warning: jobs still due at {at:%H:%M} after {len(result.calls)} calls", file=sys.stderr)
    return result


async def count_due(engine: AsyncEngine, at: datetime) -> int:
    async with engine.connect() as connection:
        query = select(func.count()).select_from(JOBS).where(
            JOBS.c.next_check_at <= bindparam("at", at, type_=UTCDateTime()))
        return int((await connection.execute(query)).scalar() or 0)


@dataclass
class Minutes:
    passes: list[Pass]
    telemetry_rows: int  # rows written between the passes (not timed)
    cut_short: bool  # the wall-clock budget ran out before the last minute


class Replay:
    """The watcher on one database: the fake clock, and the telemetry the runs report."""

    def __init__(self, engine: AsyncEngine, world: World, feed: list[RunPlan],
                 make: WatcherFactory = Watcher) -> None:
        self.engine = engine
        self.world = world
        self.clock = FakeClock(world.t0)
        self.watcher = make(engine, clock=self.clock, default_timezone="UTC")
        self.counter = StatementCounter(engine)
        self.telemetry = Telemetry(feed, world.t0)
        self.telemetry_rows = 0

    async def first_pass(self) -> Pass:
        return await evaluate(self.watcher, self.engine, self.counter, self.world.t0, 0)

    async def minute(self, end: datetime) -> Pass:
        """What the runs reported during the minute ending at `end` (not timed), then the
        minute's evaluation."""
        self.telemetry_rows += await self.telemetry.write(self.engine, self.clock.now, end)
        self.clock.now = end
        return await evaluate(self.watcher, self.engine, self.counter, end,
                              self.world.deadlines_per_minute[end])


async def minute_by_minute(replay: Replay, world: World, budget_seconds: float) -> Minutes:
    """Every minute of the window, after the first pass, by the watcher that made it (as a
    server keeps its watcher: what it keeps in memory stays warm); stops early (but never
    before the busiest minute) once `budget_seconds` of wall time are spent."""
    started = time.monotonic()
    passes = []
    for end in world.minute_ends():
        passes.append(await replay.minute(end))
        if time.monotonic() - started > budget_seconds and end >= world.busiest:
            break
    return Minutes(passes, replay.telemetry_rows, len(passes) < world.minutes)


async def traced_first_call(engine: AsyncEngine, world: World, feed: list[RunPlan]) -> Pass:
    """One `check_due()` call at T0 (as seeded: every job due) under tracemalloc: the whole
    first pass, in batches of `alerts.watcher.BATCH` jobs, one session each."""
    replay = Replay(engine, world, feed)
    result = Pass(world.t0, await count_due(engine, world.t0), 0)
    tracemalloc.start()
    try:
        opened = await replay.watcher.check_due()
        result.traced_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    result.calls.append(0.0)
    result.due -= await count_due(engine, world.t0)  # the jobs this one call judged
    result.opened.update(o.alert.kind for o in opened)
    return result


async def traced_minutes(engine: AsyncEngine, world: World, feed: list[RunPlan]) -> list[Pass]:
    """The minute before the busiest and the busiest, after a first pass (not traced), under
    tracemalloc: the peak of each evaluation (traced since just before it)."""
    replay = Replay(engine, world, feed)
    await replay.first_pass()
    passes = []
    for end in world.minute_ends()[:2]:
        tracemalloc.start()
        try:
            result = await replay.minute(end)
            result.traced_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        passes.append(result)
    return passes


@dataclass
class SqlByCaller:
    """Statements, and time inside the driver (query and fetch, including the hop to
    aiosqlite's thread), per storage function and the watcher function that called it."""

    statements: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    _open: list[tuple[str, float]] = field(default_factory=list)

    def before(self, *_: Any) -> None:
        self._open.append((issuer(), time.perf_counter()))

    def after(self, *_: Any) -> None:
        caller, started = self._open.pop()
        self.statements[caller] += 1
        self.seconds[caller] += time.perf_counter() - started


def issuer() -> str:
    """SQLAlchemy runs the statement in a greenlet; its async callers are on the parent's stack."""
    parent = greenlet.getcurrent().parent
    frame: FrameType | None = parent.gr_frame if parent is not None else sys._getframe()
    found: list[str] = []
    while frame is not None and len(found) < 2:
        module = frame.f_globals.get("__name__", "")
        if module.startswith(("storage.", "alerts.")):
            label = f"{module}.{frame.f_code.co_name}"
            if not found or (module.startswith("alerts.") and not found[-1].startswith("alerts.")):
                found.append(label)
        frame = frame.f_back
    return " <- ".join(found) or "?"


@dataclass
class Profiled:
    result: Pass
    sql: SqlByCaller
    stats: str  # pstats text


async def profiled_busiest(engine: AsyncEngine, world: World, feed: list[RunPlan]) -> Profiled:
    """After a first pass and the minute before the busiest (not profiled), the busiest under
    cProfile, with statements and driver time per caller."""
    replay = Replay(engine, world, feed)
    await replay.first_pass()
    await replay.minute(world.minute_ends()[0])
    sql = SqlByCaller()
    event.listen(engine.sync_engine, "before_cursor_execute", sql.before)
    event.listen(engine.sync_engine, "after_cursor_execute", sql.after)
    profile = cProfile.Profile()
    profile.enable()
    try:
        result = await replay.minute(world.busiest)
    finally:
        profile.disable()
        event.remove(engine.sync_engine, "before_cursor_execute", sql.before)
        event.remove(engine.sync_engine, "after_cursor_execute", sql.after)
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(20)
    stats.sort_stats("cumulative").print_stats(r"(alerts|storage)/|apscheduler", 25)
    return Profiled(result, sql, out.getvalue())


async def measure_floor(engine: AsyncEngine, count: int = 300) -> float:
    """p50 seconds of `SELECT 1` through an AsyncSession: one round trip, nothing else."""
    seconds = []
    async with AsyncSession(engine) as session:
        for _ in range(count):
            started = time.perf_counter()
            await session.exec(select(1))  # type: ignore[call-overload]
            seconds.append(time.perf_counter() - started)
    return percentile(seconds, 50)


# --- memory ------------------------------------------------------------------------------------------


def status_mb(field_name: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field_name} in /proc/self/status")


def rss_mb() -> float:
    return status_mb("VmRSS")


def peak_rss_mb() -> float:
    return status_mb("VmHWM")


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux 4.0+); False when the kernel refuses."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def release_memory() -> None:
    """Collect garbage and hand free heap back to the system, so RSS shows what is held."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def bare_interpreter_rss_mb() -> float:
    code = ("from pathlib import Path; print([l.split()[1] for l in "
            "Path('/proc/self/status').read_text().splitlines() if l.startswith('VmRSS:')][0])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          check=True)
    return int(done.stdout.strip()) / 1024


# --- databases ---------------------------------------------------------------------------------------


@dataclass
class Databases:
    """A fresh database, and copies of it (made after seeding) for the replays."""

    backend: str
    folder: Path | None = None
    names: list[str] = field(default_factory=list)

    def url(self, index: int) -> str:
        if self.backend == "sqlite":
            assert self.folder is not None
            return f"sqlite:///{self.folder / f'watch-{index}.db'}"
        return f"postgresql://{PG_USER}@{HOST}:{PG_PORT}/{self.names[index]}"

    async def copy(self) -> int:
        """A copy of database 0 (no connection may be open on it); returns its index."""
        if self.backend == "sqlite":
            assert self.folder is not None
            index = len(list(self.folder.glob("watch-*.db")))
            for suffix in ("", "-wal"):  # the engine is disposed: normally no WAL is left
                source = self.folder / f"watch-0.db{suffix}"
                if source.exists():
                    shutil.copyfile(source, self.folder / f"watch-{index}.db{suffix}")
            return index
        name = f"{self.names[0]}_copy{len(self.names)}"
        await pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.names[0]}"')
        self.names.append(name)
        return len(self.names) - 1


@contextlib.asynccontextmanager
async def fresh_databases(backend: str) -> AsyncIterator[Databases]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="opentrace-bench-watch-") as folder:
            yield Databases(backend, folder=Path(folder))
        return
    databases = Databases(backend, names=[f"opentrace_bench_watch_{secrets.token_hex(4)}"])
    await pg_admin(f'CREATE DATABASE "{databases.names[0]}" TEMPLATE template0')
    try:
        yield databases
    finally:
        for name in reversed(databases.names):
            await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def pg_admin(statement: str) -> None:
    connection = await asyncpg.connect(host=HOST, port=PG_PORT, user=PG_USER, database=PG_ADMIN_DB,
                                       timeout=PG_TIMEOUT_SECONDS)
    try:
        await connection.execute(statement, timeout=PG_TIMEOUT_SECONDS)
    finally:
        await connection.close(timeout=PG_TIMEOUT_SECONDS)



@contextlib.asynccontextmanager
async def opened(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url, timeout_seconds=30.0)
    try:
        yield engine
    finally:
        await engine.dispose()


# --- one backend -------------------------------------------------------------------------------------


@dataclass
class BackendResult:
    backend: str
    seeded: Seeded
    rss_before_seed_mb: float
    rss_after_seed_mb: float
    floor_seconds: float
    load: float  # 1-minute load average when the timed passes began
    first: Pass
    minutes: Minutes
    rss_peak_mb: float | None  # VmHWM over the timed passes, when it could be reset
    rss_sampled_peak_mb: float  # the larger of VmRSS after the first pass and at the end
    rss_end_mb: float
    traced: list[Pass]  # one first-pass call, the minute before the busiest, the busiest
    profiled: Profiled | None


async def bench_backend(backend: str, world: World, budget_seconds: float, profile: bool,
                        baseline: WatcherFactory | None) -> tuple[BackendResult, Timed | None]:
    """Seed; copies as seeded; the timed first pass and minutes, one watcher on one engine;
    then the untimed replays (tracemalloc, cProfile), each on a copy, after an untimed first
    pass of its own; then, when asked, the timed passes of the baseline watcher on a copy."""
    async with fresh_databases(backend) as databases:
        release_memory()
        rss_before = rss_mb()
        async with opened(databases.url(0)) as engine:
            await migrate(engine)
            seeded = await seed(engine, world)
        feed = seeded.feed
        release_memory()
        rss_after = rss_mb()
        print_seeded(backend, seeded, rss_before, rss_after)
        tracing = len(world.jobs) <= TRACE_UP_TO_JOBS  # tracemalloc slows Python several-fold
        as_seeded = [await databases.copy() for _ in range(2 if tracing else 0)]
        for_profile = await databases.copy() if profile else None
        for_baseline = await databases.copy() if baseline is not None else None
        hwm_reset = reset_peak_rss()
        async with opened(databases.url(0)) as engine:
            floor = await measure_floor(engine)
            load = os.getloadavg()[0]
            replay = Replay(engine, world, feed)
            first = await replay.first_pass()
            after_first = rss_mb()
            minutes = await minute_by_minute(replay, world, budget_seconds)
            del replay
        peak = peak_rss_mb() if hwm_reset else None
        rss_end = rss_mb()
        traced: list[Pass] = []
        if tracing:
            async with opened(databases.url(as_seeded[0])) as engine:
                traced = [await traced_first_call(engine, world, feed)]
            async with opened(databases.url(as_seeded[1])) as engine:
                traced += await traced_minutes(engine, world, feed)
        profiled = None
        if for_profile is not None:
            async with opened(databases.url(for_profile)) as engine:
                profiled = await profiled_busiest(engine, world, feed)
        old = None
        if baseline is not None and for_baseline is not None:
            release_memory()
            hwm_reset = reset_peak_rss()
            async with opened(databases.url(for_baseline)) as engine:
                old_replay = Replay(engine, world, feed, baseline)
                old_first = await old_replay.first_pass()
                old_minutes = await minute_by_minute(old_replay, world, budget_seconds)
            old = Timed(old_first, old_minutes, peak_rss_mb() if hwm_reset else rss_mb())
    result = BackendResult(backend, seeded, rss_before, rss_after, floor, load, first, minutes, peak,
                           max(after_first, rss_end), rss_end, traced, profiled)
    return result, old


@dataclass
class Timed:
    """The timed passes of one watcher (the baseline's: no replays)."""

    first: Pass
    minutes: Minutes
    rss_peak_mb: float


WatcherFactory = Any  # Watcher, or the baseline's class: (engine, *, clock, default_timezone)


def baseline_watcher(ref: str) -> WatcherFactory | None:
    """The watcher as it was at `ref` (git), with the storage queries it used then: the
    per-job implementation, measured on the same database as today's for comparison."""
    root = Path(__file__).resolve().parent.parent

    def source(path: str) -> str:
        return subprocess.run(["git", "-C", str(root), "show", f"{ref}:{path}"], capture_output=True,
                              text=True, check=True, timeout=60).stdout

    try:
        storage_code, watcher_code, expectations_code = (
            source("storage/watch.py"), source("alerts/watcher.py"), source("alerts/expectations.py"))
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"note: no baseline: cannot read {ref} from git ({exc})")
        return None
    old_storage = sys.modules["baseline_storage_watch"] = types.ModuleType("baseline_storage_watch")
    exec(compile(storage_code, f"{ref}:storage/watch.py", "exec"), old_storage.__dict__)
    old_rules = sys.modules["baseline_alerts_expectations"] = types.ModuleType("baseline_alerts_expectations")
    exec(compile(expectations_code, f"{ref}:alerts/expectations.py", "exec"), old_rules.__dict__)
    old_watcher = sys.modules["baseline_alerts_watcher"] = types.ModuleType("baseline_alerts_watcher")
    # Its `from alerts.expectations import …` binds the functions of its own time (signatures changed).
    today = sys.modules["alerts.expectations"]
    sys.modules["alerts.expectations"] = old_rules
    try:
        exec(compile(watcher_code, f"{ref}:alerts/watcher.py", "exec"), old_watcher.__dict__)
    finally:
        sys.modules["alerts.expectations"] = today
    old_watcher.watch = old_storage  # type: ignore[attr-defined]  # its `from storage import watch`
    return old_watcher.Watcher


# --- report ------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else 0.0


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def spread(values: Sequence[float]) -> str:
    return (f"p50 {percentile(values, 50):,.1f}, p95 {percentile(values, 95):,.1f}, "
            f"max {max(values, default=0):,.1f}")


def kinds(opened: Counter[str]) -> str:
    return ", ".join(f"{kind} {n:,}" for kind, n in sorted(opened.items())) or "none"


def print_world(world: World) -> None:
    shapes = Counter(job.shape for job in world.jobs)
    zones = Counter(job.zone or "default (UTC)" for job in world.jobs)
    print(f"{len(world.jobs):,} jobs: " + ", ".join(f"{name} {n:,}" for name, n in shapes.most_common()))
    print("zones: " + ", ".join(f"{name} {n:,}" for name, n in zones.most_common()))
    top = ", ".join(f"{m - MINUTE:%H:%M} {n:,}" for m, n in world.day_peaks)
    print(f"busiest minutes of the day (schedule deadlines in the minute starting at, UTC): {top}")
    in_window = sum(world.deadlines_per_minute.values())
    print(f"T0 {world.t0:%a %d %b %Y %H:%M} UTC, then {world.minutes} minutes (the 2nd is the busiest); "
          f"{in_window:,} schedule deadlines in them, {in_window / world.minutes:,.1f} per minute on average")


def print_seeded(backend: str, s: Seeded, rss_before: float, rss_after: float) -> None:
    print(f"\n=== {backend} ===")
    print(f"seeded in {s.seconds:.1f} s: {s.jobs:,} jobs ({s.shapes_validated:,} distinct definitions "
          f"validated), {s.runs:,} runs and {s.events:,} events up to T0 ({s.pending:,} runs reported "
          f"while the watcher was down); {len(s.feed):,} runs report during the window")
    print(f"RSS before seeding {rss_before:,.1f} MB, after seeding {rss_after:,.1f} MB")


def print_result(r: BackendResult, world: World, per_minute: bool) -> None:
    first, minutes = r.first, r.minutes.passes
    print(f"SELECT 1 through an AsyncSession: p50 {ms(r.floor_seconds)} ms; 1-minute load average "
          f"{r.load:.2f} on {os.cpu_count()} CPUs")
    print(f"first pass at T0 (a restart after {world.downtime.total_seconds() / 3600:g} h down: every job "
          f"due; judges the deadlines it slept through and the runs reported meanwhile): {first.due:,} "
          f"jobs in {len(first.calls)} check_due calls, {first.seconds:,.2f} s "
          f"({ms(first.seconds / max(first.due, 1))} ms per job), {first.statements:,} SQL statements, "
          f"alerts opened: {kinds(first.opened)}")
    print_expected(r.seeded.expected_first, first.opened)
    per = [p.seconds * 1000 for p in minutes]
    over = sum(1 for v in per if v >= AIM_MS_PER_MINUTE)
    judged = [p.due for p in minutes]
    opened: Counter[str] = Counter()
    for p in minutes:
        opened.update(p.opened)
    cut = (f" (wall-clock budget spent: stopped after {len(minutes)} of {world.minutes})"
           if r.minutes.cut_short else "")
    print(f"minute by minute: {len(minutes)} simulated minutes{cut}; {r.minutes.telemetry_rows:,} telemetry "
          f"rows written between them (not timed)")
    verdict = "met" if not over else f"MISSED in {over} of {len(per)} minutes"
    print(f"  ms per simulated minute: {spread(per)}, mean {sum(per) / len(per):,.1f}; "
          f"aim < {AIM_MS_PER_MINUTE:.0f} ms: {verdict}")
    print(f"  jobs judged per minute: {spread(judged)}; total {sum(judged):,}")
    print(f"  schedule deadlines per minute: {spread([p.deadlines for p in minutes])}")
    print(f"  ms per job judged: {ms(sum(p.seconds for p in minutes) / max(sum(judged), 1))}")
    print(f"  SQL statements per minute: {spread([p.statements for p in minutes])}")
    print(f"  alerts opened: {sum(opened.values()):,} ({kinds(opened)})")
    if not r.minutes.cut_short:
        print_expected(r.seeded.expected, opened)
    busiest = next(p for p in minutes if p.at == world.busiest)
    print(f"busiest minute, {world.busiest - MINUTE:%H:%M}-{world.busiest:%H:%M} UTC: "
          f"{busiest.deadlines:,} schedule deadlines, {busiest.due:,} jobs judged in {len(busiest.calls)} "
          f"check_due calls: {ms(busiest.seconds)} ms ({ms(busiest.seconds / max(busiest.due, 1))} ms per "
          f"job), {busiest.statements:,} SQL statements, alerts opened: {kinds(busiest.opened)}")
    slowest = sorted(minutes, key=lambda p: -p.seconds)[:5]
    shown = minutes if per_minute else sorted(slowest, key=lambda p: p.at)
    print("  every minute" if per_minute else "  the 5 slowest minutes")
    print("    minute  deadlines    due  calls          ms      SQL  opened")
    for p in shown:
        print(f"    {p.at:%H:%M}  {p.deadlines:9,} {p.due:6,} {len(p.calls):6} {ms(p.seconds):>11} "
              f"{p.statements:8,}  {sum(p.opened.values()):,}")


def print_expected(expected: Expected, opened: Counter[str]) -> None:
    for kind, want in (("did_not_start", expected.did_not_start),
                       ("milestone_missed", expected.milestone_missed)):
        got = opened.get(kind, 0)
        verdict = "as planned" if got == want else "MISMATCH"
        print(f"  {kind}: {got:,} opened, the plan says {want:,} ({verdict})")
    print(f"  start deadlines met by a run (no alert): {expected.start_deadlines_with_run:,}")


def print_memory(r: BackendResult, baseline: float, bare: float) -> None:
    peak = r.rss_peak_mb if r.rss_peak_mb is not None else r.rss_sampled_peak_mb
    how = "VmHWM" if r.rss_peak_mb is not None else "sampled: VmHWM could not be reset"
    print(f"memory (RSS): bare interpreter {bare:,.1f} MB; baseline with the app modules imported "
          f"{baseline:,.1f} MB; before seeding {r.rss_before_seed_mb:,.1f} MB; after seeding "
          f"{r.rss_after_seed_mb:,.1f} MB")
    print(f"  timed passes: peak {peak:,.1f} MB ({how}), at the end {r.rss_end_mb:,.1f} MB; peak above the "
          f"baseline {peak - baseline:,.1f} MB; aim < {AIM_MB:.0f} MB: "
          f"{'met' if peak < AIM_MB else 'MISSED'}")
    labels = ("the first pass", "the minute before the busiest", "the busiest minute")
    if not r.traced:
        print(f"  tracemalloc replays skipped above {TRACE_UP_TO_JOBS:,} jobs")
    for label, p in zip(labels, r.traced, strict=False):
        print(f"  tracemalloc peak, {label}: {p.traced_peak / 2**20:,.1f} MB ({p.due:,} jobs)")


def print_profile(r: BackendResult) -> None:
    if r.profiled is None:
        return
    result, sql = r.profiled.result, r.profiled.sql
    print(f"profile of the busiest minute ({result.due:,} jobs, {ms(result.seconds)} ms under cProfile); "
          f"SQL by caller: statements, driver ms")
    for caller, n in sql.statements.most_common(12):
        print(f"  {n:8,} {ms(sql.seconds[caller]):>10}  {caller}")
    print(r.profiled.stats)


# --- main --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--jobs", type=sizes, default=[1_000], metavar="N[,N...]",
                        help="job counts to measure, e.g. 1000,10000")
    parser.add_argument("--baseline-jobs", type=sizes, default=[200], metavar="N[,N...]",
                        help="job counts at which the baseline watcher is measured too ('0': none)")
    parser.add_argument("--baseline-ref", default=BASELINE_REF,
                        help="the git revision whose watcher is the baseline")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--minutes", type=int, default=10, help="simulated minutes after the first pass")
    parser.add_argument("--downtime", type=float, default=DOWNTIME.total_seconds() / 3600,
                        metavar="HOURS", help="how long the watcher was down before the first pass")
    parser.add_argument("--budget", type=float, default=1800.0, metavar="SECONDS",
                        help="wall time for the minute-by-minute passes; stops early when spent")
    parser.add_argument("--per-minute", action="store_true", help="print every minute, not the 5 slowest")
    parser.add_argument("--profile", action="store_true", help="also profile the busiest minute (a replay)")
    args = parser.parse_args(argv)
    args.baseline_jobs = [n for n in args.baseline_jobs if n]
    if not all(10 <= n <= 100_000 for n in args.jobs + args.baseline_jobs) \
            or not 2 <= args.minutes <= 1_440 or args.budget <= 0 or not 0 < args.downtime <= 48:
        parser.error("--jobs 10..100000, --minutes 2..1440, --budget > 0, --downtime 0..48")
    return args


def sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def choose_backends(choice: str) -> list[str]:
    backends = ["sqlite"] if choice in ("sqlite", "both") else []
    if choice in ("postgresql", "both"):
        if postgresql_reachable():
            backends.append("postgresql")
        else:
            print(f"note: PostgreSQL does not answer on {HOST}:{PG_PORT}; skipping it.")
    return backends


@dataclass(frozen=True)
class Row:
    """One line of the closing table."""

    watcher: str
    backend: str
    jobs: int
    first: Pass
    busiest: Pass
    slowest: Pass
    rss_peak_mb: float
    plan: str


def summary_row(watcher: str, backend: str, world: World, first: Pass, minutes: Minutes,
                rss_peak_mb: float, seeded: Seeded) -> Row:
    busiest = next(p for p in minutes.passes if p.at == world.busiest)
    slowest = max(minutes.passes, key=lambda p: p.seconds)
    opened: Counter[str] = Counter()
    for p in minutes.passes:
        opened.update(p.opened)
    plan = ("as planned" if as_planned(seeded.expected_first, first.opened) else "MISMATCH") + " / " + (
        "not checked (cut short)" if minutes.cut_short
        else "as planned" if as_planned(seeded.expected, opened) else "MISMATCH")
    return Row(watcher, backend, len(world.jobs), first, busiest, slowest, rss_peak_mb, plan)


def as_planned(expected: Expected, opened: Counter[str]) -> bool:
    return (opened["did_not_start"], opened["milestone_missed"]) == (
        expected.did_not_start, expected.milestone_missed)


def print_summary(rows: list[Row], ref: str) -> None:
    print(f"\n=== against the aims (first pass <= 30 s at 10,000 jobs; busiest minute <= "
          f"{AIM_MS_PER_MINUTE:.0f} ms; RSS <= {AIM_MB:.0f} MB); 'baseline' is the watcher at {ref} ===")
    print(f"{'watcher':<9} {'backend':<10} {'jobs':>7} {'first pass s':>12} {'SQL':>8} "
          f"{'busiest ms':>11} {'due':>6} {'SQL':>7} {'slowest ms':>11} {'peak RSS MB':>12}  "
          f"alerts vs plan (first pass / minutes)")
    for r in rows:
        print(f"{r.watcher:<9} {r.backend:<10} {r.jobs:>7,} {r.first.seconds:>12,.2f} "
              f"{r.first.statements:>8,} {r.busiest.seconds * 1000:>11,.1f} {r.busiest.due:>6,} "
              f"{r.busiest.statements:>7,} {r.slowest.seconds * 1000:>11,.1f} {r.rss_peak_mb:>12,.1f}  "
              f"{r.plan}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bare = bare_interpreter_rss_mb()
    release_memory()
    baseline = rss_mb()
    old = baseline_watcher(args.baseline_ref) if args.baseline_jobs else None
    rows: list[Row] = []
    for jobs in sorted(set(args.jobs) | set(args.baseline_jobs)):
        world = plan_world(jobs, args.minutes, timedelta(hours=args.downtime))
        print()
        print_world(world)
        for backend in choose_backends(args.backend):
            compare = old if jobs in args.baseline_jobs else None
            result, before = asyncio.run(bench_backend(backend, world, args.budget, args.profile, compare))
            print_result(result, world, args.per_minute)
            print_memory(result, baseline, bare)
            print_profile(result)
            peak = result.rss_peak_mb if result.rss_peak_mb is not None else result.rss_sampled_peak_mb
            rows.append(summary_row("today", backend, world, result.first, result.minutes, peak,
                                    result.seeded))
            if before is not None:
                rows.append(summary_row("baseline", backend, world, before.first, before.minutes,
                                        before.rss_peak_mb, result.seeded))
                print(f"baseline watcher ({args.baseline_ref}) on a copy of the same database:")
                print_timed(before, world)
    print_summary(rows, args.baseline_ref)
    return 0


def print_timed(t: Timed, world: World) -> None:
    busiest = next(p for p in t.minutes.passes if p.at == world.busiest)
    print(f"  first pass {t.first.seconds:,.2f} s, {t.first.statements:,} SQL statements, alerts opened: "
          f"{kinds(t.first.opened)}")
    print(f"  busiest minute {ms(busiest.seconds)} ms ({busiest.due:,} jobs), {busiest.statements:,} SQL "
          f"statements, alerts opened: {kinds(busiest.opened)}; peak RSS {t.rss_peak_mb:,.1f} MB")


if __name__ == "__main__":
    sys.exit(main())
