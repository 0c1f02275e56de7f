"""The watcher: judges jobs at their deadlines and as their telemetry arrives, opens alerts
once, resolves them when a later run recovers, and queues the messages that tell people.

State lives in the database, never in memory: each job carries a bookmark (`checked_until`:
every deadline up to it is judged) and an indexed `next_check_at`. A restart simply finds
the jobs whose next check has passed and judges the deadlines it slept through, once.

Judging goes by sets, never job by job. A pass claims up to `BATCH` due jobs in one
conditional UPDATE (so replicas share them and none is judged twice), reads what judging
them needs in a few queries — the runs in their occurrences' windows and the milestones those
reached, the runs to judge with their events, histories and open alerts — judges in Python
with the pure functions of `alerts.expectations`, then writes alerts, deliveries and
bookmarks in bulk. Only schedule arithmetic is kept between passes (`Calendars`): it follows
from the definitions alone."""

import asyncio
import logging
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.expectations import (
    Deadline,
    Finding,
    deadlines,
    judge_deadline,
    judge_run,
    judge_running,
    running_deadlines,
)
from alerts.observer import AlertObserver
from alerts.schedule import cron_trigger, occurrences
from alerts.targets import targets_for
from storage import alerts, watch
from storage.alert_states import RESOLVED
from storage.alerts import Alert
from storage.clock import Clock
from storage.history import successful_histories
from storage.models import Event, Job, Run

log = logging.getLogger(__name__)
CATCH_UP = timedelta(days=7)  # deadlines missed while down longer ago than this are let go
RUNNING_LOOKBACK = timedelta(days=7)  # runs older than this are not watched any more
RECENT = timedelta(days=1)  # a run's telemetry may trail its start by this much
RETRY_BROKEN_JOB = timedelta(hours=1)  # a job whose check raises is tried again an hour later
BATCH = 250  # jobs claimed and judged together: bounds a pass's memory, not its speed
CLAIM_LEASE = timedelta(minutes=5)  # a claimed job falls due again after this if its judge died


@dataclass(frozen=True)
class Opened:
    alert: Alert
    job: Job


@dataclass
class _Plan:
    """One due job's schedule, worked out in Python before anything is read."""

    job: Job
    zone: str
    since: datetime  # deadlines after this are judged now
    due: list[tuple[datetime, list[Deadline]]] = field(default_factory=list)  # by occurrence
    early: timedelta = timedelta(0)  # an occurrence's run may start this much before it ...
    gap: timedelta = timedelta(0)  # ... and up to its gap later
    upcoming: list[datetime] = field(default_factory=list)

    def window(self) -> tuple[datetime, datetime] | None:
        """[from, until) holding the first run of every occurrence with a deadline due."""
        if not self.due:
            return None
        return self.due[0][0] - self.early, self.due[-1][0] + self.gap - self.early


@dataclass
class _Verdict:
    """What judging one run found, and what its recovery check needs."""

    run: Run
    findings: list[Finding]
    reached: set[str]
    complete: bool  # succeeded, complete, nothing out of range: it resolves what was wrong
    upcoming: list[datetime]  # when it could next need judging (if it is still going)


