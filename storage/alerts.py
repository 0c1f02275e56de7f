"""Alerts, their deliveries, and channel subscriptions.

An alert is unique per (job, kind, key): the key names the scheduled occurrence or the run
it is about, so judging the same facts twice — after a restart, or on two replicas — can
never open it twice. Each delivery is one message to one target, retried until sent; the
`activity_id` of the last one sent to a target is the card that shows the alert's incident
there (`storage.incidents`), updated in place by the next."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, UniqueConstraint, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.alert_states import OPEN, PENDING, RESOLVED, UPDATED
from storage.models import BigId, Job
from storage.types import UTCDateTime


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


# --- queries ---------------------------------------------------------------------------------

def _insert_ignoring_conflicts(session: AsyncSession, table: Any) -> Any:
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()


async def open_alert(*, job_id: int, kind: str, key: str, reason: str,
                     run_id: int | None, occurrence_at: datetime | None,
                     facts: dict[str, Any], now: datetime, session: AsyncSession) -> Alert | None:
    """Open an alert unless one with this (job, kind, key) exists; None when it did."""
    table = Alert.__table__  # type: ignore[attr-defined]
    result = await session.exec(_insert_ignoring_conflicts(session, table).values(
        job_id=job_id, kind=kind, key=key, reason=reason[:2000], run_id=run_id,
        occurrence_at=occurrence_at, state=OPEN, facts=facts, opened_at=now))
    if not result.rowcount:
        return None
    query = select(Alert).where(Alert.job_id == job_id, Alert.kind == kind, Alert.key == key)
    return (await session.exec(query)).one()


async def unresolved_alerts(job_id: int, *, session: AsyncSession) -> Sequence[Alert]:
    query = select(Alert).where(Alert.job_id == job_id, col(Alert.state) != RESOLVED)
    return (await session.exec(query.order_by(col(Alert.id)))).all()


async def unresolved_alerts_by_job(*, session: AsyncSession) -> dict[int, list[Alert]]:
    """Every alert not yet resolved, by job, oldest first: one query for all jobs."""
    query = select(Alert).where(col(Alert.state) != RESOLVED).order_by(col(Alert.id))
    found: dict[int, list[Alert]] = {}
    for alert in (await session.exec(query)).all():
        found.setdefault(alert.job_id, []).append(alert)
    return found


async def list_alerts(*, state: str | None = None,
                      limit: int = 100, session: AsyncSession) -> Sequence[Alert]:
    query = select(Alert)
    if state is not None:
        query = query.where(Alert.state == state)
    return (await session.exec(query.order_by(col(Alert.id).desc()).limit(limit))).all()


@dataclass(frozen=True)
class AlertReport:
    """An alert with its job's slug and every delivery of it, oldest first."""

    alert: Alert
    job: str
    deliveries: list["Delivery"]
    timezone: str | None = None  # the job's, for showing times as its people read them


async def alert_reports(*, state: str | None = None, limit: int = 100,
                        session: AsyncSession) -> list[AlertReport]:
    """Alerts newest first, with their jobs and deliveries: three queries, whatever the count."""
    found = await list_alerts(state=state, limit=limit, session=session)
    job_ids = {alert.job_id for alert in found}
    jobs = {job_id: (slug, zone) for job_id, slug, zone in (await session.exec(
        select(Job.id, Job.slug, Job.timezone).where(col(Job.id).in_(job_ids)))).all()} \
        if job_ids else {}
    by_alert: dict[int, list[Delivery]] = {}
    for delivery in await deliveries_of([alert.id or 0 for alert in found], session=session):
        by_alert.setdefault(delivery.alert_id, []).append(delivery)
    return [AlertReport(alert, jobs.get(alert.job_id, ("?", None))[0], by_alert.get(alert.id or 0, []),
                        jobs.get(alert.job_id, ("?", None))[1])
            for alert in found]


async def get_alert(alert_id: int, *, session: AsyncSession) -> Alert | None:
    return await session.get(Alert, alert_id)


async def deliveries_of(alert_ids: Sequence[int], *, session: AsyncSession) -> Sequence[Delivery]:
    if not alert_ids:
        return []
    query = select(Delivery).where(col(Delivery.alert_id).in_(alert_ids)).order_by(col(Delivery.id))
    return (await session.exec(query)).all()


async def queue_delivery(*, alert_id: int, event: str, channel: str,
                         target: str, now: datetime, session: AsyncSession) -> None:
    """Queue one message to one target; a message already queued is not queued again."""
    table = Delivery.__table__  # type: ignore[attr-defined]
    await session.exec(_insert_ignoring_conflicts(session, table).values(
        alert_id=alert_id, event=event, channel=channel, target=target[:500], state=PENDING,
        attempts=0, next_attempt_at=now, created_at=now))


async def queue_update(*, alert_id: int, channel: str, target: str, activity_id: str, error: str,
                       now: datetime, session: AsyncSession) -> None:
    """Have the deliverer put the card of the alert's incident in place of the post
    `activity_id`, because updating it straight away failed with `error`; a newer update
    replaces a queued one."""
    query = select(Delivery).where(Delivery.alert_id == alert_id, Delivery.event == UPDATED,
                                   Delivery.target == target)
    delivery = (await session.exec(query)).first() or Delivery(
        alert_id=alert_id, event=UPDATED, channel=channel, target=target, next_attempt_at=now,
        created_at=now)
    delivery.state, delivery.activity_id, delivery.attempts = PENDING, activity_id, 1
    delivery.last_error, delivery.next_attempt_at = error[:2000], now
    session.add(delivery)
    await session.commit()


async def due_deliveries(now: datetime, limit: int = 50, *, session: AsyncSession) -> Sequence[Delivery]:
    query = (select(Delivery)
             .where(Delivery.state == PENDING, col(Delivery.next_attempt_at) <= now)
             .order_by(col(Delivery.next_attempt_at), col(Delivery.id)).limit(limit))
    return (await session.exec(query)).all()


async def next_delivery_at(*, session: AsyncSession) -> datetime | None:
    query = select(func.min(Delivery.next_attempt_at)).where(Delivery.state == PENDING)
    return (await session.exec(query)).one()


async def subscribe(conversation_id: str, job: str, now: datetime, *, session: AsyncSession) -> bool:
    table = Subscription.__table__  # type: ignore[attr-defined]
    result = await session.exec(_insert_ignoring_conflicts(session, table).values(
        conversation_id=conversation_id, job=job, created_at=now))
    await session.commit()
    return bool(result.rowcount)


async def unsubscribe(conversation_id: str, job: str, *, session: AsyncSession) -> bool:
    found = (await session.exec(select(Subscription).where(
        Subscription.conversation_id == conversation_id, Subscription.job == job))).all()
    for subscription in found:
        await session.delete(subscription)
    await session.commit()
    return bool(found)


async def subscriptions_of(conversation_id: str, *, session: AsyncSession) -> list[str]:
    query = select(Subscription.job).where(Subscription.conversation_id == conversation_id)
    return sorted((await session.exec(query)).all())


async def subscribers(job: str, *, session: AsyncSession) -> list[str]:
    query = select(Subscription.conversation_id).where(Subscription.job == job)
    return sorted((await session.exec(query)).all())
