"""Every incident card the bot can post or update parses and validates in the Adaptive Cards
renderer, and says what an ops person needs: what is wrong and since when, every alert of the
incident newest first, what was resolved, and the buttons only while something is open."""

from datetime import datetime
from zoneinfo import ZoneInfo

from bot import cards
from bot.cards import AlertLine, IncidentView
from tests.bot.test_cards import failed_run, seed_story, validate_cards
from tests.bot.test_teams_alerts import paragraphs

BERLIN = ZoneInfo("Europe/Berlin")
TITLE = "Nightly product import"
EARLY = "Nightly product import ended after 'file-read' without reaching 'report-published' " \
        "(finished partial)."


def berlin(hour: int, minute: int = 0, day: int = 25) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=BERLIN)


def the_bad_night(**changes: object) -> IncidentView:
    """The broken night's incident at 06:00: three alerts of one run, newest first."""
    view = IncidentView(
        1, TITLE, "ended_early", EARLY, berlin(0, 30), [
            AlertLine(berlin(6), "'report-published' was due by 06:00; the run had already "
                                 "ended without it.", repeat=True),
            AlertLine(berlin(0, 31), "Ended after 'file-read' without reaching 'report-published' "
                                     "(finished partial)."),
            AlertLine(berlin(0, 30), "8,911 rows skipped, usually 30–50."),
        ], alert_id=2)
    return IncidentView(**{**view.__dict__, **changes})  # type: ignore[arg-type]


RECOVERED = "A later run (2026-11-26) finished successfully."
ALERT_CARDS = {
    "one alert, with the run": cards.incident_card(IncidentView(
        7, TITLE, "ended_early", EARLY, berlin(0, 31),
        [AlertLine(berlin(0, 31), "Ended after 'file-read' without reaching 'report-published'.")],
        alert_id=7), seed_story()),
    "did not start, no run": cards.incident_card(IncidentView(
        8, TITLE, "did_not_start", "Nightly product import was due to start at Wed 25 Nov 00:10 "
        "and has not started (30 min allowed).", berlin(0, 10),
        [AlertLine(berlin(0, 40), "Was due to start at Wed 25 Nov 00:10 and has not started.")],
        alert_id=8), None),
    "failed, acknowledged": cards.incident_card(IncidentView(
        9, "price-import", "failed", "price-import failed: ValueError.", berlin(6),
        [AlertLine(berlin(6), "Failed: ValueError.")], alert_id=9,
        acknowledged="Acknowledged by Dana Ops at 07:12", actions=False), failed_run()),
    "three alerts of one run": cards.incident_card(the_bad_night(), seed_story()),
    "three alerts, one resolved": cards.incident_card(the_bad_night(lines=[
        AlertLine(berlin(6), "'report-published' was due by 06:00 and has not been reached.",
                  resolution="'report-published' was reached after all (run 2026-11-25)."),
        *the_bad_night().lines[1:]]), seed_story()),
    "recovered": cards.incident_card(the_bad_night(resolution=RECOVERED, lines=[
        AlertLine(line.at, line.text, RECOVERED, line.repeat) for line in the_bad_night().lines]),
        seed_story()),
    "recovered, no run": cards.incident_card(IncidentView(
        8, TITLE, "did_not_start", "Nightly product import was due to start at Wed 25 Nov 00:10 "
        "and has not started (30 min allowed).", berlin(0, 10),
        [AlertLine(berlin(0, 40), "Was due to start at Wed 25 Nov 00:10 and has not started.",
                   RECOVERED)], alert_id=8, resolution=RECOVERED), None),
}


texts = paragraphs


def test_every_alert_card_validates() -> None:
    assert validate_cards(ALERT_CARDS) == {name: [] for name in ALERT_CARDS}


