"""Every alert card the bot can post parses and validates in the Adaptive Cards renderer."""

from datetime import datetime
from zoneinfo import ZoneInfo

from bot import cards
from tests.bot.test_cards import failed_run, seed_story, validate_cards

SINCE = datetime(2026, 11, 25, 6, 0, tzinfo=ZoneInfo("Europe/Berlin"))
ALERT_CARDS = {
    "ended early, with the run": cards.alert_card(
        7, "ended_early", "Nightly product import ended after 'file-read' without reaching "
        "'report-published' (finished partial).", SINCE, "Nightly product import", seed_story()),
    "did not start, no run": cards.alert_card(
        8, "did_not_start", "Nightly product import was due to start at Wed 25 Nov 00:10 and has "
        "not started (30 min allowed).", SINCE, "Nightly product import", None),
    "failed, acknowledged": cards.alert_card(
        9, "failed", "price-import failed: ValueError.", SINCE, "price-import", failed_run(),
        acknowledged="Acknowledged by Dana Ops at 07:12"),
    "recovered": cards.recovery_card(
        "milestone_missed", "'report-published' was due by 06:00 and has not been reached.",
        "A later run (2026-11-26) finished successfully.", "Nightly product import"),
}


def test_every_alert_card_validates() -> None:
    assert validate_cards(ALERT_CARDS) == {name: [] for name in ALERT_CARDS}


def test_an_open_alert_offers_acknowledge_and_snooze_and_an_acknowledged_one_does_not() -> None:
    open_card = ALERT_CARDS["ended early, with the run"]
    acknowledged = ALERT_CARDS["failed, acknowledged"]

    assert [a["title"] for a in open_card["actions"]] == [
        "Acknowledge", "Snooze 1 h", "Snooze until tomorrow"]
    assert open_card["actions"][0]["data"] == {"opentrace": "acknowledge", "alert": 7}
    assert "actions" not in acknowledged
    banner = acknowledged["body"][1]["inlines"][0]["text"]
    assert banner == "✓ Acknowledged by Dana Ops at 07:12"


def test_an_alert_card_says_what_is_wrong_and_since_when() -> None:
    card = ALERT_CARDS["did not start, no run"]

    assert card["body"][0]["inlines"][0]["text"] == "⚠ Did not start · since Wed 25 Nov 06:00"
