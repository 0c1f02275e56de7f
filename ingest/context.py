"""What the ingest handlers need from the app, in one typed object under one key.

The app factory builds it at start-up (after the database is open) and wires in what ingest
must not import: the metrics it reports to, the schedule checks of `alerts`, and whom to tell
when a job definition changes."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.schemas import JobDefinition
from storage.clock import Clock
from storage.tokens import TokenCache
from storage.writer import EventWriter

# (field, message) for what only a definition's fields together can tell (cron, deadlines).
ScheduleCheck = Callable[[JobDefinition], list[tuple[str, str]]]


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
    on_job_change: list[Callable[[], None]] = field(default_factory=list)


INGEST = web.AppKey("ingest", Ingest)
