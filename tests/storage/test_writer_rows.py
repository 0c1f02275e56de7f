"""The event writer's driver-level statements store exactly what the ORM columns would:
the same UTC text on SQLite, the same instants on PostgreSQL, the same JSON text, and rows
that read back through the models unchanged."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Event, Run
from storage.types import UTCDateTime
from storage.writer import EVENTS, EventWriter, IncomingEvent, sqlite_utc

RECEIVED = datetime(2026, 11, 25, 6, 0, 0, 123456, tzinfo=UTC)
MOMENTS = [
    datetime(2026, 11, 25, 6, 0, tzinfo=UTC),
    datetime(2026, 11, 25, 6, 0, 0, 7, tzinfo=UTC),
    datetime(2026, 3, 29, 2, 30, 0, 999999, tzinfo=ZoneInfo("Europe/Berlin")),
    datetime(2026, 11, 25, 0, 15, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
    datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_sqlite_timestamps_are_the_text_sqlalchemys_datetime_writes(moment: datetime) -> None:
    dialect = sqlite.dialect()
    naive = UTCDateTime().process_bind_param(moment, dialect)
    write = sqlite.DATETIME().bind_processor(dialect)  # type: ignore[no-untyped-call]
    assert write is not None
    assert sqlite_utc(moment) == write(naive)


def test_a_naive_datetime_is_refused_as_the_column_refuses_it() -> None:
    with pytest.raises(ValueError, match="naive"):
        sqlite_utc(datetime(2026, 11, 25, 6, 0))


def events(run: str) -> list[IncomingEvent]:
    job = "rows-job"
    return [
        IncomingEvent(job, run, "start", MOMENTS[0], key=f"{run}-s",
                      data={"attributes": {"host": "etl-1", "n": 3, "deep": {"x": [1, None]}}}),
        IncomingEvent(job, run, "metric", MOMENTS[1], name="rows", value=8911.0,
                      data={"name": "rows", "value": 8911.0, "unit": "rows"}),
        IncomingEvent(job, run, "note", MOMENTS[2],
                      data={"text": "Grüße, 日本 🚀 \"quoted\"\n", "level": "warning"}),
        IncomingEvent(job, run, "payload", MOMENTS[3], name="input-file",
                      data={"name": "input-file", "data": {"path": "/d/ü.csv", "size": 1.5e300}}),
        IncomingEvent(job, run, "progress", RECEIVED, data={"done": 3.0, "total": 10.0}),
        IncomingEvent(job, run, "milestone", MOMENTS[1], name="file-read", status="reached",
                      data={"name": "file-read", "status": "reached"}),
        IncomingEvent(job, run, "finish", MOMENTS[3] + timedelta(hours=1), status="partial",
                      data={"status": "partial", "text": "exited early"}),
    ]




async def stored_columns(engine: AsyncEngine, run_key: str) -> list[tuple[Any, ...]]:
    """The events of a run as the database holds them (JSON as its text)."""
    data = "data::text" if engine.dialect.name == "postgresql" else "data"
    async with engine.connect() as conn:
        result = await conn.exec_driver_sql(
            f"SELECT e.kind, e.at, e.received_at, e.key, e.name, e.value, e.status, {data} "
            "FROM events e JOIN runs r ON r.id = e.run_id WHERE r.key = "
            + ("$1" if engine.dialect.name == "postgresql" else "?") + " ORDER BY e.id",
            (run_key,))
        return [tuple(row) for row in result.all()]


async def test_rows_are_stored_as_the_orm_columns_store_them(engine: AsyncEngine) -> None:
    writer = EventWriter(engine)
    writer.start()
    try:
        await writer.write(events("lean"), RECEIVED)
        await writer.write(events("orm"), RECEIVED)  # creates the run; its rows are replaced
    finally:
        await writer.close()
    async with engine.begin() as conn:  # the same rows through SQLAlchemy's column types
        run_id = (await conn.exec_driver_sql("SELECT id FROM runs WHERE key = 'orm'")).scalar()
        await conn.execute(EVENTS.delete().where(EVENTS.c.run_id == run_id))
        await conn.execute(EVENTS.insert(), [
            {"run_id": run_id, "kind": e.kind, "at": e.at, "received_at": RECEIVED, "key": e.key,
             "name": e.name, "value": e.value, "status": e.status, "data": e.data}
            for e in events("orm")])
    lean = await stored_columns(engine, "lean")
    assert lean == [(*row[:3], row[3] and row[3].replace("orm", "lean"), *row[4:])
                    for row in await stored_columns(engine, "orm")]


async def test_rows_read_back_through_the_models_unchanged(engine: AsyncEngine) -> None:
    writer = EventWriter(engine)
    writer.start()
    try:
        result = await writer.write(events("r1"), RECEIVED)
    finally:
        await writer.close()
    assert (result.accepted, result.duplicates) == (7, 0)
    async with AsyncSession(engine) as session:
        run = (await session.exec(select(Run).where(Run.key == "r1"))).one()
        stored = (await session.exec(
            select(Event).where(Event.run_id == run.id).order_by(col(Event.id)))).all()
    sent = events("r1")
    assert [(e.kind, e.at, e.received_at, e.key, e.name, e.value, e.status, e.data)
            for e in stored] == [
        (e.kind, e.at.astimezone(UTC), RECEIVED, e.key, e.name, e.value, e.status, e.data)
        for e in sent]
    assert all(e.at.tzinfo is UTC for e in stored)
    # The summary columns the writer keeps: span, start facts and final status.
    assert (run.started_at, run.has_start, run.attributes) == (
        MOMENTS[0], True, sent[0].data["attributes"])
    assert (run.finished_at, run.status, run.summary) == (
        sent[-1].at.astimezone(UTC), "partial", "exited early")
    assert run.last_event_at == sent[-1].at.astimezone(UTC)


async def test_the_last_start_and_the_latest_finish_of_a_write_name_the_run(engine: AsyncEngine) -> None:
    job, run, at = "pick-job", "p", MOMENTS[0]
    writer = EventWriter(engine)
    writer.start()
    try:
        first = await writer.write([
            IncomingEvent(job, run, "start", at + timedelta(minutes=1), key="s1",
                          data={"attributes": {"n": 1}}),
            IncomingEvent(job, run, "start", at, key="s2", data={"attributes": {"n": 2}}),  # the last
            IncomingEvent(job, run, "finish", at + timedelta(minutes=10), key="f1", status="failed",
                          data={"status": "failed", "text": "first"}),
            IncomingEvent(job, run, "finish", at + timedelta(minutes=10), key="f2", status="succeeded",
                          data={"status": "succeeded", "text": "second"}),  # as late, and after
            IncomingEvent(job, run, "finish", at + timedelta(minutes=5), key="f3", status="partial",
                          data={"status": "partial", "text": "earlier"}),
        ], RECEIVED)
        # Sent again (with other times): duplicates, which change nothing.
        again = await writer.write([
            IncomingEvent(job, run, "start", at + timedelta(minutes=2), key="s1",
                          data={"attributes": {"n": 3}}),
            IncomingEvent(job, run, "finish", at + timedelta(minutes=20), key="f3", status="partial"),
        ], RECEIVED)
    finally:
        await writer.close()
    assert [(r.accepted, r.duplicates) for r in (first, again)] == [(5, 0), (0, 2)]
    async with AsyncSession(engine) as session:
        stored = (await session.exec(select(Run).where(Run.key == run))).one()
    assert (stored.started_at, stored.has_start, stored.attributes) == (at, True, {"n": 2})
    assert (stored.finished_at, stored.status, stored.summary) == (
        at + timedelta(minutes=10), "succeeded", "second")
    assert stored.last_event_at == at + timedelta(minutes=10)
