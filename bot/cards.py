"""Adaptive Cards (schema 1.5) built from answer facts: pure functions that return JSON-ready dicts.

Design choices:
- **No Markdown from data.** TextBlock and FactSet interpret a Markdown subset (and Teams renders
  it), so a job called `nightly_product_import` or a note saying `*.csv` would come out in italics
  or bold. Escaping is renderer-dependent (Teams desktop, mobile and Outlook parse differently), so
  instead every string here goes into a `TextRun` inside a `RichTextBlock`, which the schema defines
  as plain text ("Markdown is not supported"). The cards contain no TextBlock and no FactSet. The
  one other thing renderers expand in text runs, the `{{DATE(..)}}`/`{{TIME(..)}}` functions, is
  defused by breaking `{{` with a zero-width space.
- **Colour never alone.** A status is a coloured badge (good / accent / warning / attention) *and* a
  glyph and a word; an unusual metric is coloured *and* marked with an arrow.
- **Bounded size.** Teams refuses messages over about 28 KB (card, text and envelope together), so
  every list is capped (12 milestones, 12 metrics, 5 notes, 5 files, 15 jobs; the important
  entries win: failed and missing milestones, unusual metrics, errors before warnings, jobs with
  problems) with an "and N more" line, and every string is cut to a sane length (paths in the
  middle, so the file name stays). If a card still exceeds CARD_BUDGET (20 KB, measured as Bot
  Framework sends it, non-ASCII escaped: a CJK note costs 6 bytes a character) the lists are
  shortened further until it fits.
- **Plain words.** Metric names lose their underscores ("rows skipped"); the usual range reads
  "~40 (30\N{EN DASH}50)" under a "Usually" column; a missing milestone says "not reached (usually is)".
- **Times** are printed in the datetime's own zone (facts arrive already in the asker's zone), with
  English day and month names independent of the process locale: "Wed 25 Nov 00:12", or just
  "00:34" when it is the same day as the run's start. **Numbers** get thousands separators and
  lose trailing zeros ("8,911", "12.5").
- Cards use `"msteams": {"width": "Full"}` so the tables get the whole message width in Teams.
"""

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from alerts.wording import date_time, duration, number, usual_range
from bot.facts import JobLine, MetricFact, MilestoneFact, NoteFact, ProgressFact, RunFacts

Element = dict[str, Any]
T = TypeVar("T")

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
TEAMS_MAX_BYTES = 28_000  # Teams' limit for a whole message: card, text and envelope
CARD_BUDGET = 20_000  # bytes for the card, leaving room for the answer text
_SHRINK = (1, 2, 4, 15)  # list caps are divided by these, in turn, until the card fits

MAX_MILESTONES = 12
MAX_METRICS = 12
MAX_NOTES = 5
MAX_FILES = 5
MAX_JOBS = 15
MAX_BODY_LINES = 40

TITLE_CHARS = 120
NAME_CHARS = 60
HEADLINE_CHARS = 400
NOTE_CHARS = 300
DETAIL_CHARS = 120  # a milestone's text, a job's problem
PATH_CHARS = 120
BODY_CHARS = 4_000

# state -> (glyph, word, container style, text colour)
_STATES: dict[str, tuple[str, str, str, str]] = {
    "succeeded": ("✓", "Succeeded", "good", "good"),
    "running": ("▶", "Running", "accent", "accent"),
    "partial": ("◐", "Partial", "warning", "warning"),
    "cancelled": ("■", "Cancelled", "warning", "warning"),
    "failed": ("✗", "Failed", "attention", "attention"),
    # The watcher's judgements of runs that said "succeeded":
    "ended_early": ("⚠", "Ended early", "warning", "warning"),
    "unusual": ("⚠", "Far from usual", "warning", "warning"),
    "unknown": ("?", "Unknown", "emphasis", "default"),
}
_STATE_ORDER = ["failed", "ended_early", "partial", "unusual", "cancelled", "running", "succeeded", "unknown"]

