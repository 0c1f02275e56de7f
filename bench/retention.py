"""Retention: what pruning a year of history costs ingest, and what it does to the file.

What is measured
    A database is seeded with `--days` nights of `--jobs` jobs (200 x 365: 73,000 runs, about
    1,000,000 events: start, progress, a payload, milestones, metrics reported twice, a note,
    a duration, finish), every night older than the retention window, so all of it is due
    for pruning. Jobs are created through `storage.queries.put_job`; runs and events are bulk
    inserted (the writer would take minutes for a million events). The seeded database is
    copied, and each copy is served by a real `opentrace serve` (auth off, watcher on), one
    after the other:

    * "without pruning": OPENTRACE_RETENTION_DAYS=0;
    * "with pruning": OPENTRACE_RETENTION_DAYS=`--retention-days`, the leader's first pass
      starting one second after start (PRUNE_FIRST_AFTER_SECONDS patched from 60), so the
      catch-up over the whole year runs during the measurement.

    The two take turns, `--rounds` times each (every turn restarts its server, and the
    pruning one's pass goes on from where it stopped).
    Load: `--connections` concurrent clients in this process post batches of `--batch`
    events (progress and metrics of 200 jobs' current runs) to `POST /v1/events` for
    `--duration` seconds, each waiting for its answer before the next. events/s counts
    the events acknowledged with 202 per second; p50/p99 are request latencies.

    The server's pass is paced (it rests at least 9 times as long as each transaction took)
    and takes minutes over a year, so when the measurement ends the server is stopped and
    this process finishes the pass unpaced (`Pruner(pause_seconds=0)`, the same code). Then
    the size of the database: as seeded, once the pass has finished, and after `--further`
    more seconds of the same ingest (a restarted server, retention on). SQLite: the file
    (plus -wal) with no server running; PostgreSQL: pg_total_relation_size('events').

How to read the figures
    "with / without" is the ratio of events/s: the aim is >= 0.90 (pruning costs ingest at
    most 10 %). "srv CPU" is the CPU the server process used per second of load, and "CPU
    ms/1000 ev" per thousand events acknowledged: pruning runs inside the server, so the
    ratio of the latter is its cost measured without the noise of other work on the machine.
    The catch-up pass over a year is the worst case: in steady state an hourly
    pass deletes one hour's worth of aged runs. The load generator shares the CPUs with the
    server (and PostgreSQL), so compare the two rows, not absolute numbers across machines.

Run: python bench/retention.py [--backend sqlite|postgresql|both] [--jobs 200] [--days 365]
     [--duration 24] [--rounds 3] [--further 8] [--connections 16] [--batch 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from local_services import HOST, PG_PORT, free_port, postgresql_reachable
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import queries
from storage.engine import create_engine, migrate
from storage.retention import Pruner, PruneReport

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = f"postgresql://postgres@{HOST}:{PG_PORT}/test"
SEED = 42
STARTUP_TIMEOUT_SECONDS = 60.0
FIRST_PASS_AFTER_SECONDS = 1.0
SERVER_MAIN = ("import alerts.service as s; s.PRUNE_FIRST_AFTER_SECONDS = {first}; "
               "from opentrace.cli import main; raise SystemExit(main())")
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


@dataclass(frozen=True)
class Load:
    events: int
    requests: int
    failures: int
    seconds: float
    latencies_ms: list[float]
    server_cpu: float = 0.0  # CPU seconds the server process used meanwhile

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


@dataclass
class Figures:
    backend: str
    seeded_runs: int = 0
    seeded_events: int = 0
    seed_seconds: float = 0.0
    without: Load | None = None
    with_pruning: Load | None = None
    pruned_while_measured: int = 0  # events the server's pass deleted during the measurement
    rest: PruneReport | None = None  # the rest of the pass, unpaced, in this process
    size_seeded: int = 0
    size_pruned: int = 0
    size_further: int = 0
    size_without: int = 0
    further: Load | None = None
    notes: list[str] | None = None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and not postgresql_reachable():
        print(f"PostgreSQL does not answer on {HOST}:{PG_PORT}.", file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    results = []
    with tempfile.TemporaryDirectory(prefix="opentrace-retention-") as tmp:
        for backend in backends:
            results.append(run_backend(args, backend, Path(tmp)))
    print_report(args, results, load_before)
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--retention-days", type=int, default=30)
    parser.add_argument("--duration", type=int, default=24,
                        help="seconds of load per server, in all its rounds")
    parser.add_argument("--rounds", type=int, default=3,
                        help="the two servers take turns this many times")
    parser.add_argument("--further", type=int, default=8, help="seconds of ingest after pruning")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--batch", type=int, default=20, help="events per request")
    return parser.parse_args(argv)



# --- one backend: seed, copy, measure -------------------------------------------------------


def run_backend(args: argparse.Namespace, backend: str, tmp: Path) -> Figures:
    figures = Figures(backend, notes=[])
    with databases(backend, tmp) as (seeded, without, pruned):
        started = time.monotonic()
        figures.seeded_runs, figures.seeded_events = asyncio.run(seed(args, seeded))
        figures.seed_seconds = time.monotonic() - started
        figures.size_seeded = size(backend, seeded)
        copy(backend, seeded, without)
        copy(backend, seeded, pruned)

        # Taking turns, so that whatever else the machine does weighs on both alike.
        without_loads, with_loads = [], []
        for round_ in range(args.rounds):
            seconds = args.duration / args.rounds
            with server(without, tmp / f"{backend}-without.log", retention_days=0) as (port, pid):
                without_loads.append(measured(args, port, pid, seconds, f"a{round_}-"))
            with server(pruned, tmp / f"{backend}-with.log",
                        retention_days=args.retention_days) as (port, pid):
                with_loads.append(measured(args, port, pid, seconds, f"b{round_}-"))
        figures.without, figures.with_pruning = combined(without_loads), combined(with_loads)
        figures.size_without = size(backend, without)
        figures.pruned_while_measured = (figures.seeded_events + figures.with_pruning.events
                                         - count_events(backend, pruned))
        figures.rest = asyncio.run(finish_pass(pruned, args.retention_days))
        figures.size_pruned = size(backend, pruned)

        with server(pruned, tmp / f"{backend}-further.log", retention_days=args.retention_days) \
                as (port, _):
            figures.further = asyncio.run(load(args, port, args.further, "c"))
        figures.size_further = size(backend, pruned)
        if backend == "sqlite":
            with contextlib.closing(sqlite3.connect(sqlite_path(pruned))) as db:
                mode = db.execute("PRAGMA auto_vacuum").fetchone()[0]
                free = db.execute("PRAGMA freelist_count").fetchone()[0]
            assert figures.notes is not None
            figures.notes.append(f"pruned SQLite file: auto_vacuum={mode} (2 = incremental), "
                                 f"{free} free pages left")
    return figures


@contextlib.contextmanager
def databases(backend: str, tmp: Path) -> Iterator[tuple[str, str, str]]:
    """Three database URLs: the seeded one and two copies of it."""
    if backend == "sqlite":
        yield tuple(f"sqlite:///{tmp / f'{name}.db'}" for name in ("seeded", "without", "with"))  # type: ignore[misc]
        return
    names = [f"opentrace_retention_{name}_{secrets.token_hex(3)}" for name in ("seeded", "without", "with")]
    asyncio.run(pg_admin(f'CREATE DATABASE "{names[0]}"'))
    try:
        yield tuple(f"postgresql://postgres@{HOST}:{PG_PORT}/{n}" for n in names)  # type: ignore[misc]
    finally:
        for name in names:
            asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def copy(backend: str, source: str, target: str) -> None:
    if backend == "sqlite":
        shutil.copy(sqlite_path(source), sqlite_path(target))
        return
    asyncio.run(pg_admin(f'CREATE DATABASE "{target.rsplit("/", 1)[1]}" '
                         f'TEMPLATE "{source.rsplit("/", 1)[1]}"'))


async def pg_admin(statement: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_URL, timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def size(backend: str, url: str) -> int:
    if backend == "sqlite":
        path = sqlite_path(url)
        wal = Path(f"{path}-wal")
        return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    return asyncio.run(pg_value(url, "SELECT pg_total_relation_size('events')"))


def count_events(backend: str, url: str) -> int:
    if backend == "sqlite":
        with contextlib.closing(sqlite3.connect(sqlite_path(url))) as db:
            return int(db.execute("SELECT count(*) FROM events").fetchone()[0])
    return asyncio.run(pg_value(url, "SELECT count(*) FROM events"))


async def pg_value(url: str, query: str) -> int:
    connection = await asyncpg.connect(url, timeout=10)
    try:
        return int(await connection.fetchval(query))
    finally:
        await connection.close()


# --- seeding --------------------------------------------------------------------------------


async def seed(args: argparse.Namespace, url: str) -> tuple[int, int]:
    """Jobs through the storage layer, then a year of runs and events in bulk, all of it
    older than the retention window."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        await migrate(engine)
        async with AsyncSession(engine) as session:
            job_ids = []
            for index in range(args.jobs):
                job = await queries.put_job(f"bench-job-{index:03d}", {"title": f"Job {index}"},
                                            now, session=session)
                job_ids.append(job.id or 0)
    finally:
        await engine.dispose()
    last_night = now - timedelta(days=args.retention_days + 2)
    runs, events = history(job_ids, args.days, last_night)
    if url.startswith("sqlite"):
        insert_sqlite(sqlite_path(url), runs, events)
    else:
        await insert_postgresql(url, runs, events)
    return len(runs), len(events)