def test_an_open_alert_offers_acknowledge_and_snooze_and_an_acknowledged_one_does_not() -> None:
    open_card = ALERT_CARDS["one alert, with the run"]
    acknowledged = ALERT_CARDS["failed, acknowledged"]

    assert [a["title"] for a in open_card["actions"]] == [
        "Acknowledge", "Snooze 1 h", "Snooze until tomorrow"]
    assert open_card["actions"][0]["data"] == {"opentrace": "acknowledge", "alert": 7}
    assert "actions" not in acknowledged
    banner = acknowledged["body"][1]["inlines"][0]["text"]
    assert banner == "✓ Acknowledged by Dana Ops at 07:12"


def test_an_alert_card_says_what_is_wrong_and_since_when() -> None:
    card = ALERT_CARDS["did not start, no run"]

    assert card["body"][0]["inlines"][0]["text"] == "⚠ Did not start · since Wed 25 Nov 00:10"
    assert "OpenTrace incident 8" in texts(card)


def test_a_single_alert_is_its_own_headline_without_a_list() -> None:
    card = texts(ALERT_CARDS["one alert, with the run"])

    assert card.count(EARLY) == 1 and "Ended after" not in " ".join(card)
    assert "Alerts, newest first" not in card


def test_an_incident_lists_every_alert_newest_first_under_the_newest_headline() -> None:
    card = ALERT_CARDS["three alerts of one run"]
    shown = texts(card)

    assert shown[0] == "⚠ Ended early · since Wed 25 Nov 00:30"  # the earliest alert's time
    assert EARLY in shown  # the headline: the newest alert that says something new
    assert section(card, "Alerts, newest first") == [
        "⚠ 06:00 'report-published' was due by 06:00; the run had already ended without it.",
        "⚠ 00:31 Ended after 'file-read' without reaching 'report-published' (finished partial).",
        "⚠ 00:30 8,911 rows skipped, usually 30–50."]
    started = next(i for i, text in enumerate(shown) if text.startswith("Started "))
    assert shown.index(EARLY) < started < shown.index("Alerts, newest first") < shown.index("Milestones")
    assert card["actions"][0]["data"] == {"opentrace": "acknowledge", "alert": 2}


def test_a_repeating_alert_is_shown_quieter() -> None:
    card = ALERT_CARDS["three alerts of one run"]
    [repeat] = [run for run in _runs(card["body"]) if "'report-published' was due" in str(run["text"])]

    assert repeat.get("isSubtle") is True


def test_each_resolved_alert_is_ticked_and_says_how_while_the_incident_stays_open() -> None:
    card = ALERT_CARDS["three alerts, one resolved"]
    shown = " ".join(texts(card))

    assert "✓ 06:00 'report-published' was due by 06:00 and has not been reached. — resolved: " \
           "'report-published' was reached after all (run 2026-11-25)." in shown
    assert "⚠ 00:31 Ended after" in shown
    assert shown.startswith("⚠ Ended early")
    assert "actions" in card


def test_a_recovered_incident_says_so_on_the_same_card_and_drops_the_buttons() -> None:
    for name in ("recovered", "recovered, no run"):
        card = ALERT_CARDS[name]
        shown = texts(card)

        assert shown[0].startswith("✓ Recovered · "), name
        assert RECOVERED in shown
        assert "— resolved: " not in " ".join(shown)  # the card says it once, not per line
        assert [text[0] for text in section(card, "Alerts, newest first")] \
            == ["✓"] * (3 if name == "recovered" else 1), name
        assert "actions" not in card


def section(card: cards.Element, title: str) -> list[str]:
    """The texts of the card's section headed `title`."""
    [found] = [block for block in card["body"] if block.get("type") == "Container"
               and texts(block["items"][0]) == [title]]
    return texts(found["items"][1:])


def _runs(node: object) -> list[dict[str, object]]:
    if isinstance(node, dict):
        own = [node] if node.get("type") == "TextRun" else []
        return own + [run for value in node.values() for run in _runs(value)]
    if isinstance(node, list):
        return [run for item in node for run in _runs(item)]
    return []
