"""Database URLs, engines and schema migrations."""

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

MIGRATIONS = Path(__file__).parent / "migrations"
ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
# Any stable number: the PostgreSQL advisory lock that serialises start-up across replicas.
STARTUP_LOCK_ID = 0x0DE7_7ACE
T = TypeVar("T")


class DatabaseURLError(ValueError):
    pass


def async_url(plain: str) -> URL:
    """Turn what users write (`sqlite:///x.db`, `postgresql://u@h/db`, `postgres://…`) into
    the URL of the async driver the app uses."""
    try:
        url = make_url(plain)
    except Exception as exc:
        raise DatabaseURLError(f"not a database URL: {plain!r}") from exc
    backend = "postgresql" if url.get_backend_name() in ("postgres", "postgresql") else None
    backend = backend or url.get_backend_name()
    if backend not in ASYNC_DRIVERS:
        raise DatabaseURLError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")
    if backend == "sqlite" and url.database in (None, "", ":memory:"):
        raise DatabaseURLError("SQLite needs a file path, e.g. sqlite:///opentrace.db")
    return url.set(drivername=ASYNC_DRIVERS[backend])


def create_engine(plain_url: str, *, timeout_seconds: float = 5.0) -> AsyncEngine:
    url = async_url(plain_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, timeout_seconds)
    connect_args: dict[str, Any] = {
        "timeout": timeout_seconds,
        "server_settings": {"lock_timeout": str(int(timeout_seconds * 1000))},
    }
    # pre-ping replaces connections the database dropped (a restart, a failover, a cut network),
    # so the pool recovers by itself; waiting for a free connection is bounded like the rest.
    return create_async_engine(
        url, pool_size=10, max_overflow=10, pool_pre_ping=True, pool_timeout=timeout_seconds,
        connect_args=connect_args,
    )


def _sqlite_engine(url: URL, timeout_seconds: float) -> AsyncEngine:
    engine = create_async_engine(url, connect_args={"timeout": timeout_seconds})

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # A new file gives the pages retention frees back to the file system, a few at a time
        # (storage/retention.py runs `incremental_vacuum`). Only a file without tables takes
        # this, and it must come before WAL; an older file keeps its mode until a VACUUM.
        cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
        # WAL lets readers run beside the writer; FULL makes each commit survive power loss,
        # which is what a 202 promises. Group commit keeps the fsync cost per batch, not per event.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout_seconds * 1000)}")
        cursor.close()

    return engine


def upgrade_schema(connection: Connection) -> None:
    """Apply every pending Alembic migration on this (sync) connection.

    On PostgreSQL a transaction-scoped advisory lock makes replicas that start together take
    turns, so exactly one of them migrates."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": STARTUP_LOCK_ID})
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(upgrade_schema)


async def in_sqlite_thread(conn: AsyncConnection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run `work` on the sqlite3 connection behind `conn`, on the thread aiosqlite keeps for it,
    in one trip. aiosqlite otherwise crosses to that thread and back for every call (a cursor,
    each statement, the commit), and under load each crossing waits for the busy event loop.
    `work` runs while the loop goes on: it must touch nothing the loop's side changes meanwhile.
    (SQLAlchemy's own aiosqlite adapter hands aiosqlite's queue functions the same way.)"""
    driver: Any = (await conn.get_raw_connection()).driver_connection
    return cast(T, await driver._execute(work, driver._conn))
