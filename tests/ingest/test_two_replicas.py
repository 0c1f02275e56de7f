"""Two `opentrace serve` replicas on one PostgreSQL database, both under ingest load at once:
every acknowledged event is stored exactly once — also the events sent to both replicas with
the same ids —, no request gets a 5xx, and every alert is opened once and posted once to each
of its two webhooks: deadlines that pass on the real clock in the middle of the load, runs that
overrun, runs that fail.

The replicas start together on an empty database (migrations and the bootstrap token under
advisory locks) and exactly one of them leads the watcher; what reaches the other is marked
for the leader, whose sweep judges it within 10 s. The load is a fixed plan released in rounds
(a burst to both replicas every ROUND_SECONDS), so the test's length and size are bounded."""

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.alerts.conftest import Webhook
from tests.ingest.server_process import ServeProcess, make_tokens, stored_event_keys

pytestmark = pytest.mark.postgresql

ROUNDS, ROUND_SECONDS = 16, 0.6  # the load lasts about ten seconds ...
DEADLINE_AFTER_SECONDS = 6  # ... and the scheduled deadlines pass in the middle of it
MAX_RUNTIME_SECONDS = 3
SINGLES, BATCHES, BATCH = 24, 2, 40  # per replica and round
SHARED_SINGLES, SHARED_BATCH = 4, 20  # per round, the same events to both replicas
LOAD_JOBS, LOAD_RUNS = 4, 3
CONNECTIONS = 16  # per replica
ALERTS_WITHIN_SECONDS = 30.0  # after the load: the leader's 10 s sweep, on a busy machine
QUIET_SECONDS = 4.0  # nothing more may arrive once every expected alert was posted
SILENT, LATE, ON_TIME, OVERRUNNING, FAILING, RUNS_EACH = 3, 3, 2, 2, 2, 2


@dataclass(frozen=True)
class Post:
    body: Any  # one event, or a list of them
    ids: tuple[str, ...]
    to: tuple[int, ...]  # the replicas it is sent to; (0, 1): the same request to both


@dataclass(frozen=True)
class Answer:
    post: Post
    replica: int
    status: int | None  # None: no HTTP answer
    body: Any


@dataclass
class Plan:
    """What is sent, round by round, and the alerts it must open (job, kind, run)."""

    rounds: list[list[Post]] = field(default_factory=lambda: [[] for _ in range(ROUNDS)])
    expected: list[tuple[str, str, str | None]] = field(default_factory=list)

    def add(self, round_: int, events: list[dict[str, Any]], to: tuple[int, ...]) -> None:
        for event in events:
            event.setdefault("id", uuid.uuid4().hex)
        body = events[0] if len(events) == 1 else events
        self.rounds[round_].append(Post(body, tuple(e["id"] for e in events), to))

    @property
    def ids(self) -> set[str]:
        return {i for posts in self.rounds for post in posts for i in post.ids}


