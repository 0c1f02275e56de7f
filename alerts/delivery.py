"""Sending what the watcher queued, retried with back-off until it is sent. A delivery that
keeps failing stays visible (`GET /v1/alerts`, `opentrace alerts`) with its last error; after
MAX_ATTEMPTS it is marked failed instead of retried forever.

One incident, one card: the alerts about one run, or one scheduled occurrence, form an
incident (`alerts.incidents`). Its first message to a target posts a card; every later one —
a new fact, a recovery, an acknowledgement the card could not show at once — puts the
incident's card, as it is now, in place of that post (its id is the `activity_id` of the last
delivery sent there). Messages waiting for the same incident and target go out together, as
one post or one update, and share their retries. An update refused for good (the post was
deleted) posts a new card, whose id is kept from then on: no fact is lost. A channel that
cannot update a post (webhooks) gets each new fact as a follow-up post of the whole card,
carrying the incident's id; a fact that only repeats the incident (`Incident.repeats`) is not
posted there again.

Alerts know nothing of Teams: a `Sender` per channel ("teams", "webhook") posts a `Message`
that a `Composer` made from the incident. The app factory wires the bot's sender and composer."""

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.incidents import Incident, incident_of
from alerts.observer import AlertObserver
from storage import alerts, incidents
from storage.alert_states import FAILED, OPENED, SENT, UPDATED
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
    # Which incident it shows and how it stands, for receivers that correlate follow-up posts
    # (webhooks): {"id", "job", "run", "state", "alerts": [{"id", "kind", "state"}]}.
    incident: dict[str, Any] = field(default_factory=dict)


class DeliveryError(Exception):
    """A send that did not work; `retry_after` is the target's own hint (429, 503)."""

    def __init__(self, message: str, *, retry_after: float | None = None,
                 permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class Sender(Protocol):
    async def send(self, target: str, message: Message, *, replace: str | None = None) -> str | None:
        """Post `message` to `target`, or put it in place of the posted message `replace` where
        the channel can update one. Returns the id of the post (or `replace`) when the channel
        gives one. Every failure is raised as a DeliveryError, so the deliverer can retry it;
        a permanent one on `replace` means that post cannot be updated any more (deleted)."""


class Composer(Protocol):
    async def __call__(self, session: AsyncSession, incident: Incident) -> Message:
        """What a channel sees of `incident` as it stands now."""


class Deliverer:
    def __init__(self, engine: AsyncEngine, *, clock: Clock, senders: dict[str, Sender],
                 compose: Composer, observer: AlertObserver | None = None) -> None:
        self._observer = observer
        self._engine = engine
        self._clock = clock
        self._senders = senders
        self.compose = compose
        # One pass at a time in this process: the watcher's, fresh telemetry's and the timer's
        # passes may overlap, and two would post one incident's card twice. Across replicas
        # only the leader delivers (`alerts.leadership`).
        self._one_pass = asyncio.Lock()

    async def deliver_due(self, limit: int = 50) -> int:
        """Send every delivery that is due, each with the others waiting for the same incident
        and target; returns how many deliveries were sent."""
        sent = 0
        async with self._one_pass, AsyncSession(self._engine, expire_on_commit=False) as session:
            handled: set[int | None] = set()
            for delivery in await alerts.due_deliveries(self._clock(), limit, session=session):
                if delivery.id in handled:
                    continue
                group = await self._deliver(session, delivery)
                handled.update(d.id for d in group)
                sent += sum(d.state == SENT for d in group)
                await session.commit()
        return sent

    async def next_due(self) -> datetime | None:
        async with AsyncSession(self._engine) as session:
            return await alerts.next_delivery_at(session=session)

    async def _deliver(self, session: AsyncSession, delivery: Delivery) -> list[Delivery]:
        """Tell `delivery`'s target about its incident, with every message waiting for the
        same incident and target; returns those messages, each marked with the outcome."""
        group = [delivery]
        alert = await session.get(Alert, delivery.alert_id)
        if alert is None:
            return group
        sender = self._senders.get(delivery.channel)
        if sender is None:
            self._failed(session, group, DeliveryError(f"no {delivery.channel} sender", permanent=True))
            return group
        try:
            incident = await incident_of(alert, session=session)
            group = list(await incidents.pending_to(incident.alert_ids, delivery.target,
                                                    session=session)) or group
            last = await incidents.last_sent_to(incident.alert_ids, delivery.target, session=session)
            card = (last.activity_id if last else None) or next(
                (d.activity_id for d in group if d.event == UPDATED and d.activity_id), None)
            if last is not None and card is None and _only_repeats(incident, group):
                self._sent(session, group, None, attempted=False)
                return group
            message = await self.compose(session, incident)
            activity_id = await self._send(sender, delivery.target, message, card)
        except DeliveryError as exc:
            self._failed(session, group, exc)
            return group
        except Exception as exc:  # a sender bug must not stop the others
            log.exception("delivery %s failed", delivery.id)
            self._failed(session, group, DeliveryError(repr(exc)))
            return group
        self._sent(session, group, activity_id)
        return group

    async def _send(self, sender: Sender, target: str, message: Message,
                    card: str | None) -> str | None:
        """Update the incident's `card` in place, or post a new one when there is none yet or
        it cannot be updated any more."""
        if card is not None:
            try:
                return await sender.send(target, message, replace=card)
            except DeliveryError as exc:
                if not exc.permanent:
                    raise
                log.warning("the card %s in %s cannot be updated (%s); posting a new one",
                            card, target, exc)
        return await sender.send(target, message)

    def _sent(self, session: AsyncSession, group: list[Delivery], activity_id: str | None, *,
              attempted: bool = True) -> None:
        now = self._clock()
        for delivery in group:
            delivery.state, delivery.sent_at, delivery.last_error = SENT, now, None
            delivery.activity_id = activity_id
            if attempted:
                delivery.attempts += 1
                self._observe(delivery.channel, SENT)
            session.add(delivery)

    def _failed(self, session: AsyncSession, group: list[Delivery], error: DeliveryError) -> None:
        for delivery in group:
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


def _only_repeats(incident: Incident, group: list[Delivery]) -> bool:
    """Whether every waiting message only tells of an alert that repeats the incident."""
    by_id = {alert.id: alert for alert in incident.alerts}
    return all(d.event == OPENED and d.alert_id in by_id and incident.repeats(by_id[d.alert_id])
               for d in group)


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
