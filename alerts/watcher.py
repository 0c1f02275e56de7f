"""The watcher: judges jobs at their deadlines and as their telemetry arrives, opens alerts
once, resolves them when a later run recovers, and queues the messages that tell people.

State lives in the database, never in memory: each job carries a bookmark (`checked_until`:
every deadline up to it is judged) and an indexed `next_check_at`. A restart simply finds
the jobs whose next check has passed and judges the deadlines it slept through, once."""

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.expectations import (
    Finding,
    deadlines,
    judge_deadline,
    judge_run,
    judge_running,
    running_deadlines,
    succeeded_fully,
)
from alerts.observer import AlertObserver
from alerts.schedule import cron_trigger, occurrences, shortest_gap
from alerts.targets import targets_for
from storage import alerts, queries, watch
from storage.alert_states import RESOLVED
from storage.alerts import Alert
from storage.clock import Clock
from storage.history import successful_history
from storage.models import Job, Run
from storage.queries import run_events

log = logging.getLogger(__name__)
CATCH_UP = timedelta(days=7)  # deadlines missed while down longer ago than this are let go
RUNNING_LOOKBACK = timedelta(days=7)  # runs older than this are not watched any more
RECENT = timedelta(days=1)  # a run's telemetry may trail its start by this much
RETRY_BROKEN_JOB = timedelta(hours=1)  # a job whose check raises is tried again an hour later


@dataclass(frozen=True)
class Opened:
    alert: Alert
    job: Job