# milestone status -> (glyph, colour, subtle)
_MILESTONES: dict[str, tuple[str, str, bool]] = {
    "reached": ("✓", "good", False),
    "failed": ("✗", "attention", False),
    "skipped": ("\N{EN DASH}", "default", True),
    "missing": ("○", "warning", False),
}

# note level -> (glyph, colour, priority when capping)
_NOTES: dict[str, tuple[str, str, int]] = {
    "error": ("✗", "attention", 0),
    "warning": ("⚠", "warning", 1),
    "info": ("\N{INFORMATION SOURCE}", "default", 2),
}

_WHITESPACE = re.compile(r"\s+")


# ---------------------------------------------------------------- public cards


def run_card(headline: str, facts: RunFacts) -> Element:
    """One run at a glance: header with status badge, the answer's first sentence, times and
    duration, progress, milestone timeline, metrics vs usual, notes, inputs and outputs."""
    return _fitting(lambda shrink: _run_body(headline, facts, shrink))


def jobs_card(headline: str, lines: list[JobLine]) -> Element:
    """'Status of everything': one row per job with its state badge, last start and finish and,
    when something is wrong, the problem in a few words."""
    return _fitting(lambda shrink: _jobs_body(headline, lines, shrink))


def text_card(title: str, body: str) -> Element:
    """A plain card for help and 'I can't answer that': `body` is plain text, one paragraph per
    line; blank lines add space. Nothing in it is read as Markdown."""
    return _fitting(lambda shrink: _text_body(title, body, shrink))


MAX_CHOICES = 3
CHOICE_CHARS = 200


def choices_card(title: str, body: str, questions: Sequence[str]) -> Element:
    """"Did you mean …?": what the engine understood (`body`) and up to three readings as
    buttons. Each button is an Action.Submit whose data Teams sends back as the question
    text (`imBack`), so pressing it asks that question as if typed."""
    card = text_card(title, body)
    actions = [{"type": "Action.Submit", "title": _clean(question, CHOICE_CHARS),
                "data": {"msteams": {"type": "imBack", "value": _clean(question, CHOICE_CHARS)}}}
               for question in list(dict.fromkeys(questions))[:MAX_CHOICES]]
    return {**card, "actions": actions} if actions else card


def stacked(parts: Sequence[Element]) -> Element | None:
    """Cards one below the other, as one card (the answers to two questions in one), or the
    first alone when both do not fit the budget."""
    if len(parts) < 2:
        return parts[0] if parts else None
    body = [element for index, part in enumerate(parts)
            for element in ([{"type": "Container", "separator": True, "spacing": "Large",
                              "items": part["body"]}] if index else part["body"])]
    card = {**_card(body), **({"actions": actions} if (actions := [
        a for part in parts for a in part.get("actions", [])][:MAX_CHOICES]) else {})}
    return card if card_bytes(card) <= CARD_BUDGET else parts[0]


def card_bytes(card: Element) -> int:
    """The card's size as Bot Framework sends it (JSON, non-ASCII escaped)."""
    return len(json.dumps(card).encode())


def _fitting(build: Callable[[int], list[Element]]) -> Element:
    """The card with the longest lists that fit CARD_BUDGET: `build(shrink)` divides its caps by
    `shrink`. Capped lists fit at once unless the text is mostly non-ASCII (6 bytes a character)."""
    for shrink in _SHRINK:
        card = _card(build(shrink))
        if card_bytes(card) <= CARD_BUDGET:
            break
    return card


