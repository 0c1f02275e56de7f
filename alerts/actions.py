"""What people do with an alert card: acknowledge it (recorded with who and when) or snooze
it, which quiets the job's repeats of the same kind until the snooze ends."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.alert_states import ACKNOWLEDGED, OPEN
from storage.alerts import Alert
from storage.audit import record_change
from storage.durations import parse_duration
from storage.models import Job

MORNING = time(9, 0)  # "until tomorrow" ends at the start of the next working day


@dataclass(frozen=True)
class Actor:
    """Who acts on an alert card and where, as the card shows it and the audit log keeps it."""

    name: str  # shown on the card: "acknowledged by Ana Lopez"
    identity: str  # for the audit log: "Teams user Ana Lopez (aad 0f3c…)"
    origin: str  # the conversation: "team Sales / channel Alerts"


async def acknowledge(engine: AsyncEngine, alert_id: int, actor: Actor,
                      now: datetime) -> Alert | None:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        alert = await session.get(Alert, alert_id)
        if alert is None:
            return None
        if _acknowledged(alert, actor.name, now):
            _audit("alert.acknowledged", alert, actor, now, {}, session)
        session.add(alert)
        await session.commit()
        return alert


async def snooze(engine: AsyncEngine, alert_id: int, span: str, actor: Actor, now: datetime,
                 default_timezone: str = "UTC") -> Alert | None:
    """`span` is a duration ("1h") or "tomorrow": until 09:00 tomorrow in the job's zone, so a
    nightly job's next night stays quiet and the morning brings it back."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        alert = await session.get(Alert, alert_id)
        if alert is None:
            return None
        job = await session.get(Job, alert.job_id)
        zone = ZoneInfo((job.timezone if job else None) or default_timezone)
        alert.snoozed_until = snooze_end(span, now, zone)
        _acknowledged(alert, actor.name, now)
        _audit("alert.snoozed", alert, actor, now,
               {"for": span, "until": alert.snoozed_until.isoformat()}, session)
        session.add(alert)
        await session.commit()
        return alert


def _audit(action: str, alert: Alert, actor: Actor, now: datetime, details: dict[str, str],
           session: AsyncSession) -> None:
    record_change(action, actor=actor.identity, target=f"alert {alert.id} ({alert.kind})",
                  origin=actor.origin, at=now, details={"job_id": alert.job_id, **details},
                  session=session)


def _acknowledged(alert: Alert, who: str, now: datetime) -> bool:
    """The first acknowledgement counts; later ones change nothing (False)."""
    if alert.state != OPEN:
        return False
    alert.state = ACKNOWLEDGED
    alert.acknowledged_by = who[:200]
    alert.acknowledged_at = now
    return True


def snooze_end(span: str, now: datetime, zone: ZoneInfo) -> datetime:
    if span == "tomorrow":
        tomorrow = now.astimezone(zone).date() + timedelta(days=1)
        return datetime.combine(tomorrow, MORNING, tzinfo=zone)
    return now + parse_duration(span)
