"""PostgreSQL session-level advisory locks: held by one connection until it releases them or
closes, so a replica that dies gives its lock up with its connection."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


async def try_lock(connection: AsyncConnection, lock_id: int) -> bool:
    """Take the lock if no other session holds it; never waits."""
    await connection.execution_options(isolation_level="AUTOCOMMIT")
    taken = (await connection.execute(text("SELECT pg_try_advisory_lock(:id)"), {"id": lock_id})).scalar()
    return bool(taken)


async def unlock(connection: AsyncConnection, lock_id: int) -> None:
    await connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": lock_id})


async def still_connected(connection: AsyncConnection) -> None:
    """Raises when the connection (and with it the lock) is gone."""
    await connection.execute(text("SELECT 1"))
