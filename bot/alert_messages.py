"""What a channel sees for an alert: the alert card (or the recovery card) with the run's
facts as they are now, and who acknowledged it. The bot composes; `alerts` delivers."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.delivery import Message
from bot import cards
from bot.run_facts import run_facts
from storage.alerts import Alert
from storage.models import Job, Run


class AlertComposer:
    """`alerts.delivery.Composer` for Teams and webhooks, in each job's own time zone."""

    def __init__(self, default_timezone: str = "UTC") -> None:
        self._default_zone = default_timezone

    async def __call__(self, session: AsyncSession, alert: Alert, event: str) -> Message:
        return await alert_message(session, alert, event, self._default_zone)


async def alert_message(session: AsyncSession, alert: Alert, event: str,
                        default_timezone: str) -> Message:
    """What a channel sees: the alert card (or the recovery card), with the run's facts as
    they are now, and who acknowledged it, if anyone did."""
    job = await session.get(Job, alert.job_id)
    title = job.title if job else "A job"
    zone = ZoneInfo((job.timezone if job else None) or default_timezone)
    if event == "resolved":
        resolution = alert.resolution or "resolved"
        text = f"Recovered — {title}: {resolution}"
        return Message(text, cards.recovery_card(alert.kind, alert.reason, resolution, title))
    facts = None
    run = await session.get(Run, alert.run_id) if alert.run_id else None
    if run is not None and job is not None:
        facts = await run_facts(job, run, zone, session=session)
    # Since when it is wrong: a missed milestone since its deadline, a missing start
    # since the scheduled time, anything else since it was noticed.
    due = alert.facts.get("milestone") and alert.facts.get("due")
    since = (datetime.fromisoformat(due) if due else
             alert.occurrence_at or alert.opened_at).astimezone(zone)
    card = cards.alert_card(alert.id or 0, alert.kind, alert.reason, since, title, facts,
                            acknowledged=acknowledgement(alert, zone))
    return Message(f"⚠ {alert.reason}", card)


def acknowledgement(alert: Alert, zone: ZoneInfo) -> str | None:
    if not (alert.acknowledged_by and alert.acknowledged_at):
        return None
    text = f"Acknowledged by {alert.acknowledged_by} at {alert.acknowledged_at.astimezone(zone):%H:%M}"
    if alert.snoozed_until:
        text += f"; repeats snoozed until {alert.snoozed_until.astimezone(zone):%a %H:%M}"
    return text
