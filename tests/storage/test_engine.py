"""Plain URLs pick the async driver; migrations apply once, also with replicas racing."""

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import SQLModel

import storage.alerts
import storage.conversations  # noqa: F401
from storage.engine import MIGRATIONS, DatabaseURLError, async_url, create_engine, migrate


@pytest.mark.parametrize(("plain", "driver"), [
    ("sqlite:///opentrace.db", "sqlite+aiosqlite"),
    ("sqlite:////var/lib/opentrace/ot.db", "sqlite+aiosqlite"),
    ("postgresql://ot@db:5432/ot", "postgresql+asyncpg"),
    ("postgres://ot@db/ot", "postgresql+asyncpg"),
    ("postgresql+psycopg://ot@db/ot", "postgresql+asyncpg"),
])
def test_users_write_plain_urls_and_the_async_driver_is_chosen(plain: str, driver: str) -> None:
    assert async_url(plain).drivername == driver


@pytest.mark.parametrize("plain", ["mysql://a@b/c", "sqlite://", "sqlite:///:memory:", "::"])
def test_unsupported_urls_are_refused_clearly(plain: str) -> None:
    with pytest.raises(DatabaseURLError):
        async_url(plain)


async def test_migrations_apply_once_and_are_idempotent(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        await migrate(engine)
        async with engine.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        assert version == [(head_revision(),)]
    finally:
        await engine.dispose()


async def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path: object) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/wal.db")
    try:
        await migrate(engine)
        async with engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
            sync = (await conn.execute(text("PRAGMA synchronous"))).scalar()
        assert (mode, sync) == ("wal", 2)
    finally:
        await engine.dispose()


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


async def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with engine.connect() as conn:
            differences = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), SQLModel.metadata))
        assert differences == []
    finally:
        await engine.dispose()


async def test_replicas_starting_together_on_postgresql_migrate_once(postgres_url: str) -> None:
    engines = [create_engine(postgres_url) for _ in range(4)]
    try:
        await asyncio.gather(*(migrate(e) for e in engines))
        async with engines[0].connect() as conn:
            tables = {name for (name,) in (await conn.execute(text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema='public'"
            ))).all()}
        assert tables == {*SQLModel.metadata.tables, "alembic_version"}
    finally:
        for e in engines:
            await e.dispose()
