"""What people do with an alert card: acknowledge it (recorded with who and when) or snooze
it, which quiets the job's repeats of the same kind until the snooze ends. A card shows an
incident (`alerts.incidents`), so a click acts on every alert of it not yet resolved, each
recorded in the audit log."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.incidents import incident_of
from storage.alert_states import ACKNOWLEDGED, OPEN, RESOLVED
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
        for each in await _incident_alerts(alert, session):
            if _acknowledged(each, actor.name, now):
                _audit("alert.acknowledged", each, actor, now, {}, session)
                session.add(each)
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
        until = snooze_end(span, now, zone)
        for each in await _incident_alerts(alert, session):
            each.snoozed_until = until
            _acknowledged(each, actor.name, now)
            _audit("alert.snoozed", each, actor, now, {"for": span, "until": until.isoformat()},
                   session)
            session.add(each)
        await session.commit()
        return alert


async def _incident_alerts(alert: Alert, session: AsyncSession) -> list[Alert]:
    """The alerts a click on `alert`'s card acts on: its incident's, not yet resolved (the
    clicked one always)."""
    incident = await incident_of(alert, session=session)
    return [each for each in incident.alerts if each.id == alert.id or each.state != RESOLVED]


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
