"""Ingest throughput and latency of `POST /v1/events`, against a bare aiohttp handler.

What is measured
    wrk (a separate process, on loopback) posts events for `--duration` seconds over
    `--connections` keep-alive connections, after a short warm-up, in two scenarios:
    one event per request, and batches of 100 events per request. The events are metrics
    spread over 4 jobs x 2 runs (runs of their own per scenario). Three kinds of server
    answer, each a subprocess of its own:

    * "bare": an aiohttp app (uvloop when installed, like the real server) whose handler
      only reads the body, `json.loads` it and answers 202 with a small JSON document;
    * "sqlite" and "postgresql": the real `opentrace serve` with auth on (an ingest token
      in `Authorization: Bearer`), on a fresh database, so every 202 means "committed";
    * the same two from `--baseline REF` (default: the last commit before the lean ingest
      path), exported with `git archive` into a temporary directory and run from there on a
      database of its own, so that the improvement is a ratio measured in the same run.

    The bare handler is measured again right before each backend's servers in each scenario,
    and "vs bare" divides by that adjacent figure: on a shared machine the load moves, and
    only numbers taken close together compare.

How to read the figures
    req/s, p50 and p99 come from wrk; events/s counts the events the server acknowledged
    (the `accepted` field of its 202 answers) per second of measurement. "vs bare" is the
    real server's req/s divided by the bare handler's req/s measured just before: the bare
    handler is the ceiling that aiohttp, JSON and this machine allow, so 0.40 means the
    real path (token check, validation, group commit, database) leaves 40 % of it. wrk
    runs on the same CPUs as the server (and the database), so compare ratios, not
    absolute numbers, across machines. "srv CPU" is the CPU time the server process (all
    its threads, not the PostgreSQL backends) used per second of measurement: near 100 %
    means its event loop is the bottleneck; well below, with nothing else running on the
    machine, means it waits (on the database, or on wrk for CPU). "busy after" is how long
    the server kept using CPU once wrk had stopped: work the ingest path deferred (e.g.
    judging the runs it just stored) and had not caught up with; near 0 s is healthy.
    Each real-server scenario starts only once the server is idle again.

    "every acknowledged event stored" compares, per scenario (warm-up included), the
    events acknowledged with 202 against the rows the database gained. When wrk stops it
    drops the requests still in flight without counting them, while the server may still
    commit them: stored may exceed acknowledged by at most the unanswered requests (sent by
    the Lua script, never answered; about one per connection) x events per request.
    Fewer rows than acknowledged, or more than that bound, is a MISMATCH.

The aims (product issue "Scale") are printed against the figures: single events at
concurrency 64 at >= 0.50 of the bare handler (stretch 0.70), p50 <= 3 ms and p99 <= 10 ms,
on SQLite and PostgreSQL; batches of 100 at >= 50,000 events/s on SQLite.

Two replicas (`--replicas 2`, PostgreSQL only)
    Two real servers of this tree on one fresh PostgreSQL database, as behind a load
    balancer, against one of them alone in the same run. For each scenario: replica "a"
    alone takes all `--connections` (one wrk of two threads); then replica "b" is started
    on the same database and two wrk processes of one thread each run at the same time,
    each with half the connections on its own replica (so wrk has two threads in both
    cases), then "b" is stopped again. `--repeat N` measures each scenario N times,
    alternating which of the two goes first, so that a load that drifts favours neither,
    and prints the median ratio. Replica "a" starts first and so leads the watcher
    throughout: it judges what "b" stores too (marked for it, picked up by its sweep), as
    it would in production. Both replicas write to the same runs of the same jobs, so
    their transactions meet on the same rows (`--replica-jobs own` gives each replica jobs
    of its own instead, to see what that meeting costs). The single and the paired
    measurement of a scenario each write runs of their own.

    "combined" is the sum of the two replicas' rates (the wrk processes run for the same
    seconds) and the CPU of both servers; its p50 and p99 come from the two wrk latency
    histograms merged (every request of both, wrk's own percentile rule), not from an
    average of percentiles. "x one" divides the combined events/s by those of the replica
    alone measured next to it; "load" is the 1-minute load average as each measurement
    began (other work on the machine moves these figures by a third). The stored check
    counts both replicas' acknowledged events against the rows the one database gained.
    No bare handler and no baseline commit are measured in this mode.

Run: python bench/ingest.py [--duration 8] [--connections 64] [--backend sqlite|postgresql|both]
     [--baseline REF|none] [--server-env OPENTRACE_WATCH=off]   (extra environment for the
     real servers; repeatable). The default run takes about three minutes.
     python bench/ingest.py --replicas 2 [--repeat 1] [--replica-jobs shared|own] [--duration 8]
     [--connections 64]   (about a minute a repeat)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import asyncpg  # type: ignore[import-untyped]
from aiohttp import web
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
WRK_THREADS = 2
WRK_TIMEOUT_SECONDS = 10
SETTLE_TIMEOUT_SECONDS = 20.0
IDLE_TIMEOUT_SECONDS = 300.0
IDLE_CPU_SHARE = 0.05  # below this share of one CPU over a second, a server counts as idle
RUN_PYTHON_MAIN = "from opentrace.cli import main; raise SystemExit(main())"
# The last commit whose ingest path was the ORM one (model_dump, SQLAlchemy bind processing);
# it already logs a line per request. It predates job_state.note_writes and the set-based
# watcher, which came in the same commit as the lean path, so the comparison includes them.
BASELINE_REF = "e94c7d8"
AIM_RATIO, STRETCH_RATIO, AIM_P50_MS, AIM_P99_MS = 0.50, 0.70, 3.0, 10.0
AIM_BATCH_EVENTS_PER_SECOND = 50_000


@dataclass(frozen=True)
class Scenario:
    name: str
    batch: int  # events per request; 1 sends a single JSON object, more send an array

    @property
    def run_prefix(self) -> str:
        """Each scenario writes runs of its own, so none inherits another's run sizes."""
        return f"b{self.batch}-r"


