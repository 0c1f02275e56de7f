"""The watcher: judges jobs at their deadlines and as their telemetry arrives, opens alerts
once, resolves them when a later run recovers, and queues the messages that tell people.

State lives in the database. Each job carries a bookmark (`checked_until`: every deadline up
to it is judged) and an indexed `next_check_at`; each run written to since it was last judged
carries the event writer's mark (`runs.pending`, set in the write's transaction and cleared
here once the run is judged as written). A restart finds the jobs whose next check has passed
and the runs still marked, and judges what it slept through, once.

Judging goes by sets, never job by job, and reads only what can have changed. A pass takes up
to `BATCH` due jobs (on PostgreSQL it claims them in one conditional UPDATE, so replicas share
them and none is judged twice) and reads: the runs in their due occurrences' windows and the
milestones those reached; then, only for the jobs with a run written to since judged (or whose
runs still going could overrun or fall silent by now: `runs_check_at`), their runs marked or
still going — ranges of two partial indexes, whatever the job's history; and, only for runs
that need it, their events and their histories, each history read as the kept facts of its
twenty earlier successful runs (`storage.job_state`), not as their events. A run still going
is judged against the silence limit kept for it. Rows come as plain tuples, not table models.
Judging is Python, the pure functions of `alerts.expectations`; then alerts, deliveries,
what judging worked out, the cleared marks and the bookmarks are written in bulk.

A definition judges from the moment it was set (a new schedule, zone or expectations, noticed
by their digest): deadlines that passed and runs that finished before then are never judged
against it; runs still going then are. A job that never had a definition is judged as its
runs report.

Kept in memory between passes only what follows from the definitions alone: schedule
arithmetic (`Calendars`) and each definition as parsed (`Definitions`, checked against the
job's `updated_at` each time it is taken)."""

import asyncio
import contextlib
import gc
import hashlib
import json
import logging
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from math import isfinite
from typing import Any, Protocol

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.audience import viewer_of
from alerts.expectations import (
    Deadline,
    Finding,
    JobLike,
    RunLike,
    deadlines,
    judge_deadline,
    judge_run,
    judge_running,
    judged_state,
    running_deadlines,
    stall_limit,
)
from alerts.observer import AlertObserver
from alerts.schedule import cron_trigger, occurrences
from alerts.targets import TEAMS, WEBHOOK, is_webhook, names
from storage import alerts, watch
from storage.clock import Clock
from storage.conversations import list_conversations
from storage.job_state import PastRun, PastRuns, RunFacts, facts_of
from storage.models import Job
from storage.watch import EventRow, JobMark, OpenedAlert, RunRow, Watched

log = logging.getLogger(__name__)
CATCH_UP = timedelta(days=7)  # deadlines missed while down longer ago than this are let go
RUNNING_LOOKBACK = timedelta(days=7)  # runs older than this are not watched any more
RETRY_BROKEN_JOB = timedelta(hours=1)  # a job whose check raises is tried again an hour later
BATCH = 2_000  # jobs claimed together (a commit each)
WORK_AT_ONCE = 20_000  # due occurrences judged in one transaction, about (whole jobs): bounds memory
RUNS_AT_ONCE = 5_000  # runs judged with their events and histories together, at most (whole jobs)
HISTORY_RUNS = 20  # successful runs a run is judged against, as `successful_histories` reads
CLAIM_LEASE = timedelta(minutes=5)  # a claimed job falls due again after this if its judge died


@dataclass(frozen=True)
class Opened:
    alert: OpenedAlert  # the alert's columns as opened, read as `storage.alerts.Alert` is
    job: Job


