"""One incident, one card, whatever happens on the way: the broken night's card is updated in
place as facts arrive and when the import recovers; an update the Bot Connector fails is
retried until it lands on the same card; a card someone deleted is posted anew and the new one
is updated from then on; a start that did not come and the late run that followed are one
card, whichever is found first. Through the real server and the stand-in Bot Connector."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.alerts import Alert, Delivery
from tests.alerts.test_watcher import berlin
from tests.bot.conftest import Heard
from tests.bot.connector import Connector
from tests.bot.story import NORMAL_SKIPPED, normal_night, the_bad_night
from tests.bot.test_teams_alerts import EARLY, OPS, SKIPPED, Night, card_id, the_story_begins
from tests.conftest import Clock


@pytest.fixture
async def night(database_url: str, clock: Clock, connector: Connector,
                overhear: Callable[[Any], Heard]) -> AsyncIterator[Night]:
    """The channel subscribed, after the seven normal nights (so 'far from usual' is judged)."""
    async for shown in the_story_begins(database_url, clock, connector, overhear):
        await shown.say("subscribe nightly-product-import")
        for day, skipped in zip(range(18, 25), NORMAL_SKIPPED, strict=True):
            await shown.report(normal_night(day, skipped), berlin(day, 2))
            await shown.at(berlin(day, 6, 1))
        assert shown.posts == []
        yield shown


def targets(night: Night) -> list[str]:
    """The activity each update went to, in order."""
    return [call.path.rsplit("/", 1)[1] for _, call in night.updates]


async def failing(night: Night) -> list[dict[str, Any]]:
    body = await night.teams.api.get_ok("/v1/alerts")
    return [d for a in body["alerts"] for d in a["deliveries"] if d["state"] != "sent"]


async def test_the_next_good_night_turns_the_same_card_to_recovered(night: Night) -> None:
    await night.report_as_it_happens(the_bad_night())
    await night.at(berlin(25, 6, 0))
    card = await card_id(night, OPS)

    await night.report(normal_night(26, 40), berlin(26, 2))

    assert [p["text"] for _, p in night.posts] == [SKIPPED]  # never a second card
    assert targets(night) == [card, card, card]  # ended early, the deadline, the recovery
    when, recovery = night.updates[-1]
    assert when == berlin(26, 2)
    assert recovery.body["text"] == ("Recovered — Nightly product import: A later run "
                                     "(2026-11-26) finished successfully.")
    now = night.card(card)
    assert now[0] == "✓ Recovered · Ended early"
    listed = now[now.index("Alerts, newest first") + 1:][:3]
    assert [line[:8] for line in listed] == ["✓ 06:00 ", "✓ 00:31 ", "✓ 00:30 "]
    assert "actions" not in recovery.body["attachments"][0]["content"]
    async with AsyncSession(night.teams.api.engine) as session:
        states = {a.state for a in (await session.exec(select(Alert))).all()}
    assert states == {"resolved"}


async def test_an_update_the_connector_fails_is_retried_and_lands_on_the_same_card(
    night: Night,
) -> None:
    *opening, end = the_bad_night()
    await night.report_as_it_happens(opening)  # the card, for the metric
    card = await card_id(night, OPS)
    # 503 Service Unavailable to the first PUT and to each of the HTTP stack's own 3 retries.
    night.teams.connector.script = ["503"] * 4

    await night.report([end], berlin(25, 0, 31))  # ended early: the update fails

    [pending] = await failing(night)
    assert (pending["event"], pending["state"], pending["attempts"]) == ("opened", "pending", 1)
    assert "too many 503 error responses" in pending["last_error"]
    assert targets(night) == [card] * 4
    night.clock.advance(seconds=31)  # past the first back-off
    await night.deliver()

    assert await failing(night) == []
    assert targets(night) == [card] * 5  # retried, on the same card
    assert [p["text"] for _, p in night.posts] == [SKIPPED]
    assert night.updates[-1][1].body["text"] == f"{EARLY} (+1 more on the card)"
    assert EARLY.removeprefix("⚠ ") in night.card(card)
    night.clock.advance(hours=2)
    await night.deliver()
    assert len(night.updates) == 5  # landed once, never sent again


async def test_a_card_someone_deleted_is_posted_anew_and_updated_from_then_on(night: Night) -> None:
    await night.report_as_it_happens(the_bad_night()[:-1])
    first = await card_id(night, OPS)
    night.teams.connector.deleted_by_user(first)

    await night.report(the_bad_night()[-1:], berlin(25, 0, 31))  # ended early: 404, then posted
    await night.at(berlin(25, 6, 0))

    assert [(when, p["text"]) for when, p in night.posts] == [
        (berlin(25, 0, 30), SKIPPED), (berlin(25, 0, 31), f"{EARLY} (+1 more on the card)")]
    assert await failing(night) == []
    async with AsyncSession(night.teams.api.engine) as session:
        cards = [(a.kind, d.activity_id) for a, d in (await session.exec(
            select(Alert, Delivery).join(Delivery, Delivery.alert_id == Alert.id)  # type: ignore[arg-type]
            .order_by(Alert.id))).all()]
    new = cards[1][1]
    assert cards == [("metric_out_of_range", first), ("ended_early", new), ("milestone_missed", new)]
    assert new != first and (OPS, first) not in night.teams.connector.activities  # still deleted
    # The refused update, then every later fact on the new card, which shows them all.
    assert targets(night) == [first, new]
    now = night.card(new)
    assert now[now.index("Alerts, newest first") + 1:][:3] == [
        "⚠ 06:00 'report-published' was due by 06:00; the run had already ended without it.",
        "⚠ 00:31 Ended after 'file-read' without reaching 'report-published' (finished partial).",
        "⚠ 00:30 8,911 rows skipped, usually 30–50."]


async def test_a_start_that_did_not_come_and_the_late_run_that_ended_early_are_one_card(
    night: Night,
) -> None:
    await night.at(berlin(25, 0, 40))  # no start: the card
    late = [{**e, "at": e["at"].replace("T00:", "T02:")} for e in the_bad_night()]
    await night.report_as_it_happens(late)  # starts at 02:12, ends early at 02:31
    await night.at(berlin(25, 6, 0))  # and misses its milestone

    [(when, posted)] = night.posts
    assert (when, posted["text"]) == (berlin(25, 0, 40), "⚠ Nightly product import was due to "
                                      "start at Wed 25 Nov 00:10 and has not started (30 min "
                                      "allowed).")
    card = await card_id(night, OPS)
    assert targets(night) == [card] * len(night.updates) and len(night.updates) == 3
    now = night.card(card)
    assert now[0] == "⚠ Ended early · since Wed 25 Nov 00:10"
    listed = now[now.index("Alerts, newest first") + 1:][:4]
    assert [line[:8] for line in listed] == ["⚠ 06:00 ", "⚠ 02:31 ", "⚠ 02:30 ", "⚠ 00:40 "]
    assert "Was due to start at Wed 25 Nov 00:10" in listed[-1]


async def test_acknowledging_the_card_acknowledges_every_alert_on_it_until_a_new_one_comes(
    night: Night,
) -> None:
    await night.report(the_bad_night(), berlin(25, 0, 32))  # ended early and far from usual
    card = await card_id(night, OPS)
    async with AsyncSession(night.teams.api.engine) as session:
        [metric] = (await session.exec(select(Alert).where(Alert.kind == "metric_out_of_range"))).all()
    night.clock.now = berlin(25, 5, 12)
    click = night.teams.channel_message("", message_id="1732520000099")
    click.update(replyToId=card, value={"opentrace": "acknowledge", "alert": metric.id})
    assert (await night.teams.post(click)).status in (200, 201)
    acknowledged = night.card(card)
    await night.at(berlin(25, 6, 0))  # a new fact for the card

    async with AsyncSession(night.teams.api.engine) as session:
        alerts = (await session.exec(select(Alert).order_by(Alert.id))).all()  # type: ignore[arg-type]
    assert [(a.kind, a.state, a.acknowledged_by) for a in alerts] == [
        ("ended_early", "acknowledged", "Sam Ops"),
        ("metric_out_of_range", "acknowledged", "Sam Ops"),
        ("milestone_missed", "open", None)]  # found after the click: not acknowledged
    assert "✓ Acknowledged by Sam Ops at 05:12" in acknowledged
    now = night.card(card)
    assert "✓ Acknowledged by Sam Ops at 05:12" in now
    assert now[now.index("Alerts, newest first") + 1].startswith("⚠ 06:00 'report-published' was due")
    [update] = [call for _, call in night.updates]
    actions = update.body["attachments"][0]["content"]["actions"]
    assert actions[0]["data"] == {"opentrace": "acknowledge", "alert": alerts[2].id}
