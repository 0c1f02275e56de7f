"""Two writers (two replicas, each with its own engine) given the same events at the same
moment on one PostgreSQL database: each looks up the stored event ids before the other's
write commits, so both send the same rows. The database keeps one copy; the writer that
lost the race must answer "duplicate", and the copy it did not store must leave the run's
times and status as the stored events make them.

The race is made deterministic: a third connection holds the job's revision row, which every
write locks first, while both writers look up the ids and queue behind it; once both wait,
it lets go, and the writers go one after the other in the order they queued."""

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import create_engine, migrate
from storage.writer import EventWriter, IncomingEvent

pytestmark = pytest.mark.postgresql

JOB, RUN = "export", "night"
AT = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
WAIT_SECONDS = 10.0


@pytest.fixture
async def engines(postgres_url: str) -> AsyncIterator[list[AsyncEngine]]:
    """Two engines on one database, as two replicas have."""
    made = [create_engine(postgres_url) for _ in range(2)]
    await migrate(made[0])
    yield made
    for engine in made:
        await engine.dispose()


def copy(received: datetime) -> list[IncomingEvent]:
    """The same three events (same ids) as one replica makes them when the client sends no
    times: each takes the replica's own time of receipt."""
    return [IncomingEvent(JOB, RUN, "start", received, key="s", data={"attributes": {"at": str(received)}}),
            IncomingEvent(JOB, RUN, "metric", received, key="m", name="rows", value=1.0),
            IncomingEvent(JOB, RUN, "finish", received, key="f", status="succeeded",
                          data={"status": "succeeded", "text": f"received {received}"})]


async def waiting_backends(connection: asyncpg.Connection) -> int:
    """How many sessions wait for a lock (read outside any transaction: inside one, the
    activity view is a snapshot taken once)."""
    count: int = await connection.fetchval(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'")
    return count


async def until_waiting(connection: asyncpg.Connection, count: int) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while await waiting_backends(connection) < count:
        assert time.monotonic() < deadline, f"fewer than {count} writers queued behind the lock"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("warm", [True, False], ids=["job-and-run-known", "job-and-run-looked-up"])
async def test_the_same_events_written_by_two_replicas_at_once_are_accepted_once(
        engines: list[AsyncEngine], postgres_url: str, warm: bool) -> None:
    writers = [EventWriter(engine) for engine in engines]
    for writer in writers:
        writer.start()
    try:
        # The run exists (and its job's revision row); warm writers know both, so each writes
        # in one statement with no transaction around it, as a replica under load does.
        for n, writer in enumerate(writers if warm else writers[:1]):
            await writer.write([IncomingEvent(JOB, RUN, "note", AT, data={"text": f"warm {n}"})], AT)
        if not warm:
            await writers[0].close()
            writers[0] = EventWriter(engines[0])
            writers[0].start()

        holder, watcher = await asyncpg.connect(postgres_url), await asyncpg.connect(postgres_url)
        try:
            job_id = await holder.fetchval("SELECT id FROM jobs WHERE slug = $1", JOB)
            holding = holder.transaction()
            await holding.start()
            await holder.execute("SELECT 1 FROM job_revisions WHERE job_id = $1 FOR UPDATE", job_id)
            first = asyncio.create_task(writers[0].write(copy(AT + timedelta(milliseconds=4)), AT))
            await until_waiting(watcher, 1)
            second = asyncio.create_task(writers[1].write(copy(AT + timedelta(milliseconds=16)), AT))
            await until_waiting(watcher, 2)
            await holding.rollback()
            results = await asyncio.gather(first, second)

            run = await holder.fetchrow("SELECT * FROM runs")
            events = {e["kind"]: e for e in await holder.fetch(
                "SELECT kind, at, data::text AS data FROM events WHERE key IS NOT NULL")}
            [(stored,)] = await holder.fetch("SELECT count(*) FROM events WHERE key IS NOT NULL")
        finally:
            await holder.close()
            await watcher.close()
    finally:
        for writer in writers:
            await writer.close()

    assert stored == 3
    assert sorted((r.accepted, r.duplicates) for r in results) == [(0, 3), (3, 0)]
    # The run as the stored copies make it, whichever replica stored them.
    assert (run["started_at"], run["has_start"]) == (events["start"]["at"], True)
    assert (run["finished_at"], run["status"]) == (events["finish"]["at"], "succeeded")
    assert run["summary"] == f"received {events['finish']['at'].astimezone(UTC)}"
    assert run["attributes"] == f'{{"at": "{events["start"]["at"].astimezone(UTC)}"}}'
    assert run["last_event_at"] == events["finish"]["at"]