SCENARIOS = (Scenario("single events", 1), Scenario("batches of 100", 100))


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: str  # wrk's own "connect 0, read 0, write 0, timeout 0"
    sent: int  # requests wrk's script handed out, answered or not
    acknowledged_requests: int  # 202 answers
    acknowledged_events: int  # sum of their `accepted` fields
    failed_4xx: int
    failed_5xx: int
    failed_other: int
    server_cpu: float | None = None  # CPU seconds the server process used per wall second
    # wrk's latency histogram: (microseconds, requests) for each value recorded, ascending.
    latency: tuple[tuple[int, int], ...] = ()

    @property
    def events_per_second(self) -> float:
        return self.acknowledged_events / self.seconds if self.seconds else 0.0

    @property
    def unanswered(self) -> int:
        """Requests still in flight (or timed out) when wrk stopped."""
        answered = self.acknowledged_requests + self.failed_4xx + self.failed_5xx + self.failed_other
        return self.sent - answered


@dataclass(frozen=True)
class Measurement:
    server: str
    scenario: Scenario
    result: WrkResult
    busy_after: float | None  # seconds the server kept working once wrk had stopped
    went_idle: bool
    code: str = "this tree"  # or "baseline <ref>"
    bare: WrkResult | None = None  # the bare handler measured right before, same scenario

    @property
    def vs_bare(self) -> float | None:
        if self.bare is None or not self.bare.requests_per_second:
            return None
        return self.result.requests_per_second / self.bare.requests_per_second


@dataclass(frozen=True)
class StoredCheck:
    server: str
    code: str
    scenario: Scenario
    acknowledged: int
    stored: int
    in_flight_bound: int
    settled: bool

    @property
    def verdict(self) -> str:
        if not self.settled:
            return "MISMATCH (row count still moving)"
        if self.stored == self.acknowledged:
            return "OK (exact)"
        if 0 < self.stored - self.acknowledged <= self.in_flight_bound:
            return "OK (extra rows: in flight when wrk stopped)"
        return "MISMATCH"



@dataclass(frozen=True)
class Server:
    port: int
    pid: int


@dataclass(frozen=True)
class RealServer:
    server: Server
    database: Database
    token: str
    code: str


class Database(Protocol):
    @property
    def label(self) -> str: ...

    @property
    def url(self) -> str: ...

    def count_events(self) -> int: ...


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.bare_server is not None:
        run_bare_server(args.bare_server)
        return 0
    if shutil.which("wrk") is None:
        print("wrk is not installed: run `apt-get install wrk` (or build it from "
              "https://github.com/wg/wrk) and try again.", file=sys.stderr)
        return 2
    backends = choose_backends(args.backend)
    if backends is None:
        return 2
    if args.replicas > 1:
        return run_replicas_main(args)
    load_before = os.getloadavg()[0]
    try:
        measurements, checks, notes = run_all(args, backends)
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    notes.insert(0, f"1-minute load average before the bench started: {load_before:.2f}")
    print_report(args, measurements, checks, notes)
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up before each")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"),
                        help="default: both; postgresql with --replicas 2")
    parser.add_argument("--baseline", default=BASELINE_REF, metavar="REF",
                        help="git ref of the code to compare with (default: %(default)s, the "
                        "last commit before the lean ingest path); 'none' to skip it")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment for the real server, e.g. OPENTRACE_WATCH=off")
    parser.add_argument("--replicas", type=int, choices=(1, 2), default=1,
                        help="2: two servers on one PostgreSQL database, wrk's connections "
                        "split between them, against one of them alone (see the docstring)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="with --replicas 2: measure one and two replicas N times per "
                        "scenario, in alternating order (default: %(default)s)")
    parser.add_argument("--replica-jobs", choices=("shared", "own"), default="shared",
                        help="with --replicas 2: both replicas get events of the same jobs "
                        "(default, as behind a load balancer) or each of jobs of its own")
    parser.add_argument("--bare-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if any("=" not in item for item in args.server_env):
        parser.error("--server-env takes NAME=VALUE")
    if args.duration < 1 or args.warmup < 1 or args.connections < WRK_THREADS:
        parser.error(f"--duration and --warmup >= 1, --connections >= {WRK_THREADS}")
    if args.replicas > 1:
        if args.backend not in (None, "postgresql"):
            parser.error("--replicas 2 runs on PostgreSQL only: replicas share one database")
        if args.repeat < 1:
            parser.error("--repeat >= 1")
        if args.connections < 2 * args.replicas:
            parser.error(f"--replicas {args.replicas} needs --connections >= {2 * args.replicas}")
    args.backend = args.backend or ("postgresql" if args.replicas > 1 else "both")
    return args



# --- the whole run --------------------------------------------------------------------------


def run_all(
    args: argparse.Namespace, backends: list[str]
) -> tuple[list[Measurement], list[StoredCheck], list[str]]:
    measurements: list[Measurement] = []
    checks: list[StoredCheck] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="opentrace-bench-") as tmp:
        workdir = Path(tmp)
        script = workdir / "events.lua"
        script.write_text(WRK_SCRIPT)
        codes = [("this tree", REPO)]
        if args.baseline != "none":
            baseline = export_tree(args.baseline, workdir / "baseline")
            if baseline is None:
                notes.append(f"baseline {args.baseline!r} could not be exported from git: "
                             "measured this tree only")
            else:
                codes.append((f"baseline {args.baseline}", baseline))

        with bare_server(workdir) as bare:
            for backend in backends:
                with contextlib.ExitStack() as stack:
                    servers = [start_real(stack, args, backend, code, root, workdir)
                               for code, root in codes]
                    for scenario in SCENARIOS:
                        bare_measurement = measure_bare(args, bare, script, scenario, backend)
                        measurements.append(bare_measurement)
                        for real in servers:
                            measurement, check = measure_real(args, real, script, scenario)
                            measurements.append(replace(measurement, bare=bare_measurement.result))
                            checks.append(check)
                for code, _ in codes:
                    notes.extend(server_log_notes(f"{backend} ({code})",
                                                  server_log(workdir, backend, code)))
    return measurements, checks, notes



