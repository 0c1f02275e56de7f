"""What incidents are read from: a job's alerts about some runs and scheduled occurrences,
the first run of a job in a span of time, and, per target, the messages waiting for a set of
alerts and the last one that got through (whose `activity_id` is the card to update).

Nothing here is stored for incidents: an incident is worked out from its alerts' run and
occurrence (`alerts.incidents`), and its card in each conversation is the `activity_id` of
its last delivery sent there."""

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.alert_states import PENDING, SENT
from storage.alerts import Alert, Delivery
from storage.models import Run


async def alerts_about(job_id: int, run_ids: Collection[int], occurrences: Collection[datetime], *,
                       session: AsyncSession) -> Sequence[Alert]:
    """The job's alerts about any of these runs or scheduled occurrences, oldest first."""
    about = []
    if run_ids:
        about.append(col(Alert.run_id).in_(sorted(run_ids)))
    if occurrences:
        about.append(col(Alert.occurrence_at).in_(sorted(occurrences)))
    if not about:
        return []
    query = select(Alert).where(Alert.job_id == job_id, or_(*about)).order_by(col(Alert.id))
    return (await session.exec(query)).all()


async def latest_alert_before(job_id: int, kind: str, moment: datetime, *,
                              session: AsyncSession) -> Alert | None:
    """The job's `kind` alert about the latest scheduled occurrence at or before `moment`."""
    query = (select(Alert).where(Alert.job_id == job_id, Alert.kind == kind,
                                 col(Alert.occurrence_at) <= moment)
             .order_by(col(Alert.occurrence_at).desc()).limit(1))
    return (await session.exec(query)).first()


async def first_run_between(job_id: int, start: datetime, end: datetime, *,
                            session: AsyncSession) -> Run | None:
    """The job's first run that started in [start, end)."""
    query = (select(Run).where(Run.job_id == job_id, col(Run.started_at) >= start,
                               col(Run.started_at) < end)
             .order_by(col(Run.started_at), col(Run.id)).limit(1))
    return (await session.exec(query)).first()


async def runs_by_id(run_ids: Collection[int], *, session: AsyncSession) -> dict[int, Run]:
    if not run_ids:
        return {}
    found = (await session.exec(select(Run).where(col(Run.id).in_(sorted(run_ids))))).all()
    return {run.id or 0: run for run in found}


async def pending_to(alert_ids: Collection[int], target: str, *,
                     session: AsyncSession) -> Sequence[Delivery]:
    """Every message for these alerts still waiting to reach `target`, due or backing off,
    oldest first."""
    query = (select(Delivery).where(col(Delivery.alert_id).in_(sorted(alert_ids)),
                                    Delivery.target == target, Delivery.state == PENDING)
             .order_by(col(Delivery.id)))
    return (await session.exec(query)).all()


async def last_sent_to(alert_ids: Collection[int], target: str, *,
                       session: AsyncSession) -> Delivery | None:
    """The last message about these alerts that reached `target`: its `activity_id` is the
    card they are shown on there (None where the channel cannot update a post)."""
    query = (select(Delivery).where(col(Delivery.alert_id).in_(sorted(alert_ids)),
                                    Delivery.target == target, Delivery.state == SENT)
             .order_by(col(Delivery.sent_at).desc(), col(Delivery.id).desc()).limit(1))
    return (await session.exec(query)).first()
