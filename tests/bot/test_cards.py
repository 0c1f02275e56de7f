"""Every card the bot can send is valid for the Adaptive Cards renderer and says what it should.

Validity is checked by the renderer's own object model (npm `adaptivecards`, in tests/node) through
`validate_card.js`: all cards go to one node process per test session. Without node or the package
the validity tests are skipped, except under CI=true where they fail."""

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from alerts.baselines import Usual
from alerts.wording import date_time, duration, number
from bot.cards import (
    CARD_BUDGET,
    HEADLINE_CHARS,
    MAX_JOBS,
    MAX_METRICS,
    MAX_MILESTONES,
    MAX_NOTES,
    NOTE_CHARS,
    PATH_CHARS,
    TEAMS_MAX_BYTES,
    card_bytes,
    choices_card,
    jobs_card,
    run_card,
    text_card,
)
from bot.facts import JobLine, MetricFact, MilestoneFact, NoteFact, ProgressFact, RunFacts

NODE_TOOLS = Path(__file__).parents[1] / "node"
VALIDATOR = Path(__file__).with_name("validate_card.js")
BERLIN = ZoneInfo("Europe/Berlin")
MISSING_PACKAGE = 3  # validate_card.js exit status when adaptivecards cannot be loaded

Card = dict[str, Any]
WIDE = "取込🚚" * 500  # JSON escapes these to 6 and 12 bytes a character


def at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=BERLIN)


# ---------------------------------------------------------------- realistic facts


def seed_story() -> RunFacts:
    """The import that finished 'partial' after file-read with far more skipped rows than usual."""
    return RunFacts(
        job="nightly-product-import", title="Nightly product import", run="2026-11-25T00:12",
        status="partial", started_at=at(25, 0, 12), finished_at=at(25, 0, 34),
        duration_seconds=22 * 60, usual_duration_seconds=100 * 60,
        milestones=[
            MilestoneFact("file-read", "reached", at(25, 0, 13), "120,000 lines"),
            MilestoneFact("products-matched", "missing"),
            MilestoneFact("report-published", "missing"),
        ],
        metrics=[
            MetricFact("rows_read", 120_000, "rows", Usual(118_500, 112_000, 125_000, 20)),
            MetricFact("rows_skipped", 8_911, None, Usual(40, 30, 50, 20), unusual=True),
        ],
        notes=[NoteFact("warning", "unknown column 'EAN13'", at(25, 0, 13))],
        inputs=["/data/supplier/products-2026-11-25.csv"],
        summary="stopped after file-read: too many rows skipped",
    )


def running_run() -> RunFacts:
    return RunFacts(
        job="nightly-product-import", title="Nightly product import", run="2026-11-26T00:12",
        status="running", started_at=at(26, 0, 12), finished_at=None,
        duration_seconds=31 * 60, usual_duration_seconds=100 * 60,
        milestones=[MilestoneFact("file-read", "reached", at(26, 0, 13))],
        metrics=[MetricFact("rows_read", 45_000, "rows", Usual(118_500, 112_000, 125_000, 20))],
        progress=ProgressFact(done=45_000, total=120_000, unit="rows", stage="matching",
                              at=at(26, 0, 43), eta=at(26, 1, 55)),
    )


def succeeded_run() -> RunFacts:
    return RunFacts(
        job="daily-price-export", title="Daily price export", run="8f2c",
        status="succeeded", started_at=at(24, 23, 50), finished_at=at(25, 1, 31),
        duration_seconds=101 * 60, usual_duration_seconds=98 * 60,
        milestones=[MilestoneFact("prices-loaded", "reached", at(24, 23, 55)),
                    MilestoneFact("archive-cleaned", "skipped", text="nothing older than 30 days"),
                    MilestoneFact("export-written", "reached", at(25, 1, 30))],
        metrics=[MetricFact("prices_exported", 312_440.0, None, Usual(310_000, 300_500, 318_000, 30)),
                 MetricFact("avg_price", 12.500000, "EUR", Usual(12.4, 12.1, 12.9, 30)),
                 MetricFact("discounted_share", 7.25, "%", Usual(7, 7, 7, 30))],
        notes=[NoteFact("info", "wrote 3 files", at(25, 1, 30))],
        inputs=["postgres://erp/prices"],
        outputs=["/exports/prices-2026-11-25.csv", "/exports/prices-2026-11-25.json"],
    )