def server_log(workdir: Path, backend: str, code: str) -> Path:
    return workdir / f"server-{backend}-{code.replace(' ', '-')}.log"


def start_real(
    stack: contextlib.ExitStack, args: argparse.Namespace, backend: str, code: str, root: Path,
    workdir: Path,
) -> RealServer:
    """The real server of `root`'s code on a fresh database of its own, with a token."""
    database = stack.enter_context(fresh_database(backend, workdir, code.replace(" ", "-")))
    env = server_env(database, args.server_env)
    token = create_token(env, root)
    server = stack.enter_context(real_server(env, server_log(workdir, backend, code), root))
    return RealServer(server, database, token, code)


def measure_bare(
    args: argparse.Namespace, server: Server, script: Path, scenario: Scenario, backend: str
) -> Measurement:
    warm_up(args, server, script, scenario, token="bare")
    result = run_wrk(args, server, script, scenario, args.duration, token="bare")
    busy_after, idle = wait_idle(server.pid)
    return Measurement("bare aiohttp", scenario, result, busy_after, idle, code=f"({backend})")


def measure_real(
    args: argparse.Namespace, real: RealServer, script: Path, scenario: Scenario
) -> tuple[Measurement, StoredCheck]:
    """Warm-up and measurement on the real server, with the rows they added to the database.

    The server is first let go idle, so no work left over from the previous scenario
    (background tasks the ingest path started) is counted against this one."""
    server, database, token = real.server, real.database, real.token
    wait_idle(server.pid)
    before, settled_before = settled_count(database)
    warm = warm_up(args, server, script, scenario, token)
    result = run_wrk(args, server, script, scenario, args.duration, token)
    busy_after, idle = wait_idle(server.pid)
    after, settled_after = settled_count(database)
    check = StoredCheck(
        server=database.label,
        code=real.code,
        scenario=scenario,
        acknowledged=warm.acknowledged_events + result.acknowledged_events,
        stored=after - before,
        in_flight_bound=(warm.unanswered + result.unanswered) * scenario.batch,
        settled=settled_before and settled_after,
    )
    return Measurement(database.label, scenario, result, busy_after, idle, code=real.code), check


def warm_up(
    args: argparse.Namespace, server: Server, script: Path, scenario: Scenario, token: str
) -> WrkResult:
    return run_wrk(args, server, script, scenario, args.warmup, token=token)


# --- two replicas on one database -----------------------------------------------------------

LEADING = "now judges deadlines and sends alerts"  # what the replica that takes the lead logs
LEAD_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class ReplicaMeasurement:
    """One scenario on replica "a" alone and on "a" and "b" at once, adjacent in time."""

    scenario: Scenario
    alone: WrkResult
    pair: tuple[WrkResult, ...]  # a's, then b's, measured at the same time
    alone_busy_after: float | None
    pair_busy_after: float | None
    went_idle: bool
    load: float  # the 1-minute load average when the one replica's measurement began
    pair_load: float  # ... and when the two replicas' began
    alone_first: bool

    @property
    def requests_per_second(self) -> float:
        return sum(r.requests_per_second for r in self.pair)

    @property
    def events_per_second(self) -> float:
        return sum(r.events_per_second for r in self.pair)

    @property
    def server_cpu(self) -> float | None:
        cpus = [r.server_cpu for r in self.pair]
        return None if any(c is None for c in cpus) else sum(c or 0.0 for c in cpus)

    @property
    def times_one(self) -> float | None:
        """Both replicas' events/s over the one replica's, measured just before."""
        alone = self.alone.events_per_second
        return self.events_per_second / alone if alone else None


def merged_percentile(results: tuple[WrkResult, ...], percent: float) -> float | None:
    """The percentile (ms) of every request of `results` together, by wrk's own rule: the
    smallest latency at or below which round(p/100 * count + 0.5) requests fall."""
    histogram: Counter[int] = Counter()
    for result in results:
        for value, count in result.latency:
            histogram[value] += count
    total = sum(histogram.values())
    if not total:
        return None
    rank, seen = max(1, math.floor(percent / 100 * total + 0.5)), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value / 1000.0
    return max(histogram) / 1000.0


def run_replicas_main(args: argparse.Namespace) -> int:
    load_before = os.getloadavg()[0]
    try:
        measurements, checks, notes = run_replicas(args)
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    notes.insert(0, f"1-minute load average before the bench started: {load_before:.2f}")
    print_replicas_report(args, measurements, checks, notes)
    return 0