class Watcher:
    def __init__(self, engine: AsyncEngine, *, clock: Clock, default_timezone: str = "UTC",
                 observer: AlertObserver | None = None) -> None:
        self._engine = engine
        self._clock = clock
        self._default_zone = default_timezone
        self._observer = observer
        self._lock = asyncio.Lock()  # one judgement at a time in this process
        self._calendars = Calendars()

    # --- deadlines -------------------------------------------------------------------------

    async def check_due(self) -> list[Opened]:
        """Judge every job whose next check has come; returns the alerts it opened."""
        opened: list[Opened] = []
        async with self._lock:
            now = self._clock()
            lease = now + CLAIM_LEASE
            while True:
                async with self._session() as session:
                    jobs = await watch.claim_due(now, lease, BATCH, session=session)
                    await session.commit()
                if jobs:
                    opened += await self._check_claimed(jobs, now, lease)
                if len(jobs) < BATCH:
                    return opened

    async def next_check_at(self) -> datetime | None:
        async with self._session() as session:
            return await watch.next_check_at(session=session)

    async def _check_claimed(self, jobs: list[Job], now: datetime, lease: datetime) -> list[Opened]:
        """Judge claimed jobs together; should that fail, each alone, so that a job whose check
        raises is tried again an hour later and holds up no other."""
        try:
            async with self._session() as session:
                opened = await self._check_jobs(session, jobs, now, lease)
                await session.commit()
                return opened
        except Exception:
            if len(jobs) > 1:
                log.warning("judging %d jobs together failed; judging each alone", len(jobs),
                            exc_info=True)
                return [o for job in jobs for o in await self._check_claimed([job], now, lease)]
            log.exception("checking job %s failed; trying again later", jobs[0].slug)
        async with self._session() as session:
            await watch.set_bookmarks({jobs[0].id or 0: (jobs[0].checked_until, now + RETRY_BROKEN_JOB)},
                                      lease, session=session)
            await session.commit()
        return []

    async def _check_jobs(self, session: AsyncSession, jobs: list[Job], now: datetime,
                          lease: datetime) -> list[Opened]:
        by_id = {job.id or 0: job for job in jobs}
        plans = {job_id: self._plan(job, now) for job_id, job in by_id.items()}
        findings = await self._judge_deadlines(session, plans)
        # Runs still going (overran, stalled), runs that reported since the last check (their
        # telemetry may have reached another replica), and, for a new definition, the last day.
        wanted = {job_id: watch.RunsToJudge(
            recent=plan.since - RECENT, oldest_running=now - RUNNING_LOOKBACK,
            changed_after=_judged_until(plan.job)) for job_id, plan in plans.items()}
        to_judge = [run for runs in (await watch.runs_to_judge(wanted, session=session)).values()
                    for run in runs]
        verdicts = await self._judge(session, by_id, to_judge, now)
        opened = await self._record(session, by_id, findings, verdicts, now)
        bookmarks: dict[int, tuple[datetime | None, datetime | None]] = {}
        for job_id, plan in plans.items():
            upcoming = plan.upcoming + [at for v in verdicts.get(job_id, []) for at in v.upcoming]
            bookmarks[job_id] = (now, min((at for at in upcoming if at > now), default=None))
        await watch.set_bookmarks(bookmarks, lease, session=session)
        return opened

    def _plan(self, job: Job, now: datetime) -> _Plan:
        """The job's deadlines due now, and the next one to come."""
        zone = job.timezone or self._default_zone
        plan = _Plan(job, zone, max(job.checked_until or job.updated_at, now - CATCH_UP))
        if not job.schedule:
            return plan
        calendar = self._calendars.of(job.schedule, zone)
        plan.gap = calendar.shortest_gap(plan.since)
        plan.early = min(timedelta(hours=1), plan.gap / 4)  # a run may start a little before time
        offsets = [(d, d.at - d.occurrence) for d in deadlines(job, plan.since)]
        reach = max(offset for _, offset in offsets)
        for occurrence in calendar.between(plan.since - reach, now + plan.gap + reach):
            due = []
            for deadline, offset in offsets:
                at = occurrence + offset
                if plan.since < at <= now:
                    due.append(Deadline(at, deadline.kind, occurrence, deadline.milestone))
                elif at > now:
                    plan.upcoming.append(at)
            if due:
                plan.due.append((occurrence, due))
        return plan

    async def _judge_deadlines(self, session: AsyncSession,
                               plans: dict[int, _Plan]) -> dict[int, list[Finding]]:
        """Did each occurrence start, and reach its milestones in time? Its run is the first
        one that started in [occurrence - early, occurrence + gap - early)."""
        windows = {job_id: window for job_id, plan in plans.items() if (window := plan.window())}
        runs = await watch.runs_in_windows(windows, session=session)
        first: dict[tuple[int, datetime], Run | None] = {}
        for job_id, plan in plans.items():
            starts = [run.started_at for run in runs.get(job_id, [])]
            for occurrence, _ in plan.due:
                at = bisect_left(starts, (occurrence - plan.early).astimezone(UTC))
                before = (occurrence + plan.gap - plan.early).astimezone(UTC)
                first[(job_id, occurrence)] = runs[job_id][at] \
                    if at < len(starts) and starts[at] < before else None
        reached = await watch.reached_milestones(
            {run.id for run in first.values() if run and run.id}, session=session)
        findings: dict[int, list[Finding]] = defaultdict(list)
        for job_id, plan in plans.items():
            for occurrence, due in plan.due:
                run = first[(job_id, occurrence)]
                for deadline in due:
                    finding = judge_deadline(plan.job, deadline, run,
                                             reached.get(run.id or 0, {}) if run else {}, plan.zone)
                    if finding:
                        findings[job_id].append(finding)
        return findings

    # --- telemetry -------------------------------------------------------------------------

    async def judge_runs(self, run_ids: Iterable[int]) -> list[Opened]:
        """Judge runs whose telemetry just arrived: failures, early ends, odd metrics —
        and recoveries, which resolve what was open."""
        async with self._lock:
            now = self._clock()
            async with self._session() as session:
                runs, jobs = await watch.runs_and_jobs(set(run_ids), session=session)
                runs = [run for run in runs if run.job_id in jobs]
                verdicts = await self._judge(session, jobs, runs, now)
                opened = await self._record(session, jobs, {}, verdicts, now)
                soon = {job_id: min(upcoming) for job_id, found in verdicts.items()
                        if (upcoming := [at for v in found for at in v.upcoming])}
                await watch.check_soon(soon, session=session)
                await session.commit()
        return opened

    async def mark_due(self, run_ids: Iterable[int]) -> None:
        """On a replica that does not lead: have the leader judge these runs' jobs soon."""
        async with self._session() as session:
            await watch.jobs_of_runs_due(set(run_ids), self._clock(), session=session)
            await session.commit()

    async def _judge(self, session: AsyncSession, jobs: dict[int, Job], runs: list[Run],
                     now: datetime) -> dict[int, list[_Verdict]]:
        """Findings on each run, by job, in the order given. Judging needs the milestones, and
        the metrics only where the job sets bounds, and the job's history before the run."""
        if not runs:
            return {}
        events = await watch.judging_events(
            {run.id or 0: list(jobs[run.job_id].expect.get("metrics", {})) for run in runs},
            session=session)
        histories = await successful_histories(runs, session=session)
        verdicts: dict[int, list[_Verdict]] = defaultdict(list)
        for run in runs:
            job, found, history = jobs[run.job_id], events[run.id or 0], histories[run.id or 0]
            findings = judge_run(job, run, found, history)
            complete = run.status == "succeeded" and not findings  # as `succeeded_fully`
            upcoming = []
            if run.finished_at is None:
                findings += judge_running(job, run, history, now)
                upcoming = [at for at in running_deadlines(job, run, history) if at > now]
            verdicts[run.job_id].append(_Verdict(run, findings, _reached(found), complete, upcoming))
        return verdicts

    # --- alerts ----------------------------------------------------------------------------

    async def _record(self, session: AsyncSession, jobs: dict[int, Job],
                      deadline_findings: dict[int, list[Finding]],
                      verdicts: dict[int, list[_Verdict]], now: datetime) -> list[Opened]:
        """Open what was found (once), tell the job's targets unless a snooze quiets it, and
        resolve what a run's recovery resolves, telling those who were told."""
        job_ids = sorted(set(deadline_findings) | set(verdicts))
        if not job_ids:
            return []
        unresolved = await watch.unresolved_alerts(job_ids, session=session)
        wanted: list[watch.NewAlert] = []
        seen: set[tuple[int, str, str]] = set()
        for job_id in job_ids:
            found = deadline_findings.get(job_id, []) + [
                f for verdict in verdicts.get(job_id, []) for f in verdict.findings]
            for f in found:
                if (job_id, f.kind, f.key) not in seen:
                    seen.add((job_id, f.kind, f.key))
                    wanted.append(watch.NewAlert(job_id, f.kind, f.key, f.reason, f.run_id,
                                                 f.occurrence_at, f.facts))
        new = await watch.open_alerts(wanted, now, session=session) if wanted else {}
        opened: list[Opened] = []
        messages: list[tuple[int, str, str, str]] = []
        for item in wanted:
            alert = new.get((item.job_id, item.kind, item.key))
            if alert is None:
                continue  # judged before: an alert is opened once
            job = jobs[item.job_id]
            log.info("alert %s for %s: %s", alert.kind, job.slug, alert.reason)
            if self._observer is not None:
                self._observer.alert_opened(alert.kind)
            opened.append(Opened(alert, job))
            if _snoozed(unresolved.get(item.job_id, []), alert, now):
                continue
            for channel, target in await self._targets(session, job):
                messages.append((alert.id or 0, "opened", channel, target))
        if messages:
            await watch.queue_deliveries(messages, now, session=session)
        resolved = self._resolve(jobs, verdicts, unresolved, [o.alert for o in opened], now)
        if resolved:
            told = await alerts.deliveries_of([alert.id or 0 for alert in resolved], session=session)
            await watch.queue_deliveries(sorted(
                {(d.alert_id, "resolved", d.channel, d.target) for d in told if d.event == "opened"}),
                now, session=session)
        return opened

    def _resolve(self, jobs: dict[int, Job], verdicts: dict[int, list[_Verdict]],
                 unresolved: dict[int, list[Alert]], new: list[Alert], now: datetime) -> list[Alert]:
        """Each alert a judged run recovers, resolved by the first such run."""
        open_now: dict[int, list[Alert]] = defaultdict(list)
        for alert in [a for found in unresolved.values() for a in found] + new:
            open_now[alert.job_id].append(alert)
        resolved: list[Alert] = []
        for job_id, found in verdicts.items():
            for verdict in found:
                for alert in open_now.get(job_id, []):
                    if alert.state == RESOLVED:
                        continue
                    resolution = recovery(alert, verdict.run, verdict.reached, verdict.complete)
                    if resolution:
                        alert.state, alert.resolved_at, alert.resolution = RESOLVED, now, resolution
                        log.info("alert %s for %s resolved: %s", alert.kind, jobs[job_id].slug,
                                 resolution)
                        resolved.append(alert)
        return resolved

    async def _targets(self, session: AsyncSession, job: Job) -> list[tuple[str, str]]:
        return await targets_for(session, job)

    def _session(self) -> AsyncSession:
        return AsyncSession(self._engine, expire_on_commit=False)


