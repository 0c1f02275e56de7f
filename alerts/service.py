"""The watcher and the deliverer on APScheduler, inside the app.

Wake-ups are exact: after each pass the scheduler is set for the earliest `next_check_at`
and the earliest due delivery, so a deadline is judged at the instant it falls due, not at
the next tick of a poll. A wake-up that comes while a pass is under way is never dropped:
that pass is followed by another (`_watch_soon`). Telemetry is judged as it is committed.
Only the replica holding the lead does any of this; the others keep trying to take the lead
every few seconds.

The leader also applies retention: every PRUNE_EVERY_SECONDS (the first time soon after it
starts) the detail events of runs older than `retention_days` are deleted in short paced
transactions, in the background, while ingest goes on (storage/retention.py says what each
old run keeps)."""

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncEngine

from alerts.delivery import Deliverer
from alerts.leadership import TRY_EVERY_SECONDS, Leadership
from alerts.observer import AlertObserver
from alerts.watcher import Watcher
from storage.clock import Clock
from storage.retention import Pruner

log = logging.getLogger(__name__)
JUDGE_AFTER_SECONDS = 0.5  # telemetry is judged within this (plus the judging itself)
SWEEP_EVERY_SECONDS = 10  # picks up jobs other replicas marked due; one indexed query
PRUNE_EVERY_SECONDS = 3600
PRUNE_FIRST_AFTER_SECONDS = 60  # after start: the start-up judging goes first
WAKE_UPS_AT_ONCE = 100  # the watcher's wake-ups let run together (each returns at once)


class Alerting:
    def __init__(self, watcher: Watcher, deliverer: Deliverer, leadership: Leadership, *,
                 clock: Clock, observer: AlertObserver | None = None,
                 engine: AsyncEngine | None = None, retention_days: int = 0) -> None:
        """`engine` and `retention_days` (0: keep everything) turn retention on."""
        self._observer = observer
        self._planned: datetime | None = None  # wall-clock time the next deadline pass is due
        self.watcher = watcher
        self.deliverer = deliverer
        self.leadership = leadership
        self._clock = clock
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._tasks: set[asyncio.Task[None]] = set()
        self._pending: set[int] = set()  # runs with fresh telemetry, not judged yet
        self._judge_scheduled = False
        self._retention = timedelta(days=retention_days)
        self._pruner = Pruner(engine) if engine is not None and retention_days > 0 else None
        self._pruning = False
        self._passes: asyncio.Task[None] | None = None  # watcher passes, one after another
        self._another_pass = False  # asked for while one was under way

    def start(self) -> None:
        self._scheduler.start()
        self._scheduler.add_job(self._lead, IntervalTrigger(seconds=TRY_EVERY_SECONDS),
                                id="lead", next_run_time=datetime.now(UTC),
                                max_instances=1, coalesce=True)
        self._scheduler.add_job(self._watch_soon, IntervalTrigger(seconds=SWEEP_EVERY_SECONDS),
                                id="sweep", max_instances=1, coalesce=True)
        if self._pruner is not None:
            first = datetime.now(UTC) + timedelta(seconds=PRUNE_FIRST_AFTER_SECONDS)
            self._scheduler.add_job(self._prune_soon, IntervalTrigger(seconds=PRUNE_EVERY_SECONDS),
                                    id="prune", next_run_time=first, max_instances=1, coalesce=True)

    async def stop(self) -> None:
        self._scheduler.shutdown(wait=False)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.leadership.release()

    def runs_committed(self, run_ids: set[int]) -> None:
        """Writer listener: judge fresh telemetry soon, without holding up the writer.

        Commits come in bursts (hundreds a second under load); their runs are collected and
        judged together JUDGE_AFTER_SECONDS later, so judging costs one pass per burst, not
        one per commit, and at most one pass waits while another runs."""
        self._pending |= run_ids
        if not self._judge_scheduled:
            self._judge_scheduled = True
            self._spawn(self._judge_pending())

    async def _judge_pending(self) -> None:
        await asyncio.sleep(JUDGE_AFTER_SECONDS)
        run_ids, self._pending = self._pending, set()
        self._judge_scheduled = False
        if self.leadership.leading:
            await self._judge(run_ids)
        else:  # a replica that does not lead: the leader's next sweep judges these jobs
            await self.watcher.mark_due(run_ids)

    def poke(self) -> None:
        """A job definition changed, or something became due: plan the next wake-up again."""
        if self.leadership.leading:
            self._spawn(self._plan())

    async def _lead(self) -> None:
        was = self.leadership.leading
        if await self.leadership.hold() and not was:
            await self._watch_soon()

    async def _prune_soon(self) -> None:
        """Start a retention pass in the background (stop() cancels it), unless the last one
        is still going: catching up on years of history can take longer than the interval."""
        if not self._pruning:
            self._pruning = True
            self._spawn(self._prune())

    async def _prune(self) -> None:
        try:
            if self._pruner is None or not await self.leadership.hold():
                return
            cutoff = self._clock() - self._retention
            await self._pruner.prune(cutoff, keep_going=lambda: self.leadership.leading)
        except Exception:
            log.exception("retention pass failed; the next one is in %d s", PRUNE_EVERY_SECONDS)
        finally:
            self._pruning = False

    async def _judge(self, run_ids: set[int]) -> None:
        await self.watcher.judge_runs(run_ids)
        await self._deliver()

    async def _watch_soon(self) -> None:
        """A wake-up: start a watcher pass, or have the one under way followed by another.
        Returns at once, so the scheduler never finds a wake-up still running and skips the
        next (it would drop it, with a warning: hundreds when many definitions are set)."""
        self._another_pass = True
        if self._passes is None:
            self._passes = asyncio.get_running_loop().create_task(self._pass_after_pass())
            self._tasks.add(self._passes)
            self._passes.add_done_callback(self._done)

    async def _pass_after_pass(self) -> None:
        try:
            while self._another_pass:
                self._another_pass = False
                try:
                    await self._watch()
                except Exception:
                    log.exception("watcher pass failed; the next sweep tries again")
        finally:
            self._passes = None

    async def _watch(self) -> None:
        if self._planned is not None and self._observer is not None:
            lag = (datetime.now(UTC) - self._planned).total_seconds()
            if lag >= 0:
                self._observer.deadline_lag(lag)
        self._planned = None
        if not await self.leadership.hold():
            return
        await self.watcher.check_due()
        await self._deliver()

    async def _deliver(self) -> None:
        if await self.leadership.hold():
            await self.deliverer.deliver_due()
        await self._plan()

    async def _plan(self) -> None:
        """Set the two wake-ups: the next deadline and the next delivery attempt."""
        self._wake("watch", await self.watcher.next_check_at(), self._watch_soon)
        self._wake("deliver", await self.deliverer.next_due(), self._deliver)

    def _wake(self, name: str, due: datetime | None, action: Callable[[], object]) -> None:
        if due is None:
            if self._scheduler.get_job(name):
                self._scheduler.remove_job(name)
            return
        # `due` is on the injected clock; the scheduler runs on the wall clock.
        delay = max((due - self._clock()).total_seconds(), 0.0)
        at = datetime.now(UTC) + timedelta(seconds=delay)
        if name == "watch":
            self._planned = at
        # `_watch_soon` returns at once: its instances never pile up, and one never skips the next.
        self._scheduler.add_job(action, DateTrigger(run_date=at), id=name, replace_existing=True,
                                misfire_grace_time=None,
                                max_instances=WAKE_UPS_AT_ONCE if name == "watch" else 1)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception():
            log.error("alerting task failed", exc_info=task.exception())