def run_replicas(
    args: argparse.Namespace,
) -> tuple[list[ReplicaMeasurement], list[StoredCheck], list[str]]:
    measurements: list[ReplicaMeasurement] = []
    checks: list[StoredCheck] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="opentrace-bench-") as tmp:
        workdir = Path(tmp)
        script = workdir / "events.lua"
        script.write_text(WRK_SCRIPT)
        logs = [workdir / "server-replica-a.log"]
        with contextlib.ExitStack() as stack:
            database = stack.enter_context(fresh_database("postgresql", workdir, "replicas"))
            env = server_env(database, args.server_env)
            token = create_token(env, REPO)
            first = stack.enter_context(real_server(env, logs[0], REPO))
            if not wait_for_lead(logs[0]):
                notes.append(f"replica a did not log that it leads within {LEAD_TIMEOUT_SECONDS:.0f} s")
            for scenario in SCENARIOS:
                for turn in range(args.repeat):
                    logs.append(workdir / f"server-replica-b-{scenario.batch}-{turn + 1}.log")
                    measurement, two_checks = one_and_two(
                        args, first, env, database, token, script, scenario, logs[-1],
                        alone_first=turn % 2 == 0)
                    measurements.append(measurement)
                    checks += two_checks
        leaders = [log.name for log in logs if LEADING in log.read_text(errors="replace")]
        notes.append(f"watcher lead taken by: {', '.join(leaders) or 'nobody'}")
        for log in logs:
            notes.extend(server_log_notes(log.stem.removeprefix("server-"), log))
            notes.extend(f"    {count} x {error}" for error, count in raised(log).most_common())
    return measurements, checks, notes


def raised(log: Path) -> Counter[str]:
    """The exceptions of the tracebacks in a server log (each traceback's last line)."""
    found: Counter[str] = Counter()
    inside = False
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("Traceback"):
            inside = True
        elif inside and line and not line[0].isspace() \
                and not line.startswith(("During handling", "The above exception")):
            found[line[:200]] += 1
            inside = False
    return found


def one_and_two(
    args: argparse.Namespace, first: Server, env: dict[str, str], database: Database, token: str,
    script: Path, scenario: Scenario, log: Path, *, alone_first: bool,
) -> tuple[ReplicaMeasurement, list[StoredCheck]]:
    """Replica a alone, and a with b (started for it, output in `log`), one after the other
    in the order given: repeats alternate it, so that a load that drifts favours neither."""

    def alone() -> tuple[list[WrkResult], StoredCheck, float | None, bool, float]:
        load = os.getloadavg()[0]
        return (*measure_replicas(args, [first], database, token, script, scenario,
                                  f"b{scenario.batch}-one-r"), load)

    def pair() -> tuple[list[WrkResult], StoredCheck, float | None, bool, float]:
        load = os.getloadavg()[0]
        with real_server(env, log, REPO) as second:
            return (*measure_replicas(args, [first, second], database, token, script, scenario,
                                      f"b{scenario.batch}-two-r"), load)

    if alone_first:
        one, two = alone(), pair()
    else:
        two, one = pair(), alone()
    measurement = ReplicaMeasurement(scenario, one[0][0], tuple(two[0]), one[2], two[2],
                                     one[3] and two[3], one[4], two[4], alone_first)
    return measurement, [one[1], two[1]]


def wait_for_lead(log: Path) -> bool:
    """Until the server logs that it leads the watcher (it tries at once when it starts)."""
    deadline = time.monotonic() + LEAD_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if LEADING in log.read_text(errors="replace"):
            return True
        time.sleep(0.2)
    return False


def measure_replicas(
    args: argparse.Namespace, servers: list[Server], database: Database, token: str,
    script: Path, scenario: Scenario, run_prefix: str,
) -> tuple[list[WrkResult], StoredCheck, float | None, bool]:
    """Warm-up and measurement with wrk's connections split between `servers` (one wrk
    process each, at the same time), and the rows the one database gained."""
    for server in servers:
        wait_idle(server.pid)
    before, settled_before = settled_count(database)
    warm = run_wrk_together(args, servers, script, scenario, args.warmup, token, run_prefix)
    results = run_wrk_together(args, servers, script, scenario, args.duration, token, run_prefix)
    started, went_idle, measurable = time.monotonic(), True, True
    for server in servers:
        busy, idle = wait_idle(server.pid)
        went_idle, measurable = went_idle and idle, measurable and busy is not None
    busy_after = max(0.0, time.monotonic() - started - 1.0) if measurable else None
    after, settled_after = settled_count(database)
    label = "1 replica" if len(servers) == 1 else f"{len(servers)} replicas"
    check = StoredCheck(
        server=database.label,
        code=label,
        scenario=scenario,
        acknowledged=sum(r.acknowledged_events for r in warm + results),
        stored=after - before,
        in_flight_bound=sum(r.unanswered for r in warm + results) * scenario.batch,
        settled=settled_before and settled_after,
    )
    return results, check, busy_after, went_idle


def run_wrk_together(
    args: argparse.Namespace, servers: list[Server], script: Path, scenario: Scenario,
    seconds: int, token: str, run_prefix: str,
) -> list[WrkResult]:
    """One wrk per server, all at once, `--connections` and wrk's threads shared out
    between them; each result carries its server's CPU over the same wall time."""
    count = len(servers)
    threads = max(1, WRK_THREADS // count)
    shares = [args.connections // count + (1 if i < args.connections % count else 0)
              for i in range(count)]
    own_jobs = args.replica_jobs == "own" and count > 1
    commands = [wrk_command(server, script, scenario, seconds, token, connections=share,
                            threads=threads, run_prefix=run_prefix,
                            job_prefix=f"bench-job-{name}-" if own_jobs else None)
                for server, share, name in zip(servers, shares, "abcdefgh", strict=False)]
    cpu_before, started = [cpu_seconds(s.pid) for s in servers], time.monotonic()
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for command in commands]
    outputs: list[str] = []
    try:
        for process in processes:
            left = max(1.0, started + seconds + 30 - time.monotonic())
            stdout, stderr = process.communicate(timeout=left)
            if process.returncode != 0:
                raise BenchError(f"wrk exited with {process.returncode}: {stderr.strip()}")
            outputs.append(stdout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"wrk did not finish within {seconds + 30} s") from None
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    elapsed = time.monotonic() - started
    results = []
    for server, before, output in zip(servers, cpu_before, outputs, strict=True):
        result, after = parse_wrk(output), cpu_seconds(server.pid)
        if before is not None and after is not None:
            result = replace(result, server_cpu=(after - before) / elapsed)
        results.append(result)
    return results


