"""Fixtures that build real parts: a SQLite file or a fresh PostgreSQL database, and the
OpenTrace app served by aiohttp on 127.0.0.1, driven over real HTTP."""

import os
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from ingest.context import INGEST
from opentrace.app import create_app
from opentrace.settings import Settings
from storage.engine import create_engine, migrate
from storage.tokens import create_token
from storage.writer import EventWriter, IncomingEvent

PG_HOST, PG_PORT, PG_ADMIN_DB = "127.0.0.1", 5432, "test"
PG_USER = os.environ.get("OPENTRACE_TEST_PG_USER", "postgres")


def postgres_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Every storage and ingest test runs on both backends."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'opentrace.db'}"
        return
    async for url in _fresh_postgres_database():
        yield url


async def _fresh_postgres_database() -> AsyncIterator[str]:
    if not postgres_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true but {PG_HOST}:{PG_PORT} is closed")
        pytest.skip(f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT}")
    name = f"opentrace_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_ADMIN_DB)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        yield f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated engine on the test's database, for tests of storage without a server."""
    migrated = create_engine(database_url)
    await migrate(migrated)
    yield migrated
    await migrated.dispose()


async def write_events(engine: AsyncEngine, events: list[IncomingEvent]) -> None:
    """Events through the real group-commit writer, received at the latest event's time."""
    writer = EventWriter(engine)
    writer.start()
    try:
        await writer.write(events, max(e.at for e in events))
    finally:
        await writer.close()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async for url in _fresh_postgres_database():
        yield url


@dataclass
class Clock:
    """The injected clock: tests set "now" and move it."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 25, 6, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@dataclass
class Api:
    """A real OpenTrace server on 127.0.0.1 and a token of each scope."""

    client: TestClient[Any, Any]
    tokens: dict[str, str]

    @property
    def engine(self) -> AsyncEngine:
        return self.client.server.app[INGEST].engine  # type: ignore[union-attr]

    def auth(self, scope: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[scope]}"} if scope else {}

    async def send(self, events: Any, scope: str | None = "ingest") -> ClientResponse:
        return await self.client.post("/v1/events", json=events, headers=self.auth(scope))

    async def send_ok(self, events: Any) -> dict[str, Any]:
        response = await self.send(events)
        body = await response.json()
        assert response.status == 202, body
        return body  # type: ignore[no-any-return]

    async def get(self, path: str, scope: str | None = "read") -> ClientResponse:
        return await self.client.get(path, headers=self.auth(scope))

    async def get_ok(self, path: str) -> Any:
        response = await self.get(path)
        body = await response.json()
        assert response.status == 200, body
        return body

    async def put(self, path: str, body: Any, scope: str | None = "admin") -> ClientResponse:
        return await self.client.put(path, json=body, headers=self.auth(scope))

    async def stored(self) -> list[tuple[Any, ...]]:
        """Everything in the database, for before/after comparisons."""
        async with AsyncSession(self.engine) as session:
            rows: list[tuple[Any, ...]] = []
            for table in ("jobs", "runs", "events"):
                result = await session.exec(text(f"SELECT * FROM {table} ORDER BY id"))  # type: ignore[call-overload]
                rows.extend((table, *row) for row in result.all())
            return rows


async def start_api(url: str, clock: Clock, **settings: Any) -> Api:
    """The server; its watcher stays off unless asked for (`watch=True`), so that tests which
    drive a watcher themselves see every judgement it makes."""
    settings.setdefault("watch", False)
    app = create_app(Settings(database_url=url, **settings), clock=clock)
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    tokens = {}
    async with AsyncSession(app[INGEST].engine) as session:
        for scope in ("ingest", "read", "admin"):
            tokens[scope] = await create_token(f"test-{scope}", scope, clock(), session=session)
    return Api(client, tokens)


@pytest.fixture
async def api(database_url: str, clock: Clock) -> AsyncIterator[Api]:
    api = await start_api(database_url, clock)
    yield api
    await api.client.close()
