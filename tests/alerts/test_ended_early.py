"""How a run that ended early is worded: after the last milestone it reached, and only then
(the watcher judges a first pass's hundred thousand runs, most of them complete)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from alerts.expectations import ended_early

START = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


@dataclass
class _Job:
    title: str = "Nightly export"
    expect: dict[str, Any] = field(default_factory=lambda: {"final_milestone": "published"})


@dataclass
class _Run:
    status: str
    finished_at: datetime | None = START + timedelta(minutes=30)
    id: int | None = 1
    key: str = "r1"
    started_at: datetime = START
    last_event_at: datetime = START + timedelta(minutes=30)
    summary: str | None = None


@dataclass
class _Event:
    name: str
    minutes: int
    kind: str = "milestone"
    status: str | None = "reached"
    value: float | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def at(self) -> datetime:
        return START + timedelta(minutes=self.minutes)


@dataclass
class _History:
    runs: list[Any] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    milestones: dict[str, int] = field(default_factory=dict)
    milestone_order: list[str] = field(default_factory=list)
    longest_gaps: list[float] = field(default_factory=list)


def test_it_names_the_last_milestone_reached_when_the_final_one_is_missing() -> None:
    events = [_Event("loaded", 20), _Event("extracted", 5), _Event("published", 25, status="failed")]
    assert ended_early(_Job(), _Run("succeeded"), events, _History()) == (
        "Nightly export ended after 'loaded' without reaching 'published' "
        "(though it reported success).")


def test_a_partial_run_is_worded_after_its_last_milestone_or_without_one() -> None:
    job = _Job(expect={})
    assert ended_early(job, _Run("partial"), [_Event("extracted", 5)], _History()) == (
        "Nightly export ended early after 'extracted' (finished partial).")
    assert ended_early(job, _Run("partial"), [], _History()) == (
        "Nightly export ended early (finished partial).")


def test_a_run_that_reached_its_final_milestone_did_not_end_early() -> None:
    events = [_Event("extracted", 5), _Event("published", 25)]
    assert ended_early(_Job(), _Run("succeeded"), events, _History()) is None
