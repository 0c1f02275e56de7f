"""Exactly one replica judges deadlines and sends alerts.

On PostgreSQL the leader holds a session-level advisory lock on a connection of its own;
if the process dies, the connection closes, the lock is released and another replica takes
it within one `TRY_EVERY`. SQLite serves a single process, which always leads."""

import logging

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import locks

log = logging.getLogger(__name__)
WATCH_LOCK_ID = 0x0DE7_7AD0
TRY_EVERY_SECONDS = 5


class Leadership:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._single_process = engine.dialect.name != "postgresql"

    @property
    def leading(self) -> bool:
        return self._single_process or self._connection is not None

    async def hold(self) -> bool:
        """Take the lead if it is free, or check that it is still ours; True when leading."""
        if self._single_process:
            return True
        if self._connection is not None:
            try:
                await locks.still_connected(self._connection)
                return True
            except Exception as exc:
                log.warning("lost the watcher lead: %s", exc)
                await self._drop()
                return False
        return await self._take()

    async def _take(self) -> bool:
        connection = await self._engine.connect()
        try:
            taken = await locks.try_lock(connection, WATCH_LOCK_ID)
        except Exception:
            await connection.close()
            raise
        if not taken:
            await connection.close()
            return False
        log.info("this replica now judges deadlines and sends alerts")
        self._connection = connection
        return True

    async def release(self) -> None:
        if self._connection is not None:
            try:
                await locks.unlock(self._connection, WATCH_LOCK_ID)
            finally:
                await self._drop()

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await connection.close()
            except Exception as exc:
                log.debug("closing the lead connection: %s", exc)
