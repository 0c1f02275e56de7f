"""The seed's own question: the import says "succeeded", but it skipped 8,911 rows and exited
after 'file-read'. What the watcher judged — ended early, a value far from usual, a milestone
missed — decides the first sentence, the badge and every list, through /api/messages."""

from typing import Any

from tests.alerts.test_watcher import berlin
from tests.bot import test_teams_alerts
from tests.bot.connector import ADAPTIVE_CARD
from tests.bot.story import normal_night, the_bad_night
from tests.bot.test_teams_alerts import Night, text_runs

night = test_teams_alerts.night  # the fixture: a channel with the bot, the import defined


def the_night_it_said_succeeded() -> list[dict[str, Any]]:
    """The bad night as the seed tells it: the job's own last word is "succeeded"."""
    events = the_bad_night()
    events[-1] = {**events[-1], "status": "succeeded", "text": "done"}
    return events


async def reply_to(night: Night, question: str) -> tuple[str, dict[str, Any]]:
    before = len(night.teams.connector.calls)
    await night.say(question)
    [reply] = [c.activity for c in night.teams.connector.calls[before:]
               if c.method == "POST" and c.activity.get("type") == "message"]
    cards = [a["content"] for a in reply.get("attachments", []) if a["contentType"] == ADAPTIVE_CARD]
    return str(reply["text"]), (cards[0] if cards else {})


def badge(card: dict[str, Any]) -> str:
    """The first state badge on the card, as people read it ("⚠ Ended early")."""
    badges = [text for text in text_runs(card.get("body", [])) if text[:1] in "✓⚠✗◐■▶?"]
    return badges[0] if badges else ""


async def tell(night: Night) -> None:
    for day, skipped in zip(range(18, 25), [41, 38, 45, 30, 50, 36, 42], strict=True):
        await night.report(normal_night(day, skipped), berlin(day, 2))
        await night.at(berlin(day, 6, 1))
    await night.report(the_night_it_said_succeeded(), berlin(25, 0, 32))
    await night.at(berlin(25, 6, 0))
    night.clock.now = berlin(25, 8, 30)


async def test_a_run_that_said_succeeded_but_ended_early_is_answered_no(night: Night) -> None:
    await tell(night)

    text, card = await reply_to(night, "Has the import run today?")

    first = text.split("\n")[0]
    assert first.startswith("No — today's Nightly product import started at 00:12 but stopped "
                            "early after 'file-read' and did not reach"), first
    assert "successful" not in text.lower()
    assert "'report-published' was due at 06:00" in first  # the open alert, in the same sentence
    assert badge(card) == "⚠ Ended early"


async def test_lists_and_lateness_agree_with_the_open_alerts(night: Night) -> None:
    await tell(night)

    late, _ = await reply_to(night, "is anything late?")
    everything, card = await reply_to(night, "status of everything")

    assert late.startswith("Yes — late: Nightly product import (late: Nightly product import: "
                           "'report-published' was due by 06:00"), late
    assert "succeeded" not in everything.split("Nightly product import:")[1].split("\n")[0]
    assert "ended early" in everything
    assert "✓" not in badge(card)


async def test_the_last_run_is_named_by_its_judgement_when_the_day_has_none(night: Night) -> None:
    await tell(night)
    night.clock.now = berlin(26, 0, 5)  # the next night, before its run

    text, _ = await reply_to(night, "has the import run today?")

    assert text.startswith("No — Nightly product import has not run today."), text
    assert "Its last run started yesterday at 00:12 and ended early yesterday at 00:31." in text
    assert "successful" not in text.lower()
