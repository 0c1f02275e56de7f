"""History queries for answers and judgements: runs in a window, recent successful runs and
the metric values and milestones they reported."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise

from sqlalchemy import true
from sqlalchemy.orm import defer
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Event, Job, Run
from storage.queries import latest_run_ids

SUCCESS = "succeeded"


@dataclass
class RunHistory:
    """What a job's recent successful runs reported, oldest first."""

    runs: list[Run] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)  # name -> one value per run
    milestones: dict[str, int] = field(default_factory=dict)  # name -> runs that reached it
    milestone_order: list[str] = field(default_factory=list)  # usual order of first reach
    outputs_seen: int = 0  # runs that reported a payload
    longest_gaps: list[float] = field(default_factory=list)  # per run: its longest silence, s

    @property
    def durations(self) -> list[float]:
        return [(r.finished_at - r.started_at).total_seconds() for r in self.runs if r.finished_at]


async def successful_history(
    job: Job, *, before: datetime, limit: int = 20, session: AsyncSession
) -> RunHistory:
    """The job's last `limit` successful runs that started before `before`."""
    runs = list((await session.exec(
        select(Run)
        .where(Run.job_id == job.id, Run.status == SUCCESS, Run.started_at < before)
        .order_by(col(Run.started_at).desc())
        .limit(limit)
    )).all())
    runs.reverse()
    history = RunHistory(runs=runs)
    if not runs:
        return history
    # The JSON `data` is not needed here, and decoding it is what costs the most.
    events = (await session.exec(
        select(Event).options(defer(Event.data))  # type: ignore[arg-type]
        .where(col(Event.run_id).in_([r.id for r in runs]),
               col(Event.kind).in_(["metric", "milestone", "payload"]))
        .order_by(col(Event.run_id), col(Event.at), col(Event.id))
    )).all()
    latest: dict[tuple[int, str], float] = {}
    reached: dict[int, list[str]] = {}
    with_payload: set[int] = set()
    for event in events:
        if event.kind == "metric" and event.name is not None and event.value is not None:
            latest[(event.run_id, event.name)] = event.value
        elif event.kind == "milestone" and event.status == "reached" and event.name:
            names = reached.setdefault(event.run_id, [])
            if event.name not in names:
                names.append(event.name)
        elif event.kind == "payload":
            with_payload.add(event.run_id)
    for (_, name), value in latest.items():
        history.metrics.setdefault(name, []).append(value)
    for names in reached.values():
        for name in names:
            history.milestones[name] = history.milestones.get(name, 0) + 1
            if name not in history.milestone_order:
                history.milestone_order.append(name)
    history.outputs_seen = len(with_payload)
    history.longest_gaps = _longest_gaps(runs, events)
    return history


def _longest_gaps(runs: list[Run], events: Sequence[Event]) -> list[float]:
    """Each run's longest silence between start, its milestones, metrics and payloads, and
    finish: how long the job can go quiet without anything being wrong."""
    moments: dict[int, list[datetime]] = {r.id: [r.started_at] for r in runs if r.id is not None}
    for event in events:
        moments[event.run_id].append(event.at)
    gaps = []
    for run in runs:
        if run.id is None or run.finished_at is None:
            continue
        times = sorted([*moments[run.id], run.finished_at])
        gaps.append(max(((b - a).total_seconds() for a, b in pairwise(times)), default=0.0))
    return gaps


async def last_run_metric_names(*, session: AsyncSession) -> dict[int, set[str]]:
    """The metric names each job reported in its latest run, for questions that name a
    metric but no job ("how many rows were skipped last night?")."""
    query = (
        select(Run.job_id, Event.name)
        .join(Event, col(Event.run_id) == Run.id)
        .where(col(Run.id).in_(latest_run_ids()), Event.kind == "metric")
        .distinct()
    )
    names: dict[int, set[str]] = {}
    for job_id, name in (await session.exec(query)).all():
        if name:
            names.setdefault(job_id, set()).add(name)
    return names


async def recent_starts(*, session: AsyncSession, per_job: int = 10) -> dict[int, list[datetime]]:
    """Each job's last `per_job` start times, oldest first, in one query: an index probe per
    job (a LATERAL join on PostgreSQL, a correlated IN on SQLite), never a scan of all runs."""
    order = (col(Run.started_at).desc(), col(Run.id).desc())
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        latest = (select(Run.started_at).where(Run.job_id == Job.id).order_by(*order)
                  .limit(per_job).correlate(Job).lateral())
        query = select(Job.id, latest.c.started_at).select_from(Job).join(latest, true())
    else:
        ids = select(Run.id).where(Run.job_id == Job.id).order_by(*order).limit(per_job) \
            .correlate(Job)
        query = select(Job.id, Run.started_at).select_from(Job).join(Run, col(Run.id).in_(ids))
    starts: dict[int, list[datetime]] = {}
    for job_id, started_at in (await session.exec(query)).all():
        starts.setdefault(job_id or 0, []).append(started_at)
    return {job_id: sorted(times) for job_id, times in starts.items()}