def failed_run() -> RunFacts:
    trace = "Traceback (most recent call last):\n  File \"load.py\", line 42\nConnectionError: refused"
    return RunFacts(
        job="crm-sync", title="CRM sync", run="c-991", status="failed",
        started_at=at(25, 6, 0), finished_at=at(25, 6, 2),
        duration_seconds=95, usual_duration_seconds=14 * 60,
        milestones=[MilestoneFact("connected", "failed", at(25, 6, 2), "connection refused"),
                    MilestoneFact("contacts-synced", "missing")],
        notes=[NoteFact("error", trace, at(25, 6, 2))],
        summary="could not reach the CRM",
    )


def first_run_ever() -> RunFacts:
    return RunFacts(
        job="new-job", title="Brand new job", run="1", status="succeeded",
        started_at=at(25, 3, 0), finished_at=at(25, 3, 0), duration_seconds=12,
        usual_duration_seconds=None,
        metrics=[MetricFact("items", 3, None)],
    )


def huge_run() -> RunFacts:
    """Too much of everything: a long title, 40 milestones, 50 metrics, 30 notes of 4,000 characters."""
    return RunFacts(
        job="nightly-product-import", title="Nightly product import for every supplier we have " * 8,
        run="2026-11-25T00:00", status="partial", started_at=at(25, 0, 0), finished_at=at(26, 2, 0),
        duration_seconds=26 * 3600, usual_duration_seconds=3600,
        milestones=[MilestoneFact(f"step-{i}", "reached", at(25, 1, i)) if i % 3
                    else MilestoneFact(f"step-{i}", "missing") for i in range(40)],
        metrics=[MetricFact(f"metric_{i}", i * 1_000_003.5, "rows", Usual(i + 1, i, i + 2, 20),
                            unusual=i % 7 == 0) for i in range(50)],
        notes=[NoteFact(("error", "warning", "info")[i % 3], f"note {i} " + "word " * 800, at(25, 1, i))
               for i in range(30)],
        inputs=[f"/data/supplier/{i}/products-2026-11-25.csv" for i in range(20)],
        outputs=[f"/reports/{i}.pdf" for i in range(20)],
        summary="stopped early " * 100,
    )


def monster_run() -> RunFacts:
    """Every string at its longest, in scripts that JSON escapes to 6 or 12 bytes a character."""
    wide = WIDE * 4
    return RunFacts(
        job=wide, title=wide, run=wide, status="failed", started_at=at(25, 0, 0), finished_at=None,
        duration_seconds=None, usual_duration_seconds=None,
        milestones=[MilestoneFact(wide, "failed", at(25, 1, 0), wide) for _ in range(40)],
        metrics=[MetricFact(wide, 1.5, wide, Usual(1, 0, 2, 3), unusual=True) for _ in range(50)],
        notes=[NoteFact("error", wide, at(25, 1, 0)) for _ in range(30)],
        inputs=[wide] * 20, outputs=[wide] * 20, summary=wide,
    )


def job_lines() -> list[JobLine]:
    return [
        JobLine("nightly-product-import", "Nightly product import", "partial", at(25, 0, 12),
                at(25, 0, 34), "stopped after 'file-read'; 8,911 rows skipped (usually about 40)"),
        JobLine("daily-price-export", "Daily price export", "succeeded", at(24, 23, 50), at(25, 1, 31),
                "late: usually runs every 24 h"),
        JobLine("crm-sync", "CRM sync", "failed", at(25, 6, 0), at(25, 6, 2), "connection refused"),
        JobLine("stock-refresh", "Stock refresh", "running", at(25, 9, 0), None),
        JobLine("weekly_cleanup", "weekly_cleanup *beta*", "cancelled", at(22, 4, 0), at(22, 4, 1),
                "cancelled by an operator"),
        JobLine("new-job", "Brand new job", "unknown", None, None),
        JobLine("backup", "backup", "succeeded", at(25, 2, 0), at(25, 2, 5)),
    ]


def many_job_lines() -> list[JobLine]:
    return [JobLine(f"job-{i}", f"Job number {i} " + "long " * 50, ("succeeded", "failed", "running")[i % 3],
                    at(25, 1, i % 60), at(25, 2, i % 60), "problem " * 100 if i % 3 == 1 else None)
            for i in range(200)]


