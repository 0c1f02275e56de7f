"""What the engine keeps between questions, so that an all-jobs answer does not read and
judge every job's history again: each job's latest run, recent start times and usual
runtime, each job's judged runs of a period an overview was asked about (in this process),
and each finished run's judged state (in the database, shared by every replica). All are
labelled with the job's revision (`storage.job_state`), which the event writer raises in
the transaction of every write to the job's telemetry and which is read *before* the
telemetry it labels: a job whose revision moved is read again, and a judgement made from
telemetry that a write overtook is not stored."""

import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from itertools import pairwise
from statistics import median

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.baselines import Usual, usual
from alerts.expectations import judge_run, judged_state
from storage import job_state, queries
from storage.history import recent_starts, successful_histories, successful_history
from storage.job_state import Judgement
from storage.models import Job, Run

log = logging.getLogger(__name__)
MAX_JOBS = 100_000  # snapshots kept; past this the memory starts again
MAX_PERIODS = 4  # periods whose judged runs are kept, the least recently asked dropped first
MAX_PERIOD_RUNS = 50_000  # runs kept over every period; past this the memory starts again


@dataclass(frozen=True)
class Snapshot:
    """A job's telemetry as of `revision`: what the overview needs that does not depend on
    the time of the question."""

    revision: int
    last_run: Run | None
    starts: list[datetime]  # the last ten start times, oldest first

    @cached_property
    def usual_gap(self) -> tuple[float, float] | None:
        """(the median gap between `starts` in seconds, its wobble: 1.4826 x the median
        absolute deviation), worked out once per snapshot; None with fewer than four starts."""
        gaps = [(b - a).total_seconds() for a, b in pairwise(self.starts)]
        if len(gaps) < 3:
            return None
        gap = median(gaps)
        return gap, 1.4826 * median([abs(g - gap) for g in gaps])