def definition_digest(schedule: str | None, timezone: str | None, expect: dict[str, Any]) -> str:
    """What a definition judges by, in 32 characters: equal digests judge alike."""
    text = json.dumps([schedule, timezone, expect], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


UNDEFINED = definition_digest(None, None, {})  # a job created by its first event


@dataclass(frozen=True)
class Definition:
    """What judging needs of a job's definition (`alerts.expectations.JobLike`), parsed once
    per change: the deadlines after an occurrence, and the metrics it sets bounds on."""

    id: int
    slug: str
    title: str
    schedule: str | None
    timezone: str | None
    expect: dict[str, Any]
    updated_at: datetime
    digest: str
    offsets: tuple[tuple[Deadline, timedelta], ...]  # each deadline after an occurrence
    metric_names: frozenset[str]
    timing: str  # the schedule and the deadlines' offsets: equal timings plan alike (`_Timing`)

    @staticmethod
    def of(job: watch.DefinitionRow) -> "Definition":
        epoch = datetime(2000, 1, 1, tzinfo=UTC)
        offsets = tuple((d, d.at - epoch) for d in deadlines(job, epoch))
        timing = repr((job.schedule, [(d.kind, d.milestone, offset) for d, offset in offsets]))
        return Definition(job.id, job.slug, job.title, job.schedule, job.timezone,
                          job.expect, job.updated_at,
                          definition_digest(job.schedule, job.timezone, job.expect),
                          offsets, frozenset(job.expect.get("metrics", {})), timing)

    def defined_at(self, mark: JobMark) -> datetime | None:
        """Since when the job has been defined as it is now; None if it never was."""
        if mark.definition_digest == self.digest:
            return mark.defined_at
        return None if self.digest == UNDEFINED else self.updated_at


class Definitions:
    """Each job's `Definition`, read again only when the job's `updated_at` moved (every
    change of a definition moves it, on every replica)."""

    LIMIT = 100_000

    def __init__(self) -> None:
        self._known: dict[int, Definition] = {}

    async def of(self, session: AsyncSession, marks: Sequence[JobMark]) -> dict[int, Definition]:
        stale = [m.id for m in marks if (known := self._known.get(m.id)) is None
                 or known.updated_at != m.updated_at]
        if stale:
            if len(self._known) + len(stale) > self.LIMIT:
                self._known.clear()
            for job in await watch.definitions(stale, session=session):
                self._known[job.id] = Definition.of(job)
        return {m.id: self._known[m.id] for m in marks if m.id in self._known}


@dataclass(frozen=True, slots=True)
class _Timing:
    """What a schedule in a zone, with a definition's deadline offsets, makes due between
    `since` and now: the same for every job that has all four alike, so worked out once a
    pass for all of them (the busiest minute of the benchmark: 694 for 1,436 jobs)."""

    due: tuple[tuple[datetime, tuple[Deadline, ...]], ...] = ()  # by occurrence
    # Where each due occurrence's run is looked for, in UTC: [from, before), as `_Plan.window`.
    bounds: tuple[tuple[datetime, datetime], ...] = ()
    early: timedelta = timedelta(0)  # an occurrence's run may start this much before it ...
    gap: timedelta = timedelta(0)  # ... and up to its gap later
    next_deadline: datetime | None = None  # the first deadline after now


NO_TIMING = _Timing()


@dataclass(slots=True)
class _Plan:
    """One due job's schedule, worked out in Python before anything is read."""

    job: Definition
    mark: JobMark
    zone: str
    since: datetime  # deadlines after this are judged now
    defined_at: datetime | None  # runs that finished before this are not judged
    timing: _Timing = NO_TIMING

    @property
    def due(self) -> tuple[tuple[datetime, tuple[Deadline, ...]], ...]:
        return self.timing.due

    def look(self, now: datetime) -> bool:
        """Whether the job's runs still going are to be read though none was written to:
        one could overrun or fall silent by now, or they were judged by another definition."""
        return self.mark.definition_digest != self.job.digest or (
            self.mark.runs_check_at is not None and self.mark.runs_check_at <= now)

    def window(self) -> tuple[datetime, datetime] | None:
        """[from, until) holding the first run of every occurrence with a deadline due."""
        bounds = self.timing.bounds
        return (bounds[0][0], bounds[-1][1]) if bounds else None


@dataclass(slots=True)
class _Verdict:
    """What judging one run found, and what its recovery check needs."""

    run: RunRow
    findings: list[Finding]
    reached: AbstractSet[str]
    complete: bool  # succeeded, complete, nothing out of range: it resolves what was wrong
    upcoming: Sequence[datetime]  # when it could next need judging (if it is still going)
    fresh: bool = True  # judged on its telemetry; False: a run still going, against its kept limit


@dataclass
class _Judged:
    """What a pass worked out, to write: verdicts by job, what to keep, the runs judged."""

    verdicts: dict[int, list[_Verdict]] = field(default_factory=lambda: defaultdict(list))
    kept: list[Watched] = field(default_factory=list)
    cleared: list[tuple[int, int]] = field(default_factory=list)  # (run id, job id)


class Watcher:
    def __init__(self, engine: AsyncEngine, *, clock: Clock, default_timezone: str = "UTC",
                 observer: AlertObserver | None = None) -> None:
        self._engine = engine
        self._clock = clock
        self._default_zone = default_timezone
        self._observer = observer
        self._lock = asyncio.Lock()  # one judgement at a time in this process
        self._calendars = Calendars()
        self._definitions = Definitions()

    # --- deadlines -------------------------------------------------------------------------

    async def check_due(self) -> list[Opened]:
        """Judge every job whose next check has come; returns the alerts it opened."""
        opened: list[Opened] = []
        async with self._lock, _fewer_full_collections():
            now = self._clock()
            lease = now + CLAIM_LEASE
            judged: set[int] = set()  # where jobs are read, not claimed: each judged once a call
            while True:
                async with self._session() as session:
                    marks = await watch.claim_due(now, lease, BATCH, session=session)
                    await session.commit()
                fresh = [mark for mark in marks if mark.id not in judged]
                judged.update(mark.id for mark in fresh)
                for part in await self._plans(fresh, now):
                    opened += await self._check_claimed(part, now)
                if len(marks) < BATCH or not fresh:
                    return opened

    async def next_check_at(self) -> datetime | None:
        async with self._session() as session:
            return await watch.next_check_at(session=session)

    async def _plans(self, marks: list[JobMark], now: datetime) -> list[list["_Plan"]]:
        """The claimed jobs' plans, in parts of about WORK_AT_ONCE due occurrences (a restart
        after a long stop has a day of them per job; a minute has one or two)."""
        if not marks:
            return []
        async with self._session() as session:
            jobs = await self._definitions.of(session, marks)
        parts: list[list[_Plan]] = [[]]
        work = 0
        timings: dict[tuple[str, str, datetime], _Timing] = {}
        for mark in marks:
            if mark.id not in jobs:
                continue  # gone since it was claimed
            plan = self._plan(jobs[mark.id], mark, now, timings)
            if parts[-1] and work + len(plan.due) > WORK_AT_ONCE:
                parts.append([])
                work = 0
            parts[-1].append(plan)
            work += len(plan.due) + 1
        return [part for part in parts if part]

    async def _check_claimed(self, plans: list["_Plan"], now: datetime) -> list[Opened]:
        """Judge claimed jobs together; should that fail, each alone, so that a job whose check
        raises is tried again an hour later and holds up no other."""
        try:
            async with self._session() as session:
                opened = await self._check_jobs(session, plans, now)
                await session.commit()
                return opened
        except Exception:
            if len(plans) > 1:
                log.warning("judging %d jobs together failed; judging each alone", len(plans),
                            exc_info=True)
                return [o for plan in plans for o in await self._check_claimed([plan], now)]
            log.exception("checking job %s failed; trying again later", plans[0].job.slug)
        mark = plans[0].mark
        async with self._session() as session:
            await watch.set_bookmarks({mark.id: watch.Bookmark(
                mark.checked_until, now + RETRY_BROKEN_JOB, mark.defined_at,
                mark.definition_digest, mark.runs_check_at)}, {mark.id: mark.next_check_at},
                session=session)
            await session.commit()
        return []

    async def _check_jobs(self, session: AsyncSession, planned: list["_Plan"],
                          now: datetime) -> list[Opened]:
        plans = {plan.mark.id: plan for plan in planned}
        jobs = {job_id: plan.job for job_id, plan in plans.items()}
        await watch.without_jit(session)
        # Read (when claimed) before any telemetry: what is worked out from it is kept only if
        # no write came since.
        seen = {job_id: plan.mark.revision for job_id, plan in plans.items()}
        findings = await self._judge_deadlines(session, plans)
        # A job's runs are read only when one was written to since judged, when one of those
        # still going could overrun or fall silent by now, or when the definition changed.
        oldest = now - RUNNING_LOOKBACK
        pending = await watch.pending_runs(list(plans), oldest, session=session)
        written = {watched.run.job_id for watched in pending}
        looked = {job_id for job_id, plan in plans.items() if job_id in written or plan.look(now)}
        judged = _Judged()
        fresh: list[watch.WatchedRun] = []
        watched_runs = pending + await watch.running_runs(looked, oldest, session=session)
        watched_runs.sort(key=lambda watched: (watched.run.job_id, watched.run.started_at,
                                               watched.run.id))
        for watched in watched_runs:
            run, job = watched.run, jobs[watched.run.job_id]
            if watched.pending and _before_definition(run, plans[run.job_id].defined_at):
                judged.cleared.append((run.id, run.job_id))
            elif watched.pending or not _kept(watched, job):
                fresh.append(watched)
            else:
                judged.verdicts[run.job_id].append(_still_going(job, run, watched.stall_after, now))
        await self._judge(session, jobs, fresh, now, judged)
        opened = await self._record(session, jobs, findings, judged.verdicts, now)
        await self._keep(session, judged, seen)
        bookmarks: dict[int, watch.Bookmark] = {}
        for job_id, plan in plans.items():
            runs_check_at = plan.mark.runs_check_at
            if job_id in looked:
                runs_check_at = min((at for v in judged.verdicts.get(job_id, []) for at in v.upcoming),
                                    default=None)
            upcoming = plan.timing.next_deadline
            if runs_check_at is not None and runs_check_at > now \
                    and (upcoming is None or runs_check_at < upcoming):
                upcoming = runs_check_at
            bookmarks[job_id] = watch.Bookmark(now, upcoming, plan.defined_at, plan.job.digest,
                                               runs_check_at)
        await watch.set_bookmarks(bookmarks, {job_id: plan.mark.next_check_at
                                              for job_id, plan in plans.items()}, session=session)
        return opened

    def _plan(self, job: Definition, mark: JobMark, now: datetime,
              timings: dict[tuple[str, str, datetime], _Timing]) -> _Plan:
        """The job's deadlines due now, and the next one to come (`timings`: those worked
        out so far this pass, by timing, zone and `since`)."""
        zone = job.timezone or self._default_zone
        defined_at = job.defined_at(mark)
        since = max(mark.checked_until or job.updated_at, defined_at or now - CATCH_UP,
                    now - CATCH_UP)
        plan = _Plan(job, mark, zone, since, defined_at)
        if job.schedule:
            key = (job.timing, zone, since)
            timing = timings.get(key)
            if timing is None:
                timing = timings[key] = self._timing(job.schedule, zone, job.offsets, since, now)
            plan.timing = timing
        return plan

    def _timing(self, schedule: str, zone: str, offsets: tuple[tuple[Deadline, timedelta], ...],
                since: datetime, now: datetime) -> _Timing:
        calendar = self._calendars.of(schedule, zone)
        gap = calendar.shortest_gap(since)
        early = min(timedelta(hours=1), gap / 4)  # a run may start a little before time
        reach = max(offset for _, offset in offsets)
        due_now: list[tuple[datetime, tuple[Deadline, ...]]] = []
        upcoming: datetime | None = None  # the first deadline after now
        for occurrence in calendar.between(since - reach, now + gap + reach):
            due = []
            for deadline, offset in offsets:
                at = occurrence + offset
                if at > now:
                    if upcoming is None or at < upcoming:
                        upcoming = at
                elif at > since:
                    due.append(Deadline(at, deadline.kind, occurrence, deadline.milestone))
            if due:
                due_now.append((occurrence, tuple(due)))
        bounds = tuple(((occurrence - early).astimezone(UTC),
                        (occurrence + gap - early).astimezone(UTC)) for occurrence, _ in due_now)
        return _Timing(tuple(due_now), bounds, early, gap, upcoming)

    async def _judge_deadlines(self, session: AsyncSession,
                               plans: dict[int, _Plan]) -> dict[int, list[Finding]]:
        """Did each occurrence start, and reach its milestones in time? Its run is the first
        one that started in [occurrence - early, occurrence + gap - early)."""
        windows = {job_id: window for job_id, plan in plans.items() if (window := plan.window())}
        runs = await watch.runs_in_windows(windows, session=session)
        first: dict[int, list[RunRow | None]] = {}  # by job: each due occurrence's run
        for job_id, plan in plans.items():
            found = runs.get(job_id)
            if not found:
                first[job_id] = [None] * len(plan.due)
                continue
            starts = [run.started_at for run in found]
            first[job_id] = [found[at] if (at := bisect_left(starts, start)) < len(starts)
                             and starts[at] < before else None
                             for start, before in plan.timing.bounds]
        reached = await watch.reached_milestones(
            {run.id for found in first.values() for run in found if run}, session=session)
        findings: dict[int, list[Finding]] = defaultdict(list)
        for job_id, plan in plans.items():
            for (_, due), run in zip(plan.due, first[job_id], strict=True):
                milestones = reached.get(run.id, {}) if run else {}
                for deadline in due:
                    finding = judge_deadline(plan.job, deadline, run, milestones, plan.zone)
                    if finding:
                        findings[job_id].append(finding)
        return findings

    # --- telemetry -------------------------------------------------------------------------

    async def judge_runs(self, run_ids: Iterable[int]) -> list[Opened]:
        """Judge runs whose telemetry just arrived: failures, early ends, odd metrics —
        and recoveries, which resolve what was open."""
        wanted = set(run_ids)
        async with self._lock, _fewer_full_collections():
            now = self._clock()
            async with self._session() as session:
                await watch.without_jit(session)
                seen = await watch.revisions_of_runs(wanted, session=session)  # before the runs
                runs = await watch.runs_by_id(wanted, session=session)
                marks = {m.id: m for m in await watch.job_marks(
                    {watched.run.job_id for watched in runs}, session=session)}
                jobs = await self._definitions.of(session, list(marks.values()))
                judged = _Judged()
                fresh = []
                for watched in runs:
                    job_id = watched.run.job_id
                    if job_id not in jobs:
                        continue
                    if _before_definition(watched.run, jobs[job_id].defined_at(marks[job_id])):
                        judged.cleared.append((watched.run.id, job_id))
                    else:
                        fresh.append(watched)
                await self._judge(session, jobs, fresh, now, judged)
                opened = await self._record(session, jobs, {}, judged.verdicts, now)
                await self._keep(session, judged, seen)
                await watch.check_soon({job_id: min((at for v in found for at in v.upcoming),
                                                    default=None)
                                        for job_id, found in judged.verdicts.items()},
                                       now, session=session)
                await session.commit()
        return opened

    async def mark_due(self, run_ids: Iterable[int]) -> None:
        """On a replica that does not lead: have the leader judge these runs' jobs soon."""
        async with self._session() as session:
            await watch.jobs_of_runs_due(set(run_ids), self._clock(), session=session)
            await session.commit()

    async def _judge(self, session: AsyncSession, jobs: dict[int, Definition],
                     runs: list[watch.WatchedRun], now: datetime, judged: _Judged) -> None:
        """Judge runs on their telemetry: findings on each, and what to keep of it (a finished
        run's state and facts, a running run's silence limit). Judging needs the milestones,
        the metrics only where the job sets bounds, and — where it can matter — the job's
        history before the run. Whole jobs at a time, at most about RUNS_AT_ONCE runs, so
        memory stays bounded."""
        by_job: dict[int, list[watch.WatchedRun]] = defaultdict(list)
        for watched in runs:
            by_job[watched.run.job_id].append(watched)
        chunk: dict[int, list[watch.WatchedRun]] = {}
        size = 0
        for job_id, found in by_job.items():
            chunk[job_id] = sorted(found, key=lambda watched: (watched.run.started_at, watched.run.id))
            size += len(found)
            if size >= RUNS_AT_ONCE:
                await self._judge_chunk(session, jobs, chunk, now, judged)
                chunk, size = {}, 0
        if chunk:
            await self._judge_chunk(session, jobs, chunk, now, judged)

    async def _judge_chunk(self, session: AsyncSession, jobs: dict[int, Definition],
                           by_job: dict[int, list[watch.WatchedRun]], now: datetime,
                           judged: _Judged) -> None:
        runs = [watched.run for found in by_job.values() for watched in found]
        events = await watch.judging_events(
            [run.id for run in runs if run.finished_at is not None],
            {run.id: jobs[run.job_id].metric_names for run in runs if run.finished_at is None},
            session=session)
        own = {run.id: facts_of(run.started_at, run.finished_at, events.get(run.id, []))
               for run in runs if run.status == watch.SUCCEEDED and run.finished_at is not None}
        # A run still going whose silence limit is kept needs its history only to judge a
        # metric against its usual values; a failed run only for the same.
        needing = {job_id: [w.run for w in found if _needs_history(
            jobs[job_id], w, events.get(w.run.id, []))] for job_id, found in by_job.items()}
        histories = await self._histories(
            session, jobs, {job_id: found for job_id, found in needing.items() if found}, own, judged)
        for job_id, found in by_job.items():
            job, history = jobs[job_id], _History(histories.get(job_id, []))
            for watched in found:
                run = watched.run
                past = history.before(run.started_at)
                timeline = events.get(run.id, [])
                findings = judge_run(job, run, timeline, past)
                upcoming: Sequence[datetime] = NOT_GOING
                if run.finished_at is None:
                    if _kept(watched, job):
                        silence = _silence(watched.stall_after)
                    else:
                        silence = stall_limit(past)
                        judged.kept.append(Watched(
                            run.id, job_id, run.started_at, job.updated_at,
                            stall_after=silence.total_seconds() if silence else None))
                    findings += judge_running(job, run, silence, now)
                    upcoming = [at for at in running_deadlines(job, run, silence) if at > now]
                else:
                    facts = own.get(run.id)
                    judged.kept.append(Watched(run.id, job_id, run.started_at, job.updated_at,
                                               state=judged_state(run, findings),
                                               facts=_facts_json(facts) if facts else None))
                complete = run.status == watch.SUCCEEDED and not findings  # as `succeeded_fully`
                judged.verdicts[job_id].append(
                    _Verdict(run, findings, _reached(timeline), complete, upcoming))
                judged.cleared.append((run.id, job_id))

    async def _histories(self, session: AsyncSession, jobs: dict[int, Definition],
                         by_job: dict[int, list[RunRow]], own: dict[int, RunFacts],
                         judged: _Judged) -> dict[int, list[PastRun]]:
        """Each job's successful runs that the histories of its runs `by_job` draw on, oldest
        first: the facts kept of them, or worked out now (and kept) where none are — from the
        events already read for the runs judged here, from their own events for the others."""
        if not by_job:
            return {}
        rows = await watch.past_successes([found[0].id for found in by_job.values()],
                                          HISTORY_RUNS, session=session)
        missing = [row.id for row in rows if row.facts is None and row.id not in own]
        events = await watch.history_events(missing, session=session) if missing else {}
        histories: dict[int, list[PastRun]] = {job_id: [] for job_id in by_job}
        for row in rows:
            if row.id in own:
                facts = own[row.id]
            elif row.facts is not None:
                facts = RunFacts.from_json(row.facts)
            else:
                facts = facts_of(row.started_at, row.finished_at, events.get(row.id, []))
                judged.kept.append(Watched(row.id, row.job_id, row.started_at,
                                           jobs[row.job_id].updated_at, facts=_facts_json(facts),
                                           facts_only=True))
            histories[row.job_id].append(PastRun(row.id, row.started_at, row.finished_at, facts))
        return histories

    async def _keep(self, session: AsyncSession, judged: _Judged, seen: dict[int, int]) -> None:
        """What judging worked out, and the runs judged: kept and cleared only for jobs not
        written to since their telemetry was read (the others are judged again)."""
        await watch.keep_judged(judged.kept, judged.cleared, seen, session=session)

    # --- alerts ----------------------------------------------------------------------------

    async def _record(self, session: AsyncSession, jobs: dict[int, Definition],
                      deadline_findings: dict[int, list[Finding]],
                      verdicts: dict[int, list[_Verdict]], now: datetime) -> list[Opened]:
        """Open what was found (once), tell the job's targets unless a snooze quiets it, and
        resolve what a run's recovery resolves, telling those who were told."""
        wanted: list[watch.NewAlert] = []
        seen: set[tuple[int, str, str]] = set()
        for job_id in sorted(set(deadline_findings) | set(verdicts)):
            found = deadline_findings.get(job_id, []) + [
                f for verdict in verdicts.get(job_id, []) for f in verdict.findings]
            for f in found:
                if (job_id, f.kind, f.key) not in seen:
                    seen.add((job_id, f.kind, f.key))
                    wanted.append(watch.NewAlert(job_id, f.kind, f.key, f.reason, f.run_id,
                                                 f.occurrence_at, f.facts))
        # Only a run judged on its telemetry can resolve anything: alerts about itself, and when
        # it succeeded fully those opened before it ended. Snoozes matter where alerts open.
        recovering = {job_id: [v for v in found if v.fresh] for job_id, found in verdicts.items()}
        recovering = {job_id: found for job_id, found in recovering.items() if found}
        if not recovering and not wanted:
            return []
        ended = {job_id: max(v.run.finished_at or v.run.started_at for v in found if v.complete)
                 for job_id, found in recovering.items() if any(v.complete for v in found)}
        unresolved = await watch.unresolved_alerts(
            {job_id: [v.run.id for v in found] for job_id, found in recovering.items()}, ended,
            {item.job_id for item in wanted}, now, session=session)
        new = await watch.open_alerts(wanted, now, session=session)
        opened_items = [(item, alert) for item in wanted
                        if (alert := new.get((item.job_id, item.kind, item.key))) is not None]
        told = await watch.jobs_by_id({item.job_id for item, _ in opened_items}, session=session) \
            if opened_items else {}
        targets = await self._targets(session, told) if told else {}
        opened: list[Opened] = []
        messages: list[tuple[int, str, str, str]] = []
        for item, alert in opened_items:
            job = told[item.job_id]
            log.info("alert %s for %s: %s", alert.kind, job.slug, alert.reason)
            if self._observer is not None:
                self._observer.alert_opened(alert.kind)
            opened.append(Opened(alert, job))
            if _snoozed(unresolved.get(item.job_id, []), alert.id, alert.kind, now):
                continue
            for channel, target in targets[item.job_id]:
                messages.append((alert.id, "opened", channel, target))
        if messages:
            await watch.queue_deliveries(messages, now, session=session)
        just_opened = [watch.OpenAlert(a.id, a.job_id, a.kind, a.key, a.run_id, a.opened_at,
                                       a.snoozed_until) for a in new.values()]
        resolved = _resolve(jobs, recovering, unresolved, just_opened)
        if resolved:
            await watch.resolve_alerts(resolved, now, session=session)
            sent = await alerts.deliveries_of([alert_id for alert_id, _ in resolved], session=session)
            await watch.queue_deliveries(sorted(
                {(d.alert_id, "resolved", d.channel, d.target) for d in sent if d.event == "opened"}),
                now, session=session)
        return opened

    async def _targets(self, session: AsyncSession,
                       jobs: dict[int, Job]) -> dict[int, list[tuple[str, str]]]:
        """`alerts.targets.targets_for` of each job, with the conversations and subscriptions
        read once for all of them (a first pass after a restart tells thousands of jobs)."""
        viewers = [(c, viewer_of(c)) for c in await list_conversations(session=session)]
        subscribed = await watch.subscribers_of({job.slug for job in jobs.values()}, session=session)
        found: dict[int, list[tuple[str, str]]] = {}
        for job_id, job in jobs.items():
            conversations = [c for c, viewer in viewers if viewer.sees(job)]
            allowed = {c.conversation_id for c in conversations}
            targets = {(TEAMS, c) for c in subscribed.get(job.slug, [])
                       if not job.audience or c in allowed}
            for name in job.alert:
                if is_webhook(name):
                    targets.add((WEBHOOK, name))
                    continue
                targets.update((TEAMS, c.conversation_id) for c in conversations if names(c, name))
            if not targets and not job.alert:
                targets = {(TEAMS, c.conversation_id) for c in conversations}
            found[job_id] = sorted(targets)
        return found

    def _session(self) -> AsyncSession:
        return AsyncSession(self._engine, expire_on_commit=False)


FULL_COLLECTIONS_APART = 1_000  # collections of the youngest objects but one, while judging


@contextlib.asynccontextmanager
async def _fewer_full_collections() -> AsyncIterator[None]:
    """While a pass judges, Python's collector goes through every object the process holds
    far less often (`gc.set_threshold`'s third value; the younger generations are collected
    as ever). A pass holds hundreds of thousands of objects for a while (a first pass: the
    rows and verdicts of thousands of jobs), and each time enough of them outlived the young
    generations a full collection went through all of them and everything else: a quarter
    of a first pass's time. Nothing is left uncollected: the threshold is put back after."""
    young, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, max(old, FULL_COLLECTIONS_APART))
    try:
        yield
    finally:
        if gc.get_threshold() == (young, middle, max(old, FULL_COLLECTIONS_APART)):
            gc.set_threshold(young, middle, old)


