"""Alerts reach people even when the way there is flaky: retries with back-off, nothing
lost, and a delivery that keeps failing is visible. A webhook, which cannot update what it
posted, gets each new fact of an incident as a follow-up that names the incident."""

import asyncio
from datetime import datetime

import pytest
from aiohttp import ClientSession
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.delivery import MAX_ATTEMPTS, Deliverer
from alerts.watcher import Watcher
from alerts.webhook import WebhookSender
from bot.alert_messages import AlertComposer
from storage.alerts import Delivery
from tests.alerts.conftest import Webhook
from tests.alerts.test_watcher import berlin, run_ids
from tests.conftest import Api, Clock


async def alert_for(api: Api, clock: Clock, url: str) -> Watcher:
    clock.now = berlin(24, 12)
    await api.put("/v1/jobs/etl", {"timezone": "Europe/Berlin", "schedule": "0 1 * * *",
                                   "alert": [url]})
    watcher = Watcher(api.engine, clock=clock)
    clock.now = berlin(25, 1, 31)
    [opened] = await watcher.check_due()
    assert opened.alert.kind == "did_not_start"
    return watcher


async def states(api: Api) -> list[tuple[str, int, str | None]]:
    async with AsyncSession(api.engine) as session:
        rows = (await session.exec(select(Delivery))).all()
        return [(d.state, d.attempts, d.last_error) for d in rows]