@dataclass
class AnswerState:
    """One per `Answerer`; safe to share between concurrent questions (the worst case is a
    job read twice). With `keep` False nothing is kept or used: every answer reads and judges
    afresh (to compare, and to check that kept answers are the same)."""

    keep: bool = True
    _snapshots: dict[int, Snapshot] = field(default_factory=dict)
    _runtimes: dict[int, tuple[int, Usual | None]] = field(default_factory=dict)
    _periods: OrderedDict[tuple[datetime, datetime, int], dict[int, "PeriodRuns"]] = field(
        default_factory=OrderedDict)

    async def snapshots(self, job_ids: Sequence[int], *, session: AsyncSession) -> dict[int, Snapshot]:
        """Each job's snapshot, reading again only those whose revision moved: two queries
        and a few rows when nothing did."""
        seen = await job_state.revisions(session=session) if self.keep else {}
        stale = [job_id for job_id in job_ids if (found := self._snapshots.get(job_id)) is None
                 or found.revision != seen.get(job_id, 0) or not self.keep]
        if stale:
            if len(self._snapshots) + len(stale) > MAX_JOBS:
                self._snapshots.clear()
            last = await queries.last_runs(stale, session=session)
            starts = await recent_starts(session=session, job_ids=stale)
            for job_id in stale:
                self._snapshots[job_id] = Snapshot(seen.get(job_id, 0), last.get(job_id),
                                                   starts.get(job_id, []))
        return {job_id: self._snapshots[job_id] for job_id in job_ids}

    async def usual_runtime(self, job: Job, snapshot: Snapshot, now: datetime, *,
                            session: AsyncSession) -> Usual | None:
        """`usual(successful_history(job, before=now).durations)`. When every run of the job
        started before `now` the history does not depend on `now`, so it is kept with the
        snapshot's revision."""
        job_id = job.id or 0
        timeless = snapshot.last_run is not None and snapshot.last_run.started_at < now
        kept = self._runtimes.get(job_id) if self.keep else None
        if timeless and kept is not None and kept[0] == snapshot.revision:
            return kept[1]
        history = await successful_history(job, before=now, session=session)
        typical = usual(history.durations)
        if timeless:
            if len(self._runtimes) > MAX_JOBS:
                self._runtimes.clear()
            self._runtimes[job_id] = (snapshot.revision, typical)
        return typical

    async def judged_runs(self, jobs: dict[int, Job], *, since: datetime, end: datetime,
                          until: datetime, limit: int, session: AsyncSession) -> dict[int, list["JudgedRun"]]:
        """`queries.runs_of_jobs(jobs, since=, until=, limit=)` with each run judged
        (`judge_runs`), by job id, each newest first; `until` <= `end`, the end of the period
        asked about. Each job's judged runs of [since, end) are kept with its revision and
        definition, so a later question about the period — `until` moves on with the clock —
        reads and judges again only the jobs written to or redefined since: two queries and
        no run read when none was. A job with `limit` runs in the period is read each time."""
        if not self.keep:
            return await _judged_runs(jobs, since=since, until=until, limit=limit, seen=None,
                                      session=session)
        seen = await job_state.revisions(session=session)
        key = (since, end, limit)
        kept = self._periods.pop(key, {})
        self._periods[key] = kept  # the most recently asked last
        stale = {job_id: job for job_id, job in jobs.items() if (had := kept.get(job_id)) is None
                 or had.revision != seen.get(job_id, 0) or had.defined != job.updated_at}
        if stale:
            read = await _judged_runs(stale, since=since, until=end, limit=limit, seen={
                job_id: seen.get(job_id, 0) for job_id in stale}, session=session)
            for job_id, job in stale.items():
                kept[job_id] = PeriodRuns(seen.get(job_id, 0), job.updated_at, read[job_id])
            self._forget_periods(key)
        crowded = {job_id: job for job_id, job in jobs.items()
                   if until < end and len(kept[job_id].runs) >= limit}
        found = await _judged_runs(crowded, since=since, until=until, limit=limit,
                                   seen={job_id: seen.get(job_id, 0) for job_id in crowded},
                                   session=session) if crowded else {}
        for job_id in jobs:
            if job_id not in found:
                runs = kept[job_id].runs
                found[job_id] = [j for j in runs if until == end or j.run.started_at < until]
        return found

    def _forget_periods(self, asked: tuple[datetime, datetime, int]) -> None:
        """At most `MAX_PERIODS` periods and `MAX_PERIOD_RUNS` runs: the least recently asked
        go first, and a period longer than that on its own is not kept at all."""
        while len(self._periods) > MAX_PERIODS:
            self._periods.popitem(last=False)
        if sum(len(p.runs) for kept in self._periods.values() for p in kept.values()) > MAX_PERIOD_RUNS:
            kept = self._periods.pop(asked)
            self._periods.clear()
            if sum(len(p.runs) for p in kept.values()) <= MAX_PERIOD_RUNS:
                self._periods[asked] = kept


@dataclass(frozen=True)
class PeriodRuns:
    """A job's runs that started in a period, newest first, judged at `revision` under the
    definition of `defined` (`jobs.updated_at`)."""

    revision: int
    defined: datetime
    runs: list["JudgedRun"]


async def _judged_runs(jobs: dict[int, Job], *, since: datetime, until: datetime, limit: int,
                       seen: dict[int, int] | None, session: AsyncSession) -> dict[int, list["JudgedRun"]]:
    """Each job's runs that started in [since, until), at most `limit`, newest first, judged;
    `seen`: the jobs' revisions as read before, or None to use and keep no stored judgement
    (`AnswerState.keep` False)."""
    found = await queries.runs_of_jobs(list(jobs), since=since, until=until, limit=limit,
                                       session=session)
    every = await judge_runs(jobs, [run for job_id in jobs for run in found[job_id]], seen,
                             session=session, stored=seen is not None)
    judged: dict[int, list[JudgedRun]] = {job_id: [] for job_id in jobs}
    for judged_run in every:
        judged[judged_run.run.job_id].append(judged_run)
    return judged