def print_replicas_report(
    args: argparse.Namespace, measurements: list[ReplicaMeasurement], checks: list[StoredCheck],
    notes: list[str],
) -> None:
    half = args.connections // 2
    print(f"\nnproc {os.cpu_count()}; this tree on one PostgreSQL database; -d{args.duration}s "
          f"(after {args.warmup}s warm-up) on {HOST}, wrk sharing the CPUs with the servers")
    print(f"1 replica: wrk -t{WRK_THREADS} -c{args.connections} on replica a;  2 replicas: "
          f"wrk -t1 -c{half} on a and wrk -t1 -c{args.connections - half} on b, at the same time")
    if args.replica_jobs == "own":
        print("2 replicas: each replica gets events of 4 jobs of its own (--replica-jobs own)")
    if args.server_env:
        print(f"real server environment: {' '.join(args.server_env)}")
    header = (f"{'setup':<12} {'scenario':<15} {'req/s':>9} {'events/s':>10} {'p50 ms':>8} "
              f"{'p99 ms':>8} {'non-2xx':>8} {'srv CPU':>8} {'busy after':>11} {'x one':>6} "
              f"{'load':>5}")
    print("\n" + header + "\n" + "-" * len(header))

    def row(setup: str, scenario: Scenario, rps: float, eps: float, p50: float | None,
            p99: float | None, non_2xx: int, cpu: float | None, busy: str, ratio: str,
            load: str) -> str:
        def ms(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.2f}"
        return (f"{setup:<12} {scenario.name:<15} {rps:>9.0f} {eps:>10.0f} {ms(p50):>8} "
                f"{ms(p99):>8} {non_2xx:>8} {cpu_percent(cpu):>8} {busy:>11} {ratio:>6} {load:>5}")

    def busy(seconds: float | None, idle: bool) -> str:
        if seconds is None:
            return "n/a"
        return f"{seconds:.0f} s" if idle else f">{seconds:.0f} s"

    for m in measurements:
        a = m.alone
        ratio = "n/a" if m.times_one is None else f"{m.times_one:.2f}"
        one = row("1 replica", m.scenario, a.requests_per_second, a.events_per_second, a.p50_ms,
                  a.p99_ms, a.non_2xx, a.server_cpu, busy(m.alone_busy_after, m.went_idle), "1.00",
                  f"{m.load:.1f}")
        two = [row("2 replicas", m.scenario, m.requests_per_second, m.events_per_second,
                   merged_percentile(m.pair, 50), merged_percentile(m.pair, 99),
                   sum(r.non_2xx for r in m.pair), m.server_cpu,
                   busy(m.pair_busy_after, m.went_idle), ratio, f"{m.pair_load:.1f}")]
        two += [row(f"  replica {name}", m.scenario, r.requests_per_second, r.events_per_second,
                    r.p50_ms, r.p99_ms, r.non_2xx, r.server_cpu, "", "", "")
                for name, r in zip("ab", m.pair, strict=False)]
        print("\n".join([one, *two] if m.alone_first else [*two, one]))
    for m in measurements:
        for name, r in [("1 replica", m.alone), *zip(("2 replicas: a", "2 replicas: b"), m.pair,
                                                     strict=False)]:
            if r.non_2xx or r.failed_4xx or r.failed_5xx or r.failed_other \
                    or r.socket_errors != "none":
                print(f"  ! {name} {m.scenario.name}: {r.requests} requests, 4xx {r.failed_4xx}, "
                      f"5xx {r.failed_5xx}, other non-202 {r.failed_other}, "
                      f"socket errors: {r.socket_errors}")
    print("\ntwo replicas against one, same run (events/s; combined p50 and p99 over every request):")
    for m in measurements:
        p50, p99 = merged_percentile(m.pair, 50), merged_percentile(m.pair, 99)
        print(f"  {m.scenario.name:<15} x{m.times_one or 0:.2f} events/s "
              f"({m.alone.events_per_second:,.0f} -> {m.events_per_second:,.0f}); p50 "
              f"{m.alone.p50_ms:.1f} -> {p50 or 0:.1f} ms, p99 {m.alone.p99_ms:.1f} -> "
              f"{p99 or 0:.1f} ms; load {m.load:.1f} / {m.pair_load:.1f}")
    if args.repeat > 1:
        for scenario in SCENARIOS:
            ratios = sorted(m.times_one for m in measurements
                            if m.scenario == scenario and m.times_one is not None)
            if ratios:
                print(f"  {scenario.name:<15} median of {len(ratios)}: x{statistics.median(ratios):.2f} "
                      f"(from x{ratios[0]:.2f} to x{ratios[-1]:.2f})")
    print("\nevery acknowledged event stored (warm-up + measurement; both replicas together):")
    for c in checks:
        print(f"  {c.code:<11} {c.scenario.name:<15} acknowledged {c.acknowledged:>9}  stored "
              f"{c.stored:>9}  stored-acknowledged {c.stored - c.acknowledged:>5} (unanswered "
              f"events {c.in_flight_bound})  {c.verdict}")
    for note in notes:
        print(note)