async def test_a_flaky_webhook_gets_the_alert_once_after_backing_off(
    api: Api, clock: Clock, webhook: Webhook
) -> None:
    await alert_for(api, clock, webhook.url)
    webhook.script = [503, 429]
    async with ClientSession() as http:
        deliverer = Deliverer(api.engine, clock=clock, senders={"webhook": WebhookSender(http)},
                              compose=AlertComposer())

        assert await deliverer.deliver_due() == 0  # 503
        assert await deliverer.deliver_due() == 0  # not due yet: backing off
        clock.advance(seconds=30)
        assert await deliverer.deliver_due() == 0  # 429, Retry-After 120
        clock.advance(seconds=61)
        assert await deliverer.deliver_due() == 0  # back-off honours Retry-After
        clock.advance(seconds=60)
        assert await deliverer.deliver_due() == 1
        clock.advance(hours=2)
        assert await deliverer.deliver_due() == 0  # sent once, never again

    assert len(webhook.posts) == 3
    card = webhook.posts[-1]["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard"
    assert "due to start at Wed 25 Nov 01:00" in webhook.posts[-1]["text"]
    assert await states(api) == [("sent", 3, None)]


async def test_a_delivery_that_keeps_failing_is_marked_failed_and_visible(
    api: Api, clock: Clock, webhook: Webhook
) -> None:
    await alert_for(api, clock, webhook.url)
    webhook.script = [500] * 20
    async with ClientSession() as http:
        deliverer = Deliverer(api.engine, clock=clock, senders={"webhook": WebhookSender(http)},
                              compose=AlertComposer())
        for _ in range(MAX_ATTEMPTS + 3):
            await deliverer.deliver_due()
            clock.advance(hours=2)

    assert len(webhook.posts) == MAX_ATTEMPTS
    assert await states(api) == [("failed", MAX_ATTEMPTS, "webhook answered 500")]
    listed = (await (await api.get("/v1/alerts")).json())["alerts"]
    assert listed[0]["deliveries"] == [{
        "event": "opened", "channel": "webhook", "target": webhook.url, "state": "failed",
        "attempts": MAX_ATTEMPTS, "last_error": "webhook answered 500", "sent_at": None}]


async def test_a_gone_webhook_is_not_retried(api: Api, clock: Clock, webhook: Webhook) -> None:
    await alert_for(api, clock, webhook.url)
    webhook.script = [404]
    async with ClientSession() as http:
        deliverer = Deliverer(api.engine, clock=clock, senders={"webhook": WebhookSender(http)},
                              compose=AlertComposer())
        await deliverer.deliver_due()

    assert await states(api) == [("failed", 1, "webhook answered 404")]


async def test_an_unreachable_webhook_is_retried(api: Api, clock: Clock) -> None:
    await alert_for(api, clock, "http://127.0.0.1:9/nobody-listens")
    async with ClientSession() as http:
        deliverer = Deliverer(api.engine, clock=clock, senders={"webhook": WebhookSender(http)},
                              compose=AlertComposer())
        await deliverer.deliver_due()

    [(state, attempts, error)] = await states(api)
    assert (state, attempts) == ("pending", 1)
    assert error is not None and "unreachable" in error


@pytest.mark.parametrize("failure", [429, 503, "reset", "hang"])
async def test_a_webhook_that_throttles_fails_drops_or_hangs_gets_the_alert_on_a_later_try(
    api: Api, clock: Clock, webhook: Webhook, failure: int | str
) -> None:
    await alert_for(api, clock, webhook.url)
    webhook.script = [failure]
    async with ClientSession() as http:
        deliverer = Deliverer(api.engine, clock=clock, senders={"webhook": WebhookSender(http, timeout=1)},
                              compose=AlertComposer())
        assert await deliverer.deliver_due() == 0
        [(state, attempts, error)] = await states(api)
        assert (state, attempts) == ("pending", 1) and error
        shown = await api.get_ok("/v1/alerts")
        assert shown["alerts"][0]["deliveries"][0]["last_error"] == error

        clock.advance(seconds=121)  # past the back-off, and past a 429's Retry-After of 120 s
        assert await deliverer.deliver_due() == 1

    assert await states(api) == [("sent", 2, None)]


RUNS_LONG = {"timezone": "Europe/Berlin", "schedule": "0 1 * * *",
             "expect": {"max_runtime": "1h", "milestones": [{"name": "done", "by": "5h"}]}}


async def test_a_webhook_gets_an_incidents_new_facts_as_follow_ups_that_carry_its_id(
    api: Api, clock: Clock, webhook: Webhook
) -> None:
    clock.now = berlin(24, 12)
    await api.put("/v1/jobs/etl", {**RUNS_LONG, "alert": [webhook.url]})
    watcher = Watcher(api.engine, clock=clock)
    async with ClientSession() as http:
        deliverer = Deliverer(api.engine, clock=clock, senders={"webhook": WebhookSender(http)},
                              compose=AlertComposer())

        async def report(event: dict[str, object], at: datetime) -> None:
            clock.now = at
            await api.send_ok([{"job": "etl", "at": at.isoformat(), **event}])
            await watcher.judge_runs(await run_ids(api, "etl", [str(event["run"])]))
            await deliverer.deliver_due()

        async def check(at: datetime) -> None:
            clock.now = at
            await watcher.check_due()
            await deliverer.deliver_due()

        await report({"run": "r25", "kind": "start"}, berlin(25, 1))
        await check(berlin(25, 2))  # running too long: the first post
        await report({"run": "r25", "kind": "finish", "status": "failed", "text": "disk full"},
                     berlin(25, 2, 10))  # failed, which ends "running too long": a follow-up
        await check(berlin(25, 6))  # 'done' missed by a run that had failed: nothing new
        await report({"run": "r26", "kind": "start"}, berlin(26, 1))
        await report({"run": "r26", "kind": "milestone", "name": "done"}, berlin(26, 1, 30))
        await report({"run": "r26", "kind": "finish", "status": "succeeded"}, berlin(26, 1, 40))

    posts = webhook.posts
    assert [p["text"] for p in posts] == [
        "⚠ etl has been running for 1 h, longer than its maximum of 1h.",
        "⚠ etl failed: disk full. (+1 more on the card)",
        "Recovered — etl: A later run (r26) finished successfully."]
    incidents = [p["opentrace"]["incident"] for p in posts]
    assert len({i["id"] for i in incidents}) == 1  # one incident, for the receiver to correlate
    assert [(i["run"], i["state"]) for i in incidents] == [
        ("r25", "open"), ("r25", "open"), ("r25", "resolved")]
    assert [[(a["kind"], a["state"]) for a in i["alerts"]] for i in incidents] == [
        [("overran", "open")],
        [("overran", "resolved"), ("failed", "open")],
        [("overran", "resolved"), ("failed", "resolved"), ("milestone_missed", "resolved")]]
    assert f"OpenTrace incident {incidents[0]['id']}" in str(posts[1]["attachments"])
    assert "'done' was due by 06:00; the run had already ended without it." \
        in str(posts[2]["attachments"])  # on the card, but never a post of its own
    listed = (await api.get_ok("/v1/alerts"))["alerts"]
    [missed] = [a for a in listed if a["kind"] == "milestone_missed"]
    assert [(d["event"], d["state"], d["attempts"]) for d in missed["deliveries"]] == [
        ("opened", "sent", 0), ("resolved", "sent", 1)]


async def test_passes_that_overlap_in_one_process_send_a_message_once(
    api: Api, clock: Clock, webhook: Webhook
) -> None:
    await alert_for(api, clock, webhook.url)
    webhook.script = ["hang"]  # the first pass waits on the webhook while the second starts
    async with ClientSession() as http:
        deliverer = Deliverer(api.engine, clock=clock, senders={"webhook": WebhookSender(http)},
                              compose=AlertComposer())
        await asyncio.gather(deliverer.deliver_due(), deliverer.deliver_due())

    assert len(webhook.posts) == 1  # the second pass found it tried, and backing off
    assert await states(api) == [("pending", 1, "webhook answered 504")]
