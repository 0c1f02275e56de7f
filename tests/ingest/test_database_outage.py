"""When PostgreSQL goes away for 20 s under ingest load: every request is answered 503 with
Retry-After within OPENTRACE_DB_TIMEOUT (never a 500, never a hang), the job-side client
spools instead of failing its job, the server serves again by itself when the database
returns, and every event that got a 202 or was spooled ends up stored, once.

The machine's PostgreSQL is shared, so the server reaches it through a TCP proxy that the
test cuts (new connections refused, open ones reset) and restores."""

import asyncio
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import opentrace
from ingest.client import Client, Delivery, Outcome, make_event
from tests.conftest import PG_PORT
from tests.ingest.conftest import rejected_events, spooled_events, unique
from tests.ingest.server_process import Answer, ServeProcess, make_tokens, request, stored_event_keys
from tests.ingest.tcp_proxy import TcpProxy

OUTAGE_SECONDS = 20.0
DB_TIMEOUT = 2.0
SLACK = 1.5  # scheduling on a loaded 2-core CI machine
JOBS = 6  # client processes of a host, as threads sharing one spool
RECOVERY_SECONDS = 10.0

pytestmark = pytest.mark.postgresql


class RecordingClient(Client):
    """The real client; it also notes what became of each event it was given."""

    def __init__(self, outcomes: list[tuple[str, Outcome]], lock: threading.Lock,
                 url: str, token: str, spool_path: Path) -> None:
        # Back-off kept short so that the test sees the recovery within seconds; the
        # server's Retry-After (5 s) is capped by backoff_max like any other window.
        super().__init__(url, token, timeout=DB_TIMEOUT + 3, spool_path=spool_path,
                         backoff_initial=0.5, backoff_max=1.0)
        self._outcomes = outcomes
        self._outcomes_lock = lock

    def deliver(self, events: Sequence[Mapping[str, Any]], *, spool: bool = True) -> Delivery:
        delivery = super().deliver(events, spool=spool)
        with self._outcomes_lock:
            self._outcomes.extend((str(event["id"]), delivery.outcome) for event in events)
        return delivery


@dataclass
class Load:
    """Jobs reporting through the client, and a prober that records every raw answer."""

    url: str
    tokens: dict[str, str]
    spool: Path
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    outcomes: list[tuple[str, Outcome]] = field(default_factory=list)
    answers: list[tuple[float, str, Answer]] = field(default_factory=list)  # (sent at, what, answer)
    probe_acked: set[str] = field(default_factory=set)
    job_errors: list[BaseException] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    def client(self) -> RecordingClient:
        return RecordingClient(self.outcomes, self.lock, self.url, self.tokens["ingest"], self.spool)

    def start(self) -> None:
        self.threads = [threading.Thread(target=self._job, args=(n,)) for n in range(JOBS)]
        self.threads.append(threading.Thread(target=self._probe))
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)
            assert not thread.is_alive()

    def _job(self, number: int) -> None:
        try:
            with opentrace.run(unique(f"outage-job-{number}"), client=self.client()) as run:
                rows = 0
                while not self.stop.is_set():
                    rows += 1
                    run.metric("rows", rows, unit="rows")
                    if rows % 5 == 0:
                        run.note(f"{rows} rows so far")
                    time.sleep(0.02)
        except BaseException as error:  # the client promises never to break the job
            self.job_errors.append(error)

    def _probe(self) -> None:
        """Raw HTTP on every route that touches the database, round and round."""
        job, run = unique("outage-probe"), "probe-run"
        ingest, read = self.tokens["ingest"], self.tokens["read"]
        started = request(f"{self.url}/v1/events", "POST",
                          {"job": job, "run": run, "kind": "start", "id": "start"}, ingest)
        assert started.status == 202, started
        routes: list[tuple[str, str, str, Any]] = [
            ("write one", "POST", "/v1/events", None),
            ("read jobs", "GET", "/v1/jobs", None),
            ("write batch", "POST", "/v1/events", None),
            ("read runs", "GET", f"/v1/jobs/{job}/runs", None),
            ("read run", "GET", f"/v1/jobs/{job}/runs/{run}", None),
            ("read job", "GET", f"/v1/jobs/{job}", None),
            ("read alerts", "GET", "/v1/alerts", None),
            ("ping", "POST", f"/ping/{ingest}/{job}/log?rid={uuid.uuid4()}", None),
            ("health", "GET", "/healthz", None),
        ]
        turn = 0
        while not self.stop.is_set():
            what, method, path, body = routes[turn % len(routes)]
            turn += 1
            ids: list[str] = []
            if what.startswith("write"):
                ids = [uuid.uuid4().hex for _ in range(1 if what == "write one" else 20)]
                body = [{"job": job, "run": run, "kind": "metric", "name": "probe", "value": 1, "id": i}
                        for i in ids]
            token = ingest if method == "POST" else read
            sent_at = time.monotonic()
            answer = request(self.url + path, method, body, token, timeout=30)
            with self.lock:
                self.answers.append((sent_at, what, answer))
                if answer.status == 202:
                    self.probe_acked.update(ids)
            time.sleep(0.05)


