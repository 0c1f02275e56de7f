"""Sending what the watcher queued: one message per delivery, retried with back-off until it
is sent. A delivery that keeps failing stays visible (`GET /v1/alerts`, `opentrace alerts`)
with its last error; after MAX_ATTEMPTS it is marked failed instead of retried forever."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import cards
from bot.gather import run_facts
from bot.observer import AlertObserver
from storage import alerts
from storage.alerts import FAILED, SENT, Alert, Delivery
from storage.models import Job, Run

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)


@dataclass(frozen=True)
class Message:
    text: str
    card: dict[str, Any]


class DeliveryError(Exception):
    """A send that did not work; `retry_after` is the target's own hint (429, 503)."""

    def __init__(self, message: str, *, retry_after: float | None = None,
                 permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class Sender(Protocol):
    async def send(self, target: str, message: Message) -> str | None:
        """Send; returns the id of the posted message when the channel gives one."""


class WebhookSender:
    """Teams Workflows "post to a channel" webhooks: the same card, as an attachment."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def send(self, target: str, message: Message) -> str | None:
        body = {"type": "message", "text": message.text, "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
             "content": message.card}]}
        try:
            async with self._session.post(target, json=body,
                                          timeout=aiohttp.ClientTimeout(total=10)) as response:
                if response.status < 300:
                    return None
                retry_after = _seconds(response.headers.get("Retry-After"))
                raise DeliveryError(f"webhook answered {response.status}",
                                    retry_after=retry_after,
                                    permanent=response.status in (400, 401, 403, 404, 410))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"webhook unreachable: {exc!r}") from exc


class Deliverer:
    def __init__(self, engine: AsyncEngine, *, clock: Clock, senders: dict[str, Sender],
                 default_timezone: str = "UTC", observer: AlertObserver | None = None) -> None:
        self._observer = observer
        self._engine = engine
        self._clock = clock
        self._senders = senders
        self._default_zone = default_timezone

    async def deliver_due(self, limit: int = 50) -> int:
        """Send every delivery that is due; returns how many were sent."""
        sent = 0
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            for delivery in await alerts.due_deliveries(session, self._clock(), limit):
                sent += await self._deliver(session, delivery)
                await session.commit()
        return sent

    async def next_due(self) -> datetime | None:
        async with AsyncSession(self._engine) as session:
            return await alerts.next_delivery_at(session)

    async def _deliver(self, session: AsyncSession, delivery: Delivery) -> int:
        sender = self._senders.get(delivery.channel)
        alert = await session.get(Alert, delivery.alert_id)
        if alert is None:
            return 0
        if sender is None:
            self._failed(session, delivery, DeliveryError(f"no {delivery.channel} sender",
                                                          permanent=True))
            return 0
        try:
            message = await self.message(session, alert, delivery.event)
            activity_id = await sender.send(delivery.target, message)
        except DeliveryError as exc:
            self._failed(session, delivery, exc)
            return 0
        except Exception as exc:  # a sender bug must not stop the others
            log.exception("delivery %s failed", delivery.id)
            self._failed(session, delivery, DeliveryError(repr(exc)))
            return 0
        delivery.state = SENT
        delivery.sent_at = self._clock()
        delivery.attempts += 1
        delivery.activity_id = activity_id
        delivery.last_error = None
        session.add(delivery)
        self._observe(delivery.channel, SENT)
        return 1

    def _failed(self, session: AsyncSession, delivery: Delivery, error: DeliveryError) -> None:
        delivery.attempts += 1
        delivery.last_error = str(error)[:2000]
        if error.permanent or delivery.attempts >= MAX_ATTEMPTS:
            delivery.state = FAILED
        else:
            wait = min(FIRST_RETRY * 2 ** (delivery.attempts - 1), LONGEST_RETRY)
            if error.retry_after is not None:
                wait = max(wait, timedelta(seconds=error.retry_after))
            delivery.next_attempt_at = self._clock() + wait
        log.warning("delivery %s to %s: attempt %s failed: %s", delivery.id, delivery.target,
                    delivery.attempts, error)
        session.add(delivery)
        self._observe(delivery.channel, FAILED if delivery.state == FAILED else "retry")

    def _observe(self, channel: str, outcome: str) -> None:
        if self._observer is not None:
            self._observer.delivery_attempted(channel, outcome)

    async def message(self, session: AsyncSession, alert: Alert, event: str) -> Message:
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


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
