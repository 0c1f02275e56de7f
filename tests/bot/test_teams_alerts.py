"""The seed story, end to end in Teams: a channel subscribes, the import has seven normal
nights and then the bad one, and the channel gets one card for the broken night, posted when
the first thing goes wrong and updated in place as each further fact falls due — never a
second card for the same run —, can acknowledge or snooze it on the card, gets a straight
answer when it asks, and sees the same card turn to recovered. Teams is played by activities
posted to the real server; the Bot Connector by a local stand-in that records every call and
keeps what is in each conversation."""

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from itertools import groupby
from typing import Any

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from alerts.delivery import Deliverer
from alerts.watcher import Watcher
from bot.alert_messages import AlertComposer
from bot.endpoint import TEAMS
from bot.teams_sender import TeamsSender
from storage.alerts import Alert, Delivery, subscribe
from storage.audit import audit_entries
from tests.alerts.test_watcher import DEFINITION, berlin, run_ids
from tests.bot.conftest import Heard
from tests.bot.connector import ADAPTIVE_CARD, Call, Connector
from tests.bot.story import IMPORT, normal_night, the_bad_night
from tests.bot.test_teams_endpoint import BOT_ADDED, CHANNEL, GROUP_CHAT, Teams, start_teams
from tests.conftest import Clock

OPS = CHANNEL["id"]
EARLY = ("⚠ Nightly product import ended after 'file-read' without reaching 'report-published' "
         "(finished partial).")
SKIPPED = "⚠ Nightly product import: 8,911 rows skipped, usually 30–50."


class Night:
    """Drives one server through the story: telemetry over HTTP, the watcher and the
    deliverer on the test's clock, Teams sending what people do."""

    def __init__(self, teams: Teams, clock: Clock, *, timeout: float = 30) -> None:
        self.teams, self.clock = teams, clock
        app = teams.api.client.server.app
        assert app is not None
        engine = teams.api.engine
        self.watcher = Watcher(engine, clock=clock)
        self.deliverer = Deliverer(engine, clock=clock, senders={
            "teams": TeamsSender(app[TEAMS].adapter, engine, "", timeout=timeout)},
            compose=AlertComposer())
        self.posts: list[tuple[datetime, dict[str, Any]]] = []  # (when, proactive activity)
        self.updates: list[tuple[datetime, Call]] = []  # (when, PUT of a posted activity)
        self.elsewhere: list[tuple[datetime, Call]] = []  # proactive calls to other conversations

    async def report(self, events: list[dict[str, Any]], at: datetime) -> None:
        self.clock.now = at
        await self.teams.api.send_ok(events)
        keys = sorted({e["run"] for e in events})
        await self.watcher.judge_runs(await run_ids(self.teams.api, IMPORT, keys))
        await self.deliver()

    async def at(self, moment: datetime) -> None:
        self.clock.now = moment
        await self.watcher.check_due()
        await self.deliver()

    async def report_as_it_happens(self, events: list[dict[str, Any]]) -> None:
        """The events of a night as the job sends them: each moment's batch at that moment."""
        for moment, batch in groupby(events, key=lambda e: str(e["at"])):
            await self.report(list(batch), datetime.fromisoformat(moment))

    async def deliver(self) -> None:
        before = len(self.teams.connector.calls)
        await self.deliverer.deliver_due()
        for call in self.teams.connector.calls[before:]:
            # An incident's card starts a thread in the channel; later facts update it.
            if "/activities" not in call.path:
                continue
            if f"/conversations/{OPS}" not in call.path:
                self.elsewhere.append((self.clock.now, call))
            elif call.method == "POST":
                self.posts.append((self.clock.now, call.body))
            elif call.method == "PUT":
                self.updates.append((self.clock.now, call))

    def card(self, activity_id: str) -> list[str]:
        """The posted card's paragraphs as they read now, after every update."""
        [attachment] = self.teams.connector.current(activity_id)["attachments"]
        return paragraphs(attachment["content"]["body"])

    async def say(self, text: str) -> str:
        before = len(self.teams.connector.calls)
        response = await self.teams.post(self.teams.channel_message(f"<at>OpenTrace</at> {text}"))
        assert response.status in (200, 201), await response.text()
        replies = [c.body for c in self.teams.connector.calls[before:]
                   if c.method == "POST" and c.body.get("type") == "message"]
        return str(replies[-1]["text"]) if replies else ""


async def the_story_begins(database_url: str, clock: Clock, connector: Connector,
                           overhear: Callable[[Any], Heard]) -> AsyncIterator[Night]:
    """A server whose bot is in the Ops channel and that knows the import's definition."""
    async for teams, _ in start_teams(database_url, clock, connector, overhear):
        clock.now = berlin(17, 12)
        assert (await teams.post(teams.team_event("conversationUpdate", **BOT_ADDED))).status \
            in (200, 201)
        assert (await teams.api.put(f"/v1/jobs/{IMPORT}", DEFINITION)).status in (200, 201)
        yield Night(teams, clock)


