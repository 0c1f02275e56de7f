"""The tables. Contract schemas live in `ingest.schemas`; these are storage shapes only."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    UniqueConstraint,
    false,
    text,
)
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

# SQLite only auto-numbers an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# The partial indexes of the runs the watcher still has to look at: not judged since their last
# write, and still going. SQLite matches a partial index's condition term by term, so queries
# that want one repeat its condition exactly as written here.
PENDING_RUNS, UNFINISHED_RUNS = "pending", "finished_at IS NULL"
# A job's running runs not looked at yet (`Job.runs_check_at`): the watcher looks at once.
NEVER_LOOKED = datetime(1970, 1, 1, tzinfo=UTC)


class Job(SQLModel, table=True):
    __tablename__ = "jobs"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=128, unique=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=4000)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    owner: str = Field(default="", max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    schedule: str | None = Field(default=None, max_length=100)  # cron, in `timezone`
    expect: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    alert: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Who may see the job: teams, channels or chats (name or id) and people (Entra object id
    # or UPN). Empty: everyone. Matching is `alerts.audience`.
    audience: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The watcher's bookmark: deadlines up to `checked_until` are judged; the next one falls
    # due at `next_check_at` (indexed, so one query finds every job due now).
    checked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    next_check_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, index=True))
    # The watcher's note of the definition it judges by: a digest of the schedule, zone and
    # expectations, and since when they have been so (None: never defined, judged as reported).
    # Runs that finished, and deadlines that passed, before `defined_at` are never judged.
    defined_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    definition_digest: str | None = Field(default=None, max_length=32)
    # When the job's runs still going next need looking at (the first moment one of them could
    # overrun or fall silent, as last worked out; None: none could). Until then a deadline
    # pass reads none of them, unless one was written to since.
    runs_check_at: datetime | None = Field(default=NEVER_LOOKED, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Run(SQLModel, table=True):
    """One execution of a job. Summary columns are kept current by the event writer so that
    listings never have to scan events."""

    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("job_id", "key", name="uq_runs_job_key"),
        Index("ix_runs_job_started", "job_id", "started_at"),
        Index("ix_runs_pending", "job_id", "started_at", sqlite_where=text(PENDING_RUNS),
              postgresql_where=text(PENDING_RUNS)),
        Index("ix_runs_unfinished", "job_id", "started_at", sqlite_where=text(UNFINISHED_RUNS),
              postgresql_where=text(UNFINISHED_RUNS)),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    job_id: int = Field(foreign_key="jobs.id")
    key: str = Field(max_length=128)
    status: str = Field(default="running", max_length=16)
    # Until a start event arrives this is the earliest event seen; `has_start` tells which.
    started_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    has_start: bool = False
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_event_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    summary: str | None = Field(default=None, max_length=4000)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # Not judged since its last write: the event writer sets it in the write's transaction and
    # the watcher clears it once it has judged the run as written (storage/watch.py). Rows
    # written any other way are taken as judged.
    pending: bool = Field(default=True, sa_column=Column(Boolean, nullable=False,
                                                          server_default=false()))


class Event(SQLModel, table=True):
    """One telemetry event. `name`, `value` and `status` are lifted out of `data` so that
    history queries (a metric across runs, a milestone's times) can use plain columns."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("run_id", "key", name="uq_events_run_key"),
        Index("ix_events_run_at", "run_id", "at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    run_id: int = Field(sa_column=Column(BigInteger, ForeignKey("runs.id"), nullable=False))
    kind: str = Field(max_length=16)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    received_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    key: str | None = Field(default=None, max_length=128)
    name: str | None = Field(default=None, max_length=128)
    value: float | None = None
    status: str | None = Field(default=None, max_length=16)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Token(SQLModel, table=True):
    """An API token; only its SHA-256 is stored."""

    __tablename__ = "tokens"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128)
    scope: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
