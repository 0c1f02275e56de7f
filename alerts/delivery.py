"""Sending what the watcher queued: one message per delivery, retried with back-off until it
is sent. A delivery that keeps failing stays visible (`GET /v1/alerts`, `opentrace alerts`)
with its last error; after MAX_ATTEMPTS it is marked failed instead of retried forever.

Alerts know nothing of Teams: a `Sender` per channel ("teams", "webhook") posts a `Message`
that a `Composer` made from the alert. The app factory wires the bot's sender and composer."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.observer import AlertObserver
from storage import alerts
from storage.alert_states import FAILED, RESOLVED, SENT, UPDATED
from storage.alerts import Alert, Delivery
from storage.clock import Clock

log = logging.getLogger(__name__)
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
    async def send(self, target: str, message: Message, *, thread: str | None = None,
                   replace: str | None = None) -> str | None:
        """Post `message` to `target` — as a reply in `thread` (the id the alert's own post was
        given) where the channel has threads, or in place of the posted message `replace`
        where it can update one. Returns the id of the posted message when the channel gives
        one. Every failure is raised as a DeliveryError, so the deliverer can retry it."""


class Composer(Protocol):
    async def __call__(self, session: AsyncSession, alert: Alert, event: str) -> Message:
        """What a channel sees for `event` ("opened", "resolved") of `alert`."""


class Deliverer:
    def __init__(self, engine: AsyncEngine, *, clock: Clock, senders: dict[str, Sender],
                 compose: Composer, observer: AlertObserver | None = None) -> None:
        self._observer = observer
        self._engine = engine
        self._clock = clock
        self._senders = senders
        self.compose = compose

    async def deliver_due(self, limit: int = 50) -> int:
        """Send every delivery that is due; returns how many were sent."""
        sent = 0
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            for delivery in await alerts.due_deliveries(self._clock(), limit, session=session):
                sent += await self._deliver(session, delivery)
                await session.commit()
        return sent

    async def next_due(self) -> datetime | None:
        async with AsyncSession(self._engine) as session:
            return await alerts.next_delivery_at(session=session)

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
            message = await self.compose(session, alert, delivery.event)
            thread = (await alerts.posted_activity(delivery.alert_id, delivery.target, session=session)
                      if delivery.event == RESOLVED else None)
            replace = delivery.activity_id if delivery.event == UPDATED else None
            activity_id = await sender.send(delivery.target, message, thread=thread, replace=replace)
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


def retry_after_seconds(value: object) -> float | None:
    """A Retry-After header in seconds ("120", or an HTTP date); None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