HELP = """I answer questions about your batch jobs, for example:

• did the import run today?
• why did the crm sync fail?
• how many rows were skipped last night — is that normal?
• status of everything"""

CARDS: dict[str, Card] = {
    "seed story (partial)": run_card(
        "No — today's import started at 00:12 but stopped after 'file-read' and produced no report.",
        seed_story()),
    "running with progress": run_card("Yes, it's still running: 45,000 of 120,000 rows.", running_run()),
    "succeeded": run_card("Yes — the price export finished at 01:31.", succeeded_run()),
    "failed with error note": run_card("No — the CRM sync failed at 06:02: connection refused.",
                                       failed_run()),
    "no history yet": run_card("Yes — it ran at 03:00, its first run.", first_run_ever()),
    "huge inputs": run_card("A headline " * 200, huge_run()),
    "every string at its longest": run_card(WIDE, monster_run()),
    "markdown in data": run_card("rows_skipped is *high* [see](http://x) {{DATE(2026-11-25T00:12:00Z)}}",
                                 replace(seed_story(), title="weekly_cleanup **beta**")),
    "jobs, mixed states": jobs_card("2 of 6 jobs need attention: the import and the CRM sync.", job_lines()),
    "jobs, none yet": jobs_card("I don't know any jobs yet.", []),
    "jobs, 200 of them": jobs_card("67 of 200 jobs failed.", many_job_lines()),
    "jobs, long non-ASCII": jobs_card(WIDE, [JobLine(WIDE, WIDE, "failed", at(25, 0, 0), None, WIDE)] * 30),
    "help": text_card("What I can answer", HELP),
    "unknown job": text_card("I don't know that job", "I know no job called 'foo_bar_baz*'.\n\n" + HELP),
    "long non-ASCII text": text_card(WIDE, (WIDE + "\n") * 100),
    "did you mean": choices_card("Did you mean…?", "I'm not sure what 'sharepoint' means for "
                                 "nightly_product_import.", ["did the import run today?",
                                                             "what happened to the import?",
                                                             "what did the import produce?",
                                                             "a fourth reading is left out"]),
}

# Deliberately broken cards and what the validator must say about each.
BROKEN: dict[str, tuple[Card, str]] = {
    "broken: unknown element": (
        {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "Sparkline", "values": [1, 2]}]},
        "UnknownElementType"),
    "broken: bad colour": (
        {"type": "AdaptiveCard", "version": "1.5",
         "body": [{"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": "x", "color": "red"}]}]},
        'Invalid value "red" for property "color"'),
    "broken: misspelt property": (
        {"type": "AdaptiveCard", "version": "1.5",
         "body": [{"type": "RichTextBlock",
                   "inlines": [{"type": "TextRun", "text": "x", "colour": "good"}]}]},
        "$.body[0].inlines[0].colour"),
    "broken: newer version": (
        {"type": "AdaptiveCard", "version": "1.6", "body": []}, "UnsupportedCardVersion"),
    "broken: 1.6 element": (
        {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "Carousel", "pages": []}]},
        'Unknown element type "Carousel"'),
    "broken: Table in a 1.4 card": (
        {"type": "AdaptiveCard", "version": "1.4", "body": [{"type": "Table", "columns": [{"width": 1}]}]},
        'Unknown element type "Table"'),
    "broken: 1.6 property": (
        {"type": "AdaptiveCard", "version": "1.5",
         "body": [{"type": "Image", "url": "https://example.com/a.png", "forceLoad": True}]},
        "UnsupportedProperty"),
    "broken: no version": ({"type": "AdaptiveCard", "body": []}, "Card/MissingVersion"),
    "broken: no type": ({"version": "1.5", "body": []}, "Card/MissingCardType"),
}


# ---------------------------------------------------------------- the validator


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; the card validator is required under CI=true")
    pytest.skip(reason)


