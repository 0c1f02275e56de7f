"""Alerts, their deliveries, and channel subscriptions.

An alert is unique per (job, kind, key): the key names the scheduled occurrence or the run
it is about, so judging the same facts twice — after a restart, or on two replicas — can
never open it twice. Each delivery is one message to one target, retried until sent."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models import BigId
from storage.types import UTCDateTime

OPEN, ACKNOWLEDGED, RESOLVED = "open", "acknowledged", "resolved"
PENDING, SENT, FAILED = "pending", "sent", "failed"


class Alert(SQLModel, table=True):
    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("job_id", "kind", "key", name="uq_alerts_job_kind_key"),
        Index("ix_alerts_state_job", "state", "job_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    job_id: int = Field(foreign_key="jobs.id")
    kind: str = Field(max_length=32)  # did_not_start | milestone_missed | failed | ended_early | ...
    key: str = Field(max_length=200)
    run_id: int | None = Field(default=None, sa_column=Column(BigInteger, ForeignKey("runs.id")))
    occurrence_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    state: str = Field(default=OPEN, max_length=16)
    reason: str = Field(max_length=2000)
    facts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    opened_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    resolution: str | None = Field(default=None, max_length=2000)
    acknowledged_by: str | None = Field(default=None, max_length=200)
    acknowledged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    snoozed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class Delivery(SQLModel, table=True):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "event", "target", name="uq_deliveries_alert_event_target"),
        Index("ix_deliveries_state_due", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    alert_id: int = Field(sa_column=Column(BigInteger, ForeignKey("alerts.id"), nullable=False))
    event: str = Field(max_length=16)  # opened | resolved | updated
    channel: str = Field(max_length=16)  # teams | webhook
    target: str = Field(max_length=500)  # a conversation id or a webhook URL
    state: str = Field(default=PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    last_error: str | None = Field(default=None, max_length=2000)
    activity_id: str | None = Field(default=None, max_length=200)  # to update the card in place
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Subscription(SQLModel, table=True):
    """A conversation that asked for a job's alerts (`subscribe nightly-product-import`)."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("conversation_id", "job", name="uq_subscriptions"),)

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(max_length=500)
    job: str = Field(max_length=128)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
