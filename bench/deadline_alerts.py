"""Deadline alerts through the real server: when `--jobs` jobs share a deadline minute, how long
after the deadline every alert of that minute is open, seen from outside.

What is measured
    The real `opentrace serve` runs as a subprocess (auth on, the watcher on) on a fresh
    database per backend (a temp SQLite file; a new PostgreSQL database on 127.0.0.1:5432,
    dropped at the end), with an admin and an ingest token made by its own CLI. Everything
    else goes through its HTTP API, on the real clock:

    * the deadline D is the first whole minute at least `--lead` seconds ahead (by default
      about two minutes, more for more jobs: the seeding has to fit before it);
    * every job is daily at D - 10 min UTC ("M H * * *", zone UTC) with `start_within: 10m`
      and one milestone `report-published` by 10m: both deadlines of every job fall at D;
    * history first, as one week of runs reported before the definitions exist (so none of
      it is judged against them): each job ran on each of the `--history-days` previous
      days at its time, reached the milestone after 4 minutes and finished succeeded after 5;
      events in batches of 1,000 per POST /v1/events, a few requests at a time;
    * then the definitions, one PUT /v1/jobs/{job} each (a few at a time);
    * then half of the jobs (odd numbers) start today's run (a `start` event dated 30 s
      after the scheduled time) and never reach the milestone; the other half never start.
      So at D exactly one alert per job is due: `did_not_start` for the even ones,
      `milestone_missed` for the odd ones.
    * the bench then waits for the server to go idle (the watcher has judged the history, the
      definitions and the starts; its CPU use under 5 % of a core over a second) and polls
      `GET /v1/alerts?state=open&limit=1` every `--poll-interval` seconds from D - 3 s (a
      cheap read, so that polling takes little from the server it measures). When the newest
      open alert changes it counts the open alerts in the database directly (read-only,
      outside the server) to know when all are there. It stops once every expected alert is
      open and seen, or `--timeout` seconds after D; then it reads the list once through the
      API (`limit=1000`, the most it returns) and every open alert from the database.

How to read the figures
    For each alert two times, relative to D (positive: after the deadline):
    * "stored": the alert's `opened_at` as the server stored it. The watcher stamps every
      alert of a pass with the time the pass began, so this says when judging started, not
      when the alert could be read;
    * "seen": when the bench's poll first saw it: the arrival of the first poll answer whose
      newest open alert had this alert's id or a later one. This relies on alerts being
      committed in id order, which holds with one judging replica (its passes run one at a
      time, each in one transaction). The poll interval plus a poll's round trip bound the
      precision: an alert seen at +1.30 s became readable at some moment after the previous
      poll was sent ("largest gap" is the widest such interval after the deadline).
    First / median / last are over the alerts of one kind, and over all; the aim (product
    issue "Scale") is on the last alert seen: within 2 s of the deadline for 1,000 jobs,
    within 10 s for 10,000. "server CPU" is the server process's CPU time from D until the
    last alert was seen (not PostgreSQL's). The 1-minute load average is printed at D: this
    machine's 2 cores are shared, and figures move with it.

    Counts compare the alerts open after the poll with the plan: one `did_not_start` per job
    that never started, one `milestone_missed` per job that started; anything else the server
    opened is listed as unexpected.

    `--baseline-ref REV` runs the same scenario, after this tree's, against the server of
    another commit (exported with `git archive` into a temporary directory, run from there on
    a database of its own), so the comparison comes from the same machine at about the same
    time.

Run: python bench/deadline_alerts.py [--jobs 1000] [--backend sqlite|postgresql|both]
         [--lead SECONDS] [--history-days 7] [--poll-interval 0.1] [--timeout SECONDS]
         [--baseline-ref REV]
The default (1,000 jobs, both backends) takes about six minutes: most of it waiting for the
deadline on the real clock.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg  # type: ignore[import-untyped]
from local_services import HOST, PG_PORT, free_port
from server_processes import (
    REPO,
    STARTUP_TIMEOUT_SECONDS,
    BenchError,
    choose_backends,
    cpu_seconds,
    export_tree,
    stop,
    wait_ready,
)

PG_ADMIN_URL = f"postgresql://postgres@{HOST}:{PG_PORT}/postgres"
RUN_PYTHON_MAIN = "from opentrace.cli import main; raise SystemExit(main())"
HTTP_TIMEOUT_SECONDS = 60.0
IDLE_CPU_SHARE = 0.05  # below this share of one CPU over a second, the server counts as idle
SETTLE_MARGIN_SECONDS = 15.0  # seeding must be done this long before the deadline
POLL_FROM_SECONDS = 3.0  # polling starts this long before the deadline
EVENTS_PER_REQUEST = 1000  # the contract's maximum
SEND_AT_ONCE = 4  # event batches in flight together
PUT_AT_ONCE = 8  # job definitions in flight together
START_WITHIN = timedelta(minutes=10)  # and the milestone is due as late: both deadlines at D
MILESTONE = "report-published"
KINDS = ("did_not_start", "milestone_missed")
AIMS = ((1_000, 2.0), (10_000, 10.0))  # (jobs, seconds after the deadline), product issue "Scale"



# --- the plan -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    jobs: int
    deadline: datetime
    history_days: int

    @property
    def scheduled(self) -> datetime:
        return self.deadline - START_WITHIN

    def slug(self, number: int) -> str:
        return f"deadline-{number:05d}"

    def starts(self, number: int) -> bool:
        """Odd jobs start today's run and never reach the milestone; even ones never start."""
        return number % 2 == 1

    def expected(self) -> dict[str, str]:
        """The alert each job should have at the deadline, by slug."""
        return {self.slug(n): "milestone_missed" if self.starts(n) else "did_not_start"
                for n in range(self.jobs)}

    def definition(self, number: int) -> dict[str, Any]:
        at = self.scheduled
        minutes = f"{int(START_WITHIN.total_seconds() // 60)}m"
        return {"title": f"Deadline bench job {number}", "timezone": "UTC",
                "schedule": f"{at.minute} {at.hour} * * *",
                "expect": {"start_within": minutes,
                           "milestones": [{"name": MILESTONE, "by": minutes}]}}

    def history(self) -> list[dict[str, Any]]:
        """Every job's runs of the previous days, each a start, the milestone, a finish."""
        events: list[dict[str, Any]] = []
        for number in range(self.jobs):
            slug = self.slug(number)
            for day in range(1, self.history_days + 1):
                started = self.scheduled - timedelta(days=day) + timedelta(seconds=number % 50)
                run = f"h{day}"
                events += [
                    {"job": slug, "run": run, "kind": "start", "at": _rfc3339(started)},
                    {"job": slug, "run": run, "kind": "milestone", "name": MILESTONE,
                     "at": _rfc3339(started + timedelta(minutes=4))},
                    {"job": slug, "run": run, "kind": "finish", "status": "succeeded",
                     "at": _rfc3339(started + timedelta(minutes=5))},
                ]
        return events

    def today(self) -> list[dict[str, Any]]:
        at = _rfc3339(self.scheduled + timedelta(seconds=30))
        return [{"job": self.slug(n), "run": "today", "kind": "start", "at": at}
                for n in range(self.jobs) if self.starts(n)]