class Calendar:
    """One cron schedule in one zone: its occurrences, worked out once and kept for the span
    the watcher looks at (as `occurrences` yields them), and the shortest gap between them
    (as `shortest_gap` finds it). Working out occurrences is most of what planning costs
    (a restart plans every job), so no more are worked out than a request needs."""

    GAP_SAMPLES = 60
    GAP_HORIZON = timedelta(days=800)
    AHEAD = timedelta(days=1)  # worked out beyond what is asked, so that a pass rarely extends
    KEEP = CATCH_UP + timedelta(days=1)  # occurrences older than this before a request go

    def __init__(self, trigger: CronTrigger) -> None:
        self._trigger = trigger
        self._times: list[datetime] = []  # in the schedule's zone
        self._keys: list[datetime] = []  # the same instants in UTC, to bisect
        self._start = self._end = NEVER  # what is known: (start, end]
        self._gaps: dict[datetime, timedelta] = {}
        self._last_gap: tuple[datetime, timedelta] | None = None

    def between(self, after: datetime, until: datetime) -> list[datetime]:
        """Scheduled times in (after, until], oldest first."""
        after, until = after.astimezone(UTC), until.astimezone(UTC)
        self._cover(after, until)
        return self._times[bisect_right(self._keys, after):bisect_right(self._keys, until)]

    def shortest_gap(self, start: datetime) -> timedelta:
        """The shortest time between two consecutive occurrences over the next 60."""
        if self._last_gap is not None and self._last_gap[0] == start:
            return self._last_gap[1]  # jobs judged together mostly ask from the same time
        gap = self._shortest_gap(start)
        self._last_gap = (start, gap)
        return gap

    def _shortest_gap(self, start: datetime) -> timedelta:
        start = start.astimezone(UTC)
        self._reach_back(start)
        first = bisect_right(self._keys, start)
        while (missing := first + self.GAP_SAMPLES - len(self._keys)) > 0 \
                and self._end < start + self.GAP_HORIZON:
            self._extend(start + self.GAP_HORIZON, missing)  # each round adds one or ends
            first = bisect_right(self._keys, start)
        if first < len(self._times) and self._times[first] in self._gaps:
            return self._gaps[self._times[first]]
        last = bisect_right(self._keys, start + self.GAP_HORIZON, lo=first)
        times = self._times[first:min(last, first + self.GAP_SAMPLES)]
        gap = min((b - a for a, b in pairwise(times)), default=timedelta(days=366))
        if times:
            self._gaps[times[0]] = gap
        return gap

    def _cover(self, after: datetime, until: datetime) -> None:
        self._reach_back(after)
        if until > self._end:
            self._extend(until + self.AHEAD)

    def _reach_back(self, after: datetime) -> None:
        """Know the occurrences from `after` on (and no longer those long before it)."""
        if self._start == NEVER:
            self._start = self._end = after - self.AHEAD
        elif after < self._start:
            self._extend_back(after - self.AHEAD)
        elif self._keys and self._keys[0] < after - self.KEEP and len(self._keys) > 1000:
            cut = bisect_left(self._keys, after - self.KEEP)
            self._start = self._keys[cut - 1]
            del self._times[:cut], self._keys[:cut]

    def _extend(self, until: datetime, count: int | None = None) -> None:
        """Occurrences after the known ones, up to `until` (or the first `count` of them).
        Worked out on from the last one known, as `occurrences` goes from one to the next:
        around a change of the clocks APScheduler's answer depends on where it starts."""
        more: list[datetime] = []
        end = until
        since = self._keys[-1] if self._keys else self._end
        for moment in occurrences(self._trigger, since, until, limit=10**9):
            key = moment.astimezone(UTC)
            if key <= self._end:
                continue  # known to hold none: what was answered before stands
            if not more and self._times and _same_wall_time(moment, self._times[-1]):
                continue  # the repeat of the last one known (a fall-back night) is none
            more.append(moment)
            if count is not None and len(more) == count:
                end = key
                break
        self._times += more
        self._keys += [moment.astimezone(UTC) for moment in more]
        self._end = end

    def _extend_back(self, after: datetime) -> None:
        """Occurrences before the known ones, back to `after` (another job asked earlier)."""
        more = list(occurrences(self._trigger, after, self._start, limit=10**9))
        if more and self._times and _same_wall_time(more[-1], self._times[0]):
            del self._times[0], self._keys[0]  # the known first one repeats the one before it
        self._times[:0] = more
        self._keys[:0] = [moment.astimezone(UTC) for moment in more]
        self._start = after


