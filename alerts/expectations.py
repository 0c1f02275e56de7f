"""Judging a job against what it promised and against its own history. Pure functions: the
same facts and the same "now" always give the same findings, so judging twice (after a
restart, on two replicas) cannot differ — and the stored alert keys make it harmless."""

from collections.abc import Sequence, Sized
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from alerts.baselines import is_unusual
from alerts.wording import duration, number, quoted
from storage.durations import parse_duration

# What judging reads of a job, a run, an event and a history: the table models and
# `storage.history.RunHistory` fit, and so do the watcher's lighter rows (storage/watch.py,
# storage/job_state.PastRuns), which it reads without building a model per row.

class JobLike(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def expect(self) -> dict[str, Any]: ...


class RunLike(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def key(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def finished_at(self) -> datetime | None: ...
    @property
    def last_event_at(self) -> datetime: ...
    @property
    def summary(self) -> str | None: ...


class EventLike(Protocol):
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
    @property
    def data(self) -> dict[str, Any]: ...


class HistoryLike(Protocol):
    @property
    def runs(self) -> Sized: ...
    @property
    def durations(self) -> list[float]: ...
    @property
    def metrics(self) -> dict[str, list[float]]: ...
    @property
    def milestones(self) -> dict[str, int]: ...
    @property
    def milestone_order(self) -> list[str]: ...
    @property
    def longest_gaps(self) -> list[float]: ...


DEFAULT_START_WITHIN = timedelta(minutes=30)
HISTORY_FOR_USUAL = 7  # successful runs before "far from usual" is judged: a week of nights
MIN_STALL = timedelta(minutes=15)
STALL_FACTOR = 10  # silent for ten times its longest usual gap between events


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # did_not_start | milestone_missed | failed | ended_early | metric_out_of_range
    #            | overran | stalled
    key: str  # what it is about: an occurrence or a run, so it is judged once
    reason: str  # plain language, shown as is
    run_id: int | None = None
    occurrence_at: datetime | None = None
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Deadline:
    """A moment at which something must have happened for one scheduled occurrence."""

    at: datetime
    kind: str  # start | milestone
    occurrence: datetime
    milestone: str | None = None


def start_within(job: JobLike) -> timedelta:
    text = job.expect.get("start_within")
    return parse_duration(text) if text else DEFAULT_START_WITHIN


def deadlines(job: JobLike, occurrence: datetime) -> list[Deadline]:
    result = [Deadline(occurrence + start_within(job), "start", occurrence)]
    for item in job.expect.get("milestones", []):
        result.append(Deadline(occurrence + parse_duration(item["by"]), "milestone", occurrence,
                               item["name"]))
    return result


def judge_deadline(job: JobLike, deadline: Deadline, run: RunLike | None,
                   reached: dict[str, datetime], zone_name: str) -> Finding | None:
    """At a deadline: did the occurrence start, and did it reach the milestone in time?
    (Nothing is worded unless something was found: most deadlines are met.)"""
    if deadline.kind == "start":
        if run is not None:
            return None
        when = f"{deadline.occurrence.astimezone(_zone(zone_name)):%a %d %b %H:%M}"
        return Finding("did_not_start", _iso(deadline.occurrence),
                       f"{job.title} was due to start at {when} and has not started "
                       f"({duration(start_within(job).total_seconds())} allowed).",
                       occurrence_at=deadline.occurrence,
                       facts={"due": deadline.occurrence.isoformat()})
    name = deadline.milestone or ""
    if run is None:
        return None  # the missing start is the news; no second alert for the same night
    at = reached.get(name)
    if at is not None and at <= deadline.at:
        return None
    due = deadline.at.astimezone(_zone(zone_name))
    return Finding("milestone_missed", f"{_iso(deadline.occurrence)}:{name}",
                   f"{job.title}: {quoted(name)} was due by {due:%H:%M} and has not been reached"
                   f" (run {run.key}, {_state(run)}).",
                   run_id=run.id, occurrence_at=deadline.occurrence,
                   facts={"milestone": name, "due": deadline.at.isoformat()})


def judge_run(job: JobLike, run: RunLike, events: Sequence[EventLike],
              history: HistoryLike) -> list[Finding]:
    """What the telemetry of one run says, as it arrives."""
    findings: list[Finding] = []
    key = f"run:{run.key}"
    if run.status == "failed":
        text = f": {run.summary}" if run.summary else ""
        findings.append(Finding("failed", key, f"{job.title} failed{text}.", run.id))
    for event in events:
        if event.kind == "milestone" and event.status == "failed" and event.name:
            why = f": {event.data['text']}" if event.data.get("text") else ""
            findings.append(Finding("failed", f"{key}:milestone:{event.name}",
                                    f"{job.title}: milestone {quoted(event.name)} failed{why}.",
                                    run.id))
    early = ended_early(job, run, events, history)
    if early:
        findings.append(Finding("ended_early", key, early, run.id))
    findings.extend(metrics_out_of_range(job, run, events, history))
    return findings


# What a finished run's findings make of it, worst first: the watcher's word, not the job's.
JUDGED_STATES = {"failed": "failed", "ended_early": "ended_early", "metric_out_of_range": "unusual"}


LATENESS = ("did_not_start", "milestone_missed", "overran", "stalled")


def judged_state(run: RunLike, findings: list[Finding]) -> str:
    """The state people are told: a run that says "succeeded" but ended early, or reported a
    value out of range, is not a success. Unfinished runs are "running"."""
    return judged_from_kinds(run, {finding.kind for finding in findings})


def judged_from_kinds(run: RunLike, kinds: set[str]) -> str:
    """`judged_state` from the kinds of what was found (findings, or the alerts they opened)."""
    if run.finished_at is None:
        return "running"
    for kind, state in JUDGED_STATES.items():
        if kind in kinds:
            return state
    return run.status


def ended_early(job: JobLike, run: RunLike, events: Sequence[EventLike],
                history: HistoryLike) -> str | None:
    if run.finished_at is None or run.status == "failed":
        return None  # still running, or already reported as a failure
    final = final_milestone(job, history)
    if final and not any(e.name == final and e.kind == "milestone" and e.status == "reached"
                         for e in events):
        return (f"{job.title} ended{_after_last(events)} without reaching {quoted(final)} "
                f"({_said(run, 'finished')}).")
    if run.status == "partial":
        return f"{job.title} ended early{_after_last(events)} (finished partial)."
    took = (run.finished_at - run.started_at).total_seconds()
    durations = history.durations
    if run.status == "succeeded" and len(durations) >= HISTORY_FOR_USUAL:
        centre = median(durations)
        spread = 1.4826 * median([abs(d - centre) for d in durations])
        if took < centre - max(3 * spread, 0.5 * centre):
            return (f"{job.title} finished far faster than usual: {duration(took)}, usually "
                    f"{duration(centre)}.")
    return None


def final_milestone(job: JobLike, history: HistoryLike) -> str | None:
    """The milestone a complete run always reaches: configured, or learned as the last one
    most recent successful runs reached."""
    configured = job.expect.get("final_milestone")
    if configured:
        return str(configured)
    if len(history.runs) < 3 or not history.milestone_order:
        return None
    last = history.milestone_order[-1]
    return last if history.milestones.get(last, 0) * 2 > len(history.runs) else None


def metrics_out_of_range(job: JobLike, run: RunLike, events: Sequence[EventLike],
                         history: HistoryLike) -> list[Finding]:
    latest: dict[str, float] = {}
    for event in events:
        if event.kind == "metric" and event.name and event.value is not None:
            latest[event.name] = event.value
    findings = []
    for name, bounds in job.expect.get("metrics", {}).items():
        if name not in latest:
            continue
        value, label = latest[name], name.replace("_", " ")
        past = history.metrics.get(name, [])
        if bounds.get("min") is not None and value < bounds["min"]:
            why = f"{number(value)} {label}, below the minimum {number(bounds['min'])}"
        elif bounds.get("max") is not None and value > bounds["max"]:
            why = f"{number(value)} {label}, above the maximum {number(bounds['max'])}"
        elif bounds.get("usual") and len(past) >= HISTORY_FOR_USUAL and is_unusual(value, past):
            why = f"{number(value)} {label}, usually {number(min(past))}–{number(max(past))}"
        else:
            continue
        findings.append(Finding("metric_out_of_range", f"run:{run.key}:metric:{name}",
                                f"{job.title}: {why}.", run.id,
                                facts={"metric": name, "value": value}))
    return findings


def judge_running(job: JobLike, run: RunLike, silence: timedelta | None,
                  now: datetime) -> list[Finding]:
    """A run still going: past its maximum runtime, or silent far longer than usual (its
    `silence`: `stall_limit` of its history)."""
    findings = []
    limit = job.expect.get("max_runtime")
    if limit and now - run.started_at >= parse_duration(limit):
        findings.append(Finding("overran", f"run:{run.key}",
                                f"{job.title} has been running for "
                                f"{duration((now - run.started_at).total_seconds())}, longer than its "
                                f"maximum of {limit}.", run.id))
    if silence is not None and now - run.last_event_at >= silence:
        findings.append(Finding("stalled", f"run:{run.key}",
                                f"{job.title} has been silent for "
                                f"{duration((now - run.last_event_at).total_seconds())}; it usually "
                                f"reports at least every {duration(silence.total_seconds() / STALL_FACTOR)}.",
                                run.id))
    return findings


def running_deadlines(job: JobLike, run: RunLike, silence: timedelta | None) -> list[datetime]:
    """When `judge_running` could next find something, so the watcher wakes exactly then."""
    result = []
    limit = job.expect.get("max_runtime")
    if limit:
        result.append(run.started_at + parse_duration(limit))
    if silence is not None:
        result.append(run.last_event_at + silence)
    return result


def stall_limit(history: HistoryLike) -> timedelta | None:
    gaps = history.longest_gaps
    if len(gaps) < HISTORY_FOR_USUAL:
        return None
    return max(MIN_STALL, timedelta(seconds=STALL_FACTOR * median(gaps)))


def succeeded_fully(job: JobLike, run: RunLike, events: Sequence[EventLike],
                    history: HistoryLike) -> bool:
    """A run that resolves what was wrong: succeeded, complete, nothing out of range."""
    return run.status == "succeeded" and not judge_run(job, run, events, history)


def _after_last(events: Sequence[EventLike]) -> str:
    """The words naming the last milestone reached (" after 'loaded'"), or none: worked out
    only for a run that ended early, not for every run judged."""
    last = _last_reached(events)
    return f" after {quoted(last)}" if last else ""


def _last_reached(events: Sequence[EventLike]) -> str | None:
    reached = [e for e in events if e.kind == "milestone" and e.status == "reached"]
    return max(reached, key=lambda e: e.at).name if reached else None


def _state(run: RunLike) -> str:
    return "still running" if run.finished_at is None else _said(run, "ended")


def _said(run: RunLike, verb: str) -> str:
    """What the run said of itself when it ended, never repeated as a verdict: a run that
    reported success is the case people must not misread."""
    return "though it reported success" if run.status == "succeeded" else f"{verb} {run.status}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(_zone("UTC")).strftime("%Y-%m-%dT%H:%MZ")


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
