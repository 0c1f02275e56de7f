"""History queries for answers and judgements: runs in a window, recent successful runs and
the metric values and milestones they reported."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Protocol, cast

from sqlalchemy import select as select_columns
from sqlalchemy import true
from sqlalchemy.orm import aliased, defer
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from storage.models import Event, Job, Run
from storage.queries import latest_run_ids

SUCCESS = "succeeded"
HISTORY_KINDS = ("metric", "milestone", "payload")


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
    if not runs:
        return RunHistory(runs=runs)
    # The JSON `data` is not needed here, and decoding it is what costs the most.
    events = (await session.exec(
        select(Event).options(defer(Event.data))  # type: ignore[arg-type]
        .where(col(Event.run_id).in_([r.id for r in runs]),
               col(Event.kind).in_(HISTORY_KINDS))
        .order_by(col(Event.run_id), col(Event.at), col(Event.id))
    )).all()
    return history_of(runs, events)


class HistoryEvent(Protocol):
    """What a history needs of an event: a table model or a row of these columns."""

    @property
    def run_id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def name(self) -> str | None: ...
    @property
    def value(self) -> float | None: ...
    @property
    def status(self) -> str | None: ...


def history_of(runs: list[Run], events: Sequence[HistoryEvent]) -> RunHistory:
    """The history of `runs` (oldest first) from their events, ordered by run id, time, id."""
    history = RunHistory(runs=runs)
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


def _longest_gaps(runs: list[Run], events: Sequence[HistoryEvent]) -> list[float]:
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


async def recent_starts(*, session: AsyncSession, per_job: int = 10,
                        job_ids: Sequence[int] | None = None) -> dict[int, list[datetime]]:
    """Each job's last `per_job` start times, oldest first, in one query: an index probe per
    job (a LATERAL join on PostgreSQL, a correlated IN on SQLite), never a scan of all runs.
    Only the jobs `job_ids` names, when given."""
    order = (col(Run.started_at).desc(), col(Run.id).desc())
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        latest = (select(Run.started_at).where(Run.job_id == Job.id).order_by(*order)
                  .limit(per_job).correlate(Job).lateral())
        query = select(Job.id, latest.c.started_at).select_from(Job).join(latest, true())
    else:
        ids = select(Run.id).where(Run.job_id == Job.id).order_by(*order).limit(per_job) \
            .correlate(Job)
        query = select(Job.id, Run.started_at).select_from(Job).join(Run, col(Run.id).in_(ids))
    if job_ids is not None:
        query = query.where(col(Job.id).in_(list(job_ids)))
    starts: dict[int, list[datetime]] = {}
    for job_id, started_at in (await session.exec(query)).all():
        starts.setdefault(job_id or 0, []).append(started_at)
    return {job_id: sorted(times) for job_id, times in starts.items()}


IDS_PER_QUERY = 5_000  # bound parameters per statement stay far below both drivers' limits


async def successful_histories(runs: Sequence[Run], *, limit: int = 20,
                               session: AsyncSession) -> dict[int, RunHistory]:
    """`successful_history(job, before=run.started_at)` for each of many runs, by run id, in
    three queries per `IDS_PER_QUERY` runs whatever their jobs: which past runs each one's
    history holds (an index probe per run), those runs, and their events."""
    wanted = sorted({run.id for run in runs if run.id is not None})
    past_of: dict[int, list[int]] = {}
    for chunk in _chunks(wanted):
        for run_id, past_id in (await session.exec(_past_successes(chunk, limit, session))).all():
            past_of.setdefault(run_id, []).append(past_id)
    past_ids = sorted({past_id for ids in past_of.values() for past_id in ids})
    found: dict[int, Run] = {}
    events: dict[int, list[HistoryEvent]] = {}
    for chunk in _chunks(past_ids):
        for run in (await session.exec(select(Run).where(col(Run.id).in_(chunk)))).all():
            found[run.id or 0] = run
        # Six plain columns: more than sqlmodel's `select` types, and no model to build per row.
        rows = await session.exec(select_columns(  # type: ignore[call-overload]
            col(Event.run_id), col(Event.kind), col(Event.at), col(Event.name), col(Event.value),
            col(Event.status))
            .where(col(Event.run_id).in_(chunk), col(Event.kind).in_(HISTORY_KINDS))
            .order_by(col(Event.run_id), col(Event.at), col(Event.id)))
        for row in rows.all():
            event = cast(HistoryEvent, row)  # a Row of the columns above
            events.setdefault(event.run_id, []).append(event)
    histories = {}
    for run_id in wanted:
        ids = sorted(past_of.get(run_id, []))
        past = sorted((found[i] for i in ids), key=lambda r: r.started_at)
        histories[run_id] = history_of(past, [e for i in ids for e in events.get(i, [])])
    return histories


def _past_successes(run_ids: list[int], limit: int, session: AsyncSession) -> Select[int, int]:
    """(run id, id of one of the `limit` latest successful runs of its job that started
    before it): a LATERAL join on PostgreSQL, a correlated IN on SQLite."""
    judged, past = aliased(Run), aliased(Run)
    latest = (select(past.id).where(past.job_id == judged.job_id, past.status == SUCCESS,
                                    col(past.started_at) < judged.started_at)
              .order_by(col(past.started_at).desc()).limit(limit).correlate(judged))
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        lateral = latest.lateral()
        query = select(judged.id, lateral.c.id).select_from(judged).join(lateral, true())
    else:
        found = aliased(Run)
        query = select(judged.id, found.id).select_from(judged).join(found, col(found.id).in_(latest))
    return query.where(col(judged.id).in_(run_ids))  # type: ignore[return-value]


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[start:start + IDS_PER_QUERY] for start in range(0, len(ids), IDS_PER_QUERY)]


async def last_run_field_names(*, session: AsyncSession) -> dict[int, set[str]]:
    """The names each job's latest run, and its latest that succeeded, reported under: event
    names (metrics, milestones, payloads), payload keys and start attribute keys — the words
    questions use for them (a run still going, or one that stopped early, has not reported
    its last milestones)."""
    names: dict[int, set[str]] = {}
    latest = col(Run.id).in_(latest_run_ids())
    finished = col(Run.id).in_(latest_run_ids(succeeded=True))
    runs = (await session.exec(select(Run).where(latest | finished))).all()
    job_of = {run.id: run.job_id for run in runs}
    for run in runs:
        names.setdefault(run.job_id, set()).update(str(key) for key in run.attributes)
    events = (await session.exec(select(Event).where(col(Event.run_id).in_(list(job_of))))).all()
    for event in events:
        found = names.setdefault(job_of[event.run_id], set())
        if event.name:
            found.add(event.name)
        if event.kind == "payload":
            found.update(_keys(event.data.get("data")))
    return names


def _keys(data: object, depth: int = 0) -> set[str]:
    if depth > 3:
        return set()
    if isinstance(data, dict):
        return {str(k) for k in data} | {k for v in data.values() for k in _keys(v, depth + 1)}
    if isinstance(data, list):
        return {k for item in data[:20] for k in _keys(item, depth + 1)}
    return set()


async def logged_texts(run_ids: Sequence[int], *, session: AsyncSession) -> dict[int, list[Event]]:
    """The notes and milestones each of the runs logged, by run id, ordered by `at`: the
    texts a question may name a run by ("the night with the HTS rejects")."""
    found: dict[int, list[Event]] = {run_id: [] for run_id in run_ids}
    for chunk in _chunks(list(run_ids)):
        query = select(Event).where(col(Event.run_id).in_(chunk),
                                    col(Event.kind).in_(("note", "milestone")))
        for event in (await session.exec(query.order_by(col(Event.at), col(Event.id)))).all():
            found.setdefault(event.run_id, []).append(event)
    return found