NEVER = datetime.max.replace(tzinfo=UTC)


def _same_wall_time(one: datetime, other: datetime) -> bool:
    return one.replace(tzinfo=None) == other.replace(tzinfo=None)


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


def _resolve(jobs: dict[int, Definition], verdicts: dict[int, list[_Verdict]],
             unresolved: dict[int, list[watch.OpenAlert]],
             new: list[watch.OpenAlert]) -> list[tuple[int, str]]:
    """(alert id, resolution) for each alert a judged run recovers, resolved by the first
    such run. A run can recover only alerts about itself and — when it succeeded fully —
    alerts opened before it ended: only those are looked at (a first pass after a restart
    judges thousands of runs of jobs with thousands of alerts)."""
    open_now: dict[int, list[watch.OpenAlert]] = defaultdict(list)
    for alert in [a for found in unresolved.values() for a in found] + new:
        open_now[alert.job_id].append(alert)
    resolved: dict[int, str] = {}
    for job_id, found in verdicts.items():
        alerts_of_job = open_now.get(job_id)
        if not alerts_of_job:
            continue
        about: dict[int, list[watch.OpenAlert]] = defaultdict(list)
        for alert in alerts_of_job:
            if alert.run_id is not None:
                about[alert.run_id].append(alert)
        by_opening = sorted(alerts_of_job, key=lambda a: a.opened_at)
        openings = [alert.opened_at for alert in by_opening]
        for verdict in found:
            if not verdict.fresh:
                continue
            run = verdict.run
            candidates = about.get(run.id, [])
            if verdict.complete:
                ended = run.finished_at or run.started_at
                candidates = candidates + by_opening[:bisect_right(openings, ended)]
            for alert in candidates:
                if alert.id in resolved:
                    continue
                resolution = recovery(alert, run, verdict.reached, verdict.complete)
                if resolution:
                    resolved[alert.id] = resolution
                    log.info("alert %s for %s resolved: %s", alert.kind, jobs[job_id].slug, resolution)
    return list(resolved.items())