# --- wrk ------------------------------------------------------------------------------------

WRK_SCRIPT = r"""
-- Written by bench/ingest.py. Args: events per request, bearer token, run key prefix, and
-- optionally the jobs' prefix (default "bench-job-").
-- Posts metrics spread over JOBS x RUNS runs; counts 202 answers and their `accepted` events.
local JOBS, RUNS, VARIANTS = 4, 2, 8
local threads = {}
local COUNTERS = {
  "sent", "acked_requests", "acked_events", "failed_4xx", "failed_5xx", "failed_other"}

function setup(thread)
  table.insert(threads, thread)
end

local job_prefix = "bench-job-"

local function event(i, prefix)
  local job = i % JOBS + 1
  local run = math.floor(i / JOBS) % RUNS + 1
  return string.format(
    '{"job": "%s%d", "run": "%s%d", "kind": "metric", "name": "rows", "value": %d}',
    job_prefix, job, prefix, run, i % 1000)
end

function init(args)
  local batch = tonumber(args[1])
  job_prefix = args[4] or job_prefix
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[2]}
  prepared = {}
  for v = 1, VARIANTS do
    local body
    if batch == 1 then
      body = event(v - 1, args[3])
    else
      local events = {}
      for i = 1, batch do events[i] = event(v * batch + i, args[3]) end
      body = "[" .. table.concat(events, ",") .. "]"
    end
    prepared[v] = wrk.format("POST", "/v1/events", headers, body)
  end
  for _, name in ipairs(COUNTERS) do _G[name] = 0 end
end

function request()
  sent = sent + 1
  return prepared[sent % VARIANTS + 1]
end

function response(status, headers, body)
  if status == 202 then
    acked_requests = acked_requests + 1
    acked_events = acked_events + (tonumber(body:match('"accepted"%s*:%s*(%d+)')) or 0)
  elseif status >= 500 then
    failed_5xx = failed_5xx + 1
  elseif status >= 400 then
    failed_4xx = failed_4xx + 1
  else
    failed_other = failed_other + 1
  end
end

function done(summary, latency, requests)
  local line = "BENCH"
  for _, name in ipairs(COUNTERS) do
    local total = 0
    for _, thread in ipairs(threads) do total = total + thread:get(name) end
    line = line .. " " .. name .. "=" .. total
  end
  io.write(line .. "\n")
  -- The whole latency histogram, so that two wrk processes' percentiles can be merged.
  local values = {}
  for i = 1, #latency do
    local value, count = latency(i)
    values[i] = string.format("%d:%d", value, count)
  end
  io.write("LATENCY " .. table.concat(values, ",") .. "\n")
end
"""


def wrk_command(
    server: Server, script: Path, scenario: Scenario, seconds: int, token: str, *,
    connections: int, threads: int = WRK_THREADS, run_prefix: str | None = None,
    job_prefix: str | None = None,
) -> list[str]:
    return [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
        f"--timeout={WRK_TIMEOUT_SECONDS}s", "-s", str(script),
        f"http://{HOST}:{server.port}/v1/events", "--", str(scenario.batch), token,
        run_prefix or scenario.run_prefix, *([job_prefix] if job_prefix else []),
    ]


def run_wrk(
    args: argparse.Namespace, server: Server, script: Path, scenario: Scenario, seconds: int,
    token: str, run_prefix: str | None = None,
) -> WrkResult:
    command = wrk_command(server, script, scenario, seconds, token,
                          connections=args.connections, run_prefix=run_prefix)
    cpu_before, started = cpu_seconds(server.pid), time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30,
                              check=False)
    except subprocess.TimeoutExpired:
        raise BenchError(f"wrk did not finish within {seconds + 30} s") from None
    if done.returncode != 0:
        raise BenchError(f"wrk exited with {done.returncode}: {done.stderr.strip()}")
    cpu_after, elapsed = cpu_seconds(server.pid), time.monotonic() - started
    result = parse_wrk(done.stdout)
    if cpu_before is None or cpu_after is None:
        return result
    return replace(result, server_cpu=(cpu_after - cpu_before) / elapsed)