async def test_a_database_outage_is_503s_spooling_and_recovery_without_restart_losing_nothing(
    postgres_url: str, tmp_path: Path
) -> None:
    proxy = TcpProxy("127.0.0.1", PG_PORT)
    await proxy.start()
    tokens = await make_tokens(postgres_url)
    server = ServeProcess(postgres_url.replace(f":{PG_PORT}/", f":{proxy.port}/"), tmp_path,
                          auth=True, settings={"OPENTRACE_DB_TIMEOUT": str(DB_TIMEOUT)})
    await asyncio.to_thread(server.start)
    load = Load(server.url, tokens, tmp_path / "spool" / "events.jsonl")
    try:
        load.start()
        await asyncio.sleep(2)  # steady load first
        cut_at = time.monotonic()
        proxy.cut()
        await asyncio.sleep(OUTAGE_SECONDS)
        await proxy.restore()
        restored_at = time.monotonic()
        recovered_at = await _first_accepted_write_after(load, restored_at)
        await asyncio.sleep(1.5)  # the jobs' back-off windows end and their spools drain
        await asyncio.to_thread(load.finish)
        await asyncio.to_thread(_drain, load)
        stored = Counter(await stored_event_keys(postgres_url))
        assert server.process is not None and server.process.poll() is None, server.log()
        assert server.starts == 1  # recovered by itself
    finally:
        load.stop.set()
        server.stop()
        await proxy.close()

    assert not load.job_errors, load.job_errors
    statuses = Counter(answer.status for _, _, answer in load.answers)
    assert set(statuses) <= {200, 202, 503}, (statuses, _unexpected(load.answers), server.log())

    slowest = max(load.answers, key=lambda a: a[2].seconds)
    assert slowest[2].seconds <= DB_TIMEOUT + SLACK, slowest

    during = [(what, a) for sent, what, a in load.answers
              if sent >= cut_at + 0.5 and sent + a.seconds <= restored_at]
    assert {what for what, _ in during} >= {"write one", "write batch", "read jobs", "read run",
                                             "read runs", "read job", "read alerts", "ping", "health"}
    for what, answer in during:
        assert answer.status == 503, (what, answer)
        assert int(answer.headers["Retry-After"]) > 0, (what, answer)
        assert "database" in answer.body["error"], (what, answer)

    assert recovered_at - restored_at <= RECOVERY_SECONDS
    after = [a for sent, _, a in load.answers if sent >= recovered_at]
    assert after and all(a.status in (200, 202) for a in after), Counter(a.status for a in after)

    outcomes = Counter(outcome for _, outcome in load.outcomes)
    assert outcomes[Outcome.SPOOLED] > 0 and outcomes[Outcome.ACCEPTED] > 0, outcomes
    assert set(outcomes) <= {Outcome.ACCEPTED, Outcome.SPOOLED}, outcomes
    assert spooled_events(load.spool) == [] and rejected_events(load.spool) == []

    expected = load.probe_acked | {key for key, _ in load.outcomes}
    missing = expected - stored.keys()
    assert not missing, f"{len(missing)} of {len(expected)} acknowledged or spooled events were lost"
    assert max(stored.values()) == 1  # a resend is stored once


async def _first_accepted_write_after(load: Load, since: float) -> float:
    deadline = since + RECOVERY_SECONDS + DB_TIMEOUT + SLACK
    while time.monotonic() < deadline:
        with load.lock:
            for sent, what, answer in load.answers:
                if sent >= since and what.startswith("write") and answer.status == 202:
                    return sent
        await asyncio.sleep(0.1)
    raise AssertionError(f"no write was accepted within {RECOVERY_SECONDS} s of the database's return")


def _drain(load: Load) -> None:
    """What the jobs spooled is sent first by the next call that reaches the server."""
    client = load.client()
    deadline = time.monotonic() + 30
    while spooled_events(load.spool) and time.monotonic() < deadline:
        client.deliver([make_event("note", unique("drain"), "drain", {"text": "x"})])
        time.sleep(0.2)


def _unexpected(answers: list[tuple[float, str, Answer]]) -> list[tuple[str, Answer]]:
    return [(what, a) for _, what, a in answers if a.status not in (200, 202, 503)][:5]
