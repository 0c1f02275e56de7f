"""What runs logged, searched by the question's own words: a warning, an error, a failed
milestone's text or a finish text that holds them ("when did the trackhub token expire?",
"how many lines were in the rate file?", "was this morning's failure the sftp thing
again?"). Notes are free text no rule can name; the words a question shares with one are
the only way to find it."""

import re
from dataclasses import dataclass
from datetime import datetime

from alerts.wording import quoted
from bot import cards
from bot.clarify import content_words
from bot.facts import Reply
from bot.handlers import Ask
from bot.jobfinder import job_words
from bot.matching import root
from storage import queries
from storage.models import Run

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
    found = [item for run in runs for item in await _texts(run, wanted, ask)]
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


async def _texts(run: Run, wanted: set[str], ask: Ask) -> list[Logged]:
    texts: list[tuple[datetime, str, str]] = []
    for event in await queries.run_events(run, kinds=["note", "milestone"], session=ask.session):
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
