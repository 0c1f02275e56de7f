"""Facts about a run, with the usual values beside them, read through storage."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.baselines import is_unusual, usual
from alerts.expectations import judge_run, judged_state
from bot.facts import MetricFact, MilestoneFact, NoteFact, ProgressFact, RunFacts
from storage import queries
from storage.history import RunHistory, successful_history
from storage.models import Event, Job, Run

INPUT_WORDS = ("input", "source", "file", "read", "feed", "import")
OUTPUT_WORDS = ("output", "report", "result", "export", "produced", "written", "publish")
PATH_KEYS = ("path", "file", "filename", "url", "uri", "name", "location", "key", "table")


async def run_facts(job: Job, run: Run, zone: ZoneInfo, *, session: AsyncSession) -> RunFacts:
    events = list(await queries.run_events(run, session=session))
    history = await successful_history(job, before=run.started_at, session=session)
    return build_facts(job, run, events, history, zone)


def build_facts(job: Job, run: Run, events: list[Event], history: RunHistory,
                zone: ZoneInfo) -> RunFacts:
    def local(moment: datetime) -> datetime:
        return moment.astimezone(zone)

    durations = history.durations
    usual_duration = usual(durations)
    finished = run.finished_at is not None
    metrics = _metrics(events, history)
    judged = judged_state(run, judge_run(job, run, events, history))
    if judged == "succeeded" and any(m.unusual for m in metrics):
        judged = "unusual"  # far from its own history, even where no bounds were set
    duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
    return RunFacts(
        job=job.slug,
        title=job.title,
        run=run.key,
        status=run.status,
        started_at=local(run.started_at),
        finished_at=local(run.finished_at) if run.finished_at else None,
        duration_seconds=duration,
        usual_duration_seconds=usual_duration.median if usual_duration else None,
        milestones=_milestones(events, history, finished, zone),
        metrics=metrics,
        notes=[NoteFact(e.data.get("level", "info"), str(e.data.get("text", "")), local(e.at))
               for e in events if e.kind == "note"],
        inputs=_described(events, INPUT_WORDS),
        outputs=_described(events, OUTPUT_WORDS),
        progress=_progress(events, run, zone),
        steps={e.name: float(e.value) for e in events
               if e.kind == "duration" and e.name and e.value is not None},
        summary=run.summary,
        judged=judged,
    )


def _milestones(events: list[Event], history: RunHistory, finished: bool,
                zone: ZoneInfo) -> list[MilestoneFact]:
    facts: list[MilestoneFact] = []
    seen: set[str] = set()
    for event in events:
        if event.kind == "milestone" and event.name:
            facts.append(MilestoneFact(event.name, event.status or "reached",
                                       event.at.astimezone(zone), event.data.get("text")))
            seen.add(event.name)
    if finished and len(history.runs) >= 3:
        # What most successful runs reach and this one did not: the shape of an early exit.
        for name in history.milestone_order:
            if name not in seen and history.milestones[name] * 2 >= len(history.runs):
                facts.append(MilestoneFact(name, "missing"))
    return facts


def _metrics(events: list[Event], history: RunHistory) -> list[MetricFact]:
    latest: dict[str, Event] = {}
    for event in events:
        if event.kind == "metric" and event.name and event.value is not None:
            latest[event.name] = event
    facts = []
    for name, event in latest.items():
        past = history.metrics.get(name, [])
        value = float(event.value or 0)
        facts.append(MetricFact(name, value, event.data.get("unit"), usual(past),
                                is_unusual(value, past)))
    return facts


def _described(events: list[Event], words: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    for event in events:
        if event.kind == "payload" and event.name and any(w in event.name.lower() for w in words):
            found.extend(describe(event.data.get("data")))
    return list(dict.fromkeys(found))


def describe(data: Any) -> list[str]:
    """Readable names in a payload: a path, a URL, datasets from OpenLineage."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, list):
        return [text for item in data[:10] for text in describe(item)]
    if isinstance(data, dict):
        if isinstance(data.get("datasets"), list):
            return [f"{d.get('namespace', '')}/{d.get('name', '')}".strip("/")
                    for d in data["datasets"][:10] if isinstance(d, dict)]
        for key in PATH_KEYS:
            if isinstance(data.get(key), str):
                return [data[key]]
    return []


def _progress(events: list[Event], run: Run, zone: ZoneInfo) -> ProgressFact | None:
    latest = None
    for event in events:
        if event.kind == "progress":
            latest = event
    if latest is None:
        return None
    done = float(latest.data.get("done", 0))
    total = latest.data.get("total")
    eta = _eta(run.started_at, latest.at, done, total) if run.finished_at is None else None
    return ProgressFact(done, float(total) if total is not None else None, latest.data.get("unit"),
                        latest.data.get("stage"), latest.at.astimezone(zone),
                        eta.astimezone(zone) if eta else None)


def _eta(started: datetime, at: datetime, done: float, total: Any) -> datetime | None:
    """Straight-line estimate from the rate so far."""
    elapsed = (at - started).total_seconds()
    if total is None or done <= 0 or elapsed <= 0 or total < done:
        return None
    return at + timedelta(seconds=elapsed * (float(total) - done) / done)