class _History:
    """A job's successful runs, oldest first, as the histories of its runs judged now draw
    on them: each run's history is the `HISTORY_RUNS` latest that started before it
    (`before`). What `storage.job_state.PastRuns` works out of each history run by run is
    worked out here once for the job, so that judging a job's hundreds of runs (a first pass)
    costs no more than a handful of lookups each: the same values, in the same order."""

    def __init__(self, runs: list[PastRun]) -> None:
        self.runs = runs
        self.starts = [run.started_at for run in runs]
        self.durations = [(run.finished_at - run.started_at).total_seconds() for run in runs]
        self.gaps = [run.facts.gap for run in runs]
        # Histories read milestones and metrics run by run in id order: the same order as
        # this one unless runs were reported out of order (then each history sorts its own).
        self.in_id_order = all(a.id < b.id for a, b in pairwise(runs))
        self._reached: dict[str, list[int]] | None = None

    def before(self, started_at: datetime) -> "_PastWindow":
        end = bisect_left(self.starts, started_at)
        return _PastWindow(self, max(0, end - HISTORY_RUNS), end)

    def reached(self) -> dict[str, list[int]]:
        """Each milestone: the positions of the runs that reached it, ascending."""
        if self._reached is None:
            self._reached = {}
            for index, run in enumerate(self.runs):
                for name in run.facts.milestones:
                    self._reached.setdefault(name, []).append(index)
        return self._reached