def _rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def aim_for(jobs: int) -> float | None:
    for size, seconds in AIMS:
        if jobs <= size:
            return seconds
    return None


def choose_deadline(lead: float) -> datetime:
    earliest = datetime.now(UTC) + timedelta(seconds=lead)
    minute = earliest.replace(second=0, microsecond=0)
    return minute if minute >= earliest else minute + timedelta(minutes=1)


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeenAlert:
    id: int
    job: str
    kind: str
    stored: float  # opened_at - deadline, seconds
    seen: float | None  # first poll answer that showed it (or a later id) - deadline


@dataclass
class Outcome:
    backend: str
    code: str
    plan: Plan
    load_at_deadline: float = 0.0
    seeding: dict[str, float] = field(default_factory=dict)  # step -> seconds
    alerts: list[SeenAlert] = field(default_factory=list)
    polls: int = 0
    poll_gap: float = 0.0  # the largest interval between two poll sends after the deadline
    poll_round_trip: float = 0.0  # the slowest poll answer
    judging_cpu: float | None = None
    finished: bool = False  # every expected alert open and seen before the timeout
    notes: list[str] = field(default_factory=list)

    def of_kind(self, kind: str | None) -> list[SeenAlert]:
        return [a for a in self.alerts if kind is None or a.kind == kind]