def validate_cards(cards: dict[str, Card]) -> dict[str, list[str]]:
    """Problems per card name, from one node process running validate_card.js. Skips (fails under
    CI=true) when node or the adaptivecards package is missing. Usable by any test with cards."""
    node = shutil.which("node")
    if node is None:
        _unavailable("node is not on PATH")
    assert node is not None
    if not (NODE_TOOLS / "node_modules" / "adaptivecards" / "package.json").exists():
        _unavailable("npm package adaptivecards is missing: run npm ci --prefix tests/node")
    lines = "".join(json.dumps({"name": name, "card": card}) + "\n" for name, card in cards.items())
    done = subprocess.run([node, str(VALIDATOR)], input=lines, capture_output=True, text=True,
                          timeout=60, check=False)
    if done.returncode == MISSING_PACKAGE:
        _unavailable(done.stderr.strip())
    assert done.returncode == 0, done.stderr
    header, *results = (json.loads(line) for line in done.stdout.splitlines())
    assert header["adaptivecards"].startswith("3.")
    return {result["name"]: result["problems"] for result in results}


@pytest.fixture(scope="session")
def problems() -> dict[str, list[str]]:
    """Validation problems of every card in CARDS and BROKEN, checked in a single node call."""
    return validate_cards({**CARDS, **{name: card for name, (card, _) in BROKEN.items()}})


@pytest.mark.parametrize("name", CARDS)
def test_every_card_parses_and_validates_without_a_single_event(name: str,
                                                                 problems: dict[str, list[str]]) -> None:
    assert problems[name] == []


@pytest.mark.parametrize("name", BROKEN)
def test_the_validator_reports_a_broken_card(name: str, problems: dict[str, list[str]]) -> None:
    expected = BROKEN[name][1]
    assert any(expected in problem for problem in problems[name]), problems[name]


# ---------------------------------------------------------------- size and safety


@pytest.mark.parametrize("name", CARDS)
def test_every_card_fits_in_a_teams_message(name: str) -> None:
    assert card_bytes(CARDS[name]) < TEAMS_MAX_BYTES


@pytest.mark.parametrize("name", CARDS)
def test_every_card_leaves_room_in_the_message_for_the_answer_text(name: str) -> None:
    assert card_bytes(CARDS[name]) <= CARD_BUDGET <= TEAMS_MAX_BYTES - 8_000


@pytest.mark.parametrize("name", CARDS)
def test_cards_are_schema_1_5_and_hold_text_only_in_text_runs(name: str) -> None:
    card = CARDS[name]
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert card["version"] == "1.5"
    assert not {"TextBlock", "FactSet"} & set(types(card)), "these render Markdown"
    assert all(texts(card)), "a run without text renders nothing"


def test_did_you_mean_offers_at_most_three_readings_that_teams_sends_back_as_questions() -> None:
    actions = CARDS["did you mean"]["actions"]

    assert [a["type"] for a in actions] == ["Action.Submit"] * 3
    assert actions[0]["data"] == {
        "msteams": {"type": "imBack", "value": "did the import run today?"}}
    assert [a["title"] for a in actions] == [a["data"]["msteams"]["value"] for a in actions]


def test_markdown_and_date_functions_in_data_stay_literal() -> None:
    text = "\n".join(paragraphs(CARDS["markdown in data"]))
    assert "weekly_cleanup **beta**" in text
    assert "rows_skipped is *high* [see](http://x)" in text
    assert "{{DATE(" not in text and "{\u200b{DATE(2026-11-25T00:12:00Z)}}" in text
    assert "I know no job called 'foo_bar_baz*'." in paragraphs(CARDS["unknown job"])


# ---------------------------------------------------------------- what the cards say


def test_seed_story_card_shows_the_run_at_a_glance() -> None:
    card = CARDS["seed story (partial)"]
    lines = paragraphs(card)
    assert "◐ Partial" in lines and badge_style(card) == "warning"
    assert lines[3] == ("No — today's import started at 00:12 but stopped after 'file-read' "
                        "and produced no report.")
    assert "Started Wed 25 Nov 00:12 · finished 00:34 · took 22 min, usually 1 h 40 min" in lines
    assert "✓ 00:13 file-read — 120,000 lines" in lines
    assert "○ products-matched — not reached (usually is)" in lines
    assert "○ report-published — not reached (usually is)" in lines
    assert ["rows skipped", "8,911 ↑", "~40 (30–50)"] in table(card)
    assert ["rows read", "120,000 rows", "~118,500 (112,000–125,000)"] in table(card)
    assert run_with_text(card, "8,911 ↑")["color"] == "attention"
    assert "⚠ 00:13 unknown column 'EAN13'" in lines
    assert "Read /data/supplier/products-2026-11-25.csv" in lines
    assert "Produced no output" in lines
    assert "Times in Europe/Berlin" in lines