def _cap(limit: int, shrink: int) -> int:
    return max(1, limit // shrink)


def _run_body(headline: str, facts: RunFacts, shrink: int) -> list[Element]:
    body: list[Element] = [
        _header(facts.title, f"{facts.job} · run {facts.run}", facts.state),
        _paragraph([_run(headline, HEADLINE_CHARS, size="medium", weight="bolder")]),
    ]
    if facts.summary and facts.summary.strip() != headline.strip():
        body.append(_paragraph([_run(facts.summary, NOTE_CHARS, subtle=True)], spacing="small"))
    body.append(_timing(facts))
    sections = [
        _progress_section(facts.progress, facts.started_at) if facts.status == "running" else None,
        _milestone_section(facts.milestones, facts.started_at, _cap(MAX_MILESTONES, shrink)),
        _metric_section(facts.metrics, _cap(MAX_METRICS, shrink)),
        _note_section(facts.notes, facts.started_at, _cap(MAX_NOTES, shrink)),
        _file_section(facts, _cap(MAX_FILES, shrink)),
    ]
    body.extend(section for section in sections if section is not None)
    body.append(_paragraph([_run(f"Times in {_zone_name(facts.started_at)}", size="small",
                                 subtle=True)]))
    return body


def _jobs_body(headline: str, lines: list[JobLine], shrink: int) -> list[Element]:
    body: list[Element] = [_paragraph([_run(headline, HEADLINE_CHARS, size="medium", weight="bolder")])]
    if lines:
        body.append(_paragraph(_state_counts(lines), spacing="small"))
    shown, hidden = _capped(lines, _cap(MAX_JOBS, shrink), _needs_attention)
    body.extend(_job_row(line) for line in shown)
    if hidden:
        counts = Counter(_STATES[_state(line.state)][1].lower() for line in hidden)
        detail = ", ".join(f"{count} {word}" for word, count in counts.most_common())
        body.append(_paragraph([_run(f"and {len(hidden)} more ({detail})", subtle=True)],
                               separator=True))
    if not lines:
        body.append(_paragraph([_run("No jobs have reported yet.", subtle=True)]))
    return body


def _text_body(title: str, body: str, shrink: int) -> list[Element]:
    elements: list[Element] = [_paragraph([_run(title, TITLE_CHARS, size="large", weight="bolder")])]
    gap = False
    for line in body[: _cap(BODY_CHARS, shrink)].splitlines()[: _cap(MAX_BODY_LINES, shrink)]:
        if not line.strip():
            gap = True
            continue
        elements.append(_paragraph([_run(line, BODY_CHARS)], spacing="medium" if gap else "small"))
        gap = False
    return elements


# ---------------------------------------------------------------- formatting


def _with_unit(value: float, unit: str | None) -> str:
    text = number(value)
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {_clean(unit, 20)}"


# ---------------------------------------------------------------- run card parts


def _header(title: str, subtitle: str, state: str) -> Element:
    return {
        "type": "ColumnSet",
        "columns": [
            {"type": "Column", "width": "stretch", "items": [
                _paragraph([_run(title, TITLE_CHARS, size="large", weight="bolder")]),
                _paragraph([_run(subtitle, TITLE_CHARS, size="small", subtle=True)], spacing="none"),
            ]},
            _badge(state),
        ],
    }


def _badge(state: str) -> Element:
    glyph, word, style, _ = _STATES[_state(state)]
    return {
        "type": "Column",
        "width": "auto",
        "style": style,
        "verticalContentAlignment": "center",
        "items": [_paragraph([_run(f"{glyph} {word}", weight="bolder")])],
    }


def _timing(facts: RunFacts) -> Element:
    runs = [_label("Started "), _run(date_time(facts.started_at))]
    if facts.finished_at is not None:
        runs += [_label(" · finished "), _run(date_time(facts.finished_at, same_day_as=facts.started_at))]
    if facts.duration_seconds is not None:
        verb = " · running for " if facts.status == "running" else " · took "
        colour = _duration_colour(facts.duration_seconds, facts.usual_duration_seconds)
        runs += [_label(verb), _run(duration(facts.duration_seconds), color=colour)]
    if facts.usual_duration_seconds is not None:
        runs += [_label(", usually "), _run(duration(facts.usual_duration_seconds))]
    return _paragraph(runs)


def _duration_colour(seconds: float, usual: float | None) -> str | None:
    """Warning colour when a run took less than half or more than twice the usual time."""
    return "warning" if usual and not 0.5 * usual <= seconds <= 2 * usual else None


def _progress_section(progress: ProgressFact | None, start: datetime) -> Element | None:
    if progress is None:
        return None
    runs: list[Element] = []
    done = _with_unit(progress.done, progress.unit)
    if progress.total:
        share = min(max(progress.done / progress.total, 0.0), 1.0)
        filled = round(share * 10)
        runs += [_run("█" * filled, color="accent"), _run("░" * (10 - filled), subtle=True), _label(" "),
                 _run(f"{round(share * 100)}%", weight="bolder"), _label(" · "),
                 _run(f"{done} of {_with_unit(progress.total, progress.unit)}")]
    else:
        runs.append(_run(f"{done} so far"))
    if progress.stage:
        runs += [_label(" · stage "), _run(progress.stage, NAME_CHARS)]
    if progress.eta is not None:
        runs += [_label(" · done around "), _run(date_time(progress.eta, same_day_as=start),
                                                  weight="bolder")]
    runs.append(_label(f" (as of {date_time(progress.at, same_day_as=start)})"))
    return _section("Progress", [_paragraph(runs)])


def _milestone_section(milestones: list[MilestoneFact], start: datetime, limit: int) -> Element | None:
    if not milestones:
        return None
    shown, hidden = _capped(milestones, limit, lambda m: m.status in ("failed", "missing"))
    rows = [_milestone_row(milestone, start) for milestone in shown]
    return _section("Milestones", rows + _more(len(hidden), "milestone"))


def _milestone_row(milestone: MilestoneFact, start: datetime) -> Element:
    """'✓ 00:13 file-read — 120,000 lines' or '○ products-matched — not reached (usually is)'."""
    glyph, colour, subtle = _MILESTONES.get(milestone.status, ("?", "default", True))
    runs = [_run(glyph, color=colour, weight="bolder"), _label(" ")]
    if milestone.at is not None:
        runs += [_run(date_time(milestone.at, same_day_as=start), subtle=True), _label(" ")]
    runs.append(_run(milestone.name, NAME_CHARS, subtle=subtle))
    if milestone.status == "missing":
        runs.append(_label(" — not reached (usually is)"))
    elif milestone.status == "skipped":
        runs.append(_label(" — skipped"))
    if milestone.text:
        runs += [_label(" — "), _run(milestone.text, DETAIL_CHARS, subtle=True)]
    return _paragraph(runs, spacing="small")


def _metric_section(metrics: list[MetricFact], limit: int) -> Element | None:
    if not metrics:
        return None
    shown, hidden = _capped(metrics, limit, lambda metric: metric.unusual)
    with_usual = any(metric.usual is not None for metric in shown)
    header = ["Metric", "This run", "Usually"] if with_usual else ["Metric", "This run"]
    table: Element = {
        "type": "Table",
        "columns": [{"width": 3}, {"width": 2, "horizontalCellContentAlignment": "right"},
                    *([{"width": 3}] if with_usual else [])],
        "rows": [_table_row([[_run(text, weight="bolder")] for text in header]),
                 *(_metric_row(metric, with_usual) for metric in shown)],
    }
    items = [table, *_more(len(hidden), "metric")]
    history = max((metric.usual.runs for metric in shown if metric.usual), default=0)
    if history:
        items.append(_paragraph([_label(f"Usually: median and range of the last {history} "
                                        f"successful run{'s' if history != 1 else ''}.")],
                                size="small"))
    return _section("Metrics", items)


def _metric_row(metric: MetricFact, with_usual: bool) -> Element:
    value = _with_unit(metric.value, metric.unit)
    if metric.unusual and metric.usual is not None and metric.value != metric.usual.median:
        value += " ↑" if metric.value > metric.usual.median else " ↓"
    shown = (_run(value, color="attention", weight="bolder") if metric.unusual else _run(value))
    cells = [[_run(_humanize(metric.name), NAME_CHARS)], [shown]]
    if with_usual:
        cells.append([_run(usual_range(metric.usual), subtle=True) if metric.usual else _label("—")])
    return _table_row(cells)


def _note_section(notes: list[NoteFact], start: datetime, limit: int) -> Element | None:
    if not notes:
        return None
    shown, hidden = _capped_by(notes, limit, lambda note: _NOTES.get(note.level, _NOTES["info"])[2])
    rows = []
    for note in shown:
        glyph, colour, _ = _NOTES.get(note.level, _NOTES["info"])
        rows.append(_paragraph([_run(glyph, color=colour, weight="bolder"), _label(" "),
                                _run(date_time(note.at, same_day_as=start), subtle=True), _label(" "),
                                _run(note.text, NOTE_CHARS)], spacing="small"))
    return _section("Notes", rows + _more(len(hidden), "note"))


def _file_section(facts: RunFacts, limit: int) -> Element | None:
    items: list[Element] = []
    for label, paths in (("Read", facts.inputs), ("Produced", facts.outputs)):
        shown, hidden = _capped(paths, limit, lambda _: False)
        items += [_paragraph([_label(f"{label} "), _run(_shortened_path(path), PATH_CHARS, monospace=True)],
                             spacing="small") for path in shown]
        items += _more(len(hidden), "file")
    if not facts.outputs and facts.status != "running":
        items.append(_paragraph([_label("Produced "), _run("no output", weight="bolder")], spacing="small"))
    return _section("Files", items) if items else None


# ---------------------------------------------------------------- jobs card parts


def _state(state: str) -> str:
    return state if state in _STATES else "unknown"


def _needs_attention(line: JobLine) -> bool:
    return bool(line.problem) or _state(line.state) not in ("succeeded", "running", "unknown")


def _state_counts(lines: Sequence[JobLine]) -> list[Element]:
    counts = Counter(_state(line.state) for line in lines)
    runs: list[Element] = []
    for state in _STATE_ORDER:
        if counts[state]:
            glyph, word, _, colour = _STATES[state]
            runs += [_label(" · ")] if runs else []
            runs.append(_run(f"{glyph} {counts[state]} {word.lower()}", color=colour, weight="bolder"))
    return runs


def _job_row(line: JobLine) -> Element:
    when: list[Element] = [_label("Never ran")]
    if line.last_started_at is not None:
        when = [_label("Last started "), _run(date_time(line.last_started_at))]
        if line.last_finished_at is not None:
            finished = date_time(line.last_finished_at, same_day_as=line.last_started_at)
            when += [_label(" · finished "), _run(finished)]
    items = [
        {"type": "ColumnSet", "columns": [
            {"type": "Column", "width": "stretch", "items": [
                _paragraph([_run(line.title, TITLE_CHARS, weight="bolder"),
                            *([_label(" · "), _run(line.job, NAME_CHARS, subtle=True)]
                              if line.job != line.title else [])]),
                _paragraph(when, spacing="none", size="small"),
            ]},
            _badge(line.state),
        ]},
    ]
    if line.problem:  # a problem is never good news, even after a run that succeeded (e.g. late)
        colour = "attention" if _state(line.state) == "failed" else "warning"
        items.append(_paragraph([_run(line.problem, DETAIL_CHARS, color=colour)], spacing="small"))
    return {"type": "Container", "separator": True, "items": items}


# ---------------------------------------------------------------- building blocks


def _card(body: list[Element]) -> Element:
    return {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION,
            "msteams": {"width": "Full"}, "body": body}


def _clean(text: str, limit: int) -> str:
    """One line of plain text: whitespace collapsed, cut to `limit` characters, `{{` defused."""
    text = _WHITESPACE.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text.replace("{{", "{\u200b{") or "—"


def _run(text: str, limit: int = NAME_CHARS, *, size: str | None = None, weight: str | None = None,
         color: str | None = None, subtle: bool = False, monospace: bool = False) -> Element:
    """A TextRun: plain text by definition (renderers apply no Markdown to it)."""
    run: Element = {"type": "TextRun", "text": _clean(text, limit)}
    optional = {"size": size, "weight": weight, "color": color,
                "isSubtle": subtle or None, "fontType": "monospace" if monospace else None}
    run.update((key, value) for key, value in optional.items() if value is not None)
    return run


def _label(text: str) -> Element:
    return {"type": "TextRun", "text": text, "isSubtle": True}


def _paragraph(runs: list[Element], *, spacing: str | None = None, separator: bool = False,
               size: str | None = None) -> Element:
    if size is not None:
        runs = [{**run, "size": run.get("size", size)} for run in runs]
    block: Element = {"type": "RichTextBlock", "inlines": _merged(runs)}
    if spacing is not None:
        block["spacing"] = spacing
    if separator:
        block["separator"] = True
    return block


def _merged(runs: list[Element]) -> list[Element]:
    """Neighbouring runs of the same style joined into one: same look, fewer bytes."""
    merged: list[Element] = []
    for run in runs:
        if merged and _style(merged[-1]) == _style(run):
            merged[-1] = {**merged[-1], "text": merged[-1]["text"] + run["text"]}
        else:
            merged.append(run)
    return merged


def _style(run: Element) -> dict[str, Any]:
    return {key: value for key, value in run.items() if key != "text"}


def _table_row(cells: Iterable[list[Element]]) -> Element:
    return {"type": "TableRow", "cells": [{"type": "TableCell", "items": [_paragraph(runs)]}
                                          for runs in cells]}


def _section(title: str, items: list[Element]) -> Element:
    heading = _paragraph([_run(title, weight="bolder")])
    return {"type": "Container", "separator": True, "spacing": "medium", "items": [heading, *items]}


def _more(count: int, noun: str) -> list[Element]:
    if not count:
        return []
    return [_paragraph([_label(f"and {count} more {noun}{'s' if count != 1 else ''}")], spacing="small")]


def _capped(items: Sequence[T], limit: int, important: Callable[[T], bool]) -> tuple[list[T], list[T]]:
    """At most `limit` items in their original order, the important ones kept first."""
    return _capped_by(items, limit, lambda item: 0 if important(item) else 1)


def _capped_by(items: Sequence[T], limit: int, rank: Callable[[T], int]) -> tuple[list[T], list[T]]:
    order = sorted(range(len(items)), key=lambda index: (rank(items[index]), index))
    keep = set(order[:limit])
    shown = [item for index, item in enumerate(items) if index in keep]
    hidden = [item for index, item in enumerate(items) if index not in keep]
    return shown, hidden


def _shortened_path(path: str) -> str:
    """A long path cut in the middle, so the file name stays: '/data/…/products-2026-11-25.csv'."""
    path = _WHITESPACE.sub(" ", path).strip()
    if len(path) <= PATH_CHARS:
        return path
    keep = PATH_CHARS - 1
    return path[: keep // 3] + "…" + path[-(keep - keep // 3):]


def _humanize(name: str) -> str:
    return name.replace("_", " ")


def _zone_name(at: datetime) -> str:
    return str(getattr(at.tzinfo, "key", None) or at.tzname() or "UTC")


# --- alerts ----------------------------------------------------------------------------------

ALERT_TITLES = {
    "did_not_start": "Did not start",
    "milestone_missed": "Milestone missed",
    "failed": "Failed",
    "ended_early": "Ended early",
    "metric_out_of_range": "Metric out of range",
    "overran": "Running too long",
    "stalled": "Stalled",
}


MAX_ALERT_LINES = 10


@dataclass(frozen=True)
class AlertLine:
    """One alert of an incident, as its card lists it."""

    at: datetime  # when it was found, in the job's zone
    text: str  # what it says, without the job's name in front
    resolution: str | None = None  # how it was resolved, once it is
    repeat: bool = False  # it only repeats what an earlier line says (shown quieter)


@dataclass(frozen=True)
class IncidentView:
    """An incident as its card shows it: the alerts about one run, or one scheduled
    occurrence, of a job."""

    incident_id: int
    title: str  # the job's
    kind: str  # the headline alert's
    headline: str  # the headline alert's reason, in full
    since: datetime  # since when something is wrong, in the job's zone
    lines: list[AlertLine]  # every alert, newest first
    alert_id: int  # what Acknowledge and Snooze act on
    acknowledged: str | None = None  # who acknowledged it, and when
    resolution: str | None = None  # how it recovered, once every alert is resolved
    actions: bool = True  # an alert is still open: offer Acknowledge and Snooze


def incident_card(view: IncidentView, facts: RunFacts | None) -> Element:
    """One card per incident, updated in place as it goes: what is wrong and since when (or,
    once every alert is resolved, how it recovered), the run's facts, every alert newest
    first with the resolved ones ticked, and Acknowledge / Snooze while an alert is open."""
    card = _fitting(lambda shrink: _incident_body(view, facts, shrink))
    if view.actions and view.resolution is None:
        card["actions"] = [
            {"type": "Action.Submit", "title": "Acknowledge",
             "data": {"opentrace": "acknowledge", "alert": view.alert_id}},
            {"type": "Action.Submit", "title": "Snooze 1 h",
             "data": {"opentrace": "snooze", "alert": view.alert_id, "for": "1h"}},
            {"type": "Action.Submit", "title": "Snooze until tomorrow",
             "data": {"opentrace": "snooze", "alert": view.alert_id, "for": "tomorrow"}},
        ]
    return card


def _incident_body(view: IncidentView, facts: RunFacts | None, shrink: int) -> list[Element]:
    headline = view.resolution or view.headline
    body = _run_body(headline, facts, shrink) if facts else _text_body(view.title, headline, shrink)
    if view.resolution is not None or len(view.lines) > 1:
        # Under the headline and the run's times, before its details.
        at = body.index(_timing(facts)) + 1 if facts else len(body)
        body.insert(at, _alert_section(view, _cap(MAX_ALERT_LINES, shrink)))
    title = ALERT_TITLES.get(view.kind, view.kind)
    if view.resolution is None:
        banner = _run(f"⚠ {title} · since {date_time(view.since)}", HEADLINE_CHARS,
                      weight="bolder", color="attention")
    else:
        banner = _run(f"✓ Recovered · {title}", HEADLINE_CHARS, weight="bolder", color="good")
    body.insert(0, _paragraph([banner]))
    if view.acknowledged:
        body.insert(1, _paragraph([_run(f"✓ {view.acknowledged}", DETAIL_CHARS, color="good")],
                                  spacing="small"))
    # Its name, for people and for receivers of follow-up posts: on the run card's last line.
    named = _run(f"OpenTrace incident {view.incident_id}", size="small", subtle=True)
    if facts:
        body[-1] = _paragraph([*body[-1]["inlines"], {**named, "text": f" · {named['text']}"}])
    else:
        body.append(_paragraph([named], spacing="small"))
    return body


def _alert_section(view: IncidentView, limit: int) -> Element:
    """'⚠ 00:31 Ended after 'file-read' …' per alert, newest first; a resolved one ticked,
    with how it was resolved unless the whole card already says so."""
    shown, hidden = view.lines[:limit], view.lines[limit:]
    rows = []
    for line in shown:
        glyph, colour = ("✓", "good") if line.resolution else ("⚠", "warning")
        runs = [_run(glyph, color=colour, weight="bolder"), _label(" "),
                _run(date_time(line.at, same_day_as=view.since), subtle=True), _label(" "),
                _run(line.text, HEADLINE_CHARS, subtle=line.repeat)]
        if line.resolution and line.resolution != view.resolution:
            runs += [_label(" — resolved: "), _run(line.resolution, DETAIL_CHARS)]
        rows.append(_paragraph(runs, spacing="small"))
    return _section("Alerts, newest first", rows + _more(len(hidden), "alert"))