class Calendar:
    """One cron schedule in one zone: its occurrences, worked out once and kept for the span
    the watcher looks at (as `occurrences` yields them), and the shortest gap between them
    (as `shortest_gap` finds it)."""

    GAP_SAMPLES = 60
    GAP_HORIZON = timedelta(days=800)
    AHEAD = timedelta(days=1)  # worked out beyond what is asked, so that a pass rarely extends
    KEEP = CATCH_UP + timedelta(days=1)  # occurrences older than this before a request go

    def __init__(self, trigger: CronTrigger) -> None:
        self._trigger = trigger
        self._times: list[datetime] = []  # in the schedule's zone
        self._keys: list[datetime] = []  # the same instants in UTC, to bisect
        self._start = self._end = datetime.max.replace(tzinfo=UTC)  # what is known: (start, end]
        self._gaps: dict[datetime, timedelta] = {}

    def between(self, after: datetime, until: datetime) -> list[datetime]:
        """Scheduled times in (after, until], oldest first."""
        after, until = after.astimezone(UTC), until.astimezone(UTC)
        self._cover(after, until)
        return self._times[bisect_right(self._keys, after):bisect_right(self._keys, until)]

    def shortest_gap(self, start: datetime) -> timedelta:
        """The shortest time between two consecutive occurrences over the next 60."""
        start = start.astimezone(UTC)
        ahead = timedelta(days=2)
        while True:
            self._cover(start, min(start + ahead, start + self.GAP_HORIZON))
            first = bisect_right(self._keys, start)
            if len(self._keys) - first >= self.GAP_SAMPLES or ahead >= self.GAP_HORIZON:
                break
            ahead *= 4
        if first < len(self._times) and self._times[first] in self._gaps:
            return self._gaps[self._times[first]]
        last = bisect_right(self._keys, start + self.GAP_HORIZON, lo=first)
        times = self._times[first:min(last, first + self.GAP_SAMPLES)]
        gap = min((b - a for a, b in pairwise(times)), default=timedelta(days=366))
        if times:
            self._gaps[times[0]] = gap
        return gap

    def _cover(self, after: datetime, until: datetime) -> None:
        if after < self._start:
            self._times, self._keys, self._gaps = [], [], {}
            self._start = self._end = after - self.AHEAD
        elif self._keys and self._keys[0] < after - self.KEEP and len(self._keys) > 1000:
            cut = bisect_left(self._keys, after - self.KEEP)
            self._start = self._keys[cut - 1]
            del self._times[:cut], self._keys[:cut]
        if until > self._end:
            end = until + self.AHEAD
            more = list(occurrences(self._trigger, self._end, end, limit=10**9))
            # Starting again from the last one known: its repeat (a fall-back night) is none.
            if more and self._times and more[0].replace(tzinfo=None) == self._times[-1].replace(tzinfo=None):
                more = more[1:]
            self._times += more
            self._keys += [moment.astimezone(UTC) for moment in more]
            self._end = end


class Calendars:
    """A `Calendar` per (schedule, zone), shared by every job that has the same ones."""

    LIMIT = 50_000

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], Calendar] = {}

    def of(self, schedule: str, zone: str) -> Calendar:
        calendar = self._known.get((schedule, zone))
        if calendar is None:
            if len(self._known) >= self.LIMIT:
                self._known.clear()
            calendar = self._known[(schedule, zone)] = Calendar(cron_trigger(schedule, zone))
        return calendar


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


def _judged_until(job: Job) -> datetime | None:
    """Runs that reported after this were not seen by the last check; None when every recent
    run is to be judged (the first check, or the definition changed since the last)."""
    until = job.checked_until
    return until if until is not None and until >= job.updated_at else None


def _reached(events: list[Event]) -> set[str]:
    return {e.name for e in events if e.kind == "milestone" and e.status == "reached" and e.name}


def _snoozed(unresolved: list[Alert], alert: Alert, now: datetime) -> bool:
    """Snoozing one alert quiets its job's repeats of the same kind until the snooze ends."""
    return any(other.id != alert.id and other.kind == alert.kind and other.snoozed_until
               and other.snoozed_until > now for other in unresolved)
