"""`kill -9` under ingest load loses nothing that was acknowledged: a 202 is only sent after
the commit, so every event a client saw accepted is in the database when the server comes
back on it — on SQLite (WAL, synchronous=FULL) and on PostgreSQL."""

import asyncio
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.ingest.conftest import unique
from tests.ingest.server_process import Answer, ServeProcess, make_tokens, request, stored_event_keys

SENDERS = 12
ROUNDS = 2  # kill, restart, kill again: the second crash hits a server that recovered from one
ACKED_BEFORE_KILL = 300  # events acknowledged in a round before the kill; a bound, not a goal
LOAD_SECONDS = 3.0  # ... or this long, whichever comes first
BATCH = 50


@dataclass
class Hammer:
    """Senders posting single events and batches as fast as the server answers."""

    url: str
    token: str
    job: str = field(default_factory=lambda: unique("crash"))
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: set[str] = field(default_factory=set)
    statuses: Counter[int | None] = field(default_factory=Counter)
    unexpected: list[Answer] = field(default_factory=list)
    cut_short: int = 0  # requests in flight when the server died: sent, never answered
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        self.stop.clear()
        self.threads = [threading.Thread(target=self._send, args=(n,)) for n in range(SENDERS)]
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)
            assert not thread.is_alive()

    def wait_for_acked(self, count: int, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while len(self.acked) < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def _send(self, sender: int) -> None:
        run = f"sender-{sender}"
        turn = 0
        while not self.stop.is_set():
            turn += 1
            count = BATCH if turn % 3 == 0 else 1
            events = [{"job": self.job, "run": run, "kind": "metric", "name": "rows", "value": turn,
                       "id": uuid.uuid4().hex} for _ in range(count)]
            answer = request(f"{self.url}/v1/events", "POST", events if count > 1 else events[0],
                             self.token, timeout=30)
            with self.lock:
                self.statuses[answer.status] += 1
                if answer.status == 202:
                    self.acked.update(event["id"] for event in events)
                elif answer.status is not None:
                    self.unexpected.append(answer)
                elif "refused" not in answer.error:
                    self.cut_short += 1
            if answer.status is None:
                time.sleep(0.05)  # killed: connection refused until the test stops us


async def test_every_acknowledged_event_survives_kill_9_under_load(database_url: str, tmp_path: Path) -> None:
    tokens = await make_tokens(database_url)
    server = ServeProcess(database_url, tmp_path, auth=True, settings={"OPENTRACE_WATCH": "off"})
    hammer = Hammer(server.url, tokens["ingest"])
    acked_per_round = []
    try:
        for _ in range(ROUNDS):
            await asyncio.to_thread(server.start)
            before = len(hammer.acked)
            hammer.start()
            await asyncio.to_thread(hammer.wait_for_acked, before + ACKED_BEFORE_KILL, LOAD_SECONDS)
            server.kill()  # mid-load: the senders have requests in flight
            await asyncio.to_thread(hammer.join)
            acked_per_round.append(len(hammer.acked) - before)
        await asyncio.to_thread(server.start)  # comes back on the same database
        after_restart = request(f"{server.url}/v1/events", "POST",
                                {"job": hammer.job, "run": "after", "kind": "start", "id": "after"},
                                tokens["ingest"])
    finally:
        hammer.stop.set()
        server.stop()

    assert all(count > 0 for count in acked_per_round), acked_per_round
    assert hammer.cut_short > 0  # the kills did land mid-request
    assert not hammer.unexpected, hammer.unexpected[:3]  # only 202s, or no answer at all
    assert after_restart.status == 202, after_restart
    stored = Counter(await stored_event_keys(database_url))
    missing = hammer.acked - stored.keys()
    assert not missing, f"{len(missing)} of {len(hammer.acked)} acknowledged events are not stored"
    assert max(stored.values()) == 1