class Watcher:
    def __init__(self, engine: AsyncEngine, *, clock: Clock, default_timezone: str = "UTC",
                 observer: AlertObserver | None = None) -> None:
        self._engine = engine
        self._clock = clock
        self._default_zone = default_timezone
        self._observer = observer
        self._lock = asyncio.Lock()  # one judgement at a time in this process

    # --- deadlines -------------------------------------------------------------------------

    async def check_due(self) -> list[Opened]:
        """Judge every job whose next check has come; returns the alerts it opened."""
        opened: list[Opened] = []
        async with self._lock:
            now = self._clock()
            async with self._session() as session:
                for job in await watch.due_jobs(now, session=session):
                    try:
                        opened += await self._check_job(session, job, now)
                        await session.commit()
                    except Exception:
                        log.exception("checking job %s failed; trying again later", job.slug)
                        await session.rollback()
                        await watch.set_bookmark(job, job.checked_until,
                                                 now + RETRY_BROKEN_JOB, session=session)
                        await session.commit()
        return opened

    async def next_check_at(self) -> datetime | None:
        async with self._session() as session:
            return await watch.next_check_at(session=session)

    async def _check_job(self, session: AsyncSession, job: Job, now: datetime) -> list[Opened]:
        zone = job.timezone or self._default_zone
        since = max(job.checked_until or job.updated_at, now - CATCH_UP)
        findings: list[Finding] = []
        upcoming: list[datetime] = []
        if job.schedule:
            trigger = cron_trigger(job.schedule, zone)
            gap = shortest_gap(trigger, since)
            early = min(timedelta(hours=1), gap / 4)  # a run may start a little before time
            reach = max((d.at - d.occurrence for d in deadlines(job, since)), default=gap)
            for occurrence in occurrences(trigger, since - reach, now + gap + reach):
                first = await queries.list_runs(job, since=occurrence - early, until=occurrence + gap - early,
                                                limit=1, oldest_first=True, session=session)
                run = first[0] if first else None
                reached = await watch.reached_milestones(run, session=session) if run else {}
                for deadline in deadlines(job, occurrence):
                    if since < deadline.at <= now:
                        finding = judge_deadline(job, deadline, run, reached, zone)
                        if finding:
                            findings.append(finding)
                    elif deadline.at > now:
                        upcoming.append(deadline.at)
        opened = await self._open(session, job, findings, now)
        # Runs still going, and runs whose telemetry reached another replica: judged here too.
        for run in await watch.runs_to_judge(job, since - RECENT, now - RUNNING_LOOKBACK, session=session):
            run_opened, run_upcoming = await self._judge_run(session, job, run, now)
            opened += run_opened
            upcoming += run_upcoming
        await watch.set_bookmark(job, now, min(upcoming, default=None), session=session)
        return opened

    # --- telemetry -------------------------------------------------------------------------

    async def judge_runs(self, run_ids: Iterable[int]) -> list[Opened]:
        """Judge runs whose telemetry just arrived: failures, early ends, odd metrics —
        and recoveries, which resolve what was open."""
        opened: list[Opened] = []
        async with self._lock:
            now = self._clock()
            async with self._session() as session:
                for run_id in sorted(set(run_ids)):
                    run = await session.get(Run, run_id)
                    job = await session.get(Job, run.job_id) if run else None
                    if run is None or job is None:
                        continue
                    run_opened, upcoming = await self._judge_run(session, job, run, now)
                    if upcoming:
                        await watch.check_soon(job.id or 0, min(upcoming), session=session)
                    opened += run_opened
                    await session.commit()
        return opened

    async def mark_due(self, run_ids: Iterable[int]) -> None:
        """On a replica that does not lead: have the leader judge these runs' jobs soon."""
        async with self._session() as session:
            await watch.jobs_of_runs_due(set(run_ids), self._clock(), session=session)
            await session.commit()

    async def _judge_run(self, session: AsyncSession, job: Job, run: Run,
                         now: datetime) -> tuple[list[Opened], list[datetime]]:
        """Findings on one run, and when it could next need judging (if it is still going)."""
        # Judging needs the milestones, and the metrics only where the job sets bounds: a long
        # run's thousands of progress and metric events are not read again on every pass.
        events = list(await run_events(run, session=session, kinds=("milestone",)))
        if job.expect.get("metrics"):
            events += await run_events(run, session=session, kinds=("metric",),
                                       names=list(job.expect["metrics"]))
        history = await successful_history(job, before=run.started_at, session=session)
        findings = judge_run(job, run, events, history)
        if run.finished_at is None:
            findings += judge_running(job, run, history, now)
        opened = await self._open(session, job, findings, now)
        reached = {e.name for e in events if e.kind == "milestone" and e.status == "reached" and e.name}
        for alert in await alerts.unresolved_alerts(job.id or 0, session=session):
            resolution = recovery(alert, run, reached, succeeded_fully(job, run, events, history))
            if resolution:
                await self._resolve(session, job, alert, resolution, now)
        upcoming = [] if run.finished_at else running_deadlines(job, run, history)
        return opened, [at for at in upcoming if at > now]

    # --- alerts ----------------------------------------------------------------------------

    async def _open(self, session: AsyncSession, job: Job, findings: list[Finding],
                    now: datetime) -> list[Opened]:
        opened = []
        for finding in findings:
            alert = await alerts.open_alert(job_id=job.id or 0, kind=finding.kind, key=finding.key,
                reason=finding.reason, run_id=finding.run_id,
                occurrence_at=finding.occurrence_at, facts=finding.facts, now=now, session=session)
            if alert is None:
                continue  # judged before: an alert is opened once
            log.info("alert %s for %s: %s", alert.kind, job.slug, alert.reason)
            if self._observer is not None:
                self._observer.alert_opened(alert.kind)
            opened.append(Opened(alert, job))
            if await self._snoozed(session, job, alert, now):
                continue
            for channel, target in await targets_for(session, job):
                await alerts.queue_delivery(alert_id=alert.id or 0, event="opened",
                                            channel=channel, target=target, now=now, session=session)
        return opened

    async def _snoozed(self, session: AsyncSession, job: Job, alert: Alert, now: datetime) -> bool:
        """Snoozing one alert quiets its job's repeats of the same kind until the snooze ends."""
        for other in await alerts.unresolved_alerts(job.id or 0, session=session):
            if other.id != alert.id and other.kind == alert.kind and other.snoozed_until \
                    and other.snoozed_until > now:
                return True
        return False

    async def _resolve(self, session: AsyncSession, job: Job, alert: Alert, resolution: str,
                       now: datetime) -> None:
        alert.state = RESOLVED
        alert.resolved_at = now
        alert.resolution = resolution
        session.add(alert)
        log.info("alert %s for %s resolved: %s", alert.kind, job.slug, resolution)
        told = await alerts.deliveries_of([alert.id or 0], session=session)
        for delivery in {(d.channel, d.target) for d in told if d.event == "opened"}:
            await alerts.queue_delivery(alert_id=alert.id or 0, event="resolved",
                                        channel=delivery[0], target=delivery[1], now=now, session=session)

    def _session(self) -> AsyncSession:
        return AsyncSession(self._engine, expire_on_commit=False)


def recovery(alert: Alert, run: Run, reached: set[str], complete: bool) -> str | None:
    """Why `run` resolves `alert`, or None when it does not."""
    if alert.kind == "milestone_missed" and alert.run_id == run.id:
        name = alert.key.rsplit(":", 1)[-1]
        if name in reached:
            return f"'{name}' was reached after all (run {run.key})."
    if complete and (alert.run_id is None or alert.run_id != run.id) \
            and alert.opened_at <= (run.finished_at or run.started_at):
        return f"A later run ({run.key}) finished successfully."
    if alert.kind in ("stalled", "overran") and alert.run_id == run.id and run.finished_at:
        return f"The run finished ({run.status})."
    return None