def test_running_card_shows_progress_and_eta() -> None:
    lines = paragraphs(CARDS["running with progress"])
    assert "▶ Running" in lines
    assert ("████░░░░░░ 38% · 45,000 rows of 120,000 rows · stage matching · done around 01:55 "
            "(as of 00:43)") in lines
    assert "Started Thu 26 Nov 00:12 · running for 31 min, usually 1 h 40 min" in lines
    assert not any(line.startswith("Produced") for line in lines)


def test_succeeded_card_trims_numbers_and_keeps_units() -> None:
    card = CARDS["succeeded"]
    assert ["avg price", "12.5 EUR", "~12.4 (12.1–12.9)"] in table(card)
    assert ["discounted share", "7.25%", "~7"] in table(card)
    assert "– archive-cleaned — skipped — nothing older than 30 days" in paragraphs(card)
    assert "✓ Wed 25 Nov 01:30 export-written" in paragraphs(card)
    assert "Started Tue 24 Nov 23:50 · finished Wed 25 Nov 01:31 · took 1 h 41 min, usually 1 h 38 min" \
        in paragraphs(card)
    assert "Produced /exports/prices-2026-11-25.json" in paragraphs(card)


def test_failed_card_shows_the_error_on_one_line() -> None:
    card = CARDS["failed with error note"]
    assert badge_style(card) == "attention"
    assert "✗ 06:02 connected — connection refused" in paragraphs(card)
    assert ('✗ 06:02 Traceback (most recent call last): File "load.py", line 42 ConnectionError: refused'
            in paragraphs(card))
    assert run_with_text(card, "2 min")["color"] == "warning"


def test_card_without_history_has_no_usual_column() -> None:
    card = CARDS["no history yet"]
    assert table(card) == [["Metric", "This run"], ["items", "3"]]
    assert "Started Wed 25 Nov 03:00 · finished 03:00 · took 12 s" in paragraphs(card)


def test_huge_run_is_capped_with_the_important_entries_kept() -> None:
    card = CARDS["huge inputs"]
    lines = paragraphs(card)
    metric_rows = table(card)[1:]
    assert len(metric_rows) == MAX_METRICS
    assert [row[1] for row in metric_rows if row[1].endswith("↑")] == [  # every unusual one
        f"{number(i * 1_000_003.5)} rows ↑" for i in range(7, 50, 7)]
    assert "and 38 more metrics" in lines
    milestones = [line for line in lines if line.startswith(("✓", "○"))]
    assert len(milestones) == MAX_MILESTONES
    assert sum(line.startswith("○") for line in milestones) == 12  # 14 missing, 12 fit
    assert "and 28 more milestones" in lines
    notes = [line for line in lines if line.startswith(("✗", "⚠", "ℹ"))]
    assert len(notes) == MAX_NOTES and all(line.startswith("✗ ") for line in notes)  # errors first
    assert all(len(line) < NOTE_CHARS + 10 and line.endswith("…") for line in notes)
    assert "and 25 more notes" in lines
    assert "and 15 more files" in lines
    assert max(len(text) for text in texts(card)) <= HEADLINE_CHARS


def test_cards_too_big_for_the_budget_shorten_their_lists_but_keep_the_essentials() -> None:
    card = CARDS["every string at its longest"]
    assert badge_style(card) == "attention"
    assert any(line.startswith("and ") and line.endswith(" more metrics") for line in paragraphs(card))
    assert len(table(card)) >= 2 and any(line.startswith("✗ 01:00 ") for line in paragraphs(card))


def test_long_paths_are_cut_in_the_middle_so_the_file_name_stays() -> None:
    long = replace(seed_story(), inputs=["/data/" + "deep/" * 60 + "products-2026-11-25.csv"])
    line = next(line for line in paragraphs(run_card("x", long)) if line.startswith("Read "))
    assert line.startswith("Read /data/deep/") and line.endswith("/products-2026-11-25.csv") and "…" in line
    assert len(line) == len("Read ") + PATH_CHARS