def event(job: str, run: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {"job": job, "run": run, "kind": kind, **fields}


def load_plan() -> Plan:
    """Metrics, notes and progress on a few runs that both replicas write to, single and in
    batches; each round also sends some of them to both replicas."""
    plan = Plan()
    turn = 0

    def next_event() -> dict[str, Any]:
        nonlocal turn
        turn += 1
        job, run = f"load-{turn % LOAD_JOBS}", f"r{turn // LOAD_JOBS % LOAD_RUNS}"
        if turn % 10 == 0:
            return event(job, run, "note", text=f"note {turn}")
        if turn % 7 == 0:
            return event(job, run, "progress", done=turn, total=10 * turn, unit="rows")
        return event(job, run, "metric", name="rows", value=turn, unit="rows")

    for round_ in range(ROUNDS):
        for replica in (0, 1):
            for _ in range(SINGLES):
                plan.add(round_, [next_event()], (replica,))
            for _ in range(BATCHES):
                plan.add(round_, [next_event() for _ in range(BATCH)], (replica,))
        for _ in range(SHARED_SINGLES):
            plan.add(round_, [next_event()], (0, 1))
        plan.add(round_, [next_event() for _ in range(SHARED_BATCH)], (0, 1))
    return plan


def daily_at(moment: datetime) -> tuple[str, str]:
    """A daily UTC schedule whose start deadline is `moment`: (cron, start_within)."""
    if moment.second == 0:
        moment += timedelta(seconds=1)
    return f"{moment.minute} {moment.hour} * * *", f"{moment.second}s"


def definitions(hooks: list[str], deadline: datetime) -> dict[str, dict[str, Any]]:
    """Jobs whose alerts go to `hooks`: scheduled ones with a deadline at `deadline`, some
    that must not run longer than MAX_RUNTIME_SECONDS, and some that only report."""
    cron, within = daily_at(deadline)
    scheduled = {"timezone": "UTC", "schedule": cron, "alert": hooks}
    milestone = {"start_within": within, "milestones": [{"name": "published", "by": within}]}
    jobs: dict[str, dict[str, Any]] = {}
    for n in range(SILENT):
        jobs[f"silent-{n}"] = {**scheduled, "expect": {"start_within": within}}
    for n in range(LATE):
        jobs[f"late-{n}"] = {**scheduled, "expect": milestone}
    for n in range(ON_TIME):
        jobs[f"on-time-{n}"] = {**scheduled, "expect": milestone}
    for n in range(OVERRUNNING):
        jobs[f"overrunning-{n}"] = {"expect": {"max_runtime": f"{MAX_RUNTIME_SECONDS}s"}, "alert": hooks}
    for n in range(FAILING):
        jobs[f"failing-{n}"] = {"alert": hooks}
    return jobs


def alerting_plan(plan: Plan) -> None:
    """The telemetry of the alerting jobs, every event sent to both replicas: starts first,
    the on-time milestones next, the failures in the middle of the load."""
    for n in range(LATE):
        plan.add(0, [event(f"late-{n}", "night", "start")], (0, 1))
        plan.expected.append((f"late-{n}", "milestone_missed", "night"))
    for n in range(ON_TIME):
        plan.add(0, [event(f"on-time-{n}", "night", "start")], (0, 1))
        plan.add(1, [event(f"on-time-{n}", "night", "milestone", name="published")], (0, 1))
    for n in range(SILENT):
        plan.expected.append((f"silent-{n}", "did_not_start", None))
    for n in range(OVERRUNNING):
        for r in range(RUNS_EACH):
            plan.add(r, [event(f"overrunning-{n}", f"run-{r}", "start")], (0, 1))
            plan.expected.append((f"overrunning-{n}", "overran", f"run-{r}"))
    for n in range(FAILING):
        for r in range(RUNS_EACH):
            job, run = f"failing-{n}", f"run-{r}"
            plan.add(r, [event(job, run, "start")], (0, 1))
            plan.add(ROUNDS // 2 + r, [event(job, run, "finish", status="failed", text="disk full")], (0, 1))
            plan.expected.append((job, "failed", run))


@pytest.fixture
async def webhooks() -> AsyncIterator[list[Webhook]]:
    """Two stand-in Teams Workflows webhooks: every alert goes to both."""
    hooks = [Webhook(), Webhook()]
    app = web.Application()
    for name, hook in zip(("ops", "on-call"), hooks, strict=True):
        app.router.add_post(f"/workflows/{name}", hook.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    for name, hook in zip(("ops", "on-call"), hooks, strict=True):
        hook.url = str(server.make_url(f"/workflows/{name}"))
    yield hooks
    await server.close()


async def send(http: aiohttp.ClientSession, url: str, token: str, post: Post, replica: int) -> Answer:
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with http.post(f"{url}/v1/events", json=post.body, headers=headers) as response:
            body = await response.json(content_type=None)
            return Answer(post, replica, response.status, body)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return Answer(post, replica, None, repr(exc))


async def drive(urls: list[str], token: str, plan: Plan) -> list[Answer]:
    """Each round's posts at once (those for both replicas to both at the same moment), a
    round every ROUND_SECONDS; no retries."""
    answers: list[Answer] = []
    timeout = aiohttp.ClientTimeout(total=30)
    async with contextlib.AsyncExitStack() as stack:
        sessions = [await stack.enter_async_context(aiohttp.ClientSession(
            timeout=timeout, connector=aiohttp.TCPConnector(limit=CONNECTIONS))) for _ in urls]
        started = time.monotonic()
        for number, posts in enumerate(plan.rounds):
            await asyncio.sleep(max(0.0, started + number * ROUND_SECONDS - time.monotonic()))
            answers += await asyncio.gather(*(send(sessions[r], urls[r], token, post, r)
                                              for post in posts for r in post.to))
    return answers


async def put_definitions(url: str, token: str, jobs: dict[str, dict[str, Any]]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        for slug, body in jobs.items():
            async with http.put(f"{url}/v1/jobs/{slug}", json=body, headers=headers) as response:
                assert response.status in (200, 201), await response.text()


async def read_alerts(url: str, token: str) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http, \
            http.get(f"{url}/v1/alerts?limit=1000", headers=headers) as response:
        assert response.status == 200, await response.text()
        alerts: list[dict[str, Any]] = (await response.json())["alerts"]
        return alerts


async def posted_alert_ids(hooks: list[Webhook], count: int, seconds: float) -> list[list[int]]:
    """The alert ids each webhook's posts carry, once `count` arrived at each (or `seconds`
    passed), and nothing more came for QUIET_SECONDS."""
    deadline = time.monotonic() + seconds
    for hook in hooks:
        while len(hook.posts) < count and time.monotonic() < deadline:
            hook.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(hook.arrived.wait(), max(0.0, deadline - time.monotonic()))
    await asyncio.sleep(QUIET_SECONDS)
    return [[a["id"] for post in hook.posts for a in post["opentrace"]["incident"]["alerts"]]
            for hook in hooks]


async def fetch(url: str, query: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        return list(await connection.fetch(query))
    finally:
        await connection.close()


def leads(replica: ServeProcess) -> bool:
    return "now judges deadlines and sends alerts" in replica.log()


async def test_two_replicas_under_load_store_every_event_once_and_open_each_alert_once(
    postgres_url: str, tmp_path: Path, webhooks: list[Webhook]
) -> None:
    replicas = [ServeProcess(postgres_url, tmp_path / name, auth=True) for name in ("a", "b")]
    for replica in replicas:
        replica.directory.mkdir()
    plan = load_plan()
    alerting_plan(plan)
    try:
        # Both start at once on an empty database: one migrates, one bootstrap token.
        await asyncio.gather(*(asyncio.to_thread(replica.start) for replica in replicas))
        tokens = await make_tokens(postgres_url)
        urls = [replica.url for replica in replicas]
        deadline = datetime.now(UTC) + timedelta(seconds=DEADLINE_AFTER_SECONDS)
        hooks = [hook.url for hook in webhooks]
        jobs = definitions(hooks, deadline)
        slugs = list(jobs)
        await asyncio.gather(put_definitions(urls[0], tokens["admin"], {s: jobs[s] for s in slugs[::2]}),
                             put_definitions(urls[1], tokens["admin"], {s: jobs[s] for s in slugs[1::2]}))
        assert datetime.now(UTC) < deadline - timedelta(seconds=1), "defining the jobs took too long"

        answers = await drive(urls, tokens["ingest"], plan)
        assert datetime.now(UTC) > deadline  # the deadlines passed during the load

        posted = await posted_alert_ids(webhooks, len(plan.expected), ALERTS_WITHIN_SECONDS)
        from_api = [await read_alerts(url, tokens["read"]) for url in urls]
        alive = [replica.process is not None and replica.process.poll() is None for replica in replicas]
        leaders = [leads(replica) for replica in replicas]
    finally:
        for replica in replicas:
            replica.stop()
    logs = "\n".join(replica.log() for replica in replicas)

    # Every request answered 202, with every event counted as accepted or duplicate.
    statuses = Counter(answer.status for answer in answers)
    assert set(statuses) == {202}, (statuses, [a for a in answers if a.status != 202][:3])
    for answer in answers:
        assert answer.body["accepted"] + answer.body["duplicates"] == len(answer.post.ids), answer
    # ... and stored exactly once: also what both replicas were sent.
    stored = Counter(await stored_event_keys(postgres_url))
    assert set(stored) == plan.ids, (len(plan.ids - set(stored)), len(set(stored) - plan.ids))
    assert max(stored.values()) == 1, [key for key, n in stored.items() if n > 1][:5]
    [(rows,)] = await fetch(postgres_url, "SELECT count(*) FROM events")
    assert rows == len(plan.ids)
    # Sent to both at once, each event is answered "accepted" by exactly one of them, also when
    # both looked for its id before the other's write committed (the one whose row the unique
    # index dropped counts it a duplicate).
    for shared in (a for a in answers if a.post.to == (0, 1) and a.replica == 0):
        both = [a for a in answers if a.post is shared.post]
        assert sum(a.body["accepted"] for a in both) == len(shared.post.ids), both
    # ... and the runs' times are those of the stored starts and finishes (sent without a time,
    # each replica's copy has its own time of receipt; the dropped copy's must not apply).
    moved = await fetch(postgres_url, "SELECT r.key, r.started_at, s.at, r.finished_at, f.at FROM runs r"
                        " LEFT JOIN events s ON s.run_id = r.id AND s.kind = 'start'"
                        " LEFT JOIN events f ON f.run_id = r.id AND f.kind = 'finish'"
                        " WHERE r.started_at <> s.at OR r.finished_at IS DISTINCT FROM f.at")
    assert moved == []

    # Each alert opened once, told once: one delivery and one post per alert and webhook.
    opened = await fetch(postgres_url, "SELECT a.id, j.slug, a.kind, r.key AS run, a.occurrence_at"
                         " FROM alerts a JOIN jobs j ON j.id = a.job_id"
                         " LEFT JOIN runs r ON r.id = a.run_id")
    assert sorted((a["slug"], a["kind"], a["run"]) for a in opened) == sorted(
        plan.expected, key=lambda e: (e[0], e[1], e[2] or "")), logs[-3000:]
    occurrence = deadline.replace(second=0, microsecond=0)
    assert {a["occurrence_at"] for a in opened if a["kind"] in ("did_not_start", "milestone_missed")} \
        == {occurrence}
    ids = sorted(a["id"] for a in opened)
    deliveries = await fetch(postgres_url, "SELECT alert_id, event, channel, target, state FROM deliveries")
    assert sorted((d["alert_id"], d["target"]) for d in deliveries) == sorted(
        (alert, hook) for alert in ids for hook in hooks)
    assert {(d["event"], d["channel"], d["state"]) for d in deliveries} == {("opened", "webhook", "sent")}
    for hook, alert_ids in zip(webhooks, posted, strict=True):
        assert sorted(alert_ids) == ids, (hook.url, Counter(alert_ids))
        assert len(hook.posts) == len(ids)
    for alerts in from_api:  # each replica answers the same, deliveries included
        assert sorted(a["id"] for a in alerts) == ids
        assert all(sorted(d["target"] for d in a["deliveries"] if d["state"] == "sent") == sorted(hooks)
                   for a in alerts)

    # One leader all along, one bootstrap token, nothing went wrong inside.
    assert alive == [True, True], logs[-3000:]
    assert leaders.count(True) == 1, leaders
    [(bootstrap,)] = await fetch(postgres_url, "SELECT count(*) FROM tokens WHERE name = 'bootstrap-admin'")
    assert bootstrap == 1
    assert "Traceback" not in logs and " ERROR " not in logs, logs[-3000:]