@pytest.fixture
async def night(database_url: str, clock: Clock, connector: Connector,
                overhear: Callable[[Any], Heard]) -> AsyncIterator[Night]:
    async for shown in the_story_begins(database_url, clock, connector, overhear):
        yield shown


def card_texts(activity: dict[str, Any]) -> str:
    """Every text on the activity's Adaptive Card, in order."""
    [attachment] = [a for a in activity["attachments"] if a["contentType"] == ADAPTIVE_CARD]
    return " ".join(text_runs(attachment["content"]["body"]))


def paragraphs(node: Any) -> list[str]:
    """Each paragraph under `node` (a card or part of one) as it reads, in order."""
    if isinstance(node, dict):
        if node.get("type") == "RichTextBlock":
            return ["".join(text_runs(node))]
        return [text for value in node.values() for text in paragraphs(value)]
    if isinstance(node, list):
        return [text for item in node for text in paragraphs(item)]
    return []


def text_runs(node: Any) -> list[str]:
    """The texts of every TextRun under `node` (a card or part of one), in order."""
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "TextRun" else []
        return own + [text for value in node.values() for text in text_runs(value)]
    if isinstance(node, list):
        return [text for item in node for text in text_runs(item)]
    return []


async def test_the_broken_night_is_one_card_per_conversation_updated_as_each_fact_falls_due(
    night: Night,
) -> None:
    assert await night.say("subscribe the import") == \
        "This conversation now gets the alerts of Nightly product import (nightly-product-import)."
    assert (await night.teams.post(night.teams.group_event("conversationUpdate", **BOT_ADDED))) \
        .status in (200, 201)
    async with AsyncSession(night.teams.api.engine) as session:
        await subscribe(GROUP_CHAT, IMPORT, night.clock.now, session=session)
    for day, skipped in zip(range(18, 25), [41, 38, 45, 30, 50, 36, 42], strict=True):
        await night.report(normal_night(day, skipped), berlin(day, 2))
        await night.at(berlin(day, 6, 1))
    quiet_week = list(night.posts) + list(night.elsewhere)

    await night.report_as_it_happens(the_bad_night())  # the metric at 00:30, the end at 00:31
    await night.at(berlin(25, 5, 59))
    await night.at(berlin(25, 6, 0))  # 'report-published' was due
    await night.at(berlin(25, 7, 30))  # nothing is sent twice
    answer = await night.say("has the import run today?")

    assert quiet_week == []
    [(posted_at, posted)] = night.posts  # one card for the broken night ...
    assert (posted_at, posted["text"]) == (berlin(25, 0, 30), SKIPPED)
    activity = await card_id(night, OPS)
    assert [(when, call.path.rsplit("/", 1)[1]) for when, call in night.updates] == [
        (berlin(25, 0, 31), activity), (berlin(25, 6, 0), activity)]  # ... updated twice
    assert [call.body["text"] for _, call in night.updates] == [
        f"{EARLY} (+1 more on the card)", f"{EARLY} (+2 more on the card)"]
    now = night.card(activity)
    assert now[0] == "⚠ Ended early · since Wed 25 Nov 00:30"
    assert EARLY.removeprefix("⚠ ") in now  # the headline: the newest news
    listed = now[now.index("Alerts, newest first") + 1:][:3]
    assert listed == [
        "⚠ 06:00 'report-published' was due by 06:00; the run had already ended without it.",
        "⚠ 00:31 Ended after 'file-read' without reaching 'report-published' (finished partial).",
        "⚠ 00:30 8,911 rows skipped, usually 30–50."]
    assert sum("'report-published' was due" in line for line in now) == 1  # no line said twice
    assert "Read /data/supplier/products-2026-11-25.csv" in now
    # The group chat that subscribed too: its own card, posted once and updated in place.
    chat = await card_id(night, GROUP_CHAT)
    assert [(when, call.method) for when, call in night.elsewhere] == [
        (berlin(25, 0, 30), "POST"), (berlin(25, 0, 31), "PUT"), (berlin(25, 6, 0), "PUT")]
    assert [call.path.endswith(f"/activities/{chat}") for _, call in night.elsewhere[1:]] == [True] * 2
    listed = (await night.teams.api.get_ok("/v1/alerts"))["alerts"]
    assert sorted((a["kind"], [d["state"] for d in a["deliveries"]]) for a in listed) == [
        ("ended_early", ["sent", "sent"]), ("metric_out_of_range", ["sent", "sent"]),
        ("milestone_missed", ["sent", "sent"])]
    assert answer.startswith("No — today's Nightly product import started at 00:12")
    assert "it is late: 'report-published' was due at 06:00." in answer


async def card_id(night: Night, conversation: str) -> str:
    """The activity id of the card the broken night's incident has in `conversation`."""
    async with AsyncSession(night.teams.api.engine) as session:
        ids = {d.activity_id for d in (await session.exec(
            select(Delivery).where(Delivery.target == conversation))).all()}
    [activity] = ids
    assert activity
    return activity


