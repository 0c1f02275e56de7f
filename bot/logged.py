"""What runs logged, searched by the question's own words: a warning, an error, a failed
milestone's text or a finish text that holds them ("when did the trackhub token expire?",
"how many lines were in the rate file?", "was this morning's failure the sftp thing
again?"). Notes are free text no rule can name; the words a question shares with one are
the only way to find it."""

import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from alerts.wording import quoted
from bot import cards
from bot.clarify import content_words
from bot.facts import Reply
from bot.handlers import Ask
from bot.jobfinder import job_words
from bot.matching import root
from bot.periods import ISO_WEEK
from storage import queries
from storage.history import logged_texts
from storage.models import Event, Run

RECENT_RUNS = 40
MAX_SHOWN = 3


@dataclass(frozen=True)
class Logged:
    run: Run
    at: datetime
    level: str  # warning | error | info | finish | milestone
    text: str
    hits: int


async def logged_reply(ask: Ask) -> Reply | None:
    """The texts the job's runs logged that hold the question's words, newest first; None when
    none holds one. A yes/no question about a period answers whether that period's run did."""
    assert ask.job is not None
    own = {root(w) for w in job_words(ask.job)}  # "invoices" of the invoice audit names no note
    wanted = {root(w) for w in content_words(ask) if len(w) >= 4} - own
    if not wanted:
        return None
    runs = list(await queries.list_runs(ask.job, until=ask.now, limit=RECENT_RUNS, session=ask.session))
    logged = await logged_texts([run.id for run in runs if run.id is not None], session=ask.session)
    found = [item for run in runs for item in _texts(run, logged.get(run.id or 0, []), wanted)]
    if not found:
        return None
    best = max(item.hits for item in found)
    found = [item for item in found if item.hits == best]
    in_period = [item for item in found if ask.period is not None and ask.period.covers(item.at)]
    shown = (in_period or found)[:MAX_SHOWN]
    lines = [f"{_when(item, ask)} ({item.level}): {quoted(item.text[:300])}" for item in shown]
    first = f"{ask.job.title} logged this {lines[0][:1].lower()}{lines[0][1:]}."
    if ask.yes_no_question and ask.period is None:
        first = f"Yes — {first[:1].lower()}{first[1:]}"  # "was there a problem with X at some point?"
    elif ask.yes_no_question and ask.period is not None:
        # "Was this morning's failure the sftp thing again?": only if this period's run said so.
        if in_period:
            first = f"Yes — {first[:1].lower()}{first[1:]}"
        else:
            said = await _said_in_period(ask, runs)
            first = (f"No — {said} What you asked about was logged {lines[0][:1].lower()}"
                     f"{lines[0][1:]}.")
    text = first + "".join(f"\n- {line}" for line in lines[1:])
    return Reply(text, cards.text_card(ask.job.title, text))


async def run_named_by_log(ask: Ask, read_otherwise: Collection[str],
                           reported: Collection[str]) -> Run | None:
    """The one run a question names by something it logged: "how long did it take on the
    night with the HTS rejects?", "which batch had the HTS rejections?". The question's own
    words — not the job's name, not a word the engine reads otherwise (`read_otherwise`),
    not a word of what the job reports (`reported`, stems) — must be in what exactly one run
    in view logged: one of the period's runs, or a recent one."""
    assert ask.job is not None
    if ask.period is not None and len(ask.period.days) == 1 and ask.period.at_time is not None:
        return None  # a run named by its day and time already
    free = {root(w) for w in (*job_words(ask.job), *reported)}
    codes = {w for w in ask.text.split() if w[:1].isalpha() and w.isalnum() and not w.isalpha()}
    wanted = {root(w) for w in content_words(ask) | codes if w not in read_otherwise} - free
    if not wanted:
        return None
    since, until = (ask.period.start, min(ask.period.end, ask.now)) if ask.period else (None, ask.now)
    runs = list(await queries.list_runs(ask.job, since=since, until=until, limit=RECENT_RUNS,
                                        session=ask.session))
    runs = ask.period.chosen(runs) if ask.period else runs
    if len(runs) < 2:
        return None
    logged = await logged_texts([run.id for run in runs if run.id is not None], session=ask.session)
    hits = {run.id: max((item.hits for item in _texts(run, logged.get(run.id or 0, []), wanted)),
                        default=0) for run in runs}
    best = max(hits.values())
    named = [run for run in runs if best and hits[run.id] == best]
    return named[0] if len(named) == 1 else None


async def run_named_by_week(ask: Ask) -> Run | None:
    """The run whose payloads name the week asked about ("the week 46 scorecard" is the run
    that wrote carrier_scorecard_2026-W46.xlsx, made the Monday after): a weekly report is
    named by the week it covers, not the week it ran in."""
    assert ask.job is not None
    week = ISO_WEEK.search(ask.text)
    if week is None:
        return None
    number = int(week["n"])
    names_it = re.compile(rf"(?<![a-z0-9])(?:w|kw|week|woche)[ _-]?0?{number}(?![0-9])", re.IGNORECASE)
    runs = list(await queries.list_runs(ask.job, until=ask.now, limit=RECENT_RUNS, session=ask.session))
    events = await queries.events_of_runs([run.id for run in runs if run.id is not None],
                                          session=ask.session)
    named = [run for run in runs if any(
        event.kind == "payload" and names_it.search(json.dumps(event.data)) for event in
        events.get(run.id or 0, []))]
    return named[0] if len(named) == 1 else None


def _texts(run: Run, events: Sequence[Event], wanted: set[str]) -> list[Logged]:
    texts: list[tuple[datetime, str, str]] = []
    for event in events:
        text = event.data.get("text")
        if text and (event.kind == "note" or event.status == "failed"):
            texts.append((event.at, str(event.data.get("level", "milestone")), str(text)))
    if run.summary:
        texts.append((run.finished_at or run.started_at, "finish", run.summary))
    found = []
    for at, level, text in texts:
        hits = len(wanted & {root(w) for w in re.findall(r"[a-z0-9]+", text.lower())})
        if hits:
            found.append(Logged(run, at, level, text, hits))
    return found


async def _said_in_period(ask: Ask, runs: list[Run]) -> str:
    assert ask.period is not None
    inside = [r for r in runs if ask.period.covers(r.started_at)]
    if not inside:
        return f"{ask.job.title if ask.job else 'it'} has no run {ask.period.label}."
    run = inside[0]
    said = run.summary or "nothing of the kind"
    return f"{ask.period.label}'s run said {quoted(said[:200])}."


def _when(item: Logged, ask: Ask) -> str:
    local = item.at.astimezone(ask.zone)
    return f"On {local:%a} {local.day} {local:%b} at {local:%H:%M}"