RUN_COLUMNS = ("id", "job_id", "key", "status", "started_at", "has_start", "finished_at",
               "last_event_at", "attributes", "summary", "created_at")
EVENT_COLUMNS = ("id", "run_id", "kind", "at", "received_at", "key", "name", "value", "status", "data")


def history(job_ids: list[int], days: int, last_night: datetime
            ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rng = random.Random(SEED)
    runs: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    for day in range(days, 0, -1):
        midnight = (last_night - timedelta(days=day - 1)).replace(hour=0, minute=0, second=0,
                                                                  microsecond=0)
        for job_id in job_ids:
            night = Night(len(runs) + 1, midnight + timedelta(minutes=rng.uniform(0, 300)), rng, events)
            night.add("start", data={"attributes": {"host": "etl-1"}}, after=0)
            night.add("payload", "input-file", data={"data": {"path": f"/data/{job_id}/{day}.csv"}})
            for step in range(3):
                night.add("progress", data={"done": step * 1000, "total": 3000, "unit": "rows"},
                          after=300)
                night.add("milestone", f"step-{step}", status="reached")
            night.add("metric", "rows", float(rng.randint(2900, 3100)), data={"unit": "rows"})
            night.add("metric", "rows", float(rng.randint(2900, 3100)), data={"unit": "rows"})
            night.add("metric", "skipped", float(rng.randint(20, 60)), data={"unit": "rows"})
            night.add("note", data={"text": "read from the supplier's SFTP server", "level": "info"})
            night.add("duration", "load", 42.0, data={"seconds": 42.0})
            status = "failed" if rng.random() < 0.03 else "succeeded"
            night.add("finish", status=status, data={"text": None})
            runs.append((night.run_id, job_id, f"r{day}", status, night.start, True, night.at,
                         night.at, json.dumps({"host": "etl-1"}), None, night.start))
    return runs, events


class Night:
    """One run's events, appended to the shared list with ids in order."""

    def __init__(self, run_id: int, start: datetime, rng: random.Random,
                 events: list[tuple[Any, ...]]) -> None:
        self.run_id, self.start, self.at, self._rng, self._events = run_id, start, start, rng, events

    def add(self, kind: str, name: str | None = None, value: float | None = None,
            status: str | None = None, data: dict[str, Any] | None = None, after: float = 60.0) -> None:
        self.at += timedelta(seconds=self._rng.uniform(0.2, 2) * after)
        self._events.append((len(self._events) + 1, self.run_id, kind, self.at, self.at, None, name,
                             value, status, json.dumps(data or {})))


def insert_sqlite(path: Path, runs: list[tuple[Any, ...]], events: list[tuple[Any, ...]]) -> None:
    def text(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(v.astimezone(UTC).strftime(SQLITE_TIME) if isinstance(v, datetime) else v
                     for v in row)

    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executemany(f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) VALUES "
                       f"({', '.join('?' * len(RUN_COLUMNS))})", map(text, runs))
        db.executemany(f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES "
                       f"({', '.join('?' * len(EVENT_COLUMNS))})", map(text, events))
        db.commit()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def insert_postgresql(url: str, runs: list[tuple[Any, ...]],
                            events: list[tuple[Any, ...]]) -> None:
    connection = await asyncpg.connect(url, timeout=10)
    try:
        async with connection.transaction():
            await connection.copy_records_to_table("runs", records=runs, columns=RUN_COLUMNS)
            await connection.copy_records_to_table("events", records=events, columns=EVENT_COLUMNS)
        for table in ("runs", "events"):  # the identities go on after the seeded ids
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


# --- the server and the load ----------------------------------------------------------------



@contextlib.contextmanager
def server(url: str, log: Path, *, retention_days: int) -> Iterator[tuple[int, int]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENTRACE_")}
    env.update(OPENTRACE_DATABASE_URL=url, OPENTRACE_AUTH="off", OPENTRACE_WATCH="on",
               OPENTRACE_RETENTION_DAYS=str(retention_days))
    command = [sys.executable, "-c", SERVER_MAIN.format(first=FIRST_PASS_AFTER_SECONDS),
               "serve", "--host", HOST, "--port", str(port)]
    with log.open("a") as out:
        process = subprocess.Popen(command, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(port, process, log)
        yield port, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_healthy(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(OSError), \
                urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=1) as answer:
            if answer.status == 200:
                return
        time.sleep(0.1)
    raise SystemExit(f"the server did not answer within {STARTUP_TIMEOUT_SECONDS} s")


def measured(args: argparse.Namespace, port: int, pid: int, seconds: float, prefix: str) -> Load:
    """The load, with the CPU time the server process used meanwhile."""
    before = cpu_seconds(pid)
    result = asyncio.run(load(args, port, seconds, prefix))
    return replace(result, server_cpu=cpu_seconds(pid) - before)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def combined(loads: list[Load]) -> Load:
    return Load(sum(x.events for x in loads), sum(x.requests for x in loads),
                sum(x.failures for x in loads), sum(x.seconds for x in loads),
                [ms for x in loads for ms in x.latencies_ms], sum(x.server_cpu for x in loads))


async def finish_pass(url: str, retention_days: int) -> PruneReport:
    engine = create_engine(url)
    try:
        return await Pruner(engine, pause_seconds=0).prune(
            datetime.now(UTC) - timedelta(days=retention_days))
    finally:
        await engine.dispose()


async def load(args: argparse.Namespace, port: int, seconds: float, prefix: str) -> Load:
    """`--connections` clients posting batches of progress and metrics for the jobs' live runs."""
    url = f"http://{HOST}:{port}/v1/events"
    latencies: list[float] = []
    counts = {"events": 0, "requests": 0, "failures": 0}
    rng = random.Random(SEED)
    stop_at = time.monotonic() + seconds

    async def client(http: aiohttp.ClientSession, number: int) -> None:
        sent = 0
        while time.monotonic() < stop_at:
            job = rng.randrange(args.jobs)
            batch = [{"job": f"bench-job-{job:03d}", "run": f"live-{prefix}{number}",
                      "kind": "metric", "name": "rows", "value": sent + i} if i % 2 else
                     {"job": f"bench-job-{job:03d}", "run": f"live-{prefix}{number}",
                      "kind": "progress", "done": sent + i, "total": 10**9}
                     for i in range(args.batch)]
            sent += args.batch
            began = time.perf_counter()
            async with http.post(url, json=batch) as answer:
                body = await answer.read()
            latencies.append((time.perf_counter() - began) * 1000)
            counts["requests"] += 1
            if answer.status == 202:
                counts["events"] += int(json.loads(body)["accepted"])
            else:
                counts["failures"] += 1

    began = time.monotonic()
    connector = aiohttp.TCPConnector(limit=args.connections)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(client(http, n) for n in range(args.connections)))
    return Load(counts["events"], counts["requests"], counts["failures"],
                time.monotonic() - began, latencies)


# --- report ---------------------------------------------------------------------------------


def mb(size: int) -> str:
    return f"{size / 2**20:,.1f} MB"


def print_report(args: argparse.Namespace, results: list[Figures], load_before: float) -> None:
    print(f"\nnproc {os.cpu_count()}; load average before: {load_before:.2f}; {args.connections} "
          f"clients x batches of {args.batch} events, {args.duration} s per server in "
          f"{args.rounds} turns, on {HOST}")
    for f in results:
        print(f"\n== {f.backend}: {f.seeded_runs:,} runs, {f.seeded_events:,} events seeded "
              f"({args.jobs} jobs x {args.days} nights, all older than {args.retention_days} days) "
              f"in {f.seed_seconds:.0f} s")
        header = (f"{'server':<18} {'events/s':>9} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
                  f"{'failed':>6} {'srv CPU':>8} {'CPU ms/1000 ev':>15}")
        print(header + "\n" + "-" * len(header))
        for label, result in (("without pruning", f.without), ("with pruning", f.with_pruning)):
            if result is not None:
                print(f"{label:<18} {result.events_per_second:>9,.0f} "
                      f"{result.requests / result.seconds:>7,.0f} {result.percentile(0.5):>7.1f} "
                      f"{result.percentile(0.99):>7.1f} {result.failures:>6} "
                      f"{result.server_cpu / result.seconds:>8.0%} "
                      f"{1e6 * result.server_cpu / max(result.events, 1):>15.0f}")
        if f.without and f.with_pruning:
            ratio = f.with_pruning.events_per_second / f.without.events_per_second
            cost = (f.with_pruning.server_cpu / max(f.with_pruning.events, 1)) / \
                (f.without.server_cpu / max(f.without.events, 1))
            print(f"with / without: {ratio:.2f} in events/s (aim >= 0.90); server CPU per event "
                  f"{cost:.2f}x")
        print(f"the server's paced pass deleted {f.pruned_while_measured:,} events while measured "
              f"({f.pruned_while_measured / args.duration:,.0f}/s)")
        if f.rest:
            r = f.rest
            deleted = f.pruned_while_measured + r.deleted
            print(f"the rest of the pass, unpaced: deleted {r.deleted:,} and moved {r.moved:,} events "
                  f"of {r.runs:,} runs in {r.seconds:.1f} s ({r.transactions:,} transactions), gave "
                  f"{r.pages_freed:,} pages back; in all {deleted:,} of the {f.seeded_events:,} "
                  f"seeded events deleted ({deleted / max(f.seeded_events, 1):.0%})")
        what = "file (+ -wal)" if f.backend == "sqlite" else "pg_total_relation_size('events')"
        print(f"size, {what}:")
        print(f"  as seeded                                   {mb(f.size_seeded):>12}")
        print(f"  without pruning, after its load             {mb(f.size_without):>12}")
        print(f"  with pruning, after its load and the pass   {mb(f.size_pruned):>12}")
        further = f.further.events if f.further else 0
        print(f"  then after {further:,} more events ({args.further} s)   {mb(f.size_further):>12}")
        for note in f.notes or []:
            print(note)
        if f.without and f.with_pruning:
            mean = statistics.fmean
            print(f"mean latency: without {mean(f.without.latencies_ms):.1f} ms, "
                  f"with {mean(f.with_pruning.latencies_ms):.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
