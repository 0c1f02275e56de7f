"""No alert is lost to a Bot Connector that throttles, fails, drops the connection or hangs.

Botbuilder swallows an exception raised inside a proactive turn (its turn-error handler logs
it), so a throttled post once looked sent and was never tried again. Each way an alert reaches
Teams — its incident's card posted as a new thread, that card updated in place by the
recovery, or after an acknowledgement — is tried here
against the stand-in connector answering 429 (Retry-After: 2), 503, a reset connection and
silence, then 201: the failure shows in GET /v1/alerts, and the deliverer's next attempt,
after its back-off, gets the message through exactly once."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.endpoint import TEAMS
from storage.alerts import Alert, Delivery
from tests.alerts.test_watcher import DEFINITION, berlin
from tests.bot.conftest import Heard
from tests.bot.connector import Connector
from tests.bot.story import IMPORT, normal_night, the_bad_night
from tests.bot.test_teams_alerts import Night, card_texts
from tests.bot.test_teams_endpoint import BOT_ADDED, start_teams
from tests.conftest import Clock

FAILURES = ["429", "503", "reset", "hang"]
# botbuilder's HTTP stack (requests) itself retries an idempotent PUT twice when the
# connection drops: a reset that reaches the sender is one that happened on every try.
UPDATE_SCRIPTS = {"429": ["429"], "503": ["503"], "reset": ["reset"] * 3, "hang": ["hang"]}
TIMEOUT = 1.0  # the senders' wait for a silent connector, short so that "hang" is quick


@pytest.fixture
async def night(database_url: str, clock: Clock, connector: Connector,
                overhear: Callable[[Any], Heard]) -> AsyncIterator[Night]:
    async for teams, _ in start_teams(database_url, clock, connector, overhear):
        clock.now = berlin(24, 12)
        assert (await teams.post(teams.team_event("conversationUpdate", **BOT_ADDED))).status in (200, 201)
        assert (await teams.api.put(f"/v1/jobs/{IMPORT}", DEFINITION)).status in (200, 201)
        teams.api.client.server.app[TEAMS].bot.update_timeout = TIMEOUT  # type: ignore[union-attr]
        shown = Night(teams, clock, timeout=TIMEOUT)
        await shown.say("subscribe nightly-product-import")
        yield shown


async def failing_deliveries(night: Night) -> list[dict[str, Any]]:
    """What GET /v1/alerts shows of deliveries that have not got through (yet)."""
    body = await night.teams.api.get_ok("/v1/alerts")
    return [d for a in body["alerts"] for d in a["deliveries"] if d["state"] != "sent"]


async def retry_after_back_off(night: Night) -> None:
    night.clock.advance(seconds=31)  # the first back-off: 30 s, more than Retry-After's 2 s
    await night.deliver()


@pytest.mark.parametrize("failure", FAILURES)
async def test_a_new_alert_thread_that_fails_is_retried_until_teams_takes_it(
    night: Night, failure: str
) -> None:
    night.teams.connector.script = [failure]
    await night.report(the_bad_night(), berlin(25, 0, 32))  # ended early: its post fails

    [pending] = await failing_deliveries(night)
    assert (pending["event"], pending["state"], pending["attempts"]) == ("opened", "pending", 1)
    assert pending["last_error"]
    assert len(night.posts) == 1  # the attempt Teams did not take

    night.clock.advance(seconds=3)
    await night.deliver()
    assert len(night.posts) == 1  # not before its back-off
    await retry_after_back_off(night)

    assert await failing_deliveries(night) == []
    assert [p["text"][:42] for _, p in night.posts] == ["⚠ Nightly product import ended after 'file"] * 2
    await retry_after_back_off(night)
    assert len(night.posts) == 2  # taken once, never sent again


@pytest.mark.parametrize("failure", FAILURES)
async def test_a_recovery_update_of_the_card_that_fails_is_retried(
    night: Night, failure: str
) -> None:
    await night.report(the_bad_night(), berlin(25, 0, 32))
    async with AsyncSession(night.teams.api.engine) as session:
        opened = (await session.exec(select(Delivery).where(Delivery.event == "opened"))).all()
    [card] = {d.activity_id for d in opened}
    night.teams.connector.script = list(UPDATE_SCRIPTS[failure])
    await night.report(normal_night(26, 40), berlin(26, 2))  # recovers the alert

    [pending] = await failing_deliveries(night)
    assert (pending["event"], pending["attempts"]) == ("resolved", 1) and pending["last_error"]
    night.teams.connector.script = []  # what the HTTP stack had yet to retry has gone by
    await retry_after_back_off(night)

    assert await failing_deliveries(night) == []
    assert [p["text"][:42] for _, p in night.posts] == ["⚠ Nightly product import ended after 'file"]
    updates = [call for _, call in night.updates if call.body["text"].startswith("Recovered")]
    assert len(updates) >= 2  # the attempt Teams did not take, then the one it did
    assert {call.path.rsplit("/", 1)[1] for call in updates} == {card}
    assert "✓ Recovered · Ended early" in card_texts(night.teams.connector.current(card))


@pytest.mark.parametrize("failure", FAILURES)
async def test_an_acknowledged_card_that_cannot_be_updated_is_updated_by_the_deliverer(
    night: Night, failure: str
) -> None:
    await night.report(the_bad_night(), berlin(25, 0, 32))
    async with AsyncSession(night.teams.api.engine) as session:
        alert, posted = (await session.exec(
            select(Alert, Delivery).join(Delivery, Delivery.alert_id == Alert.id)  # type: ignore[arg-type]
            .where(Alert.kind == "ended_early"))).one()
    night.teams.connector.script = list(UPDATE_SCRIPTS[failure])
    night.clock.now = berlin(25, 7, 12)
    click = night.teams.channel_message("", message_id="1732520000099")
    click.update(replyToId=posted.activity_id, value={"opentrace": "acknowledge", "alert": alert.id})
    assert (await night.teams.post(click)).status in (200, 201)

    [pending] = await failing_deliveries(night)
    assert (pending["event"], pending["attempts"]) == ("updated", 1) and pending["last_error"]
    night.teams.connector.script = []  # what the HTTP stack had yet to retry has gone by
    before = len(night.teams.connector.calls)
    await night.deliver()  # queued for now: the deliverer tries at once

    [update] = [c for c in night.teams.connector.calls[before:] if c.method == "PUT"]
    assert update.path.endswith(f"/activities/{posted.activity_id}")
    assert "Acknowledged by Sam Ops at 07:12" in str(update.body)
    assert await failing_deliveries(night) == []