# --- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    backends = choose_backends(args.backend)
    if backends is None:
        return 2
    outcomes: list[Outcome] = []
    notes = [f"1-minute load average before the bench started: {os.getloadavg()[0]:.2f}"]
    try:
        with tempfile.TemporaryDirectory(prefix="opentrace-deadlines-") as tmp:
            workdir = Path(tmp)
            codes = [("this tree", REPO)]
            if args.baseline_ref:
                root = export_tree(args.baseline_ref, workdir / "baseline")
                if root is None:
                    raise BenchError(f"--baseline-ref {args.baseline_ref!r} could not be exported "
                                     f"with git archive from {REPO}")
                codes.append((f"baseline {args.baseline_ref}", root))
            for backend in backends:
                for code, root in codes:
                    outcome = run_one(args, backend, code, root, workdir)
                    print_outcome(outcome, args)
                    outcomes.append(outcome)
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    print_summary(outcomes, notes)
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--lead", type=float, default=None,
                        help="seconds from the start of seeding to the deadline, at least "
                        "(default: 90 + 0.05 per job)")
    parser.add_argument("--history-days", type=int, default=7)
    parser.add_argument("--poll-interval", type=float, default=0.1, help="seconds")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds after the deadline to give up waiting (default: 60, or "
                        "0.02 per job when more)")
    parser.add_argument("--baseline-ref", default=None, metavar="REV",
                        help="also run the server of this commit (git archive), after this tree's")
    args = parser.parse_args(argv)
    if args.jobs < 2 or args.history_days < 0 or args.poll_interval <= 0:
        parser.error("--jobs >= 2, --history-days >= 0, --poll-interval > 0")
    if args.lead is None:
        args.lead = 90 + 0.05 * args.jobs
    if args.timeout is None:
        args.timeout = max(60.0, 0.02 * args.jobs)
    return args




def run_one(args: argparse.Namespace, backend: str, code: str, root: Path,
            workdir: Path) -> Outcome:
    label = f"{backend}-{code.replace(' ', '-')}"
    log = workdir / f"server-{label}.log"
    with fresh_database(backend, workdir, label) as database:
        env = os.environ.copy()
        env.update({"OPENTRACE_DATABASE_URL": database.url, "OPENTRACE_AUTH": "on",
                    "OPENTRACE_WATCH": "on"})
        admin = create_token(env, root, "bench-admin", "admin")
        ingest = create_token(env, root, "bench-ingest", "ingest")
        with real_server(env, log, root) as (port, pid):
            plan = Plan(args.jobs, choose_deadline(args.lead), args.history_days)
            print(f"{backend} ({code}): {args.jobs:,} jobs, deadline {plan.deadline:%H:%M:%S} UTC "
                  f"({(plan.deadline - datetime.now(UTC)).total_seconds():.0f} s ahead)", flush=True)
            outcome = Outcome(backend, code, plan)
            asyncio.run(drive(args, outcome, database, f"http://{HOST}:{port}", pid, admin, ingest))
        outcome.notes += server_log_notes(log)
    return outcome


# --- driving the server ---------------------------------------------------------------------


async def drive(args: argparse.Namespace, outcome: Outcome, database: Database, url: str, pid: int,
                admin: str, ingest: str) -> None:
    plan = outcome.plan
    timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(url, timeout=timeout) as http:
        started = time.monotonic()
        await send_events(http, ingest, plan.history())
        outcome.seeding["history"] = time.monotonic() - started
        started = time.monotonic()
        await put_definitions(http, admin, plan)
        outcome.seeding["definitions"] = time.monotonic() - started
        started = time.monotonic()
        await send_events(http, ingest, plan.today())
        outcome.seeding["starts"] = time.monotonic() - started
        left = seconds_until(plan.deadline)
        if left < SETTLE_MARGIN_SECONDS:
            raise BenchError(f"seeding ended {left:.1f} s before the deadline; give a larger --lead "
                             f"(it was {args.lead:.0f} s)")
        outcome.seeding["idle after"] = await wait_idle(pid, plan.deadline)
        await asyncio.sleep(max(0.0, seconds_until(plan.deadline) - POLL_FROM_SECONDS))
        async with counting(database) as count:
            await poll(args, outcome, http, admin, pid, count)