def wait_idle(pid: int) -> tuple[float | None, bool]:
    """Wait until the process uses under IDLE_CPU_SHARE of a CPU over one second.

    Returns how long it stayed busy (None where CPU time cannot be read) and whether it
    went idle before IDLE_TIMEOUT_SECONDS."""
    started = time.monotonic()
    last = cpu_seconds(pid)
    if last is None:
        return None, True
    while time.monotonic() - started < IDLE_TIMEOUT_SECONDS:
        time.sleep(1.0)
        now = cpu_seconds(pid)
        if now is None:
            return None, True
        if now - last < IDLE_CPU_SHARE:
            return max(0.0, time.monotonic() - started - 1.0), True
        last = now
    return time.monotonic() - started, False


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def parse_wrk(output: str) -> WrkResult:
    """Read wrk's text report plus the BENCH line our script's `done` writes."""

    def find(pattern: str, default: str | None = None) -> str:
        match = re.search(pattern, output, re.MULTILINE)
        if match:
            return match.group(1)
        if default is None:
            raise BenchError(f"no {pattern!r} in wrk's output:\n{output}")
        return default

    counters = dict(re.findall(r"(\w+)=(\d+)", find(r"^(BENCH .*)$")))
    histogram = tuple((int(value), int(count)) for value, count in
                      re.findall(r"(\d+):(\d+)", find(r"^LATENCY (.*)$", "")))
    return WrkResult(
        requests=int(find(r"^\s+(\d+) requests in")),
        seconds=to_ms(find(r"requests in ([\d.]+\w+),")) / 1000.0,
        requests_per_second=float(find(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=to_ms(find(r"^\s+50%\s+(\S+)\s*$")),
        p99_ms=to_ms(find(r"^\s+99%\s+(\S+)\s*$")),
        non_2xx=int(find(r"^\s+Non-2xx or 3xx responses: (\d+)", "0")),
        socket_errors=find(r"^\s+Socket errors: (.*)$", "none"),
        sent=int(counters["sent"]),
        acknowledged_requests=int(counters["acked_requests"]),
        acknowledged_events=int(counters["acked_events"]),
        failed_4xx=int(counters["failed_4xx"]),
        failed_5xx=int(counters["failed_5xx"]),
        failed_other=int(counters["failed_other"]),
        latency=histogram,
    )


def to_ms(text: str) -> float:
    """wrk's durations, e.g. `812.00us`, `4.51ms`, `10.01s`, `1.02m`, in milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if match is None:
        raise BenchError(f"unexpected duration in wrk's output: {text!r}")
    return float(match.group(1)) * UNITS_MS[match.group(2)]


# --- servers --------------------------------------------------------------------------------



@contextlib.contextmanager
def bare_server(workdir: Path) -> Iterator[Server]:
    port = free_port()
    command = [sys.executable, str(Path(__file__).resolve()), "--bare-server", str(port)]
    with subprocess_running(command, os.environ.copy(), workdir / "server-bare.log") as process:
        wait_ready(process, port, workdir / "server-bare.log")
        yield Server(port, process.pid)


@contextlib.contextmanager
def real_server(env: dict[str, str], log: Path, root: Path) -> Iterator[Server]:
    """`opentrace serve` of the code in `root` (`-c` puts the working directory first on
    sys.path, ahead of the editable install of this tree)."""
    port = free_port()
    command = [sys.executable, "-c", RUN_PYTHON_MAIN, "serve", "--host", HOST, "--port", str(port)]
    with subprocess_running(command, env, log, root) as process:
        wait_ready(process, port, log)
        yield Server(port, process.pid)


def server_env(database: Database, extra: list[str]) -> dict[str, str]:
    """The real server's environment: this one, the database, auth on, then `extra`."""
    env = os.environ.copy()
    env.update({"OPENTRACE_DATABASE_URL": database.url, "OPENTRACE_AUTH": "on"})
    env.update(item.partition("=")[::2] for item in extra)
    return env


@contextlib.contextmanager
def subprocess_running(command: list[str], env: dict[str, str], log: Path, root: Path = REPO) -> Iterator[
    subprocess.Popen[bytes]
]:
    """Start a process with its output in `log`; terminate it (then kill it) on the way out."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            yield process
        finally:
            stop(process)




def server_log_notes(backend: str, log: Path) -> list[str]:
    """Warnings, errors and tracebacks the real server logged during the run."""
    bad = [line for line in log.read_text(errors="replace").splitlines()
           if re.search(r"\b(WARNING|ERROR|CRITICAL)\b|Traceback", line)]
    if not bad:
        return [f"{backend} server log: no warnings or errors"]
    sample = "\n    ".join(bad[:5])
    return [f"{backend} server log: {len(bad)} warning/error lines, first ones:\n    {sample}"]


def create_token(env: dict[str, str], root: Path) -> str:
    """An ingest token made with the CLI of `root` (which also migrates the fresh database)."""
    command = [sys.executable, "-c", RUN_PYTHON_MAIN, "token", "create", "bench",
               "--scope", "ingest"]
    try:
        done = subprocess.run(command, cwd=root, env=env, capture_output=True,
                              text=True, timeout=STARTUP_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise BenchError("`opentrace token create` did not finish in time") from None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise BenchError(f"`opentrace token create` failed ({done.returncode}):\n{done.stderr}")
    return lines[-1].strip()


def run_bare_server(port: int) -> None:
    """The baseline: aiohttp reads the body, parses the JSON, answers 202. Nothing else."""
    async def post_events(request: web.Request) -> web.Response:
        parsed = json.loads(await request.read())
        accepted = len(parsed) if isinstance(parsed, list) else 1
        return web.json_response({"accepted": accepted, "duplicates": 0}, status=202)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/v1/events", post_events)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host=HOST, port=port, access_log=None, print=None)


# --- databases ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SqliteDatabase:
    path: Path
    label: str = "sqlite"

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def count_events(self) -> int:
        with contextlib.closing(sqlite3.connect(self.path, timeout=10)) as connection:
            return int(connection.execute("SELECT count(*) FROM events").fetchone()[0])


@dataclass(frozen=True)
class PostgresDatabase:
    name: str
    label: str = "postgresql"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@{HOST}:{PG_PORT}/{self.name}"

    def count_events(self) -> int:
        return asyncio.run(pg_count_events(self.url))


async def pg_count_events(url: str) -> int:
    connection = await asyncpg.connect(url, timeout=10)
    try:
        return int(await asyncio.wait_for(connection.fetchval("SELECT count(*) FROM events"), 30))
    finally:
        await connection.close(timeout=10)


async def pg_execute(query: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_URL, timeout=10)
    try:
        await asyncio.wait_for(connection.execute(query), timeout=30)
    finally:
        await connection.close(timeout=10)


@contextlib.contextmanager
def fresh_database(backend: str, workdir: Path, name: str) -> Iterator[Database]:
    if backend == "sqlite":
        yield SqliteDatabase(workdir / f"bench-{name}.db")
        return
    name = f"opentrace_bench_{secrets.token_hex(4)}"
    asyncio.run(pg_execute(f'CREATE DATABASE "{name}"'))
    try:
        yield PostgresDatabase(name)
    finally:
        asyncio.run(pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def settled_count(database: Database) -> tuple[int, bool]:
    """Row count once it stops moving (requests in flight when wrk stopped get committed)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    last = database.count_events()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = database.count_events()
        if now == last:
            return now, True
        last = now
    return last, False


# --- report ---------------------------------------------------------------------------------


def cpu_percent(cpu: float | None) -> str:
    return "n/a" if cpu is None else f"{cpu:.0%}"


def busy_after(m: Measurement) -> str:
    if m.busy_after is None:
        return "n/a"
    return f"{m.busy_after:.0f} s" if m.went_idle else f">{m.busy_after:.0f} s"


def print_report(
    args: argparse.Namespace,
    measurements: list[Measurement],
    checks: list[StoredCheck],
    notes: list[str],
) -> None:
    print(f"\nnproc {os.cpu_count()}; wrk -t{WRK_THREADS} -c{args.connections} -d{args.duration}s "
          f"(after {args.warmup}s warm-up) on {HOST}, sharing the CPUs with the servers")
    if args.server_env:
        print(f"real server environment: {' '.join(args.server_env)}")
    header = (f"{'server':<13} {'code':<17} {'scenario':<15} {'req/s':>9} {'events/s':>10} "
              f"{'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'vs bare':>8} {'srv CPU':>8} "
              f"{'busy after':>11}")
    print("\n" + header + "\n" + "-" * len(header))
    for m in measurements:
        r = m.result
        ratio = "1.00" if m.server == "bare aiohttp" else (
            "n/a" if m.vs_bare is None else f"{m.vs_bare:.2f}")
        print(f"{m.server:<13} {m.code:<17} {m.scenario.name:<15} {r.requests_per_second:>9.0f} "
              f"{r.events_per_second:>10.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
              f"{r.non_2xx:>8} {ratio:>8} {cpu_percent(r.server_cpu):>8} {busy_after(m):>11}")
    troubles = [m for m in measurements
                if m.result.non_2xx or m.result.failed_4xx or m.result.failed_5xx
                or m.result.failed_other or m.result.socket_errors != "none"]
    for m in troubles:
        r = m.result
        print(f"  ! {m.server} {m.code} {m.scenario.name}: {r.requests} requests, 4xx "
              f"{r.failed_4xx}, 5xx {r.failed_5xx}, other non-202 {r.failed_other}, "
              f"socket errors: {r.socket_errors}")
    print_aims(measurements)
    if checks:
        print("\nevery acknowledged event stored (warm-up + measurement):")
        for c in checks:
            print(f"  {c.server:<11} {c.code:<17} {c.scenario.name:<15} acknowledged "
                  f"{c.acknowledged:>9}  stored {c.stored:>9}  stored-acknowledged "
                  f"{c.stored - c.acknowledged:>5} (unanswered events {c.in_flight_bound})  "
                  f"{c.verdict}")
    for note in notes:
        print(note)


def print_aims(measurements: list[Measurement]) -> None:
    """This tree against the issue's aims, and against the baseline measured in the same run."""
    ours = [m for m in measurements if m.code == "this tree"]
    if not ours:
        return
    print("\naims (this tree; vs bare = against the bare handler measured just before):")
    for m in ours:
        r = m.result
        if m.scenario.batch == 1:
            ratio = m.vs_bare or 0.0
            stretch = "stretch met" if ratio >= STRETCH_RATIO else f"stretch {STRETCH_RATIO:.2f}"
            print(f"  {m.server:<11} {m.scenario.name:<15} "
                  f"vs bare {ratio:.2f} (aim >= {AIM_RATIO:.2f}: {verdict(ratio, AIM_RATIO)}; "
                  f"{stretch})  p50 {r.p50_ms:.2f} ms (aim <= {AIM_P50_MS:.0f}: "
                  f"{at_most(r.p50_ms, AIM_P50_MS)})  p99 {r.p99_ms:.2f} ms (aim <= "
                  f"{AIM_P99_MS:.0f}: {at_most(r.p99_ms, AIM_P99_MS)})")
        elif m.server == "sqlite":
            print(f"  {m.server:<11} {m.scenario.name:<15} {r.events_per_second:,.0f} events/s "
                  f"(aim >= {AIM_BATCH_EVENTS_PER_SECOND:,}: "
                  f"{verdict(r.events_per_second, AIM_BATCH_EVENTS_PER_SECOND)})")
    before = {(m.server, m.scenario): m for m in measurements if m.code.startswith("baseline")}
    if not before:
        return
    print("\nthis tree against the baseline, same run (events/s; vs bare before -> now):")
    for m in ours:
        old = before.get((m.server, m.scenario))
        if old is None or not old.result.events_per_second:
            continue
        speedup = m.result.events_per_second / old.result.events_per_second
        print(f"  {m.server:<11} {m.scenario.name:<15} x{speedup:.1f} events/s "
              f"({old.result.events_per_second:,.0f} -> {m.result.events_per_second:,.0f}); "
              f"vs bare {old.vs_bare or 0:.2f} -> {m.vs_bare or 0:.2f}; p50 "
              f"{old.result.p50_ms:.1f} -> {m.result.p50_ms:.1f} ms, p99 "
              f"{old.result.p99_ms:.1f} -> {m.result.p99_ms:.1f} ms")


def verdict(value: float, floor: float) -> str:
    """'met' when value >= floor, else how far below it is."""
    return "met" if value >= floor else f"MISSED by {(floor - value) / floor:.0%}"


def at_most(value: float, ceiling: float) -> str:
    return "met" if value <= ceiling else f"MISSED, x{value / ceiling:.1f}"


if __name__ == "__main__":
    sys.exit(main())
