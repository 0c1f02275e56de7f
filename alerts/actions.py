"""What people do with an alert card: acknowledge it (recorded with who and when) or snooze
it, which quiets the job's repeats of the same kind until the snooze ends."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.alert_states import ACKNOWLEDGED, OPEN
from storage.alerts import Alert
from storage.durations import parse_duration
from storage.models import Job

MORNING = time(9, 0)  # "until tomorrow" ends at the start of the next working day


async def acknowledge(engine: AsyncEngine, alert_id: int, who: str, now: datetime) -> Alert | None:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        alert = await session.get(Alert, alert_id)
        if alert is None:
            return None
        _acknowledged(alert, who, now)
        session.add(alert)
        await session.commit()
        return alert


async def snooze(engine: AsyncEngine, alert_id: int, span: str, who: str, now: datetime,
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
        _acknowledged(alert, who, now)
        session.add(alert)
        await session.commit()
        return alert


def _acknowledged(alert: Alert, who: str, now: datetime) -> None:
    """The first acknowledgement counts; later ones change nothing."""
    if alert.state == OPEN:
        alert.state = ACKNOWLEDGED
        alert.acknowledged_by = who[:200]
        alert.acknowledged_at = now


def snooze_end(span: str, now: datetime, zone: ZoneInfo) -> datetime:
    if span == "tomorrow":
        tomorrow = now.astimezone(zone).date() + timedelta(days=1)
        return datetime.combine(tomorrow, MORNING, tzinfo=zone)
    return now + parse_duration(span)
