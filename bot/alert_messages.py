"""What a channel sees of an incident: one card, redrawn whenever it is updated, with the
run's facts as they are now, every alert of it newest first (the resolved ones ticked), who
acknowledged it, and — once every alert is resolved — how it recovered. The bot composes;
`alerts` delivers."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.delivery import Message
from alerts.incidents import Incident, incident_of
from alerts.wording import capital, clock_time, quoted
from bot import cards
from bot.run_facts import run_facts
from storage.alert_states import OPEN, RESOLVED
from storage.alerts import Alert


class AlertComposer:
    """`alerts.delivery.Composer` for Teams and webhooks, in each job's own time zone."""

    def __init__(self, default_timezone: str = "UTC") -> None:
        self._default_zone = default_timezone

    async def __call__(self, session: AsyncSession, incident: Incident) -> Message:
        return await incident_message(session, incident, self._default_zone)


async def alert_message(session: AsyncSession, alert: Alert, event: str,
                        default_timezone: str) -> Message:
    """The card of `alert`'s incident as it stands now — what an Acknowledge or Snooze click
    puts in place of the card it was made on. Every `event` shows the same card: the card
    always tells the whole incident."""
    return await incident_message(session, await incident_of(alert, session=session),
                                  default_timezone)


async def incident_message(session: AsyncSession, incident: Incident,
                           default_timezone: str) -> Message:
    job = incident.job
    zone = ZoneInfo(job.timezone or default_timezone)
    headline = incident.headline
    newest = incident.newest_first()
    resolution = _resolution(incident)
    lines = [cards.AlertLine(alert.opened_at.astimezone(zone), _line(alert, incident, zone),
                             alert.resolution if alert.state == RESOLVED else None,
                             incident.repeats(alert))
             for alert in newest]
    view = cards.IncidentView(
        incident.id, job.title, headline.kind, headline.reason,
        min(_since(alert, zone) for alert in incident.alerts), lines,
        alert_id=next((a for a in newest if a.state != RESOLVED), headline).id or 0,
        acknowledged=_acknowledgement(incident.alerts, zone), resolution=resolution,
        actions=any(alert.state == OPEN for alert in newest))
    run = incident.run
    facts = await run_facts(job, run, zone, session=session) if run is not None else None
    card = cards.incident_card(view, facts)
    if resolution is not None:
        text = f"Recovered — {job.title}: {resolution}"
    else:
        more = len(incident.alerts) - 1
        text = f"⚠ {headline.reason}" + (f" (+{more} more on the card)" if more else "")
    return Message(text, card, _summary(incident))


def _since(alert: Alert, zone: ZoneInfo) -> datetime:
    """Since when it is wrong: a missed milestone since its deadline, a missing start since
    the scheduled time, anything else since it was noticed."""
    due = alert.facts.get("milestone") and alert.facts.get("due")
    return (datetime.fromisoformat(due) if due else alert.occurrence_at or alert.opened_at).astimezone(zone)


def _acknowledgement(alerts: list[Alert], zone: ZoneInfo) -> str | None:
    """Who acknowledged the incident last, and until when its repeats are snoozed."""
    acknowledged = [(a.acknowledged_at, a.acknowledged_by) for a in alerts
                    if a.acknowledged_by and a.acknowledged_at]
    if not acknowledged:
        return None
    at, who = max(acknowledged)
    text = f"Acknowledged by {who} at {at.astimezone(zone):%H:%M}"
    snoozed = max((a.snoozed_until for a in alerts if a.snoozed_until), default=None)
    if snoozed:
        text += f"; repeats snoozed until {snoozed.astimezone(zone):%a %H:%M}"
    return text


def _resolution(incident: Incident) -> str | None:
    """How the incident recovered, once every alert of it is resolved: the last word."""
    if not incident.resolved:
        return None
    last = max(incident.alerts, key=lambda a: (a.resolved_at or a.opened_at, a.id or 0))
    return last.resolution or "resolved"


def _line(alert: Alert, incident: Incident, zone: ZoneInfo) -> str:
    """What the alert says, without the job's name in front; a missed milestone that repeats
    the incident says only what it adds."""
    if incident.repeats(alert) and alert.facts.get("due"):
        due = datetime.fromisoformat(alert.facts["due"]).astimezone(zone)
        return (f"{quoted(str(alert.facts.get('milestone', '')))} was due by {clock_time(due)}; "
                f"the run had already ended without it.")
    title = incident.job.title
    for prefix in (f"{title}: ", f"{title} "):
        if alert.reason.startswith(prefix):
            return capital(alert.reason[len(prefix):])
    return alert.reason


def _summary(incident: Incident) -> dict[str, Any]:
    """The incident for receivers that correlate follow-up posts."""
    run = incident.run
    occurrence = min((a.occurrence_at for a in incident.alerts if a.occurrence_at), default=None)
    return {"id": incident.id, "job": incident.job.slug, "run": run.key if run else None,
            "occurrence": occurrence.isoformat() if occurrence else None,
            "state": RESOLVED if incident.resolved else OPEN,
            "alerts": [{"id": a.id, "kind": a.kind, "state": a.state} for a in incident.alerts]}