def seconds_until(at: datetime) -> float:
    return (at - datetime.now(UTC)).total_seconds()


async def send_events(http: aiohttp.ClientSession, token: str, events: list[dict[str, Any]]) -> None:
    gate = asyncio.Semaphore(SEND_AT_ONCE)
    headers = {"Authorization": f"Bearer {token}"}

    async def send(batch: list[dict[str, Any]]) -> None:
        async with gate, http.post("/v1/events", json=batch, headers=headers) as answer:
            if answer.status != 202:
                raise BenchError(f"POST /v1/events answered {answer.status}: {await answer.text()}")

    await asyncio.gather(*(send(events[at:at + EVENTS_PER_REQUEST])
                           for at in range(0, len(events), EVENTS_PER_REQUEST)))


async def put_definitions(http: aiohttp.ClientSession, token: str, plan: Plan) -> None:
    gate = asyncio.Semaphore(PUT_AT_ONCE)
    headers = {"Authorization": f"Bearer {token}"}

    async def put(number: int) -> None:
        async with gate, http.put(f"/v1/jobs/{plan.slug(number)}", json=plan.definition(number),
                                  headers=headers) as answer:
            if answer.status not in (200, 201):
                raise BenchError(f"PUT /v1/jobs answered {answer.status}: {await answer.text()}")

    await asyncio.gather(*(put(number) for number in range(plan.jobs)))


async def wait_idle(pid: int, deadline: datetime) -> float:
    """Seconds until the server used under IDLE_CPU_SHARE of a CPU over a second (it judged
    what the seeding wrote); gives up a few seconds before the deadline."""
    started = time.monotonic()
    while seconds_until(deadline) > POLL_FROM_SECONDS + 2:
        before = cpu_seconds(pid)
        await asyncio.sleep(1.0)
        after = cpu_seconds(pid)
        if before is None or after is None or after - before < IDLE_CPU_SHARE:
            break
    return time.monotonic() - started



async def poll(args: argparse.Namespace, outcome: Outcome, http: aiohttp.ClientSession, token: str,
               pid: int, count: Counting) -> None:
    """Poll the newest open alert until every expected one is open and seen (or the timeout),
    counting them in the database whenever the newest changes; then read them all."""
    plan = outcome.plan
    headers = {"Authorization": f"Bearer {token}"}
    expected = plan.jobs
    stop_at = plan.deadline + timedelta(seconds=args.timeout)
    newest = 0
    first_seen: list[tuple[int, float]] = []  # (newest id, answer time - deadline), as it grew
    cpu_at_deadline: float | None = None
    last_sent: datetime | None = None
    while datetime.now(UTC) < stop_at:
        sent = datetime.now(UTC)
        if cpu_at_deadline is None and sent >= plan.deadline:
            cpu_at_deadline = cpu_seconds(pid)
            outcome.load_at_deadline = os.getloadavg()[0]
        if last_sent is not None and sent > plan.deadline:
            outcome.poll_gap = max(outcome.poll_gap, (sent - last_sent).total_seconds())
        last_sent = sent
        async with http.get("/v1/alerts", params={"state": "open", "limit": "1"},
                            headers=headers) as answer:
            found = (await answer.json())["alerts"]
        arrived = datetime.now(UTC)
        outcome.polls += 1
        outcome.poll_round_trip = max(outcome.poll_round_trip, (arrived - sent).total_seconds())
        if found and found[0]["id"] > newest:
            newest = found[0]["id"]
            first_seen.append((newest, (arrived - plan.deadline).total_seconds()))
            stored, highest = await count()
            if stored >= expected and highest <= newest:
                if cpu_at_deadline is not None and (cpu := cpu_seconds(pid)) is not None:
                    outcome.judging_cpu = cpu - cpu_at_deadline
                outcome.finished = True
                break
        await asyncio.sleep(max(0.0, args.poll_interval - (datetime.now(UTC) - sent).total_seconds()))
    async with http.get("/v1/alerts", params={"state": "open", "limit": "1000"},
                        headers=headers) as answer:
        listed = Counter(alert["kind"] for alert in (await answer.json())["alerts"])
    outcome.alerts = [
        SeenAlert(alert_id, job, kind, (opened - plan.deadline).total_seconds(),
                  next((at for top, at in first_seen if top >= alert_id), None))
        for alert_id, job, kind, opened in await count.everything()]
    outcome.notes.append(f"the API's list, read once at the end, showed {listed.total():,} open "
                         f"alerts ({dict(listed)}); it shows the newest 1,000 at most")


