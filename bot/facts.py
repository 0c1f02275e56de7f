"""What an answer is made of: facts gathered from storage, rendered as text or as a card.

All datetimes here are aware and already in the asker's time zone."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alerts.baselines import Usual


@dataclass(frozen=True)
class MetricFact:
    name: str
    value: float
    unit: str | None = None
    usual: Usual | None = None
    unusual: bool = False  # far outside the usual range


@dataclass(frozen=True)
class MilestoneFact:
    name: str
    status: str  # reached | failed | skipped | missing (usually reached, not this time)
    at: datetime | None = None
    text: str | None = None


@dataclass(frozen=True)
class NoteFact:
    level: str  # info | warning | error
    text: str
    at: datetime


@dataclass(frozen=True)
class ProgressFact:
    done: float
    total: float | None
    unit: str | None
    stage: str | None
    at: datetime
    eta: datetime | None = None  # estimated finish, from the rate so far


@dataclass(frozen=True)
class RunFacts:
    job: str
    title: str
    run: str
    status: str  # running | succeeded | failed | partial | cancelled
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None
    usual_duration_seconds: float | None
    milestones: list[MilestoneFact] = field(default_factory=list)
    metrics: list[MetricFact] = field(default_factory=list)
    notes: list[NoteFact] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    progress: ProgressFact | None = None
    steps: dict[str, float] = field(default_factory=dict)  # a timed step's name: its seconds
    summary: str | None = None  # the finish event's text
    # The watcher's judgement, which decides first sentences and badges: `status` is what the
    # job said; `judged` is what it was (ended_early, unusual, failed…).
    judged: str = ""

    @property
    def state(self) -> str:
        return self.judged or self.status


@dataclass(frozen=True)
class JobLine:
    """One row of "status of everything"."""

    job: str
    title: str
    state: str  # running | succeeded | failed | partial | cancelled | ended_early | unusual | unknown
    last_started_at: datetime | None
    last_finished_at: datetime | None
    problem: str | None = None  # a short plain-language reason when something is wrong


@dataclass(frozen=True)
class Reply:
    """What the bot sends: the text (always) and, in Teams, an Adaptive Card (optional)."""

    text: str
    card: dict[str, Any] | None = None