class _PastWindow:
    """One run's history (`alerts.expectations.HistoryLike`): runs [start, end) of a
    `_History`, read as `storage.job_state.PastRuns` reads them."""

    __slots__ = ("_end", "_metrics", "_milestones", "_of", "_order", "_start")

    def __init__(self, of: _History, start: int, end: int) -> None:
        self._of, self._start, self._end = of, start, end
        self._milestones: dict[str, int] | None = None
        self._order: list[str] = []
        self._metrics: dict[str, list[float]] | None = None

    @property
    def runs(self) -> list[PastRun]:
        return self._of.runs[self._start:self._end]

    @property
    def durations(self) -> list[float]:
        return self._of.durations[self._start:self._end]

    @property
    def longest_gaps(self) -> list[float]:
        return self._of.gaps[self._start:self._end]

    @property
    def metrics(self) -> dict[str, list[float]]:
        if self._metrics is None:
            self._metrics = PastRuns(self.runs).metrics
        return self._metrics

    @property
    def milestones(self) -> dict[str, int]:
        self._count_milestones()
        assert self._milestones is not None
        return self._milestones

    @property
    def milestone_order(self) -> list[str]:
        self._count_milestones()
        return self._order

    def _count_milestones(self) -> None:
        """As `PastRuns` counts them: each milestone in the order first reached, run by run in
        id order (and within a run in its own order), with the runs that reached it."""
        if self._milestones is not None:
            return
        if not self._of.in_id_order:
            past = PastRuns(self.runs)
            self._milestones, self._order = past.milestones, past.milestone_order
            return
        start, end = self._start, self._end
        runs = self._of.runs
        firsts = []
        counts: dict[str, int] = {}
        for name, where in self._of.reached().items():
            low = bisect_left(where, start)
            if low == len(where) or where[low] >= end:
                continue
            counts[name] = bisect_left(where, end, low) - low
            first = where[low]
            firsts.append((first, runs[first].facts.milestones.index(name), name))
        firsts.sort()
        self._order = [name for _, _, name in firsts]
        self._milestones = {name: counts[name] for name in self._order}