async def test_acknowledging_updates_the_card_in_place_and_records_who(night: Night) -> None:
    await night.say("subscribe nightly-product-import")
    await night.report(the_bad_night(), berlin(25, 0, 32))
    async with AsyncSession(night.teams.api.engine) as session:
        alert, delivery = (await session.exec(
            select(Alert, Delivery).join(Delivery, Delivery.alert_id == Alert.id)
            .where(Alert.kind == "ended_early"))).one()
    assert delivery.activity_id

    night.clock.now = berlin(25, 7, 12)
    before = len(night.teams.connector.calls)
    click = night.teams.channel_message("", message_id="1732520000099")
    click.update(replyToId=delivery.activity_id, value={"opentrace": "acknowledge",
                                                        "alert": alert.id})
    assert (await night.teams.post(click)).status in (200, 201)

    [update] = [c for c in night.teams.connector.calls[before:] if c.method == "PUT"]
    assert update.path.endswith(f"/activities/{delivery.activity_id}")
    assert "✓ Acknowledged by Sam Ops at 07:12" in card_texts(update.body)
    assert "actions" not in update.body["attachments"][0]["content"]
    async with AsyncSession(night.teams.api.engine) as session:
        stored = await session.get(Alert, alert.id)
    assert stored is not None
    assert (stored.state, stored.acknowledged_by) == ("acknowledged", "Sam Ops")
    async with AsyncSession(night.teams.api.engine) as session:
        changes = [e for e in await audit_entries(session=session) if e.action != "job.defined"]
    assert [(e.action, e.target, e.actor, e.origin) for e in changes] == [
        ("alert.acknowledged", f"alert {alert.id} (ended_early)",
         "Teams user Sam Ops (aad 6a1c0e5e-0000-4000-8000-000000000001)",
         "Teams team Data Platform / channel 19:ops-channel@thread.tacv2"),
        ("subscription.added", IMPORT, "Teams user Sam Ops (aad 6a1c0e5e-0000-4000-8000-000000000001)",
         "Teams team Data Platform / channel 19:ops-channel@thread.tacv2")]


async def test_a_snoozed_alert_quiets_the_next_nights_repeat_and_its_card_turns_to_recovered(
    night: Night,
) -> None:
    await night.say("subscribe nightly-product-import")
    night.clock.now = berlin(24, 12)  # defined again: no catching up on the nights before
    await night.teams.api.put(f"/v1/jobs/{IMPORT}", DEFINITION)
    await night.at(berlin(25, 0, 40))  # the 25th: no start
    async with AsyncSession(night.teams.api.engine) as session:
        [alert] = (await session.exec(select(Alert))).all()
    card = await card_id(night, OPS)
    night.clock.now = berlin(25, 7)
    click = night.teams.channel_message("", message_id="1732520000123")
    click.update(replyToId=card, value={"opentrace": "snooze", "alert": alert.id,
                                        "for": "tomorrow"})
    await night.teams.post(click)

    await night.at(berlin(26, 0, 40))  # the 26th: no start again, while snoozed until 09:00
    posts_while_snoozed = [p["text"] for _, p in night.posts]
    await night.report(normal_night(27, 40), berlin(27, 2))

    async with AsyncSession(night.teams.api.engine) as session:
        alerts = (await session.exec(select(Alert).order_by(Alert.id))).all()  # type: ignore[arg-type]
    assert [a.kind for a in alerts] == ["did_not_start", "did_not_start"]  # both recorded
    assert posts_while_snoozed == ["⚠ Nightly product import was due to start at Wed 25 Nov "
                                   "00:10 and has not started (30 min allowed)."]
    assert [p["text"] for _, p in night.posts] == posts_while_snoozed  # no card posted again
    assert [a.state for a in alerts] == ["resolved", "resolved"]
    async with AsyncSession(night.teams.api.engine) as session:
        [snoozed] = await audit_entries(action="alert.snoozed", session=session)
    assert snoozed.details["for"] == "tomorrow"
    assert snoozed.details["until"] == "2026-11-26T09:00:00+01:00"
    [(when, recovery)] = night.updates  # the recovery updates the card where the alert was said
    assert when == berlin(27, 2) and recovery.path.endswith(f"/activities/{card}")
    assert recovery.body["text"] == ("Recovered — Nightly product import: A later run "
                                     "(2026-11-27) finished successfully.")
    now = night.card(card)
    assert now[:2] == ["✓ Recovered · Did not start",
                       "✓ Acknowledged by Sam Ops at 07:00; repeats snoozed until Thu 09:00"]
    assert "A later run (2026-11-27) finished successfully." in now
    assert "actions" not in recovery.body["attachments"][0]["content"]


async def test_subscriptions_can_be_listed_and_dropped(night: Night) -> None:
    await night.say("subscribe nightly-product-import")

    listed = await night.say("subscriptions")
    dropped = await night.say("unsubscribe nightly-product-import")
    unknown = await night.say("subscribe the-moon")
    after = await night.say("subscriptions")

    assert listed == "This conversation gets alerts for: nightly-product-import."
    assert dropped == "This conversation no longer gets the alerts of Nightly product import."
    assert unknown.startswith("I don't know a job called 'the-moon'.")
    assert after.startswith("This conversation has no subscriptions")
