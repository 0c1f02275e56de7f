"""What the ingest handlers need from the app, in one typed object under one key.

The app factory builds it at start-up (after the database is open) and wires in what ingest
must not import: the metrics it reports to, the schedule checks and definition warnings of
`alerts`, and whom to tell when a job definition changes."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from ingest.schemas import JobDefinition
from storage.clock import Clock
from storage.models import Job
from storage.tokens import TokenCache
from storage.writer import EventWriter

# (field, message) for what only a definition's fields together can tell (cron, deadlines).
ScheduleCheck = Callable[[JobDefinition], list[tuple[str, str]]]
# Warnings about a stored job's definition that do not stop it (an alert target nobody reads).
DefinitionWarnings = Callable[[AsyncSession, Job], Awaitable[list[str]]]


async def no_warnings(_: AsyncSession, __: Job) -> list[str]:
    return []


class IngestObserver(Protocol):
    """What ingest reports about itself (the app counts it for /metrics)."""

    def ingested(self, path: str, kinds: dict[str, int], duplicates: int, seconds: float) -> None: ...

    def rejected(self, status: int) -> None: ...


@dataclass
class Ingest:
    engine: AsyncEngine
    writer: EventWriter
    tokens: TokenCache
    clock: Clock
    auth: bool  # False: OPENTRACE_AUTH=off, every request is let through
    observer: IngestObserver
    schedule_problems: ScheduleCheck
    definition_warnings: DefinitionWarnings = no_warnings
    on_job_change: list[Callable[[], None]] = field(default_factory=list)


INGEST = web.AppKey("ingest", Ingest)