def test_jobs_card_has_a_row_per_job_with_state_and_problem() -> None:
    lines = paragraphs(CARDS["jobs, mixed states"])
    assert "✗ 1 failed · ◐ 1 partial · ■ 1 cancelled · ▶ 1 running · ✓ 2 succeeded · ? 1 unknown" in lines
    assert "Nightly product import · nightly-product-import" in lines
    assert "Last started Wed 25 Nov 00:12 · finished 00:34" in lines
    assert "stopped after 'file-read'; 8,911 rows skipped (usually about 40)" in lines
    assert "Last started Tue 24 Nov 23:50 · finished Wed 25 Nov 01:31" in lines
    assert run_with_text(CARDS["jobs, mixed states"], "late: usually runs every 24 h")["color"] == "warning"
    assert run_with_text(CARDS["jobs, mixed states"], "connection refused")["color"] == "attention"
    assert "Never ran" in lines
    assert "weekly_cleanup *beta* · weekly_cleanup" in lines
    assert "backup" in lines  # the title alone when it is the slug


def test_jobs_card_caps_rows_and_keeps_failures() -> None:
    card = CARDS["jobs, 200 of them"]
    assert sum(line.startswith("Job number") for line in paragraphs(card)) == MAX_JOBS
    assert sum(line == "✗ Failed" for line in paragraphs(card)) == MAX_JOBS
    assert "and 185 more (67 succeeded, 66 running, 52 failed)" in paragraphs(card)


def test_text_card_keeps_lines_as_plain_paragraphs() -> None:
    lines = paragraphs(CARDS["help"])
    assert lines == ["What I can answer", "I answer questions about your batch jobs, for example:",
                     "• did the import run today?", "• why did the crm sync fail?",
                     "• how many rows were skipped last night — is that normal?", "• status of everything"]


@pytest.mark.parametrize(("value", "text"), [
    (8911, "8,911"), (8911.0, "8,911"), (12.500000, "12.5"), (1_234_567.891, "1,234,567.89"),
    (0, "0"), (-0.001, "-0.001"), (0.00042, "0.00042"), (-1500.25, "-1,500.25"), (0.999, "1"),
    (-0.0001, "-0.0001"), (float("nan"), "nan"),
])
def test_numbers_have_thousands_separators_and_no_trailing_zeros(value: float, text: str) -> None:
    assert number(value) == text


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0 s"), (45, "45 s"), (59.4, "59 s"), (59.6, "1 min"), (1320, "22 min"), (3599, "1 h"),
    (6000, "1 h 40 min"), (7200, "2 h"), (26 * 3600 + 300, "26 h 5 min"),
])
def test_durations_read_like_people_say_them(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_times_are_english_in_their_own_zone_whatever_the_locale() -> None:
    tokyo = at(25, 0, 12).astimezone(ZoneInfo("Asia/Tokyo"))
    assert date_time(tokyo) == "Wed 25 Nov 08:12"
    assert date_time(at(25, 0, 34), same_day_as=at(25, 0, 12)) == "00:34"
    assert date_time(at(26, 0, 34), same_day_as=at(25, 23, 12)) == "Thu 26 Nov 00:34"
    assert date_time(at(25, 0, 12) + timedelta(days=4)) == "Sun 29 Nov 00:12"


# ---------------------------------------------------------------- reading cards back


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def types(card: Card) -> list[str]:
    return [node["type"] for node in walk(card) if "type" in node]


def texts(card: Card) -> list[str]:
    return [node["text"] for node in walk(card) if node.get("type") == "TextRun"]


def paragraphs(card: Card) -> list[str]:
    """The text of every RichTextBlock, its runs joined."""
    return ["".join(run["text"] for run in node["inlines"])
            for node in walk(card) if node.get("type") == "RichTextBlock"]


def table(card: Card) -> list[list[str]]:
    return [["".join(paragraphs(cell)) for cell in node["cells"]]
            for node in walk(card) if node.get("type") == "TableRow"]


def runs_coloured(card: Card, colour: str) -> list[dict[str, Any]]:
    return [node for node in walk(card) if node.get("type") == "TextRun" and node.get("color") == colour]


def run_with_text(card: Card, text: str) -> dict[str, Any]:
    return next(node for node in walk(card) if node.get("type") == "TextRun" and node["text"] == text)


def badge_style(card: Card) -> str:
    header = card["body"][0]
    return str(header["columns"][1]["style"])