BAD = ("failed", "ended_early", "partial", "cancelled")


@dataclass(frozen=True)
class JudgedRun:
    run: Run
    state: str  # as the watcher judges it: succeeded | failed | ended_early | unusual | running…

    @property
    def good(self) -> bool:
        return self.state == "succeeded"

    @property
    def bad(self) -> bool:
        return self.state in BAD


async def judge_runs(jobs: dict[int, Job], runs: Sequence[Run], seen: dict[int, int] | None,
                     *, session: AsyncSession, stored: bool = True) -> list[JudgedRun]:
    """Each run (of one of `jobs`, by id) with the watcher's judgement, in the order given.
    Stored judgements (unless `stored` is False) are used when they were made under the
    job's current definition; the others are worked out (three queries whatever their
    number) and stored when `seen` holds the jobs' revisions as read before `runs` were."""
    finished = [run for run in runs if run.id is not None and run.finished_at is not None]
    kept = await job_state.stored_judgements([run.id or 0 for run in finished], session=session) \
        if stored else {}
    states: dict[int, str] = {}
    missing = []
    for run in finished:
        judgement = kept.get(run.id or 0)
        job = jobs[run.job_id]
        if judgement is not None and judgement.job_id == run.job_id and \
                judgement.started_at == run.started_at and judgement.definition_at == job.updated_at:
            states[run.id or 0] = judgement.state
        else:
            missing.append(run)
    if missing:
        worked_out = await _judge(jobs, missing, session=session)
        states.update(worked_out)
        if seen is not None and stored:
            await _keep([Judgement(run.id or 0, run.job_id, run.started_at, worked_out[run.id or 0],
                                   jobs[run.job_id].updated_at) for run in missing], seen,
                        session=session)
    # An unfinished run is "running" whatever its telemetry says (`judged_from_kinds`).
    return [JudgedRun(run, states.get(run.id or 0, "running")) for run in runs]


async def _judge(jobs: dict[int, Job], runs: list[Run], *, session: AsyncSession) -> dict[int, str]:
    ids = [run.id or 0 for run in runs]
    events = await queries.events_of_runs(ids, session=session)
    histories = await successful_histories(runs, session=session)
    states = {}
    for run in runs:
        history = histories.get(run.id or 0)
        if history is None:
            states[run.id or 0] = run.status
            continue
        findings = judge_run(jobs[run.job_id], run, events.get(run.id or 0, []), history)
        states[run.id or 0] = judged_state(run, findings)
    return states


async def _keep(judgements: list[Judgement], seen: dict[int, int], *, session: AsyncSession) -> None:
    """In a session of its own, so the answer's runs stay as read; best effort: an answer
    never fails because its judgements could not be kept."""
    if session.bind is None:
        return
    try:
        async with AsyncSession(session.bind) as writing:
            await job_state.keep_judgements(judgements, seen, session=writing)
    except SQLAlchemyError as exc:
        log.warning("could not keep %d run judgements: %s", len(judgements), exc)


async def judge_pending(engine: AsyncEngine, *, batch: int = 2_000) -> int:
    """Judge and store every finished run that has no stored judgement yet (after an upgrade,
    or to have a year of history ready before the first question about it), `batch` runs a
    transaction. Returns how many were judged; stops when a round stores nothing new."""
    judged, left = 0, None
    while True:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            seen = await job_state.revisions(session=session)
            runs = await job_state.unjudged_runs(limit=batch, session=session)
            if not runs or (left is not None and runs[0].id == left):
                return judged
            left = runs[0].id
            jobs = {job.id or 0: job for job in await queries.all_jobs(session=session)}
            states = await _judge(jobs, runs, session=session)
        await _keep([Judgement(run.id or 0, run.job_id, run.started_at, states[run.id or 0],
                               jobs[run.job_id].updated_at) for run in runs], seen, session=session)
        judged += len(runs)