_FACTS_JSON = json.JSONEncoder(separators=(",", ":"))


def _facts_json(facts: RunFacts) -> str:
    """`RunFacts.to_json`, the same text, written out directly where every value is a finite
    float or a string (a first pass keeps a hundred thousand: json's encoder cost more than
    judging); through the encoder otherwise."""
    numbers = [facts.gap, *facts.metrics.values()]
    if all(type(n) is float and isfinite(n) for n in numbers) \
            and all(type(k) is str for k in facts.metrics):
        reached = ",".join(map(_quoted, facts.milestones))
        metrics = ",".join(f"{_quoted(name)}:{value!r}" for name, value in facts.metrics.items())
        payload = "true" if facts.payload else "false"
        return f'{{"g":{facts.gap!r},"m":[{reached}],"v":{{{metrics}}},"p":{payload}}}'
    return _FACTS_JSON.encode({"g": facts.gap, "m": facts.milestones, "v": facts.metrics,
                               "p": facts.payload})


_quoted = json.encoder.encode_basestring_ascii


class AlertLike(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def run_id(self) -> int | None: ...
    @property
    def opened_at(self) -> datetime: ...


def recovery(alert: AlertLike, run: RunLike, reached: AbstractSet[str], complete: bool) -> str | None:
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


def _before_definition(run: RunRow, defined_at: datetime | None) -> bool:
    """A run that finished, and was reported, before its job's definition was set is never
    judged against it; one reported afterwards (a backfill, a late upload) is."""
    return defined_at is not None and run.finished_at is not None and \
        run.finished_at < defined_at and (run.created_at is None or run.created_at < defined_at)


def _still_going(job: JobLike, run: RunRow, stall_after: float | None, now: datetime) -> _Verdict:
    """A run still going, judged with nothing new since: only the clock can find something
    now (it ran too long, or fell silent), against the silence limit kept for it."""
    silence = _silence(stall_after)
    return _Verdict(run, judge_running(job, run, silence, now), NOTHING_REACHED, False,
                    [at for at in running_deadlines(job, run, silence) if at > now], fresh=False)


def _silence(stall_after: float | None) -> timedelta | None:
    return timedelta(seconds=stall_after) if stall_after is not None else None


def _kept(watched: watch.WatchedRun, job: Definition) -> bool:
    """A running run's silence limit is kept, worked out under the job's definition as it is."""
    return watched.kept and watched.definition_at == job.updated_at


def _needs_history(job: Definition, watched: watch.WatchedRun, events: Sequence[EventRow]) -> bool:
    """Whether judging the run reads its history: a finished run's (did it end early?) unless
    it failed, a running run's without a kept silence limit, and any run's that reported a
    metric its job judges against usual values."""
    run = watched.run
    if run.finished_at is None and not _kept(watched, job):
        return True
    if run.finished_at is not None and run.status != "failed":
        return True  # `ended_early` reads it (a failed run is news enough)
    usual = {name for name, bounds in job.expect.get("metrics", {}).items() if bounds.get("usual")}
    return bool(usual) and any(e.kind == "metric" and e.name in usual for e in events)


# Shared by the verdicts that have none (most of a first pass's hundred thousand): never written to.
NOTHING_REACHED: AbstractSet[str] = frozenset()
NOT_GOING: tuple[datetime, ...] = ()


def _reached(events: Sequence[EventRow]) -> AbstractSet[str]:
    found = {e.name for e in events if e.kind == "milestone" and e.status == "reached" and e.name}
    return found or NOTHING_REACHED


def _snoozed(unresolved: list[watch.OpenAlert], alert_id: int | None, kind: str,
             now: datetime) -> bool:
    """Snoozing one alert quiets its job's repeats of the same kind until the snooze ends."""
    return any(other.id != alert_id and other.kind == kind and other.snoozed_until
               and other.snoozed_until > now for other in unresolved)