# --- databases: fresh ones, and what the bench reads of them directly -----------------------


@dataclass(frozen=True)
class Database:
    backend: str
    url: str
    path: Path | None = None  # SQLite


@contextlib.contextmanager
def fresh_database(backend: str, workdir: Path, label: str) -> Iterator[Database]:
    if backend == "sqlite":
        path = workdir / f"{label}.db"
        yield Database(backend, f"sqlite:///{path}", path)
        return
    name = f"opentrace_deadlines_{secrets.token_hex(4)}"
    asyncio.run(pg_execute(f'CREATE DATABASE "{name}"'))
    try:
        yield Database(backend, f"postgresql://postgres@{HOST}:{PG_PORT}/{name}")
    finally:
        asyncio.run(pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def pg_execute(query: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_URL, timeout=10)
    try:
        await asyncio.wait_for(connection.execute(query), timeout=30)
    finally:
        await connection.close(timeout=10)


COUNT = "SELECT count(*), coalesce(max(id), 0) FROM alerts WHERE state = 'open'"
EVERYTHING = ("SELECT alerts.id, jobs.slug, alerts.kind, alerts.opened_at FROM alerts "
              "JOIN jobs ON jobs.id = alerts.job_id WHERE alerts.state = 'open' ORDER BY alerts.id")


class Counting:
    """Read-only looks at the alerts table, beside the server: how many are open (to know
    when to stop polling) and, at the end, all of them with their stored opening times."""

    def __init__(self, database: Database, connection: Any) -> None:
        self._database = database
        self._connection = connection

    async def __call__(self) -> tuple[int, int]:
        if self._database.path is not None:
            row = (await asyncio.to_thread(self._sqlite, COUNT))[0]
        else:
            row = await self._connection.fetchrow(COUNT)
        return int(row[0]), int(row[1])

    async def everything(self) -> list[tuple[int, str, str, datetime]]:
        if self._database.path is not None:
            rows = await asyncio.to_thread(self._sqlite, EVERYTHING)
        else:
            rows = await self._connection.fetch(EVERYTHING)
        return [(int(row[0]), str(row[1]), str(row[2]), _utc(row[3])) for row in rows]

    def _sqlite(self, query: str) -> list[tuple[Any, ...]]:
        uri = f"file:{self._database.path}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as connection:
            return connection.execute(query).fetchall()


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@contextlib.asynccontextmanager
async def counting(database: Database) -> AsyncIterator[Counting]:
    if database.path is not None:
        yield Counting(database, None)
        return
    connection = await asyncpg.connect(database.url, timeout=10)
    try:
        yield Counting(database, connection)
    finally:
        await connection.close(timeout=10)


# --- the server -----------------------------------------------------------------------------


def create_token(env: dict[str, str], root: Path, name: str, scope: str) -> str:
    """A token made with the CLI of `root` (the first one also migrates the fresh database)."""
    command = [sys.executable, "-c", RUN_PYTHON_MAIN, "token", "create", name, "--scope", scope]
    try:
        done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                              timeout=STARTUP_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise BenchError("`opentrace token create` did not finish in time") from None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise BenchError(f"`opentrace token create` failed ({done.returncode}):\n{done.stderr}")
    return lines[-1].strip()


@contextlib.contextmanager
def real_server(env: dict[str, str], log: Path, root: Path) -> Iterator[tuple[int, int]]:
    """`opentrace serve` of the code in `root` (`-c` puts the working directory first on
    sys.path, ahead of the editable install of this tree): (port, pid)."""
    port = free_port()
    command = [sys.executable, "-c", RUN_PYTHON_MAIN, "serve", "--host", HOST, "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        try:
            wait_ready(process, port, log)
            yield port, process.pid
        finally:
            stop(process)





def server_log_notes(log: Path) -> list[str]:
    """Warnings, errors and tracebacks the server logged during the run."""
    bad = [line for line in log.read_text(errors="replace").splitlines()
           if re.search(r"\b(WARNING|ERROR|CRITICAL)\b|Traceback", line)]
    if not bad:
        return ["server log: no warnings or errors"]
    sample = "\n    ".join(bad[:5])
    return [f"server log: {len(bad)} warning/error lines, first ones:\n    {sample}"]


# --- report ---------------------------------------------------------------------------------


def spread(values: list[float]) -> str:
    if not values:
        return "—"
    return (f"{min(values):+7.2f} {statistics.median(values):+7.2f} {max(values):+7.2f}")


def print_outcome(outcome: Outcome, args: argparse.Namespace) -> None:
    plan = outcome.plan
    expected = Counter(plan.expected().values())
    wanted = plan.expected()
    unexpected = [a for a in outcome.alerts if wanted.get(a.job) != a.kind]
    print()
    print(f"{outcome.backend} ({outcome.code}), {plan.jobs:,} jobs, deadline "
          f"{plan.deadline:%Y-%m-%d %H:%M:%S} UTC, 1-minute load average at the deadline "
          f"{outcome.load_at_deadline:.2f}")
    print("  seeding: " + ", ".join(f"{step} {seconds:.1f} s"
                                    for step, seconds in outcome.seeding.items()))
    print(f"  polls: {outcome.polls} every {args.poll_interval:.2f} s; largest gap between two "
          f"after the deadline {outcome.poll_gap:.2f} s, slowest answer {outcome.poll_round_trip:.3f} s")
    print(f"  {'kind':<17} {'open/expected':>14}   {'stored: first  median    last':>31}   "
          f"{'seen: first  median    last':>29}  (s after the deadline)")
    for kind in (*KINDS, None):
        found = outcome.of_kind(kind)
        count = f"{len(found):,}/{(expected[kind] if kind else plan.jobs):,}"
        seen = [a.seen for a in found if a.seen is not None]
        print(f"  {kind or 'all':<17} {count:>14}   {spread([a.stored for a in found]):>31}   "
              f"{spread(seen):>29}")
    unseen = [a for a in outcome.alerts if a.seen is None]
    if unseen:
        print(f"  ! {len(unseen)} alerts open in the database were never seen by the poll")
    if unexpected:
        sample = ", ".join(f"{a.job} {a.kind}" for a in unexpected[:5])
        print(f"  ! {len(unexpected)} unexpected alerts, e.g. {sample}")
    if outcome.judging_cpu is not None:
        print(f"  server CPU from the deadline to the last alert seen: {outcome.judging_cpu:.2f} s")
    if not outcome.finished:
        print(f"  ! not every expected alert was open and seen within {args.timeout:.0f} s")
    for note in outcome.notes:
        print(f"  {note}")


def print_summary(outcomes: list[Outcome], notes: list[str]) -> None:
    print()
    print("Against the aim (product issue \"Scale\"): every alert of the minute open within "
          "2 s of the deadline for 1,000 jobs, 10 s for 10,000; the last alert seen counts.")
    print(f"  {'backend':<11} {'code':<20} {'jobs':>7} {'load':>5} {'alerts':>13} "
          f"{'last seen':>10} {'aim':>6}  verdict")
    for o in outcomes:
        seen = [a.seen for a in o.alerts if a.seen is not None]
        last = max(seen) if seen and len(seen) == len(o.alerts) else None
        aim = aim_for(o.plan.jobs)
        complete = o.finished and len(o.alerts) == o.plan.jobs
        if last is None or not complete:
            verdict = "incomplete: not every expected alert opened and was seen"
        elif aim is None:
            verdict = "no aim for this size"
        elif last <= aim:
            verdict = f"met ({aim - last:.2f} s to spare)"
        else:
            verdict = f"MISSED by {last - aim:.2f} s (x{last / aim:.1f})"
        print(f"  {o.backend:<11} {o.code:<20} {o.plan.jobs:>7,} {o.load_at_deadline:>5.2f} "
              f"{f'{len(o.alerts):,}/{o.plan.jobs:,}':>13} "
              f"{'—' if last is None else f'{last:+.2f} s':>10} "
              f"{'—' if aim is None else f'{aim:.0f} s':>6}  {verdict}")
    for note in notes:
        print(f"  {note}")


if __name__ == "__main__":
    raise SystemExit(main())
